"""Speaking: pyttsx3 audio says the words; the reply really reaches the (virtual) speaker."""

from __future__ import annotations

import json
import subprocess
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from voiceloop.config import TtsConfig
from voiceloop.speech import Pyttsx3Synth, SentenceSpeaker, split_sentences

from .conftest import DATA, ROOT, run_cli, write_config


@pytest.fixture(scope="session")
def pulse() -> str:
    """The PulseAudio virtual speaker/mic (scripts/audio_devices.sh); returns the speaker's monitor."""
    subprocess.run(["bash", str(ROOT / "scripts" / "audio_devices.sh"), "start"], check=True, capture_output=True)
    return "vl_speaker.monitor"


class Recorder:
    """Records what is played on the virtual speaker with parec, from the moment it really records."""

    def __init__(self, source: str) -> None:
        self.proc = subprocess.Popen(
            ["parec", "-d", source, "--raw", "--format=s16le", "--rate=16000", "--channels=1", "--latency-msec=20"],
            stdout=subprocess.PIPE,
        )
        self._chunks: list[bytes] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        deadline = time.monotonic() + 15
        while sum(map(len, self._chunks)) < 3200 and time.monotonic() < deadline:  # 0.1 s recorded
            time.sleep(0.02)
        assert self._chunks, "parec recorded nothing from the virtual speaker"

    def _read(self) -> None:
        assert self.proc.stdout is not None
        while chunk := self.proc.stdout.read1(4096):
            self._chunks.append(chunk)

    def stop(self) -> np.ndarray:
        time.sleep(0.4)  # the server's playback latency: the last sentence is still on its way
        self.proc.terminate()
        self.proc.wait(timeout=10)
        self._reader.join(timeout=10)
        out = b"".join(self._chunks)
        return np.frombuffer(out[: len(out) // 2 * 2], dtype="<i2")


def loud_seconds(samples: np.ndarray) -> float:
    frames = samples[: len(samples) // 480 * 480].reshape(-1, 480).astype(np.float64)
    return float((np.sqrt((frames**2).mean(axis=1)) > 300).sum() * 0.03)


def test_sentences_split_for_early_playback() -> None:
    assert split_sentences("Hi there. How are you?\nFine!") == ["Hi there.", "How are you?", "Fine!"]


@pytest.mark.slow
def test_synthesized_reply_says_the_words(transcriber) -> None:
    synth = Pyttsx3Synth(TtsConfig(rate=150))
    for _ in range(2):  # repeatable: the second utterance is as good as the first
        audio = synth.synth("The capital of France is Paris.")
        assert len(audio) > 16000 * 0.8
        assert "paris" in transcriber.transcribe(audio).text.lower()


@pytest.mark.slow
@pytest.mark.audio
def test_speaker_plays_every_sentence_on_the_device(pulse: str) -> None:
    from voiceloop.devices import PyAudioPlayer, open_pyaudio

    speaker = SentenceSpeaker(Pyttsx3Synth(TtsConfig()), PyAudioPlayer(open_pyaudio(), "pulse"))
    rec = Recorder(pulse)
    spoken = speaker.speak("Hello there. This is voiceloop speaking.")
    heard = rec.stop()
    assert spoken.played and spoken.audio_s > 1.5
    assert loud_seconds(heard) > 0.6 * spoken.audio_s * 0.5  # speech has pauses; most of it is audible


@pytest.mark.slow
@pytest.mark.llm
@pytest.mark.audio
@pytest.mark.parametrize("speak", [True, False], ids=["speech-on", "speech-off"])
def test_general_question_gets_a_spoken_reply(tmp_path: Path, ollama_url: str, pulse: str, speak: bool) -> None:
    write_config(tmp_path / "config.toml", ollama_url, f"[tts]\nenabled = {str(speak).lower()}\n")
    rec = Recorder(pulse)
    result = run_cli("once", str(DATA / "question.wav"), "--json", cwd=tmp_path, env={"PULSE_SINK": "vl_speaker"})
    heard = rec.stop()
    assert result.returncode == 0, result.stderr
    turn = json.loads(result.stdout)
    assert turn["intents"][0]["action"] == "general_chat"
    assert turn["reply"].strip()
    if speak:
        assert turn["spoken_s"] > 0.5
        assert loud_seconds(heard) > 0.3
    else:
        assert turn["spoken_s"] == 0
        assert loud_seconds(heard) == 0
    assert not (tmp_path / "output").exists()
