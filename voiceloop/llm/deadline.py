"""One deadline for a whole streamed answer. A read timeout alone never fires on a server that sends a
byte, or a blank line, every few seconds; this closes the socket when the answer as a whole is late."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from typing import Any

import requests

MAX_ANSWER_CHARS = 2_000_000
"""An answer longer than this is a broken server, not a reply (the largest file voiceloop writes is 2 MB)."""


def _socket_of(resp: requests.Response) -> socket.socket | None:
    raw: Any = resp.raw
    conn = getattr(raw, "_connection", None) or getattr(raw, "connection", None)
    sock = getattr(conn, "sock", None)
    if sock is None:  # older urllib3: through http.client's file object
        fp = getattr(getattr(raw, "_fp", None), "fp", None)
        sock = getattr(getattr(fp, "raw", None), "_sock", None)
    return sock if isinstance(sock, socket.socket) else None


class AnswerDeadline:
    """Shuts the response's socket down when `seconds` have passed, which ends any blocked read at once.

    Use as a context manager around reading the stream; `expired` says whether it fired, so the caller
    can report the deadline rather than the dropped connection it causes.
    """

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.started = time.perf_counter()
        """The deadline counts from here: the request is sent just after."""
        self.expired = threading.Event()
        self._timer: threading.Timer | None = None

    def watch(self, resp: requests.Response) -> None:
        """Arm the deadline on resp's connection (call as soon as the headers are in)."""
        sock = _socket_of(resp)

        def fire() -> None:
            self.expired.set()
            if sock is not None:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
            else:  # no socket to reach: closing the response is the next best thing
                resp.close()

        self._timer = threading.Timer(max(0.0, self.seconds - (time.perf_counter() - self.started)), fire)
        self._timer.daemon = True
        self._timer.start()

    def __enter__(self) -> AnswerDeadline:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._timer is not None:
            self._timer.cancel()
