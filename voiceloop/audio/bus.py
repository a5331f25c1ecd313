"""The capture bus: the one reader of the microphone, publishing every chunk once to subscriber taps.

One worker reads the source (echo cancellation included, when it is wrapped), stamps each chunk with
one monotonic clock and a sequence number, and hands it to every tap that is on. The listen loop reads one
tap and hands each chunk on to the segmenter, the overhearing or the barge-in watcher; the spoken yes/no
reads its own; nothing else reads the microphone, so no two of them ever split its audio between them.

A live source (a microphone, a recording paced in real time) is read whether or not anyone keeps up: a
tap that falls behind drops its oldest chunks and counts them. A recording read as fast as it is asked
for is read only as fast as its slowest tap that is on, so nothing is lost (the engine behind tests).
"""

from __future__ import annotations

import collections
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from voiceloop.audio.aec import EchoCancelledSource
from voiceloop.audio.formats import SAMPLE_RATE
from voiceloop.audio.mic import AudioSource
from voiceloop.errors import AudioDeviceError
from voiceloop.runtime import spawn

READ_S = 0.05  # the reader's own wait for the source: short, so a stop or a new source is seen quickly
TAP_S = 12.0  # a live tap keeps about this much audio for a consumer that is busy, then drops the oldest
CLOCK_SLACK_S = 0.005  # capture stamps and the wall clock may disagree by this much
RECORDING_TAP_CHUNKS = 1  # a recording is read at most this far ahead of its slowest tap that is on
STALL_S = 3.0
"""A live source that hands the reader nothing for this long, counted in its own empty waits, has stalled: a
PulseAudio source suspended under PortAudio's stream gives no audio and no error, and the stream still says it
is active. It is reported as lost, so the listen loop says so and reopens it."""
FIRST_CHUNK_S = 10.0  # a fresh capture stream on a null-sink monitor can take seconds to deliver its first chunk


@dataclass(frozen=True)
class AudioChunk:
    """One chunk of microphone audio as the bus published it."""

    samples: np.ndarray
    """16 kHz mono int16."""
    t0: float
    """Monotonic seconds when its first sample reached the microphone (the bus's one clock)."""
    seq: int
    """Position in the bus's stream, from 0; consecutive chunks have consecutive numbers."""
    plain: np.ndarray | None = None
    """The same audio with only a linear estimate of our echo taken out, when echo cancellation runs: a person
    talking over the reply at its own level (AEC3's suppressor turns them down with the echo), for barge-in."""

    @property
    def t1(self) -> float:
        """When its last sample reached the microphone."""
        return self.t0 + len(self.samples) / SAMPLE_RATE


