"""WAV reading: every common format converts to 16 kHz mono int16; bad files give one clean error."""

from __future__ import annotations

import struct
import subprocess
from pathlib import Path

import numpy as np
import pytest

from voiceloop.audio.formats import SAMPLE_RATE, read_wav
from voiceloop.errors import AudioFormatError

from .conftest import DATA

SOURCE = DATA / "question.wav"

FORMATS = [
    ("8k_mono_16", ["-r", "8000", "-c", "1", "-b", "16"]),
    ("22k_mono_16", ["-r", "22050", "-c", "1", "-b", "16"]),
    ("44k_stereo_16", ["-r", "44100", "-c", "2", "-b", "16"]),
    ("48k_stereo_32int", ["-r", "48000", "-c", "2", "-b", "32", "-e", "signed-integer"]),
    ("48k_mono_float", ["-r", "48000", "-c", "1", "-b", "32", "-e", "floating-point"]),
    ("16k_mono_8", ["-r", "16000", "-c", "1", "-b", "8", "-e", "unsigned-integer"]),
    ("16k_stereo_24", ["-r", "16000", "-c", "2", "-b", "24"]),
    ("44k_mono_float64", ["-r", "44100", "-c", "1", "-b", "64", "-e", "floating-point"]),
]


@pytest.mark.parametrize("name,args", FORMATS, ids=[f[0] for f in FORMATS])
def test_every_format_converts_to_the_same_speech(tmp_path: Path, name: str, args: list[str]) -> None:
    reference = read_wav(SOURCE).astype(np.float64)
    converted = tmp_path / f"{name}.wav"
    subprocess.run(["sox", str(SOURCE), *args, str(converted)], check=True)
    got = read_wav(converted)
    assert got.dtype == np.int16
    assert abs(len(got) - len(reference)) <= SAMPLE_RATE * 0.01
    n = min(len(got), len(reference))
    corr = np.corrcoef(got[:n].astype(np.float64), reference[:n])[0, 1]
    # 8 kHz loses everything above 4 kHz, so it matches less closely, but it is the same speech
    assert corr > (0.7 if name.startswith("8k") else 0.95), corr


def _wav_header(channels: int = 1, rate: int = 16000, bits: int = 16, data_size: int = 0, tag: int = 1) -> bytes:
    block = channels * bits // 8
    fmt = struct.pack("<HHIIHH", tag, channels, rate, rate * block, block, bits)
    return (
        b"RIFF"
        + struct.pack("<I", 36 + data_size)
        + b"WAVE"
        + b"fmt "
        + struct.pack("<I", 16)
        + fmt
        + b"data"
        + struct.pack("<I", data_size)
    )


def _good_bytes() -> bytes:
    return SOURCE.read_bytes()


BAD: dict[str, bytes] = {
    "empty": b"",
    "header_only": _wav_header(data_size=0),
    "truncated": _good_bytes()[: len(_good_bytes()) // 3],
    "wrong_magic": b"OggS" + _good_bytes()[4:],
    "text_file": b"hello, this is not audio\n" * 10,
    "huge_declared_size": _wav_header(data_size=2_000_000_000) + b"\x00\x01" * 100,
    "zero_channels": _wav_header(channels=0, data_size=4) + b"\x00" * 4,
    "rate_1khz": _wav_header(rate=1000, data_size=2000) + b"\x00" * 2000,
    "mp3_in_wav": _wav_header(tag=0x55, data_size=100) + b"\x00" * 100,
    "no_fmt_chunk": b"RIFF" + struct.pack("<I", 12) + b"WAVE" + b"data" + struct.pack("<I", 4) + b"\x00" * 4,
}


@pytest.mark.parametrize("name", sorted(BAD))
def test_bad_files_raise_one_clear_error(tmp_path: Path, name: str) -> None:
    path = tmp_path / f"{name}.wav"
    path.write_bytes(BAD[name])
    with pytest.raises(AudioFormatError) as info:
        read_wav(path)
    message = str(info.value)
    assert "\n" not in message and str(path) in message


def test_missing_file_and_directory(tmp_path: Path) -> None:
    with pytest.raises(AudioFormatError, match="not found"):
        read_wav(tmp_path / "nope.wav")
    with pytest.raises(AudioFormatError, match="directory"):
        read_wav(tmp_path)
