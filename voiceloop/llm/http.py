"""One HTTP session per thread: requests.Session is not thread-safe, and a turn, the early start and a
warm-up may talk to the LLM server at the same time."""

from __future__ import annotations

import threading

import requests
import urllib3

from voiceloop.errors import LLMError


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


def late_error(who: str, answer_timeout_s: float) -> LLMError:
    """The whole answer took longer than llm.answer_timeout_s (a server trickling bytes never times out per read)."""
    return LLMError(
        f"{who} was still answering after {answer_timeout_s:.0f} s (llm.answer_timeout_s); it is stuck "
        "or too slow: try again, use a smaller model, or raise llm.answer_timeout_s"
    )


def transport_error(e: Exception, started: bool, who: str, read_timeout_s: float, not_running: LLMError) -> LLMError:
    """What a failed request means to the person: silence past the read timeout, a dropped answer, or no server."""
    # requests reports a read timeout inside a stream as a ConnectionError wrapping urllib3's
    inner = e.args[0] if e.args else None
    if isinstance(e, requests.Timeout) or isinstance(inner, urllib3.exceptions.ReadTimeoutError):
        return LLMError(
            f"{who} sent nothing for {read_timeout_s:.0f} s; it may still be loading the model "
            "(raise llm.read_timeout_s) or be stuck"
        )
    if started or isinstance(e, requests.exceptions.ChunkedEncodingError):
        return LLMError(f"{who} dropped the connection mid-answer; try again")
    return not_running
