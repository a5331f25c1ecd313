"""One HTTP session per thread: requests.Session is not thread-safe, and a turn, the early start and a
warm-up may talk to the LLM server at the same time."""

from __future__ import annotations

import threading

import requests


class ThreadSessions:
    """Hands each thread its own requests.Session, all with the same headers and no system proxy."""

    def __init__(self) -> None:
        self.headers: dict[str, str] = {}
        """Sent on every request from every thread (e.g. Authorization)."""
        self._local = threading.local()

    def get(self) -> requests.Session:
        session: requests.Session | None = getattr(self._local, "session", None)
        if session is None:
            session = requests.Session()
            session.trust_env = False  # never send our audio's words through a system proxy
            self._local.session = session
        session.headers.update(self.headers)
        return session
