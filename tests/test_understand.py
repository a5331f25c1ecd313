"""The understanding path without a model: splitting, the fast path, grounding a model's answer, asking
when unsure, and the schema check. The model's own part is in test_understand_model.py."""

from __future__ import annotations

import json
import unicodedata

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from voiceloop.agent.intents import Action, IntentParseError, Via
from voiceloop.agent.understand.clarify import NAME_QUESTION, answered
from voiceloop.agent.understand.fastpath import fast_path
from voiceloop.agent.understand.grounding import ground
from voiceloop.agent.understand.prompt import ModelIntent, parse_answer
from voiceloop.agent.understand.split import split
from voiceloop.agent.understand.words import prepare


def understood(text: str, known: tuple[str, ...] = ()) -> list[tuple[str, str, str]]:
    """(action, filename, content) for every part, or ("model", part, "") where the fast path passes."""
    seen = list(known)
    out: list[tuple[str, str, str]] = []
    for part in split(prepare(text)):
        got = fast_path(part, seen)
        if got is None:
            out.append(("model", part, ""))
            continue
        for i in got:
            assert i.via is Via.FAST
            out.append((i.action.value, i.filename, i.content))
            if i.filename and i.filename not in seen:
                seen.append(i.filename)
    return out


@pytest.mark.parametrize(
    "text,parts",
    [
        ("create a.txt and b.txt", ["create a.txt and b.txt"]),
        ("make a file called list.txt and tell me a joke", ["make a file called list.txt", "tell me a joke"]),
        (
            "write hello.py that prints hi, then create an empty file called notes.md",
            ["write hello.py that prints hi", "create an empty file called notes.md"],
        ),
        ("create notes.txt with the text buy apples and milk", ["create notes.txt with the text buy apples and milk"]),
        (
            "create notes.txt that says call mom and then summarize it",
            ["create notes.txt that says call mom", "summarize it"],
        ),
        ("how do I create a file and write to it in python", ["how do I create a file and write to it in python"]),
        (
            "Summarize this. We met on Monday. We agreed to ship.",
            ["Summarize this. We met on Monday. We agreed to ship"],
        ),
        (
            "what is a prime number? Also write primes.py that lists them",
            ["what is a prime number?", "Also write primes.py that lists them"],
        ),
        ("Summarize report.txt, please.", ["Summarize report.txt, please"]),  # a filler after it asks nothing
        ("Summarize report.txt. Please.", ["Summarize report.txt. Please"]),
        ("create a.txt and please tell me a joke", ["create a.txt", "please tell me a joke"]),
    ],
)
def test_a_compound_request_is_cut_only_where_a_new_request_starts(text: str, parts: list[str]) -> None:
    assert split(text) == parts


@pytest.mark.parametrize(
    "text,known,want",
    [
        ("Create a file called groceries.txt.", (), [("create_file", "groceries.txt", "")]),
        ("create a.txt and b.txt", (), [("create_file", "a.txt", ""), ("create_file", "b.txt", "")]),
        (
            "make a file called list.txt and tell me a joke",
            (),
            [("create_file", "list.txt", ""), ("general_chat", "", "")],
        ),
        (
            "create a file called notes dot txt with the text buy apples",
            (),
            [("create_file", "notes.txt", "buy apples")],
        ),
        ("new file todo.md saying call the plumber", (), [("create_file", "todo.md", "call the plumber")]),
        (  # Whisper's comma before dictated words
            "Create a file called list.txt with the text, eggs, and milk.",
            (),
            [("create_file", "list.txt", "eggs, and milk")],
        ),
        ("Summarize report.txt, please.", ("report.txt",), [("summarize", "report.txt", "")]),
        ("create groceries.txt with a shopping list", (), [("create_file", "groceries.txt", "")]),
        ("generate a bash script named cleanup.sh that deletes tmp files", (), [("write_code", "cleanup.sh", "")]),
        ("create a python class for a bank account in bank.py", (), [("write_code", "bank.py", "")]),
        ("summarize notes.txt", ("notes.txt",), [("summarize", "notes.txt", "")]),
        (
            "tl;dr of the following: the bus is late and it rains",
            (),
            [("summarize", "", "the bus is late and it rains")],
        ),
        ("sum this up for me: the train was late, again", (), [("summarize", "", "the train was late, again")]),
        ("summarize it", ("notes.txt",), [("summarize", "notes.txt", "")]),
        ("add a docstring to it", ("math_utils.py",), [("edit_file", "math_utils.py", "")]),
        ("add a test for it in test_math_utils.py", ("math_utils.py",), [("write_code", "test_math_utils.py", "")]),
        ("how do I create a file in python", (), [("general_chat", "", "")]),
        ("what does summarize mean", (), [("general_chat", "", "")]),
        ("can you explain how to write a file called data.csv in pandas", (), [("general_chat", "", "")]),
        ("create notes.txt and summarize it", (), [("create_file", "notes.txt", ""), ("summarize", "notes.txt", "")]),
        ("hello there", (), [("model", "hello there", "")]),
    ],
)
def test_the_fast_path_takes_the_common_shapes_and_leaves_the_rest(
    text: str, known: tuple[str, ...], want: list[tuple[str, str, str]]
) -> None:
    assert understood(text, known) == want


