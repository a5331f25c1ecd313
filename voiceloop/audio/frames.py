"""Microphone chunks (any size) -> VAD frames (exactly frame_samples each), carrying the remainder over.

PortAudio delivers chunks of audio.chunk_ms, webrtcvad wants 10/20/30 ms frames: every reader of the mic
(the listen loop, the barge-in watcher) re-chunks through one FrameChunker.
"""

from __future__ import annotations

import numpy as np


class FrameChunker:
    """Accumulates int16 chunks and hands out whole frames in order; the tail waits for the next chunk."""

    def __init__(self, frame_samples: int) -> None:
        if frame_samples <= 0:
            raise ValueError("frame_samples must be positive")
        self.frame_samples = frame_samples
        self._pending = np.zeros(0, dtype=np.int16)

    def push(self, chunk: np.ndarray) -> list[np.ndarray]:
        """Add a chunk; return every whole frame now available (possibly none)."""
        data = np.concatenate([self._pending, chunk]) if len(self._pending) else chunk
        n = len(data) // self.frame_samples * self.frame_samples
        frames = [data[i : i + self.frame_samples] for i in range(0, n, self.frame_samples)]
        self._pending = data[n:].copy()
        return frames

    @property
    def pending(self) -> np.ndarray:
        """Samples waiting for a whole frame."""
        return self._pending

    def reset(self, samples: np.ndarray | None = None) -> None:
        """Drop what is pending; start over from `samples` (e.g. speech caught during barge-in) if given."""
        self._pending = np.zeros(0, dtype=np.int16) if samples is None else np.asarray(samples, dtype=np.int16)
