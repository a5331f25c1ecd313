"""The capture bus on the real WAV source: every chunk reaches every tap once, in order, on one clock; a tap
nobody reads drops its oldest without holding up the others; a lost microphone is reported and replaced."""

from __future__ import annotations

import itertools
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from voiceloop.audio.bus import AudioChunk, CaptureBus, Tap
from voiceloop.audio.formats import SAMPLE_RATE, wav_bytes
from voiceloop.audio.mic import WavSource
from voiceloop.errors import AudioDeviceError

CHUNK = 480  # WavSource's 30 ms chunks
WAIT_S = 10.0  # every wait in these tests is bounded by this


def ramp_wav(tmp_path: Path, seconds: float = 2.0) -> tuple[Path, np.ndarray]:
    """A recording whose every sample says where it is, so order and gaps are visible."""
    samples = (np.arange(int(seconds * SAMPLE_RATE)) % 30000).astype(np.int16)
    path = tmp_path / "ramp.wav"
    path.write_bytes(wav_bytes(samples))
    return path, samples


def read_all(tap: Tap) -> list[AudioChunk]:
    got: list[AudioChunk] = []
    deadline = time.monotonic() + WAIT_S
    while not tap.finished and time.monotonic() < deadline:
        chunk = tap.next(0.1)
        if chunk is not None:
            got.append(chunk)
    assert tap.finished, f"{tap.name} did not reach the end of the recording"
    return got


def test_every_chunk_reaches_every_tap_once_in_order_on_one_clock(tmp_path: Path) -> None:
    wav, samples = ramp_wav(tmp_path)
    bus = CaptureBus(WavSource(wav), threading.Event())
    taps = [bus.tap("loop"), bus.tap("watcher")]
    bus.start()
    got: dict[str, list[AudioChunk]] = {}
    other = threading.Thread(target=lambda: got.__setitem__("watcher", read_all(taps[1])))
    other.start()
    got["loop"] = read_all(taps[0])
    other.join(WAIT_S)
    for name, chunks in got.items():
        assert np.array_equal(np.concatenate([c.samples for c in chunks]), samples), name
        assert [c.seq for c in chunks] == list(range(len(chunks))), name
        starts = [c.t0 for c in chunks]
        assert all(a < b for a, b in itertools.pairwise(starts)), name
        assert all(abs(a.t1 - b.t0) < 1e-9 for a, b in itertools.pairwise(chunks)), name
    assert taps[0].dropped == taps[1].dropped == 0


