"""Local validation of what the model says, and spoken file names."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from voiceloop.intents import Action, IntentParseError, normalize_filename, parse_intents


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


def test_valid_intents_in_order() -> None:
    text = json.dumps(
        {
            "intents": [
                {"action": "create_file", "filename": "notes dot txt", "content": "a", "request": ""},
                {"action": "general_chat", "filename": "", "content": "", "request": "hi"},
            ]
        }
    )
    got = parse_intents(text)
    assert [i.action for i in got] == [Action.CREATE_FILE, Action.GENERAL_CHAT]
    assert got[0].filename == "notes.txt"


def test_fenced_and_bare_forms_are_accepted() -> None:
    fenced = '```json\n{"intents":[{"action":"general_chat","request":"hi"}]}\n```'
    assert parse_intents(fenced)[0].action is Action.GENERAL_CHAT
    assert parse_intents('[{"action":"summarize","content":"x"}]')[0].action is Action.SUMMARIZE


@pytest.mark.parametrize(
    "text",
    [
        "",
        "Sure! Here is your file.",
        "{}",
        '{"intents": []}',
        '{"intents":[{"action":"rm_rf"}]}',
        '{"intents":[{"action":"create_file","filename":""}]}',
        '{"intents":[{"action":"create_file","filename":5}]}',
        '{"intents":["x"]}',
        "[1,2]",
        "null",
    ],
)
def test_garbage_is_rejected_with_a_reason(text: str) -> None:
    with pytest.raises(IntentParseError):
        parse_intents(text)


@settings(max_examples=300, deadline=None)
@given(
    st.one_of(
        st.text(max_size=200),
        st.recursive(
            st.none() | st.booleans() | st.integers() | st.text(max_size=20),
            lambda inner: (
                st.lists(inner, max_size=4)
                | st.dictionaries(
                    st.sampled_from(["intents", "action", "filename", "content", "request", "x"]), inner, max_size=5
                )
            ),
            max_leaves=20,
        ).map(json.dumps),
    )
)
def test_parser_never_crashes_on_arbitrary_input(text: str) -> None:
    try:
        intents = parse_intents(text)
    except IntentParseError:
        return
    assert 1 <= len(intents) <= 5
    for i in intents:
        assert isinstance(i.action, Action)
        if i.action in (Action.CREATE_FILE, Action.WRITE_CODE):
            assert i.filename
