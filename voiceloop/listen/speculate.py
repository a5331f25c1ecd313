"""Speculation: at the first short pause, listen's early job starts the reply itself, not only the transcript
and the intents. For a question the chat answer is requested at once and its tokens are kept, unspoken.
When the pause really ends the turn, the turn's own chat request is answered from that stream (same
messages, model and options) — tokens already there at once, the rest as they arrive; a turn that asks
before the early request is made waits for it. The early job reads its stream too, through the same answer
guard and [answer] settings as the turn, so it stops where the turn's answer stops and never asks again.
When speech resumes, the job's cancel token is set and the stale stream is closed at its next chunk.

Nothing is written or spoken early: only general_chat is speculated, through a Tools whose confirmer
refuses everything, and the tokens go nowhere until the turn asks for exactly that request.
"""

from __future__ import annotations

import functools
import json
import threading
import time
from typing import Any

import numpy as np

from voiceloop.agent.assistant import Assistant
from voiceloop.agent.classifier import Classifier
from voiceloop.agent.intents import Action
from voiceloop.agent.tools import Tools
from voiceloop.agent.turn import HeadStart
from voiceloop.audio.vad import Segmenter
from voiceloop.errors import LLMError
from voiceloop.listen.early import EarlyStart, Job
from voiceloop.listen.warm import Refuse, warm_answer
from voiceloop.llm.ollama import ChatResult, LLMClient, Message, OnToken
from voiceloop.llm.passthrough import PassThrough
from voiceloop.runtime import spawn

WAIT_STEP_S = 0.1  # bounded waits for the next speculated token
OFFER_WAIT_S = 30.0  # the most the turn's chat waits for a reply started early to be on its way (it takes ms)


class Cancelled(LLMError):
    """The early job became stale; its LLM stream is closed here."""


def _key(messages: list[Message], fmt: Any, options: Any, model: str | None) -> str:
    return json.dumps([messages, fmt, options, model], sort_keys=True, default=str)


class Speculation:
    """One chat stream started early: its tokens so far, and how it ended."""

    def __init__(self, cancel: threading.Event) -> None:
        self.cancel = cancel
        self.tokens: list[str] = []
        self.result: ChatResult | None = None
        self.error: BaseException | None = None
        self.started = time.perf_counter()
        self.first_at: float | None = None
        """perf_counter() when the first token came."""
        self.cond = threading.Condition()

    def put(self, piece: str) -> None:
        if self.cancel.is_set():
            raise Cancelled("the early reply went stale")  # raised inside the client's read loop: it closes
        with self.cond:
            if self.first_at is None:
                self.first_at = time.perf_counter()
            self.tokens.append(piece)
            self.cond.notify_all()

    def so_far(self, model: str) -> ChatResult:
        """The answer as far as it came, as a finished chat."""
        first = (self.first_at or time.perf_counter()) - self.started
        return ChatResult("".join(self.tokens), model, first, time.perf_counter() - self.started)

    def end(self, result: ChatResult | None, error: BaseException | None) -> None:
        with self.cond:
            self.result, self.error = result, error
            self.cond.notify_all()

    @property
    def done(self) -> bool:
        return self.result is not None or self.error is not None


class CancellableLLM(PassThrough):
    """Passes through to an LLMClient, streaming every call so the cancel token is checked per chunk;
    with `record`, each chat is also kept as a Speculation the turn can take over."""

    def __init__(self, inner: LLMClient, cancel: threading.Event, record: SpeculativeLLM | None = None) -> None:
        super().__init__(inner)
        self.cancel, self.record = cancel, record
        self.asked = False
        """A chat was asked (and, with `record`, offered to the turn)."""

    def chat(
        self,
        messages: list[Message],
        *,
        fmt: dict[str, Any] | str | None = None,
        options: dict[str, Any] | None = None,
        on_token: OnToken | None = None,
        model: str | None = None,
    ) -> ChatResult:
        spec = Speculation(self.cancel)
        if self.record is not None:
            self.record.offer(_key(messages, fmt, options, model), spec)
            if not self.asked:
                self.record.settled()
        self.asked = True
        if self.cancel.is_set():
            spec.end(None, Cancelled("stale"))
            raise Cancelled("the early job went stale before its request")
        stopped: list[BaseException] = []

        def put(piece: str) -> None:
            spec.put(piece)  # the turn's copy first: it sees every token the job's own reader saw
            if on_token is not None:
                try:
                    on_token(piece)
                except BaseException as e:
                    stopped.append(e)
                    raise

        try:
            result = self.inner.chat(messages, fmt=fmt, options=options, on_token=put, model=model)
        except BaseException as e:
            # the job's own reader closed the stream (its answer guard: budget spent, run-on, loop): the answer
            # ends there, where the turn's own guard ends it on the same tokens; anything else is an error
            spec.end(spec.so_far(model or self.model) if stopped else None, None if stopped else e)
            raise
        spec.end(result, None)
        return result


