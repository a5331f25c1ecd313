"""Our own voice taken out of the microphone by a linear filter alone, for the words said over a reply.

AEC3 (audio/aec.py) ends in a suppressor: where it believes the microphone is mostly echo, it turns those
frequencies down, and at the start of double talk (the person talking over a reply as loud as its echo) it
turns the person down too, by 30-40 dB for a few hundred milliseconds. The room test heard "Create a file
called notes" come back as "I'll call notes" or "Create an alcoholmotes". This filter only subtracts its
estimate of the echo (a partitioned-block frequency-domain NLMS filter; the partitions that hold the echo
path adapt fastest, since a room's echo is a few strong paths in half a second of taps), so the person
passes at their own level, with whatever echo the filter did not model left underneath; barge-in hands
that version of the talk-over to the next turn.

Two paths keep double talk from spoiling the estimate: a background filter adapts on every block, and the
foreground filter that produces the output takes its coefficients only when the background has removed
more echo over a window. While the person talks the background's residual holds their voice, it does not
win, and the foreground stays where it was.
"""

from __future__ import annotations

import numpy as np

from voiceloop.audio.formats import SAMPLE_RATE

BLOCK = 160  # samples per block (10 ms), as AEC3
TAIL_S = 0.5  # echo delay plus room reverberation the filter covers (the reference leads by aec.LEAD_S)
PARTS = int(TAIL_S * SAMPLE_RATE) // BLOCK
STEP = 1.0  # NLMS step size, normalized per frequency bin by the reference's power over the filter span
PROP_FLOOR = 0.5  # proportionate steps: a partition's size plus this share of the mean one (a new path is found)
POWER_FLOOR = 1e3  # per-bin power below which the reference is silence (no update where nothing was played)
WINDOW_BLOCKS = 25  # the two paths are compared over 250 ms
BETTER = 0.8  # the background replaces the foreground when it leaves less than this share of its residual
DIVERGED = 4.0  # a background this much worse than the foreground starts again from the foreground


def _norm(w: np.ndarray) -> float:
    """The mean partition's size, or 1 for a filter that has learned nothing yet."""
    size = float(np.mean(np.sqrt(np.sum(np.abs(w) ** 2, axis=1))))
    return size if size > 0 else 1.0


class LinearEcho:
    """near minus the linear echo estimate of far, for 16 kHz mono int16 of any length (whole 10 ms blocks
    out, a partial block waits for the next call, as aec.EchoCanceller)."""

    def __init__(self) -> None:
        bins = BLOCK + 1
        self._x = np.zeros((PARTS, bins), np.complex128)  # the reference's recent block spectra, newest first
        self._bg = np.zeros((PARTS, bins), np.complex128)
        self._fg = np.zeros((PARTS, bins), np.complex128)
        self._prev = np.zeros(BLOCK)
        self._near = np.zeros(0, np.int16)
        self._far = np.zeros(0, np.int16)
        self._err = [0.0, 0.0]  # residual energy over the window: background, foreground
        self._blocks = 0

    def process(self, near: np.ndarray, far: np.ndarray) -> np.ndarray:
        if len(near) != len(far):
            raise ValueError(f"near and far must have the same length, got {len(near)} and {len(far)}")
        self._near = np.concatenate([self._near, np.asarray(near, np.int16)])
        self._far = np.concatenate([self._far, np.asarray(far, np.int16)])
        whole = len(self._near) - len(self._near) % BLOCK
        out = [self._block(self._near[i : i + BLOCK], self._far[i : i + BLOCK]) for i in range(0, whole, BLOCK)]
        self._near, self._far = self._near[whole:], self._far[whole:]
        return np.concatenate(out) if out else np.zeros(0, np.int16)

    def _block(self, near: np.ndarray, far: np.ndarray) -> np.ndarray:
        x = far.astype(np.float64)
        self._x = np.roll(self._x, 1, axis=0)
        self._x[0] = np.fft.rfft(np.concatenate([self._prev, x]))
        self._prev = x
        share = np.sqrt(np.sum(np.abs(self._bg) ** 2, axis=1)) + PROP_FLOOR * _norm(self._bg)
        share = (PARTS * share / np.sum(share))[:, None]  # proportionate: partitions that hold echo adapt faster
        power = np.sum(share * np.abs(self._x) ** 2, axis=0)
        if float(np.max(power)) <= POWER_FLOOR:
            return near.copy()  # nothing played for TAIL_S: no echo to take out, nothing to learn
        d = near.astype(np.float64)
        e_bg = d - np.fft.irfft(np.sum(self._bg * self._x, axis=0))[BLOCK:]
        e_fg = d - np.fft.irfft(np.sum(self._fg * self._x, axis=0))[BLOCK:]
        grad = share * np.conj(self._x) * np.fft.rfft(np.concatenate([np.zeros(BLOCK), e_bg]))
        taps = np.fft.irfft(STEP * grad / (power + POWER_FLOOR), axis=1)
        taps[:, BLOCK:] = 0.0  # keep it a linear (not circular) convolution
        self._bg += np.fft.rfft(taps, axis=1)
        self._compare(float(np.dot(e_bg, e_bg)), float(np.dot(e_fg, e_fg)))
        return np.clip(np.rint(e_fg), -32768, 32767).astype(np.int16)

    def _compare(self, bg: float, fg: float) -> None:
        self._err[0] += bg
        self._err[1] += fg
        self._blocks += 1
        if self._blocks < WINDOW_BLOCKS:
            return
        if self._err[0] < BETTER * self._err[1]:
            self._fg = self._bg.copy()
        elif self._err[0] > DIVERGED * self._err[1]:
            self._bg = self._fg.copy()
        self._err = [0.0, 0.0]
        self._blocks = 0
