"""Spoken confirmation in `voiceloop listen` on a private PulseAudio server whose speaker is looped back
into its microphone at full level: voiceloop asks "Shall I write notes.txt?" aloud (its echo reaches the
mic), then a spoken "yes, write it" writes, and silence writes nothing."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pexpect
import pytest

from voiceloop.audio.formats import SAMPLE_RATE, wav_bytes
from voiceloop.config import TtsConfig
from voiceloop.voice.engines import PiperSynth

from .test_listen_audio import looped_room, printed, say, spawn_listen, stop

pytestmark = [pytest.mark.slow, pytest.mark.llm, pytest.mark.audio]

VOICE_CONFIRM = "[confirm]\nvoice = true\ntimeout_s = 8.0\n"
ANSWER_AFTER_S = 0.2
"""A quick answer: its first word reaches the mic about a quarter of a second after the prompt shows, past the echo
tail counted from the question's last sound (about 0.3 s before the prompt shows), inside the old one counted from
when the prompt began to wait."""
SILENT_FOR_S = 3.0  # long enough for the question's echo to have come back through the room, and to be dropped


@pytest.fixture(scope="module")
def room() -> Iterator[dict[str, str]]:
    with looped_room("vl-confirm-") as env:
        yield env


def play(env: dict[str, str], path: Path) -> None:
    subprocess.run(["paplay", "-d", "vl_micfeed", str(path)], env=env, check=True)


def test_a_spoken_yes_after_its_own_question_writes(tmp_path: Path, room: dict[str, str], ollama_url: str) -> None:
    yes = tmp_path / "yes.wav"
    speech = PiperSynth(TtsConfig(engine="piper")).synth("Yes, write it.")
    pause = np.zeros(SAMPLE_RATE, np.int16)  # the person reads the prompt, then answers
    yes.write_bytes(wav_bytes(np.concatenate([pause, speech, pause])))
    child = spawn_listen(tmp_path, room, ollama_url, more=VOICE_CONFIRM)
    say(room, "create_notes.wav").wait()
    child.expect("Write this file")  # printed once the spoken question has played
    play(room, yes)
    child.expect(r"write it\.? — yes")
    child.expect(r"Reply:.{0,12} I wrote notes\.txt\.")
    assert stop(child) == 0
    log = child.logfile_read.getvalue()
    assert (tmp_path / "output" / "notes.txt").is_file(), log
    assert "Traceback" not in log and "— no" not in log, log  # the question's echo was never taken for an answer


def test_silence_at_the_prompt_writes_nothing(tmp_path: Path, room: dict[str, str], ollama_url: str) -> None:
    child = spawn_listen(tmp_path, room, ollama_url, more=VOICE_CONFIRM.replace("8.0", str(SILENT_FOR_S)))
    say(room, "create_notes.wav").wait()
    child.expect("Write this file")
    child.expect(f"no answer in {SILENT_FOR_S:.0f} s")
    assert stop(child) == 0
    log = child.logfile_read.getvalue()
    assert not (tmp_path / "output").exists(), log
    assert "You said: Shall I" not in log, log  # its own question was not heard as an answer


def test_a_spoken_new_name_asks_again_and_only_its_own_yes_writes(
    tmp_path: Path, room: dict[str, str], ollama_url: str
) -> None:
    """ "No, call it report dot md." at the prompt: a new panel and question for report.md; "Yes, write it."
    writes report.md, and notes.txt (the name first heard) is never written."""
    piper = PiperSynth(TtsConfig(engine="piper"))
    pause = np.zeros(SAMPLE_RATE, np.int16)
    answers = {"rename": "No, call it report dot md.", "yes": "Yes, write it."}
    for name, said in answers.items():
        (tmp_path / f"{name}.wav").write_bytes(wav_bytes(np.concatenate([pause, piper.synth(said), pause])))
    child = spawn_listen(tmp_path, room, ollama_url, more=VOICE_CONFIRM)
    say(room, "create_notes.wav").wait()
    child.expect("Write this file")
    play(room, tmp_path / "rename.wav")
    child.expect(r"new name: report\.md")
    child.expect(r"Create \S*report\.md")
    child.expect("Write this file")
    play(room, tmp_path / "yes.wav")
    child.expect(r"Reply:.{0,12} I wrote report\.md\.")
    assert stop(child) == 0
    log = child.logfile_read.getvalue()
    assert sorted(p.name for p in (tmp_path / "output").iterdir()) == ["report.md"], log
    assert "Traceback" not in log, log


def test_a_yes_said_as_soon_as_the_question_ends_is_heard_whole(
    tmp_path: Path, room: dict[str, str], ollama_url: str
) -> None:
    """ "Yes, write it." cut to its words, said just after the prompt shows (the question has just played): heard
    whole and written. The prompt's echo tail (vad.echo_tail_ms) counts from the question's last audible sound, as the
    listen loop's does; it was counted from when the prompt began to wait, after the synth's trailing silence, so an
    answer this quick began inside it and was dropped as "only the end"."""
    speech = PiperSynth(TtsConfig(engine="piper")).synth("Yes, write it.")
    loud = np.flatnonzero(np.abs(speech) > 300)
    yes = tmp_path / "yes.wav"
    yes.write_bytes(wav_bytes(speech[max(0, loud[0] - SAMPLE_RATE // 50) : loud[-1] + SAMPLE_RATE // 10]))
    child = spawn_listen(tmp_path, room, ollama_url, more=VOICE_CONFIRM)
    say(room, "create_notes.wav").wait()
    child.expect("Write this file")
    child.timeout = 30  # a yes dropped as "only the end" fails at the prompt's timeout, not in three minutes
    time.sleep(ANSWER_AFTER_S)
    play(room, yes)
    try:
        child.expect(r"write it\.? — yes")
        child.expect(r"Reply:.{0,12} I wrote notes\.txt\.")
    except pexpect.TIMEOUT:
        pytest.fail("the quick yes was not taken; listen printed:\n" + printed(child.logfile_read.getvalue()))
    assert stop(child) == 0
    log = child.logfile_read.getvalue()
    assert "only the end" not in log, log
    assert (tmp_path / "output" / "notes.txt").is_file(), log
