"""The live status line of `listen`: state, input level meter, overflows, last transcript/reply/timings.

What was heard and replied is shown one-line through safetext: a newline or an escape code in it cannot
move the cursor inside the region Live redraws."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from typing import Any

from rich.console import Console, Group
from rich.live import Live
from rich.text import Text

from voiceloop.safetext import line
from voiceloop.state import LoopState

METER_WIDTH = 24
FLOOR_DBFS = -60.0

_STATE_STYLE = {
    LoopState.LISTENING: "bold green",
    LoopState.HEARING: "bold yellow",
    LoopState.TRANSCRIBING: "bold cyan",
    LoopState.THINKING: "bold cyan",
    LoopState.CONFIRMING: "bold magenta",
    LoopState.SPEAKING: "bold blue",
    LoopState.MIC_LOST: "bold red",
}


def meter(dbfs: float, width: int = METER_WIDTH) -> str:
    """A bar for an input level: empty at -60 dBFS and below, full at 0 dBFS."""
    filled = round(width * min(1.0, max(0.0, (dbfs - FLOOR_DBFS) / -FLOOR_DBFS)))
    return "█" * filled + "·" * (width - filled)


class LiveView:
    """One refreshing region at the bottom of the terminal; turns are printed above it.

    On a terminal it redraws in place; elsewhere (pipes, logs) only state changes are printed,
    one line each, so logs stay readable.
    """

    def __init__(self, console: Console) -> None:
        self.console = console
        self.state = LoopState.LISTENING
        self.level_dbfs = FLOOR_DBFS
        self.overflows = 0
        self.last_heard = ""
        self.last_reply = ""
        self.last_timings = ""
        self.hint = ""
        """Shown while listening: how to get its attention (the wake word, the space bar)."""
        self._lock = threading.Lock()
        self._live: Live | None = None

    def __rich__(self) -> Group:
        style = _STATE_STYLE.get(self.state, "bold")
        head = Text.assemble(
            ("● ", style),
            (f"{self.state.value:<16}", style),
            (meter(self.level_dbfs), "green" if self.state in (LoopState.LISTENING, LoopState.HEARING) else "dim"),
            (f" {self.level_dbfs:5.0f} dBFS", "dim"),
            (f"  overflows {self.overflows}", "red" if self.overflows else "dim"),
            ("  Ctrl-C stops", "dim"),
        )
        lines: list[Any] = [head]
        if self.hint and self.state is LoopState.LISTENING:
            lines.append(Text.assemble(("  waiting: ", "dim"), (self.hint, "bold")))
        if self.last_heard:
            lines.append(line(("  heard: ", "dim"), self.last_heard[:200]))
        if self.last_reply:
            lines.append(line(("  reply: ", "dim"), self.last_reply[:200]))
        if self.last_timings:
            lines.append(Text.assemble(("  last turn: ", "dim"), self.last_timings))
        return Group(*lines)

    def __enter__(self) -> LiveView:
        if self.console.is_terminal:
            self._live = Live(self, console=self.console, refresh_per_second=10, transient=True)
            self._live.start()
        else:
            self._print_state()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._live is not None:
            self._live.stop()
            self._live = None

    def _print_state(self) -> None:
        style = _STATE_STYLE.get(self.state, "bold")
        hint = f" — {self.hint}" if self.hint and self.state is LoopState.LISTENING else ""
        self.console.print(line((f"● {self.state.value}", style), hint))

    def set_state(self, state: LoopState) -> None:
        with self._lock:
            if state == self.state:
                return
            self.state = state
        if self._live is None:
            self._print_state()

    def set_level(self, dbfs: float, overflows: int) -> None:
        self.level_dbfs = dbfs
        self.overflows = overflows

    def set_turn(self, heard: str, reply: str, timings_ms: dict[str, float]) -> None:
        self.last_heard = heard
        self.last_reply = reply
        shown = {k: v for k, v in timings_ms.items() if k in ("stt", "intent", "act", "first_audio", "total")}
        self.last_timings = "  ".join(f"{k} {v:,.0f} ms" for k, v in shown.items())

    @contextlib.contextmanager
    def paused(self) -> Iterator[None]:
        """Take the live region off the screen while the person answers a prompt."""
        live = self._live
        if live is not None:
            live.stop()
        try:
            yield
        finally:
            if live is not None:
                live.start()
