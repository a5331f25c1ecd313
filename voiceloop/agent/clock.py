"""Per-stage timings of one turn: machine work and the person's time at the prompt kept apart."""

from __future__ import annotations

import time

from voiceloop.agent.confirm import Confirmer
from voiceloop.agent.sandbox import Proposal


class Clock:
    """Collects per-stage milliseconds, and milestones: when something was first ready, counted from the start.

    `start`: a perf_counter() value in the past where the turn really began (listen: the end of speech)."""

    def __init__(self, start: float | None = None) -> None:
        self.ms: dict[str, float] = {}
        self.marks: dict[str, float] = {}
        """Milestones (the final transcript, the reply's first token): ms from the start, the first time only."""
        self._t = time.perf_counter() if start is None else start
        self.origin = self._t
        """When the turn started, moved later by skip() so skipped time never counts."""

    def skip(self) -> None:
        """Leave the time since the last lap out of every stage (e.g. loading models)."""
        now = time.perf_counter()
        self.origin += now - self._t
        self._t = now

    def since_start_ms(self, at: float) -> float:
        """Milliseconds from the start of the turn to the perf_counter() value `at`."""
        return (at - self.origin) * 1000

    def lap(self, stage: str, at: float | None = None) -> None:
        """The time since the last lap goes to `stage`; `at`: the stage really ended then (a perf_counter() value,
        e.g. work done early on another thread), and if that was before the last lap, the stage took no time."""
        now = time.perf_counter() if at is None else max(at, self._t)
        self.ms[stage] = self.ms.get(stage, 0.0) + (now - self._t) * 1000
        self._t = now

    def mark(self, name: str, at: float | None = None) -> None:
        """A milestone reached now (or at the perf_counter() value `at`); only the first one counts."""
        if name not in self.marks:
            self.marks[name] = self.since_start_ms(time.perf_counter() if at is None else at)


class TimedConfirmer:
    """Wraps the turn's confirmer: the work before the panel counts as `act`, the wait for the person's
    answer as its own stage, `confirm`, so `act` is machine time only."""

    def __init__(self, inner: Confirmer, clock: Clock) -> None:
        self.inner = inner
        self.clock = clock

    def confirm(self, proposal: Proposal) -> tuple[bool, str]:
        self.clock.lap("act")
        try:
            return self.inner.confirm(proposal)
        finally:
            self.clock.lap("confirm")
