"""The Piper voice: its audio says the words (real tiny.en), it plays through the same path, errors are one line."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from voiceloop.config import TtsConfig
from voiceloop.errors import SpeechError
from voiceloop.voice.engines import PiperSynth, load_synth
from voiceloop.voice.speech import SentenceSpeaker

from .conftest import run_cli, write_config
from .test_speech import Recorder, loud_seconds, pulse  # noqa: F401  (pulse is a fixture)
from .wire import free_port

pytestmark = [pytest.mark.slow]


@pytest.fixture(scope="module")
def piper() -> PiperSynth:
    synth = load_synth(TtsConfig(engine="piper"))
    assert isinstance(synth, PiperSynth)
    return synth


def test_piper_audio_transcribes_back_to_the_words(piper: PiperSynth, transcriber) -> None:
    for sentence, words in (
        ("The capital of France is Paris.", {"capital", "paris"}),
        ("I created the file notes dot txt.", {"created", "file", "notes"}),
    ):
        audio = piper.synth(sentence)
        assert audio.dtype.name == "int16" and len(audio) > 16000 * 0.8
        heard = transcriber.transcribe(audio)
        assert words <= set(heard.text.lower().replace(".", " ").replace(",", " ").split()), heard.text
        assert heard.avg_logprob > -0.8  # clear enough to pass our own confidence gate


def test_the_same_sentence_sounds_the_same_every_time(piper: PiperSynth) -> None:
    """No sampled noise: the tests that hear Piper through tiny.en hear the same audio on every run (before, each
    call drew new noise, and a test heard notes.txt on one run and no.txt on the next)."""
    import numpy as np

    text = "Create a file called notes dot txt."
    first = piper.synth(text)
    assert np.array_equal(first, piper.synth(text))
    assert np.array_equal(first, PiperSynth(TtsConfig(engine="piper")).synth(text))  # a new voice, a new session


def test_rate_changes_how_long_it_speaks(piper: PiperSynth) -> None:
    fast = PiperSynth(TtsConfig(engine="piper", rate=350))
    text = "This sentence is spoken at two different speeds."
    assert len(fast.synth(text)) < 0.75 * len(piper.synth(text))


@pytest.mark.audio
def test_piper_reply_plays_on_the_speaker_and_can_be_understood(piper, transcriber, pulse: str) -> None:  # noqa: F811
    from voiceloop.audio.devices import PyAudioPlayer, open_pyaudio

    speaker = SentenceSpeaker(piper, PyAudioPlayer(open_pyaudio(), "pulse"))
    rec = Recorder(pulse)
    spoken = speaker.speak("Hello there. The file is saved.")
    heard = rec.stop()
    assert spoken.played and spoken.audio_s > 1.0
    assert loud_seconds(heard) > 0.5
    assert "saved" in transcriber.transcribe(heard).text.lower()


def test_missing_piper_is_one_line_naming_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "piper", None)  # what an install without the extra looks like
    with pytest.raises(SpeechError) as info:
        load_synth(TtsConfig(engine="piper"))
    assert "[piper]" in str(info.value) and "\n" not in str(info.value)


def test_bad_voice_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SpeechError, match=r"not a Piper \.onnx voice"):
        load_synth(TtsConfig(engine="piper", voice=str(tmp_path / "nope.onnx")))
    broken = tmp_path / "broken.onnx"
    broken.write_bytes(b"not a model")
    with pytest.raises(SpeechError, match=r"Piper cannot load broken\.onnx"):
        load_synth(TtsConfig(engine="piper", voice=str(broken)))


def test_doctor_checks_the_piper_voice(tmp_path: Path) -> None:
    extra = 'backend = "ollama"\n[tts]\nengine = "piper"\n'
    write_config(tmp_path / "config.toml", f"http://127.0.0.1:{free_port()}", extra)
    result = run_cli("doctor", cwd=tmp_path)
    speech = [ln for ln in result.stdout.splitlines() if ln[2:].startswith("speech")]
    assert speech and speech[0].startswith("✓ ") and "piper" in speech[0], result.stdout
