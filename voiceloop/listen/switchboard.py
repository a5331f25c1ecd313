"""The turn machine wired to the capture bus: each move of the listen loop switches on exactly the taps
its new state feeds (voiceloop/state.py FED), in one step, and the live view shows the state. A move, its taps
and what it shows happen under the machine's lock: the loop and the speech worker both move it."""

from __future__ import annotations

import threading

from voiceloop.audio.bus import CaptureBus, Tap
from voiceloop.listen.live import LiveView
from voiceloop.state import Consumer, LoopState, TurnEvent, TurnMachine

LOOP_FED = frozenset({Consumer.SEGMENTER, Consumer.SMART_TURN, Consumer.WAKE_WORD})
"""The segmenter, smart turn and the wake word all work on the listen loop's own frames (one tap)."""


class Switchboard:
    """Owns the listen loop's tap and the taps of the turn's consumers (overhearing, barge-in)."""

    def __init__(self, bus: CaptureBus, view: LiveView) -> None:
        self.bus = bus
        self.view = view
        self.machine = TurnMachine()
        """Where the loop is, moved only along the one transition table."""
        self.loop: Tap = bus.tap("listen")
        self.turn: dict[Consumer, Tap] = {}
        """The taps of consumers that live for one turn."""

    @property
    def lock(self) -> threading.RLock:
        """Held by every move; hold it to look and then move as one step."""
        return self.machine.lock

    def open(self, kind: Consumer, name: str) -> Tap:
        """A tap for one of this turn's consumers, fed as the current state says."""
        with self.lock:
            tap = self.turn[kind] = self.bus.tap(name, on=kind in self.machine.fed)
            return tap

    def close_turn(self) -> None:
        with self.lock:
            taps, self.turn = self.turn, {}
        for tap in taps.values():
            tap.close()

    def move(self, event: TurnEvent, show: bool = True) -> LoopState:
        """One step of the machine; raises TransitionError for a move not in the table. show=False leaves the
        live view as it is (the loop shows "listening" only once the echo tail is over: speech is heard whole)."""
        with self.lock:
            state = self.machine.fire(event)
            fed = self.machine.fed
            taps = [(self.loop, bool(fed & LOOP_FED)), *((tap, kind in fed) for kind, tap in self.turn.items())]
            self.bus.switch(on=[t for t, on in taps if on], off=[t for t, on in taps if not on])
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
