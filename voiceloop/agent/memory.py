"""Session memory: the chat history, bounded by turns and by an approximate token budget, with older
turns folded into a short summary; and the log of files this session touched (what "it" means)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from voiceloop.errors import LLMError
from voiceloop.llm.ollama import LLMClient, Message

CHARS_PER_TOKEN = 4  # close enough for English with the tokenizers of the models we run
MAX_LOGGED_FILES = 8  # the classifier sees these; more would only crowd a small model's prompt
FOLD_PROMPT = (
    "You keep the memory of a conversation between a person and their voice assistant. Merge the summary "
    "so far and the new turns into one short summary (at most four sentences): facts, names, numbers and "
    "files the person mentioned, and what is still open. Plain sentences, no preamble."
)

Summarizer = Callable[[str, list[Message]], str]
"""(summary so far, turns to fold in) -> the new summary."""


def approx_tokens(text: str) -> int:
    return (len(text) + CHARS_PER_TOKEN - 1) // CHARS_PER_TOKEN


@dataclass(frozen=True)
class ActionRecord:
    """One file the session touched."""

    filename: str
    """The name inside output/."""
    action: str
    """The intent that touched it (create_file, write_code, edit_file, summarize)."""
    at: float
    """time.time() when it happened."""

    def describe(self) -> str:
        return f"{self.filename} ({self.action}, {time.strftime('%H:%M', time.localtime(self.at))})"


class Memory:
    """What the assistant remembers between turns; start over clears all of it."""

    def __init__(self, max_turns: int = 8, max_tokens: int = 1500, summarize: Summarizer | None = None) -> None:
        self.max_turns = max_turns
        self.max_tokens = max_tokens
        self.summarize = summarize
        self.history: list[Message] = []
        self.summary = ""
        self.actions: list[ActionRecord] = []
        self.folds = 0
        """Summaries written so far (a turn that folded shows the summary model in its timings)."""

    def messages(self) -> list[Message]:
        """The history a chat answer sees: the summary of older turns first, then the recent turns."""
        if not self.summary:
            return list(self.history)
        return [{"role": "system", "content": f"Earlier in this conversation: {self.summary}"}, *self.history]

    def tokens(self) -> int:
        return approx_tokens(self.summary) + sum(approx_tokens(m["content"]) for m in self.history)

    def add_turn(self, said: str, reply: str) -> None:
        self.history += [{"role": "user", "content": said}, {"role": "assistant", "content": reply}]
        self._fold()

    def _fold(self) -> None:
        """Once a bound is passed, move the oldest turns into the summary until the history is down to
        half of both bounds (max_turns // 2 turns, max_tokens // 2).

        Folding in batches keeps the prompt's opening (system prompt, summary, oldest kept turns) the
        same for several turns in a row, so the server reuses what it already read of it; folding one
        turn per turn changed it every turn from the (max_turns + 1)th on, and every turn's prompt was
        read again from the summary down, besides one summary request per turn.

        The newest turn always stays verbatim. Without a summarizer, or when the summary call fails,
        the old turns are dropped instead: a turn must never fail because memory is full.
        """
        turns = len(self.history) // 2
        if turns <= self.max_turns and self.tokens() <= self.max_tokens:
            return
        fold = 0
        while fold < turns - 1 and (
            turns - fold > self.max_turns // 2
            or approx_tokens(self.summary) + sum(approx_tokens(m["content"]) for m in self.history[2 * fold :])
            > self.max_tokens // 2
        ):
            fold += 1
        if not fold:
            return
        old, self.history = self.history[: 2 * fold], self.history[2 * fold :]
        if self.summarize is None:
            return
        try:
            summary = self.summarize(self.summary, old).strip()
        except LLMError:
            return
        # a summary may not take over the budget it exists to save
        self.summary = summary[: self.max_tokens * CHARS_PER_TOKEN // 3]
        self.folds += 1

    def record(self, filename: str, action: str) -> None:
        """Log a file the session touched; touching it again makes it the newest."""
        self.actions = [a for a in self.actions if a.filename != filename]
        self.actions.append(ActionRecord(filename, action, time.time()))
        self.actions = self.actions[-MAX_LOGGED_FILES:]

    def files(self) -> str:
        """The action log for the classifier, newest first ("" when nothing was touched yet)."""
        return ", ".join(a.describe() for a in reversed(self.actions))

    def clear(self) -> None:
        self.history, self.summary, self.actions = [], "", []


def llm_summarizer(llm: LLMClient, model: Callable[[], str]) -> Summarizer:
    """A Summarizer that asks the model (model() names which one, read at call time) to fold turns."""

    def summarize(summary: str, turns: list[Message]) -> str:
        said = "\n".join(f"{m['role']}: {m['content']}" for m in turns)
        messages: list[Message] = [
            {"role": "system", "content": FOLD_PROMPT},
            {"role": "user", "content": f"Summary so far: {summary or '(none)'}\n\nNew turns:\n{said}"},
        ]
        answer = llm.chat(messages, options={"temperature": 0.0, "num_predict": 160}, model=model()).content.strip()
        if not answer:
            raise LLMError("the model gave an empty summary of the conversation")
        return answer

    return summarize
