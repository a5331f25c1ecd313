"""Audio constants; any audio file read as 16 kHz mono int16 (decoded and resampled by PyAV); WAV bytes; levels."""

from __future__ import annotations

import io
import os
import struct
import wave
from pathlib import Path
from typing import Any

import numpy as np

from voiceloop.atomic import NotARegularFile, open_regular
from voiceloop.errors import AudioFormatError

SAMPLE_RATE = 16_000  # Hz: what webrtcvad and Whisper both want
SAMPLE_WIDTH = 2  # bytes per sample (int16)
CHANNELS = 1
MIN_RATE = 8_000  # Hz: below this a file cannot hold intelligible speech
MAX_SECONDS = 15 * 60  # longest recording `once` and `eval` accept
MAX_SAMPLES = MAX_SECONDS * SAMPLE_RATE
MAX_FILE_BYTES = MAX_SECONDS * 48_000 * 2 * 4 + (1 << 20)  # 15 min of 48 kHz stereo 32-bit WAV, plus headers
STREAMING_SIZES = (0, 0xFFFFFFFF)  # WAV data sizes written by recorders that never went back to fix them


def ms_to_samples(ms: float, rate: int = SAMPLE_RATE) -> int:
    return int(rate * ms / 1000)


def samples_to_ms(n: int, rate: int = SAMPLE_RATE) -> float:
    return n * 1000.0 / rate


class _Capped(io.RawIOBase):
    """A file that ends at `limit` bytes even if it keeps growing while it is decoded."""

    def __init__(self, f: Any, limit: int) -> None:
        self._f = f
        self._limit = limit

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def readinto(self, buf: Any) -> int:
        room = max(0, self._limit - self._f.tell())
        data = self._f.read(min(len(buf), room))
        buf[: len(data)] = data
        return len(data)

    def seek(self, offset: int, whence: int = 0) -> int:
        return int(self._f.seek(offset, whence))

    def tell(self) -> int:
        return int(self._f.tell())


def read_audio(path: Path) -> np.ndarray:
    """Any common audio file (wav, flac, mp3, m4a/aac, ogg/opus, ...) as 16 kHz mono int16. Only a regular
    file of at most MAX_FILE_BYTES is opened (a FIFO or device is refused without blocking), and at most
    MAX_SECONDS of it decoded; every problem is an AudioFormatError of one line naming the file."""
    try:
        f = open_regular(path, MAX_FILE_BYTES)
    except FileNotFoundError as e:
        raise AudioFormatError(f"{path}: file not found") from e
    except NotARegularFile as e:
        raise AudioFormatError(f"{path}: {e}; give an audio file of at most {MAX_SECONDS // 60} minutes") from e
    except OSError as e:
        raise AudioFormatError(f"{path}: cannot read: {e.strerror}") from e
    with f:
        size = os.fstat(f.fileno()).st_size
        if size == 0:
            raise AudioFormatError(f"{path}: the file is empty")
        short = _wav_shortfall(f.read(1 << 16), size)
        if short:
            raise AudioFormatError(
                f"{path}: truncated WAV: its header declares {short[0]} bytes of audio but only {short[1]} are there"
            )
        f.seek(0)
        return _decode(_Capped(f, MAX_FILE_BYTES), str(path))


def _wav_shortfall(head: bytes, file_size: int) -> tuple[int, int] | None:
    """(declared, present) audio bytes when a RIFF/WAVE header promises more than the file holds (FFmpeg
    would quietly decode what is there, and a cut-off request would be acted on)."""
    if head[:4] != b"RIFF" or head[8:12] != b"WAVE":
        return None
    pos = 12
    while pos + 8 <= len(head):
        cid, size = head[pos : pos + 4], struct.unpack("<I", head[pos + 4 : pos + 8])[0]
        if cid == b"data":
            present = file_size - pos - 8
            return (size, present) if size > present and size not in STREAMING_SIZES else None
        pos += 8 + size + (size & 1)  # chunks are word-aligned
    return None


read_wav = read_audio
"""The same reader under its older name (WAV recordings are one of the formats it reads)."""


def _decode(f: io.RawIOBase, name: str) -> np.ndarray:
    try:
        import av
    except ImportError as e:
        raise AudioFormatError(f"{name}: PyAV is missing to decode audio: pip install av") from e
    hint = "convert it with `ffmpeg -i IN -ar 16000 -ac 1 out.wav` or `sox IN out.wav`"
    try:
        with av.open(f, mode="r") as container:
            if not container.streams.audio:
                raise AudioFormatError(f"{name}: no audio in this file; {hint}")
            stream = container.streams.audio[0]
            rate = stream.codec_context.sample_rate or 0
            if rate and rate < MIN_RATE:
                raise AudioFormatError(f"{name}: sample rate {rate} Hz is too low for speech (need {MIN_RATE}+ Hz)")
            resampler = av.AudioResampler(format="s16", layout="mono", rate=SAMPLE_RATE)
            pieces: list[np.ndarray] = []
            total = 0
            for frame in container.decode(stream):
                for out in resampler.resample(frame):
                    pieces.append(out.to_ndarray().reshape(-1))
                    total += pieces[-1].size
                if total > MAX_SAMPLES:
                    raise AudioFormatError(
                        f"{name}: recording is longer than {MAX_SECONDS // 60} minutes; cut it first"
                    )
            for out in resampler.resample(None):
                pieces.append(out.to_ndarray().reshape(-1))
    except AudioFormatError:
        raise
    except (av.FFmpegError, ValueError, OSError, EOFError) as e:
        why = getattr(e, "strerror", None) or str(e).split(";")[0]
        raise AudioFormatError(f"{name}: not audio voiceloop can read, or damaged ({why}); {hint}") from e
    samples = np.concatenate(pieces).astype(np.int16, copy=False) if pieces else np.zeros(0, np.int16)
    if samples.size == 0:
        raise AudioFormatError(f"{name}: the file holds no audio samples")
    return samples[:MAX_SAMPLES]


def resample(x: np.ndarray, rate: int, target: int = SAMPLE_RATE) -> np.ndarray:
    """Resample float audio; low-pass first when going down so speech does not alias."""
    if rate == target or len(x) == 0:
        return x
    if rate > target:
        cutoff = 0.5 * target / rate * 0.9  # cycles per input sample
        taps = 63
        n = np.arange(taps) - (taps - 1) / 2
        kernel = 2 * cutoff * np.sinc(2 * cutoff * n) * np.hamming(taps)
        x = np.convolve(x, kernel / kernel.sum(), mode="same")
    n_out = int(round(len(x) * target / rate))
    t = np.arange(n_out) * (rate / target)
    out: np.ndarray = np.interp(t, np.arange(len(x)), x)
    return out


def to_int16(x: np.ndarray) -> np.ndarray:
    out: np.ndarray = (np.clip(x, -1.0, 32767 / 32768) * 32768.0).round().astype(np.int16)
    return out


def wav_bytes(samples: np.ndarray, rate: int = SAMPLE_RATE) -> bytes:
    """Encode mono int16 samples as a WAV file in memory."""
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(np.asarray(samples, dtype="<i2").tobytes())
    return out.getvalue()


def rms_dbfs(samples: np.ndarray) -> float:
    """Level of int16 samples in dB relative to full scale (silence -> -96)."""
    if len(samples) == 0:
        return -96.0
    rms = float(np.sqrt(np.mean((samples.astype(np.float64) / 32768.0) ** 2)))
    return max(-96.0, 20 * np.log10(rms)) if rms > 0 else -96.0
