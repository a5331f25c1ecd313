"""The always-listening loop: mic -> capture bus -> frames -> segmenter -> utterances, queued in the order they
were said for the turn engine (listen/engine.py), which runs them; half-duplex while speaking.

Its state moves only through the turn machine (voiceloop/state.py), which decides which taps of the bus are
fed (listen/switchboard.py): the loop's own, the overhearing, the barge-in watcher, the write prompt's."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable

import numpy as np
from rich.console import Console

from voiceloop.agent.assistant import Assistant
from voiceloop.agent.turn import HeadStart
from voiceloop.audio.bus import CaptureBus
from voiceloop.audio.formats import rms_dbfs
from voiceloop.audio.frames import FrameChunker
from voiceloop.audio.mic import AudioSource
from voiceloop.audio.vad import Segmenter, SegState
from voiceloop.errors import AudioDeviceError
from voiceloop.listen.activation import AlwaysGate, Gate
from voiceloop.listen.echo import echo_tail_left
from voiceloop.listen.engine import Pending, Said, TurnEnd, TurnEngine
from voiceloop.listen.live import LiveView
from voiceloop.listen.ptt import PushToTalk
from voiceloop.listen.speculate import early_start_for
from voiceloop.listen.switchboard import Switchboard
from voiceloop.listen.turn_clock import speech_clock
from voiceloop.listen.ui import error_line
from voiceloop.state import TurnEvent

READ_TIMEOUT_S = 0.1  # every wait is bounded so a stop request is seen quickly
REOPEN_EVERY_S = 2.0  # how often a lost microphone is tried again
TALKED_OVER_S = 1.0
"""What was said over a reply and caught by barge-in is heard to its end as one utterance; when the segmenter is
still not inside one this long after the trigger (too short, a cough), there is none, and the queued turns go on."""
AUDIO_IN = "audio is coming in — speak any time"
"""Printed once the microphone has really delivered (and again after it is reopened): a fresh capture stream can
take seconds to start, and speech before this line is not heard."""

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
        self.board = Switchboard(self.bus, self.view)
        self.tap = self.board.loop
        self.machine = self.board.machine
        self._audio_in = False  # AUDIO_IN was printed for this microphone
        self.frames = FrameChunker(segmenter.frame_samples)
        always = isinstance(self.gate, AlwaysGate) and ptt is None  # every sentence is a turn
        early = early_start_for(assistant, segmenter) if always else None
        self.engine = TurnEngine(assistant, self.board, segmenter, console, self.view, self.stop, early)
        """Runs the turns heard, in order, with the handlers that listen meanwhile (overhearing, barge-in)."""
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
        try:
            with self.view:
                self._loop(max_turns)
        finally:
            self.bus.halt()

    def _loop(self, max_turns: int | None) -> None:
        while not self.stop.is_set():
            talked_over = self._talked_over is not None
            try:
                chunk = self.tap.read(READ_TIMEOUT_S, plain=talked_over)  # their words over our echo's tail, plain
            except AudioDeviceError as e:
                self._recover(e)
                continue
            if chunk is None:
                if self.tap.finished:  # a recording, not a live mic: it has ended
                    last = self.segmenter.flush()
                    if last is not None:
                        self.engine.submit(Pending(last, Said.TALKED_OVER if talked_over else Said.LISTENING))
                    self._answer(max_turns)
                    return
                continue
            if not self._audio_in:
                self._audio_in = True
                self.console.print(f"[dim]{AUDIO_IN}[/dim]", highlight=False)
            self.view.set_level(rms_dbfs(chunk), self.source.overflows + self.tap.dropped)
            self.gate.hear(chunk)
            if self.ptt is not None and not talked_over:
                said = self.ptt.feed(chunk)
                if said is not None:
                    self.engine.submit(Pending(said))
                    if self._answer(max_turns):
                        return
                self.board.hearing(self.ptt.talking)
                continue
            if self._feed(self.frames.push(chunk), max_turns):
                return

    def _feed(self, frames: list[np.ndarray], max_turns: int | None) -> bool:
        """Feed frames to the segmenter, queueing each utterance and running the turns queued; True when the loop
        should end. After the turns the frames still queued are stale (heard while busy): only what they left in
        the chunker (speech caught by barge-in) goes on."""
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
                if not self._talk_over_lost():
                    continue
            else:
                clock = speech_clock(self.tap.last, self.frames, len(frames) - i, 0 if utt.cut else silent)
                said = Said.LISTENING if self._talked_over is None else Said.TALKED_OVER
                self._talked_over = None
                admitted, heard = self.gate.admit(utt) if said is Said.LISTENING else (True, None)
                if admitted:
                    self.engine.submit(Pending(utt, said, heard, clock))
            if self._answer(max_turns):
                return True
            self.board.show()  # the turns and their echo tails are over
            frames, i = self.frames.push(np.zeros(0, dtype=np.int16)), 0
        return False

    def _talk_over_lost(self) -> bool:
        """Barge-in caught speech over a reply that did not become an utterance (too short): TALKED_OVER_S after
        the trigger the segmenter is not inside one. Nothing is waited for then; True when turns are queued."""
        since = self._talked_over
        if since is None or self.segmenter.state is SegState.SPEECH or time.monotonic() - since < TALKED_OVER_S:
            return False
        self._talked_over = None
        return bool(self.engine.queue)

    def _answer(self, max_turns: int | None) -> bool:
        """Run the queued turns, in the order they were said; True when the loop should end. When one is talked
        over, the loop first hears what they said to its end: it is queued behind the turns still waiting."""
        while self.engine.queue and not self.stop.is_set() and (max_turns is None or self.turns < max_turns):
            done = self.engine.next()
            if done.end is TurnEnd.TALKED_OVER:
                self.segmenter.reset()
                self.frames.reset(done.theirs)
                self._talked_over = time.monotonic()
                break
            if done.end is TurnEnd.ECHO:
                self._deaf_for_echo_tail(done.cut)
        return self.stop.is_set() or (max_turns is not None and self.turns >= max_turns)

    def _deaf_for_echo_tail(self, cut: bool) -> None:
        """Half-duplex: drop what the mic caught while we worked and spoke (our own voice), then stay
        deaf for the rest of the echo tail after our last audible sound (counted in samples, bounded in time).
        cut: the last utterance was cut at vad.max_utterance_s, so speech already under way is its next piece."""
        with contextlib.suppress(AudioDeviceError):  # the main loop reports and recovers
            self.tap.wait_out(echo_tail_left(self.assistant.speaker, self.assistant.cfg.vad.echo_tail_ms), self.stop)
        self.segmenter.reset(resumed=not cut)  # else speech already under way is a clip, not a turn
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