@pytest.mark.parametrize(
    "text,question",
    [
        ("summarize it", "Which file should I summarize?"),
        ("make it async", "Which file should I change?"),
        ("write a function that reverses a string", NAME_QUESTION),
        ("create a new python file", NAME_QUESTION),
    ],
)
def test_unsure_is_a_question_not_a_guess(text: str, question: str) -> None:
    got = fast_path(text, [])
    assert got is not None and got[0].action is Action.CLARIFY and got[0].request == question


def test_the_next_thing_said_answers_the_question() -> None:
    [name_q] = fast_path("write a function that reverses a string", []) or []
    assert answered(name_q, "call it reverse dot py") == "write a function that reverses a string in reverse.py"
    assert answered(name_q, "what is the weather like today in Paris and in Rome") is None
    assert answered(name_q, "let's call it reverse") == "write a function that reverses a string in reverse.txt"
    assert answered(name_q, "how about reverse dot py") == "write a function that reverses a string in reverse.py"
    [file_q] = fast_path("summarize it", []) or []
    assert answered(file_q, "notes.txt") == "summarize notes.txt"


def model(action: str, filename: str = "", content: str = "", request: str = "") -> ModelIntent:
    return ModelIntent(action=action, filename=filename, content=content, request=request)  # type: ignore[arg-type]


def test_grounding_drops_what_nobody_said() -> None:
    part = "Create a file called groceries.txt."
    invented = ground(model("create_file", "groceries.txt", "buy apples", "buy apples"), part, [])
    assert (invented.action, invented.filename, invented.content, invented.request) == (
        Action.CREATE_FILE,
        "groceries.txt",
        "",
        "",
    )
    made_up = ground(model("write_code", "decorator.py", request="explain"), "explain what a python decorator is", [])
    assert made_up.action is Action.GENERAL_CHAT and made_up.request == "explain what a python decorator is"
    hostile = ground(model("create_file", "/etc/passwd", "root::0:0"), "create notes", [])
    assert hostile.filename == "/etc/passwd" and hostile.content == ""  # the sandbox refuses it aloud
    edit = ground(model("write_code", "", request="handle negatives"), "it should also handle negatives", ["m.py"])
    assert (edit.action, edit.filename) == (Action.EDIT_FILE, "m.py")
    wish = ground(model("create_file", "list.txt", "a shopping list"), "make list.txt with a shopping list", [])
    assert wish.content == "" and "shopping list" in wish.request
    said = ground(model("create_file", "todo.md", "Call Mom!"), "make todo.md that says call mom", [])
    assert said.content == "Call Mom!" and said.via is Via.MODEL


def test_a_question_stays_a_question_whatever_the_model_says() -> None:
    got = ground(model("create_file", "file.py", "x"), "how do I create a file called file.py in python", [])
    assert got.action is Action.GENERAL_CHAT


@pytest.mark.parametrize(
    "answer",
    [
        "",
        "Sure!",
        "{}",
        '{"action":"rm_rf"}',
        '{"action":"create_file","filename":5}',
        "[1,2]",
        "null",
        '{"intents":[]}',
    ],
)
def test_the_schema_check_says_what_is_wrong(answer: str) -> None:
    with pytest.raises(IntentParseError):
        parse_answer(answer)


def test_fenced_and_wrapped_answers_are_accepted() -> None:
    fenced = '```json\n{"action":"general_chat","request":"hi"}\n```'
    assert parse_answer(fenced).action == "general_chat"
    assert parse_answer(json.dumps({"intents": [{"action": "summarize", "content": "x"}]})).action == "summarize"


_ACTIONS = st.sampled_from(["create_file", "write_code", "edit_file", "summarize", "general_chat"])


