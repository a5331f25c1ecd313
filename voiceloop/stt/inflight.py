"""Transcriptions running right now, so that the process does not end under one.

A process that exits while CTranslate2 (or torch) is busy on another thread can abort on the way out
(SIGABRT from a native thread pool torn down under it). Ctrl-C while voiceloop is thinking is exactly that:
the early start may be transcribing on a worker thread. Every engine runs its model inside `RUNNING`, and at
exit the interpreter waits, bounded, until none is.
"""

from __future__ import annotations

import atexit
import threading
from collections.abc import Iterator
from contextlib import contextmanager

EXIT_WAIT_S = 10.0  # the longest the process waits at exit for a transcription to finish


class InFlight:
    """Counts the native model calls under way; `wait_idle` returns once there are none (or on timeout)."""

    def __init__(self) -> None:
        self._count = 0
        self._idle = threading.Condition()

    @contextmanager
    def running(self) -> Iterator[None]:
        with self._idle:
            self._count += 1
        try:
            yield
        finally:
            with self._idle:
                self._count -= 1
                self._idle.notify_all()

    @property
    def count(self) -> int:
        with self._idle:
            return self._count

    def wait_idle(self, timeout_s: float = EXIT_WAIT_S) -> bool:
        """True when nothing is running (within timeout_s)."""
        with self._idle:
            return self._idle.wait_for(lambda: self._count == 0, timeout_s)


RUNNING = InFlight()
atexit.register(RUNNING.wait_idle, EXIT_WAIT_S)
