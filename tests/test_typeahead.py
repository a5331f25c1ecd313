"""Keys typed before the write prompt is on screen never answer it (issue 19): `voiceloop once` and `listen`
on real pseudo-terminals, with the real Whisper, fast path and LLM server; and the one rule for what a
typed answer means, on the real prompt over a pty."""

from __future__ import annotations

import contextlib
import io
import os
import pty
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pexpect
import pytest
from rich.console import Console

from voiceloop.agent.confirm import Said, TerminalConfirmer, answer_to
from voiceloop.agent.sandbox import Sandbox
from voiceloop.audio.formats import SAMPLE_RATE, wav_bytes
from voiceloop.config import TtsConfig

from .conftest import write_config

PROMPT = r"Write this file\? \[y/N\]"


class Screen(io.StringIO):
    """The terminal's screen for a prompt run in this process: once the prompt is shown, the person types
    `keys` on the keyboard (the pty's other end)."""

    def __init__(self, keyboard: int, keys: bytes) -> None:
        super().__init__()
        self.keyboard, self.keys, self.typed = keyboard, keys, False

    def write(self, s: str) -> int:
        n = super().write(s)
        if not self.typed and "Write this file?" in self.getvalue():
            self.typed = True
            os.write(self.keyboard, self.keys)
        return n


@contextlib.contextmanager
def terminal() -> Iterator[tuple[int, io.TextIOWrapper]]:
    """A real pseudo-terminal: (the keyboard's fd, the prompt's stdin)."""
    keyboard, tty = pty.openpty()
    stdin = os.fdopen(tty, "r", encoding="utf-8")
    try:
        yield keyboard, stdin
    finally:
        stdin.close()
        os.close(keyboard)


def typed_at_prompt(tmp_path: Path, ahead: bytes, answer: bytes) -> bool:
    """The real prompt on a pty: `ahead` typed before the panel, `answer` once the prompt is on screen."""
    with terminal() as (keyboard, stdin):
        os.write(keyboard, ahead)
        screen = Screen(keyboard, answer)
        asker = TerminalConfirmer(Console(file=screen, width=100, color_system=None), stdin)
        yes, _ = asker.confirm(Sandbox(tmp_path / "output").propose("notes.txt", "buy milk\n"))
    return yes


@pytest.mark.parametrize("ahead", [b"y\n", b"yes\n", b"y\ny\ny\n"])
def test_keys_typed_before_the_panel_are_dropped(tmp_path: Path, ahead: bytes) -> None:
    assert typed_at_prompt(tmp_path, ahead, b"n\n") is False


def test_a_key_typed_after_the_panel_still_answers(tmp_path: Path) -> None:
    assert typed_at_prompt(tmp_path, b"n\n", b"y\n") is True


ANSWERS = ["y", "Y ", " y", "YES", "yes please", "sure", "Sure.", "okay", "yeah, go ahead", "write it", "n", "no",
           "nope", "", "maybe", "sure thing", "yes but not that file", "y n", "yesterday", "write it somewhere else"]


@pytest.mark.parametrize("answer", ANSWERS)
def test_typed_answers_follow_the_one_rule(tmp_path: Path, answer: str) -> None:
    """The keyboard writes exactly when answer_to (the rule the spoken answer uses too) says yes."""
    typed = typed_at_prompt(tmp_path, b"", answer.encode() + b"\n")
    assert typed is (answer_to(answer) is Said.YES)


def test_the_rule_on_words_people_type() -> None:
    assert [answer_to(a) for a in ("sure", "Y ", " y", "YES", "Sure.")] == [Said.YES] * 5
    assert [answer_to(a) for a in ("n", "no", "No!", "yes but not that file")] == [Said.NO] * 4
    assert [answer_to(a) for a in ("", "maybe", "sure thing", "yesterday")] == [Said.UNCLEAR] * 4


def spawn_once(tmp_path: Path, wav: Path) -> pexpect.spawn:
    return pexpect.spawn(
        sys.executable,
        ["-m", "voiceloop", "once", str(wav), "--no-speak"],
        cwd=str(tmp_path),
        env=dict(os.environ, COLUMNS="120"),
        encoding="utf-8",
        timeout=240,
    )


