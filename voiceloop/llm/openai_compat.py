"""OpenAI-compatible client (llama.cpp server, vLLM, LM Studio, ...): streamed /v1/chat/completions, /v1/models."""

from __future__ import annotations

import json
import os
import threading
from typing import Any, ClassVar

import requests

from voiceloop.errors import LLMError
from voiceloop.llm.address import shown
from voiceloop.llm.deadline import AnswerDeadline
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
from voiceloop.llm.ollama import ChatResult, Message, OnToken, Pieces

API_KEY_ENV = "VOICELOOP_LLM_API_KEY"
"""Sent as a Bearer token when set (vLLM --api-key, hosted gateways); never read from config.toml."""

# Ollama-style option names (what Assistant and Tools pass) -> OpenAI request fields
_OPTIONS = {
    "temperature": "temperature",
    "top_p": "top_p",
    "num_predict": "max_tokens",
    "stop": "stop",
    "seed": "seed",
    "frequency_penalty": "frequency_penalty",
    "presence_penalty": "presence_penalty",
}


def base_url(host: str) -> str:
    """The server root: users often paste the `/v1` URL their server prints; accept both."""
    host = host.rstrip("/")
    return host[: -len("/v1")] if host.endswith("/v1") else host


def response_format(fmt: dict[str, Any] | str) -> dict[str, Any]:
    """Ollama's `format` (a JSON schema or "json") as an OpenAI response_format."""
    if isinstance(fmt, dict):
        return {"type": "json_schema", "json_schema": {"name": "answer", "schema": fmt}}
    return {"type": "json_object"}


