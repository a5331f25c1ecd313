"""Which utterances become turns: all of them (always), those after the wake word (wake_word), or those
spoken while space is held or toggled on (push_to_talk, see listen/ptt.py).

The wake word model (audio/wakeword.py) hears every microphone chunk. It is small and fast, but it
also fires on look-alikes ("Hey Charles" for "Hey Jarvis"), so a detection only opens the door: the
utterance it fell in is transcribed, and it becomes a turn only if Whisper heard the wake word among
its first words. The command may follow in the same breath ("Hey Jarvis, what time is it?"): the wake
word is taken off the transcript. Said alone, it opens a window of `listen.wake_window_s` for the
command. Speech that talks over a reply (barge-in) is always let through: "stop" must work in every mode.
"""

from __future__ import annotations

import dataclasses
import difflib
import re
import sys
import threading
import time
from enum import Enum
from typing import TYPE_CHECKING, Protocol

import numpy as np

from voiceloop.audio.vad import Utterance
from voiceloop.config import Config
from voiceloop.stt.transcript import Transcriber, Transcript

if TYPE_CHECKING:
    from rich.console import Console

    from voiceloop.listen.ptt import PushToTalk

WORD = re.compile(r"[A-Za-z']+")
WAKE_WITHIN_WORDS = 4  # the wake word must be among the first words of what Whisper heard
WAKE_MATCH = 0.8  # how closely a heard word must spell the wake word's name ("jarvis")
DETECTION_SLACK_S = 1.5  # a detection this long before the utterance began still counts (its pre-roll)


def say_ignored(console: Console | None, missing: str) -> None:
    """One dim line for speech the gate let go, so a person knows they were heard and why nothing happened
    (and a test can wait for it instead of waiting out a silence)."""
    if console is not None:
        console.print(f"[dim](heard speech without {missing}: ignored)[/dim]", highlight=False)


class Mode(Enum):
    ALWAYS = "always"
    WAKE_WORD = "wake_word"
    PUSH_TO_TALK = "push_to_talk"


class Gate(Protocol):
    """Decides whether an utterance is a turn. `hint` is shown while waiting ("say “Hey Jarvis”")."""

    hint: str

    def hear(self, chunk: np.ndarray) -> None:
        """Every microphone chunk the loop reads, in order."""
        ...

    def admit(self, utt: Utterance) -> tuple[bool, Transcript | None]:
        """(is it a turn?, its transcript when the gate already made one)."""
        ...

    def arm(self, seconds: float) -> None:
        """Let the next utterance through without asking (the person talked over a reply)."""
        ...


class AlwaysGate:
    """Every sentence is a turn."""

    hint = ""

    def hear(self, chunk: np.ndarray) -> None:
        pass

    def admit(self, utt: Utterance) -> tuple[bool, Transcript | None]:
        return True, None

    def arm(self, seconds: float) -> None:
        pass


class Detector(Protocol):
    spoken: str

    def feed(self, chunk: np.ndarray) -> bool: ...

    def reset(self) -> None: ...


def strip_wake(text: str, spoken: str) -> str | None:
    """The command after the wake word in a transcript, or None when the wake word is not among its
    first words. "Hey, Jarvis. What time is it?" -> "What time is it?"."""
    name = spoken.split()[-1].lower()
    for i, m in enumerate(WORD.finditer(text)):
        if i >= WAKE_WITHIN_WORDS:
            return None
        word = m.group().lower().removesuffix("'s")
        if difflib.SequenceMatcher(None, word, name).ratio() >= WAKE_MATCH:
            rest = text[m.end() :].lstrip(" ,.!?;:-")
            return rest[:1].upper() + rest[1:]
    return None


