"""Early start: begin a turn's work at a short pause instead of waiting out the whole silence timer.

When the person has been quiet for `vad.early_start_ms`, the audio so far is handed to a worker thread
(transcription, the intent call, and for a question the reply itself: listen/speculate.py). If they stay
quiet, the finished utterance holds exactly that audio and the turn starts with that work done or under
way. If they talk again, the job is cancelled: its token is set, so its LLM stream is closed at the next
chunk instead of running to its end. Only work without side effects is done early: nothing is written,
confirmed or spoken before the utterance has really ended.
"""

from __future__ import annotations

import contextlib
import math
import threading
from collections.abc import Callable
from typing import Generic, TypeVar

import numpy as np

from voiceloop.audio.formats import ms_to_samples
from voiceloop.audio.vad import KEEP_TAIL_MS, Segmenter, SegState, Utterance
from voiceloop.runtime import spawn

T = TypeVar("T")
JOIN_STEP_S = 0.1  # short waits, so Ctrl-C is seen at once
MAX_WAIT_S = 120.0  # default: an early job that hangs this long is given up on; the turn does the work itself
WARM_EVERY_MS = 600  # while the person talks: speech between two warmings of the model (listen/warm.py)


def same_speech(early: np.ndarray, final: np.ndarray) -> bool:
    """The finished utterance holds the early job's audio, and after it silence only: the segmenter keeps up to
    KEEP_TAIL_MS of the quiet after the last word, so a job started at a shorter pause saw part of that tail
    (had speech come back in the rest, the job would have been dropped)."""
    extra = len(final) - len(early)
    return 0 <= extra <= ms_to_samples(KEEP_TAIL_MS) and np.array_equal(final[: len(early)], early)


class Job:
    """One early job: its audio, its cancel token, and the transcript once the worker has it."""

    def __init__(self, samples: np.ndarray) -> None:
        self.samples = samples
        self.cancel = threading.Event()
        """Set when the job became stale (speech resumed) or was given up; the worker stops at its next check."""
        self.heard: str | None = None
        """The transcript of `samples`, set by the worker as soon as it is known (the end-of-turn policy reads it)."""
        self.result: object = None
        self.thread: threading.Thread | None = None
        self.asked_at: float | None = None
        """perf_counter() when its LLM request went out (warming: None if it sent none)."""
        self.answered_at: float | None = None
        """perf_counter() when that request's answer was back."""


def _running(job: Job | None) -> bool:
    return job is not None and job.thread is not None and job.thread.is_alive()


class EarlyStart(Generic[T]):
    """Watches the segmenter after every frame; take() hands over the head start for a finished utterance.

    work(samples, job) runs on a worker thread; it should set job.heard when it has the transcript and stop
    when job.cancel is set. warm(samples, job), when given, runs on a worker every `warm_every_ms` of speech
    while the person is still talking, one at a time, never beside an early job; its result is not kept, and
    it is cancelled when the pause starts an early job.
    """

    def __init__(
        self,
        work: Callable[[np.ndarray, Job], T],
        after_ms: int,
        frame_ms: int,
        max_wait_s: float = MAX_WAIT_S,
        warm: Callable[[np.ndarray, Job], object] | None = None,
        warm_every_ms: int = WARM_EVERY_MS,
    ) -> None:
        self.work = work
        self.warm = warm
        self.warm_frames = max(1, math.ceil(warm_every_ms / frame_ms))
        self.warmed = 0
        """Warmings begun."""
        self._warming: Job | None = None
        self._talked = 0  # frames of the utterance under way since the last warming began
        self.max_wait_s = max_wait_s
        """How long take() waits for a job: longer than the job's own deadlines, so it is never asked twice."""
        self.after_frames = max(1, math.ceil(after_ms / frame_ms))
        self.started = 0
        """Early jobs begun."""
        self.used = 0
        """Turns that started with an early result."""
        self.wasted = 0
        """Early jobs thrown away because the person went on talking."""
        self._job: Job | None = None
        self._last: Job | None = None  # the newest job, pending or not: while it runs no second one starts

    def watch(self, segmenter: Segmenter) -> None:
        """Call after each frame that did not end an utterance."""
        run = segmenter.silence_frames
        if self._job is not None and run < self.after_frames:  # they spoke again: stale
            self.discard()
            self.wasted += 1
        if self.warm is not None:
            self._maybe_warm(segmenter, run)
        if run < self.after_frames or self._job is not None or self._busy():  # late is better than never
            return
        samples = segmenter.peek()
        if samples is None:
            return
        if self._warming is not None:  # the pause: the early job's request goes first
            self._warming.cancel.set()
        job = Job(samples)
        self._job = self._last = job
        job.thread = spawn("voiceloop-early", self._run, job)
        self.started += 1

    @property
    def last_warming(self) -> Job | None:
        """The newest warming job (its request's times show whether it ran into the pause)."""
        return self._warming

    def heard(self) -> str | None:
        """The pending job's transcript, once known (None: no job, or not transcribed yet)."""
        job = self._job
        return job.heard if job is not None else None

    def settle(self, timeout_s: float) -> None:
        """Wait (bounded) for the newest job to finish: replays that want its words known at once."""
        job = self._last
        if job is not None and job.thread is not None:
            job.thread.join(timeout_s)

    def take(self, utt: Utterance) -> T | None:
        """The early result for this utterance, waiting for it if needed; None when there is none."""
        job = self._job
        self._job = None
        if job is None or job.thread is None or not same_speech(job.samples, utt.samples):
            if job is not None:
                job.cancel.set()
            return None
        for _ in range(int(self.max_wait_s / JOIN_STEP_S)):
            if not job.thread.is_alive():
                break
            job.thread.join(JOIN_STEP_S)
        if job.thread.is_alive():
            job.cancel.set()
            return None
        result: T | None = job.result  # type: ignore[assignment]
        self.used += result is not None
        return result

    def discard(self) -> None:
        """Forget the pending job and cancel it (its thread stops at its next check; its result is never used)."""
        job, self._job = self._job, None
        if job is not None:
            job.cancel.set()

    def _maybe_warm(self, segmenter: Segmenter, run: int) -> None:
        assert self.warm is not None
        if segmenter.state is not SegState.SPEECH:
            self._talked = 0
            return
        self._talked += 1
        if run or self._talked < self.warm_frames or _running(self._warming) or self._job is not None or self._busy():
            return
        samples = segmenter.peek()
        if samples is None:
            return
        self._talked = 0
        job = self._warming = Job(samples)
        job.thread = spawn("voiceloop-warm", self._run_warm, job)
        self.warmed += 1

    def _run_warm(self, job: Job) -> None:
        assert self.warm is not None
        with contextlib.suppress(Exception):  # warming is a bonus: whatever fails here, the turn does properly
            self.warm(job.samples, job)

    def _busy(self) -> bool:
        return _running(self._last)

    def _run(self, job: Job) -> None:
        try:
            result = self.work(job.samples, job)
        except Exception:  # the turn will do the work again and report the problem properly
            return
        if not job.cancel.is_set():  # still wanted
            job.result = result
