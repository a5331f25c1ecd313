"""The always-listening loop: mic -> capture bus -> frames -> segmenter -> utterances, queued in the order they
were said for the turn engine (listen/engine.py), which runs them on its own worker. The loop never waits for a
turn: it reads the bus the whole time and hands each chunk to whoever the turn machine's state says hears it
(the segmenter; the overhearing while a turn thinks; the barge-in watcher while the reply plays), and drops the
echo tail after a reply by the chunks' capture times (half-duplex, unless barge-in is on).

Its state moves only through the turn machine (voiceloop/state.py), which also decides whether the loop's tap
is fed at all (listen/switchboard.py); the write prompt's spoken yes/no reads a tap of its own."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable

from rich.console import Console

from voiceloop.agent.assistant import Assistant
from voiceloop.agent.turn import HeadStart
from voiceloop.audio.bus import AudioChunk, CaptureBus
from voiceloop.audio.formats import rms_dbfs
from voiceloop.audio.frames import FrameChunker
from voiceloop.audio.mic import AudioSource
from voiceloop.audio.vad import Segmenter, SegState, Utterance
from voiceloop.errors import AudioDeviceError
from voiceloop.listen.activation import AlwaysGate, Gate
from voiceloop.listen.bargein import barge_in_on
from voiceloop.listen.echo import EchoTail, Hush, echo_tail
from voiceloop.listen.engine import Outcome, Pending, Said, TurnEnd, TurnEngine
from voiceloop.listen.live import LiveView
from voiceloop.listen.ptt import PushToTalk
from voiceloop.listen.speculate import early_start_for
from voiceloop.listen.switchboard import Switchboard
from voiceloop.listen.turn_clock import Clock, speech_clock
from voiceloop.listen.ui import error_line
from voiceloop.state import Consumer, LoopState, TurnEvent

READ_TIMEOUT_S = 0.1  # every wait is bounded so a stop request is seen quickly
REOPEN_EVERY_S = 2.0  # how often a lost microphone is tried again
TALKED_OVER_S = 1.0
"""What was said over a reply and caught by barge-in is heard to its end as one utterance; when the segmenter is
still not inside one this long after the trigger (too short, a cough), there is none, and the queued turns go on."""
AUDIO_IN = "audio is coming in — speak any time"
"""Printed once the microphone has really delivered (and again after it is reopened): a fresh capture stream can
take seconds to start, and speech before this line is not heard."""
HEARD_OVER = "hearing what was said over the reply"  # the engine's next turn waits for it
MIC_GONE = "the microphone is lost"  # and for it to come back

OpenSource = Callable[[], AudioSource]


class Listener:
    """Feeds microphone chunks to the segmenter and queues each utterance for the turn engine.

    `reopen`, when given, rebuilds the microphone after it is lost (unplugged, sound server
    restarted); the loop keeps trying every REOPEN_EVERY_S and says so.
    """

    def __init__(
        self,
        assistant: Assistant,
        source: AudioSource,
        segmenter: Segmenter,
        console: Console,
        reopen: OpenSource | None = None,
        stop: threading.Event | None = None,
        view: LiveView | None = None,
        gate: Gate | None = None,
        ptt: PushToTalk | None = None,
    ) -> None:
        self.assistant = assistant
        self.gate: Gate = gate or AlwaysGate()
        """Which utterances are turns (listen.mode); push_to_talk makes its own utterances (`ptt`)."""
        self.ptt = ptt
        self._talked_over: float | None = None
        """time.monotonic() when barge-in caught speech over a reply, until that speech is heard to its end."""
        self.segmenter = segmenter
        self.console = console
        self.reopen = reopen
        self.view = view or LiveView(console)
        """The live status line; voiceloop.cli hands the same view to the assistant (on_stage) and the confirmer."""
        self.stop = stop or threading.Event()
        """The session's stop token (Ctrl-C, SIGTERM): every wait in the loop is bounded and checks it."""
        self.bus = CaptureBus(source, self.stop)
        """The one reader of the microphone; everything here reads a tap of it."""
        always = isinstance(self.gate, AlwaysGate) and ptt is None  # every sentence is a turn
        # the loop hears while a turn thinks (always mode) and while its reply plays (barge-in)
        handlers = {Consumer.OVERHEAR} if always else set()
        handlers |= {Consumer.BARGE_IN} if barge_in_on(assistant) else set()
        self.board = Switchboard(self.bus, self.view, handlers)
        self.tap = self.board.loop
        self.machine = self.board.machine
        self._audio_in = False  # AUDIO_IN was printed for this microphone
        self.frames = FrameChunker(segmenter.frame_samples)
        self.hush = Hush(assistant.speaker, segmenter, self.frames)  # the reply's end and its echo tail
        self.talking = False
        """The segmenter is inside an utterance (the reply waits while the person is talking)."""
        self._tail: EchoTail | None = None
        """The echo tail after the last reply, while the loop drops it."""
        early = early_start_for(assistant, segmenter) if always else None
        self.engine = TurnEngine(
            assistant, self.board, console, self.view, self.stop, early, self._ended, lambda: self.talking
        )
        """Runs the turns heard, in order, on its own worker."""
        self.early, self.speculated = self.engine.early, self.engine.speculated

    @property
    def turns(self) -> int:
        return self.engine.turns

    @property
    def last_head(self) -> HeadStart | None:
        """What the early start handed the last turn (its transcript and intents), or None."""
        return self.engine.last_head

    def lend_mic(self) -> contextlib.AbstractContextManager[None]:
        """The write prompt has the microphone (a spoken yes/no, or the keyboard): nothing else reads it."""
        return self.engine.lend_mic()

    @property
    def source(self) -> AudioSource:
        """The microphone now (a reopened one replaces a lost one)."""
        return self.bus.source

    def run(self, max_turns: int | None = None) -> None:
        self.view.hint = self.ptt.hint if self.ptt is not None else self.gate.hint
        self.bus.start()
        self.engine.start(max_turns)
        try:
            with self.view:
                self._loop()
        finally:
            self.engine.close()
            self.bus.halt()

    def _loop(self) -> None:
        while not self.stop.is_set() and not self.engine.done:
            self.engine.check()
            try:
                chunk = self.tap.next(READ_TIMEOUT_S)
            except AudioDeviceError as e:
                self._recover(e)
                continue
            if chunk is None:
                if self.tap.finished:  # a recording, not a live mic: it has ended
                    with self.engine.hearing:
                        last = self.segmenter.flush()
                        if last is not None and self._talked_over is None:
                            self.engine.submit(Pending(last))
                        elif last is not None:
                            self._heard_over(last, None)
                    self.engine.wait(lambda: self.engine.idle or self.engine.done)
                    return
                continue
            if not self._audio_in:
                self._audio_in = True
                self.console.print(f"[dim]{AUDIO_IN}[/dim]", highlight=False)
            self.view.set_level(rms_dbfs(chunk.samples), self.source.overflows + self.tap.dropped)
            with self.engine.hearing:
                self._hear(chunk)

    def _hear(self, chunk: AudioChunk) -> None:
        """One chunk, to whoever the state says hears it: the echo tail drops it; what was said over a reply is
        heard to its end; while the reply plays the barge-in watcher judges it; while a turn thinks the overhearing
        keeps what is said; else the segmenter (or the space bar) makes turns of it."""
        with self.board.lock:  # the turn's end (its move and its echo tail) is one step on the worker
            tail, state = self._tail, self.machine.state
        if tail is not None and self._talked_over is None:
            if tail.deaf(chunk):
                self.hush.hear(chunk, self.bus.live)
                return
            self._tail = None
            if tail.cut or not self.hush.follows(chunk):  # else it heard the silence since our voice (echo.Hush)
                self.segmenter.reset(resumed=not tail.cut)  # else speech already under way is a clip, not a turn
                self.frames.reset()
            self.board.show()
        if self._talked_over is not None:
            self.gate.hear(chunk.samples)
            self._feed(chunk, Said.TALKED_OVER)  # their words over our echo's tail: plain
        elif state is LoopState.SPEAKING:
            self._barge(chunk)
        elif state in (LoopState.TRANSCRIBING, LoopState.THINKING):
            if self.engine.always and LoopState.CONFIRMING not in self.machine.visited:
                self._feed(chunk, Said.KEPT)
        elif state in (LoopState.LISTENING, LoopState.HEARING):
            self.gate.hear(chunk.samples)
            if self.ptt is None:
                self._feed(chunk, Said.LISTENING)
                return
            said = self.ptt.feed(chunk.samples)
            if said is not None:
                self.engine.submit(Pending(said))
            self.board.hearing(self.ptt.talking)

    def _barge(self, chunk: AudioChunk) -> None:
        """The reply plays: the barge-in watcher judges the chunk. Once they talk over it, what they said so far
        starts the loop's next utterance, and the next turn waits until it is heard to its end."""
        with self.board.lock:
            watcher = self.engine.watcher
            if watcher is None or self.machine.state is not LoopState.SPEAKING:
                return
            if not watcher.feed(chunk):
                self.hush.hear(chunk, self.bus.live)
                return
            theirs = watcher.caught()
        self.segmenter.reset()
        self.frames.reset(theirs)
        self._talked_over = time.monotonic()
        self.engine.hold(HEARD_OVER, True)

    def _feed(self, chunk: AudioChunk, said: Said) -> None:
        """Feed the chunk's frames to the segmenter; each utterance it ends is queued for the turn engine."""
        samples = chunk.plain if said is Said.TALKED_OVER and chunk.plain is not None else chunk.samples
        frames = self.frames.push(samples)
        for i, frame in enumerate(frames):
            silent, utt = self.segmenter.silence_frames, self.segmenter.feed(frame)
            self.talking = self.segmenter.state is SegState.SPEECH
            if utt is None:
                if said is Said.LISTENING and self.early is not None and self.engine.idle:
                    self.early.watch(self.segmenter)  # a turn under way has taken its early work
                self.board.hearing(self.talking)
                self._talk_over_lost()
            elif said is Said.KEPT:
                if not utt.clipped:
                    self.engine.submit(Pending(utt, Said.KEPT))
            else:
                clock = speech_clock(chunk, self.frames, len(frames) - i - 1, 0 if utt.cut else silent)
                if said is Said.TALKED_OVER:
                    self._heard_over(utt, clock)
                    said = Said.LISTENING  # the rest of the chunk is heard as any other
                    continue
                admitted, heard = self.gate.admit(utt)
                if admitted:
                    self.engine.submit(Pending(utt, said, heard, clock))

    def _heard_over(self, utt: Utterance, clock: Clock | None) -> None:
        """What was said over the reply, heard to its end: queued behind the turns waiting, and they go on."""
        self._talked_over = None
        self.engine.submit(Pending(utt, Said.TALKED_OVER, None, clock))
        self.engine.hold(HEARD_OVER, False)

    def _talk_over_lost(self) -> None:
        """Barge-in caught speech over a reply that did not become an utterance (too short): TALKED_OVER_S after
        the trigger the segmenter is not inside one. The queued turns go on."""
        since = self._talked_over
        if since is None or self.segmenter.state is SegState.SPEECH or time.monotonic() - since < TALKED_OVER_S:
            return
        self._talked_over = None
        self.engine.hold(HEARD_OVER, False)

    def _ended(self, outcome: Outcome) -> None:
        """The turn engine's worker: a turn has ended (under the machine's lock); after a reply the loop drops
        the echo tail (half-duplex), counted from the reply's last audible sound."""
        if outcome.end is TurnEnd.ECHO:
            tail_ms = self.assistant.cfg.vad.echo_tail_ms
            self._tail = echo_tail(self.assistant.speaker, tail_ms, self.bus.live, outcome.cut)

    def _recover(self, error: AudioDeviceError) -> None:
        """The microphone is gone: say so, then try to reopen it until it is back or we are stopped."""
        if self.reopen is None:
            raise error
        self.engine.hold(MIC_GONE, True)  # a turn under way ends first (its reply still plays); the next waits
        try:
            self.engine.wait(lambda: not self.engine.running)
            if self.stop.is_set():
                return
            self._reopen(error, self.reopen)
        finally:
            self.engine.hold(MIC_GONE, False)

    def _reopen(self, error: AudioDeviceError, reopen: OpenSource) -> None:
        self.board.move(TurnEvent.MIC_LOST)
        self.console.print(error_line(error, f" — retrying every {REOPEN_EVERY_S:.0f} s"), soft_wrap=True)
        self.source.close()
        with self.engine.hearing:
            self.segmenter.reset(resumed=True)
            self.frames.reset()
            self._tail = self._talked_over = self.hush.last = None
        self.engine.hold(HEARD_OVER, False)
        while not self.stop.is_set():
            if self.stop.wait(REOPEN_EVERY_S):
                return
            try:
                self.bus.replace(reopen())
            except AudioDeviceError:
                continue
            self.console.print("[green]microphone is back[/green]", highlight=False)
            self._audio_in = False
            self.board.move(TurnEvent.MIC_BACK)
            return
