"""The segmenter: scripted VAD decisions, then real webrtcvad on real WAVs."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest

from voiceloop.audio.formats import read_wav
from voiceloop.audio.vad import Segmenter, Utterance, WebRtcVad
from voiceloop.config import VadConfig

from .conftest import DATA

CFG = VadConfig(frame_ms=30, start_ms=90, silence_ms=300, pre_roll_ms=150, min_speech_ms=150, max_utterance_s=3.0)
FRAME = 480


def scripted(pattern: str) -> tuple[Segmenter, list[np.ndarray]]:
    """'1' = voiced frame, '0' = silence; each frame's first sample is its index so we can see which were kept."""
    decisions: Iterator[bool] = iter(c == "1" for c in pattern)
    seg = Segmenter(CFG, lambda _frame: next(decisions))
    frames = [np.full(FRAME, i, dtype=np.int16) for i in range(len(pattern))]
    return seg, frames


def run(pattern: str) -> tuple[Segmenter, list]:
    seg, frames = scripted(pattern)
    out = [u for f in frames if (u := seg.feed(f)) is not None]
    if (last := seg.flush()) is not None:
        out.append(last)
    return seg, out


def kept_frames(utt) -> list[int]:
    return sorted(set(int(v) for v in utt.samples[::FRAME]))


def test_one_utterance_keeps_pre_roll_and_ends_after_silence() -> None:
    _, utts = run("0000000" + "1" * 10 + "0" * 12)
    assert len(utts) == 1
    frames = kept_frames(utts[0])
    # speech starts at frame 7; pre-roll of 150 ms (5 frames) reaches back to frame 2
    assert frames[0] == 2 and 7 in frames
    # ends after 300 ms (10 frames) of silence; only ~150 ms of trailing silence is kept
    assert frames[-1] < 7 + 10 + 10
    assert utts[0].voiced_ms == 300 and not utts[0].cut


def test_short_gaps_do_not_split_an_utterance() -> None:
    _, utts = run("1111" + "0000" + "1111" + "00000" + "1111" + "0" * 12)
    assert len(utts) == 1


def test_two_utterances_separated_by_long_silence() -> None:
    _, utts = run("11111" + "0" * 15 + "11111" + "0" * 15)
    assert len(utts) == 2


def test_blips_shorter_than_start_window_never_start() -> None:
    seg, utts = run("1001001001" * 5)
    assert utts == [] and seg.dropped == 0


def test_too_little_speech_is_dropped() -> None:
    seg, utts = run("0" * 5 + "1111" + "0" * 15)  # 120 ms voiced < min_speech 150 ms
    assert utts == [] and seg.dropped == 1


def test_max_length_cuts_and_starts_over() -> None:
    _, utts = run("1" * 250)  # 7.5 s of talk, 3 s max
    assert [u.cut for u in utts[:2]] == [True, True]
    assert all(u.duration_s <= 3.0 + 0.001 for u in utts)


def test_wrong_frame_size_is_rejected() -> None:
    seg, _ = scripted("1")
    with pytest.raises(ValueError):
        seg.feed(np.zeros(100, dtype=np.int16))


@pytest.mark.parametrize("name,count", [("create_notes.wav", 1), ("question.wav", 1), ("silence.wav", 0)])
def test_real_webrtcvad_on_real_speech(name: str, count: int) -> None:
    samples = read_wav(DATA / name)
    seg = Segmenter(VadConfig(), WebRtcVad(2))
    utts = list(seg.segment(samples))
    assert len(utts) == count
    if count:
        # the file has 0.5 s of silence before the speech: the start is found and no word is cut
        assert 0.0 <= utts[0].start_s <= 0.5
        assert utts[0].end_s > len(samples) / 16000 - 1.3


def resumed_after_hush(hushed: str, fed: str) -> list[Utterance]:
    """Listening resumes (reset as after the mic was muted), the `hushed` frames are heard where no utterance may
    start (our reply's end, its echo tail), then `fed` ones as usual."""
    seg, frames = scripted(hushed + fed)
    seg.reset(resumed=True)
    for f in frames[: len(hushed)]:
        seg.hush(f)
        assert seg.state.name == "SILENCE"  # a hushed frame never starts an utterance
    out = [u for f in frames[len(hushed) :] if (u := seg.feed(f)) is not None]
    return out + ([last] if (last := seg.flush()) is not None else [])


def test_speech_begun_after_a_hushed_silence_is_whole_from_its_first_frame() -> None:
    (utt,) = resumed_after_hush("000" + "11", "111111" + "0" * 12)
    assert not utt.clipped and kept_frames(utt)[:3] == [0, 1, 2]  # the pre-roll holds the hushed frames
    # the old way: the segmenter heard nothing of it until listening resumed, so the speech was under way
    (utt,) = resumed_after_hush("", "111111" + "0" * 12)
    assert utt.clipped


def test_echo_heard_hushed_still_needs_a_whole_start_of_its_own() -> None:
    (utt,) = resumed_after_hush("1111", "111111" + "0" * 12)  # voiced from our voice's end: no silence heard
    assert utt.clipped
    assert resumed_after_hush("000" + "1" * 6, "0" * 12) == []  # hushed speech alone is never an utterance


def test_speech_the_pre_roll_cannot_hold_from_its_start_is_a_clip() -> None:
    # CFG's pre-roll holds 8 frames: the 9th voiced frame hushed pushes the first out, its start is lost
    (utt,) = resumed_after_hush("000" + "1" * 9, "111" + "0" * 12)
    assert utt.clipped
    (utt,) = resumed_after_hush("000" + "1" * 5, "111" + "0" * 12)
    assert not utt.clipped
