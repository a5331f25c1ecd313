"""What voiceloop is doing right now, as one Enum shared by the assistant (which moves through a turn)
and the live view (which shows it). The value is the word the person sees.

The listen loop moves between these states only along TRANSITIONS, one table, and the state alone decides
which consumers of the microphone's audio are fed (FED): the segmenter while listening, the overhearing
while a turn thinks, the barge-in watcher while the reply plays, the yes/no listener at the write prompt.
"""

from __future__ import annotations

import threading
from enum import Enum

from voiceloop.errors import VoiceloopError


class LoopState(Enum):
    """One state of the listen loop or of a turn."""

    LISTENING = "listening"
    HEARING = "hearing"
    TRANSCRIBING = "transcribing"
    THINKING = "thinking"
    CONFIRMING = "waiting for you"
    SPEAKING = "speaking"
    MIC_LOST = "microphone lost"


class TurnEvent(Enum):
    """What happened, as the listen loop tells its turn machine."""

    VOICE_STARTED = "voice started"
    VOICE_STOPPED = "voice stopped"
    UTTERANCE = "utterance"
    TRANSCRIBED = "transcribed"
    REPLY_STARTED = "reply started"
    ASKED = "write prompt shown"
    ANSWERED = "write prompt answered"
    BARGED_IN = "talked over the reply"
    TURN_DONE = "turn done"
    MIC_LOST = "microphone lost"
    MIC_BACK = "microphone back"


class Consumer(Enum):
    """Who can be fed the microphone's audio."""

    SEGMENTER = "segmenter"
    SMART_TURN = "smart turn"
    WAKE_WORD = "wake word"
    OVERHEAR = "overhearing"
    BARGE_IN = "barge-in"
    YES_NO = "yes/no listener"


S, E = LoopState, TurnEvent
TURN = (S.TRANSCRIBING, S.THINKING, S.SPEAKING)  # a turn is under way
TRANSITIONS: dict[tuple[LoopState, TurnEvent], LoopState] = {
    (S.LISTENING, E.VOICE_STARTED): S.HEARING,
    (S.HEARING, E.VOICE_STOPPED): S.LISTENING,  # too short to be an utterance
    (S.LISTENING, E.UTTERANCE): S.TRANSCRIBING,  # one kept from the last turn's thinking
    (S.HEARING, E.UTTERANCE): S.TRANSCRIBING,
    (S.TRANSCRIBING, E.TRANSCRIBED): S.THINKING,
    (S.THINKING, E.REPLY_STARTED): S.SPEAKING,
    (S.TRANSCRIBING, E.REPLY_STARTED): S.SPEAKING,  # an early start already had the words
    **{(s, E.ASKED): S.CONFIRMING for s in TURN},
    (S.CONFIRMING, E.ANSWERED): S.THINKING,
    (S.SPEAKING, E.BARGED_IN): S.HEARING,  # what they said over the reply starts the next utterance
    **{(s, E.TURN_DONE): S.LISTENING for s in TURN},
    **{(s, E.MIC_LOST): S.MIC_LOST for s in LoopState if s is not S.MIC_LOST},
    (S.MIC_LOST, E.MIC_BACK): S.LISTENING,
}
"""(state, event) -> next state: every move the listen loop can make, and no other."""

FED: dict[LoopState, frozenset[Consumer]] = {
    S.LISTENING: frozenset({Consumer.SEGMENTER, Consumer.WAKE_WORD}),
    S.HEARING: frozenset({Consumer.SEGMENTER, Consumer.SMART_TURN, Consumer.WAKE_WORD}),
    S.TRANSCRIBING: frozenset({Consumer.OVERHEAR}),
    S.THINKING: frozenset({Consumer.OVERHEAR}),
    # our own voice is in the microphone: only the watcher that knows how loud our echo is listens
    S.SPEAKING: frozenset({Consumer.BARGE_IN}),
    S.CONFIRMING: frozenset({Consumer.YES_NO}),
    S.MIC_LOST: frozenset(),
}
"""Which consumers get the microphone's frames in each state."""


class TransitionError(VoiceloopError):
    """A move not in TRANSITIONS: a bug in the listen loop, raised where it happens (tests see it)."""


class TurnMachine:
    """The listen loop's state, moved only along TRANSITIONS; remembers what the current turn went through.

    More than one thread moves it (the listen loop, and the speech worker as the reply's first sound starts), so
    every move holds `lock`; a caller that looks before it moves (can, then fire) holds it across both."""

    def __init__(self, state: LoopState = LoopState.LISTENING) -> None:
        self.lock = threading.RLock()
        self.state = state
        self.visited: set[LoopState] = {state}
        """The states entered since the last utterance began a turn (did it speak? did it ask?)."""

    def fire(self, event: TurnEvent) -> LoopState:
        """Move on `event`; the new state. Raises TransitionError for a move the table does not have."""
        with self.lock:
            nxt = TRANSITIONS.get((self.state, event))
            if nxt is None:
                allowed = ", ".join(e.value for (s, e) in TRANSITIONS if s is self.state)
                raise TransitionError(
                    f"turn machine: no move on '{event.value}' while {self.state.value}; from here: {allowed}"
                )
            if event is TurnEvent.UTTERANCE:
                self.visited = set()
            self.state = nxt
            self.visited.add(nxt)
            return nxt

    def can(self, event: TurnEvent) -> bool:
        with self.lock:
            return (self.state, event) in TRANSITIONS

    @property
    def fed(self) -> frozenset[Consumer]:
        """The consumers fed in the current state."""
        return FED[self.state]
