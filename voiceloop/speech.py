"""Speaking replies: synthesize each sentence to audio (pyttsx3), play it through a Player we control."""

from __future__ import annotations

import contextlib
import ctypes
import io
import re
import threading
import time
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from voiceloop.audio import resample, to_int16
from voiceloop.config import TtsConfig

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n+")


@dataclass(frozen=True)
class Spoken:
    """What speaking one reply did."""

    text: str
    """The text that was spoken."""
    audio_s: float
    """Seconds of audio synthesized."""
    played: bool
    """True if it went to a speaker."""
    first_audio_s: float
    """Seconds from the call to the first audio being ready."""


class Player(Protocol):
    """The speaker hardware seam: play 16 kHz mono int16 and return when it has really finished."""

    def play(self, samples: np.ndarray) -> None: ...


class Synth(Protocol):
    """A voice: text -> 16 kHz mono int16 samples (Pyttsx3Synth, voices.PiperSynth)."""

    def synth(self, text: str) -> np.ndarray: ...


class Speaker(Protocol):
    def speak(self, text: str) -> Spoken: ...


def split_sentences(text: str) -> list[str]:
    """Sentences to synthesize one at a time, so the first can play while the rest are made."""
    return [s.strip() for s in _SENTENCE_END.split(text) if s and s.strip()]


class Pyttsx3Synth:
    """pyttsx3's espeak-ng binding rendering into memory, never to its own audio output.

    pyttsx3's own save_to_file/say race with espeak's synthesis thread (empty or dropped audio),
    so after letting pyttsx3 set up espeak, rate and voice, we collect samples through its ctypes
    binding and wait with espeak_Synchronize: one blocking call, nothing played behind our back.
    """

    ESPEAK_RATE = 22_050  # Hz, what espeak-ng produces

    def __init__(self, cfg: TtsConfig) -> None:
        try:
            import pyttsx3
            from pyttsx3.drivers import _espeak
        except ImportError as e:
            raise ImportError(
                "pyttsx3 with espeak-ng is missing: pip install pyttsx3; apt-get install libespeak-ng1"
            ) from e
        self._lock = threading.Lock()
        self._espeak = _espeak
        with contextlib.redirect_stdout(io.StringIO()):
            self._engine = pyttsx3.init("espeak")
        self._engine.setProperty("rate", cfg.rate)
        if cfg.voice:
            for v in self._engine.getProperty("voices"):
                if cfg.voice.lower() in f"{v.id} {v.name}".lower():
                    self._engine.setProperty("voice", v.id)
                    break
        self._pcm: list[bytes] = []
        _espeak.SetSynthCallback(self._collect)

    def _collect(self, wav: Any, numsamples: int, events: Any) -> int:
        if numsamples > 0 and wav:
            self._pcm.append(ctypes.string_at(wav, numsamples * 2))
        return 0

    def synth(self, text: str) -> np.ndarray:
        """Text -> 16 kHz mono int16 samples."""
        with self._lock:
            self._pcm = []
            self._espeak.Synth(text.encode("utf-8"), flags=self._espeak.ENDPAUSE | self._espeak.CHARS_UTF8)
            self._espeak.Synchronize()
            raw = b"".join(self._pcm)
        x = np.frombuffer(raw, dtype="<i2").astype(np.float64) / 32768.0
        return to_int16(resample(x, self.ESPEAK_RATE))


class SentenceSpeaker:
    """Synthesizes sentence by sentence and plays each one as soon as it is ready."""

    def __init__(self, synth: Synth, player: Player | None) -> None:
        self.synth = synth
        self.player = player

    def speak(self, text: str) -> Spoken:
        t0 = time.perf_counter()
        first: float | None = None
        total = 0
        for sentence in split_sentences(text):
            samples = self.synth.synth(sentence)
            if first is None:
                first = time.perf_counter() - t0
            total += len(samples)
            if self.player is not None:
                self.player.play(samples)
        return Spoken(text, total / 16000, self.player is not None and total > 0, first or 0.0)


class SilentSpeaker:
    """Speech turned off: nothing is synthesized or played."""

    def speak(self, text: str) -> Spoken:
        return Spoken(text, 0.0, False, 0.0)
