"""Trust, round 2 (issue 29): a name said outright that is in output/ is that file, not a near name of the
session's; a question is never a write; list, read and undo say the truth about what they did not do.
Typed requests through the real Assistant, the real LLM server and a real output folder; one request spoken
in Piper's voice and heard by real tiny.en."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from tests.kit import RecordingConfirmer, ScriptedTranscriber
from voiceloop.agent.assistant import Assistant
from voiceloop.agent.filecmds.list_files import MAX_LISTED
from voiceloop.agent.intents import Action
from voiceloop.agent.sandbox import MAX_DEPTH, Sandbox
from voiceloop.agent.tools import Status, Tools
from voiceloop.agent.turn import Turn
from voiceloop.agent.understand.grounding import ground
from voiceloop.agent.understand.prompt import ModelIntent
from voiceloop.agent.understand.split import split
from voiceloop.agent.understand.words import is_question, prepare
from voiceloop.audio.formats import SAMPLE_RATE
from voiceloop.audio.vad import Utterance
from voiceloop.config import Config, SttConfig, TtsConfig
from voiceloop.llm.ollama import OllamaClient
from voiceloop.stt.transcript import Transcriber
from voiceloop.voice.speech import SilentSpeaker

MADE = "create a file called notes.txt with the text buy milk"
QUOTES = "To be or not to be.\n"


def _assistant(
    cfg: Config, llm: OllamaClient, person: RecordingConfirmer, ears: Transcriber | None = None
) -> Assistant:
    tools = Tools(llm, Sandbox(Path(cfg.output.dir)), person, cfg.llm.num_predict)
    return Assistant(cfg, ears or ScriptedTranscriber(), llm, tools, SilentSpeaker())


def _older_files(out: Path) -> None:
    """Files an earlier session left in output/, each a near name of notes.txt (made in this session)."""
    out.mkdir(parents=True)
    (out / "quotes.txt").write_text(QUOTES)
    (out / "names.txt").write_text("Ada\nGrace\n")
    (out / "notes2.txt").write_text("milk\n")


def _session(cfg: Config, llm: OllamaClient, person: RecordingConfirmer) -> Assistant:
    """The older files, then notes.txt written this session (the newest file, what "it" means)."""
    _older_files(Path(cfg.output.dir))
    assistant = _assistant(cfg, llm, person)
    made = assistant.handle_text(MADE)
    assert [a.status for a in made.actions] == [Status.WRITTEN], made
    person.answer, person.reason = False, "not in this test"  # any later write is shown, never made
    return assistant


def _on(turn: Turn) -> list[tuple[Action, str]]:
    return [(i.action, i.filename) for i in turn.intents]


@pytest.mark.llm
@pytest.mark.parametrize(
    ("said", "want"),
    [
        ("What does quotes dot txt say?", (Action.READ_FILE, "quotes.txt")),
        ("Summarize quotes dot txt", (Action.SUMMARIZE, "quotes.txt")),
        ("Capitalize everything in quotes dot txt", (Action.EDIT_FILE, "quotes.txt")),
        ("in notes2.txt change milk to bread", (Action.EDIT_FILE, "notes2.txt")),  # the model's part
    ],
)
def test_a_file_in_output_with_the_said_name_wins_over_the_session_file(cfg, llm, said: str, want) -> None:
    person = RecordingConfirmer()
    assistant = _session(cfg, llm, person)
    shown = len(person.shown)
    turn = assistant.handle_text(said)
    assert _on(turn) == [want], turn
    assert all(p.rel == want[1] for p in person.shown[shown:])  # an edit panel, if any, is for that file
    assert Path(cfg.output.dir, "notes.txt").read_text() == "buy milk"
    if want[0] is Action.READ_FILE:
        assert turn.reply.startswith(f"{want[1]} says: ")


@pytest.mark.llm
def test_did_you_mean_only_when_no_file_has_the_name(cfg, llm) -> None:
    assistant = _session(cfg, llm, RecordingConfirmer())
    names = assistant.handle_text("read me names dot txt")  # was "Did you mean notes.txt?"
    assert _on(names) == [(Action.READ_FILE, "names.txt")] and names.reply == "names.txt says: Ada\nGrace"
    near = assistant.handle_text("read me note dot txt")  # no note.txt anywhere: still the session's notes.txt
    assert _on(near) == [(Action.READ_FILE, "notes.txt")] and near.reply == "notes.txt says: buy milk"
    asked = assistant.handle_text("read me boats dot txt")  # farther off: still asked, never taken
    assert asked.reply == "Did you mean notes.txt?"


@pytest.fixture(scope="module")
def piper():
    from voiceloop.voice.engines import PiperSynth

    return PiperSynth(TtsConfig(engine="piper"))


@pytest.fixture(scope="module")
def tiny():
    from voiceloop.stt.engines import build_engine

    return build_engine(SttConfig())  # this module's own: the assistant hints it the session's file names


@pytest.mark.llm
@pytest.mark.audio
def test_spoken_the_existing_file_is_read_not_the_session_file(cfg, llm, piper, tiny) -> None:
    person = RecordingConfirmer()
    _older_files(Path(cfg.output.dir))
    assistant = _assistant(cfg, llm, person, tiny)
    assert [a.status for a in assistant.handle_text(MADE).actions] == [Status.WRITTEN]
    quiet = np.zeros(SAMPLE_RATE // 2, np.int16)
    samples = np.concatenate([quiet, piper.synth("What does quotes dot txt say?"), quiet, quiet])
    turn = assistant.handle(Utterance(samples, 0.0, len(samples) / SAMPLE_RATE, 1000))
    assert _on(turn) == [(Action.READ_FILE, "quotes.txt")], turn.transcript
    assert turn.reply == f"quotes.txt says: {QUOTES.strip()}"


REGEX_QUESTION = "In Python, what regular expression character class matches either a forward slash or a backslash?"


def test_a_lead_in_stays_with_the_question_it_opens() -> None:
    assert split(prepare(REGEX_QUESTION)) == [REGEX_QUESTION]
    assert is_question(REGEX_QUESTION) and is_question("For a beginner, how do I sort a list?")
    assert split("create a.txt, then in Python, what is a list?") == ["create a.txt", "in Python, what is a list?"]
    assert not is_question("In notes.txt, change milk to bread")  # a file named first: a request, not a lead-in


@pytest.mark.parametrize("action", ["write_code", "create_file", "edit_file"])
def test_a_bare_language_word_is_not_a_file_name(action: str) -> None:
    said = ModelIntent(action=action, filename="python", content="", request="")  # type: ignore[arg-type]
    got = ground(said, "In Python", [])
    assert got.action is Action.GENERAL_CHAT and got.filename == ""


def test_a_name_read_inside_a_name_said_whole_is_the_whole_one() -> None:
    """Whisper hears "in test underscore timer dot py" as "and ...": the model may take "it" (timer.py), and
    timer.py is only a piece of the name the person said."""
    said = ModelIntent(action="write_code", filename="timer.py", content="", request="a test")
    got = ground(said, "Write a test for it and test_timer.py", ["timer.py"])
    assert (got.action, got.filename) == (Action.WRITE_CODE, "test_timer.py")
    same = ModelIntent(action="edit_file", filename="timer.py", content="", request="add a docstring")
    assert ground(same, "add a docstring to timer.py", ["timer.py"]).filename == "timer.py"


@pytest.mark.llm
@pytest.mark.parametrize("known", [False, True])
def test_a_question_with_a_lead_in_is_answered_never_written(cfg, llm, known: bool) -> None:
    person = RecordingConfirmer()
    assistant = _session(cfg, llm, person) if known else _assistant(cfg, llm, person)
    person.answer, person.reason = False, "a question is never a write"
    shown = len(person.shown)
    turn = assistant.handle_text(REGEX_QUESTION)
    assert _on(turn) == [(Action.GENERAL_CHAT, "")], turn
    assert person.shown[shown:] == [] and turn.reply
    assert not Path(cfg.output.dir, "python").exists()


@pytest.mark.llm
def test_list_files_counts_every_file_and_names_the_real_newest(cfg, llm) -> None:
    out = Path(cfg.output.dir)
    many = out / "many"
    many.mkdir(parents=True)
    for i in range(12_000):
        (many / f"f{i:05}.txt").write_bytes(b"")
        os.utime(many / f"f{i:05}.txt", (1_000_000 + i, 1_000_000 + i))
    os.utime(many / "f04321.txt", (2_000_000, 2_000_000))  # the newest, wherever the walk meets it
    deep = out.joinpath(*[f"d{i}" for i in range(MAX_DEPTH + 1)])
    deep.mkdir(parents=True)
    (deep / "too_deep.txt").write_text("x")
    reply = _assistant(cfg, llm, RecordingConfirmer()).handle_text("what files do we have?").reply
    assert reply.startswith("There are 12,000 files in the output folder. The newest are many/f04321.txt, "), reply
    assert "and 11,994 more." in reply
    assert f"I left out 1 folder more than {MAX_DEPTH} folders deep" in reply  # not silently


def test_more_files_than_are_looked_at_is_said_as_more() -> None:
    from voiceloop.agent.filecmds.list_files import Entry, Listing, _say

    entries = tuple(Entry(f"f{i}.txt", 0, float(MAX_LISTED - i)) for i in range(MAX_LISTED))
    reply = _say(Listing(entries, complete=False, deep=0))
    assert reply.startswith(f"There are more than {MAX_LISTED:,} files in the output folder;"), reply


@pytest.mark.llm
def test_a_second_undo_says_the_last_change_was_already_taken_back(cfg, llm) -> None:
    person = RecordingConfirmer()
    assistant = _assistant(cfg, llm, person)
    assert [a.status for a in assistant.handle_text(MADE).actions] == [Status.WRITTEN]
    assert assistant.handle_text("undo that").reply == "I removed notes.txt, which I had created."
    again = assistant.handle_text("undo that")
    assert [a.status for a in again.actions] == [Status.ANSWERED]
    assert again.reply.startswith("There is nothing more to undo: I already took back my last change, to notes.txt")
    assert "since voiceloop started" not in again.reply


@pytest.mark.llm
@pytest.mark.parametrize(
    ("said", "why"),
    [
        ("what does proc/self/status say", "no file 'proc/self/status'"),  # was answered: the model made it up
        ("read proc/self/status", "no file 'proc/self/status'"),  # was a Create panel for output/proc/self/status
        ("Read slash proc slash self slash status.", "'/proc/self/status': only names inside the output folder"),
        ("read ../secret.txt", "'../secret.txt': empty, '.' and '..' parts are not allowed"),  # was '/secret.txt'
    ],
)
def test_a_read_outside_output_is_refused_and_says_why(cfg, llm, said: str, why: str) -> None:
    person = RecordingConfirmer()
    assistant = _assistant(cfg, llm, person)
    Path(cfg.output.dir).mkdir()
    turn = assistant.handle_text(said)
    assert [(a.action, a.status) for a in turn.actions] == [(Action.READ_FILE, Status.REFUSED)], turn
    assert why in turn.reply and "\n" not in turn.reply and person.shown == []
