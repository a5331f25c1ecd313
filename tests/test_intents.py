"""Local validation of what the model says, and spoken file names."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from voiceloop.agent.intents import (
    Action,
    Intent,
    IntentParseError,
    ground,
    normalize_filename,
    parse_intents,
    spoken_names,
)


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


def test_an_edit_without_a_name_means_the_last_file() -> None:
    got = parse_intents('{"intents":[{"action":"edit_file","filename":"","request":"make it async"}]}', "fetch.py")
    assert (got[0].action, got[0].filename) == (Action.EDIT_FILE, "fetch.py")
    with pytest.raises(IntentParseError):
        parse_intents('{"intents":[{"action":"edit_file","filename":"","request":"make it async"}]}')


def test_local_repairs_of_small_model_answers() -> None:
    got = parse_intents(
        json.dumps(
            {
                "intents": [
                    {"action": "summarize", "filename": "this", "content": "we met on monday"},
                    {"action": "write_code", "filename": "sea.txt", "request": "a haiku"},
                ]
            }
        )
    )
    # "this" is no file name; a haiku in a .txt is prose
    assert [(i.action, i.filename) for i in got] == [(Action.SUMMARIZE, ""), (Action.CREATE_FILE, "sea.txt")]


def test_writes_to_names_nobody_said_become_chat() -> None:
    made_up = [Intent(Action.WRITE_CODE, "decorator.py", request="explain what a python decorator is")]
    assert ground(made_up, "explain what a python decorator is", [])[0].action is Action.GENERAL_CHAT
    hostile = [Intent(Action.CREATE_FILE, "/etc/passwd", content="root::0:0")]
    assert ground(hostile, "create notes", []) == hostile  # left to the sandbox, which refuses it aloud
    said = [Intent(Action.CREATE_FILE, "notes.txt", request="notes")]
    assert ground(said, "create a file called notes", [])[0].action is Action.CREATE_FILE
    known = [Intent(Action.EDIT_FILE, "fetch.py", request="make it async")]
    assert ground(known, "make it async", ["fetch.py"])[0].filename == "fetch.py"
    plan = ground(
        [Intent(Action.CREATE_FILE, "docs/plan.md", request="create docs/plan.md")],
        "create docs/plan.md with a plan for the week and tell me a joke",
        [],
    )
    assert plan[0].request == "a plan for the week"
    echo = [
        Intent(Action.CREATE_FILE, "docs/plan.md", request="a plan"),
        Intent(Action.EDIT_FILE, "math_utils.py", request="create docs/plan.md"),
    ]
    assert [i.filename for i in ground(echo, "create docs/plan.md with a plan", ["math_utils.py"])] == ["docs/plan.md"]
    both = [
        Intent(Action.WRITE_CODE, "math_utils.py", request="add numbers"),
        Intent(Action.WRITE_CODE, "test_math_utils.py", request="tests for math_utils.py"),
    ]
    said = "write math_utils.py that adds numbers and tests for math_utils.py in test_math_utils.py"
    assert len(ground(both, said, [])) == 2
