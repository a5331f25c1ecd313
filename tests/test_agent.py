"""What voiceloop does with a transcript, against the real small model on loopback: intents and file
names for typed commands (including follow-ups that need the action log), edits shown as diffs,
start over, switching models."""

from __future__ import annotations

import ast
import io
from pathlib import Path

import pytest
from rich.console import Console

from tests.kit import ScriptedTranscriber
from voiceloop.agent.assistant import START_OVER_REPLY, Assistant
from voiceloop.agent.confirm import render
from voiceloop.agent.sandbox import Proposal, Sandbox
from voiceloop.agent.tools import Status, Tools
from voiceloop.llm.ollama import OllamaClient
from voiceloop.voice.speech import SilentSpeaker

from .conftest import TEST_MODEL

pytestmark = [pytest.mark.slow, pytest.mark.llm]

EDIT = "edit_file|write_code"  # write_code on an existing file is the same edit
CASES: list[tuple[str, list[str], list[str], list[str]]] = [
    # (typed command, files touched before (oldest first, "action name"), actions, file names)
    (
        "create notes.txt and write a python function that adds two numbers in math_utils.py",
        [],
        ["create_file", "write_code"],
        ["notes.txt", "math_utils.py"],
    ),
    (
        "create a file called report dot md and summarize notes dot txt",
        [],
        ["create_file", "summarize"],
        ["report.md", "notes.txt"],
    ),
    (
        "write a python class for a bank account in bank.py and tell me a joke",
        [],
        ["write_code", "general_chat"],
        ["bank.py", ""],
    ),
    ("create a file called shopping dot txt", [], ["create_file"], ["shopping.txt"]),
    ("make an empty file called ideas.md", [], ["create_file"], ["ideas.md"]),
    ("create docs/plan.md with a plan for the week", [], ["create_file"], ["docs/plan.md"]),
    ("create a file docs slash plan dot md", [], ["create_file"], ["docs/plan.md"]),
    ("create todo.txt with the text call mom", [], ["create_file"], ["todo.txt"]),
    ("write a haiku about the sea in sea.txt", [], ["create_file"], ["sea.txt"]),
    ("write a python script that prints hello world in hello.py", [], ["write_code"], ["hello.py"]),
    ("write a javascript function that reverses a string in reverse.js", [], ["write_code"], ["reverse.js"]),
    ("write a bash script that counts files in count dot sh", [], ["write_code"], ["count.sh"]),
    ("make that function async", ["write_code fetch.py"], [EDIT], ["fetch.py"]),
    ("add a docstring to it", ["write_code math_utils.py"], [EDIT], ["math_utils.py"]),
    ("rename the function in utils.py to add_numbers", ["write_code utils.py"], [EDIT], ["utils.py"]),
    ("add error handling to that function", ["create_file notes.txt", "write_code parser.py"], [EDIT], ["parser.py"]),
    ("add eggs to the list in notes.txt", ["create_file notes.txt"], ["edit_file|create_file"], ["notes.txt"]),
    ("summarize notes dot txt", [], ["summarize"], ["notes.txt"]),
    ("summarize the file meeting.md", [], ["summarize"], ["meeting.md"]),
    ("summarize this: we met on monday, agreed to ship on friday and hire two people", [], ["summarize"], [""]),
    ("what is the capital of Spain", [], ["general_chat"], [""]),
    ("tell me a joke", [], ["general_chat"], [""]),
    ("hello, how are you?", [], ["general_chat"], [""]),
    ("what time zone is Tokyo in", [], ["general_chat"], [""]),
    ("explain what a python decorator is", [], ["general_chat"], [""]),
]


class Yes:
    """A person who answers y, and what they were shown."""

    def __init__(self) -> None:
        self.shown: list[Proposal] = []

    def confirm(self, proposal: Proposal) -> tuple[bool, str]:
        self.shown.append(proposal)
        return True, ""


@pytest.fixture
def yes() -> Yes:
    return Yes()


@pytest.fixture
def assistant(cfg, llm: OllamaClient, yes: Yes) -> Assistant:
    tools = Tools(llm, Sandbox(Path(cfg.output.dir)), yes, cfg.llm.num_predict)
    return Assistant(cfg, ScriptedTranscriber(), llm, tools, SilentSpeaker())  # typed commands: no transcriber needed


