"""Spoken names, spelled letters and Whisper's mishearings, mended word by word from the vocabulary's tables
(agent/spoken.py, agent/understand/repair.py), and the places where the splitter may cut (issue 28)."""

from __future__ import annotations

import pytest

from voiceloop.agent.intents import normalize_filename, spoken_names, strip_fences
from voiceloop.agent.understand.repair import Mishearing, table
from voiceloop.agent.understand.split import joints, split
from voiceloop.agent.understand.words import names_in, prepare


@pytest.mark.parametrize(
    "heard,meant",
    [
        ("Right a poem about rain in poem.txt", "Write a poem about rain in poem.txt"),
        ("right me a haiku in haiku dot txt", "Write me a haiku in haiku.txt"),
        ("Right my shopping-list.txt with milk", "Write my shopping-list.txt with milk"),  # a name further on
        ("right, that's fine", "right, that's fine"),  # "right" as a word of its own
        ("Alright, right the summary", "Alright, right the summary"),  # not the first word
        ("Create to do.md", "Create todo.md"),  # "todo dot md" heard as "to do.md"
        ("what to do next", "what to do next"),  # no extension glued on: the words stay
        ("Sumerize n-o-t-e-s-dot-t-x-t.", "summarize notes.txt."),  # tiny.en, heard on this machine
        ("Create a file callednotes.txt", "Create a file called notes.txt"),  # glued_to_name
        ("create notes.text with hi", "create notes.txt with hi"),  # an extension written as said
        ("create notes.jason", "create notes.json"),
        ("create notes.TXT", "create notes.TXT"),  # already written: left as it is
    ],
)
def test_what_whisper_mishears_is_mended_from_the_table(heard: str, meant: str) -> None:
    assert prepare(heard) == meant


def test_the_misheard_table_is_read_as_rows() -> None:
    rows = table()
    assert Mishearing(("to", "do"), "todo", False, (("{ext}",),)) in rows
    right = next(r for r in rows if r.heard == ("right",))
    assert right.first and ("{name}",) in right.next and ("me",) in right.next
    assert {("sumerize",), ("summerize",)} <= {r.heard for r in rows}  # a template is every phrase it stands for


@pytest.mark.parametrize(
    "heard,names",
    [
        ("Summarize n o t e s dot t x t.", ["notes.txt"]),
        ("summarize n-o-t-e-s dot t-x-t", ["notes.txt"]),
        ("call it n, o, t, e, s dot txt", ["notes.txt"]),
        ("create w-e-a-t-h-e-r.py", ["weather.py"]),
        ("Sumerize n-o-t-e-s-dot-t-x-t.", ["notes.txt"]),
        ("create a b dot md", ["b.md"]),  # two letters are words, not a spelled name
    ],
)
def test_spelled_names_are_joined_into_words(heard: str, names: list[str]) -> None:
    assert names_in(prepare(heard)) == names


@pytest.mark.parametrize(
    "spoken,name",
    [
        ("my hyphen plan dot md", "my-plan.md"),
        ("a underscore b underscore c", "a_b_c"),
        ("notes dot backup dot txt", "notes.backup.txt"),  # the last dot starts the extension
        ("notes dot", "notes_dot"),  # a dot with nothing after it is a word
        ("notes dot dot py", "notes_dot_dot_py"),  # never ".." from "dot dot"
        ("the file called shopping list dot t x t", "shopping_list.txt"),
        ("dot py", ".py"),
    ],
)
def test_spoken_marks_are_written(spoken: str, name: str) -> None:
    assert normalize_filename(spoken) == name


@pytest.mark.parametrize(
    "said,written",
    [
        ("create meeting.underscore.notes.txt", "create meeting_notes.txt"),  # Whisper, prompted with names
        ("create meeting. underscore. notes dot md", "create meeting_notes.md"),
        ("create a underscore b underscore c", "create a_b_c"),
        ("create notes dot t x t and b dot mark down", "create notes.txt and b.md"),
        ("the dot product of a and b", "the dot product of a and b"),
    ],
)
def test_spoken_names_inside_a_sentence(said: str, written: str) -> None:
    assert spoken_names(said) == written


@pytest.mark.parametrize(
    "text,cuts",
    [
        ("create a.txt, and then create b.txt", [", and then "]),
        ("create a.txt. Then create b.txt", [". "]),
        ("create a.txt and after that, create b.txt", [" and after that, "]),
        ("create a.txt plus b.txt", [" plus "]),
        ("create a.txt,and create b.txt", [",and "]),
        ("create a.txt and, b.txt", [", "]),  # "and" is a joint only with white space after it
        ("version 2.5 and thenceforth", [" and "]),  # whole words: "then" is not "thenceforth"
        ("create a.txt.", []),  # a mark at the end cuts nothing
    ],
)
def test_the_splitter_cuts_at_the_joint_words(text: str, cuts: list[str]) -> None:
    assert [text[a:b] for a, b in joints(text)] == cuts


def test_a_spelled_request_after_a_joint_is_its_own_part() -> None:
    assert split(prepare("create a.txt, then summarize n o t e s dot t x t")) == ["create a.txt", "summarize notes.txt"]


@pytest.mark.parametrize(
    "answer,code",
    [
        ("```python\nx = 1\n```", "x = 1"),
        ("  ```c++\n  int x;\n  ```  ", "int x;"),
        ("```\nplain\n```", "plain"),
        ("no fence", "no fence"),
        ("```", "```"),
    ],
)
def test_a_code_fence_around_an_answer_is_taken_off(answer: str, code: str) -> None:
    assert strip_fences(answer) == code
