"""Early start: begin a turn's work at a short pause instead of waiting out the whole silence timer.

When the person has been quiet for `vad.early_start_ms` (well below `vad.silence_ms`), the audio so far
is transcribed and classified on one worker thread. If they stay quiet, the finished utterance holds
exactly that audio and the turn starts with its transcript and intents already known. If they talk
again, the result is thrown away. Only work without side effects is done early: transcription and the
intent call. Nothing is written, confirmed or spoken before the utterance has really ended.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from typing import Generic, TypeVar

import numpy as np

from voiceloop.audio.vad import Segmenter, Utterance

T = TypeVar("T")
JOIN_STEP_S = 0.1  # short waits, so Ctrl-C is seen at once
MAX_WAIT_S = 120.0  # an early job that hangs this long is given up on; the turn does the work itself


class EarlyStart(Generic[T]):
    """Watches the segmenter after every frame; take() hands over the head start for a finished utterance."""

    def __init__(self, work: Callable[[np.ndarray], T], after_ms: int, frame_ms: int) -> None:
        self.work = work
        self.after_frames = max(1, math.ceil(after_ms / frame_ms))
        self.started = 0
        """Early jobs begun."""
        self.used = 0
        """Turns that started with an early result."""
        self.wasted = 0
        """Early jobs thrown away because the person went on talking."""
        self._samples: np.ndarray | None = None
        self._result: T | None = None
        self._thread: threading.Thread | None = None

    def watch(self, segmenter: Segmenter) -> None:
        """Call after each frame that did not end an utterance."""
        run = segmenter.silence_frames
        if self._samples is not None and run < self.after_frames:  # they spoke again: stale
            self.discard()
            self.wasted += 1
        if run != self.after_frames or self._samples is not None or self._busy():
            return
        samples = segmenter.peek()
        if samples is None:
            return
        self._samples, self._result = samples, None
        self._thread = threading.Thread(target=self._run, args=(samples,), name="voiceloop-early", daemon=True)
        self._thread.start()
        self.started += 1

    def take(self, utt: Utterance) -> T | None:
        """The early result for this utterance, waiting for it if needed; None when there is none."""
        samples, thread = self._samples, self._thread
        if samples is None or thread is None or not np.array_equal(samples, utt.samples):
            self.discard()
            return None
        try:
            for _ in range(int(MAX_WAIT_S / JOIN_STEP_S)):
                if not thread.is_alive():
                    break
                thread.join(JOIN_STEP_S)
            result = self._result if not thread.is_alive() else None
        finally:
            self.discard()
        self.used += result is not None
        return result

    def discard(self) -> None:
        """Forget the pending job (its thread finishes on its own; its result is never used)."""
        self._samples, self._result = None, None

    def _busy(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _run(self, samples: np.ndarray) -> None:
        try:
            result = self.work(samples)
        except Exception:  # the turn will do the work again and report the problem properly
            return
        if self._samples is samples:  # still wanted
            self._result = result
