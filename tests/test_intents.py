"""Spoken file names, written as names before anything else reads the sentence."""

from __future__ import annotations

import pytest

from voiceloop.agent.intents import normalize_filename, spoken_names


@pytest.mark.parametrize(
    "spoken,name",
    [
        ("notes dot txt", "notes.txt"),
        ("notes dot text", "notes.txt"),
        ("math underscore utils dot p y", "math_utils.py"),
        ("math underscore utils dot python", "math_utils.py"),
        ("notes.txt", "notes.txt"),
        ("called shopping list dot txt", "shopping_list.txt"),
        ("my dash plan dot mark down", "my-plan.md"),
        ("docs slash readme dot md", "docs/readme.md"),
        ("Report.MD", "Report.MD"),
    ],
)
def test_spoken_filenames_are_normalized(spoken: str, name: str) -> None:
    assert normalize_filename(spoken) == name


@pytest.mark.parametrize(
    "said,written",
    [
        ("Summarize notes dot txt.", "Summarize notes.txt."),
        ("write it in math underscore utils dot p y please", "write it in math_utils.py please"),
        ("create docs slash plan dot md", "create docs/plan.md"),
        ("what is the dot product", "what is the dot product"),
    ],
)
def test_spoken_names_are_written_as_names_before_classification(said: str, written: str) -> None:
    assert spoken_names(said) == written
