"""Our own voice taken out of the microphone by a linear filter alone, for the words said over a reply.

AEC3 (audio/aec.py) ends in a suppressor: where it believes the microphone is mostly echo, it turns those
frequencies down, and at the start of double talk (the person talking over a reply as loud as its echo) it
turns the person down too, by 30-40 dB for a few hundred milliseconds. The room test heard "Create a file
called notes" come back as "I'll call notes" or "Create an alcoholmotes". This filter only subtracts its
estimate of the echo (a partitioned-block frequency-domain NLMS filter; the partitions that hold the echo
path adapt fastest, since a room's echo is a few strong paths in half a second of taps), so the person
passes at their own level, with whatever echo the filter did not model left underneath; barge-in hands
that version of the talk-over to the next turn.

Two paths keep double talk from spoiling the estimate: a background filter adapts, and the foreground filter
that produces the output takes its coefficients only when the background has removed more echo over a window.
That alone did not hold through talk-overs: adapting on the person's voice (step 1, over a reference that
fades once the reply is cut) the background won some windows of double talk by fitting their voice, the
foreground took its coefficients, and after six talk-overs in a row it took out 5-15 dB of our voice instead of
30-40. So the background also stops learning while the microphone is clearly louder than the echo the filters
expect (double talk, and the echo's tail once the reply stopped while the person goes on), for HOLD_BLOCKS
after, unless that lasts MAX_FROZEN_BLOCKS of playback (the room itself got louder: learn it again).
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
TALK_RATIO = 2.5  # the microphone this much (4 dB) over the echo expected: someone else is talking
TALK_MIN_ERLE = 4.0  # the double-talk test waits until the foreground removes this much (factor, 6 dB) of our voice
SMOOTH = 0.6  # block powers for the double-talk test are smoothed over about 25 ms
HOLD_BLOCKS = 20  # no learning for 200 ms after the microphone was last louder than the echo
MAX_FROZEN_BLOCKS = 300  # 3 s of playback louder than expected all along: the echo path changed, learn it
MAX_SHIFT = 8  # each window, the echo is looked for up to this many samples (0.5 ms) off the foreground's timing
SHIFT_GAIN = 0.5  # and the filters are moved when that leaves less than this share of the residual (3 dB)
GOOD_WITHIN = 0.5  # the foreground is kept as the last good filter when it is within 3 dB of the last one kept
GOOD_DECAY = 0.9  # per window where it is not: the last good one's ERLE is forgotten at about 1.8 dB a second


def _norm(w: np.ndarray) -> float:
    """The mean partition's size, or 1 for a filter that has learned nothing yet."""
    size = float(np.mean(np.sqrt(np.sum(np.abs(w) ** 2, axis=1))))
    return size if size > 0 else 1.0


def _shifted(w: np.ndarray, lag: int) -> np.ndarray:
    """The partitioned filter w with its impulse response delayed by lag samples (advanced when negative)."""
    taps = np.fft.irfft(w, axis=1)[:, :BLOCK].reshape(-1)
    moved = np.zeros_like(taps)
    if lag >= 0:
        moved[lag:] = taps[: len(taps) - lag]
    else:
        moved[:lag] = taps[-lag:]
    parts = np.concatenate([moved.reshape(PARTS, BLOCK), np.zeros((PARTS, BLOCK))], axis=1)
    return np.fft.rfft(parts, axis=1)


