"""One deadline for a whole answer: connecting, the headers and the body. A read timeout alone never fires
on a server that trickles a byte every few seconds, in its headers or in its body; this shuts the request's
socket down when the answer as a whole is late, or as soon as the session's stop token is set (Ctrl-C).

The socket is found through the connection classes in llm/http.py: each reports every socket it opens or
reuses to the deadline armed on its thread (`attach`), so the deadline is armed before the request is sent.
"""

from __future__ import annotations

import contextlib
import enum
import socket
import threading
import time
from typing import Any

from voiceloop.runtime import spawn

MAX_ANSWER_CHARS = 2_000_000
"""An answer longer than this is a broken server, not a reply (the largest file voiceloop writes is 2 MB)."""

STOP_POLL_S = 0.1
"""How often a deadline looks at the stop token: Ctrl-C ends a stuck answer within this."""

_armed = threading.local()  # the deadline of the request this thread is making, if any


class Fired(enum.Enum):
    """Why a deadline cut its request short."""

    LATE = "late"
    STOPPED = "stopped"


class AnswerDeadline:
    """Shuts down the sockets of the requests made on this thread inside `with` once `seconds` have passed
    since it was made, or once `stop` is set; any blocked connect, header or body read then ends at once.

    `fired` says whether and why, so the caller can report that rather than the dropped connection it causes.
    """

    def __init__(self, seconds: float, stop: threading.Event | None = None) -> None:
        self.seconds = seconds
        self.stop = stop
        self.started = time.monotonic()
        """The deadline counts from here: the request is sent just after."""
        self.fired: Fired | None = None
        self._socks: list[socket.socket] = []
        self._lock = threading.Lock()
        self._done = threading.Event()
        self._outer: AnswerDeadline | None = None

    def attach(self, sock: socket.socket | None) -> None:
        """Watch sock (a fresh connection, or a reused one); shut it now if the deadline already fired."""
        if sock is None:
            return
        with self._lock:
            self._socks.append(sock)
            fired = self.fired is not None
        if fired:
            _shut(sock)

    def _fire(self, why: Fired) -> None:
        with self._lock:
            if self.fired is not None:
                return
            self.fired = why
            socks = list(self._socks)
        for sock in socks:
            _shut(sock)

    def _watch(self) -> None:
        while not self._done.is_set():
            left = self.seconds - (time.monotonic() - self.started)
            if left <= 0:
                self._fire(Fired.LATE)
                return
            if self._done.wait(left if self.stop is None else min(left, STOP_POLL_S)):
                return
            if self.stop is not None and self.stop.is_set():
                self._fire(Fired.STOPPED)
                return

    def __enter__(self) -> AnswerDeadline:
        self._outer = getattr(_armed, "deadline", None)
        _armed.deadline = self
        spawn("llm-answer-deadline", self._watch)
        return self

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        _armed.deadline = self._outer


def attach(sock: Any) -> None:
    """Report a socket this thread's request opened or reuses to the deadline armed on this thread."""
    deadline: AnswerDeadline | None = getattr(_armed, "deadline", None)
    if deadline is not None and isinstance(sock, socket.socket):
        deadline.attach(sock)


def _shut(sock: socket.socket) -> None:
    # the plain socket's shutdown, also for TLS: SSLSocket.shutdown would drop its TLS state under the
    # reading thread's feet; this only ends the blocked read, which then fails as a dropped connection
    with contextlib.suppress(OSError):
        socket.socket.shutdown(sock, socket.SHUT_RDWR)
