"""The turn engine: runs the turns the listen loop hears, one at a time and in the order they were said, with the
handlers that listen while a turn runs: the overhearing while it thinks (what is said then is kept, and queued as
the next turns), the barge-in watcher while the reply plays, and the write prompt, which borrows the microphone.

The loop hears; the engine answers. What someone says over a reply is heard by the loop to its end and queued
behind the turns already waiting: a question kept while a turn thought is answered before one said later over that
turn's reply, and only the one said over the reply is judged as a talk-over ("stop" ends the reply there)."""

from __future__ import annotations

import collections
import contextlib
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from enum import Enum

import numpy as np
from rich.console import Console

from voiceloop.agent.assistant import Assistant
from voiceloop.agent.turn import HeadStart
from voiceloop.audio.vad import Segmenter, Utterance
from voiceloop.errors import LLMError, VoiceloopError
from voiceloop.listen.activation import is_stop
from voiceloop.listen.bargein import barge_in_for
from voiceloop.listen.early import EarlyStart
from voiceloop.listen.live import LiveView
from voiceloop.listen.overhear import Overhear
from voiceloop.listen.speculate import SpeculativeLLM
from voiceloop.listen.switchboard import Switchboard
from voiceloop.listen.turn_clock import Clock, trace_turn
from voiceloop.listen.ui import error_line, heard_line, print_turn
from voiceloop.state import Consumer, LoopState, TurnEvent
from voiceloop.stt.transcript import Transcript

KEPT = "[dim]kept what you said while I was thinking[/dim]"
INTERRUPTED = "[yellow]interrupted[/yellow] — you spoke, so I stopped; listening"


class Said(Enum):
    """When an utterance was said, as far as its turn cares."""

    LISTENING = "while listening"
    KEPT = "while a turn was thinking"
    TALKED_OVER = "over the reply"


@dataclass(frozen=True)
class Pending:
    """An utterance waiting for its turn."""

    utt: Utterance
    said: Said = Said.LISTENING
    heard: Transcript | None = None
    """Its transcript when the gate already made one (wake word), else None."""
    clock: Clock | None = None
    """Its turn's clock, started at the end of its speech; None for one kept (a fresh clock when it runs)."""


class TurnEnd(Enum):
    """How a turn left the microphone, which decides what the listen loop does next."""

    QUIET = "nothing played"  # no echo to wait out; speech under way goes on in the loop
    ECHO = "played"  # the loop waits out the echo tail
    TALKED_OVER = "talked over"  # the loop hears the rest of what they said over the reply


@dataclass(frozen=True)
class Outcome:
    end: TurnEnd
    cut: bool = False
    """Its utterance was cut at vad.max_utterance_s: the speech goes on, and its next piece is wanted."""
    theirs: np.ndarray | None = None
    """With TALKED_OVER: what the person said over the reply so far (pre-roll included)."""


