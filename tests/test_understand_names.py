"""Heard file names that land on the session's files (issue 22): a near name is taken ("whether.py" ->
weather.py), a farther one is asked about ("Did you mean weather.py?") and the next utterance answers with the
one yes/no rule, spelled names ("w e a t h e r dot p y") are written whole, and a new file's name is never
changed. Real classifier and LLM server, real sandbox and files, real tiny.en on Piper speech."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.kit import RecordingConfirmer, ScriptedTranscriber
from voiceloop.agent.assistant import Assistant
from voiceloop.agent.classifier import Classifier
from voiceloop.agent.intents import Action, Intent
from voiceloop.agent.sandbox import Sandbox
from voiceloop.agent.tools import Tools
from voiceloop.agent.understand.clarify import DROPPED_REPLY, MEANT, answered, cancels
from voiceloop.audio.formats import SAMPLE_RATE
from voiceloop.config import SttConfig, TtsConfig
from voiceloop.voice.speech import SilentSpeaker


def decided(llm, text: str, known: tuple[str, ...] = ()) -> list[tuple[str, str, str]]:
    """(action, filename, question) for each intent the real classifier gives."""
    got = Classifier(llm).classify(text, "", known).intents
    return [(i.action.value, i.filename, i.request if i.action is Action.CLARIFY else "") for i in got]


@pytest.mark.llm
@pytest.mark.parametrize(
    "text,known,want",
    [
        # near: taken without asking (as before), for summaries, reads and edits
        ("Summarize whether.py.", ("weather.py",), [("summarize", "weather.py", "")]),
        ("Read me report.mb.", ("report.md",), [("read_file", "report.md", "")]),
        # a guess: asked, never taken, never acted on as heard
        ("Summarize whither.py.", ("weather.py",), [("clarify", "", "Did you mean weather.py?")]),
        ("Read me whither.py.", ("notes.txt", "weather.py"), [("clarify", "", "Did you mean weather.py?")]),
        ("Fix the typo in whither.py.", ("weather.py",), [("clarify", "", "Did you mean weather.py?")]),
        # a name said earlier in the same request counts as known
        (
            "Create a file called weather.txt saying sunny, then summarize winters.txt.",
            (),
            [("create_file", "weather.txt", ""), ("clarify", "", "Did you mean weather.txt?")],
        ),
        # a new file's name is the person's: never matched
        ("Create whither.py.", ("weather.py",), [("create_file", "whither.py", "")]),
        # nothing close, or two about as close: left as heard
        ("Summarize budget.py.", ("weather.py",), [("summarize", "budget.py", "")]),
        ("Summarize notes.txt.", ("notes1.txt", "notes2.txt"), [("summarize", "notes.txt", "")]),
        # spelled out, letter by letter (how Whisper writes it: spaces, hyphens or commas between letters)
        ("Summarize w e a t h e r dot p y.", ("weather.py",), [("summarize", "weather.py", "")]),
        ("Summarize w-e-a-t-h-e-r dot p-y.", (), [("summarize", "weather.py", "")]),
        ("Create a file called n o t e s dot t x t.", (), [("create_file", "notes.txt", "")]),
        ("Summarize w, e, a, t, h, e, r.py.", (), [("summarize", "weather.py", "")]),
    ],
)
def test_heard_names_land_on_known_files(llm, text: str, known: tuple[str, ...], want) -> None:
    assert decided(llm, text, known) == want


def test_a_guess_is_answered_with_the_one_yes_no_rule() -> None:
    asked = Intent(Action.CLARIFY, content="Summarize weather.py", request=MEANT.format("weather.py"))
    assert answered(asked, "Yes.") == "Summarize weather.py"
    assert answered(asked, "yeah, go ahead") == "Summarize weather.py"
    assert answered(asked, "No, feather dot py.") == "Summarize feather.py"  # the right name instead
    assert answered(asked, "Tell me a joke.") is None  # a new request of its own
    assert cancels("No.", asked) and cancels("nope", asked)
    assert not cancels("No, feather dot py.", asked)
    assert not cancels("No.")  # to other questions a bare no is not a cancel word (unchanged)


@pytest.fixture
def session(cfg, llm):
    """An assistant whose session made weather.txt ("sunny and warm") through a confirmed write."""
    person = RecordingConfirmer(answer=True)
    tools = Tools(llm, Sandbox(Path(cfg.output.dir)), person, cfg.llm.num_predict)
    assistant = Assistant(cfg, ScriptedTranscriber(), llm, tools, SilentSpeaker())
    made = assistant.handle_text("Create a file called weather.txt saying sunny and warm.")
    assert (Path(cfg.output.dir) / "weather.txt").read_text().strip() == "sunny and warm", made
    return assistant, person


@pytest.mark.llm
def test_yes_to_did_you_mean_reads_the_file(session) -> None:
    assistant, _ = session
    asked = assistant.handle_text("Read me winters.txt.")
    assert asked.reply == "Did you mean weather.txt?" and [i.action for i in asked.intents] == [Action.CLARIFY]
    turn = assistant.handle_text("Yes.")
    assert [(i.action, i.filename) for i in turn.intents] == [(Action.READ_FILE, "weather.txt")]
    assert "sunny and warm" in turn.reply


@pytest.mark.llm
def test_no_to_did_you_mean_drops_it_and_a_name_replaces_the_guess(session, cfg) -> None:
    assistant, person = session
    assert assistant.handle_text("Fix the typo in winters.txt.").reply == "Did you mean weather.txt?"
    dropped = assistant.handle_text("No.")
    assert dropped.reply == DROPPED_REPLY and dropped.intents == ()
    assert len(person.shown) == 1  # only the first write was ever proposed
    assert assistant.handle_text("Read me winters.txt.").reply == "Did you mean weather.txt?"
    other = assistant.handle_text("No, notes dot txt.")
    assert [(i.action, i.filename) for i in other.intents] == [(Action.READ_FILE, "notes.txt")]
    assert "weather.txt says" not in other.reply  # the file asked for, not the guess


@pytest.fixture(scope="module")
def piper():
    from voiceloop.voice.engines import PiperSynth

    return PiperSynth(TtsConfig(engine="piper"))


@pytest.fixture(scope="module")
def ears():
    from voiceloop.stt.engines import build_engine

    return build_engine(SttConfig())


def heard_by_tiny(piper, ears, said: str) -> str:
    """`said` in Piper's voice, with the quiet around it a microphone gives, as tiny.en hears it."""
    quiet = np.zeros(SAMPLE_RATE // 2, np.int16)
    return str(ears.transcribe(np.concatenate([quiet, piper.synth(said), quiet, quiet])).text)


SPELLED = [  # said letter by letter in Piper's voice, and the file each one is
    ("Summarize w e a t h e r dot p y.", "weather.py"),
    ("Summarize n o t e s dot t x t.", "notes.txt"),
    ("Summarize t o d o dot t x t.", "todo.txt"),
    ("Summarize d a t a dot c s v.", "data.csv"),
    ("Summarize m e m o dot t x t.", "memo.txt"),
    ("Summarize i d e a s dot m d.", "ideas.md"),
]
SESSION = tuple(name for _, name in SPELLED)


@pytest.mark.llm
@pytest.mark.audio
def test_spelled_names_spoken_by_piper(llm, piper, ears) -> None:
    """Each spelled name is a summary of that file. tiny.en writes spelled letters differently on different CPUs:
    with AVX2 kernels (ctranslate2, oneDNN and numpy held to AVX2) it heard "Summarize n-o-t-e-s-dot-t-x-t.",
    whose name the parser does not read yet, so one of the six may be missed (6 of 6 here, 5 of 6 with AVX2).
    Without the spelled-name reading the three heard letter by letter (w-e-a-t-h-e-r, N-O-T-E-S, D-A-T-A) come
    out with no name: three missed."""
    missed = []
    for said, name in SPELLED:
        heard = heard_by_tiny(piper, ears, said)
        got = [d[:2] for d in decided(llm, heard, SESSION)]
        if got != [("summarize", name)]:
            missed.append((heard, got))
    assert len(missed) <= 1, missed


@pytest.mark.llm
@pytest.mark.parametrize(
    "text,want",
    [
        ("Read me notes.txt and then undo that.", [("read_file", "notes.txt"), ("undo", "")]),
        ("Create a file called todo.txt, then show me the files.", [("create_file", "todo.txt"), ("list_files", "")]),
        ("Summarize notes.txt, and take that back.", [("summarize", "notes.txt"), ("undo", "")]),
        (
            "Create a file called weather.txt saying sunny, then read me notes.txt.",
            [("create_file", "weather.txt"), ("read_file", "notes.txt")],
        ),
        # a lead-in is part of the command, not a request of its own
        ("Oh no, take that back.", [("undo", "")]),
        ("Hmm actually, take that back.", [("undo", "")]),
        # dictated words stay dictated: only "then" or a new sentence ends them
        ("Create a file called a.txt saying read me a story and undo that.", [("create_file", "a.txt")]),
    ],
)
def test_file_commands_are_parts_of_a_compound_request(llm, text: str, want) -> None:
    """The splitter reads the file commands' own templates (agent/filecmds/sentences) to know where they start."""
    assert [a[:2] for a in decided(llm, text, ("notes.txt",))] == want


READ_THEN_UNDO = [  # spoken compound requests: read notes.txt, then undo the last change
    "Please read back notes dot txt, then undo that.",
    "What does notes dot txt say? Then undo the last change.",
    "What does notes dot txt say? Then take that back.",
    "Please read notes dot txt, then undo that.",
]


@pytest.mark.llm
@pytest.mark.audio
def test_a_spoken_read_and_undo_is_two_parts(llm, piper, ears) -> None:
    """Each is a read of notes.txt and then an undo, never one request. One of the four may be misheard: an
    AVX2-only machine heard "What does notes dot tx d say", no file name (4 of 4 here and with tiny.en held to
    AVX2). Before the splitter knew the file commands' own sentences, none of them was two parts."""
    want = [("read_file", "notes.txt"), ("undo", "")]
    missed = []
    for said in READ_THEN_UNDO:
        heard = heard_by_tiny(piper, ears, said)
        got = [a[:2] for a in decided(llm, heard, ("notes.txt",))]
        if got != want:
            missed.append((heard, got))
    assert len(missed) <= 1, missed