def test_a_tap_nobody_reads_drops_its_oldest_and_holds_up_no_one(tmp_path: Path) -> None:
    """A live source (a recording read as fast as it goes stands in for a burst from the microphone)."""
    wav, samples = ramp_wav(tmp_path)
    n = -(-len(samples) // CHUNK)
    bus = CaptureBus(WavSource(wav), threading.Event(), live=True)
    slow = bus.tap("slow", max_chunks=5)
    fast = bus.tap("fast", max_chunks=n + 1)
    bus.start()
    chunks = read_all(fast)
    assert [c.seq for c in chunks] == list(range(n))
    assert slow.dropped == n - 5
    assert [c.seq for c in slow.take_all()] == list(range(n - 5, n))  # the newest are kept


def test_switching_taps_hands_over_without_a_gap_or_a_repeat(tmp_path: Path) -> None:
    wav, _ = ramp_wav(tmp_path)
    bus = CaptureBus(WavSource(wav), threading.Event())
    first, second = bus.tap("first"), bus.tap("second", on=False)
    bus.start()
    head = [first.next(WAIT_S) for _ in range(10)]
    bus.switch(on=[second], off=[first])
    rest = first.take_all() + read_all(second)  # what the first was handed still belongs to it
    seqs = [c.seq for c in head if c is not None] + [c.seq for c in rest]
    assert seqs == list(range(len(seqs))) and len(seqs) > 20


class Unplugged(WavSource):
    """A microphone that goes away after a few chunks (the hardware seam: the device disappears)."""

    def __init__(self, path: Path, chunks: int) -> None:
        super().__init__(path)
        self.left = chunks

    def read(self, timeout_s: float) -> np.ndarray | None:
        if self.left == 0:
            raise AudioDeviceError("the microphone stopped delivering audio (unplugged?)")
        self.left -= 1
        return super().read(timeout_s)


def test_a_lost_microphone_is_reported_on_every_tap_and_a_new_one_takes_its_place(tmp_path: Path) -> None:
    wav, samples = ramp_wav(tmp_path, 0.5)
    bus = CaptureBus(Unplugged(wav, 3), threading.Event())
    tap = bus.tap("loop")
    bus.start()
    got = []
    with pytest.raises(AudioDeviceError, match="unplugged"):
        for _ in range(10):
            chunk = tap.next(WAIT_S)
            assert chunk is not None
            got.append(chunk.seq)
    assert got == [0, 1, 2]  # everything read before the loss is delivered first
    bus.replace(WavSource(wav))
    again = read_all(tap)
    assert np.array_equal(np.concatenate([c.samples for c in again]), samples)
    assert [c.seq for c in again] == list(range(3, 3 + len(again)))  # one stream across microphones


def test_stop_ends_the_reader_and_a_tap_read_is_bounded(tmp_path: Path) -> None:
    wav, _ = ramp_wav(tmp_path)
    stop = threading.Event()
    bus = CaptureBus(WavSource(wav, realtime=True), stop)
    tap = bus.tap("loop")
    bus.start()
    assert tap.next(WAIT_S) is not None and bus.running
    stop.set()
    deadline = time.monotonic() + WAIT_S
    while bus.running and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not bus.running
    tap.drain()
    assert tap.next(0.05) is None and not tap.finished


def test_a_tap_on_an_ended_recording_waits_out_its_timeout_instead_of_spinning(tmp_path: Path) -> None:
    """A consumer that keeps reading after the recording ended (the overhearing while a turn thinks) must not
    burn a core: each read waits its timeout. Counted in reads, not timed: 0.2 s of 0.05 s reads is a few."""
    wav, _ = ramp_wav(tmp_path, seconds=0.3)
    bus = CaptureBus(WavSource(wav), threading.Event())
    tap = bus.tap("overhear")
    bus.start()
    read_all(tap)
    reads, until = 0, time.monotonic() + 0.2
    while time.monotonic() < until:
        assert tap.read(0.05) is None
        reads += 1
    assert reads <= 6, f"{reads} reads in 0.2 s: the tap returned at once instead of waiting"


class Backlogged:
    """A live microphone whose reader fell behind on a busy machine (the hardware seam): the 0.9 s captured
    before the reply was heard to its end (its echo: loud) comes in a burst at twice real time, then audio
    arrives as it is captured (quiet)."""

    live = True
    overflows = 0
    listening = True
    finished = False

    def __init__(self, backlog_s: float = 0.9) -> None:
        self.end = time.monotonic()
        self.backlog_s = backlog_s
        self.captured_at: float | None = None
        self.n = 0

    def read(self, timeout_s: float) -> np.ndarray | None:
        stamp = self.end - self.backlog_s + (self.n + 1) * CHUNK / SAMPLE_RATE
        wait = 0.015 if stamp <= self.end else stamp - time.monotonic()
        if wait > timeout_s:
            time.sleep(timeout_s)
            return None
        time.sleep(max(0.0, wait))
        self.n += 1
        self.captured_at = stamp
        return np.full(CHUNK, 8000 if stamp <= self.end else 0, np.int16)

    def drain(self) -> None:
        pass

    def close(self) -> None:
        pass


def test_the_echo_tail_is_counted_by_capture_time_so_a_backlog_of_echo_is_not_heard() -> None:
    """Half-duplex: after a reply, the echo tail is waited out. A reader behind by 0.9 s still has the reply's
    echo to hand on; counted in samples read, the tail was over inside that backlog and the echo came next (heard
    as speech that "began while I was not listening", which swallowed the sentence said after it)."""
    source, stop = Backlogged(), threading.Event()
    bus = CaptureBus(source, stop)  # type: ignore[arg-type]
    tap = bus.tap("loop")
    bus.start()
    try:
        tap.wait_out(int(0.3 * SAMPLE_RATE), stop)
        chunk = tap.next(WAIT_S)
    finally:
        stop.set()
        bus.halt()
    assert chunk is not None
    assert not chunk.samples.any(), "the next chunk heard is the reply's echo, captured before the tail ended"
    assert chunk.t0 >= source.end + 0.3 - 0.01
