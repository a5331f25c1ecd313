"""The one concurrency model: a stop token every worker watches, and one owner for their threads.

Workers are plain daemon threads started through Runtime.spawn. Each takes the shared `stop` Event and
waits on it (or on anything else) only with timeouts, so setting it ends them promptly. Ctrl-C and
SIGTERM go through `install_signals`: the token is set first (every worker sees it), then the main thread
is interrupted, and `shutdown` joins what is left with one overall bound.
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable
from types import FrameType
from typing import Any

SHUTDOWN_S = 1.0  # the longest `listen` waits for its workers once stopped


class Runtime:
    """Owns the stop token and every background thread started through it."""

    def __init__(self) -> None:
        self.stop = threading.Event()
        """Set once, by a signal or by whoever ends the session; never cleared."""
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()

    def spawn(self, name: str, target: Callable[..., Any], *args: Any) -> threading.Thread:
        """Start a daemon thread owned here (it must watch `stop` in its own waits)."""
        thread = threading.Thread(target=target, args=args, name=name, daemon=True)
        with self._lock:
            self._threads = [t for t in self._threads if t.is_alive()]
            self._threads.append(thread)
        thread.start()
        return thread

    def alive(self) -> list[str]:
        """Names of the owned threads still running."""
        with self._lock:
            return [t.name for t in self._threads if t.is_alive()]

    def shutdown(self, timeout_s: float = SHUTDOWN_S) -> list[str]:
        """Set the stop token and join every owned thread within timeout_s overall; names still running."""
        self.stop.set()
        deadline = time.monotonic() + timeout_s
        with self._lock:
            threads = list(self._threads)
        for t in threads:
            t.join(max(0.0, deadline - time.monotonic()))
        return [t.name for t in threads if t.is_alive()]


RUNTIME = Runtime()
"""The process's owner of every worker thread (speech, barge-in, early start, warm-ups): `listen` installs the
signals on it and shuts it down on the way out; workers watch RUNTIME.stop besides their own cancel events."""


def spawn(name: str, target: Callable[..., Any], *args: Any) -> threading.Thread:
    """Start a worker owned by the process's Runtime."""
    return RUNTIME.spawn(name, target, *args)


def install_signals(runtime: Runtime) -> None:
    """Ctrl-C and SIGTERM set the stop token, then interrupt the main thread (it may be in a blocking call)."""

    def _stop(signum: int, frame: FrameType | None) -> None:
        runtime.stop.set()
        raise KeyboardInterrupt

    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
