"""Where audio comes from: an AudioSource protocol, the PyAudio microphone, and a WAV file source."""

from __future__ import annotations

import queue
import threading
import time
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from voiceloop.audio.devices import find_device
from voiceloop.audio.formats import SAMPLE_RATE, ms_to_samples, read_wav
from voiceloop.errors import AudioDeviceError

REANCHOR_S = 1.0  # a capture clock this far behind the wall clock is set again (audio was lost)


class AudioSource(Protocol):
    """16 kHz mono int16 chunks; read() waits at most timeout_s and returns None if nothing came."""

    overflows: int
    listening: bool
    """False while a turn runs: audio arriving then is dropped on purpose (not counted as overflow)."""
    @property
    def live(self) -> bool:
        """Audio comes in real time whether or not it is read (a microphone, a paced recording); False for a
        recording read as fast as it is asked for, which loses nothing by waiting (audio/bus.py)."""
        ...

    @property
    def captured_at(self) -> float | None:
        """monotonic() when the last chunk read ended at the microphone, None when unknown (a recording)."""
        ...

    @property
    def finished(self) -> bool:
        """True when a recording has no more audio (a live microphone never finishes)."""
        ...

    def read(self, timeout_s: float) -> np.ndarray | None: ...

    def drain(self) -> None:
        """Throw away everything buffered (our own speech, audio heard while busy)."""
        ...

    def close(self) -> None: ...


class PyAudioSource:
    """The microphone: PortAudio's callback fills a bounded ring of chunks; the oldest is dropped when full."""

    def __init__(self, pa: Any, device: int | str, chunk_ms: int, ring_buffer_s: float) -> None:
        import pyaudio

        self.overflows = 0
        self.live = True
        self.listening = True
        """False while a turn runs: the mic's audio is dropped on purpose then (it would be our own voice),
        so a full ring is not counted as an overflow."""
        self.captured_at: float | None = None
        self._latency = 0.0  # the input stream's own latency, known once it is open
        """Monotonic time the last chunk read() returned had fully reached the microphone (for echo
        cancellation: which played audio it can contain)."""
        self._chunk = ms_to_samples(chunk_ms)
        self._clock: tuple[float, int] | None = None  # (monotonic time of sample 0, samples since)
        size = max(2, int(ring_buffer_s * 1000 / chunk_ms))
        self._ring: queue.Queue[tuple[float, np.ndarray]] = queue.Queue(maxsize=size)
        self._lock = threading.Lock()
        index = find_device(pa, device, "input")
        try:
            self._stream = pa.open(
                format=pyaudio.paInt16,
                channels=1,
                rate=SAMPLE_RATE,
                input=True,
                input_device_index=index,
                frames_per_buffer=self._chunk,
                stream_callback=self._callback,
            )
        except OSError as e:
            raise AudioDeviceError(f"cannot open the microphone: {e}; check `voiceloop devices`") from e
        self._latency = float(self._stream.get_input_latency() or 0.0)

    def _callback(self, data: bytes, frames: int, info: Any, status: int) -> tuple[None, int]:
        import pyaudio

        if status & pyaudio.paInputOverflow:
            self.overflows += 1
        chunk = np.frombuffer(data, dtype="<i2").copy()
        with self._lock:
            if self._ring.full():
                self.overflows += self.listening
                self._ring.get_nowait()
            self._ring.put_nowait((self._stamp(len(chunk)), chunk))
        return None, pyaudio.paContinue

    @property
    def finished(self) -> bool:
        return False

    def _stamp(self, n: int) -> float:
        """When the chunk just delivered ended at the microphone: a sample clock, smooth when callbacks come
        late and in bursts (a busy machine); set again when it runs ahead of the wall clock (impossible for
        audio already captured) or falls far behind it (chunks were lost)."""
        now = time.monotonic() - self._latency
        t0, count = self._clock if self._clock is not None else (now - n / SAMPLE_RATE, 0)
        clock = t0 + (count + n) / SAMPLE_RATE
        if clock > now + 0.005 or clock < now - REANCHOR_S:
            t0, count = now - n / SAMPLE_RATE, 0
        self._clock = (t0, count + n)
        return t0 + (count + n) / SAMPLE_RATE

    def read(self, timeout_s: float) -> np.ndarray | None:
        try:
            self.captured_at, chunk = self._ring.get(timeout=timeout_s)
            return chunk
        except queue.Empty:
            if not self._stream.is_active():
                raise AudioDeviceError("the microphone stopped delivering audio (unplugged?)") from None
            return None

    def drain(self) -> None:
        with self._lock:
            while not self._ring.empty():
                self._ring.get_nowait()

    def close(self) -> None:
        """Closed at once, not stopped first: PortAudio's stop waits for the capture thread, which waits forever on
        a stream that stalled (a suspended PulseAudio source); closing an active stream aborts it."""
        try:
            self._stream.close()
        except OSError:
            pass


class WavSource:
    """A WAV file as the microphone (tests, replay); paced in real time unless realtime=False."""

    def __init__(self, path: Path, chunk_ms: int = 30, realtime: bool = False) -> None:
        self.overflows = 0
        self.listening = True
        self.live = realtime
        self.captured_at: float | None = None
        self._samples = read_wav(path)
        self._chunk = ms_to_samples(chunk_ms)
        self._pos = 0
        self._realtime = realtime
        self._t0 = time.monotonic()

    def read(self, timeout_s: float) -> np.ndarray | None:
        if self._pos >= len(self._samples):
            time.sleep(min(timeout_s, 0.01))
            return None
        if self._realtime:
            due = self._t0 + self._pos / SAMPLE_RATE
            time.sleep(max(0.0, due - time.monotonic()))
        chunk = self._samples[self._pos : self._pos + self._chunk]
        self._pos += self._chunk
        return chunk

    @property
    def finished(self) -> bool:
        return self._pos >= len(self._samples)

    def drain(self) -> None:
        """Paced in real time, audio nobody read is gone, as at a live microphone: skip to now."""
        if self._realtime:
            now = int((time.monotonic() - self._t0) * SAMPLE_RATE)
            self._pos = max(self._pos, now - now % self._chunk)

    def close(self) -> None:
        pass