class LinearEcho:
    """near minus the linear echo estimate of far, for 16 kHz mono int16 of any length (whole 10 ms blocks
    out, a partial block waits for the next call, as aec.EchoCanceller)."""

    def __init__(self) -> None:
        bins = BLOCK + 1
        self._x = np.zeros((PARTS, bins), np.complex128)  # the reference's recent block spectra, newest first
        self._bg = np.zeros((PARTS, bins), np.complex128)
        self._fg = np.zeros((PARTS, bins), np.complex128)
        self._good = np.zeros((PARTS, bins), np.complex128)  # the last good foreground, and its ERLE (a factor)
        self._good_erle = 0.0
        self._prev = np.zeros(BLOCK)
        self._near = np.zeros(0, np.int16)
        self._far = np.zeros(0, np.int16)
        self._err = [0.0, 0.0]  # residual energy over the window: background, foreground
        self._near_sum = 0.0
        self._blocks = 0
        self._window: list[tuple[np.ndarray, ...]] = []  # near, foreground's and last good's echo estimates
        self._fg_erle = 1.0  # near over foreground residual energy in the last window without double talk
        self._power = [0.0, 0.0]  # smoothed near and expected echo powers per block
        self._hold = 0  # blocks left with learning frozen
        self._frozen = 0  # consecutive blocks of playback frozen
        self.talk_blocks = 0
        """Blocks of the last process() call in which someone else was talking (learning frozen)."""

    def process(self, near: np.ndarray, far: np.ndarray) -> np.ndarray:
        if len(near) != len(far):
            raise ValueError(f"near and far must have the same length, got {len(near)} and {len(far)}")
        self._near = np.concatenate([self._near, np.asarray(near, np.int16)])
        self._far = np.concatenate([self._far, np.asarray(far, np.int16)])
        whole = len(self._near) - len(self._near) % BLOCK
        self.talk_blocks = 0
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
        y_bg = np.fft.irfft(np.sum(self._bg * self._x, axis=0))[BLOCK:]
        y_fg = np.fft.irfft(np.sum(self._fg * self._x, axis=0))[BLOCK:]
        e_bg, e_fg = d - y_bg, d - y_fg
        if self._talking(float(np.dot(d, d)), max(float(np.dot(y_bg, y_bg)), float(np.dot(y_fg, y_fg)))):
            self.talk_blocks += 1
            return np.clip(np.rint(e_fg), -32768, 32767).astype(np.int16)  # learn nothing from their voice
        grad = share * np.conj(self._x) * np.fft.rfft(np.concatenate([np.zeros(BLOCK), e_bg]))
        taps = np.fft.irfft(STEP * grad / (power + POWER_FLOOR), axis=1)
        taps[:, BLOCK:] = 0.0  # keep it a linear (not circular) convolution
        self._bg += np.fft.rfft(taps, axis=1)
        self._window.append((d, y_fg, np.fft.irfft(np.sum(self._good * self._x, axis=0))[BLOCK:]))
        self._compare(float(np.dot(e_bg, e_bg)), float(np.dot(e_fg, e_fg)), float(np.dot(d, d)))
        return np.clip(np.rint(e_fg), -32768, 32767).astype(np.int16)

    def _talking(self, near: float, echo: float) -> bool:
        """Whether the microphone holds more than our echo (someone talking over it), on powers smoothed over a
        few blocks, with a hold after. Only once the foreground models the echo: before, it expects none."""
        p = self._power
        p[0] = SMOOTH * p[0] + (1 - SMOOTH) * near
        p[1] = SMOOTH * p[1] + (1 - SMOOTH) * echo
        if self._fg_erle >= TALK_MIN_ERLE and p[0] > TALK_RATIO * p[1] + POWER_FLOOR * BLOCK:
            self._hold = HOLD_BLOCKS
        if self._hold == 0:
            self._frozen = 0
            return False
        self._hold -= 1
        self._frozen += 1
        if self._frozen > MAX_FROZEN_BLOCKS:  # never quiet enough to be our voice alone: the room changed
            self._hold = self._frozen = 0
            self._fg_erle = 1.0
            return False
        return True

    def _compare(self, bg: float, fg: float, near: float) -> None:
        self._err[0] += bg
        self._err[1] += fg
        self._near_sum += near
        self._blocks += 1
        if self._blocks < WINDOW_BLOCKS:
            return
        self._fg_erle = self._near_sum / max(min(self._err), 1.0)
        self._follow_delay()
        if self._err[0] < BETTER * self._err[1]:
            self._fg = self._bg.copy()
        elif self._err[0] > DIVERGED * self._err[1]:
            self._bg = self._fg.copy()
        if self._fg_erle >= GOOD_WITHIN * self._good_erle:
            self._good, self._good_erle = self._fg.copy(), self._fg_erle
        else:
            self._good_erle *= GOOD_DECAY
        self._err = [0.0, 0.0]
        self._near_sum = 0.0
        self._blocks = 0
        self._window = []

    def _follow_delay(self) -> None:
        """Move the filters to where the echo is now, when it arrives a few samples earlier or later than they have
        it. The sound cards' clocks and the capture timestamps drift: in the looped room the echo moved by 1-4
        samples between talk-overs (none in the replies before), and a filter one sample off took out 6-15 dB
        instead of 35-45. Learning the moved path again by adaptation took longer than the 1.5 s before the next
        talk-over, and its first steps blur the filter, so the last good foreground is tried moved as well."""
        d = np.concatenate([w[0] for w in self._window])
        k = MAX_SHIFT
        core = d[k:-k]
        tried = []  # (residual, which, lag): which 1 is the foreground, 2 the last good one
        for which in (1, 2):
            y = np.concatenate([w[which] for w in self._window])
            tried += [
                (float(np.sum((core - y[k - lag : len(y) - k - lag]) ** 2)), which, lag) for lag in range(-k, k + 1)
            ]
        now = tried[k][0]  # the foreground where it is
        residual, which, lag = min(tried)
        if residual < SHIFT_GAIN * now:
            self._fg = _shifted(self._fg if which == 1 else self._good, lag)
            self._bg = self._fg.copy()
