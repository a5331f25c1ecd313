"""Smart turn: the real smart-turn v3 ONNX model decides when a speaker is done.

Its scores move between CPUs: onnxruntime runs the int8 model on other kernels without AVX-512, and there
write_code.wav, finished, scored 0.013 (0.93 here). So each claim is a rate over a set of clips, with room for
the clips that flip, never one clip's score."""

from __future__ import annotations

import statistics
import tomllib

import numpy as np
import pytest

from voiceloop.audio.endpoint import EndPolicy
from voiceloop.audio.formats import read_wav
from voiceloop.audio.smart_turn import SmartTurn
from voiceloop.audio.vad import Segmenter, WebRtcVad, build_segmenter
from voiceloop.config import VadConfig

from .conftest import DATA, ROOT

ACOUSTIC = ROOT / "voiceloop" / "devtools" / "data" / "acoustic"
RECORDED = ("create_notes.wav", "question.wav", "write_code.wav", "create_notes_espeak.wav", "story.wav")
FINISHED = sorted(ACOUSTIC.glob("*.wav")) + [DATA / name for name in RECORDED]
"""Whole sentences: 8 questions and 3 dictated writes (Piper), and the five recorded commands."""
HESITANT = DATA / "hesitant"
PAUSED = [HESITANT / c["wav"] for c in tomllib.loads((HESITANT / "manifest.toml").read_text())["case"]]
"""12 sentences with a 400-900 ms pause in the middle (tests/data/hesitant)."""
QUIET_200MS = np.zeros(3200, np.int16)


@pytest.fixture(scope="module")
def smart() -> SmartTurn:
    return SmartTurn()


def speech_span(x: np.ndarray) -> tuple[int, int]:
    """First and last loud sample (10 ms frames above -40 dBFS): the speech without the file's quiet ends."""
    n = len(x) // 160
    loud = np.flatnonzero(np.sqrt((x[: n * 160].reshape(n, 160).astype(np.float64) ** 2).mean(axis=1)) > 300)
    return int(loud[0]) * 160, (int(loud[-1]) + 1) * 160


def test_finished_sentences_sound_finished_and_cut_ones_do_not(smart: SmartTurn) -> None:
    """Over 16 sentences: finished (200 ms into the quiet after them, when listen first asks), at least 11 score
    over 0.5; cut at 30, 50 or 70 % of the speech, at least 11 have a cut that scores under 0.5. Measured: 14 and
    13 here (AVX-512); 13 and 13 on an AVX2-only CPU (qemu -cpu Haswell, which reproduces the 0.013 seen on a real
    one). Audio padded at the wrong end of the model's 8 s window scores 16 finished and 0 cut."""
    finished, cut = {}, {}
    for path in FINISHED:
        x = read_wav(path)
        start, end = speech_span(x)
        finished[path.name] = smart.probability(np.concatenate([x[:end], QUIET_200MS]))
        cut[path.name] = min(smart.probability(x[: start + int((end - start) * f)]) for f in (0.3, 0.5, 0.7))
    sounds_done = [name for name, p in finished.items() if p > 0.5]
    sounds_cut = [name for name, p in cut.items() if p < 0.5]
    assert len(sounds_done) >= 11, finished
    assert len(sounds_cut) >= 11, cut


def test_the_turn_ends_where_the_model_hears_a_finished_sentence_and_waits_where_it_does_not(smart: SmartTurn) -> None:
    """The end-of-turn policy with the model and no words (listen adds the early transcript: test_hesitant).
    Whatever the model scores, the policy obeys it: a pause scored finished ends the turn 200 ms in, one scored
    unfinished waits up to 1.2 s, so a 400-900 ms hesitation heard as unfinished is never cut. Over the 16
    finished sentences the turn ends sooner than with the plain 700 ms timer, in the median (here 0.21 s; the
    model must hear more than half of them as finished, on any CPU)."""
    cfg = VadConfig(smart_turn=True)
    tail = np.zeros(16000 * 3, np.int16)
    disobeyed, waits = [], []
    for path in FINISHED + PAUSED:
        x = np.concatenate([read_wav(path), tail])
        now, asks, ends = [0.0], [], []

        def scored(samples: np.ndarray, now: list[float] = now, asks: list[tuple[float, float]] = asks) -> float:
            p = smart.probability(samples)
            asks.append((now[0], p))
            return p

        seg = Segmenter(cfg, WebRtcVad(2), turn_end=EndPolicy(cfg, scored))
        n = seg.frame_samples
        for i in range(0, len(x) - n + 1, n):
            now[0] = (i + n) / 16000
            utt = seg.feed(x[i : i + n])
            if utt is not None:
                ends.append((utt.end_s, now[0]))
        for at, p in asks:
            if any(decided == at for _, decided in ends) != (p >= 0.5):
                disobeyed.append((path.name, at, p, ends))
        if len(ends) > sum(p >= 0.5 for _, p in asks) + 1:  # an end no finished-sounding pause asked for
            disobeyed.append((path.name, asks, ends))
        if path in FINISHED:
            waits += [decided - end for end, decided in ends[-1:]]
    assert disobeyed == []
    assert statistics.median(waits) < VadConfig().silence_ms / 1000, waits


def test_config_builds_the_smart_segmenter() -> None:
    plain, smart = build_segmenter(VadConfig(smart_turn=False)), build_segmenter(VadConfig(smart_turn=True))
    assert plain.turn_end is not None and plain.turn_end.probability is None
    assert smart.turn_end is not None and smart.turn_end.probability is not None
