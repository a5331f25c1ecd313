"""Speaking: pyttsx3 audio says the words; the reply really reaches the (virtual) speaker."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from voiceloop.config import TtsConfig
from voiceloop.voice.espeak import Pyttsx3Synth
from voiceloop.voice.pieces import split_sentences
from voiceloop.voice.speech import SentenceSpeaker

from .conftest import DATA, ROOT, Recorder, loud_seconds, run_cli, write_config


@pytest.fixture(scope="session")
def pulse() -> str:
    """The PulseAudio virtual speaker/mic (scripts/audio_devices.sh); returns the speaker's monitor."""
    subprocess.run(["bash", str(ROOT / "scripts" / "audio_devices.sh"), "start"], check=True, capture_output=True)
    return "vl_speaker.monitor"


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
    from voiceloop.audio.devices import PyAudioPlayer, open_pyaudio

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
