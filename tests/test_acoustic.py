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


def recorded_up_to_now(rec: StereoRecorder, timeout_s: float = 10.0) -> int:
    """Wait (bounded) until the recording holds everything played until this moment (paplay returns when its
    clip has been played; the recorder gets it a little later, later still on a busy machine); its frame count."""
    now, deadline = time.monotonic(), time.monotonic() + timeout_s
    while rec.time_of(rec.frames()) < now + 0.05:
        assert time.monotonic() < deadline, "the recorder fell behind the devices"
        time.sleep(0.01)
    return rec.frames()


@pytest.mark.audio
def test_room_records_mic_feed_left_and_speaker_right() -> None:
    room = Room()
    try:
        rec = StereoRecorder(room)
        start = rec.frames()
        room.play(DATA / "question.wav").wait(timeout=30)
        mid = recorded_up_to_now(rec)
        subprocess.run(["paplay", "-d", "vl_speaker", str(DATA / "question.wav")], env=room.env, timeout=30, check=True)
        end = recorded_up_to_now(rec)
        first, second = rec.clip(start, mid), rec.clip(mid, end)
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
def test_output_path_is_measured_on_every_sentence_played_through_listens_player() -> None:
    """The figure is the long-lived player's, the one `listen` speaks with (it measured a player that opens a
    stream per sentence, which listen does not use)."""
    from voiceloop.audio.stream_player import StreamPlayer
    from voiceloop.devtools.bench_output import measure_output

    out = measure_output(Config(), tries=2)
    assert out.n == 2 and 0 < out.median_ms <= out.p90_ms  # heard both times, after its synthesis finished
    assert out.player == StreamPlayer.__name__


@pytest.mark.audio
def test_listens_player_holds_at_most_30_ms_of_silence_ahead_of_a_reply() -> None:
    """The long-lived player's stream never stops, so a reply's first sample waits behind the silence PortAudio
    already holds: two callbacks. At 480 samples a callback that was 60 ms, most of the ~100 ms the acoustic bench
    measured from synthesized to heard (a stream opened per sentence: 19 ms)."""
    from voiceloop.audio.devices import open_pyaudio
    from voiceloop.audio.stream_player import StreamPlayer

    player = StreamPlayer(open_pyaudio(), "")
    try:
        player.play(np.zeros(160, np.int16))  # opens the stream
        assert 0 < player.ahead_s <= 0.03
    finally:
        player.close()


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


def test_a_turn_breaks_down_on_the_device_clock() -> None:
    """listen's trace (its end of speech on the monotonic clock, its timings from there) is set beside the
    recording: every milestone in ms after the last speech sample at the mic."""
    from voiceloop.devtools.acoustic_turns import breakdown

    traced = {"speech_ended": 100.040, "timings_ms": {"endpoint": 260.0, "transcript": 210.0, "first_token": 900.0}}
    traced["timings_ms"] |= {"first_audio": 1300.0, "stt": 0.0, "intent": 400.0, "total": 3000.0}
    traced["timings_ms"] |= {"early_start": 110.0, "reply_asked": 215.0, "llm_first_token": 520.0}
    got = breakdown(100.0, traced, 1450.0, None)
    assert got == pytest.approx(
        {
            "heard_end": 40.0,  # listen saw the speech end 40 ms after the mic did
            "early_start": 150.0,  # the early job began transcribing
            "declared": 300.0,
            "transcript": 250.0,  # known before the turn was declared over: early work
            "reply_asked": 255.0,  # the early reply's request
            "llm_first_token": 560.0,  # the model's first token
            "first_token": 940.0,  # the first clause the answer guard passed on
            "first_clause": 1340.0,
            "speaker": 1450.0,
            "panel": None,
        }
    )
    assert breakdown(100.0, None, 1450.0, None)["declared"] is None  # nothing traced: only the devices' numbers


def test_the_report_shows_where_the_time_goes_and_every_turn() -> None:
    import io

    from rich.console import Console

    from voiceloop.devtools.acoustic_turns import AcousticTurn, headline_rows, missing
    from voiceloop.devtools.bench_acoustic import AcousticReport, render_acoustic

    def turn(side: str, wav: str, kind: str, speaker: float, taken: bool) -> AcousticTurn:
        ms = {"heard_end": 30.0, "declared": 300.0, "transcript": 250.0, "first_token": 800.0}
        ms |= {"first_clause": 1200.0, "speaker": speaker, "panel": 900.0 if kind == "write" else None}
        panel = 900.0 if kind == "write" else None
        warm = (18 - 11 * (side == "new"), 3 * (side == "new")) if kind == "question" else (None, 0)
        return AcousticTurn(side, wav, kind, speaker, panel, {}, "", ms, 1, side == "new", taken, *warm)

    turns = [turn("new", "q_sky.wav", "question", 1400.0, True), turn("baseline", "q_sky.wav", "question", 1600, False)]
    turns += [turn("new", "w_notes.wav", "write", 2000.0, False), turn("baseline", "w_notes.wav", "write", 2100, False)]

    report = AcousticReport("test box", 1.0, tuple(headline_rows(turns)), tuple(turns), missing(turns))
    out = Console(file=io.StringIO(), width=250, color_system=None)
    render_acoustic(out, report)
    text = out.file.getvalue()  # type: ignore[attr-defined]
    assert "where the time goes" in text and "every turn" in text
    assert "first clause synthesized" in text and "turn declared over" in text
    assert "replies started early / taken over: new 2/1, baseline 0/0" in text
    assert "the answer's prompt tokens evaluated (median): new 3 warmings, 7 tokens, baseline 0 warmings, 18" in text
    data = report.to_json()
    assert data["early_replies"] == {
        "new": {"started": 2, "taken": 1, "warmings": 3, "prompt_tokens": 7},
        "baseline": {"started": 0, "taken": 0, "warmings": 0, "prompt_tokens": 18},
    }
    speaker = next(r for r in data["milestones"]["question"] if r["label"] == "first sample at the speaker")
    assert (speaker["new_median_ms"], speaker["baseline_median_ms"]) == (1400, 1600)
    assert data["turns"][0]["milestones_ms"]["declared"] == 300.0
