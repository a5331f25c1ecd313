"""Any audio file through PyAV: m4a, mp3, ogg/opus and flac made here from a committed WAV decode to the
same speech; FIFOs, devices and oversized files are refused in one line without blocking or reading them."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

from voiceloop.audio.formats import MAX_FILE_BYTES, SAMPLE_RATE, read_audio
from voiceloop.errors import AudioFormatError

from .conftest import DATA, run_cli, write_config

# (container, codec, sample rate, channels): what phones and recorders write
ENCODINGS = {
    "m4a": ("mp4", "aac", 44_100, 2),
    "mp3": ("mp3", "libmp3lame", 44_100, 1),
    "ogg": ("ogg", "libopus", 48_000, 1),
    "flac": ("flac", "flac", 16_000, 1),
}


def encode(source: Path, target: Path) -> Path:
    """Re-encode a WAV into target's format with PyAV, the way a voice-memo app would."""
    import av

    container, codec, rate, channels = ENCODINGS[target.suffix[1:]]
    layout = "stereo" if channels == 2 else "mono"
    with av.open(str(source)) as src, av.open(str(target), "w", format=container) as out:
        stream = out.add_stream(codec, rate=rate, layout=layout)
        resampler = av.AudioResampler(format=stream.codec_context.format.name, layout=layout, rate=rate)
        for frame in src.decode(audio=0):
            for converted in resampler.resample(frame):
                out.mux(stream.encode(converted))
        for converted in resampler.resample(None):
            out.mux(stream.encode(converted))
        out.mux(stream.encode(None))
    return target


@pytest.mark.parametrize("suffix", sorted(ENCODINGS))
def test_every_common_format_decodes_to_the_same_speech(tmp_path: Path, suffix: str) -> None:
    reference = read_audio(DATA / "question.wav").astype(np.float64)
    got = read_audio(encode(DATA / "question.wav", tmp_path / f"question.{suffix}"))
    assert got.dtype == np.int16
    assert abs(len(got) - len(reference)) < 0.15 * SAMPLE_RATE  # codecs pad a little at the ends
    # lossy codecs shift the signal by their delay: compare at the best small lag
    n = min(len(got), len(reference)) - 2000
    best = max(
        np.corrcoef(got[lag : lag + n].astype(np.float64), reference[:n])[0, 1] for lag in range(0, 1200, 8)
    )
    assert best > 0.9, best


@pytest.mark.slow
@pytest.mark.llm
def test_once_answers_an_m4a_voice_memo_like_the_wav(tmp_path: Path, ollama_url: str) -> None:
    write_config(tmp_path / "config.toml", ollama_url, 'backend = "ollama"')
    memo = encode(DATA / "question.wav", tmp_path / "question.m4a")
    turns = []
    for path in (DATA / "question.wav", memo):
        result = run_cli("once", str(path), "--no-speak", "--json", cwd=tmp_path)
        assert result.returncode == 0, result.stderr
        turns.append(json.loads(result.stdout))
    wav, m4a = turns
    assert "capital of France" in m4a["transcript"]
    assert m4a["transcript"] == wav["transcript"]
    assert [i["action"] for i in m4a["intents"]] == [i["action"] for i in wav["intents"]] == ["general_chat"]
    assert "Paris" in m4a["reply"] and "Paris" in wav["reply"]


def one_line(result: object) -> str:
    out = getattr(result, "stdout", "") + getattr(result, "stderr", "")
    lines = [line for line in out.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in out, out
    return lines[0]


def test_a_fifo_is_refused_at_once_instead_of_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "f.wav"
    os.mkfifo(fifo)  # nobody ever writes to it: opening it for reading the usual way blocks forever
    result = run_cli("once", str(fifo), "--no-speak", cwd=tmp_path, timeout=60)
    assert result.returncode == 2
    assert "f.wav" in one_line(result) and "not a regular file" in one_line(result)


def test_a_character_device_is_refused_without_reading_it(tmp_path: Path) -> None:
    result = run_cli("once", "/dev/zero", "--no-speak", cwd=tmp_path, timeout=60)
    assert result.returncode == 2
    assert "/dev/zero" in one_line(result) and "not a regular file" in one_line(result)


def test_a_file_too_big_for_15_minutes_is_refused_by_its_size(tmp_path: Path) -> None:
    huge = tmp_path / "huge.wav"
    with huge.open("wb") as f:  # sparse: a real file of this size that takes no disk and was never read
        f.truncate(MAX_FILE_BYTES + 1)
    with pytest.raises(AudioFormatError, match="over the") as info:
        read_audio(huge)
    assert "\n" not in str(info.value) and "huge.wav" in str(info.value)
