"""Speaking replies: synthesize each sentence to audio (any Synth), play it through a Player we control."""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Protocol, TypeVar

import numpy as np

from voiceloop.audio.aec import FarEnd
from voiceloop.runtime import RUNTIME, spawn
from voiceloop.voice.pieces import PAUSE, SENTENCE_END, first_piece

MAX_SENTENCE_CHARS = 400  # text with no sentence end in sight is spoken in pieces of at most this
MAX_REPLY_CHARS = 4000  # what is spoken and printed of one reply; the rest is cut, and the reply says so
T = TypeVar("T")
CUT_NOTE = "(The rest was cut: the answer was too long to read out.)"


def clip_reply(text: str) -> str:
    """text, or its first MAX_REPLY_CHARS with CUT_NOTE after them (what the stream says too)."""
    return text if len(text) <= MAX_REPLY_CHARS else f"{text[:MAX_REPLY_CHARS].rstrip()} … {CUT_NOTE}"


@dataclass(frozen=True)
class Spoken:
    """What speaking one reply did."""

    text: str
    """The text that was spoken."""
    audio_s: float
    """Seconds of audio synthesized."""
    played: bool
    """True if it went to a speaker."""
    first_audio_at: float | None
    """perf_counter() when the first audio was ready (None if nothing was synthesized)."""
    interrupted: bool = False
    """True if playback was stopped before the whole reply was spoken."""


class Player(Protocol):
    """The speaker hardware seam: play 16 kHz mono int16 and return when it has really finished."""

    stop_flag: threading.Event
    """Set: cut what is playing and drop what is queued. Written only by SpeechStream (one reply's owner)."""
    far_end: FarEnd | None
    """Told every chunk played and when it is heard, when echo cancellation needs the reference (else None)."""

    def play(self, samples: np.ndarray) -> None: ...

    def recent_level(self, window_s: float) -> float | None:
        """Loudest level (dBFS) played in the last window_s, or None if silent (barge-in's echo estimate)."""
        ...

    def close(self) -> None:
        """Release the output device (a stream kept open for the session must stop before exit)."""
        ...


class Synth(Protocol):
    """A voice: text -> 16 kHz mono int16 samples (Pyttsx3Synth, voices.PiperSynth)."""

    def synth(self, text: str) -> np.ndarray: ...


class Speaker(Protocol):
    """Speaks replies; `player` is the speaker hardware (None when speech is off)."""

    player: Player | None

    def stream(self, on_start: Callable[[], None] | None = None) -> SpeechStream:
        """A stream to feed reply text into as it is written; on_start is called when audio starts."""
        ...

    def speak(self, text: str) -> Spoken: ...


