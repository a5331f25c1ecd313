"""Smart turn: the real smart-turn v3 ONNX model decides when a speaker is done."""

from __future__ import annotations

import numpy as np
import pytest

from voiceloop.audio.formats import read_wav
from voiceloop.audio.smart_turn import SmartTurn
from voiceloop.audio.vad import Segmenter, WebRtcVad, build_segmenter
from voiceloop.config import VadConfig

from .conftest import DATA


@pytest.fixture(scope="module")
def smart() -> SmartTurn:
    return SmartTurn()


def hesitant(name: str, at: float, pause_ms: int) -> np.ndarray:
    """A command with a mid-sentence pause (the speaker searching for a word), then 3 s of silence."""
    x = read_wav(DATA / name)
    cut = int(len(x) * at)
    silence = np.zeros(pause_ms * 16, np.int16)
    return np.concatenate([x[:cut], silence, x[cut:], np.zeros(48000, np.int16)])


def run(seg: Segmenter, samples: np.ndarray) -> list[tuple[float, float]]:
    """(end of speech, moment the segmenter decided) in seconds, for each utterance."""
    out = []
    n = seg.frame_samples
    for i in range(0, len(samples) - n + 1, n):
        utt = seg.feed(samples[i : i + n])
        if utt is not None:
            out.append((utt.end_s, (i + n) / 16000))
    return out


@pytest.mark.parametrize("name", ["create_notes.wav", "question.wav", "write_code.wav"])
def test_finished_sentences_sound_finished_and_cut_ones_do_not(smart: SmartTurn, name: str) -> None:
    x = read_wav(DATA / name)
    assert smart.probability(x) > 0.5
    assert min(smart.probability(x[: int(len(x) * f)]) for f in (0.3, 0.5, 0.7)) < 0.3


def test_hesitant_speaker_is_not_cut_off_and_finished_one_is_answered_sooner(smart: SmartTurn) -> None:
    audio = hesitant("create_notes.wav", 0.7, 1000)
    plain = run(Segmenter(VadConfig(), WebRtcVad(2)), audio)
    assert len(plain) == 2  # the 700 ms silence timer cuts the sentence at the pause
    cfg = VadConfig(smart_turn=True)
    smart_turns = run(Segmenter(cfg, WebRtcVad(2), smart.is_complete), audio)
    assert len(smart_turns) == 1  # the model heard an unfinished sentence and waited
    ((end, decided),) = smart_turns
    assert decided - end < 0.7  # and once finished, it did not wait the whole silence timer
    whole = read_wav(DATA / "question.wav")
    plain_delay = [d - e for e, d in run(Segmenter(VadConfig(), WebRtcVad(2)), np.concatenate([whole, audio[-48000:]]))]
    smart_delay = [
        d - e for e, d in run(Segmenter(cfg, WebRtcVad(2), smart.is_complete), np.concatenate([whole, audio[-48000:]]))
    ]
    assert len(plain_delay) == len(smart_delay) == 1
    assert smart_delay[0] < plain_delay[0]


def test_config_builds_the_smart_segmenter() -> None:
    plain, smart = build_segmenter(VadConfig(smart_turn=False)), build_segmenter(VadConfig(smart_turn=True))
    assert plain.turn_end is not None and plain.turn_end.probability is None
    assert smart.turn_end is not None and smart.turn_end.probability is not None
