"""One HTTP session per thread: requests.Session is not thread-safe, and a turn, the early start and a
warm-up may talk to the LLM server at the same time."""

from __future__ import annotations

import threading

import requests
import urllib3

from voiceloop.errors import LLMError
from voiceloop.llm.deadline import AnswerDeadline


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


def fetch_whole(
    http: ThreadSessions,
    url: str,
    timeout: tuple[float, float],
    deadline_s: float,
    errors: tuple[LLMError, LLMError, LLMError],
) -> requests.Response:
    """GET url and read the whole body under one deadline. errors: (late, timed out, not running), raised
    when the deadline passes, when the server stays silent past the timeout, or when nothing answers."""
    late, timed_out, not_running = errors
    deadline = AnswerDeadline(deadline_s)
    try:
        with deadline, http.get().get(url, timeout=timeout, stream=True) as resp:
            deadline.watch(resp)
            resp.content  # noqa: B018 - read the whole body while the deadline is armed
    except requests.RequestException as e:
        if deadline.expired.is_set():
            raise late from e
        raise (timed_out if isinstance(e, requests.Timeout) else not_running) from e
    return resp
