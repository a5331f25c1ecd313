"""Confirming a write by voice (confirm.voice): after the panel, the person may say "yes" / "write it" or
"no" / "cancel", and the keyboard still works; whichever answers first decides.

Only a clear yes writes: the whole utterance must be a yes phrase, heard with confidence, after voiceloop's
own question has finished playing and its echo has died away. Any no word, anywhere, is a no. Anything
else is unclear and asked again; silence until confirm.timeout_s is a no.
"""

from __future__ import annotations

import select
import sys
import threading
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import TextIO

from rich.console import Console
from rich.text import Text

from voiceloop.agent.confirm import Said, answer_to, decide, drop_typed_ahead, question, render
from voiceloop.agent.rename import Rename, renamed, with_suffix
from voiceloop.agent.sandbox import Proposal
from voiceloop.audio.bus import CaptureBus, Tap
from voiceloop.audio.frames import FrameChunker
from voiceloop.audio.vad import Segmenter
from voiceloop.config import Config
from voiceloop.errors import AudioDeviceError
from voiceloop.listen.echo import echo_tail_left
from voiceloop.listen.ui import heard_line
from voiceloop.stt.transcript import Transcriber, Transcript
from voiceloop.voice.speech import Speaker

READ_S = 0.05  # each wait for the microphone or the keyboard is this short, so either can answer
MIC_GONE = "the microphone went away, so nothing was written"


def spoken_answer(heard: Transcript, min_avg_logprob: float, max_no_speech_prob: float) -> Said:
    """The typed rule (answer_to), and a yes must also be heard with confidence; else it is unclear."""
    said = answer_to(heard.text)
    sure = heard.avg_logprob >= min_avg_logprob and heard.no_speech_prob <= max_no_speech_prob
    return Said.UNCLEAR if said is Said.YES and not sure else said


@dataclass(frozen=True)
class Ears:
    """What the confirmer asks and listens with: `listen`'s voice, capture bus (the microphone, reopened when
    lost), segmenter and Whisper."""

    speaker: Speaker
    bus: CaptureBus
    segmenter: Segmenter
    transcriber: Transcriber
    lend: Callable[[], AbstractContextManager[None]]
    """While it is held, the listen loop feeds no other consumer (the turn machine is at the prompt)."""


class VoiceConfirmer:
    """Shows the panel, asks aloud, and takes y/n from the keyboard or yes/no from the microphone."""

    def __init__(self, console: Console, cfg: Config, stop: threading.Event, stdin: TextIO | None = None) -> None:
        self.console = console
        self.cfg = cfg
        self.stop = stop
        self.stdin = stdin or sys.stdin
        self.ears: Ears | None = None
        """Set by `listen` once the microphone is open; until then only the keyboard answers."""
        self.heard: list[tuple[str, Said]] = []
        """Every spoken answer and how it was taken, for the record."""

    def confirm(self, proposal: Proposal) -> tuple[bool, str]:
        self.console.print(render(proposal))
        self.console.file.flush()
        keys = self._keyboard()
        if keys:
            drop_typed_ahead(self.stdin)  # only keys pressed once the panel is on screen answer it
        if self.ears is not None:
            # no yes or no in it: its echo cannot answer
            what = f"undo the change to {proposal.rel}" if proposal.undo else f"write {proposal.rel}"
            self.ears.speaker.speak(f"Shall I {what}?")
        self.console.print(Text(f"{question(proposal)} or say yes / no ", style="bold"), end="")
        self.console.file.flush()
        if self.ears is None:
            return self._typed(keys, proposal) if keys else (False, "no terminal and no microphone to ask on")
        with self.ears.lend(), self.ears.bus.tap("yes/no") as tap:
            self.ears.bus.start()  # already running inside `listen`
            return self._listen(tap, self.ears, keys, proposal)

    def _keyboard(self) -> bool:
        try:
            return self.stdin.isatty()
        except (AttributeError, ValueError):
            return False

    def _typed(self, keys: bool, proposal: Proposal) -> tuple[bool, str]:
        return decide(self.stdin.readline() if keys else "", proposal)

    def _listen(self, tap: Tap, ears: Ears, keys: bool, proposal: Proposal) -> tuple[bool, str]:
        ears.transcriber.hint_files([])  # file names in Whisper's prompt turn a short "no" into "note"
        try:  # half-duplex: our question's echo, its tail counted from its last audible sound as the loop counts it
            tap.wait_out(echo_tail_left(ears.speaker, self.cfg.vad.echo_tail_ms), self.stop)
        except AudioDeviceError:
            return self._typed(keys, proposal) if keys else (False, MIC_GONE)
        ears.segmenter.reset(resumed=True)  # speech already under way is not a whole answer
        frames = FrameChunker(ears.segmenter.frame_samples)
        deadline = time.monotonic() + self.cfg.confirm.timeout_s
        while time.monotonic() < deadline and not self.stop.is_set():
            if keys and select.select([self.stdin], [], [], 0)[0]:
                return self._typed(True, proposal)
            try:
                chunk = tap.read(READ_S)
            except AudioDeviceError:
                return self._typed(keys, proposal) if keys else (False, MIC_GONE)
            for frame in frames.push(chunk) if chunk is not None else []:
                utt = ears.segmenter.feed(frame)
                if utt is not None and utt.clipped:  # begun while the question played: only its end was heard
                    self.console.print("\nI heard only the end of that; please say yes or no again.", highlight=False)
                if utt is None or utt.clipped:
                    continue
                said = self._hear(ears.transcriber.transcribe(utt.samples), proposal)
                if said is Said.YES:
                    return True, ""
                if said is Said.NO:
                    return False, "you said no"
        self.console.print()
        return False, f"no answer in {self.cfg.confirm.timeout_s:g} s, so nothing was written"

    def _hear(self, heard: Transcript, proposal: Proposal) -> Said:
        """How a spoken answer was taken, shown; "call it report dot md" raises Rename (asked again)."""
        name = "" if proposal.undo else renamed(heard.text)
        if name:
            self.heard.append((heard.text, Said.NO))  # this panel is not written
            self.console.print(Text.assemble("\n", heard_line(heard.text, f"new name: {name}")))
            raise Rename(with_suffix(name, proposal.rel))
        stt = self.cfg.stt
        said = spoken_answer(heard, stt.min_avg_logprob, stt.max_no_speech_prob)
        self.heard.append((heard.text, said))
        self.console.print(Text.assemble("\n", heard_line(heard.text, said.value)))
        if said is Said.UNCLEAR:
            self.console.print("Please say yes or no (or type y / n).", highlight=False)
        return said
