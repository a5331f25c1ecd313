"""A misheard file name fixed at the write prompt (issue 28): "no, call it list.md", typed or spoken, proposes
the same write again under the new name, with its own panel and its own yes. The new name goes through the
sandbox like any other: nothing outside output/, nothing hidden. Real prompts on real pseudo-terminals, the
real Tools and Sandbox, `voiceloop once` on a real WAV with Whisper and the LLM server, Piper's voice as the
person for the spoken answer."""

from __future__ import annotations

import contextlib
import io
import os
import sys
import threading
from pathlib import Path

import numpy as np
import pexpect
import pytest
from rich.console import Console

from voiceloop.agent.assistant import Assistant
from voiceloop.agent.confirm import TerminalConfirmer
from voiceloop.agent.intents import Action, Intent
from voiceloop.agent.rename import renamed
from voiceloop.agent.sandbox import Sandbox
from voiceloop.agent.tools import ActionResult, Status, Tools
from voiceloop.agent.understand.clarify import answered, ask_if_meant
from voiceloop.audio.bus import CaptureBus
from voiceloop.audio.formats import SAMPLE_RATE, wav_bytes
from voiceloop.audio.mic import WavSource
from voiceloop.audio.vad import build_segmenter
from voiceloop.config import Config, ConfirmConfig, TtsConfig
from voiceloop.listen.voice_confirm import Ears, VoiceConfirmer
from voiceloop.llm.ollama import OllamaClient
from voiceloop.stt.transcript import Transcriber
from voiceloop.voice.speech import SilentSpeaker

from .conftest import DATA, write_config
from .kit import ScriptedTranscriber
from .test_typeahead import terminal
from .wire import free_port

PROMPT = r"Write this file\? \[y/N\]"


@pytest.mark.parametrize(
    "answer,name",
    [
        ("No, call it report dot md.", "report.md"),  # as tiny.en writes a spoken answer
        ("No, call it report.md.", "report.md"),
        ("no, call it list.md", "list.md"),
        ("Call it notes.txt", "notes.txt"),
        ("Name it todo.md.", "todo.md"),
        ("Yes, and call it todo.txt.", "todo.txt"),  # a yes with a new name writes nothing: it asks again
        ("Call it N-O-T-E-S dot T-X-T.", "NOTES.txt"),  # letters said one by one, as Whisper writes them
        ("call it n o t e s dot t x t", "notes.txt"),
        ("Rename it to shopping underscore list dot txt.", "shopping_list.txt"),
        ("No. Call it, list.md.", "list.md"),
        ("call it report.md please", "report.md"),
        ("call it ../x.txt", "../x.txt"),  # kept as said: the sandbox refuses it, it is never tidied into x.txt
        ("call it .hidden.txt", ".hidden.txt"),
        ("No.", ""),
        ("yes", ""),
        ("Don't call it that.", ""),
        ("Call it that.", ""),
        ("write it somewhere else", ""),
        ("Yes, and also summarize it.", ""),
    ],
)
def test_the_one_parser_for_a_new_name(answer: str, name: str) -> None:
    assert renamed(answer) == name


class Person(io.StringIO):
    """The terminal's screen; each time the prompt is drawn, the person types their next answer."""

    def __init__(self, keyboard: int, answers: list[str], prompt: str = "Write this file?") -> None:
        super().__init__()
        self.keyboard, self.answers, self.prompt, self.asked = keyboard, answers, prompt, 0

    def write(self, s: str) -> int:
        n = super().write(s)
        if self.getvalue().count(self.prompt) > self.asked and self.answers:
            self.asked += 1
            os.write(self.keyboard, self.answers.pop(0).encode() + b"\n")
        return n


def typed(tmp_path: Path, answers: list[str], old: dict[str, str] | None = None) -> tuple[ActionResult, str]:
    """A dictated write of notes.txt through the real Tools, answered on a real pty (no model call)."""
    out = tmp_path / "output"
    for name, text in (old or {}).items():
        out.mkdir(exist_ok=True)
        (out / name).write_text(text)
    dead = OllamaClient(f"http://127.0.0.1:{free_port()}", "m")  # dictated text: the model is never asked
    with terminal() as (keyboard, stdin):
        screen = Person(keyboard, list(answers))
        tools = Tools(dead, Sandbox(out), TerminalConfirmer(Console(file=screen, width=100, color_system=None), stdin))
        result = tools.run(Intent(Action.CREATE_FILE, "notes.txt", "buy milk\n", "notes dot txt saying buy milk"), [])
    return result, screen.getvalue()


