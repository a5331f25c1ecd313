"""Ollama REST client (requests): streamed /api/chat, /api/tags, /api/version, with typed errors."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import requests

from voiceloop.errors import LLMError
from voiceloop.llm.address import shown
from voiceloop.llm.deadline import MAX_ANSWER_CHARS, AnswerDeadline
from voiceloop.llm.http import (
    Reply,
    ThreadSessions,
    cut_short,
    fetch_whole,
    lines,
    reply_of,
    too_long_line,
    transport_error,
)

Message = dict[str, str]
OnToken = Callable[[str], None]


@dataclass(frozen=True)
class ChatResult:
    """One finished chat answer."""

    content: str
    """The whole answer text."""
    model: str
    """The model that served it."""
    first_token_s: float
    """Seconds from sending the request to the first non-empty token."""
    total_s: float
    """Seconds from sending the request to the end of the stream."""
    prompt_tokens: int | None = None
    """Prompt tokens the server evaluated for it (what its prompt cache did not hold), when it says: llama.cpp's
    server does (timings.prompt_n); Ollama's prompt_eval_count is not that everywhere, so it is not read."""


class Pieces:
    """An answer as it streams in, for every backend: its pieces, when the first came, and a size cap checked as
    the bytes arrive (a broken server's endless answer is refused, not held in memory)."""

    def __init__(self, who: str, on_token: OnToken | None) -> None:
        self.who = who
        self.on_token = on_token
        self.parts: list[str] = []
        self.t0 = time.perf_counter()
        self.first: float | None = None
        self.prompt_tokens: int | None = None
        self._size = 0

    def add(self, piece: str) -> None:
        if not piece:
            return
        if self.first is None:
            self.first = time.perf_counter() - self.t0
        self._size += len(piece)
        if self._size > MAX_ANSWER_CHARS:
            raise LLMError(f"{self.who} sent an answer over {MAX_ANSWER_CHARS:,} characters; stopped it")
        self.parts.append(piece)
        if self.on_token:
            self.on_token(piece)

    def result(self, model: str) -> ChatResult:
        total = time.perf_counter() - self.t0
        first = self.first if self.first is not None else total
        return ChatResult("".join(self.parts), model, first, total, self.prompt_tokens)


class LLMClient(Protocol):
    """What Assistant and Tools need from a chat server (Ollama or OpenAI-compatible)."""

    host: str
    """The server's address as people may see it: any user:password in it is hidden."""
    model: str
    backend: str
    """"ollama", "openai" or "embedded": where the answers come from."""

    def chat(
        self,
        messages: list[Message],
        *,
        fmt: dict[str, Any] | str | None = None,
        options: dict[str, Any] | None = None,
        on_token: OnToken | None = None,
        model: str | None = None,
    ) -> ChatResult:
        """Stream one answer. fmt: a JSON schema or "json"; options: Ollama-style (temperature, num_predict)."""
        ...

    def version(self) -> str: ...

    def models(self) -> list[str]: ...