class TurnEngine:
    """Holds the queue of utterances waiting for their turn and runs them, first in first out."""

    def __init__(
        self,
        assistant: Assistant,
        board: Switchboard,
        segmenter: Segmenter,
        console: Console,
        view: LiveView,
        stop: threading.Event,
        early: tuple[EarlyStart[HeadStart] | None, SpeculativeLLM | None] | None,
    ) -> None:
        self.assistant = assistant
        self.board = board
        self.machine = board.machine
        self.segmenter = segmenter
        self.console = console
        self.view = view
        self.stop = stop
        self.always = early is not None
        """Every sentence is a turn: early work and overhearing are for sentences sure to be turns."""
        self.early, self.speculated = early if early is not None else (None, None)
        self.queue: collections.deque[Pending] = collections.deque()
        self.turns = 0
        self.last_head: HeadStart | None = None
        """What the early start handed the last turn (its transcript and intents), or None."""
        self._overhear: Overhear | None = None
        self._lent = 0  # the write prompt holds the microphone (nested holds counted)
        assistant.before_reply = self._before_reply

    def submit(self, pending: Pending) -> None:
        self.queue.append(pending)

    def next(self) -> Outcome:
        """Run the first queued turn (the queue must not be empty)."""
        pending = self.queue.popleft()
        utt, heard = pending.utt, pending.heard
        if pending.said is Said.KEPT:
            self.console.print(KEPT, highlight=False)
        if utt.clipped:  # it began while we were not listening: acting on half a sentence is worse than asking
            if self.early is not None:
                self.early.discard()
            self.console.print(
                "[yellow]ignored[/yellow] speech that began while I was not listening; please say it again",
                highlight=False,
            )
            return Outcome(TurnEnd.QUIET)
        self.board.move(TurnEvent.UTTERANCE, show=False)  # loop's tap off till the echo tail; the assistant shows
        try:
            if pending.said is Said.TALKED_OVER:  # what they said over the reply: "stop" ends it there
                heard = heard or self.assistant.transcriber.transcribe(utt.samples)
                if is_stop(heard.text):
                    self.console.print(heard_line(heard.text, "stopped"))
                    self.board.move(TurnEvent.TURN_DONE, show=False)
                    return Outcome(TurnEnd.ECHO, utt.cut)
            self.turns += 1
            self._overhear = self._overhearing()  # thinking has begun: what they say now is kept
            head = HeadStart(heard) if heard is not None else None
            if head is None and self.early is not None and pending.said is not Said.KEPT:
                self.view.set_state(LoopState.THINKING)  # the utterance is over; what is left is the early work
                head = self.early.take(utt)
            self.last_head = head
            return self._run(utt, head, pending.clock or Clock())
        finally:
            if self.speculated is not None:
                self.speculated.drop_all()  # an early reply the turn did not take is closed now
            if self.machine.state not in (LoopState.LISTENING, LoopState.HEARING):
                self.board.move(TurnEvent.TURN_DONE)  # an error on the way: listen again

    def _overhearing(self) -> Overhear | None:
        """A watcher for speech while the turn thinks (always mode: every sentence is a turn)."""
        if not self.always:
            return None
        overhear = Overhear(self.board.open(Consumer.OVERHEAR, "overhear"), self.segmenter, self.stop)
        overhear.start()
        return overhear

    def _run(self, utt: Utterance, head: HeadStart | None, clock: Clock) -> Outcome:
        """Run the turn; what was said while it thought is queued behind the turns already waiting."""
        overhear, self._lent = self._overhear, 0
        # a watcher for the person talking over the reply (vad.barge_in), its tap fed only while the reply plays
        watcher = barge_in_for(self.assistant, lambda: self.board.open(Consumer.BARGE_IN, "barge-in"))
        if watcher is not None:
            watcher.start()
        try:
            turn = self.assistant.handle(utt, clock, head)
            print_turn(self.console, turn)
            trace_turn(clock, turn, self.early, self.speculated, head)
            self.view.set_turn(turn.transcript, turn.reply, turn.timings_ms)
        except (LLMError, VoiceloopError, OSError) as e:
            self.console.print(error_line(e, " — still listening"), soft_wrap=True)
        finally:
            with self.board.lock:  # looked at and moved in one step (the speech worker moves it too)
                barged = watcher is not None and watcher.triggered.is_set() and self.machine.can(TurnEvent.BARGED_IN)
                # the loop's tap takes over in the same step: the watcher's and overhearing's rest is theirs
                self.board.move(TurnEvent.BARGED_IN if barged else TurnEvent.TURN_DONE, show=False)
            theirs = watcher.finish() if watcher is not None else None
            if overhear is not None:
                overhear.stop()
            self._overhear = None
            self.board.close_turn()
        self.queue.extend(Pending(kept, Said.KEPT) for kept in (overhear.heard if overhear is not None else []))
        if theirs is not None:  # they spoke over the reply: what they said is heard to its end, then queued
            self.console.print(INTERRUPTED, highlight=False)
            return Outcome(TurnEnd.TALKED_OVER, utt.cut, theirs)
        if overhear is not None and not self.machine.visited & {LoopState.SPEAKING, LoopState.CONFIRMING}:
            return Outcome(TurnEnd.QUIET, utt.cut)  # nothing was played, so no echo to wait out
        return Outcome(TurnEnd.ECHO, utt.cut)

    def _before_reply(self) -> None:
        """Just before the reply's first sound: wait while they are still talking, then stop overhearing."""
        if LoopState.SPEAKING in self.machine.visited:
            return
        if self._overhear is not None:
            self._overhear.settle(self.assistant.cfg.vad.max_utterance_s)
        self.board.move(TurnEvent.REPLY_STARTED)  # the barge-in watcher is fed from here

    @contextlib.contextmanager
    def lend_mic(self) -> Iterator[None]:
        """The write prompt has the microphone (a spoken yes/no, or the keyboard): nothing else reads it."""
        self._lent += 1
        if self._lent == 1:
            if self._overhear is not None:
                self._overhear.stop()  # what was said before the prompt is kept; the rest is the prompt's
            self.board.move(TurnEvent.ASKED)
        try:
            yield
        finally:
            self._lent -= 1
            if not self._lent:
                with self.board.lock:
                    self.board.move(TurnEvent.ANSWERED)
                    if LoopState.SPEAKING in self.machine.visited:  # the reply had begun: it goes on
                        self.board.move(TurnEvent.REPLY_STARTED)