class OpenAIClient:
    """Talks to one OpenAI-compatible server; every call has connect and read timeouts."""

    backend = "openai"
    who = "the LLM server"
    """How errors name the other end."""
    extra_options: ClassVar[dict[str, str]] = {}
    """Ollama-style options this server also takes under its own names (OpenAI itself rejects unknown
    fields, so an unknown server gets only the standard ones)."""

    def __init__(
        self,
        host: str,
        model: str,
        *,
        connect_timeout_s: float = 3.0,
        read_timeout_s: float = 60.0,
        answer_timeout_s: float = 300.0,
        stop: threading.Event | None = None,
    ) -> None:
        self.url = base_url(host)
        """Where requests go, credentials included (requests sends them as Basic auth); never shown."""
        self.host = shown(self.url)
        self.model = model
        self.timeout = (connect_timeout_s, read_timeout_s)
        self.answer_timeout_s = answer_timeout_s
        """The longest one request may take as a whole, however the server trickles its answer."""
        self.stop = stop
        """The session's stop token (Ctrl-C): setting it ends any request in flight at once."""
        self.http = ThreadSessions()
        """Each thread (turn, early start, warm-up) gets its own connection pool."""
        key = os.environ.get(API_KEY_ENV, "").strip()
        if key:
            self.http.headers["Authorization"] = f"Bearer {key}"

    def _not_running(self) -> LLMError:
        return LLMError(
            f"no OpenAI-compatible server is answering at {self.host}: start it (llama.cpp server, vLLM, "
            "LM Studio) or fix llm.host"
        )

    def _deadline(self) -> AnswerDeadline:
        return AnswerDeadline(self.answer_timeout_s, self.stop)

    def _transport_error(self, e: Exception, started: bool) -> LLMError:
        return transport_error(e, started, self.who, self.timeout[1], self._not_running())

    @staticmethod
    def _error_text(payload: Any) -> str:
        """The message in an error body: {"error": {"message"}}, {"error": "..."} or vLLM's {"detail"}."""
        if not isinstance(payload, dict):
            return ""
        err = payload.get("error", payload.get("detail", payload.get("message", "")))
        if isinstance(err, dict):
            err = err.get("message") or err.get("type") or json.dumps(err)[:200]
        return " ".join(str(err).split())[:200]

    def _http_error(self, resp: Reply, path: str, model: str) -> LLMError:
        try:
            msg = self._error_text(resp.json())
        except ValueError:
            msg = " ".join(resp.text.split())[:200]
        low = msg.lower()
        if resp.status in (401, 403):
            return LLMError(f"{self.who} refused the request (HTTP {resp.status}): set {API_KEY_ENV}")
        if resp.status in (400, 404) and "model" in low and ("not" in low or "exist" in low):
            return LLMError(f"model {model!r} is not served at {self.host}: pick one from `voiceloop models` ({msg})")
        if resp.status == 404:
            return LLMError(f"{self.host}{path} does not exist (HTTP 404); is llm.host the server's base URL?")
        return LLMError(f"{self.who} answered HTTP {resp.status}: {msg or resp.reason}")

    def _get(self, path: str) -> Any:
        silent = LLMError(f"{self.who} at {self.host} did not answer {path} in time")
        errors = (silent, self._not_running())
        resp = fetch_whole(self.http, self.url, path, self.timeout, self._deadline(), self.who, errors)
        if resp.status != 200:
            raise self._http_error(resp, path, self.model)
        try:
            return resp.json()
        except ValueError as e:
            raise LLMError(
                f"{self.host} sent something that is not JSON for {path}; is it an OpenAI-compatible server?"
            ) from e

    def version(self) -> str:
        """OpenAI's API has no version call; say what the server calls itself, if anything."""
        data = self._get("/v1/models")
        owners = {str(m.get("owned_by")) for m in data.get("data", []) if isinstance(m, dict) and m.get("owned_by")}
        return "OpenAI API" + (f" ({', '.join(sorted(owners))})" if owners else "")

    def models(self) -> list[str]:
        """Ids of the models the server offers."""
        data = self._get("/v1/models")
        if not isinstance(data, dict) or not isinstance(data.get("data"), list):
            raise LLMError(f"{self.host}/v1/models has no model list; is it an OpenAI-compatible server?")
        return [str(m["id"]) for m in data["data"] if isinstance(m, dict) and m.get("id")]

    def chat(
        self,
        messages: list[Message],
        *,
        fmt: dict[str, Any] | str | None = None,
        options: dict[str, Any] | None = None,
        on_token: OnToken | None = None,
        model: str | None = None,
    ) -> ChatResult:
        """Stream one /v1/chat/completions answer (SSE); on_token sees each piece as it arrives."""
        model = model or self.model
        body: dict[str, Any] = {"model": model, "messages": messages, "stream": True}
        if fmt is not None:
            body["response_format"] = response_format(fmt)
        for key, value in (options or {}).items():
            name = _OPTIONS.get(key) or self.extra_options.get(key)
            if name:
                body[name] = value
        path = "/v1/chat/completions"
        pieces = Pieces(self.who, on_token)
        deadline = self._deadline()
        try:
            with deadline, self.http.get().post(self.url + path, json=body, stream=True, timeout=self.timeout) as resp:
                if resp.status_code != 200:
                    raise self._http_error(reply_of(resp), path, model)
                finished = self._read_events(resp, pieces)
        except (requests.RequestException, LLMError) as e:
            # a deadline that fired is the reason, whatever the cut connection looked like
            cut = cut_short(deadline, self.who)
            if cut is not None:
                raise cut from e
            if isinstance(e, LLMError):
                raise
            raise self._transport_error(e, started=bool(pieces.parts)) from e
        cut = cut_short(deadline, self.who)
        if cut is not None:
            raise cut
        if not finished:
            raise LLMError(f"{self.who} closed the stream before the answer was done; try again")
        return pieces.result(model)

    def _read_events(self, resp: requests.Response, pieces: Pieces) -> bool:
        """Consume the SSE stream into pieces; returns whether it finished properly."""
        finished = False
        for raw in lines(resp, too_long_line(self.who)):
            line = raw.decode("utf-8", "replace").strip()
            if not line or line.startswith(":"):
                continue  # event separator or SSE comment (keep-alive)
            field, _, value = line.partition(":")
            value = value.strip()
            if field == "error":  # llama.cpp's server reports some failures as an `error:` event
                raise LLMError(f"{self.who} failed mid-answer: {self._error_text(_loads(value)) or value[:200]}")
            if field != "data":
                continue
            if value == "[DONE]":
                return True
            chunk = _loads(value)
            if chunk is None:
                raise LLMError(f"{self.who} sent a broken stream line; try again or restart the server")
            if not isinstance(chunk, dict):
                raise LLMError(f"{self.who} sent an unexpected stream line; is it an OpenAI-compatible server?")
            if chunk.get("error"):
                raise LLMError(f"{self.who} failed mid-answer: {self._error_text(chunk)}")
            timings = chunk.get("timings")  # llama.cpp's server: prompt_n is what its prompt cache did not hold
            if isinstance(timings, dict) and isinstance(timings.get("prompt_n"), int):
                pieces.prompt_tokens = timings["prompt_n"]
            for choice in chunk.get("choices") or []:
                if not isinstance(choice, dict):
                    continue
                pieces.add(str((choice.get("delta") or {}).get("content") or ""))
                if choice.get("finish_reason"):
                    finished = True  # some servers end here without a [DONE] line
        return finished


def _loads(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return None
