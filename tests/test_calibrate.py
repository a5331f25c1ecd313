"""`voiceloop calibrate`: real room noise and real speech in, [vad] proposals out, config.toml edited in place."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import tempfile
import time
import tomllib
from pathlib import Path

import numpy as np
import pexpect
import pytest

from voiceloop.audio.formats import read_wav
from voiceloop.audio.vad import WebRtcVad
from voiceloop.config import VadConfig, load
from voiceloop.devtools.calibrate import analyze, update_toml

from .conftest import DATA, ROOT

AUDIO = str(ROOT / "scripts" / "audio_devices.sh")


def with_pause(ms: int) -> np.ndarray:
    """The notes command said in two halves with a hesitation of `ms` between them."""
    speech = read_wav(DATA / "create_notes.wav")
    half = len(speech) // 2
    return np.concatenate([speech[:half], np.zeros(ms * 16, np.int16), speech[half:]])


def test_quiet_room_keeps_gentle_vad_and_hesitant_speaker_gets_longer_silence() -> None:
    quiet = np.zeros(16000 * 2, np.int16)
    brisk = analyze(quiet, read_wav(DATA / "create_notes.wav"), WebRtcVad)
    slow = analyze(quiet, with_pause(1200), WebRtcVad)
    assert brisk.proposal["aggressiveness"] == 0  # nothing in a silent room looks like speech
    assert slow.longest_pause_ms >= 900 > brisk.longest_pause_ms  # webrtcvad's hangover eats ~150 ms of a pause
    assert slow.proposal["silence_ms"] > 1200 >= brisk.proposal["silence_ms"]  # not cut off mid-sentence
    assert brisk.snr_db > 40


def test_noisy_room_raises_aggressiveness_and_start() -> None:
    noise = np.tile(read_wav(DATA / "noise.wav"), 2)
    report = analyze(noise, read_wav(DATA / "create_notes.wav"), WebRtcVad)
    quiet = analyze(np.zeros(16000 * 2, np.int16), read_wav(DATA / "create_notes.wav"), WebRtcVad)
    assert report.noise_dbfs > quiet.noise_dbfs + 20
    assert report.false_speech[0] > 0  # the gentlest mode takes this hiss for speech
    chosen = report.proposal["aggressiveness"]
    assert chosen > 0 and (report.false_speech[chosen] <= 0.02 or chosen == 3)


def test_update_keeps_every_comment_and_other_line() -> None:
    shipped = (ROOT / "config.toml").read_text()
    new = update_toml(shipped, "vad", {"aggressiveness": 3, "silence_ms": 1450})
    parsed = tomllib.loads(new)
    assert parsed["vad"]["aggressiveness"] == 3 and parsed["vad"]["silence_ms"] == 1450
    old_lines, new_lines = shipped.splitlines(), new.splitlines()
    assert len(old_lines) == len(new_lines)
    changed = [(a, b) for a, b in zip(old_lines, new_lines, strict=True) if a != b]
    assert len(changed) == 2
    for old, line in changed:  # same comment, value swapped
        assert old.split("#", 1)[1] == line.split("#", 1)[1]
    assert tomllib.loads(shipped)["stt"] == parsed["stt"]


def test_update_adds_missing_keys_and_sections() -> None:
    text = '[llm]\nmodel = "x"  # mine\n\n[vad]\nframe_ms = 20\n\n[tts]\nenabled = false\n'
    new = update_toml(text, "vad", {"silence_ms": 900})
    assert tomllib.loads(new)["vad"] == {"frame_ms": 20, "silence_ms": 900}
    assert '# mine' in new and tomllib.loads(new)["tts"] == {"enabled": False}
    assert tomllib.loads(update_toml('[llm]\nmodel = "x"\n', "vad", {"start_ms": 240}))["vad"] == {"start_ms": 240}
    assert tomllib.loads(update_toml("", "vad", {"start_ms": 240}))["vad"] == {"start_ms": 240}


@pytest.fixture(scope="module")
def mic() -> dict[str, str]:
    runtime = tempfile.mkdtemp(prefix="vl-cal-")
    env = dict(os.environ, XDG_RUNTIME_DIR=runtime, PULSE_SOURCE="vl_mic", COLUMNS="200")
    subprocess.run(["bash", AUDIO, "start"], env=env, check=True, capture_output=True)
    yield env
    subprocess.run(["bash", AUDIO, "stop"], env=env, check=False)


def play(env: dict[str, str], path: Path) -> None:
    subprocess.Popen(["paplay", "-d", "vl_micfeed", str(path)], env=env)


@pytest.mark.audio
@pytest.mark.parametrize("answer", ["y", "n"])
def test_calibrate_on_the_virtual_microphone(tmp_path: Path, mic: dict[str, str], answer: str) -> None:
    shipped = (ROOT / "config.toml").read_text()
    (tmp_path / "config.toml").write_text(shipped.replace('input_device = ""', 'input_device = "pulse"', 1))
    before = (tmp_path / "config.toml").read_text()
    hesitant = tmp_path / "hesitant.wav"
    from voiceloop.audio.formats import wav_bytes

    hesitant.write_bytes(wav_bytes(with_pause(1300)))
    child = pexpect.spawn(
        sys.executable, ["-m", "voiceloop", "calibrate"], cwd=str(tmp_path), env=mic, encoding="utf-8", timeout=60
    )
    child.logfile_read = log = io.StringIO()
    child.expect("Stay quiet")
    child.expect("Now say one sentence")
    time.sleep(0.5)
    play(mic, hesitant)
    child.expect(r"Write these to config.toml\? \[y/N\]")
    child.sendline(answer)
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0, log.getvalue()
    after = (tmp_path / "config.toml").read_text()
    if answer == "n":
        assert after == before
        return
    vad = load(tmp_path / "config.toml").vad
    assert vad.silence_ms > 1300  # the hesitation it heard will not cut this speaker off
    assert vad != VadConfig()
    assert [line for line in after.splitlines() if line.startswith("#")] == [
        line for line in before.splitlines() if line.startswith("#")
    ]
    assert "updated config.toml" in log.getvalue()
