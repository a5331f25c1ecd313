"""The design card's voice: pyttsx3 driving espeak-ng, rendered into memory (never to its own audio output)."""

from __future__ import annotations

import contextlib
import ctypes
import io
import threading
from typing import Any

import numpy as np

from voiceloop.audio.formats import resample, to_int16
from voiceloop.config import TtsConfig


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