def files(tmp_path: Path) -> list[str]:
    out = tmp_path / "output"
    return sorted(str(p.relative_to(out)) for p in out.rglob("*")) if out.exists() else []


def test_a_typed_new_name_asks_again_and_only_its_own_yes_writes(tmp_path: Path) -> None:
    result, screen = typed(tmp_path, ["no, call it list.md", "y"])
    assert result.status is Status.WRITTEN and result.say == "I wrote list.md.", screen
    assert screen.count("Write this file?") == 2 and "Create output/list.md" in screen.replace(str(tmp_path) + "/", "")
    assert files(tmp_path) == ["list.md"] and (tmp_path / "output" / "list.md").read_text() == "buy milk\n"


@pytest.mark.parametrize("second", ["n", "", "call it"])
def test_a_new_name_then_no_writes_nothing(tmp_path: Path, second: str) -> None:
    result, screen = typed(tmp_path, ["yes, and call it todo.txt", second])
    assert result.status is Status.DECLINED and "did not write todo.txt" in result.say, screen
    assert files(tmp_path) == []


def test_a_new_name_that_exists_shows_its_diff(tmp_path: Path) -> None:
    result, screen = typed(tmp_path, ["call it shopping dot txt", "n"], old={"shopping.txt": "eggs\n"})
    assert "Overwrite" in screen and "-eggs" in screen and "+buy milk" in screen, screen
    assert result.status is Status.DECLINED and (tmp_path / "output" / "shopping.txt").read_text() == "eggs\n"


def test_a_name_said_without_a_suffix_keeps_the_old_one(tmp_path: Path) -> None:
    result, _ = typed(tmp_path, ["call it groceries", "yes"])
    assert result.status is Status.WRITTEN and files(tmp_path) == ["groceries.txt"]


@pytest.mark.parametrize(
    "answer,why",
    [
        ("no, call it ../x.txt", "'.' and '..' parts are not allowed"),
        ("call it /tmp/x.txt", "only names inside the output folder"),
        ("call it .hidden.txt", "hidden names"),
        ("call it .bashrc", "hidden names"),
        ("name it sub/.envrc", "hidden names"),
    ],
)
def test_a_new_name_outside_output_or_hidden_is_refused(tmp_path: Path, answer: str, why: str) -> None:
    result, screen = typed(tmp_path, [answer, "y", "y"])  # the yeses typed after it answer nothing
    assert result.status is Status.REFUSED and result.say.startswith("I wrote nothing: refused"), result
    assert why in result.say, result.say
    assert screen.count("Write this file?") == 1
    assert files(tmp_path) == [] and not (tmp_path / "x.txt").exists() and not Path("/tmp/x.txt").exists()


def test_an_undo_prompt_takes_no_new_name(tmp_path: Path) -> None:
    """ "call it list.md" at "Undo this change?" is no yes and no new name: nothing is undone or written."""
    box = Sandbox(tmp_path / "output")
    box.write(box.propose("notes.txt", "buy milk\n"))
    dead = OllamaClient(f"http://127.0.0.1:{free_port()}", "m")
    with terminal() as (keyboard, stdin):
        screen = Person(keyboard, ["call it list.md"], prompt="Undo this change?")
        tools = Tools(dead, box, TerminalConfirmer(Console(file=screen, width=100, color_system=None), stdin))
        result = tools.run(Intent(Action.UNDO, request="undo that"), [])
    assert result.status is Status.DECLINED, result
    assert files(tmp_path) == ["notes.txt"]


@pytest.mark.llm
def test_a_name_question_then_a_new_name_at_the_prompt(cfg: Config, llm: OllamaClient) -> None:
    """ "Create a file." -> "What should I call the file?" -> "notes dot txt" -> the panel, where "no, call
    it list.md" asks again: the write prompt after a clarifying question takes a new name too."""
    out = Path(cfg.output.dir)
    with terminal() as (keyboard, stdin):
        screen = Person(keyboard, ["no, call it list.md", "y"])
        tools = Tools(llm, Sandbox(out), TerminalConfirmer(Console(file=screen, width=100, color_system=None), stdin))
        assistant = Assistant(cfg, ScriptedTranscriber(), llm, tools, SilentSpeaker())
        assert assistant.handle_text("Create a file.").intents[0].action is Action.CLARIFY
        turn = assistant.handle_text("Notes dot txt.")
    assert [a.status for a in turn.actions] == [Status.WRITTEN], (turn, screen.getvalue())
    assert turn.actions[0].written_as == "list.md"
    assert sorted(p.name for p in out.iterdir()) == ["list.md"]
    assert [a.filename for a in assistant.memory.actions] == ["list.md"]  # "it" next means list.md, not notes.txt


