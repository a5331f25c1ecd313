"""The linear echo filter (audio/linear_echo.py) on a talk-over recorded in the looped room (scripts/bargein_room.py):
the microphone and the reference exactly as EchoCancelledSource got them, replayed through its cancel().

The recording (tests/data/echo/talk_over_moved.wav, 19 s) holds two replies nobody talked over, then one the
person talked over, in which the echo reaches the microphone one sample earlier than before: in the room the echo
moved by 1-4 samples after each talk-over (781 samples behind the reference in every reply before, then 780, 779,
778, 777, 774, 771, 767, 765). The old filter had to learn the moved path again by adaptation: it took out 18 dB
of our voice there instead of 30-40, and after six talk-overs in a row the words said over the reply were no
longer handed on from it (its gate also counted the double talk as our voice alone)."""

from __future__ import annotations

import wave

import numpy as np
import pytest

from voiceloop.audio.aec import EchoCancelledSource, FarEnd, erle_db
from voiceloop.audio.formats import SAMPLE_RATE
from voiceloop.audio.mic import WavSource

from .conftest import DATA

RECORDING = DATA / "echo" / "talk_over_moved.wav"  # left: the microphone, right: the reference
VOICE_S = 14.13  # the person's voice reaches the microphone (11 dB over the echo); the reply is cut 0.4 s later
CHUNK = 480


def replay() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The microphone, plain (AEC3's output where plain is not handed on), and per chunk: plain handed on, and
    the linear filter's blocks of double talk."""
    with wave.open(str(RECORDING)) as w:
        both = np.frombuffer(w.readframes(w.getnframes()), "<i2").reshape(-1, 2)
    near, far = both[:, 0].copy(), both[:, 1].copy()
    source = EchoCancelledSource(WavSource(DATA / "silence.wav"), FarEnd())
    plain, handed, talk = [], [], []
    for i in range(0, len(near) - CHUNK + 1, CHUNK):
        out = source.cancel(near[i : i + CHUNK], far[i : i + CHUNK])
        assert out is not None and len(out) == CHUNK  # whole 10 ms blocks in, the same out
        plain.append(source.plain if source.plain is not None else out)
        handed.append(source.plain is not None)
        talk.append(source.linear.talk_blocks)
    return near[: len(plain) * CHUNK], np.concatenate(plain), np.array(handed), np.array(talk)


@pytest.mark.slow
def test_the_filter_follows_the_echo_moved_between_replies_and_hands_the_talk_over_on(transcriber) -> None:
    near, plain, handed, talk = replay()
    at = int(VOICE_S * SAMPLE_RATE)
    k = at // CHUNK
    before = slice(at - SAMPLE_RATE // 2, at)  # our voice alone, 1 s into the reply talked over
    # it found the moved echo again: 29 dB out here; the old filter took out 18 dB (30-40 before the echo moved)
    assert erle_db(near[before], plain[before]) >= 23.0
    assert talk[k - 16 : k].sum() <= 3  # our voice alone is not taken for double talk
    assert (talk[k + 1 : k + 12] > 0).all()  # the person over the reply is, so the filter learns nothing from them
    assert handed[k - 16 :].all()  # the words said over the reply are handed on from the linear filter
    said = plain[at - SAMPLE_RATE // 4 :]
    onset = slice(SAMPLE_RATE // 4, SAMPLE_RATE // 2)  # their first 250 ms, not turned down with the echo (AEC3 did)
    assert abs(erle_db(near[at : at + SAMPLE_RATE // 4], said[onset])) < 3.0
    heard = " ".join(transcriber.transcribe(said).text.lower().replace(",", "").split())
    assert "create a file called notes" in heard and heard.rstrip(".").endswith("list"), heard
