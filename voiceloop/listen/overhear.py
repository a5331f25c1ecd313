"""Listening while a turn is thinking: speech that starts after your sentence ended, before voiceloop's
reply is heard, is kept and becomes the next turn, and the reply waits while you are still talking.

Without it the microphone is deaf for the whole turn, so a second question asked while the first one is
being answered is lost, or heard cut short. Only the time before the reply plays is covered: while
voiceloop speaks, the microphone hears its own voice, and that stays barge-in's business.
"""

from __future__ import annotations

import threading
import time

import numpy as np

from voiceloop.audio.bus import Tap
from voiceloop.audio.frames import FrameChunker
from voiceloop.audio.vad import Segmenter, SegState, Utterance
from voiceloop.errors import AudioDeviceError
from voiceloop.runtime import spawn

READ_S = 0.05
JOIN_S = 2.0


class Overhear:
    """Feeds the listener's own segmenter from its tap of the capture bus on a worker thread while a turn runs.

    start() when the turn starts; settle() before the reply plays (waits, bounded, while the person is
    talking, then stops listening); stop() when the turn ends or the microphone is lent to the write prompt.
    Afterwards `heard` holds the whole utterances said meanwhile, and `in_progress` tells that one had begun
    and not ended: the listen loop goes on feeding the same segmenter, so it ends as a turn of its own.
    """

    def __init__(self, tap: Tap, segmenter: Segmenter, stop: threading.Event) -> None:
        self.tap = tap
        self.segmenter = segmenter
        self.frames = FrameChunker(segmenter.frame_samples)
        self.stop_token = stop
        self.heard: list[Utterance] = []
        self.talking = threading.Event()
        """Set while the person is speaking (the segmenter is inside an utterance)."""
        self._done = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = spawn("voiceloop-overhear", self._run)

    @property
    def in_progress(self) -> bool:
        """Speech had begun and not ended when listening stopped (valid after stop())."""
        return self.segmenter.state is SegState.SPEECH

    def settle(self, max_wait_s: float) -> None:
        """Wait while the person is talking (at most max_wait_s), then stop listening."""
        deadline = time.monotonic() + max_wait_s
        while self.talking.is_set() and time.monotonic() < deadline and not self.stop_token.is_set():
            self._done.wait(READ_S)
        self.stop()

    def stop(self) -> None:
        """Stop listening (bounded join); what its tap was handed and the worker had not read yet is fed too,
        so the listen loop's tap, switched on in the same step as this one was switched off, goes on from there."""
        if self._done.is_set():
            return
        self._done.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(JOIN_S)
            if not self._thread.is_alive():
                for chunk in self.tap.take_all():
                    self._hear(chunk.samples)
        self.tap.close()

    def _run(self) -> None:
        while not self._done.is_set() and not self.stop_token.is_set():
            try:
                chunk = self.tap.read(READ_S)
            except AudioDeviceError:
                return  # the listen loop notices and recovers
            if chunk is not None:
                self._hear(chunk)

    def _hear(self, chunk: np.ndarray) -> None:
        for frame in self.frames.push(chunk):
            utt = self.segmenter.feed(frame)
            if utt is not None and not utt.clipped:
                self.heard.append(utt)
            if self.segmenter.state is SegState.SPEECH:
                self.talking.set()
            else:
                self.talking.clear()
