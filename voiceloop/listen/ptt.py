"""Push-to-talk: the space bar in the terminal decides when the person is talking to voiceloop.

A terminal reports key presses, never releases. Holding space makes it repeat (after the typematic
delay, tens of times a second), so a hold is a press followed by repeats, and it ends when the repeats
stop. A single tap with no repeats toggles: talk, then tap again to end. Everything the microphone
hears between start and end is the utterance; it ends at once, with no silence timer.
"""

from __future__ import annotations

import contextlib
import os
import select
import threading
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, Protocol, TextIO

import numpy as np

from voiceloop.audio.formats import SAMPLE_RATE
from voiceloop.audio.frames import FrameChunker
from voiceloop.audio.vad import IsSpeech, Segmenter, Utterance, frames_of
from voiceloop.errors import AudioDeviceError
from voiceloop.listen.activation import say_ignored
from voiceloop.runtime import spawn

if TYPE_CHECKING:
    from rich.console import Console

REPEAT_S = 0.7  # a press this soon after the last one is the key repeating (held), not a second tap
RELEASE_S = 0.35  # repeats stopping for this long mean the key was let go (repeats come every ~30-100 ms)
POLL_S = 0.1  # the key reader's bounded wait, so the stop token is seen quickly
SPACE = b" "


class Keys(Protocol):
    """The keyboard seam: times (time.monotonic()) of the space presses since the last call."""

    def presses(self) -> list[float]: ...

    def paused(self) -> contextlib.AbstractContextManager[None]: ...


class TerminalKeys:
    """Reads the space bar from a terminal in cbreak mode on its own thread; restores the terminal on close."""

    def __init__(self, stdin: TextIO, stop: threading.Event) -> None:
        import termios

        try:
            self.fd = stdin.fileno()
            self._saved: Any = termios.tcgetattr(self.fd)
        except (OSError, ValueError, termios.error) as e:
            raise AudioDeviceError("push_to_talk needs a terminal to read the space bar from") from e
        self.stop = stop
        self._lock = threading.Lock()
        self._presses: list[float] = []
        self._pause = threading.Event()
        self._idle = threading.Event()
        self._cbreak()
        self._thread = spawn("voiceloop-keys", self._run)

    def _cbreak(self) -> None:
        import tty

        tty.setcbreak(self.fd)

    def _restore(self) -> None:
        import termios

        with contextlib.suppress(OSError, termios.error):
            termios.tcsetattr(self.fd, termios.TCSADRAIN, self._saved)

    def _run(self) -> None:
        while not self.stop.is_set():
            if self._pause.is_set():
                self._idle.set()
                time.sleep(POLL_S)
                continue
            self._idle.clear()
            ready, _, _ = select.select([self.fd], [], [], POLL_S)
            if not ready or self._pause.is_set():
                continue
            try:
                data = os.read(self.fd, 64)
            except OSError:
                return
            now = time.monotonic()
            with self._lock:
                self._presses += [now] * data.count(SPACE)

    def presses(self) -> list[float]:
        with self._lock:
            got, self._presses = self._presses, []
        return got

    @contextlib.contextmanager
    def paused(self) -> Iterator[None]:
        """Give the terminal back (a prompt reads a whole line) and take it again after."""
        self._pause.set()
        self._idle.wait(2 * POLL_S + 0.1)  # bounded: the reader notices within one poll
        self._restore()
        try:
            yield
        finally:
            self._cbreak()
            self._pause.clear()

    def close(self) -> None:
        self.stop.set()
        self._thread.join(timeout=2 * POLL_S + 0.5)
        self._restore()


class PushToTalk:
    """Turns space presses and microphone chunks into utterances (the listen loop feeds every chunk)."""

    hint = "hold space while you talk (or tap it, talk, and tap again)"

    def __init__(
        self,
        keys: Keys,
        is_speech: IsSpeech,
        min_speech_ms: int,
        max_s: float,
        unheard: Segmenter | None = None,
        console: Console | None = None,
    ) -> None:
        self.keys = keys
        self.unheard = unheard
        """Segments what the microphone hears while space is up, to note a sentence said without it."""
        self._unheard_frames = FrameChunker(unheard.frame_samples) if unheard is not None else None
        self.console = console
        self.is_speech = is_speech
        self.min_speech_ms = min_speech_ms
        self.max_s = max_s
        self.talking = False
        self._held = False
        self._last = 0.0
        self._chunks: list[np.ndarray] = []
        self._fed = 0  # samples seen, for the utterance's place in the stream

    def paused(self) -> contextlib.AbstractContextManager[None]:
        return self.keys.paused()

    def close(self) -> None:
        close = getattr(self.keys, "close", None)
        if close is not None:
            close()

    def feed(self, chunk: np.ndarray) -> Utterance | None:
        """One microphone chunk; the finished utterance when the key was let go (or tapped again)."""
        self._fed += len(chunk)
        ended = False
        for t in self.keys.presses():
            if not self.talking:
                self.talking, self._held, self._last, self._chunks = True, False, t, []
                self._forget_unheard()  # speech under way when space went down is the person's turn
            elif t - self._last <= REPEAT_S:
                self._held, self._last = True, t
            else:
                ended = True  # a second tap
                break
        if not self.talking:
            self._hear_unheard(chunk)
            return None
        self._chunks.append(chunk)
        heard_s = sum(len(c) for c in self._chunks) / SAMPLE_RATE
        if self._held and time.monotonic() - self._last > RELEASE_S:
            ended = True
        if not ended and heard_s < self.max_s:
            return None
        self.talking = False
        samples = np.concatenate(self._chunks)
        self._chunks = []
        voiced = sum(bool(self.is_speech(f.tobytes())) for f in frames_of(samples, 480)) * 30
        if voiced < self.min_speech_ms:
            return None  # a tap with nothing said
        end_s = self._fed / SAMPLE_RATE
        return Utterance(samples, end_s - len(samples) / SAMPLE_RATE, end_s, voiced, cut=heard_s >= self.max_s)

    def _hear_unheard(self, chunk: np.ndarray) -> None:
        """Space is up: the audio is not taken, but a whole sentence in it is noted once, as ignored."""
        if self.unheard is None or self._unheard_frames is None:
            return
        for frame in self._unheard_frames.push(chunk):
            if self.unheard.feed(frame) is not None:
                say_ignored(self.console, "the space bar")

    def _forget_unheard(self) -> None:
        if self.unheard is not None and self._unheard_frames is not None:
            self.unheard.reset()
            self._unheard_frames.reset()
