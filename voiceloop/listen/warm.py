"""Warming the model while the person is still talking: the words so far, and if they read as a question, the
answer's prompt sent to the LLM server for one token, so that its prompt cache already holds all of it but
the last few words when the turn asks for the real answer.

On two cores a small model evaluates a prompt at ~10 ms a token; a spoken question and the chat template
around it are ~18 new tokens, ~0.2 s between the words being known and the first word of the answer. Sent
while the person talks (when the machine has nothing else to do), only the words said after the warming are
new at the end. It asks nothing that changes anything: no intent call (it would put its own prompt in the
server's one cache in place of the answer's), no write, nothing spoken, and its one token goes nowhere.
"""

from __future__ import annotations

import contextlib
import time
from typing import Any

import numpy as np

from voiceloop.agent.assistant import Assistant
from voiceloop.agent.classifier import Classifier
from voiceloop.agent.intents import Action
from voiceloop.agent.sandbox import Proposal
from voiceloop.agent.tools import Tools
from voiceloop.errors import LLMError
from voiceloop.listen.early import Job
from voiceloop.llm.ollama import ChatResult, LLMClient, Message, OnToken
from voiceloop.llm.passthrough import PassThrough


class Warmed(Exception):  # not an error: how the warming request stops the answer it began
    """The answer's prompt was sent; the answer itself is not wanted."""


class Refuse:
    """The confirmer of every Tools that works ahead of the turn (warming, the early reply): nothing is written."""

    def confirm(self, proposal: Proposal) -> tuple[bool, str]:
        return False, "not before the turn has ended"


class FastPathOnly(PassThrough):
    """The classifier's client while warming: the fast path decides, or nothing does."""

    def chat(self, messages: list[Message], **_: Any) -> ChatResult:
        raise LLMError("no model is asked while the person is still talking")


class WarmingLLM(PassThrough):
    """The answer's client while warming: its request asks for one token, then the answer stops (Warmed)."""

    def __init__(self, inner: LLMClient, job: Job) -> None:
        super().__init__(inner)
        self.job = job
        self.sent = 0
        """Warming requests sent."""

    def chat(
        self,
        messages: list[Message],
        *,
        fmt: dict[str, Any] | str | None = None,
        options: dict[str, Any] | None = None,
        on_token: OnToken | None = None,
        model: str | None = None,
    ) -> ChatResult:
        if not self.job.cancel.is_set():  # the pause came: the early job's own request goes first
            self.sent += 1
            self.job.asked_at = time.perf_counter()
            try:
                self.inner.chat(messages, fmt=fmt, options={**(options or {}), "num_predict": 1}, model=model)
            finally:
                self.job.answered_at = time.perf_counter()
        raise Warmed


def glimpse(transcriber: object, samples: np.ndarray) -> str | None:
    """The words of speech still under way from the engine's quick look (stt FasterWhisper.glimpse): the fitted
    window only, never a second pass on the whole one; None from an engine without one (warming is then off)."""
    engine = getattr(transcriber, "engine", transcriber)  # WarmingUp: the engine it warms
    engine = getattr(engine, "fast", engine)  # TieredTranscriber: the fast model looks
    look = getattr(engine, "glimpse", None)
    return look(samples) if callable(look) else None


def warm_answer(assistant: Assistant, inner: LLMClient, samples: np.ndarray, job: Job) -> int:
    """listen's warming work for the speech so far: the warming requests sent (0 or 1)."""
    a = assistant
    text = glimpse(a.transcriber, samples)
    if not text or job.cancel.is_set():
        return 0
    try:
        intents = a.classify_turn(text, Classifier(FastPathOnly(inner))).intents
    except LLMError:  # the fast path did not know it: not a question it can tell
        return 0
    if len(intents) != 1 or intents[0].action is not Action.GENERAL_CHAT:
        return 0
    client = WarmingLLM(inner, job)
    tools = Tools(client, a.tools.sandbox, Refuse(), a.tools.num_predict, a.tools.answer)  # the turn's request
    with contextlib.suppress(Warmed, LLMError):
        tools.run(intents[0], a.memory.messages(), a.model_for(intents[0].action))
    return client.sent
