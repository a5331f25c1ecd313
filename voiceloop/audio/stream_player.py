"""A speaker that never stops running: one output stream for the whole session, silence between replies.

PyAudioPlayer opens a stream per sentence, and each new stream reaches the speaker after a different
start-up delay; echo cancellation has to find that delay again at every sentence, and our own voice
leaks through meanwhile. This player keeps one stream open and feeds it from a queue (zeros when there
is nothing to say), so every sample it plays sits on one sample clock: the echo delay stays put, and
the far-end reference it reports is exact, silence included.

When the sound server goes away (restarted, a USB speaker unplugged) the stream dies for good; the next
sentence opens a new one, as listen reopens the microphone, so speech comes back with the server.
"""

from __future__ import annotations

import collections
import threading
import time
from typing import TYPE_CHECKING, Any

import numpy as np

from voiceloop.audio.devices import find_device
from voiceloop.audio.formats import SAMPLE_RATE, rms_dbfs
from voiceloop.errors import AudioDeviceError

if TYPE_CHECKING:
    from voiceloop.audio.aec import FarEnd

CHUNK = 240  # samples per callback (15 ms): the level history is kept per chunk. PortAudio keeps two callbacks
# ahead, so a reply's first sample waits out ~2 chunks of silence already queued: in the acoustic bench's room 480 took
# ~100 ms from synthesized to heard, 240 ~52 ms (no underflow with both cores busy)
REANCHOR_S = 0.03  # a sample clock further than this from PortAudio's own estimate is set again (underrun)
WAIT_STEP_S = 0.01
END_SLACK_S = 2.0  # play() gives up waiting this long after its audio should have been heard


class StreamPlayer:
    """Plays 16 kHz mono int16 through one long-lived callback stream; play() returns once heard."""

    def __init__(self, pa: Any, device: int | str = "") -> None:
        self._pa = pa
        self._index = find_device(pa, device, "output")
        self._lock = threading.Lock()
        self._queue: collections.deque[np.ndarray] = collections.deque()
        self._levels: collections.deque[tuple[float, float]] = collections.deque(maxlen=200)
        self._stream: Any = None
        self._latency = 0.0
        self._clock: tuple[float, int] | None = None
        self._heard_until = 0.0
        self.far_end: FarEnd | None = None
        """Told every chunk played, silence included, and when it is heard (an aec.FarEnd)."""
        self.stop_flag = threading.Event()
        """Set: what is playing is cut and the queue dropped. Written only by SpeechStream."""
        self._closed = False

    def _open(self) -> None:
        import pyaudio

        try:
            self._stream = self._pa.open(
                format=pyaudio.paInt16,
                channels=1,
                rate=SAMPLE_RATE,
                output=True,
                output_device_index=self._index,
                frames_per_buffer=CHUNK,
                stream_callback=self._callback,
            )
        except OSError as e:
            raise AudioDeviceError(f"cannot open the speaker: {e}; check `voiceloop devices`") from e
        self._latency = float(self._stream.get_output_latency() or 0.0)
        self._clock = None  # a new stream starts its own sample clock

    @property
    def ahead_s(self) -> float:
        """Seconds of sound the open stream holds ahead of a sample queued now (PortAudio's output latency): the
        silence a reply's first sample waits behind."""
        return self._latency

    def _alive(self) -> bool:
        stream = self._stream
        try:
            return stream is not None and bool(stream.is_active())
        except OSError:  # PortAudio calls a stream whose server is gone "not open"
            return False

    def _reopen(self) -> None:
        """A dead stream (its sound server went away) is dropped and a new one opened: AudioDeviceError
        while the server is not back, and then the next sentence tries again."""
        self._drop()
        self._open()

    def _stamp(self, n: int, info: Any) -> float:
        """When the buffer being filled now starts to be heard: a sample clock (smooth), set again from
        PortAudio's estimate for this buffer when they part (the stream ran dry and the device waited)."""
        try:
            ahead = float(info["output_buffer_dac_time"]) - float(info["current_time"])
        except (KeyError, TypeError, ValueError):
            ahead = self._latency
        if not 0.0 <= ahead <= 2.0:  # an estimate that cannot be right
            ahead = self._latency
        now = time.monotonic() + ahead
        if self._clock is None or abs(self._clock[0] + self._clock[1] / SAMPLE_RATE - now) > REANCHOR_S:
            self._clock = (now, 0)
        t0, count = self._clock
        self._clock = (t0, count + n)
        return t0 + count / SAMPLE_RATE

    def _callback(self, data: Any, frames: int, info: Any, status: int) -> tuple[bytes, int]:
        import pyaudio

        out = np.zeros(frames, np.int16)
        filled = 0
        with self._lock:
            while filled < frames and self._queue:
                head = self._queue[0]
                take = min(frames - filled, len(head))
                out[filled : filled + take] = head[:take]
                filled += take
                if take == len(head):
                    self._queue.popleft()
                else:
                    self._queue[0] = head[take:]
        heard_at = self._stamp(frames, info)
        if filled:
            self._levels.append((heard_at, rms_dbfs(out[:filled])))
            self._heard_until = heard_at + filled / SAMPLE_RATE
        if self.far_end is not None:
            self.far_end.push(out, heard_at)
        return out.tobytes(), pyaudio.paContinue

    def play(self, samples: np.ndarray) -> None:
        """Queue the samples and wait until they have been heard (or stop_flag cuts them)."""
        if self.stop_flag.is_set() or len(samples) == 0 or self._closed:
            return
        if not self._alive():
            self._reopen()
        pcm = np.asarray(samples, dtype=np.int16)
        with self._lock:
            self._queue.append(pcm.copy())
        deadline = time.monotonic() + len(pcm) / SAMPLE_RATE + self._latency + END_SLACK_S
        reopened = False
        while time.monotonic() < deadline:
            if self.stop_flag.is_set():
                with self._lock:
                    self._queue.clear()
                return
            with self._lock:
                queued = bool(self._queue)
            if not queued and time.monotonic() >= self._heard_until:
                return
            if self._closed:  # the session is ending
                return
            if not self._alive():
                if reopened:  # once per sentence: a server that keeps dying is reported, not chased
                    self._drop()  # the next sentence starts on a new stream
                    raise AudioDeviceError("the speaker stopped playing (unplugged?); check `voiceloop devices`")
                self._reopen_or_report()
                reopened = True
                deadline = time.monotonic() + self._queued_s() + self._latency + END_SLACK_S
            time.sleep(WAIT_STEP_S)

    def _reopen_or_report(self) -> None:
        try:
            self._reopen()
        except AudioDeviceError as e:
            with self._lock:
                self._queue.clear()  # the rest of this sentence is not played late on a stream opened later
            raise AudioDeviceError(f"the speaker stopped playing: {e}") from e

    def _queued_s(self) -> float:
        with self._lock:
            return sum(map(len, self._queue)) / SAMPLE_RATE

    def recent_level(self, window_s: float) -> float | None:
        """Loudest level (dBFS) heard from the speaker in the last window_s, or None if it was silent."""
        now = time.monotonic()
        levels = [db for t, db in list(self._levels) if now - window_s <= t <= now]
        return max(levels) if levels else None

    def close(self) -> None:
        """Stop the stream for good (before the interpreter exits: PortAudio calls back into Python)."""
        self._closed = True
        self._drop()

    def _drop(self) -> None:
        stream, self._stream = self._stream, None
        if stream is not None:
            try:
                stream.stop_stream()
                stream.close()
            except OSError:
                pass
