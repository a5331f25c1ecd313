"""The turn engine: runs the turns the listen loop hears on a worker of its own ("voiceloop-turn"), one at a time
and in the order they were said, while the loop goes on reading the microphone and feeding what it hears to the
turn's handlers: the overhearing while a turn thinks (what is said then is queued as the next turns), the barge-in
watcher while the reply plays (listen/bargein.py). The write prompt borrows the microphone (lend_mic).

The loop hears; the engine answers. What someone says over a reply is heard by the loop to its end (the engine
holds the next turn meanwhile) and queued behind the turns already waiting: a question kept while a turn thought
is answered before one said later over that turn's reply, and only the one said over the reply is judged as a
talk-over ("stop" ends the reply there)."""

from __future__ import annotations

import collections
import contextlib
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from enum import Enum

from rich.console import Console

from voiceloop.agent.assistant import Assistant
from voiceloop.agent.turn import HeadStart
from voiceloop.audio.vad import Utterance
from voiceloop.errors import LLMError, VoiceloopError
from voiceloop.listen.activation import is_stop
from voiceloop.listen.bargein import BargeIn, barge_in_for
from voiceloop.listen.early import EarlyStart
from voiceloop.listen.live import LiveView
from voiceloop.listen.speculate import SpeculativeLLM
from voiceloop.listen.switchboard import Switchboard
from voiceloop.listen.turn_clock import Clock, trace_turn
from voiceloop.listen.ui import error_line, heard_line, print_turn
from voiceloop.runtime import spawn
from voiceloop.state import LoopState, TurnEvent
from voiceloop.stt.transcript import Transcript

KEPT = "[dim]kept what you said while I was thinking[/dim]"
INTERRUPTED = "[yellow]interrupted[/yellow] — you spoke, so I stopped; listening"
WAIT_S = 0.1  # every wait of the worker and for it is this short, so a stop request is seen quickly
JOIN_S = 1.0


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
    ECHO = "played"  # the loop drops the echo tail
    TALKED_OVER = "talked over"  # the loop is hearing the rest of what they said over the reply


@dataclass(frozen=True)
class Outcome:
    end: TurnEnd
    cut: bool = False
    """Its utterance was cut at vad.max_utterance_s: the speech goes on, and its next piece is wanted."""


