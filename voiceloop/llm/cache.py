"""A bounded cache for repeated LLM requests whose answer cannot change, as a wrapper around any LLMClient.

The rule: an answer is reused only for a *stateless* call — one of the fixed openings below (the
system prompt to write code, summarize, or classify, with the classifier's fixed few-shot examples)
followed by nothing but the request (with the session's file log, for the classifier). Such a call
depends only on its messages, format and options, which with the server and model make the key.
Anything with history or a retry, or an opening we do not know (chat: "what time is it", "what did
I just write"), goes to the server every time.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from voiceloop.llm.ollama import ChatResult, LLMClient, Message, OnToken
from voiceloop.llm.passthrough import PassThrough

Prefix = tuple[tuple[str, str], ...]


def prefix_of(messages: list[Message]) -> Prefix:
    """A call's opening (every message but the request) as a hashable key."""
    return tuple((m.get("role", ""), m.get("content", "")) for m in messages)


def is_stateless(messages: list[Message], prompts: frozenset[Prefix]) -> bool:
    """True for [a fixed opening we know, the user's request] and nothing else (no history, no retry)."""
    return len(messages) >= 2 and messages[-1].get("role") == "user" and prefix_of(messages[:-1]) in prompts


@dataclass(frozen=True)
class CacheStats:
    """What the cache did so far."""

    hits: int
    """Calls answered from the cache."""
    misses: int
    """Stateless calls that went to the server (and were stored)."""
    bypassed: int
    """Calls the rule keeps away from the cache (chat, history, retries)."""
    entries: int
    """Answers held now."""
    saved_s: float
    """Server seconds the hits would have cost (each stored answer's own time)."""

    def to_json(self) -> dict[str, Any]:
        return {
            "hits": self.hits,
            "misses": self.misses,
            "bypassed": self.bypassed,
            "entries": self.entries,
            "saved_s": round(self.saved_s, 3),
        }


class CachingLLM(PassThrough):
    """An LLMClient that answers repeated stateless requests from memory (least recently used dropped)."""

    def __init__(self, inner: LLMClient, prompts: frozenset[Prefix], max_entries: int = 64) -> None:
        """prompts: the fixed openings of calls whose answer depends only on the request (the agent knows them)."""
        if max_entries < 1:
            raise ValueError("max_entries must be at least 1 (leave the client unwrapped to turn caching off)")
        super().__init__(inner)
        self.max_entries = max_entries
        self._prompts = prompts
        self._store: OrderedDict[str, ChatResult] = OrderedDict()
        self._lock = threading.Lock()
        self._hits = self._misses = self._bypassed = 0
        self._saved_s = 0.0

    def _key(self, messages: list[Message], fmt: Any, options: dict[str, Any] | None, model: str) -> str:
        blob = json.dumps(
            {"host": self.host, "model": model, "messages": messages, "format": fmt, "options": options or {}},
            sort_keys=True,
            ensure_ascii=False,
        )
        return hashlib.sha256(blob.encode("utf-8")).hexdigest()

    def chat(
        self,
        messages: list[Message],
        *,
        fmt: dict[str, Any] | str | None = None,
        options: dict[str, Any] | None = None,
        on_token: OnToken | None = None,
        model: str | None = None,
    ) -> ChatResult:
        model = model or self.model
        if not is_stateless(messages, self._prompts):
            with self._lock:
                self._bypassed += 1
            return self.inner.chat(messages, fmt=fmt, options=options, on_token=on_token, model=model)
        t0 = time.perf_counter()
        key = self._key(messages, fmt, options, model)
        with self._lock:
            stored = self._store.get(key)
            if stored is not None:
                self._store.move_to_end(key)
                self._hits += 1
                self._saved_s += stored.total_s
        if stored is not None:
            if on_token:
                on_token(stored.content)  # a streaming listener still sees the answer, in one piece
            took = time.perf_counter() - t0
            return ChatResult(stored.content, stored.model, took, took)
        result = self.inner.chat(messages, fmt=fmt, options=options, on_token=on_token, model=model)
        with self._lock:
            self._misses += 1
            if result.content.strip():  # an empty answer is a failure to retry, not a fact to keep
                self._store[key] = result
                self._store.move_to_end(key)
                while len(self._store) > self.max_entries:
                    self._store.popitem(last=False)
        return result

    def stats(self) -> CacheStats:
        with self._lock:
            return CacheStats(self._hits, self._misses, self._bypassed, len(self._store), self._saved_s)


def with_cache(llm: LLMClient, prompts: frozenset[Prefix], max_entries: int) -> LLMClient:
    """llm wrapped in a CachingLLM, or llm itself when max_entries is 0 (llm.cache_entries = 0)."""
    return CachingLLM(llm, prompts, max_entries) if max_entries > 0 else llm
