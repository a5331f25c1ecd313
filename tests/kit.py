"""A small test kit at the hardware and person seams: stand-ins for a person at the prompt and for a
microphone+Whisper whose words are already known. Our own logic is never replaced."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

from voiceloop.agent.sandbox import Proposal
from voiceloop.stt.transcript import Transcript


class RecordingConfirmer:
    """A person who answers every write prompt the same way, and remembers what was shown."""

    def __init__(self, answer: bool = True, reason: str = "") -> None:
        self.answer = answer
        self.reason = reason
        self.shown: list[Proposal] = []

    def confirm(self, proposal: Proposal) -> tuple[bool, str]:
        self.shown.append(proposal)
        return self.answer, self.reason


class ScriptedTranscriber:
    """Hears the given sentences in order, one per call (for tests whose input is typed text). Raises when
    asked for more than the script holds, so a test that should never transcribe fails loudly if it does."""

    name = "scripted"

    def __init__(self, texts: Iterable[str] = (), avg_logprob: float = -0.2) -> None:
        self.texts = list(texts)
        self.avg_logprob = avg_logprob
        self.calls = 0
        self.hinted: list[str] = []
        """The file names the assistant last told the transcriber to expect."""

    def hint_files(self, files: Sequence[str]) -> None:
        self.hinted = list(files)

    def transcribe(self, samples: np.ndarray) -> Transcript:
        if self.calls >= len(self.texts):
            raise AssertionError(f"transcribe() called {self.calls + 1} times; the script has {len(self.texts)}")
        text = self.texts[self.calls]
        self.calls += 1
        return Transcript(text, self.avg_logprob, 0.01, 0.0)
