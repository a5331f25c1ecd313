"""The always-listening loop: mic -> capture bus -> frames -> segmenter -> turn, half-duplex while speaking.

Its state moves only through the turn machine (voiceloop/state.py), which decides which taps of the bus are
fed (listen/switchboard.py): the loop's own, the overhearing, the barge-in watcher, the write prompt's."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator

import numpy as np
from rich.console import Console

from voiceloop.agent.assistant import Assistant
from voiceloop.agent.turn import HeadStart
from voiceloop.audio.bus import CaptureBus
from voiceloop.audio.formats import rms_dbfs
from voiceloop.audio.frames import FrameChunker
from voiceloop.audio.mic import AudioSource
from voiceloop.audio.vad import Segmenter, SegState, Utterance
from voiceloop.errors import AudioDeviceError, LLMError, VoiceloopError
from voiceloop.listen.activation import AlwaysGate, Gate, is_stop
from voiceloop.listen.bargein import BargeIn, barge_in_for
from voiceloop.listen.echo import echo_tail_left
from voiceloop.listen.live import LiveView
from voiceloop.listen.overhear import Overhear
from voiceloop.listen.ptt import PushToTalk
from voiceloop.listen.speculate import early_start_for
from voiceloop.listen.switchboard import Switchboard
from voiceloop.listen.turn_clock import Clock, speech_clock, trace_turn
from voiceloop.listen.ui import error_line, heard_line, print_turn
from voiceloop.state import Consumer, LoopState, TurnEvent
from voiceloop.stt.transcript import Transcript

READ_TIMEOUT_S = 0.1  # every wait is bounded so a stop request is seen quickly
REOPEN_EVERY_S = 2.0  # how often a lost microphone is tried again
AUDIO_IN = "audio is coming in — speak any time"
"""Printed once the microphone has really delivered (and again after it is reopened): a fresh capture stream can
take seconds to start, and speech before this line is not heard."""

OpenSource = Callable[[], AudioSource]


class Listener:
    """Feeds microphone chunks to the segmenter and runs a turn for each utterance.

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
        self._barged_in = False
        self._watcher: BargeIn | None = None
        self._overhear: Overhear | None = None
        self._lent = 0  # the write prompt holds the microphone (nested holds counted)
        self.max_turns: int | None = None
        self.segmenter = segmenter
        self.console = console
        self.reopen = reopen
        self.view = view or LiveView(console)
        """The live status line; voiceloop.cli hands the same view to the assistant (on_stage) and the confirmer."""
        self.stop = stop or threading.Event()
        """The session's stop token (Ctrl-C, SIGTERM): every wait in the loop is bounded and checks it."""
        self.bus = CaptureBus(source, self.stop)
        """The one reader of the microphone; everything here reads a tap of it."""
        self.board = Switchboard(self.bus, self.view)
        self.tap = self.board.loop
        self.machine = self.board.machine
        self.turns = 0
        self._cut = False
        self._audio_in = False  # AUDIO_IN was printed for this microphone
        self.last_head: HeadStart | None = None
        """What the early start handed the last turn (its transcript and intents), or None."""
        self.frames = FrameChunker(segmenter.frame_samples)
        self.always = isinstance(self.gate, AlwaysGate) and ptt is None
        """Every sentence is a turn: early work and overhearing are for sentences sure to be turns."""
        self.early, self.speculated = early_start_for(assistant, segmenter) if self.always else (None, None)
        assistant.before_reply = self._before_reply

    @property
    def source(self) -> AudioSource:
        """The microphone now (a reopened one replaces a lost one)."""
        return self.bus.source

    def run(self, max_turns: int | None = None) -> None:
        self.max_turns = max_turns
        self.view.hint = self.ptt.hint if self.ptt is not None else self.gate.hint
        self.bus.start()
        try:
            with self.view:
                self._loop(max_turns)
        finally:
            self.bus.halt()

    def _loop(self, max_turns: int | None) -> None:
        while not self.stop.is_set():
            try:
                chunk = self.tap.read(READ_TIMEOUT_S, plain=self._barged_in)  # its echo tail, plain
            except AudioDeviceError as e:
                self._recover(e)
                continue
            if chunk is None:
                if self.tap.finished:  # a recording, not a live mic: it has ended
                    last = self.segmenter.flush()
                    if last is not None:
                        self._turn(last)
                    return
                continue
            if not self._audio_in:
                self._audio_in = True
                self.console.print(f"[dim]{AUDIO_IN}[/dim]", highlight=False)
            self.view.set_level(rms_dbfs(chunk), self.source.overflows + self.tap.dropped)
            self.gate.hear(chunk)
            if self.ptt is not None and not self._barged_in:
                said = self.ptt.feed(chunk)
                if said is not None:
                    self._turn(said)
                self.board.hearing(self.ptt.talking)
                if max_turns is not None and self.turns >= max_turns:
                    return
                continue
            if self._feed(self.frames.push(chunk), max_turns):
                return

    def _feed(self, frames: list[np.ndarray], max_turns: int | None) -> bool:
        """Feed frames to the segmenter, running a turn for each utterance; True when the loop should end.
        After a turn the frames still queued are stale (heard while busy): only what the turn left in the
        chunker (speech caught by barge-in) goes on."""
        i = 0
        while i < len(frames):
            if self.stop.is_set():
                return True
            silent, utt = self.segmenter.silence_frames, self.segmenter.feed(frames[i])
            i += 1
            if utt is None:
                if self.early is not None:
                    self.early.watch(self.segmenter)
                self.board.hearing(self.segmenter.state is SegState.SPEECH)
                continue
            clock = speech_clock(self.tap.last, self.frames, len(frames) - i, 0 if utt.cut else silent)
            admitted, heard = self.gate.admit(utt) if not self._barged_in else (True, None)
            if admitted:
                self._turn(utt, heard, clock)
            if max_turns is not None and self.turns >= max_turns:
                return True
            self.board.show()  # the turn and its echo tail are over
            frames, i = self.frames.push(np.zeros(0, dtype=np.int16)), 0
        return False

    def _turn(self, utt: Utterance, heard: Transcript | None = None, clock: Clock | None = None) -> None:
        self._cut = utt.cut  # cut at vad.max_utterance_s: the speech goes on, and its next piece is wanted
        if utt.clipped:  # it began while we were not listening: acting on half a sentence is worse than asking
            if self.early is not None:
                self.early.discard()
            self.console.print(
                "[yellow]ignored[/yellow] speech that began while I was not listening; please say it again",
                highlight=False,
            )
            return
        barged, self._barged_in = self._barged_in, False
        self.board.move(TurnEvent.UTTERANCE, show=False)  # loop's tap off till the echo tail; the assistant shows
        try:
            if barged:  # what they said over the reply: "stop" ends it there
                heard = heard or self.assistant.transcriber.transcribe(utt.samples)
                if is_stop(heard.text):
                    self.console.print(heard_line(heard.text, "stopped"))
                    self.board.move(TurnEvent.TURN_DONE, show=False)
                    self._deaf_for_echo_tail()
                    return
            self.turns += 1
            self._overhear = self._overhearing()  # thinking has begun: what they say now is kept
            head = HeadStart(heard) if heard is not None else None
            if head is None and self.early is not None:
                self.view.set_state(LoopState.THINKING)  # the utterance is over; what is left is the early work
                head = self.early.take(utt)
            self.last_head = head
            kept = self._run_turn(utt, head, clock or Clock())
        finally:
            if self.speculated is not None:
                self.speculated.drop_all()  # an early reply the turn did not take is closed now
            if self.machine.state not in (LoopState.LISTENING, LoopState.HEARING):
                self.board.move(TurnEvent.TURN_DONE)  # an error on the way: listen again
        for later in kept:  # said while the turn was thinking: each is a turn of its own, in order
            if self.max_turns is None or self.turns < self.max_turns:
                self.console.print("[dim]kept what you said while I was thinking[/dim]", highlight=False)
                self._turn(later)

    def _overhearing(self) -> Overhear | None:
        """A watcher for speech while the turn thinks (always mode: every sentence is a turn)."""
        if not self.always:
            return None
        overhear = Overhear(self.board.open(Consumer.OVERHEAR, "overhear"), self.segmenter, self.stop)
        overhear.start()
        return overhear

    def _run_turn(self, utt: Utterance, head: HeadStart | None, clock: Clock) -> list[Utterance]:
        """Run the turn; returns the utterances said while it was thinking (the next turns)."""
        overhear, self._lent = self._overhear, 0
        # a watcher for the person talking over the reply (vad.barge_in), its tap fed only while the reply plays
        watcher = self._watcher = barge_in_for(self.assistant, lambda: self.board.open(Consumer.BARGE_IN, "barge-in"))
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
            barged = watcher is not None and watcher.triggered.is_set() and self.machine.can(TurnEvent.BARGED_IN)
            # the loop's tap takes over in the same step: the watcher's and overhearing's rest is theirs
            self.board.move(TurnEvent.BARGED_IN if barged else TurnEvent.TURN_DONE, show=False)
            theirs = watcher.finish() if watcher is not None else None
            if overhear is not None:
                overhear.stop()
            self._overhear = self._watcher = None
            self.board.close_turn()
        kept = overhear.heard if overhear is not None else []
        if theirs is not None:  # they spoke over the reply: what they said starts the next turn
            self.console.print("[yellow]interrupted[/yellow] — you spoke, so I stopped; listening", highlight=False)
            self.segmenter.reset()
            self.frames.reset(theirs)
            self._barged_in = True
            return kept
        if overhear is not None and not self.machine.visited & {LoopState.SPEAKING, LoopState.CONFIRMING}:
            return kept  # nothing was played, so no echo to wait out; speech under way goes on in the loop
        self._deaf_for_echo_tail()
        return kept

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
                self.board.move(TurnEvent.ANSWERED)
                if LoopState.SPEAKING in self.machine.visited:  # the reply had begun: it goes on
                    self.board.move(TurnEvent.REPLY_STARTED)

    def _deaf_for_echo_tail(self) -> None:
        """Half-duplex: drop what the mic caught while we worked and spoke (our own voice), then stay
        deaf for the rest of the echo tail after our last audible sound (counted in samples, bounded in time)."""
        with contextlib.suppress(AudioDeviceError):  # the main loop reports and recovers
            self.tap.wait_out(echo_tail_left(self.assistant.speaker, self.assistant.cfg.vad.echo_tail_ms), self.stop)
        self.segmenter.reset(resumed=not self._cut)  # else speech already under way is a clip, not a turn
        self.frames.reset()

    def _recover(self, error: AudioDeviceError) -> None:
        """The microphone is gone: say so, then try to reopen it until it is back or we are stopped."""
        if self.reopen is None:
            raise error
        self.board.move(TurnEvent.MIC_LOST)
        self.console.print(error_line(error, f" — retrying every {REOPEN_EVERY_S:.0f} s"), soft_wrap=True)
        self.source.close()
        self.segmenter.reset(resumed=True)
        self.frames.reset()
        while not self.stop.is_set():
            if self.stop.wait(REOPEN_EVERY_S):
                return
            try:
                self.bus.replace(self.reopen())
            except AudioDeviceError:
                continue
            self.console.print("[green]microphone is back[/green]", highlight=False)
            self._audio_in = False
            self.board.move(TurnEvent.MIC_BACK)
            return