class TurnEngine:
    """Holds the queue of utterances waiting for their turn and runs them on its worker, first in first out.

    on_end(outcome) is called on the worker as each turn ends, under the machine's lock and in the same step as the
    move that ends it, so the loop's next chunk is judged with it (the echo tail starts there)."""

    def __init__(
        self,
        assistant: Assistant,
        board: Switchboard,
        console: Console,
        view: LiveView,
        stop: threading.Event,
        early: tuple[EarlyStart[HeadStart] | None, SpeculativeLLM | None] | None,
        on_end: Callable[[Outcome], None],
        talking: Callable[[], bool],
    ) -> None:
        self.assistant = assistant
        self.board = board
        self.machine = board.machine
        self.console = console
        self.view = view
        self.stop = stop
        self.on_end = on_end
        self.talking = talking
        """Whether the person is talking now, as the loop's segmenter hears it (the reply waits for them)."""
        self.always = early is not None
        """Every sentence is a turn: early work and overhearing are for sentences sure to be turns."""
        self.early, self.speculated = early if early is not None else (None, None)
        self.queue: collections.deque[Pending] = collections.deque()
        self.turns = 0
        self.last_head: HeadStart | None = None
        """What the early start handed the last turn (its transcript and intents), or None."""
        self.watcher: BargeIn | None = None
        """The barge-in watcher of the reply under way; the loop feeds it (under the machine's lock)."""
        self.hearing = threading.Lock()
        """Held by the loop while it handles one chunk: the write prompt takes the segmenter only between chunks."""
        self.limit: int | None = None
        self.failed: BaseException | None = None
        """What ended the worker, other than a stop: raised again on the loop's thread (check)."""
        self._cond = threading.Condition()
        self._running = False
        self._holds: set[str] = set()
        self._closed = False
        self._thread: threading.Thread | None = None
        self._lent = 0  # the write prompt holds the microphone (nested holds counted)
        assistant.before_reply = self._before_reply

    def start(self, limit: int | None = None) -> None:
        """Start the worker; it takes no new turn once `limit` turns have run."""
        self.limit = limit
        self._thread = spawn("voiceloop-turn", self._work)

    def close(self) -> None:
        """The worker stops once its turn under way ends (bounded join: a stopped session does not wait it out)."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(JOIN_S)

    def submit(self, pending: Pending) -> None:
        with self._cond:
            self.queue.append(pending)
            self._cond.notify_all()

    def hold(self, reason: str, on: bool) -> None:
        """While any hold is on, no next turn starts (the one under way goes on)."""
        with self._cond:
            if on:
                self._holds.add(reason)
            else:
                self._holds.discard(reason)
            self._cond.notify_all()

    @property
    def idle(self) -> bool:
        """No turn under way and none waiting."""
        with self._cond:
            return not self._running and not self.queue

    @property
    def running(self) -> bool:
        with self._cond:
            return self._running

    @property
    def done(self) -> bool:
        """`limit` turns have run to their end."""
        with self._cond:
            return self.limit is not None and self.turns >= self.limit and not self._running

    def check(self) -> None:
        """Raise what ended the worker, on the caller's thread."""
        if self.failed is not None:
            raise self.failed

    def wait(self, until: Callable[[], bool]) -> None:
        """Wait, in bounded steps, until `until()` or a stop (a worker's failure is raised)."""
        while not self.stop.is_set() and not until():
            self.check()
            with self._cond:
                self._cond.wait(WAIT_S)
        self.check()

    def _ready(self) -> bool:
        full = self.limit is not None and self.turns >= self.limit
        return bool(self.queue) and not self._holds and not full

    def _work(self) -> None:
        try:
            while True:
                with self._cond:
                    while not (self.stop.is_set() or self._closed or self._ready()):
                        self._cond.wait(WAIT_S)
                    if self.stop.is_set() or self._closed:
                        return
                    pending, self._running = self.queue.popleft(), True
                try:
                    self._turn(pending)
                finally:
                    with self._cond:
                        self._running = False
                        self._cond.notify_all()
        except BaseException as e:  # a bug: the loop raises it where `listen` reports it
            self.failed = e

    def _turn(self, pending: Pending) -> None:
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
            return
        self.board.move(TurnEvent.UTTERANCE, show=False)  # the assistant shows where the turn is
        try:
            if pending.said is Said.TALKED_OVER:  # what they said over the reply: "stop" ends it there
                heard = heard or self.assistant.transcriber.transcribe(utt.samples)
                if is_stop(heard.text):
                    self.console.print(heard_line(heard.text, "stopped"))
                    with self.board.lock:
                        self.on_end(Outcome(TurnEnd.ECHO, utt.cut))
                        self.board.move(TurnEvent.TURN_DONE, show=False)
                    return
            with self._cond:
                self.turns += 1
            head = HeadStart(heard) if heard is not None else None
            if head is None and self.early is not None and pending.said is not Said.KEPT:
                self.view.set_state(LoopState.THINKING)  # the utterance is over; what is left is the early work
                head = self.early.take(utt)
            self.last_head = head
            self._run(utt, head, pending.clock or Clock())
        finally:
            if self.speculated is not None:
                self.speculated.drop_all()  # an early reply the turn did not take is closed now
            with self.board.lock:
                if self.machine.state not in (LoopState.LISTENING, LoopState.HEARING):
                    self.on_end(Outcome(TurnEnd.ECHO, utt.cut))
                    self.board.move(TurnEvent.TURN_DONE)  # an error on the way: listen again

    def _run(self, utt: Utterance, head: HeadStart | None, clock: Clock) -> None:
        """Run the turn; the loop feeds the barge-in watcher while its reply plays (vad.barge_in)."""
        self._lent = 0
        self.watcher = barge_in_for(self.assistant)
        try:
            turn = self.assistant.handle(utt, clock, head)
            print_turn(self.console, turn)
            trace_turn(clock, turn, self.early, self.speculated, head)
            self.view.set_turn(turn.transcript, turn.reply, turn.timings_ms)
        except (LLMError, VoiceloopError, OSError) as e:
            if not self.stop.is_set():  # a stopped session is not still listening
                self.console.print(error_line(e, " — still listening"), soft_wrap=True)
        finally:
            with self.board.lock:  # looked at and moved in one step; the loop judges its next chunk by both
                watcher, self.watcher = self.watcher, None
                barged = watcher is not None and watcher.triggered.is_set() and self.machine.can(TurnEvent.BARGED_IN)
                if barged:
                    end = TurnEnd.TALKED_OVER
                elif self.always and not self.machine.visited & {LoopState.SPEAKING, LoopState.CONFIRMING}:
                    end = TurnEnd.QUIET  # nothing was played, so no echo to wait out
                else:
                    end = TurnEnd.ECHO
                self.on_end(Outcome(end, utt.cut))
                self.board.move(TurnEvent.BARGED_IN if barged else TurnEvent.TURN_DONE, show=end is not TurnEnd.ECHO)
        if barged:
            self.console.print(INTERRUPTED, highlight=False)

    def _before_reply(self) -> None:
        """Just before the reply's first sound: wait (bounded) while they are still talking; from then on the
        loop feeds the barge-in watcher instead of the overhearing."""
        if LoopState.SPEAKING in self.machine.visited:
            return
        if self.always and LoopState.CONFIRMING not in self.machine.visited:
            waited = 0.0
            while self.talking() and waited < self.assistant.cfg.vad.max_utterance_s and not self.stop.is_set():
                self.stop.wait(WAIT_S / 2)
                waited += WAIT_S / 2
        self.board.move(TurnEvent.REPLY_STARTED)

    @contextlib.contextmanager
    def lend_mic(self) -> Iterator[None]:
        """The write prompt has the microphone (a spoken yes/no, or the keyboard): nothing else reads it, and the
        overhearing does not come back in this turn."""
        self._lent += 1
        if self._lent == 1:
            with self.hearing:  # the loop is between chunks: the segmenter is the prompt's from here
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
