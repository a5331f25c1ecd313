"""Wake word: microWakeWord models shipped inside pymicro-wakeword (no download), streamed on 16 kHz int16.

Fed every microphone chunk, `WakeWord.feed` says True at the chunk in which the wake word ended (the
model's averaged probability crossed its cutoff). After a detection the detector restarts, so one
"Hey Jarvis" gives one detection. It runs on TensorFlow Lite, not onnxruntime: traced with strace,
loading and feeding it opens no network socket and no telemetry file.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from voiceloop.audio.formats import SAMPLE_RATE

WAKE_WORDS = ("hey_jarvis", "okay_nabu", "hey_mycroft", "alexa")
SPOKEN = {"hey_jarvis": "Hey Jarvis", "okay_nabu": "Okay Nabu", "hey_mycroft": "Hey Mycroft", "alexa": "Alexa"}
FEED_SAMPLES = 160  # the feature frontend steps 10 ms at a time


class WakeWord:
    """One wake word detector. Not thread-safe: fed by the one thread that reads the microphone."""

    def __init__(self, name: str) -> None:
        if name not in WAKE_WORDS:
            raise ValueError(f"unknown wake word {name!r}; choose one of {', '.join(WAKE_WORDS)}")
        try:
            from pymicro_wakeword import MicroWakeWord, MicroWakeWordFeatures, Model
        except ImportError as e:
            raise ImportError("the wake word needs pymicro-wakeword: pip install -e '.[handsfree]'") from e
        self.name = name
        self.spoken = SPOKEN[name]
        """How a person says it ("Hey Jarvis"), for the live view."""
        self._new_features = MicroWakeWordFeatures
        self._model: Any = MicroWakeWord.from_builtin(Model(name))
        self._features: Any = MicroWakeWordFeatures()
        self.samples_fed = 0

    def feed(self, chunk: np.ndarray) -> bool:
        """More audio; True if the wake word ended in it (the detector then starts afresh)."""
        self.samples_fed += len(chunk)
        hit = False
        for features in self._features.process_streaming(np.asarray(chunk, dtype="<i2").tobytes()):
            if not hit and self._model.process_streaming(features):
                hit = True
        if hit:
            self.reset()
        return hit

    def reset(self) -> None:
        """Forget what was heard (also after our own speech, which must not half-fill the window)."""
        self._model.reset()
        self._features = self._new_features()

    def find(self, samples: np.ndarray) -> float | None:
        """Seconds into a whole recording at which the wake word ended, or None (starts afresh)."""
        self.reset()
        for pos in range(0, len(samples), 480):
            if self.feed(samples[pos : pos + 480]):
                return (pos + 480) / SAMPLE_RATE
        return None
