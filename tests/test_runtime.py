"""The one concurrency model: the stop token reaches workers, shutdown is bounded, frames are re-chunked exactly."""

from __future__ import annotations

import os
import signal
import threading
import time

import numpy as np
import pytest

from voiceloop.audio.frames import FrameChunker
from voiceloop.runtime import Runtime, install_signals


def test_shutdown_stops_workers_that_watch_the_token() -> None:
    rt = Runtime()
    seen: list[str] = []

    def worker(name: str) -> None:
        while not rt.stop.wait(0.05):
            pass
        seen.append(name)

    for n in ("a", "b", "c"):
        rt.spawn(f"w-{n}", worker, n)
    assert sorted(rt.alive()) == ["w-a", "w-b", "w-c"]
    assert rt.shutdown(1.0) == []
    assert sorted(seen) == ["a", "b", "c"] and rt.alive() == []


def test_shutdown_is_bounded_and_names_a_stuck_worker() -> None:
    rt = Runtime()
    release = threading.Event()
    rt.spawn("stuck", release.wait, 5.0)  # ignores the token
    left = rt.shutdown(0.2)
    still_waiting = not release.is_set()
    release.set()
    assert left == ["stuck"] and still_waiting  # shutdown returned while the worker was still stuck


def test_sigterm_sets_the_token_and_interrupts_the_main_thread() -> None:
    rt = Runtime()
    old_int, old_term = signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)
    install_signals(rt)
    try:
        with pytest.raises(KeyboardInterrupt):
            os.kill(os.getpid(), signal.SIGTERM)
            for _ in range(100):  # the handler raises within a tick; 5 s bounds a handler that never does
                time.sleep(0.05)
        assert rt.stop.is_set()
    finally:
        signal.signal(signal.SIGINT, old_int)
        signal.signal(signal.SIGTERM, old_term)


def test_frame_chunker_keeps_every_sample_in_order() -> None:
    data = np.arange(5000, dtype=np.int16)
    chunker = FrameChunker(480)
    out: list[np.ndarray] = []
    for size in (1024, 7, 480, 1, 2000, 1488):
        part, data = data[:size], data[size:]
        out.extend(chunker.push(part))
    assert all(len(f) == 480 for f in out)
    joined = np.concatenate([*out, chunker.pending])
    assert np.array_equal(joined, np.arange(5000, dtype=np.int16))
    chunker.reset(np.ones(500, np.int16))
    assert [len(f) for f in chunker.push(np.zeros(0, np.int16))] == [480] and len(chunker.pending) == 20


def test_spawned_workers_belong_to_the_process_runtime() -> None:
    from voiceloop.runtime import RUNTIME, spawn

    release = threading.Event()
    thread = spawn("voiceloop-test-worker", release.wait, 5.0)
    try:
        assert "voiceloop-test-worker" in RUNTIME.alive()
    finally:
        release.set()
        thread.join(2.0)
    assert "voiceloop-test-worker" not in RUNTIME.alive()
