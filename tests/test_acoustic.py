"""The acoustic bench's instruments: the private room records the mic feed and the speaker on separate
channels of one clock, and each side's config file runs exactly the settings it was given."""

from __future__ import annotations

import subprocess
import time
import tomllib

import numpy as np
import pytest

from voiceloop.audio.formats import read_wav
from voiceloop.config import Config, VadConfig, from_dict
from voiceloop.devtools.acoustic_room import Room, StereoRecorder, first_loud, last_loud
from voiceloop.devtools.bench_acoustic import baseline_of, find_acoustic_wavs
from voiceloop.devtools.listen_driver import to_toml

from .conftest import DATA


def test_config_file_of_a_side_loads_back_identically() -> None:
    cfg = Config(vad=VadConfig(silence_ms=450, smart_turn=True, early_start_ms=0))
    assert from_dict(tomllib.loads(to_toml(cfg))) == cfg


def test_baseline_puts_back_the_earlier_timers_and_keeps_the_rest() -> None:
    cfg = Config(vad=VadConfig(silence_ms=450, smart_turn=True, aggressiveness=3))
    base = baseline_of(cfg)
    assert (base.vad.silence_ms, base.vad.smart_turn, base.vad.aggressiveness) == (700, False, 3)
    assert base.llm == cfg.llm


def test_shipped_acoustic_set_has_questions_and_writes() -> None:
    kinds = [kind for _, kind in find_acoustic_wavs(None)]
    assert kinds.count("question") >= 8 and kinds.count("write") >= 3


@pytest.mark.audio
def test_room_records_mic_feed_left_and_speaker_right() -> None:
    room = Room()
    try:
        rec = StereoRecorder(room)
        start = rec.frames()
        room.play(DATA / "question.wav").wait(timeout=30)
        mid = rec.frames()
        subprocess.run(["paplay", "-d", "vl_speaker", str(DATA / "question.wav")], env=room.env, timeout=30, check=True)
        time.sleep(0.3)
        first, second = rec.clip(start, mid), rec.clip(mid)
        rec.close()
    finally:
        room.close()
    spoken = read_wav(DATA / "question.wav")
    speech_s = (last_loud(spoken, 300) - first_loud(spoken, 300)) / 16000  # type: ignore[operator]
    heard_s = (last_loud(first[:, 0], 300) - first_loud(first[:, 0], 300)) / 16000  # type: ignore[operator]
    assert abs(heard_s - speech_s) < 0.05  # the whole utterance, at its real length
    assert not np.abs(first[:, 1]).any()  # nothing on the speaker channel while only the mic spoke
    assert last_loud(second[:, 1], 300) is not None and last_loud(second[:, 0], 300) is None


@pytest.mark.audio
def test_output_path_is_measured_on_every_sentence_played() -> None:
    from voiceloop.devtools.bench_output import measure_output

    median, p90, n = measure_output(Config(), tries=2)
    assert n == 2 and 0 < median <= p90  # heard both times, after its synthesis finished


def test_the_timings_listen_prints_are_read_back() -> None:
    import io

    from rich.console import Console

    from voiceloop.agent.turn import Turn
    from voiceloop.devtools.bench_acoustic import printed_timings
    from voiceloop.listen.ui import print_turn

    out = Console(file=io.StringIO(), width=200, color_system=None)
    timings = {"stt": 312.0, "intent": 0.0, "act": 1234.0, "confirm": 5000.0, "first_audio": 900.0, "total": 7446.0}
    print_turn(out, Turn("why is the sky blue", reply="Because of Rayleigh scattering.", timings_ms=timings))
    assert printed_timings(out.file.getvalue()) == timings  # type: ignore[attr-defined]