class SpeculativeLLM(PassThrough):
    """The turn's LLM client: a chat that was speculated (same request) is answered from its stream."""

    def __init__(self, inner: LLMClient, read_timeout_s: float = 60.0) -> None:
        super().__init__(inner)
        self.read_timeout_s = read_timeout_s
        self._cond = threading.Condition()
        self._offers: dict[str, Speculation] = {}
        self._coming = 0  # replies started early whose request is not on its way yet
        self.taken = 0
        """Chats answered from a speculated stream."""
        self.last: Speculation | None = None  # the stream the last chat taken over came from

    def expect(self) -> None:
        """A reply was started early: its request is offered in a moment (or its worker ends, settled()), and a
        chat asked before then waits for it rather than asking the server the same thing."""
        with self._cond:
            self._coming += 1

    def settled(self) -> None:
        """An expected reply's request is on its way, or its worker ended without one."""
        with self._cond:
            self._coming = max(0, self._coming - 1)
            self._cond.notify_all()

    def offer(self, key: str, spec: Speculation) -> None:
        with self._cond:
            self._offers[key] = spec
            self._cond.notify_all()

    def drop_all(self) -> None:
        """Cancel whatever was speculated and not taken (the turn went another way, or it ended); forget `last`."""
        with self._cond:
            offers, self._offers, self._coming, self.last = self._offers, {}, 0, None
        for spec in offers.values():
            spec.cancel.set()

    def _take(self, key: str) -> Speculation | None:
        deadline = time.monotonic() + OFFER_WAIT_S
        with self._cond:
            while key not in self._offers and self._coming and (left := deadline - time.monotonic()) > 0:
                self._cond.wait(min(left, WAIT_STEP_S))  # short waits, so Ctrl-C is seen at once
            return self._offers.pop(key, None)

    def chat(
        self,
        messages: list[Message],
        *,
        fmt: dict[str, Any] | str | None = None,
        options: dict[str, Any] | None = None,
        on_token: OnToken | None = None,
        model: str | None = None,
    ) -> ChatResult:
        spec = self._take(_key(messages, fmt, options, model))
        if spec is None or spec.cancel.is_set() or (spec.error is not None and not spec.tokens):
            return self.inner.chat(messages, fmt=fmt, options=options, on_token=on_token, model=model)
        self.taken += 1
        self.last = spec
        return self._replay(spec, on_token, model or self.model)

    def _replay(self, spec: Speculation, on_token: OnToken | None, model: str) -> ChatResult:
        t0, sent, last = time.perf_counter(), 0, time.monotonic()
        while True:
            with spec.cond:
                if len(spec.tokens) == sent and not spec.done:
                    spec.cond.wait(WAIT_STEP_S)
                new, done = spec.tokens[sent:], spec.done
            try:
                for piece in new:
                    if on_token is not None:
                        on_token(piece)
            except BaseException:
                spec.cancel.set()  # e.g. barge-in: the rest of the answer is not wanted
                raise
            sent += len(new)
            if new:
                last = time.monotonic()
            if done and sent == len(spec.tokens):
                break
            if time.monotonic() - last > self.read_timeout_s:
                spec.cancel.set()
                raise LLMError(f"the model sent nothing for {self.read_timeout_s:.0f} s; try again")
        if spec.error is not None:
            raise spec.error if isinstance(spec.error, LLMError) else LLMError(str(spec.error))
        first = spec.result.first_token_s if spec.result else 0.0
        return ChatResult("".join(spec.tokens), model, first, time.perf_counter() - t0)


class Speculator:
    """listen's early-start work: transcript (told to the end-of-turn policy), intents, and a question's reply."""

    def __init__(self, assistant: Assistant, llm: SpeculativeLLM, reply: bool = True) -> None:
        self.assistant = assistant
        self.llm = llm
        self.reply = reply
        """Start a question's reply too (vad.early_reply), not only the transcript and the intents."""
        self.replies = 0
        """Replies started early."""

    def __call__(self, samples: np.ndarray, job: Job) -> HeadStart:
        a = self.assistant
        classifier = Classifier(CancellableLLM(a.llm, job.cancel), a.cfg.llm.temperature, a.cfg.llm.num_predict)

        def heard(t: Any) -> None:
            job.heard = t.text

        head = a.head_start(samples, heard, classifier)
        if job.cancel.is_set() or head.decided is None:
            return head
        intents = head.decided.intents
        if self.reply and len(intents) == 1 and intents[0].action is Action.GENERAL_CHAT:
            self._start_reply(head, job)
        return head

    def _start_reply(self, head: HeadStart, job: Job) -> None:
        a = self.assistant
        assert head.decided is not None
        intent = head.decided.intents[0]
        client = CancellableLLM(self.llm.inner, job.cancel, record=self.llm)
        tools = Tools(client, a.tools.sandbox, Refuse(), a.tools.num_predict, a.tools.answer)  # the turn's request
        args = (intent, a.memory.messages(), a.model_for(intent.action))
        self.llm.expect()  # the turn, which may start before the request is made, waits for it to take it over
        spawn("voiceloop-early-reply", self._reply, tools, args, client)
        self.replies += 1

    def _reply(self, tools: Tools, args: tuple[Any, ...], client: CancellableLLM) -> None:
        try:
            tools.run(*args)
        finally:
            if not client.asked:
                self.llm.settled()  # it ended before its request: nothing to wait for


def early_start_for(
    assistant: Assistant, segmenter: Segmenter
) -> tuple[EarlyStart[HeadStart] | None, SpeculativeLLM | None]:
    """listen's early start as config asks (vad.early_start_ms, vad.early_reply), wired to the end-of-turn
    policy; the turn's tools then ask their LLM through a SpeculativeLLM."""
    cfg = assistant.cfg
    if not cfg.vad.early_start_ms:
        return None, None
    spec = SpeculativeLLM(assistant.tools.llm, cfg.llm.read_timeout_s)
    assistant.tools.llm = spec
    wait_s = 2 * cfg.llm.answer_timeout_s + 60.0  # past the job's own deadlines: a turn never asks twice
    warm = functools.partial(warm_answer, assistant, spec.inner) if cfg.vad.warm_while_talking else None
    early = EarlyStart(
        Speculator(assistant, spec, cfg.vad.early_reply), cfg.vad.early_start_ms, cfg.vad.frame_ms, wait_s, warm
    )
    if segmenter.turn_end is not None:
        segmenter.turn_end.heard = early.heard
    return early, spec