class WakeWordGate:
    """Turns only after the wake word, confirmed by the transcript."""

    def __init__(
        self,
        detector: Detector,
        transcriber: Transcriber,
        window_s: float,
        silence_s: float,
        console: Console | None = None,
    ) -> None:
        self.detector = detector
        self.console = console
        """Where speech without the wake word is noted as ignored (None: silently)."""
        self.transcriber = transcriber
        self.window_s = window_s
        self.silence_s = silence_s
        self.hint = f"say “{detector.spoken}”"
        self.detected_at: float | None = None
        """time.monotonic() of the last detection not yet used."""
        self.armed_until = 0.0
        """Until then an utterance is a turn without the wake word (said alone, or a barge-in)."""
        self.detections = 0
        self.rejected = 0
        """Detections the transcript did not confirm (a look-alike word)."""

    def hear(self, chunk: np.ndarray) -> None:
        if self.detector.feed(chunk):
            self.detected_at = time.monotonic()
            self.detections += 1

    def arm(self, seconds: float) -> None:
        self.armed_until = time.monotonic() + seconds

    def admit(self, utt: Utterance) -> tuple[bool, Transcript | None]:
        now = time.monotonic()
        began = now - utt.duration_s - self.silence_s  # roughly when this utterance started
        armed = began <= self.armed_until
        detected = self.detected_at is not None and self.detected_at >= began - DETECTION_SLACK_S
        if not (armed or detected):
            say_ignored(self.console, f"“{self.detector.spoken}”")
            return False, None
        heard = self.transcriber.transcribe(utt.samples)
        rest = strip_wake(heard.text, self.detector.spoken)
        self.detected_at = None
        self.armed_until = 0.0
        if rest is None and not armed:
            self.rejected += 1
            say_ignored(self.console, f"“{self.detector.spoken}”")
            return False, None
        if rest is None:
            return True, heard
        if not rest.strip(" .!?,"):  # the wake word alone: the command comes next
            self.arm(self.window_s)
            return False, None
        return True, dataclasses.replace(heard, text=rest)


def build_gate(cfg: Config, transcriber: Transcriber, console: Console | None = None) -> Gate:
    """The gate for listen.mode (push_to_talk lets through every utterance its key makes)."""
    if Mode(cfg.listen.mode) is Mode.WAKE_WORD:
        from voiceloop.audio.wakeword import WakeWord

        silence_s = cfg.vad.silence_ms / 1000
        wake = WakeWord(cfg.listen.wake_word)
        return WakeWordGate(wake, transcriber, cfg.listen.wake_window_s, silence_s, console)
    return AlwaysGate()


def build_ptt(cfg: Config, stop: threading.Event, console: Console | None = None) -> PushToTalk | None:
    """For push_to_talk, the space-bar reader on this terminal that makes the utterances; else None."""
    if Mode(cfg.listen.mode) is not Mode.PUSH_TO_TALK:
        return None
    from voiceloop.audio.vad import Segmenter, WebRtcVad
    from voiceloop.listen.ptt import PushToTalk, TerminalKeys

    vad = WebRtcVad(cfg.vad.aggressiveness)
    unheard = Segmenter(cfg.vad, vad) if console is not None else None  # speech while space is up
    keys = TerminalKeys(sys.stdin, stop)
    return PushToTalk(keys, vad, cfg.vad.min_speech_ms, cfg.vad.max_utterance_s, unheard, console)


STOP_PHRASES = frozenset(
    {"stop", "cancel", "stop it", "stop that", "please stop", "stop please", "okay stop", "ok stop", "be quiet",
     "quiet", "shut up", "never mind", "nevermind", "enough", "that's enough", "cancel that", "hush", "silence"}
)  # fmt: skip


def is_stop(text: str) -> bool:
    """Is this the person telling voiceloop to be quiet ("Stop.", "Cancel!", "Hey Jarvis, stop")?"""
    words = " ".join(w.lower() for w in WORD.findall(text))
    for spoken in ("hey jarvis", "okay nabu", "hey mycroft", "alexa"):
        words = words.removeprefix(spoken).strip()
    return words in STOP_PHRASES