@pytest.mark.parametrize(
    "reply,want",
    [
        ("No, call it feather dot py.", "summarize feather.py"),
        ("Call it f e a t h e r dot p y.", "summarize feather.py"),
        ("No, call it feather.", "summarize feather.py"),  # the suffix of the name asked about
        ("No, call it ../x.txt.", "summarize ../x.txt"),  # kept as said, so the sandbox refuses it aloud
    ],
)
def test_a_did_you_mean_question_takes_a_new_name_by_the_same_parser(reply: str, want: str) -> None:
    asked = ask_if_meant("summarize whether.py", "whether.py", "weather.py")
    assert answered(asked, reply) == want


def spawn_once(tmp_path: Path) -> pexpect.spawn:
    return pexpect.spawn(
        sys.executable,
        ["-m", "voiceloop", "once", str(DATA / "create_notes.wav"), "--no-speak"],
        cwd=str(tmp_path),
        env=dict(os.environ, COLUMNS="160"),
        encoding="utf-8",
        timeout=240,
    )


@pytest.mark.slow
@pytest.mark.llm
def test_once_no_call_it_list_md_then_yes_writes_list_md_only(tmp_path: Path, ollama_url: str) -> None:
    """The person's request, as recorded: "Create a file called notes dot txt with a shopping list."."""
    write_config(tmp_path / "config.toml", ollama_url)
    child = spawn_once(tmp_path)
    child.expect(r"Create \S*notes\.txt")
    child.expect(PROMPT)
    child.sendline("no, call it list.md")
    child.expect(r"Create \S*output/list\.md")  # a fresh panel under the new name
    child.expect(PROMPT)
    child.sendline("y")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0, child.before
    assert "wrote list.md" in str(child.before), child.before
    out = tmp_path / "output"
    assert sorted(p.name for p in out.iterdir()) == ["list.md"] and (out / "list.md").read_text().strip()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["config.toml", "output"]


@pytest.mark.slow
@pytest.mark.llm
def test_once_a_new_name_outside_output_is_refused_aloud(tmp_path: Path, ollama_url: str) -> None:
    write_config(tmp_path / "config.toml", ollama_url)
    child = spawn_once(tmp_path)
    child.expect(PROMPT)
    child.sendline("call it ../x.txt")
    child.expect(pexpect.EOF)
    child.close()
    before = str(child.before)
    assert "I wrote nothing: refused '../x.txt'" in before, before
    assert before.count("Write this file?") == 0  # no second prompt (the first was read before `before`)
    assert not (tmp_path / "output").exists() or list((tmp_path / "output").iterdir()) == []
    assert sorted(p.name for p in tmp_path.iterdir()) in (["config.toml"], ["config.toml", "output"])


@pytest.mark.slow
def test_a_spoken_new_name_asks_again_and_a_spoken_yes_writes(tmp_path: Path, transcriber: Transcriber) -> None:
    """Piper says "No, call it report dot md.", then, at the new panel, "Yes, write it."."""
    from voiceloop.voice.engines import PiperSynth

    piper = PiperSynth(TtsConfig(engine="piper"))
    quiet = np.zeros(SAMPLE_RATE, np.int16)
    speech = [quiet, piper.synth("No, call it report dot md."), quiet, quiet, quiet]
    speech += [piper.synth("Yes, write it."), quiet, quiet]
    mic = tmp_path / "mic.wav"
    mic.write_bytes(wav_bytes(np.concatenate(speech)))
    cfg = Config(confirm=ConfirmConfig(voice=True, timeout_s=10.0), tts=TtsConfig(enabled=False))
    screen = io.StringIO()
    asker = VoiceConfirmer(Console(file=screen, width=120, color_system=None), cfg, threading.Event(), io.StringIO())
    bus = CaptureBus(WavSource(mic, realtime=True), threading.Event())
    asker.ears = Ears(SilentSpeaker(), bus, build_segmenter(cfg.vad), transcriber, contextlib.nullcontext)
    dead = OllamaClient(f"http://127.0.0.1:{free_port()}", "m")
    tools = Tools(dead, Sandbox(tmp_path / "output"), asker)
    result = tools.run(Intent(Action.CREATE_FILE, "notes.txt", "buy milk\n", "notes dot txt saying buy milk"), [])
    shown = screen.getvalue()
    assert result.status is Status.WRITTEN and result.say == "I wrote report.md.", (asker.heard, shown)
    assert "new name: report.md" in shown and shown.count("say yes / no") == 2, shown
    assert files(tmp_path) == ["report.md"]
