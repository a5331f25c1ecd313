"""Echo cancellation on the microphone path: WebRTC AEC3 with what the speaker played as its reference.

The speaker tells a FarEnd timeline what it played and when that audio is heard; the microphone
source, wrapped in EchoCancelledSource, asks the timeline for the audio played while each chunk was
being captured and hands both to AEC3, which learns the room's echo path (delay included) and takes
our own voice out of the microphone signal. What is left is the person (and the room).
"""

from __future__ import annotations

import collections
import math
import threading
import time
from typing import Any

import numpy as np

from voiceloop.audio.formats import SAMPLE_RATE
from voiceloop.audio.linear_echo import LinearEcho
from voiceloop.audio.mic import AudioSource

BLOCK_MS = 10  # AEC3 works on 10 ms blocks
BLOCK_SAMPLES = SAMPLE_RATE * BLOCK_MS // 1000
KEEP_S = 3.0  # played audio older than this can no longer be arriving at the microphone
ACTIVE_DBFS = -55.0  # a block of reference louder than this counts as "speaking" for the ERLE tally
LEAD_S = 0.2
"""The reference handed to AEC3 runs this far ahead of the microphone. AEC3 finds any echo delay from
0 to about 500 ms, but none below 0: the sound cards' reported latencies are rough (off by 50 ms on
PulseAudio), so the reference is made to lead by a margin, and the true delay lands inside that range."""
WAIT_STEP_S = 0.01
PLAIN_MIN_ERLE_DB = 10.0
"""`plain` is handed on only while the linear filter takes out at least this much of the echo (the median over
PLAIN_CHUNKS chunks of our voice alone): before it has learned the room, AEC3's output is the better of the two."""
PLAIN_CHUNKS = 150  # about 4.5 s of playback
ECHO_ONLY_DB = 20.0  # a chunk AEC3 took this much out of is our voice alone: the linear filter is judged on those
REPLY_GAP_S = 1.0  # playback this recent means a reply is under way (its next sentence may be coming)


class FarEnd:
    """What the speaker played, on the monotonic clock of when it is heard. Thread-safe: the player
    pushes from its thread, the microphone path reads from another."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._parts: collections.deque[tuple[float, np.ndarray]] = collections.deque()
        self.pushed_until = 0.0
        """Monotonic time up to which played audio has been pushed (it is pushed before it is heard)."""
        self.audible_until = 0.0
        """The same, counting only audio that was not silence."""

    def push(self, samples: np.ndarray, heard_at: float) -> None:
        """`samples` (16 kHz int16) start being heard at monotonic time `heard_at`."""
        with self._lock:
            self._parts.append((heard_at, np.asarray(samples, dtype=np.int16).copy()))
            self.pushed_until = max(self.pushed_until, heard_at + len(samples) / SAMPLE_RATE)
            if np.any(samples):
                self.audible_until = self.pushed_until
            while self._parts and self._parts[0][0] + len(self._parts[0][1]) / SAMPLE_RATE < heard_at - KEEP_S:
                self._parts.popleft()

    def take(self, n: int, ends_at: float) -> np.ndarray:
        """The n samples heard up to monotonic time `ends_at` (zeros where nothing played)."""
        out = np.zeros(n, dtype=np.int16)
        start = ends_at - n / SAMPLE_RATE
        with self._lock:
            parts = list(self._parts)
        for t0, samples in parts:
            offset = round((t0 - start) * SAMPLE_RATE)  # where this part begins in `out`
            a, b = max(0, offset), min(n, offset + len(samples))
            if a < b:
                out[a:b] = samples[a - offset : b - offset]
        return out

    def clear(self) -> None:
        with self._lock:
            self._parts.clear()


class EchoCanceller:
    """WebRTC AEC3 (pywebrtc-audio) for 16 kHz mono int16 of any length; keeps the partial block.
    Not thread-safe, like AEC3 itself: one thread at a time (EchoCancelledSource locks)."""

    def __init__(self) -> None:
        try:
            from pywebrtc_audio import EchoCanceller as Aec3
        except ImportError as e:
            raise ImportError("echo cancellation needs pywebrtc-audio: pip install -e '.[handsfree]'") from e
        self._aec: Any = Aec3(sample_rate=SAMPLE_RATE, num_channels=1, stream_delay_ms=0)
        self._near = np.zeros(0, np.int16)
        self._far = np.zeros(0, np.int16)

    def process(self, near: np.ndarray, far: np.ndarray) -> np.ndarray:
        """The microphone signal `near` with the echo of `far` (same length) removed. Output comes in
        whole 10 ms blocks: a partial block waits for the next call."""
        if len(near) != len(far):
            raise ValueError(f"near and far must have the same length, got {len(near)} and {len(far)}")
        self._near = np.concatenate([self._near, np.asarray(near, np.int16)])
        self._far = np.concatenate([self._far, np.asarray(far, np.int16)])
        whole = len(self._near) - len(self._near) % BLOCK_SAMPLES
        out = [
            np.asarray(self._aec.process(self._near[i : i + BLOCK_SAMPLES], self._far[i : i + BLOCK_SAMPLES]), np.int16)
            for i in range(0, whole, BLOCK_SAMPLES)
        ]
        self._near, self._far = self._near[whole:], self._far[whole:]
        return np.concatenate(out) if out else np.zeros(0, np.int16)


def erle_db(near: np.ndarray, out: np.ndarray) -> float:
    """Echo return loss enhancement: how much quieter the cancelled signal is than the microphone's."""
    p_in = float(np.mean(np.asarray(near, np.float64) ** 2))
    p_out = float(np.mean(np.asarray(out, np.float64) ** 2))
    return 10.0 * math.log10(max(p_in, 1e-9) / max(p_out, 1e-9))


