"""Per-stage timings of one turn: machine work and the person's time at the prompt kept apart."""

from __future__ import annotations

import time

from voiceloop.agent.confirm import Confirmer
from voiceloop.agent.sandbox import Proposal


class Clock:
    """Collects per-stage milliseconds."""

    def __init__(self) -> None:
        self.ms: dict[str, float] = {}
        self._t = time.perf_counter()
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

    def lap(self, stage: str) -> None:
        now = time.perf_counter()
        self.ms[stage] = self.ms.get(stage, 0.0) + (now - self._t) * 1000
        self._t = now


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
