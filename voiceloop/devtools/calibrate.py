"""`voiceloop calibrate`: measure the room and the speaker's voice, propose [vad] settings, and write them
into config.toml in place (comments and every other line kept) once the person agrees."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from voiceloop.atomic import FILE_MODE, atomic_write
from voiceloop.audio.formats import SAMPLE_RATE, ms_to_samples, rms_dbfs
from voiceloop.audio.frames import FrameChunker
from voiceloop.audio.mic import AudioSource
from voiceloop.audio.vad import Segmenter, SegState, Utterance, WebRtcVad
from voiceloop.config import VadConfig
from voiceloop.errors import AudioDeviceError

FRAME_MS = 30
MAX_FALSE_START = 0.02
"""At most this share of the quiet room may look like speech at the chosen aggressiveness."""


@dataclass(frozen=True)
class RoomReport:
    """What calibration measured, and the [vad] values it proposes."""

    noise_dbfs: float
    """Median level of the quiet room."""
    speech_dbfs: float
    """Typical level of the voiced frames of the sentence."""
    false_speech: tuple[float, ...]
    """Share of quiet-room frames webrtcvad calls speech, for aggressiveness 0..3."""
    longest_pause_ms: int
    """Longest silence inside the sentence (between its first and last voiced frame)."""
    proposal: dict[str, int]
    """[vad] key -> proposed value (only keys calibration decides)."""

    @property
    def snr_db(self) -> float:
        return self.speech_dbfs - self.noise_dbfs


def _frames(samples: np.ndarray) -> list[np.ndarray]:
    n = ms_to_samples(FRAME_MS)
    return [samples[i : i + n] for i in range(0, len(samples) - n + 1, n)]


VadAt = Callable[[int], Callable[[bytes], bool]]


def analyze(noise: np.ndarray, speech: np.ndarray, is_speech_at: VadAt) -> RoomReport:
    """Room noise + one spoken sentence (16 kHz mono int16) -> levels and proposed [vad] values.

    is_speech_at(mode) gives a VAD decision function for webrtcvad aggressiveness `mode`.
    """
    noise_frames, speech_frames = _frames(noise), _frames(speech)
    if len(noise_frames) < 10 or len(speech_frames) < 10:
        raise ValueError("calibration needs at least 0.3 s of room noise and of speech")
    noise_levels = [rms_dbfs(f) for f in noise_frames]
    false_speech = []
    for mode in range(4):
        vad = is_speech_at(mode)
        false_speech.append(sum(vad(f.tobytes()) for f in noise_frames) / len(noise_frames))
    # the gentlest mode the room does not fool: it keeps the most of quiet speech
    mode = next((m for m, share in enumerate(false_speech) if share <= MAX_FALSE_START), 3)
    vad = is_speech_at(mode)
    voiced = [vad(f.tobytes()) for f in speech_frames]
    levels = [rms_dbfs(f) for f, v in zip(speech_frames, voiced, strict=True) if v]
    speech_dbfs = float(np.percentile(levels, 75)) if levels else -96.0
    longest = gap = 0
    if any(voiced):
        first, last = voiced.index(True), len(voiced) - 1 - voiced[::-1].index(True)
        for v in voiced[first : last + 1]:
            gap = 0 if v else gap + FRAME_MS
            longest = max(longest, gap)
    # end the turn a little after the longest pause this speaker makes mid-sentence
    silence_ms = int(min(2000, max(500, round((longest + 250) / 50) * 50)))
    # a noisy room needs more voiced audio before a start counts
    start_ms = 120 if false_speech[mode] == 0 else 240
    return RoomReport(
        noise_dbfs=float(np.median(noise_levels)),
        speech_dbfs=speech_dbfs,
        false_speech=tuple(false_speech),
        longest_pause_ms=longest,
        proposal={"aggressiveness": mode, "silence_ms": silence_ms, "start_ms": start_ms},
    )


def changes(current: VadConfig, report: RoomReport) -> dict[str, tuple[int, int]]:
    """key -> (current, proposed) for the values that would change."""
    out = {}
    for key, value in report.proposal.items():
        old = getattr(current, key)
        if old != value:
            out[key] = (old, value)
    return out


def update_toml(text: str, section: str, values: dict[str, int]) -> str:
    """Set `key = value` inside [section] with tomlkit, keeping comments, spacing and every other line.

    Keys missing from the section are added at its end; a missing section is appended.
    """
    import tomlkit

    doc = tomlkit.parse(text)
    table = doc.get(section)
    if table is None:
        table = tomlkit.table()
        doc[section] = table
    for key, value in values.items():
        if key in table:
            old = table[key]
            new = tomlkit.item(value)
            trivia = getattr(old, "trivia", None)
            if trivia is not None:  # the comment stays on its line, after the same spacing
                new.trivia.comment_ws = trivia.comment_ws
                new.trivia.comment = trivia.comment
                new.trivia.indent = trivia.indent
            table[key] = new
        else:
            table[key] = value
    return tomlkit.dumps(doc)


def write_atomically(path: Path, text: str) -> None:
    """Replace path's content in one step, keeping its permissions (voiceloop.atomic)."""
    mode = path.stat().st_mode & 0o777 if path.exists() else FILE_MODE
    with atomic_write(path, mode=mode) as f:
        f.write(text.encode("utf-8"))


def record(source: AudioSource, seconds: float) -> np.ndarray:
    """Exactly `seconds` of microphone audio (bounded: gives up after twice that long)."""
    want = int(seconds * SAMPLE_RATE)
    got: list[np.ndarray] = []
    have = 0
    deadline = time.monotonic() + 2 * seconds + 2
    source.drain()
    while have < want and time.monotonic() < deadline:
        chunk = source.read(0.1)
        if chunk is not None:
            got.append(chunk)
            have += len(chunk)
    if have < want // 2:
        raise AudioDeviceError("the microphone delivered too little audio to calibrate; check `voiceloop devices`")
    return np.concatenate(got)[:want]


def record_sentence(source: AudioSource, aggressiveness: int, wait_s: float = 15.0) -> np.ndarray | None:
    """The next spoken sentence, pauses included (ends after 1.5 s of silence); None if nobody spoke."""
    vad_cfg = VadConfig(aggressiveness=aggressiveness, silence_ms=1500, max_utterance_s=20.0, pre_roll_ms=300)
    seg = Segmenter(vad_cfg, WebRtcVad(aggressiveness))
    frames = FrameChunker(seg.frame_samples)
    deadline = time.monotonic() + wait_s
    hard_deadline = deadline + vad_cfg.max_utterance_s + 2.0  # a sentence begun in time may finish, not more
    source.drain()
    while (time.monotonic() < deadline or seg.state is SegState.SPEECH) and time.monotonic() < hard_deadline:
        chunk = source.read(0.1)
        if chunk is None:
            if source.finished:
                return _utterance_samples(seg.flush())
            continue
        for frame in frames.push(chunk):
            utt = seg.feed(frame)
            if utt is not None:
                return utt.samples
    return _utterance_samples(seg.flush())


def _utterance_samples(utt: Utterance | None) -> np.ndarray | None:
    return utt.samples if utt is not None else None