class SpeechStream:
    """Speaks a reply while it is still being written: text goes in piece by piece (LLM tokens), and each
    sentence, once complete, is synthesized on one worker thread and played in order on another, so the next
    sentence is made while this one plays. The first sentence need not wait for its full stop: it is spoken
    in two parts at its first clause mark or joining word ("A black hole is a region of space, | where...").

    close() waits for the last sentence to finish playing (half-duplex listening relies on that);
    cancel() stops at once (barge-in, Ctrl-C): the sentence playing is cut and the rest dropped.
    """

    def __init__(self, synth: Synth | None, player: Player | None, on_start: Callable[[], None] | None = None) -> None:
        self.synth = synth
        self.player = player
        self.on_start = on_start
        self.first_audio_at: float | None = None
        """perf_counter() when the first audio was ready to play (None before, or with speech off)."""
        self.cancelled = threading.Event()
        self._buf = ""
        self._fed = 0
        self._cut = False
        self._text: list[str] = []
        self._said: list[str] = []
        self._samples = 0
        self._error: BaseException | None = None
        self._queue: queue.Queue[tuple[str, str] | None] = queue.Queue()  # (sentence, what is voiced)
        self._audio: queue.Queue[tuple[str, np.ndarray] | None] = queue.Queue()
        self._worker: threading.Thread | None = None
        self._playing: threading.Thread | None = None
        if player is not None:
            player.stop_flag.clear()  # a new reply: an earlier interruption must not silence it

    def feed(self, piece: str, more: bool = True) -> None:
        """More reply text; every sentence completed by it starts speaking. Raises SpeechInterrupted
        once the stream was cancelled, so a streaming LLM call stops generating too. more=False: the text is
        whole (nothing is coming after it), so a first sentence is not spoken in parts."""
        if self.cancelled.is_set():
            raise SpeechInterrupted("the reply was interrupted")
        if self._cut:
            return
        if self._fed + len(piece) > MAX_REPLY_CHARS:
            piece, self._cut = piece[: MAX_REPLY_CHARS - self._fed], True
        self._fed += len(piece)
        # only the new text (and the character before it, for an end like "." + " ") is scanned: linear
        scan_from = max(0, len(self._buf) - 1)
        self._buf += piece
        last = 0
        for m in SENTENCE_END.finditer(self._buf, scan_from):
            self._send(self._buf[last : m.start()])
            last = m.end()
        self._buf = self._buf[last:]
        while len(self._buf) > MAX_SENTENCE_CHARS:  # no end in sight: break at the last space that fits
            cut = self._buf.rfind(" ", 0, MAX_SENTENCE_CHARS) + 1 or MAX_SENTENCE_CHARS
            self._send(self._buf[:cut])
            self._buf = self._buf[cut:]
        if not self._text and more:  # nothing said yet: a long first sentence need not wait for its full stop
            self._first_piece()

    def _first_piece(self) -> None:
        """Send the first sentence's first part, cut at its first clause mark or joining word, if it has one."""
        cut = first_piece(self._buf)
        if cut is not None:
            end, rest, pause = cut
            self._send(self._buf[:end], pause)
            self._buf = self._buf[rest:]

    def say(self, text: str) -> None:
        """A whole piece of reply (e.g. "I wrote notes.txt."), spoken after what came before."""
        self.feed(text, more=False)
        self.flush()

    def drop_unfinished(self) -> None:
        """Forget the text fed since the last sentence began (it will not be spoken): a reply stopped
        mid-sentence because it was repeating itself."""
        self._buf = ""

    def flush(self) -> None:
        """The text so far is complete: speak what is left of it as a sentence."""
        rest, self._buf = self._buf, ""
        self._send(rest)
        if self._cut and CUT_NOTE not in self._text:
            self._send(CUT_NOTE)

    def _send(self, sentence: str, pause: bool = False) -> None:
        """Speak sentence after what was sent before; pause: it is a sentence's first part (voiced with PAUSE)."""
        sentence = sentence.strip()
        if not sentence:
            return
        self._text.append(sentence)
        if self.synth is None:
            self._said.append(sentence)
            return
        if self._worker is None:
            self._worker = spawn("voiceloop-speech", self._synth_queued)
            self._playing = spawn("voiceloop-speech-play", self._play_queued)
        self._queue.put((sentence, sentence.rstrip(",;:") + PAUSE if pause else sentence))

    def _taken(self, q: queue.Queue[T | None]) -> Iterator[T]:
        """What q hands a worker, in order, until None, a cancel or the session's stop (bounded waits)."""
        while not self.cancelled.is_set() and not RUNTIME.stop.is_set():
            try:
                item = q.get(timeout=0.1)
            except queue.Empty:
                continue
            if item is None:
                return
            yield item

    def _synth_queued(self) -> None:
        """Synthesize sentence after sentence, ahead of playback; None to the player ends it."""
        assert self.synth is not None
        try:
            for sentence, voiced in self._taken(self._queue):
                self._audio.put((sentence, self.synth.synth(voiced)))
        except BaseException as e:  # reported by close() on the caller's thread
            self._fail(e)
        finally:
            self._audio.put(None)

    def _play_queued(self) -> None:
        """Play each synthesized sentence in order; the first one calls on_start just before it sounds."""
        for sentence, samples in self._taken(self._audio):
            try:
                if self.first_audio_at is None:
                    self.first_audio_at = time.perf_counter()
                    if self.on_start is not None:
                        self.on_start()
                self._samples += len(samples)
                self._said.append(sentence)
                if self.player is not None:
                    self.player.play(samples)
            except BaseException as e:
                self._fail(e)
                return

    def _fail(self, e: BaseException) -> None:
        if self._error is None:
            self._error = e
        self.cancel()

    def cancel(self) -> None:
        """Stop speaking now; what was not yet played is dropped."""
        self.cancelled.set()
        if self.player is not None:
            self.player.stop_flag.set()

    def close(self) -> Spoken:
        """Speak what is left, wait until it has been played (or cancelled), and say what was spoken."""
        try:
            if not self.cancelled.is_set():
                self.flush()
            self._queue.put(None)
            for worker in (self._worker, self._playing):
                while worker is not None and worker.is_alive():
                    worker.join(timeout=0.1)  # short waits: Ctrl-C is seen at once
        except BaseException:
            self.cancel()
            raise
        if self._error is not None:
            raise self._error
        interrupted = self.cancelled.is_set() and self._said != self._text
        text = " ".join(self._said) + (" …" if interrupted and self._said else "")
        first = self.first_audio_at
        return Spoken(text, self._samples / 16000, self.player is not None and self._samples > 0, first, interrupted)


class SpeechInterrupted(Exception):
    """The reply was cut short (the person talked over it); whoever feeds the stream stops."""


def speak_all(stream: SpeechStream, text: str) -> Spoken:
    """A whole reply known in advance, through a fresh stream: speak it and wait until it has been said."""
    stream.say(text)
    return stream.close()


class SentenceSpeaker:
    """Synthesizes sentence by sentence and plays each one as soon as it is ready."""

    def __init__(self, synth: Synth, player: Player | None) -> None:
        self.synth = synth
        self.player = player

    def stream(self, on_start: Callable[[], None] | None = None) -> SpeechStream:
        return SpeechStream(self.synth, self.player, on_start)

    def speak(self, text: str) -> Spoken:
        """Speak text; Spoken.text is what was really said (less, if playback was stopped midway)."""
        return speak_all(self.stream(), text)


class SilentSpeaker:
    """Speech turned off: nothing is synthesized or played."""

    player: Player | None = None

    def stream(self, on_start: Callable[[], None] | None = None) -> SpeechStream:
        return SpeechStream(None, None)

    def speak(self, text: str) -> Spoken:
        return speak_all(self.stream(), text)
