"""The records a turn leaves behind: Turn (what it did, for the screen, --json and tests) and HeadStart
(what listen's early start worked out before the turn really began)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from voiceloop.agent.classifier import Classification
from voiceloop.agent.intents import Intent
from voiceloop.agent.results import ActionResult
from voiceloop.stt.transcript import Transcript


@dataclass(frozen=True)
class Turn:
    """Everything one turn did, for the screen, --json and tests."""

    transcript: str = ""
    avg_logprob: float | None = None
    no_speech_prob: float | None = None
    intents: tuple[Intent, ...] = ()
    actions: tuple[ActionResult, ...] = ()
    reply: str = ""
    error: str = ""
    """A one-line problem that stopped the turn (LLM down, ...), also part of the reply."""
    warning: str = ""
    """A problem that did not stop the turn (e.g. the speaker failed; the reply is still printed)."""
    timings_ms: dict[str, float] = field(default_factory=dict)
    spoken_s: float = 0.0
    """Seconds of reply audio produced (0 with speech off)."""
    spoken_text: str = ""
    """What was really said aloud (the reply, or less when the person talked over it)."""
    interrupted: bool = False
    """The person talked over the reply and it was stopped."""
    models: dict[str, str] = field(default_factory=dict)
    """Which model served which stage: "intent", then each action's name (and "memory" when it folded)."""

    def to_json(self) -> dict[str, Any]:
        return {
            "transcript": self.transcript,
            "avg_logprob": self.avg_logprob,
            "no_speech_prob": self.no_speech_prob,
            "intents": [i.to_json() for i in self.intents],
            "actions": [a.to_json() for a in self.actions],
            "reply": self.reply,
            "error": self.error,
            "warning": self.warning,
            "spoken_s": round(self.spoken_s, 3),
            "interrupted": self.interrupted,
            "timings_ms": {k: round(v, 1) for k, v in self.timings_ms.items()},
            "models": dict(self.models),
        }


@dataclass(frozen=True)
class HeadStart:
    """What can be worked out before a turn really starts: nothing in it writes, asks or speaks."""

    heard: Transcript
    decided: Classification | None = None
    """The intents, when the transcript was confident enough to classify and the call succeeded."""
    failed: str = ""
    """The intent call's error, if it failed: the turn reports it rather than waiting out a second call."""
    heard_at: float | None = None
    """perf_counter() when the transcript was known (None: not recorded)."""
    decided_at: float | None = None
    """perf_counter() when the intents were known (or the intent call failed, or was not needed)."""
    started_at: float | None = None
    """perf_counter() when the early work began (the transcription's start)."""
