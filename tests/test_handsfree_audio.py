"""`voiceloop listen --mode wake_word` and `--mode push_to_talk` as a person runs them: a real terminal
(pexpect's pty), the real microphone path on a private PulseAudio server, the real models."""

from __future__ import annotations

import io
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pexpect
import pytest

from voiceloop.listen.loop import AUDIO_IN

from .conftest import DATA, write_config
from .test_listen_audio import START_OVER, looped_room, say, stop

pytestmark = [pytest.mark.slow, pytest.mark.llm, pytest.mark.audio]


@pytest.fixture(scope="module")
def room() -> Iterator[dict[str, str]]:
    with looped_room("vl-hands-") as env:
        yield env


def spawn(tmp_path: Path, env: dict[str, str], ollama_url: str, *args: str) -> pexpect.spawn:
    write_config(tmp_path / "config.toml", ollama_url, '[audio]\ninput_device = "pulse"\noutput_device = "pulse"\n')
    child = pexpect.spawn(
        sys.executable, ["-m", "voiceloop", "listen", *args], cwd=str(tmp_path), env=env, encoding="utf-8", timeout=180
    )
    child.logfile_read = io.StringIO()
    return child


def ignored(child: pexpect.spawn, env: dict[str, str], clip: Path, missing: str) -> str:
    """Play a clip into the microphone: voiceloop must say it heard speech and let it go (no turn);
    returns what it printed meanwhile."""
    start = len(child.logfile_read.getvalue())
    say(env, str(clip.relative_to(DATA))).wait()
    child.expect([f"heard speech without {missing}: ignored", "You said:"], timeout=60)
    out = child.logfile_read.getvalue()[start:]
    assert "You said:" not in out, out
    return out


def test_wake_word_mode_answers_only_after_the_wake_word(tmp_path: Path, room: dict[str, str], ollama_url: str):
    child = spawn(tmp_path, room, ollama_url, "--mode", "wake_word")
    child.expect(AUDIO_IN)  # a fresh capture stream on a null-sink monitor can take seconds to deliver
    child.expect("say “Hey Jarvis”")  # the live view shows what it waits for (redrawn while it waits)
    ignored(child, room, DATA / "question.wav", "“Hey Jarvis”")  # a plain question: not for it
    ignored(child, room, DATA / "wakeword" / "negative" / "01_joe.wav", "“Hey Jarvis”")  # "Hey Charles, create..."
    say(room, "wakeword/positive/00_joe.wav").wait()  # "Hey Jarvis, what is the capital of France?"
    child.expect(r"You said:[^\n]*([Ww]hat is the capital|[Cc]apital of France)")
    child.expect("Reply:")
    log = child.logfile_read.getvalue()
    assert stop(child) == 0
    assert log.count("You said:") == 1, log
    assert "Jarvis" not in log.split("You said:")[1].split("\n")[0]  # the command, without the wake word
    assert not (tmp_path / "output").exists()
    assert "Traceback" not in log


def test_an_unknown_mode_or_wake_word_is_named(tmp_path: Path, ollama_url: str) -> None:
    from .conftest import run_cli

    write_config(tmp_path / "config.toml", ollama_url)
    bad = run_cli("listen", "--mode", "sometimes", cwd=tmp_path)
    assert bad.returncode == 3 and "--mode" in bad.stdout and "push_to_talk" in bad.stdout
    bad = run_cli("listen", "--wake-word", "hey_siri", cwd=tmp_path)
    assert bad.returncode == 3 and "--wake-word" in bad.stdout and "hey_jarvis" in bad.stdout


def test_push_to_talk_hears_only_while_space_is_on(tmp_path: Path, room: dict[str, str], ollama_url: str) -> None:
    child = spawn(tmp_path, room, ollama_url, "--mode", "push_to_talk")
    child.expect(AUDIO_IN)
    child.expect("hold space")
    ignored(child, room, DATA / "question.wav", "the space bar")  # space not pressed: not taken

    child.send(" ")  # tap: talk...
    say(room, START_OVER).wait()  # a command that needs no model: the tap is what is tested, not an answer
    child.send(" ")  # ...tap again: that was it
    child.expect("You said:")
    child.expect("Reply:")

    holding = threading.Event()

    def hold_space() -> None:  # a held key: the terminal repeats it
        while holding.is_set():
            child.send(" ")
            time.sleep(0.05)

    holding.set()
    presser = threading.Thread(target=hold_space)
    presser.start()
    say(room, "create_notes.wav").wait()
    holding.clear()
    presser.join()
    child.expect(r"Write this file\? \[y/N\]")  # the prompt still reads the keyboard
    child.sendline("n")
    child.expect(r"You said:[^\n]*[Cc]reate a file")
    child.expect("did not write")
    log = child.logfile_read.getvalue()
    assert stop(child) == 0
    assert log.count("You said:") == 2, log
    assert not (tmp_path / "output").exists()
    assert "Traceback" not in log
