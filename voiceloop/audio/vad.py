"""Find utterances in a stream of frames: a state machine fed by any is_speech(frame) -> bool."""

from __future__ import annotations

import collections
import math
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from enum import Enum

import numpy as np

from voiceloop.audio.endpoint import EndPolicy
from voiceloop.audio.formats import SAMPLE_RATE, ms_to_samples
from voiceloop.config import VadConfig

IsSpeech = Callable[[bytes], bool]
EndCheck = Callable[[np.ndarray], bool]
"""Has the speaker finished? Given the utterance so far (16 kHz int16)."""
SMART_TURN_REASK_MS = 400
START_VOICED_RATIO = 0.75  # share of the start window that must be voiced
KEEP_TAIL_MS = 150  # trailing silence kept on an utterance so the last word is not cut
RESUME_QUIET_MS = 90  # after listening resumes, this much silence must pass before speech counts as whole


@dataclass(frozen=True)
class Utterance:
    """One stretch of speech, ready for speech-to-text."""

    samples: np.ndarray
    """16 kHz mono int16, pre-roll included."""
    start_s: float
    """Where it starts in the stream, in seconds (pre-roll included)."""
    end_s: float
    """Where the last voiced frame ends, in seconds."""
    voiced_ms: int
    """How much of it the VAD called speech."""
    cut: bool = False
    """True when max_utterance_s ended it rather than silence."""
    clipped: bool = False
    """True when it was already under way as listening resumed: it began mid-word, so it is not acted on."""

    @property
    def duration_s(self) -> float:
        return len(self.samples) / SAMPLE_RATE


class SegState(Enum):
    SILENCE = "silence"
    SPEECH = "speech"


class Segmenter:
    """Turns fixed-size frames into Utterances: start window, pre-roll, silence timer, limits."""

    def __init__(
        self, cfg: VadConfig, is_speech: IsSpeech, end_check: EndCheck | None = None, turn_end: EndPolicy | None = None
    ) -> None:
        self.cfg = cfg
        self.is_speech = is_speech
        self.turn_end = turn_end
        """With it, each silent frame asks the policy how much silence ends this utterance (smart turn and
        the early transcript); it replaces silence_ms and end_check."""
        self.end_check = end_check
        """With it, a short silence asks whether the turn is over; silence_ms is then replaced by
        smart_turn_max_silence_ms as the longest wait for a speaker who is not done."""
        self._ask_frames = max(1, math.ceil(cfg.smart_turn_ask_ms / cfg.frame_ms))
        self._reask_frames = max(1, math.ceil(SMART_TURN_REASK_MS / cfg.frame_ms))
        self._cap_frames = max(1, math.ceil(cfg.smart_turn_max_silence_ms / cfg.frame_ms))
        self.frame_samples = ms_to_samples(cfg.frame_ms)
        self._start_frames = max(1, math.ceil(cfg.start_ms / cfg.frame_ms))
        self._silence_frames = max(1, math.ceil(cfg.silence_ms / cfg.frame_ms))
        self._max_frames = int(cfg.max_utterance_s * 1000 / cfg.frame_ms)
        pre_frames = max(self._start_frames, math.ceil(cfg.pre_roll_ms / cfg.frame_ms) + self._start_frames)
        self._pre: collections.deque[tuple[np.ndarray, bool]] = collections.deque(maxlen=pre_frames)
        self._window: collections.deque[bool] = collections.deque(maxlen=self._start_frames)
        self.dropped = 0
        """Utterances thrown away for having less than min_speech_ms of speech."""
        self._reset_speech()
        self.state = SegState.SILENCE
        self._frame_index = 0
        self._resume_frames = max(1, math.ceil(RESUME_QUIET_MS / cfg.frame_ms))
        self._quiet_needed = 0
        """Silent frames still to hear before a start counts as whole (set when listening resumes)."""
        self._clipped = False

    def _reset_speech(self) -> None:
        self._frames: list[np.ndarray] = []
        self._voiced = 0
        self._silence_run = 0
        self._start_index = 0

    def reset(self, resumed: bool = False) -> None:
        """Forget everything heard so far. resumed: listening starts again after the mic was muted or
        lost, so speech already under way (no RESUME_QUIET_MS of silence first) is marked clipped."""
        self._pre.clear()
        self._window.clear()
        self._reset_speech()
        self.state = SegState.SILENCE
        self._quiet_needed = self._resume_frames if resumed else 0

    def hush(self, frame: np.ndarray) -> None:
        """A frame heard where no utterance may start (the last of our reply, its echo tail): it only fills the
        pre-roll and counts towards the silence a resumed start needs (reset(resumed=True) first), never towards
        a start, so echo in it needs a whole start of its own once listening resumes, and speech begun after that
        silence is whole then, its first words in the pre-roll. Speech the pre-roll cannot hold from its first
        voiced frame (it went on too long unheard) needs the silence again: a start inside it is a clip."""
        voiced = bool(self.is_speech(frame.astype("<i2", copy=False).tobytes()))
        self._frame_index += 1
        lost = len(self._pre) == self._pre.maxlen and self._pre[0][1]  # a voiced frame falls out of the pre-roll
        if self._quiet_needed or lost:
            self._quiet_needed = self._resume_frames if voiced or lost else self._quiet_needed - 1
        self._pre.append((frame, voiced))

    def feed(self, frame: np.ndarray) -> Utterance | None:
        """Feed one frame of exactly frame_samples; returns an Utterance when one ends."""
        if len(frame) != self.frame_samples:
            raise ValueError(f"frame must have {self.frame_samples} samples, got {len(frame)}")
        voiced = bool(self.is_speech(frame.astype("<i2", copy=False).tobytes()))
        index = self._frame_index
        self._frame_index += 1
        if self.state is SegState.SILENCE:
            if self._quiet_needed:  # a run of silence arms it; speech first means we came in mid-word
                self._quiet_needed = self._resume_frames if voiced else self._quiet_needed - 1
            self._pre.append((frame, voiced))
            self._window.append(voiced)
            need = max(1, math.ceil(START_VOICED_RATIO * self._start_frames))
            if len(self._window) == self._start_frames and sum(self._window) >= need:
                self.state = SegState.SPEECH
                self._clipped, self._quiet_needed = self._quiet_needed > 0, 0
                self._frames = [f for f, _ in self._pre]
                self._voiced = sum(v for _, v in self._pre)
                self._start_index = index + 1 - len(self._pre)
                self._silence_run = 0
                self._pre.clear()
                self._window.clear()
            return None
        self._frames.append(frame)
        if voiced:
            self._voiced += 1
            self._silence_run = 0
        else:
            self._silence_run += 1
        limit = self._silence_frames
        if self.turn_end is not None and self._silence_run:
            n = len(self._frames) - self._silence_run
            silence_ms = self._silence_run * self.cfg.frame_ms
            need = self.turn_end.silence_needed_ms(
                lambda: np.concatenate(self._frames[:n]), silence_ms, (self._start_index, n)
            )
            limit = max(1, math.ceil(need / self.cfg.frame_ms))
        elif self.end_check is not None:
            limit = self._cap_frames
            since = self._silence_run - self._ask_frames
            if since >= 0 and since % self._reask_frames == 0 and self._silence_run < limit:
                spoken = self._frames[: len(self._frames) - self._silence_run]
                if self.end_check(np.concatenate(spoken)):
                    return self._finish(cut=False)
        if self._silence_run >= limit:
            return self._finish(cut=False)
        if len(self._frames) >= self._max_frames:
            return self._finish(cut=True)
        return None

    def flush(self) -> Utterance | None:
        """End of stream: whatever speech is in progress ends here."""
        return self._finish(cut=False) if self.state is SegState.SPEECH else None

    @property
    def silence_frames(self) -> int:
        """Frames of silence since the last voiced one, inside an utterance (0 outside one)."""
        return self._silence_run if self.state is SegState.SPEECH else 0

    def peek(self) -> np.ndarray | None:
        """The utterance's audio as it would be if it ended now (None outside one, or too short).
        While no more speech comes, this is exactly what the finished Utterance will hold."""
        if self.state is not SegState.SPEECH or self._voiced * self.cfg.frame_ms < self.cfg.min_speech_ms:
            return None
        return np.concatenate(self._kept_frames())

    def _kept_frames(self) -> list[np.ndarray]:
        keep_tail = math.ceil(KEEP_TAIL_MS / self.cfg.frame_ms)
        trailing = max(0, self._silence_run - keep_tail)
        return self._frames[: len(self._frames) - trailing] if trailing else self._frames

    def _finish(self, cut: bool) -> Utterance | None:
        frames = self._kept_frames()
        voiced_ms = self._voiced * self.cfg.frame_ms
        start_s = self._start_index * self.cfg.frame_ms / 1000
        end_s = start_s + (len(self._frames) - self._silence_run) * self.cfg.frame_ms / 1000
        self.state = SegState.SILENCE
        self._window.clear()
        self._reset_speech()
        if voiced_ms < self.cfg.min_speech_ms:
            self.dropped += 1
            return None
        return Utterance(np.concatenate(frames), start_s, end_s, voiced_ms, cut, self._clipped)

    def segment(self, samples: np.ndarray) -> Iterator[Utterance]:
        """Run a whole recording through; a partial last frame is padded with silence."""
        for frame in frames_of(samples, self.frame_samples):
            utt = self.feed(frame)
            if utt is not None:
                yield utt
        last = self.flush()
        if last is not None:
            yield last


