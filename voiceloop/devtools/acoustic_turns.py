"""One spoken turn as the acoustic bench saw it, and where its time went: from the last speech sample at the
microphone to the first reply sample at the speaker, through the milestones `listen` traced on the same clock.

Every milestone is in ms after the last mic sample above the speech threshold (the device's end of speech):
  heard_end     listen's own end of speech (its last voiced frame, on the capture bus's clock)
  declared      the turn declared over (the segmenter ended the utterance)
  transcript    the final transcript known (early work may have had it before the turn was declared over)
  first_token   the reply's first token reached the turn (questions)
  first_clause  the reply's first clause synthesized, ready to play
  speaker       the first reply sample at the speaker (recorded)
  panel         the confirmation panel on the terminal (writes)
"""

from __future__ import annotations

import dataclasses
import statistics
from dataclasses import dataclass
from typing import Any

from voiceloop.devtools.bench import pct

MILESTONES = {
    "heard_end": "listen: end of speech",
    "early_start": "early transcription began",
    "declared": "turn declared over",
    "transcript": "final transcript",
    "reply_asked": "reply asked of the LLM",
    "llm_first_token": "reply's first token",
    "first_token": "first clause written",
    "first_clause": "first clause synthesized",
    "speaker": "first sample at the speaker",
    "panel": "confirmation panel",
}
TRACED = {
    "early_start": "early_start",
    "declared": "endpoint",
    "transcript": "transcript",
    "reply_asked": "reply_asked",
    "llm_first_token": "llm_first_token",
    "first_token": "first_token",
}
"""Milestones read from listen's trace: MILESTONES key -> the name listen's timings give it."""
SIDES = ("new", "baseline")
Stats = tuple[float, float, int]
"""median, p90, count."""


def breakdown(
    ended_at: float, traced: dict[str, Any] | None, reply_ms: float | None, panel_ms: float | None
) -> dict[str, float | None]:
    """The milestones of one turn (ms after the device's end of speech at monotonic `ended_at`); `traced`: the
    turn's line from listen's trace (None when it traced none: only what was seen at the devices)."""
    out: dict[str, float | None] = dict.fromkeys(MILESTONES)
    out["speaker"], out["panel"] = reply_ms, panel_ms
    if traced is None:
        return out
    heard = (float(traced["speech_ended"]) - ended_at) * 1000
    ms = traced.get("timings_ms", {})
    out["heard_end"] = heard
    for key, stage in TRACED.items():
        out[key] = heard + ms[stage] if stage in ms else None
    out["first_clause"] = heard + ms["first_audio"] if "first_audio" in ms else None
    return out


@dataclass(frozen=True)
class AcousticTurn:
    """One WAV spoken to one side."""

    side: str
    wav: str
    kind: str
    """"question" (first reply sample is timed) or "write" (the confirmation panel is timed)."""
    reply_ms: float | None
    """End of speech -> first reply sample at the speaker (None: no reply was heard)."""
    panel_ms: float | None
    """End of speech -> the panel on the terminal (writes; None: no panel)."""
    stages: dict[str, float] = dataclasses.field(default_factory=dict)
    """The turn's own timings as `listen` traced them, from its end of speech (endpoint, stt, intent, ...)."""
    heard: str = ""
    """What `listen` printed as heard ("You said: ..."), to see a cut-off or a misheard turn."""
    milestones: dict[str, float | None] = dataclasses.field(default_factory=dict)
    """MILESTONES: ms after the device's end of speech (None: not reached, or not traced)."""
    turns: int = 1
    """Turns `listen` took for this one WAV (more than one: it was split at a pause)."""
    early_reply: bool = False
    """A reply was started early (at a pause, before the turn was declared over)."""
    taken: bool = False
    """The turn took that early reply over instead of asking again."""
    prompt_tokens: int | None = None
    """Prompt tokens the LLM server evaluated for that reply (the rest was in its cache), when it said."""
    warmings: int = 0
    """Warming requests begun while this WAV was being said (vad.warm_while_talking)."""
    reply: str = ""
    """The start of the reply `listen` traced (where its first clause ended)."""

    def to_json(self) -> dict[str, Any]:
        def r(v: float | None) -> float | None:
            return None if v is None else round(v, 1)

        return {
            "side": self.side,
            "wav": self.wav,
            "kind": self.kind,
            "reply_ms": r(self.reply_ms),
            "panel_ms": r(self.panel_ms),
            "milestones_ms": {k: r(v) for k, v in self.milestones.items()},
            "stages_ms": self.stages,
            "heard": self.heard,
            "turns": self.turns,
            "early_reply": self.early_reply,
            "taken_over": self.taken,
            "prompt_tokens": self.prompt_tokens,
            "warmings": self.warmings,
            "reply": self.reply,
        }


@dataclass(frozen=True)
class Row:
    """One metric, both sides."""

    label: str
    new: Stats
    base: Stats

    @property
    def ratio(self) -> float:
        return self.new[0] / self.base[0] if self.base[0] else 0.0


def stats(values: list[float]) -> Stats:
    return (statistics.median(values), pct(values, 90), len(values)) if values else (0.0, 0.0, 0)


def headline_rows(turns: list[AcousticTurn]) -> list[Row]:
    """What a person feels: end of speech -> reply or panel, per side."""
    rows = []
    for label, kind, key in (
        ("question: end of speech → first reply sample", "question", "reply_ms"),
        ("write: end of speech → confirmation panel", "write", "panel_ms"),
        ("write: end of speech → first reply sample", "write", "reply_ms"),
    ):
        per = {s: [getattr(t, key) for t in turns if t.side == s and t.kind == kind] for s in SIDES}
        per = {s: [v for v in values if v is not None] for s, values in per.items()}
        if per["new"] or per["baseline"]:
            rows.append(Row(label, stats(per["new"]), stats(per["baseline"])))
    return rows


def milestone_rows(turns: list[AcousticTurn], kind: str) -> list[Row]:
    """Medians per side of each milestone reached, for one kind of turn."""
    rows = []
    for key, label in MILESTONES.items():
        per = {
            s: [v for t in turns if t.side == s and t.kind == kind and (v := t.milestones.get(key)) is not None]
            for s in SIDES
        }
        if per["new"] or per["baseline"]:
            rows.append(Row(label, stats(per["new"]), stats(per["baseline"])))
    return rows


def early_counts(turns: list[AcousticTurn]) -> dict[str, dict[str, float]]:
    """Per side: replies started early, taken over by their turn, warmings begun, and the median of the prompt
    tokens the server evaluated for a taken-over reply (0 when none said)."""
    out: dict[str, dict[str, float]] = {}
    for s in SIDES:
        mine = [t for t in turns if t.side == s]
        evaluated = [t.prompt_tokens for t in mine if t.prompt_tokens is not None]
        out[s] = {
            "started": sum(t.early_reply for t in mine),
            "taken": sum(t.taken for t in mine),
            "warmings": sum(t.warmings for t in mine),
            "prompt_tokens": statistics.median(evaluated) if evaluated else 0,
        }
    return out


def missing(turns: list[AcousticTurn]) -> int:
    """Turns where the expected reply or panel never came."""
    return sum((t.reply_ms if t.kind == "question" else t.panel_ms) is None for t in turns)