@settings(max_examples=300, deadline=None)
@given(
    said=st.text(min_size=1, max_size=80),
    action=_ACTIONS,
    filename=st.text(max_size=20),
    content=st.text(max_size=40),
    known=st.lists(st.sampled_from(["a.py", "notes.txt", "plan.md"]), max_size=2),
)
@example(said="².A", action="create_file", filename="².A", content="", known=[])  # read as "2.A": said, not made up
def test_grounding_never_keeps_unsaid_content_or_names(
    said: str, action: str, filename: str, content: str, known: list[str]
) -> None:
    got = ground(model(action, filename, content), said, known)
    assert got.via is Via.MODEL
    if got.content and got.action is Action.CREATE_FILE:
        assert letters(got.content) in letters(said)
    if got.filename and got.action is not Action.SUMMARIZE:
        said_it = letters(got.filename) and letters(got.filename) in letters(prepare(said))
        leaves = got.filename.startswith(("/", "~")) or ".." in got.filename or "\\" in got.filename
        assert got.filename in known or said_it or leaves


def letters(text: str) -> str:
    """The letters and digits of text, as names are read: in Unicode's compatibility form ("²" is "2")."""
    return "".join(c for c in unicodedata.normalize("NFKC", text).lower() if c.isalnum())


def _eval_sentences() -> list[tuple[str, list[str]]]:
    """Every sentence of the shipped eval set (typed, or what a WAV says) with its session files."""
    import tomllib

    from .conftest import DATA

    cases = tomllib.loads((DATA / "eval" / "manifest.toml").read_text(encoding="utf-8"))["case"]
    return [(c.get("text") or c["said"], [e.split(" ", 1)[1] for e in c.get("context", [])]) for c in cases]


EVAL = _eval_sentences()
FEW_SHOT_WORDS = ["buy apples", "a quick packing list", "fizzbuzz up to fifty", "the train is late again"]


def test_the_fast_path_over_the_whole_eval_set_proposes_only_said_words() -> None:
    for sentence, known in EVAL:
        said = prepare(sentence)
        for part in split(said):
            for intent in fast_path(part, list(known)) or []:
                if intent.action is Action.CREATE_FILE and intent.content:
                    assert letters(intent.content) in letters(said), (sentence, intent)


@settings(max_examples=400, deadline=None)
@given(
    case=st.sampled_from(EVAL),
    action=_ACTIONS,
    pick=st.integers(0, 10_000),
    invented=st.one_of(st.text(max_size=30), st.sampled_from(FEW_SHOT_WORDS)),
    use_said=st.booleans(),
)
def test_no_model_answer_puts_unsaid_words_in_a_file_over_the_whole_eval_set(
    case: tuple[str, list[str]], action: str, pick: int, invented: str, use_said: bool
) -> None:
    """Whatever the model answers for any sentence of the eval set, a file's content is words that were said."""
    sentence, known = case
    said = prepare(sentence)
    tokens = said.split()
    start = pick % len(tokens)
    content = " ".join(tokens[start : start + 1 + pick % 7]) if use_said else invented
    filename = tokens[pick % len(tokens)] if pick % 3 else invented
    got = ground(model(action, filename, content, invented), said, known)
    if got.action is Action.CREATE_FILE and got.content:
        assert letters(got.content) in letters(said)
    if got.action in (Action.CREATE_FILE, Action.WRITE_CODE, Action.EDIT_FILE):
        leaves = got.filename.startswith(("/", "~")) or ".." in got.filename or "\\" in got.filename  # sandbox refuses
        assert got.filename in known or letters(got.filename) in letters(said) or leaves


@pytest.mark.parametrize(
    "heard,known,want",
    [
        ("Right hello dot pi that prints hi", (), [("write_code", "hello.py", "")]),  # Whisper's "write"
        ("Make a new file calledreadme.md.", (), [("create_file", "readme.md", "")]),  # glued by Whisper
        ("Make a empty file called to do.md.", (), [("create_file", "todo.md", "")]),  # "todo" heard as two words
        ("make an empty file called to dash do dot md", (), [("create_file", "to-do.md", "")]),  # said with a dash
        ("Summarize note.stuff.txt.", ("notes.txt",), [("summarize", "notes.txt", "")]),  # close to a session file
        ("Summarize notes.txt.", ("plan.md",), [("summarize", "notes.txt", "")]),  # said, not in the session: kept
        ("Right, tell me a joke", (), [("general_chat", "", "")]),
    ],
)
def test_common_whisper_slips_in_commands_are_read_as_meant(
    heard: str, known: tuple[str, ...], want: list[tuple[str, str, str]]
) -> None:
    assert understood(heard, known) == want


def test_saving_it_under_a_name_is_the_same_request_and_start_over_can_be_said_twice() -> None:
    from voiceloop.agent.commands import Kind, parse_command

    said = "could you write a javascript function that reverses a string and save it as reverse.js"
    assert understood(said) == [("write_code", "reverse.js", "")]
    assert understood("boil this down for me: the printer is broken, use the one by the kitchen")[0][0] == "summarize"
    command = parse_command("forget all that, let's start from scratch")
    assert command is not None and command.kind is Kind.START_OVER
    assert parse_command("let's start writing the report") is None