class EchoCancelledSource:
    """An AudioSource whose chunks have voiceloop's own voice taken out.

    The inner source may say when each chunk finished arriving at the microphone (`captured_at`,
    monotonic seconds); without it the time of the read is used. While the speaker is playing, the
    microphone and cancelled powers are summed, so `erle_db` tells how much echo was removed live.
    Alongside AEC3, a linear filter (audio/linear_echo.py) gives `plain`: the same chunk without AEC3's
    suppressor, which turns a person talking over the reply down with the echo.
    """

    def __init__(self, inner: AudioSource, far: FarEnd, canceller: EchoCanceller | None = None) -> None:
        self.inner = inner
        self.far = far
        self.canceller = canceller or EchoCanceller()
        self.linear = LinearEcho()
        self.plain: np.ndarray | None = None
        """The chunk read last with only the linear echo estimate taken out (as long as it, same samples); None
        while the linear filter has not learned the room."""
        self._linear_erle: collections.deque[float] = collections.deque(maxlen=PLAIN_CHUNKS)
        self._lock = threading.Lock()
        self.power_in = 0.0
        """Summed squared microphone samples while the reference was active."""
        self.power_out = 0.0
        """The same after cancellation."""

    @property
    def overflows(self) -> int:
        return self.inner.overflows

    @overflows.setter
    def overflows(self, n: int) -> None:
        self.inner.overflows = n

    @property
    def finished(self) -> bool:
        return self.inner.finished

    @property
    def live(self) -> bool:
        return self.inner.live

    @property
    def captured_at(self) -> float | None:
        return self.inner.captured_at

    @property
    def listening(self) -> bool:
        return self.inner.listening

    @listening.setter
    def listening(self, on: bool) -> None:
        self.inner.listening = on

    def read(self, timeout_s: float) -> np.ndarray | None:
        with self._lock:  # the loop and the barge-in watcher may take turns reading; AEC3 is not thread-safe
            chunk = self.inner.read(timeout_s)
            if chunk is None:
                return None
            ends_at = self.inner.captured_at or time.monotonic()
            need = ends_at + LEAD_S
            # while a reply plays, wait (bounded by LEAD_S) until the audio the reference needs was written
            playing = self.far.audible_until >= ends_at - REPLY_GAP_S
            while playing and self.far.pushed_until < need and time.monotonic() < need:
                time.sleep(WAIT_STEP_S)
            return self.cancel(chunk, self.far.take(len(chunk), need))

    def cancel(self, chunk: np.ndarray, far: np.ndarray) -> np.ndarray | None:
        """`chunk` from the microphone with the echo of `far` (what was heard meanwhile) taken out by AEC3, and
        `plain` set; None while the cancellers hold back a partial block. Called by read(), under its lock."""
        out = self.canceller.process(chunk, far)
        plain = self.linear.process(chunk, far)  # both hand out whole 10 ms blocks: the same length
        n = len(out)
        if n and float(np.sqrt(np.mean(far.astype(np.float64) ** 2))) > 32768 * 10 ** (ACTIVE_DBFS / 20):
            # our voice alone: AEC3 took most of the chunk out, and the linear filter heard no one talk over it
            # (AEC3's suppressor takes a person talking over the reply out too, so its ERLE alone cannot tell)
            if len(plain) == n and erle_db(chunk[-n:], out) >= ECHO_ONLY_DB and not self.linear.talk_blocks:
                self._linear_erle.append(erle_db(chunk[-n:], plain))
            self.power_in += float(np.sum(chunk[-n:].astype(np.float64) ** 2))
            self.power_out += float(np.sum(out.astype(np.float64) ** 2))
        learned = bool(self._linear_erle) and float(np.median(self._linear_erle)) >= PLAIN_MIN_ERLE_DB
        self.plain = plain if learned and len(plain) == n else None
        return out if n else None

    @property
    def erle_db(self) -> float | None:
        """Echo removed while the speaker played, so far (None before anything was played)."""
        if self.power_in <= 0:
            return None
        return 10.0 * math.log10(self.power_in / max(self.power_out, 1e-9))

    def drain(self) -> None:
        self.inner.drain()

    def close(self) -> None:
        self.inner.close()
