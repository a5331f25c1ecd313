"""One request -> intents: split into parts, the fast path for common shapes, the model for the rest.

Each part the fast path does not recognise is one schema-constrained model call (one intent), one retry
with the error fed back, then chat; every model answer is grounded in what was said.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from voiceloop.agent.intents import Action, Intent, IntentParseError, Via
from voiceloop.agent.understand.fastpath import fast_path
from voiceloop.agent.understand.grounding import ground, settle_name
from voiceloop.agent.understand.prompt import SCHEMA, parse_answer, prompt_messages
from voiceloop.agent.understand.split import split
from voiceloop.agent.understand.words import escapes, names_in, prepare
from voiceloop.llm.ollama import LLMClient

log = logging.getLogger(__name__)
RAW_SHOWN = 300  # characters of a failed answer kept for the person; enough to see what went wrong
MAX_PARTS = 5  # more parts than this in one breath is more likely a dictation than a list of requests


@dataclass(frozen=True)
class Classification:
    """What the classifier decided, and how it got there."""

    intents: tuple[Intent, ...]
    model: str
    """The model that classified (asked even when the fast path decided everything)."""
    attempts: int
    """Model calls made (0 when the fast path decided every part)."""
    fallback: str = ""
    """When a part's answers were invalid twice: why, and what the model said (shown as a warning)."""
    asked: int = 0
    """Parts sent to the model."""
    invalid: int = 0
    """Of those, parts whose first answer did not fit the schema (JSON, fields, action): eval counts them."""


class Classifier:
    """Asks the model what the person wants; never raises for a bad answer, only for LLMError."""

    def __init__(self, llm: LLMClient, temperature: float = 0.0, num_predict: int = 160) -> None:
        self.llm = llm
        self.options = {"temperature": temperature, "num_predict": min(num_predict, 256)}

    def classify(
        self,
        text: str,
        files: str = "",
        known: tuple[str, ...] = (),
        model: str | None = None,
        exists: Callable[[str], bool] | None = None,
    ) -> Classification:
        """files: the session's action log for the prompt, newest first; known: those file names,
        newest last (the last is what "it" means); exists: whether a name is a file in output/ now."""
        model = model or self.llm.model
        seen = list(known)
        intents: list[Intent] = []
        calls = asked = invalid = 0
        warnings: list[str] = []
        parts = split(prepare(text))
        if len(parts) > MAX_PARTS:
            parts = [prepare(text)]
        for part in parts:
            view = [*on_disk(part, seen, exists), *seen]  # quotes.txt said and in output/ is quotes.txt, not notes.txt
            got = fast_path(part, view)
            if got is None:
                one, used, problem = self._ask_model(part, files, view, model, tuple(seen[len(known) :]))
                got, calls, asked = [one], calls + used, asked + 1
                invalid += used > 1  # its first answer did not fit the schema
                if problem:
                    warnings.append(problem)
            for intent in got:
                intent = settle_name(intent, part, view)  # "whether.py" is the weather.py made before
                if intents and intent.action is Action.GENERAL_CHAT is intents[-1].action:
                    intent = _joined(intents.pop(), intent)  # "hello, how are you?" is one thing to answer
                intents.append(intent)
                if intent.filename and intent.action is not Action.SUMMARIZE and intent.filename not in seen:
                    seen.append(intent.filename)  # "create a.txt and summarize it": "it" is a.txt
        return Classification(tuple(intents), model, calls, "; ".join(warnings), asked, invalid)

    def _ask_model(
        self, part: str, files: str, known: list[str], model: str, earlier: tuple[str, ...] = ()
    ) -> tuple[Intent, int, str]:
        """(intent, calls made, problem): one part, one intent; earlier: files the request's earlier parts named."""
        messages = prompt_messages(part, files)
        problem = answer = ""
        for attempt in range(1, 3):
            answer = self.llm.chat(messages, fmt=SCHEMA, options=self.options, model=model).content
            try:
                return ground(parse_answer(answer), part, known, earlier), attempt, ""
            except IntentParseError as e:
                problem = str(e)
                messages = [
                    *messages,
                    {"role": "assistant", "content": answer[:2000]},
                    {"role": "user", "content": f"That was not valid: {e}. Answer again with only the JSON."},
                ]
        raw = answer.strip().replace("\n", " ")
        raw = raw[:RAW_SHOWN] + ("…" if len(raw) > RAW_SHOWN else "")
        why = f"the model's intent answer was invalid twice ({problem}); treated as chat. It said: {raw!r}"
        log.warning("%s", why)
        return Intent(Action.GENERAL_CHAT, request=part, via=Via.MODEL), 2, why


def on_disk(part: str, seen: list[str], exists: Callable[[str], bool] | None) -> list[str]:
    """The names said in this part that are files in output/ already, and not yet known: each is itself,
    never a near name of the session's ("quotes.txt" exists, so it is not the notes.txt made just now). They
    go before the session's files, so "it" still means the newest of those."""
    if exists is None:
        return []
    return [n for n in dict.fromkeys(names_in(part)) if n not in seen and not escapes(n) and exists(n)]


def _joined(first: Intent, second: Intent) -> Intent:
    """Two chat parts in a row, answered as one; the model decided it if it decided either."""
    via = Via.MODEL if Via.MODEL in (first.via, second.via) else Via.FAST
    return Intent(Action.GENERAL_CHAT, request=f"{first.request.rstrip(' ,')}, {second.request}", via=via)
