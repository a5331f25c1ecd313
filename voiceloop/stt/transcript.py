"""What every speech-to-text engine returns (Transcript) and the protocol it implements (Transcriber)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np


@dataclass(frozen=True)
class Transcript:
    """What Whisper heard, with the confidence numbers the gate uses."""

    text: str
    """The words, stripped."""
    avg_logprob: float
    """Mean token log-probability, weighted by segment length (closer to 0 is surer)."""
    no_speech_prob: float
    """Whisper's own estimate that there was no speech at all."""
    seconds: float
    """Time spent transcribing."""
    escalated: bool = False
    """True when tiered mode found the first model unsure and asked the larger one too."""


class Transcriber(Protocol):
    name: str

    def transcribe(self, samples: np.ndarray) -> Transcript: ...

    def hint_files(self, files: Sequence[str]) -> None:
        """The session's file names, newest last: the next utterance may say them (a no-op for engines
        that take no prompt, or with stt.vocabulary_bias off)."""


def float_audio(samples: np.ndarray) -> np.ndarray:
    return samples.astype(np.float32) / 32768.0