def answer_and_finish(child: pexpect.spawn, answer: str) -> str:
    """Type `answer` at the prompt now on screen (the process may already have gone on), wait for the end."""
    with contextlib.suppress(OSError):
        child.sendline(answer)
    child.expect(pexpect.EOF)
    child.close()
    return str(child.before)


@pytest.mark.slow
@pytest.mark.llm
def test_once_ignores_a_yes_typed_before_the_panel(tmp_path: Path, ollama_url: str, spoken: dict[str, Path]):
    write_config(tmp_path / "config.toml", ollama_url)
    child = spawn_once(tmp_path, spoken["one"])
    child.sendline("y")  # typed while Whisper and the model load: nothing is on screen yet
    child.expect("Create .*notes.txt")
    child.expect(PROMPT)
    out = answer_and_finish(child, "n")
    assert not (tmp_path / "output" / "notes.txt").exists(), out
    assert "did not write notes.txt" in out


@pytest.fixture(scope="module")
def spoken(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Requests spoken by Piper that the fast path understands whole: no model call, so a busy LLM server
    cannot stall these tests. "two" is a compound request: two files, each through its own write prompt."""
    from voiceloop.voice.engines import PiperSynth

    piper = PiperSynth(TtsConfig(engine="piper"))
    quiet = np.zeros(SAMPLE_RATE // 2, np.int16)
    folder = tmp_path_factory.mktemp("spoken")
    requests = {
        "one": "Create a file called notes.txt saying buy milk.",
        "wake": "Hey Jarvis, create a file called notes.txt saying buy milk.",
        "two": "Create a file called notes.txt saying buy milk. Then create a file called todo.txt saying call mom.",
    }
    for name, said in requests.items():
        (folder / f"{name}.wav").write_bytes(wav_bytes(np.concatenate([quiet, piper.synth(said), quiet])))
    return {name: folder / f"{name}.wav" for name in requests}


@pytest.mark.slow
@pytest.mark.llm
def test_a_second_yes_typed_at_the_first_prompt_does_not_answer_the_second(
    tmp_path: Path, ollama_url: str, spoken: dict[str, Path]
) -> None:
    write_config(tmp_path / "config.toml", ollama_url)
    child = spawn_once(tmp_path, spoken["two"])
    child.expect("Create .*notes.txt")
    child.expect(PROMPT)
    child.send("y\ny\n")  # the second y is meant for nothing yet: the todo.txt panel is not on screen
    child.expect("Create .*todo.txt")
    child.expect(PROMPT)
    out = answer_and_finish(child, "n")
    assert (tmp_path / "output" / "notes.txt").read_text().strip().endswith("milk"), out
    assert not (tmp_path / "output" / "todo.txt").exists(), out
    assert re.search(r"did not write todo\.txt", out), out


@pytest.fixture(scope="module")
def room() -> Iterator[dict[str, str]]:
    from .test_listen_audio import looped_room

    with looped_room("vl-typeahead-") as env:
        yield env


@pytest.mark.slow
@pytest.mark.llm
@pytest.mark.audio
@pytest.mark.parametrize(
    "more,said",
    [
        ("", "one"),
        ("[confirm]\nvoice = true\ntimeout_s = 8.0\n", "one"),
        ('[listen]\nmode = "wake_word"\nwake_word = "hey_jarvis"\n', "wake"),
    ],
    ids=["always", "voice_confirm", "wake_word"],
)
def test_listen_ignores_a_yes_typed_while_idle(
    tmp_path: Path, room: dict[str, str], ollama_url: str, spoken: dict[str, Path], more: str, said: str
) -> None:
    from .test_listen_audio import spawn_listen, stop

    child = spawn_listen(tmp_path, room, ollama_url, speak=False, more=more)
    child.sendline("y")  # typed while nothing is proposed: it must not answer what comes later
    subprocess.run(["paplay", "-d", "vl_micfeed", str(spoken[said])], env=room, check=True)
    child.expect(r"Write this file\? \[y/N\]")
    with contextlib.suppress(OSError):
        child.sendline("n")
    took = child.expect([r"did not write notes\.txt", r"wrote notes\.txt"])
    stop(child)
    log = child.logfile_read.getvalue()
    assert took == 0 and not (tmp_path / "output" / "notes.txt").exists(), log