class OllamaClient:
    """Talks to one Ollama server; every call has connect and read timeouts."""

    backend = "ollama"

    def __init__(
        self,
        host: str,
        model: str,
        *,
        connect_timeout_s: float = 3.0,
        read_timeout_s: float = 60.0,
        keep_alive: str = "30m",
        answer_timeout_s: float = 300.0,
        stop: threading.Event | None = None,
    ) -> None:
        self.url = host.rstrip("/")
        """Where requests go, credentials included (requests sends them as Basic auth); never shown."""
        self.host = shown(self.url)
        self.model = model
        self.timeout = (connect_timeout_s, read_timeout_s)
        self.answer_timeout_s = answer_timeout_s
        """The longest one request may take as a whole, however the server trickles its answer."""
        self.keep_alive = keep_alive
        self.stop = stop
        """The session's stop token (Ctrl-C): setting it ends any request in flight at once."""
        self.http = ThreadSessions()
        """Each thread (turn, early start, warm-up) gets its own connection pool."""

    def _not_running(self, e: Exception | None = None) -> LLMError:
        return LLMError(
            f"Ollama is not running at {self.host}: start it with `ollama serve` (or set llm.host / OLLAMA_HOST)"
        )

    def _deadline(self) -> AnswerDeadline:
        return AnswerDeadline(self.answer_timeout_s, self.stop)

    def _transport_error(self, e: Exception, started: bool) -> LLMError:
        return transport_error(e, started, "Ollama", self.timeout[1], self._not_running(e))

    def _http_error(self, resp: Reply, model: str) -> LLMError:
        try:
            data = resp.json()
            msg = str(data.get("error", "") if isinstance(data, dict) else "").strip()
        except ValueError:
            msg = resp.text.strip()[:200]
        if resp.status == 404 and ("not found" in msg or "pull" in msg or not msg):
            return LLMError(f"model {model!r} is not pulled: run `ollama pull {model}`")
        return LLMError(f"Ollama answered HTTP {resp.status}: {msg or resp.reason}")

    def _get(self, path: str) -> Any:
        silent = LLMError(f"Ollama at {self.host} did not answer {path} in time")
        errors = (silent, self._not_running())
        resp = fetch_whole(self.http, self.url, path, self.timeout, self._deadline(), "Ollama", errors)
        if resp.status != 200:
            raise self._http_error(resp, self.model)
        try:
            return resp.json()
        except ValueError as e:
            raise LLMError(
                f"Ollama at {self.host} sent something that is not JSON for {path}; is it really Ollama?"
            ) from e

    def version(self) -> str:
        return str(self._get("/api/version").get("version", "?"))

    def models(self) -> list[str]:
        """Names of the models the server has pulled."""
        data = self._get("/api/tags")
        return [str(m.get("name") or m.get("model")) for m in data.get("models", []) if isinstance(m, dict)]

    def chat(
        self,
        messages: list[Message],
        *,
        fmt: dict[str, Any] | str | None = None,
        options: dict[str, Any] | None = None,
        on_token: OnToken | None = None,
        model: str | None = None,
    ) -> ChatResult:
        """Stream one /api/chat answer; on_token sees each piece as it arrives."""
        model = model or self.model
        body: dict[str, Any] = {"model": model, "messages": messages, "stream": True, "keep_alive": self.keep_alive}
        if fmt is not None:
            body["format"] = fmt
        if options:
            body["options"] = options
        pieces = Pieces("Ollama", on_token)
        deadline, post = self._deadline(), self.http.get().post
        try:
            with deadline, post(self.url + "/api/chat", json=body, stream=True, timeout=self.timeout) as resp:
                if resp.status_code != 200:
                    raise self._http_error(reply_of(resp), model)
                done = self._read_lines(resp, pieces)
        except (requests.RequestException, LLMError) as e:
            # a deadline that fired is the reason, whatever the cut connection looked like
            cut = cut_short(deadline, "Ollama")
            if cut is not None:
                raise cut from e
            if isinstance(e, LLMError):
                raise
            raise self._transport_error(e, started=bool(pieces.parts)) from e
        cut = cut_short(deadline, "Ollama")
        if cut is not None:
            raise cut
        if not done:
            raise LLMError("Ollama closed the stream before the answer was done; try again")
        return pieces.result(model)

    @staticmethod
    def _read_lines(resp: requests.Response, pieces: Pieces) -> bool:
        """Consume the NDJSON stream into pieces; returns whether it was done properly."""
        for line in lines(resp, too_long_line("Ollama")):
            if not line:
                continue
            try:
                chunk = json.loads(line)
            except ValueError as e:
                raise LLMError("Ollama sent a broken stream line; try again or restart `ollama serve`") from e
            if not isinstance(chunk, dict):
                raise LLMError("Ollama sent an unexpected stream line; is the host really Ollama?")
            if chunk.get("error"):
                raise LLMError(f"Ollama failed mid-answer: {str(chunk['error'])[:200]}")
            pieces.add(str((chunk.get("message") or {}).get("content") or ""))
            if chunk.get("done"):
                return True
        return False
