"""Audio format constants, WAV reading/conversion to 16 kHz mono int16, and WAV writing."""

from __future__ import annotations

import io
import struct
import wave
from pathlib import Path

import numpy as np

from voiceloop.errors import AudioFormatError

SAMPLE_RATE = 16_000  # Hz: what webrtcvad and Whisper both want
SAMPLE_WIDTH = 2  # bytes per sample (int16)
CHANNELS = 1
MIN_RATE = 8_000  # Hz: below this a file cannot hold intelligible speech
MAX_RATE = 192_000  # Hz
MAX_SECONDS = 15 * 60  # longest recording `once` accepts
FLOAT_FORMAT_TAG = 3
PCM_FORMAT_TAG = 1
EXTENSIBLE_FORMAT_TAG = 0xFFFE
STREAMING_SIZES = (0, 0xFFFFFFFF)  # data sizes written by recorders that never went back to fix them


def ms_to_samples(ms: float, rate: int = SAMPLE_RATE) -> int:
    return int(rate * ms / 1000)


def samples_to_ms(n: int, rate: int = SAMPLE_RATE) -> float:
    return n * 1000.0 / rate


def _chunks(data: bytes, name: str) -> dict[bytes, bytes]:
    if len(data) < 12 or data[:4] not in (b"RIFF", b"RIFX") or data[8:12] != b"WAVE":
        raise AudioFormatError(f"{name}: not a WAV file (no RIFF/WAVE header); convert it with `sox in.x out.wav`")
    if data[:4] == b"RIFX":
        raise AudioFormatError(
            f"{name}: big-endian WAV (RIFX) is not supported; convert it with `sox in.wav -e signed out.wav`"
        )
    found: dict[bytes, bytes] = {}
    pos = 12
    while pos + 8 <= len(data):
        cid, size = data[pos : pos + 4], struct.unpack("<I", data[pos + 4 : pos + 8])[0]
        body_start = pos + 8
        available = len(data) - body_start
        if cid == b"data" and size > available:
            if size in STREAMING_SIZES:
                size = available
            else:
                raise AudioFormatError(
                    f"{name}: truncated WAV: header declares {size} bytes of audio but only {available} are there"
                )
        elif size > available:
            raise AudioFormatError(f"{name}: truncated WAV: chunk {cid!r} runs past the end of the file")
        found.setdefault(cid, data[body_start : body_start + size])
        pos = body_start + size + (size & 1)  # chunks are word-aligned
    if b"fmt " not in found:
        raise AudioFormatError(f"{name}: WAV has no format chunk; the file is damaged")
    if b"data" not in found:
        raise AudioFormatError(f"{name}: WAV has no audio data; the file is empty or damaged")
    return found


def _decode(fmt: bytes, raw: bytes, name: str) -> tuple[np.ndarray, int]:
    if len(fmt) < 16:
        raise AudioFormatError(f"{name}: WAV format chunk is too short; the file is damaged")
    tag, channels, rate, _, block_align, bits = struct.unpack("<HHIIHH", fmt[:16])
    if tag == EXTENSIBLE_FORMAT_TAG and len(fmt) >= 26:
        tag = struct.unpack("<H", fmt[24:26])[0]  # first two bytes of the sub-format GUID
    if channels < 1 or channels > 32:
        raise AudioFormatError(f"{name}: WAV says it has {channels} channels; the file is damaged")
    if not MIN_RATE <= rate <= MAX_RATE:
        raise AudioFormatError(f"{name}: sample rate {rate} Hz is not supported (need {MIN_RATE}-{MAX_RATE} Hz)")
    width = bits // 8
    if (tag == PCM_FORMAT_TAG and bits in (8, 16, 24, 32)) or (tag == FLOAT_FORMAT_TAG and bits in (32, 64)):
        pass
    else:
        raise AudioFormatError(
            f"{name}: WAV encoding (format {tag}, {bits}-bit) is not supported; "
            "use 8/16/24/32-bit PCM or 32/64-bit float"
        )
    frame = width * channels
    if block_align and block_align != frame:
        raise AudioFormatError(f"{name}: WAV block size {block_align} does not match {channels}x{bits}-bit; damaged")
    usable = len(raw) - len(raw) % frame
    if usable == 0:
        raise AudioFormatError(f"{name}: WAV holds no audio samples")
    if usable / frame / rate > MAX_SECONDS:
        raise AudioFormatError(f"{name}: recording is longer than {MAX_SECONDS // 60} minutes; cut it first")
    buf = raw[:usable]
    if tag == FLOAT_FORMAT_TAG:
        x = np.frombuffer(buf, dtype="<f4" if bits == 32 else "<f8").astype(np.float64)
        x = np.nan_to_num(x, nan=0.0, posinf=1.0, neginf=-1.0)
    elif bits == 8:
        x = (np.frombuffer(buf, dtype=np.uint8).astype(np.float64) - 128.0) / 128.0
    elif bits == 16:
        x = np.frombuffer(buf, dtype="<i2").astype(np.float64) / 32768.0
    elif bits == 24:
        b = np.frombuffer(buf, dtype=np.uint8).reshape(-1, 3).astype(np.int32)
        v = b[:, 0] | (b[:, 1] << 8) | (b[:, 2] << 16)
        v = np.where(v >= 1 << 23, v - (1 << 24), v)
        x = v.astype(np.float64) / float(1 << 23)
    else:
        x = np.frombuffer(buf, dtype="<i4").astype(np.float64) / float(1 << 31)
    return x.reshape(-1, channels).mean(axis=1), rate


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
    return np.interp(t, np.arange(len(x)), x)


def to_int16(x: np.ndarray) -> np.ndarray:
    return (np.clip(x, -1.0, 32767 / 32768) * 32768.0).round().astype(np.int16)


def decode_wav(data: bytes, name: str = "audio") -> np.ndarray:
    """Any common WAV (8-48 kHz, mono/stereo, int or float) -> 16 kHz mono int16 samples."""
    chunks = _chunks(data, name)
    x, rate = _decode(chunks[b"fmt "], chunks[b"data"], name)
    return to_int16(resample(x, rate))


def read_wav(path: Path) -> np.ndarray:
    """Read a WAV file as 16 kHz mono int16; AudioFormatError says what is wrong."""
    try:
        data = path.read_bytes()
    except FileNotFoundError as e:
        raise AudioFormatError(f"{path}: file not found") from e
    except IsADirectoryError as e:
        raise AudioFormatError(f"{path}: is a directory, not a WAV file") from e
    except OSError as e:
        raise AudioFormatError(f"{path}: cannot read: {e.strerror}") from e
    return decode_wav(data, str(path))


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
