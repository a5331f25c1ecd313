"""The turn machine wired to the capture bus: each move of the listen loop switches the loop's one tap on exactly
when its new state feeds a consumer the loop has a handler for (voiceloop/state.py FED), and the live view shows
the state. A move, its tap and what it shows happen under the machine's lock: the loop, the turn engine's worker
and the speech worker all move it. The write prompt's spoken yes/no reads a tap of its own."""

from __future__ import annotations

import threading
from collections.abc import Iterable

from voiceloop.audio.bus import CaptureBus, Tap
from voiceloop.listen.live import LiveView
from voiceloop.state import Consumer, LoopState, TurnEvent, TurnMachine

LOOP_FED = frozenset({Consumer.SEGMENTER, Consumer.SMART_TURN, Consumer.WAKE_WORD})
"""The segmenter, smart turn and the wake word all work on the listen loop's own frames."""


class Switchboard:
    """Owns the listen loop's tap; `handlers` are the turn's consumers the loop feeds from it as well (the
    overhearing while a turn thinks, the barge-in watcher while the reply plays)."""

    def __init__(self, bus: CaptureBus, view: LiveView, handlers: Iterable[Consumer] = ()) -> None:
        self.bus = bus
        self.view = view
        self.machine = TurnMachine()
        """Where the loop is, moved only along the one transition table."""
        self.handlers = frozenset(handlers)
        self.loop: Tap = bus.tap("listen")

    @property
    def lock(self) -> threading.RLock:
        """Held by every move; hold it to look and then move as one step."""
        return self.machine.lock

    def move(self, event: TurnEvent, show: bool = True) -> LoopState:
        """One step of the machine; raises TransitionError for a move not in the table. show=False leaves the
        live view as it is (the loop shows "listening" only once the echo tail is over: speech is heard whole)."""
        with self.lock:
            state = self.machine.fire(event)
            if self.machine.fed & (LOOP_FED | self.handlers):
                self.bus.switch(on=[self.loop])
            else:  # what it was handed before keeps: the loop reads it and drops what no handler wants
                self.bus.switch(off=[self.loop])
            if show:
                self.view.set_state(state)
            return state

    def show(self) -> None:
        with self.lock:
            self.view.set_state(self.machine.state)

    def hearing(self, speaking: bool) -> None:
        """The segmenter (or the space bar) says whether the person is talking now."""
        with self.lock:
            if speaking and self.machine.state is LoopState.LISTENING:
                self.move(TurnEvent.VOICE_STARTED)
            elif not speaking and self.machine.state is LoopState.HEARING:
                self.move(TurnEvent.VOICE_STOPPED)

    @property
    def visited(self) -> set[LoopState]:
        return self.machine.visited