def frames_of(samples: np.ndarray, frame_samples: int) -> Iterable[np.ndarray]:
    """Split into frames of frame_samples, zero-padding the last one."""
    n = len(samples)
    for pos in range(0, n, frame_samples):
        frame = samples[pos : pos + frame_samples]
        if len(frame) < frame_samples:
            frame = np.concatenate([frame, np.zeros(frame_samples - len(frame), dtype=np.int16)])
        yield frame


def join_utterances(utts: list[Utterance], samples: np.ndarray) -> Utterance:
    """One turn from a recording: from the first utterance's start to the last one's end."""
    first, last = utts[0], utts[-1]
    a = int(first.start_s * SAMPLE_RATE)
    b = min(len(samples), int((last.end_s + KEEP_TAIL_MS / 1000) * SAMPLE_RATE))
    return Utterance(samples[a:b].copy(), first.start_s, last.end_s, sum(u.voiced_ms for u in utts), last.cut)


class WebRtcVad:
    """webrtcvad behind the is_speech seam (the `webrtcvad-wheels` or `webrtcvad` package)."""

    def __init__(self, aggressiveness: int) -> None:
        try:
            import webrtcvad
        except ImportError as e:
            raise ImportError("webrtcvad is missing: pip install webrtcvad-wheels") from e
        self._vad = webrtcvad.Vad(aggressiveness)

    def __call__(self, frame: bytes) -> bool:
        return bool(self._vad.is_speech(frame, SAMPLE_RATE))


def build_segmenter(cfg: VadConfig) -> Segmenter:
    """The segmenter config asks for: webrtcvad and the end-of-turn policy, with the smart-turn model when
    vad.smart_turn is on (listen also gives the policy its early transcript)."""
    probability = None
    if cfg.smart_turn:
        from voiceloop.audio.smart_turn import SmartTurn

        probability = SmartTurn().probability
    return Segmenter(cfg, WebRtcVad(cfg.aggressiveness), turn_end=EndPolicy(cfg, probability))
