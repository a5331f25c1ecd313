"""HTTP for the LLM clients: one session per thread (requests.Session is not thread-safe, and a turn, the
early start and a warm-up may talk to the server at the same time), connections that report their sockets
to the answer deadline, no redirect to another server, and reads capped while the bytes arrive."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin

import requests
import urllib3
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from voiceloop.errors import LLMError
from voiceloop.llm.address import origin, origin_text
from voiceloop.llm.deadline import AnswerDeadline, Fired, attach

MAX_LINE_BYTES = 1_000_000
"""One line of a streamed answer: a token or a few from every server we know (under 1 KB). A longer line is
a broken or hostile server, refused as its bytes arrive rather than held whole in memory."""
MAX_BODY_BYTES = 8_000_000
"""A whole non-streamed answer (/api/tags, /v1/models); real ones are kilobytes."""
ERROR_BODY_BYTES = 64_000
"""How much of an error page is read: its first 200 characters are all that is shown."""
_READ_BYTES = 512  # per read of a stream: small, so each token is passed on as it arrives


class _Connection(HTTPConnection):
    """Reports its socket to this thread's answer deadline: when opened, and when reused for a request."""

    def _new_conn(self) -> Any:
        sock = super()._new_conn()
        attach(sock)  # before any TLS handshake, which a hostile server could trickle too
        return sock

    def connect(self) -> None:
        super().connect()
        attach(self.sock)

    def request(self, *args: Any, **kwargs: Any) -> None:
        attach(self.sock)  # a kept-alive connection opens no new socket
        super().request(*args, **kwargs)


class _TLSConnection(HTTPSConnection):
    def _new_conn(self) -> Any:
        sock = super()._new_conn()
        attach(sock)
        return sock

    def connect(self) -> None:
        super().connect()
        attach(self.sock)  # the TLS socket: the plain one it wraps is detached by now

    def request(self, *args: Any, **kwargs: Any) -> None:
        attach(self.sock)
        super().request(*args, **kwargs)


class _Pool(HTTPConnectionPool):
    ConnectionCls = _Connection


class _TLSPool(HTTPSConnectionPool):
    ConnectionCls = _TLSConnection


class _Adapter(HTTPAdapter):
    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _Pool, "https": _TLSPool}


class _Session(requests.Session):
    """A session that follows a redirect only within the same server (scheme, host and port)."""

    def get_redirect_target(self, resp: requests.Response) -> str | None:
        target = super().get_redirect_target(resp)
        if target is not None and origin(urljoin(resp.url, target)) != origin(resp.url):
            resp.close()
            # a 307 would post the whole chat (system prompt and what was heard) to wherever it points
            raise LLMError(
                f"{origin_text(resp.url)} redirected the request to {origin_text(urljoin(resp.url, target))}; "
                "voiceloop sends nothing to another server: set llm.host (or OLLAMA_HOST) to the server's own address"
            )
        return target


class ThreadSessions:
    """Hands each thread its own session, all with the same headers and no system proxy."""

    def __init__(self) -> None:
        self.headers: dict[str, str] = {}
        """Sent on every request from every thread (e.g. Authorization)."""
        self._local = threading.local()

    def get(self) -> requests.Session:
        session: requests.Session | None = getattr(self._local, "session", None)
        if session is None:
            session = _Session()
            session.trust_env = False  # never send our audio's words through a system proxy
            session.mount("http://", _Adapter())
            session.mount("https://", _Adapter())
            self._local.session = session
        session.headers.update(self.headers)
        return session


@dataclass(frozen=True)
class Reply:
    """A whole, small HTTP answer, read under the deadline and the size cap."""

    status: int
    """The HTTP status code."""
    reason: str
    """The status line's words ("Not Found")."""
    body: bytes
    """The body, at most the cap it was read with."""

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    def json(self) -> Any:
        """The body as JSON; ValueError if it is not."""
        return json.loads(self.body)


def head(resp: requests.Response, limit: int) -> bytes:
    """At most limit + 1 bytes of the body (one more than allowed tells the caller it is too long)."""
    data = bytearray()
    for piece in resp.iter_content(64 * 1024):
        data += piece
        if len(data) > limit:
            break
    return bytes(data[: limit + 1])


def reply_of(resp: requests.Response, limit: int = ERROR_BODY_BYTES) -> Reply:
    """The response with (the start of) its body, e.g. an error page."""
    return Reply(resp.status_code, str(resp.reason or ""), head(resp, limit)[:limit])


def lines(resp: requests.Response, too_long: LLMError) -> Iterator[bytes]:
    """The body's lines as they arrive (\\n, \\r\\n or \\r ends one; blank ones come out empty). A line
    growing past MAX_LINE_BYTES raises too_long at once, however far it is from its end."""
    pending = bytearray()
    for data in resp.iter_content(_READ_BYTES):
        *ended, rest = data.replace(b"\r", b"\n").split(b"\n")
        for part in ended:
            pending += part
            if len(pending) > MAX_LINE_BYTES:
                raise too_long
            yield bytes(pending)
            pending.clear()
        pending += rest
        if len(pending) > MAX_LINE_BYTES:
            raise too_long
    if pending:
        yield bytes(pending)


def too_long_line(who: str) -> LLMError:
    return LLMError(
        f"{who} sent one stream line over {MAX_LINE_BYTES // 1_000_000} MB (a token is a few bytes); stopped "
        "reading it: the server is broken or is not what llm.backend says"
    )


def late_error(who: str, answer_timeout_s: float) -> LLMError:
    """The whole answer took longer than llm.answer_timeout_s (a server trickling bytes never times out per read)."""
    return LLMError(
        f"{who} was still answering after {answer_timeout_s:.0f} s (llm.answer_timeout_s); it is stuck "
        "or too slow: try again, use a smaller model, or raise llm.answer_timeout_s"
    )


def cut_short(deadline: AnswerDeadline, who: str) -> LLMError | None:
    """The error to report when the deadline ended the request (late, or the session stopping), else None."""
    if deadline.fired is Fired.LATE:
        return late_error(who, deadline.seconds)
    if deadline.fired is Fired.STOPPED:
        return LLMError(f"stopped waiting for {who}: voiceloop is stopping")
    return None


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
    base: str,
    path: str,
    timeout: tuple[float, float],
    deadline: AnswerDeadline,
    who: str,
    errors: tuple[LLMError, LLMError],
) -> Reply:
    """GET base + path and read the whole body (at most MAX_BODY_BYTES) under one deadline, armed before connecting.
    errors: (timed out, not running), raised when the server stays silent past the timeout or nothing answers."""
    timed_out, not_running = errors
    try:
        with deadline, http.get().get(base + path, timeout=timeout, stream=True) as resp:
            body = head(resp, MAX_BODY_BYTES)
            status, reason = resp.status_code, str(resp.reason or "")
    except requests.RequestException as e:
        raise (cut_short(deadline, who) or (timed_out if isinstance(e, requests.Timeout) else not_running)) from e
    cut = cut_short(deadline, who)  # a body without a length just ends when the deadline shuts the socket
    if cut is not None:
        raise cut
    if len(body) > MAX_BODY_BYTES:
        raise LLMError(f"{who} sent over {MAX_BODY_BYTES // 1_000_000} MB for {path}; is llm.host a model server?")
    if status != 200:
        return Reply(status, reason, body[:ERROR_BODY_BYTES])
    return Reply(status, reason, body)
