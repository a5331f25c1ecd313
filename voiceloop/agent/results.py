"""The outcome of carrying out one intent: what tools and the file commands hand back to the turn."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from voiceloop.agent.intents import Action
from voiceloop.voice.budget import Cut


class Status(str, Enum):
    WRITTEN = "written"
    DECLINED = "declined"
    REFUSED = "refused"
    FAILED = "failed"
    ANSWERED = "answered"


@dataclass(frozen=True)
class ActionResult:
    """The outcome of one intent."""

    action: Action
    status: Status
    target: str
    """The file path involved (written, declined or refused), or ""."""
    say: str
    """What to tell the person about it (spoken and printed)."""
    streamed: bool = False
    """`say` was already handed to the speech stream token by token while it was generated."""
    cut: Cut | None = None
    """For answers: why it ended (budget spent: there is more; loop: it was stopped, LOOP_NOTE added)."""
    llm_failed: bool = False
    """The LLM failed (down, HTTP error, timeout): `say` is that error, and the turn fails with it."""
    written_as: str = ""  # the name written: the intent's, or a new one given at the prompt ("call it list.md")

    def to_json(self) -> dict[str, str]:
        out = {"action": self.action.value, "status": self.status.value, "target": self.target, "message": self.say}
        if self.cut is not None:
            out["cut"] = self.cut.value
        return out
