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

# espeak-ng keeps one rate, one voice and one sample callback for the whole process, so every synth sets all
# three itself under this lock: two voices (a reply and a test's own espeak clip) never take each other's
# samples or settings.
_ESPEAK_LOCK = threading.Lock()


class Pyttsx3Synth:
    """espeak-ng through pyttsx3's ctypes binding, rendering into memory, never to its own audio output.

    pyttsx3 only starts espeak. Its engine's setProperty is queued until runAndWait, which we never call
    (its save_to_file/say race with espeak's synthesis thread: empty or dropped audio), so rate and voice are
    set through espeak's own API on every synth, and we wait with espeak_Synchronize: one blocking call,
    nothing played behind our back.
    """

    ESPEAK_RATE = 22_050  # Hz, what espeak-ng produces

    def __init__(self, cfg: TtsConfig) -> None:
        try:
            import pyttsx3
            from pyttsx3.drivers import _espeak
            from pyttsx3.drivers.espeak import EspeakDriver
        except ImportError as e:
            raise ImportError(
                "pyttsx3 with espeak-ng is missing: pip install pyttsx3; apt-get install libespeak-ng1"
            ) from e
        self._espeak = _espeak
        self._rate = cfg.rate
        with _ESPEAK_LOCK, contextlib.redirect_stdout(io.StringIO()):
            pyttsx3.init("espeak")  # initializes espeak once per process; its engine is not used after this
            self._voice = (_find_voice(_espeak, cfg.voice) if cfg.voice else EspeakDriver._defaultVoice).encode()
        self._pcm: list[bytes] = []

    def _collect(self, wav: Any, numsamples: int, events: Any) -> int:
        if numsamples > 0 and wav:
            self._pcm.append(ctypes.string_at(wav, numsamples * 2))
        return 0

    def synth(self, text: str) -> np.ndarray:
        """Text -> 16 kHz mono int16 samples, at this synth's rate and voice whatever another one set."""
        es = self._espeak
        with _ESPEAK_LOCK:
            self._pcm = []
            es.SetSynthCallback(self._collect)
            if es.SetVoiceByName(self._voice) != es.EE_OK:
                raise RuntimeError(f"espeak-ng has no voice {self._voice.decode()!r}")
            es.SetParameter(es.RATE, self._rate, 0)  # after the voice: a voice change may reset it
            es.Synth(text.encode("utf-8"), flags=es.ENDPAUSE | es.CHARS_UTF8)
            es.Synchronize()
            raw = b"".join(self._pcm)
            self._pcm = []
        x = np.frombuffer(raw, dtype="<i2").astype(np.float64) / 32768.0
        return to_int16(resample(x, self.ESPEAK_RATE))


def _find_voice(espeak: Any, wanted: str) -> str:
    """The identifier of the voice named `wanted`: an exact identifier, language or name first ("fr" is
    French, not the Afrikaans whose name holds "fr"), else the first one whose identifier or name holds it."""
    voices: list[tuple[str, str]] = [(v.identifier.decode(), v.name.decode()) for v in espeak.ListVoices(None)]
    key = wanted.lower()
    for ident, name in voices:
        if key in (ident.lower(), ident.lower().rsplit("/", 1)[-1], name.lower()):
            return ident
    for ident, name in voices:
        if key in f"{ident} {name}".lower():
            return ident
    raise RuntimeError(f"espeak-ng has no voice like {wanted!r}")
