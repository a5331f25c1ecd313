"""One request -> intents: a schema-constrained call, one retry with the error fed back, then chat."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from voiceloop.agent.intents import SCHEMA, Action, Intent, IntentParseError, ground, parse_intents, prompt_messages
from voiceloop.llm.ollama import LLMClient

log = logging.getLogger(__name__)
RAW_SHOWN = 300  # characters of a failed answer kept for the person; enough to see what went wrong


@dataclass(frozen=True)
class Classification:
    """What the classifier decided, and how it got there."""

    intents: tuple[Intent, ...]
    model: str
    """The model that classified."""
    attempts: int
    """Calls made: 1, or 2 after a retry."""
    fallback: str = ""
    """When both answers were invalid: why, and what the model said (the turn shows it as a warning)."""


class Classifier:
    """Asks the model what the person wants; never raises for a bad answer, only for LLMError."""

    def __init__(self, llm: LLMClient, temperature: float = 0.0, num_predict: int = 512) -> None:
        self.llm = llm
        self.options = {"temperature": temperature, "num_predict": num_predict}

    def classify(
        self, text: str, files: str = "", known: tuple[str, ...] = (), model: str | None = None
    ) -> Classification:
        """files: the session's action log for the prompt, newest first; known: those file names,
        newest last (the last is what "it" means)."""
        model = model or self.llm.model
        messages = prompt_messages(text, files)
        problem = answer = ""
        for attempt in range(1, 3):
            answer = self.llm.chat(messages, fmt=SCHEMA, options=self.options, model=model).content
            try:
                intents = parse_intents(answer, known[-1] if known else "")
                return Classification(tuple(ground(intents, text, list(known))), model, attempt)
            except IntentParseError as e:
                problem = str(e)
                messages += [
                    {"role": "assistant", "content": answer[:2000]},
                    {"role": "user", "content": f"That was not valid: {e}. Answer again with only the JSON."},
                ]
        raw = answer.strip().replace("\n", " ")
        raw = raw[:RAW_SHOWN] + ("…" if len(raw) > RAW_SHOWN else "")
        why = f"the model's intent answer was invalid twice ({problem}); treated as chat. It said: {raw!r}"
        log.warning("%s", why)
        return Classification((Intent(Action.GENERAL_CHAT, request=text),), model, 2, why)