@pytest.mark.parametrize(("text", "before", "actions", "files"), CASES, ids=[c[0][:48] for c in CASES])
def test_typed_command_gives_the_expected_intents(
    assistant: Assistant, text: str, before: list[str], actions: list[str], files: list[str]
) -> None:
    for entry in before:
        action, name = entry.split(" ", 1)
        assistant.memory.record(name, action)
    intents = assistant.classify(text)
    got = [(i.action.value, i.filename) for i in intents]
    assert len(got) == len(actions), got
    for (action, name), want, want_name in zip(got, actions, files, strict=True):
        assert action in want.split("|"), got
        assert name == want_name, got


def test_an_edit_of_the_last_file_shows_a_diff_and_writes_parsing_python(assistant: Assistant, yes: Yes, cfg) -> None:
    out = Path(cfg.output.dir)
    out.mkdir()
    original = "def add(a, b):\n    return a + b\n"
    (out / "math_utils.py").write_text(original)
    assistant.memory.record("math_utils.py", "write_code")
    turn = assistant.handle_text("add a docstring to it")
    assert [(a.action.value, a.status) for a in turn.actions] == [("edit_file", Status.WRITTEN)], turn.reply
    (proposal,) = yes.shown
    assert proposal.rel == "math_utils.py" and proposal.old == original
    panel = Console(file=io.StringIO(), width=120, color_system=None)
    panel.print(render(proposal))
    shown = panel.file.getvalue()
    assert "--- a/math_utils.py" in shown and "+++ b/math_utils.py" in shown  # a diff, not the whole file
    new = (out / "math_utils.py").read_text()
    assert new == proposal.content != original
    ast.parse(new)
    assert '"""' in new or "'''" in new
    assert turn.models == {"intent": TEST_MODEL, "edit_file": TEST_MODEL}


def test_create_file_in_a_folder_and_summarize_a_file_by_its_spoken_name(assistant: Assistant, cfg) -> None:
    out = Path(cfg.output.dir)
    turn = assistant.handle_text("make an empty file called docs slash plan dot md")
    assert [(a.action.value, a.status) for a in turn.actions] == [("create_file", Status.WRITTEN)], turn.reply
    assert (out / "docs" / "plan.md").read_text() == ""
    (out / "notes.txt").write_text(
        "Team meeting, Monday. We agreed to ship version 2 on Friday. Anna will write the release notes. "
        "Bob fixes the login bug first. The budget for the new servers was approved. Next meeting Thursday.\n"
    )
    turn = assistant.handle_text("summarize notes dot txt")
    (done,) = turn.actions
    assert (done.action.value, done.status, Path(done.target).name) == ("summarize", Status.ANSWERED, "notes.txt")
    lines = turn.reply.splitlines()
    assert 1 <= len(lines) <= 5 and all(line.startswith("- ") for line in lines), turn.reply
    assert [a.filename for a in assistant.memory.actions] == ["docs/plan.md", "notes.txt"]


@pytest.mark.parametrize(
    "said", ["Start over.", "new conversation!", "OK, let's start over", "Start a new conversation please"]
)
def test_start_over_forgets_the_conversation_and_the_file_log(assistant: Assistant, said: str) -> None:
    assistant.memory.add_turn("my name is Ada", "Nice to meet you, Ada.")
    assistant.memory.record("notes.txt", "create_file")
    turn = assistant.handle_text(said)
    assert turn.reply == START_OVER_REPLY and turn.intents == () and not turn.error
    assert assistant.memory.history == [] and assistant.memory.actions == [] and assistant.memory.summary == ""


def test_switch_to_a_spoken_model_name_and_to_one_that_does_not_exist(assistant: Assistant, llm: OllamaClient) -> None:
    assistant.model = "something-else"
    turn = assistant.handle_text("Switch to qwen 2.5 coder 0.5 b.")
    assert assistant.model == TEST_MODEL and turn.reply == f"Switched to {TEST_MODEL}."
    turn = assistant.handle_text("switch to banana split nine thousand")
    assert assistant.model == TEST_MODEL
    assert turn.reply.startswith("I have no model called banana split nine thousand. Available: ")
    assert "\n" not in turn.reply and any(name in turn.reply for name in llm.models())
    assert assistant.classify("what is the capital of Spain")[0].action.value == "general_chat"  # still works
