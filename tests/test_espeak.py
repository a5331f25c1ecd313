"""espeak-ng keeps one rate, one voice and one sample callback per process; each Pyttsx3Synth must still speak
at its own rate, in its own voice, into its own buffer (the rate once never applied: config 175 spoke at 200).

espeak's audio is not bit-stable from call to call (a few samples of jitter), so clips are compared by
duration and spectral centroid, each within a tolerance far below the gap between the settings compared.
"""

from __future__ import annotations

import numpy as np
import pytest

from voiceloop.audio.formats import SAMPLE_RATE
from voiceloop.config import TtsConfig
from voiceloop.voice.espeak import Pyttsx3Synth

SENTENCES = (
    "The quick brown fox jumps over the lazy dog.",
    "Create a file called notes dot txt.",
    "How many legs does a spider have?",
)


def seconds(x: np.ndarray) -> float:
    return len(x) / SAMPLE_RATE


def centroid(x: np.ndarray) -> float:
    """Spectral centroid in Hz: a voice's colour, steady across espeak's run-to-run jitter (about 0.2 %)."""
    power = np.abs(np.fft.rfft(x.astype(np.float64))) ** 2
    return float((power * np.fft.rfftfreq(len(x), 1 / SAMPLE_RATE)).sum() / power.sum())


def close(a: np.ndarray, b: np.ndarray) -> bool:
    return abs(seconds(a) / seconds(b) - 1) < 0.02 and abs(centroid(a) / centroid(b) - 1) < 0.01


def test_the_configured_rate_is_the_rate_spoken() -> None:
    slow, fast = Pyttsx3Synth(TtsConfig(rate=120)), Pyttsx3Synth(TtsConfig(rate=240))
    ratios = [seconds(slow.synth(s)) / seconds(fast.synth(s)) for s in SENTENCES]
    # twice the words a minute, half the time (espeak scales its pauses with the rate as well)
    assert all(1.8 < r < 2.2 for r in ratios), ratios


def test_two_synths_interleaved_each_keep_their_own_rate_voice_and_audio() -> None:
    plain, german = Pyttsx3Synth(TtsConfig(rate=175)), Pyttsx3Synth(TtsConfig(rate=175, voice="de"))
    fast = Pyttsx3Synth(TtsConfig(rate=260))
    text = SENTENCES[0]
    synths = {"plain": plain, "german": german, "fast": fast}
    alone = {name: s.synth(text) for name, s in synths.items()}
    # the settings compared must sound apart, or the test below could not tell them apart
    assert not close(alone["plain"], alone["german"]), "the German voice sounds like the default one"
    assert not close(alone["plain"], alone["fast"]), "rate 260 sounds like rate 175"
    for name in ["german", "plain", "fast", "plain", "german"] * 2:
        out = synths[name].synth(text)
        assert len(out) and close(out, alone[name]), (name, seconds(out), seconds(alone[name]))


def test_a_voice_not_installed_is_refused_by_name() -> None:
    with pytest.raises(RuntimeError, match="no voice like 'klingon-xx'"):
        Pyttsx3Synth(TtsConfig(voice="klingon-xx"))
