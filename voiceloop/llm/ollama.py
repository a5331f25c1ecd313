"""Ollama REST client (requests): streamed /api/chat, /api/tags, /api/version, with typed errors."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import requests

from voiceloop.errors import LLMError
from voiceloop.llm.deadline import MAX_ANSWER_CHARS, AnswerDeadline
from voiceloop.llm.http import ThreadSessions, fetch_whole, late_error, transport_error

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


class LLMClient(Protocol):
    """What Assistant and Tools need from a chat server (Ollama or OpenAI-compatible)."""

    host: str
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
    ) -> None:
        self.host = host.rstrip("/")
        self.model = model
        self.timeout = (connect_timeout_s, read_timeout_s)
        self.answer_timeout_s = answer_timeout_s
        """The longest one request may take as a whole, however the server trickles its answer."""
        self.keep_alive = keep_alive
        self.http = ThreadSessions()
        """Each thread (turn, early start, warm-up) gets its own connection pool."""

    def _not_running(self, e: Exception | None = None) -> LLMError:
        return LLMError(
            f"Ollama is not running at {self.host}: start it with `ollama serve` (or set llm.host / OLLAMA_HOST)"
        )

    def _late(self) -> LLMError:
        return late_error("Ollama", self.answer_timeout_s)

    def _transport_error(self, e: Exception, started: bool) -> LLMError:
        return transport_error(e, started, "Ollama", self.timeout[1], self._not_running(e))

    def _http_error(self, resp: requests.Response, model: str) -> LLMError:
        try:
            msg = str(resp.json().get("error", "")).strip()
        except ValueError:
            msg = resp.text.strip()[:200]
        if resp.status_code == 404 and ("not found" in msg or "pull" in msg or not msg):
            return LLMError(f"model {model!r} is not pulled: run `ollama pull {model}`")
        return LLMError(f"Ollama answered HTTP {resp.status_code}: {msg or resp.reason}")

    def _get(self, path: str) -> Any:
        silent = LLMError(f"Ollama at {self.host} did not answer {path} in time")
        errors = (self._late(), silent, self._not_running())
        resp = fetch_whole(self.http, self.host + path, self.timeout, self.answer_timeout_s, errors)
        if resp.status_code != 200:
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
        t0 = time.perf_counter()
        first: float | None = None
        pieces: list[str] = []
        size = 0
        deadline = AnswerDeadline(self.answer_timeout_s)
        try:
            with (
                deadline,
                self.http.get().post(self.host + "/api/chat", json=body, stream=True, timeout=self.timeout) as resp,
            ):
                deadline.watch(resp)
                if resp.status_code != 200:
                    raise self._http_error(resp, model)
                done = False
                for line in resp.iter_lines():
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
                    piece = str((chunk.get("message") or {}).get("content") or "")
                    if piece:
                        if first is None:
                            first = time.perf_counter() - t0
                        size += len(piece)
                        if size > MAX_ANSWER_CHARS:
                            raise LLMError(f"Ollama sent an answer over {MAX_ANSWER_CHARS:,} characters; stopped it")
                        pieces.append(piece)
                        if on_token:
                            on_token(piece)
                    if chunk.get("done"):
                        done = True
                        break
                if deadline.expired.is_set():
                    raise self._late()
                if not done:
                    raise LLMError("Ollama closed the stream before the answer was done; try again")
        except (requests.Timeout, requests.ConnectionError, requests.exceptions.ChunkedEncodingError) as e:
            if deadline.expired.is_set():
                raise self._late() from e
            raise self._transport_error(e, started=bool(pieces)) from e
        total = time.perf_counter() - t0
        return ChatResult("".join(pieces), model, first if first is not None else total, total)