class Tap:
    """One consumer's view of the bus: its own bounded queue, read like an AudioSource."""

    def __init__(self, bus: CaptureBus, name: str, max_chunks: int, on: bool) -> None:
        self.bus = bus
        self.name = name
        self.max_chunks = max_chunks
        self.dropped = 0
        """Chunks thrown away because this tap was not read in time (a live source only)."""
        self.on = on
        """Whether the bus delivers to it; the listen loop's turn machine decides (CaptureBus.switch)."""
        self.queue: collections.deque[AudioChunk] = collections.deque()
        self.last: AudioChunk | None = None
        """The chunk read last."""

    def next(self, timeout_s: float) -> AudioChunk | None:
        """The next chunk, waiting at most timeout_s; None if none came. Raises AudioDeviceError once the
        source failed and everything delivered before has been read."""
        with self.bus.cond:
            deadline = time.monotonic() + timeout_s
            while not self.queue:
                if self.bus.error is not None:
                    raise self.bus.error
                left = deadline - time.monotonic()
                if left <= 0:
                    return None  # an ended recording too waits out the timeout: a reading loop must not spin
                self.bus.cond.wait(left)
            self.last = self.queue.popleft()
            self.bus.cond.notify_all()  # a recording's reader may be waiting for room
            return self.last

    def read(self, timeout_s: float, plain: bool = False) -> np.ndarray | None:
        """The next chunk's samples (AudioSource.read's contract); `plain`: its plain version where there is one
        (the words of someone who talked over the reply, while our echo may still be in the room)."""
        chunk = self.next(timeout_s)
        if chunk is None:
            return None
        return chunk.plain if plain and chunk.plain is not None else chunk.samples

    def take_all(self) -> list[AudioChunk]:
        """Every chunk already delivered and not read yet, without waiting."""
        with self.bus.cond:
            out = list(self.queue)
            self.queue.clear()
            self.bus.cond.notify_all()
            return out

    def drain(self) -> None:
        """Throw away what was delivered and not read (our own voice, audio heard while busy). A recording
        read at its own pace has nothing to throw away: it waited for us."""
        if self.bus.live:
            self.take_all()

    def wait_out(self, samples: int, stop: threading.Event) -> None:
        """The echo tail, half-duplex: drop what was delivered (our own voice, audio heard while busy), then
        let `samples` more pass unheard, bounded by their duration plus a second of wall clock. On a live source
        the tail is also counted by capture time: everything captured before it ends is dropped, so a backlog
        the reader is still working through (our echo, captured during the reply on a busy machine) is not taken
        for the tail and then heard as speech. Raises AudioDeviceError when the source is lost meanwhile."""
        self.drain()
        until = time.monotonic() + samples / SAMPLE_RATE  # audio captured before this is ours, or its echo
        deadline = until + 1.0
        while time.monotonic() < deadline and not stop.is_set():
            chunk = self.next(READ_S)
            if chunk is None:
                continue
            if samples <= 0 and (not self.bus.live or chunk.t0 >= until - CLOCK_SLACK_S):
                with self.bus.cond:
                    self.queue.appendleft(chunk)  # heard after the tail: the reader's
                return
            samples -= len(chunk.samples)

    @property
    def finished(self) -> bool:
        """The source was a recording that has ended, and this tap has read all of it."""
        with self.bus.cond:
            return self.bus.ended and not self.queue

    def close(self) -> None:
        """Unsubscribe: the bus delivers nothing more to it."""
        self.bus.unsubscribe(self)

    def __enter__(self) -> Tap:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class CaptureBus:
    """Owns the source and the one thread that reads it; taps are the only way to its audio."""

    def __init__(self, source: AudioSource, stop: threading.Event, live: bool | None = None) -> None:
        self.source = source
        self.stop = stop
        self.live = source.live if live is None else live
        """Read whether or not taps keep up (dropping their oldest); else read at the slowest tap's pace."""
        self.cond = threading.Condition()
        self.taps: list[Tap] = []
        self.error: AudioDeviceError | None = None
        """Why the source stopped delivering; every tap raises it (Listener.reopen then hands a new one)."""
        self.ended = False
        """A recording has no more audio."""
        self.seq = 0
        self._clock: float | None = None  # when the stream's next chunk starts, on a source without times
        self._thread: threading.Thread | None = None
        self._generation = 0  # a reader for a replaced source stops at its next chunk

    def tap(self, name: str, on: bool = True, max_chunks: int | None = None) -> Tap:
        """A new subscriber, starting with the next chunk read (taps made before start() get every chunk)."""
        size = max_chunks or (max(2, int(TAP_S * SAMPLE_RATE / 480)) if self.live else RECORDING_TAP_CHUNKS)
        tap = Tap(self, name, size, on)
        with self.cond:
            self.taps.append(tap)
            self.cond.notify_all()
        return tap

    def unsubscribe(self, tap: Tap) -> None:
        with self.cond:
            if tap in self.taps:
                self.taps.remove(tap)
            tap.on = False
            self.cond.notify_all()

    def switch(self, on: Iterable[Tap] = (), off: Iterable[Tap] = ()) -> None:
        """Turn taps on and off in one step, so no chunk falls between them. A tap turned off keeps what it
        was delivered (its consumer may still read it); one turned on starts fresh with the next chunk."""
        with self.cond:
            for tap in off:
                tap.on = False
            for tap in on:
                if not tap.on:
                    tap.queue.clear()
                    tap.on = True
            self.cond.notify_all()

    @property
    def running(self) -> bool:
        """The reader is at work (it ends on stop, close, a lost source or a recording's end)."""
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        """Start the reader, if it is not running."""
        with self.cond:
            if self._thread is not None and self._thread.is_alive():
                return
            self._thread = spawn("voiceloop-capture", self._run, self._generation)

    def replace(self, source: AudioSource) -> None:
        """A reopened microphone takes the lost one's place; the taps stay subscribed."""
        with self.cond:
            self._generation += 1
            self.source, self.error, self.ended = source, None, False
            self._clock = None
            for tap in self.taps:
                tap.queue.clear()
            self._thread = None
        self.start()

    def halt(self) -> None:
        """Stop the reader (bounded join); the source stays open (its owner closes it)."""
        with self.cond:
            self._generation += 1
            self.cond.notify_all()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(1.0)

    def _current(self, generation: int) -> bool:
        return generation == self._generation and not self.stop.is_set()

    def _run(self, generation: int) -> None:
        source = self.source
        # empty reads in a row, and since when: a stall needs both (a reader kept off the CPU has not waited)
        empty, since, allowed = 0, time.monotonic(), FIRST_CHUNK_S
        while self._current(generation):
            if not self.live and not self._wait_for_room(generation):
                return
            try:
                samples = source.read(READ_S)
                empty = empty + 1 if samples is None else 0
                quiet = min(empty * READ_S, time.monotonic() - since)
                if self.live and quiet >= allowed and not source.finished:
                    raise AudioDeviceError(f"the microphone delivered no audio for {allowed:.0f} s (stalled)")
            except AudioDeviceError as e:
                with self.cond:
                    if generation == self._generation:
                        self.error = e
                    self.cond.notify_all()
                return
            if samples is None:
                if source.finished:
                    with self.cond:
                        self.ended = self.ended or generation == self._generation
                        self.cond.notify_all()
                    return
                continue
            since, allowed = time.monotonic(), STALL_S
            plain = source.plain if isinstance(source, EchoCancelledSource) else None
            self._publish(samples, source.captured_at, generation, plain)

    def _wait_for_room(self, generation: int) -> bool:
        """A recording waits until some tap is on and every tap that is on has room (bounded waits)."""
        with self.cond:
            while self._current(generation):
                on = [t for t in self.taps if t.on]
                if on and all(len(t.queue) < t.max_chunks for t in on):
                    return True
                self.cond.wait(READ_S)
        return False

    def _publish(
        self, samples: np.ndarray, captured_at: float | None, generation: int, plain: np.ndarray | None = None
    ) -> None:
        n = len(samples) / SAMPLE_RATE
        with self.cond:
            if generation != self._generation:
                return  # read from a source that was replaced meanwhile
            # the source's own capture time when it has one; else a sample clock started at the first read
            start = captured_at - n if captured_at is not None else (self._clock or time.monotonic() - n)
            if self._clock is not None:
                start = max(start, self._clock)  # one clock, never going back
            self._clock = start + n
            chunk = AudioChunk(samples, start, self.seq, plain)
            self.seq += 1
            for tap in self.taps:
                if not tap.on:
                    continue
                if len(tap.queue) >= tap.max_chunks:
                    tap.queue.popleft()
                    tap.dropped += 1
                tap.queue.append(chunk)
            self.cond.notify_all()
