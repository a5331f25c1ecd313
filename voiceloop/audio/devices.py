"""PyAudio: quiet start-up, device lookup by name or index, and a blocking output Player."""

from __future__ import annotations

import collections
import contextlib
import ctypes
import os
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from voiceloop.audio.formats import SAMPLE_RATE, rms_dbfs
from voiceloop.errors import AudioDeviceError

if TYPE_CHECKING:
    from voiceloop.audio.aec import FarEnd

_ALSA_HANDLER: Any = None  # kept alive: ALSA holds a pointer to it


def silence_alsa() -> None:
    """Route ALSA's C-level error messages ("ALSA lib pcm.c ...") to nowhere, once per process."""
    global _ALSA_HANDLER
    if _ALSA_HANDLER is not None:
        return
    try:
        lib = ctypes.cdll.LoadLibrary("libasound.so.2")
    except OSError:
        return
    handler_type = ctypes.CFUNCTYPE(None, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p)
    _ALSA_HANDLER = handler_type(lambda *_: None)
    lib.snd_lib_error_set_handler(_ALSA_HANDLER)


@contextlib.contextmanager
def _stderr_to_null() -> Iterator[None]:
    """JACK and PortAudio also print while probing; hide fd 2 for the duration."""
    saved = os.dup(2)
    null = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(null, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(null)


@contextlib.contextmanager
def native_stderr_hidden() -> Iterator[None]:
    """Send C libraries' writes to fd 2 to nowhere for a long-running block, while Python's own
    sys.stderr (tracebacks, warnings) keeps going to the real terminal."""
    saved = os.dup(2)
    python_stderr = sys.stderr
    null = os.open(os.devnull, os.O_WRONLY)
    try:
        sys.stderr = open(saved, "w", buffering=1, encoding="utf-8", errors="replace", closefd=False)
        os.dup2(null, 2)
        yield
    finally:
        os.dup2(saved, 2)
        sys.stderr.close()
        sys.stderr = python_stderr
        os.close(saved)
        os.close(null)


def open_pyaudio() -> Any:
    try:
        import pyaudio
    except ImportError as e:
        raise AudioDeviceError("PyAudio is missing: apt-get install portaudio19-dev, then pip install pyaudio") from e
    silence_alsa()
    with _stderr_to_null():
        return pyaudio.PyAudio()


@dataclass(frozen=True)
class Device:
    index: int
    name: str
    inputs: int
    outputs: int
    default_rate: float


def list_devices(pa: Any) -> list[Device]:
    out = []
    for i in range(pa.get_device_count()):
        info = pa.get_device_info_by_index(i)
        out.append(
            Device(
                i,
                str(info["name"]),
                int(info["maxInputChannels"]),
                int(info["maxOutputChannels"]),
                float(info["defaultSampleRate"]),
            )
        )
    return out


def find_device(pa: Any, wanted: int | str, kind: str) -> int | None:
    """Index of the device for config value `wanted` ("" -> default -> None); kind is input/output."""
    devices = [d for d in list_devices(pa) if (d.inputs if kind == "input" else d.outputs) > 0]
    names = ", ".join(f"{d.index}: {d.name}" for d in devices) or "none"
    if wanted == "" or wanted is None:
        if not devices:
            raise AudioDeviceError(
                f"no {kind} audio device found; is PulseAudio/PipeWire running? (`voiceloop devices`)"
            )
        return None
    if isinstance(wanted, int) or (isinstance(wanted, str) and wanted.isdigit()):
        idx = int(wanted)
        if any(d.index == idx for d in devices):
            return idx
        raise AudioDeviceError(f"audio.{kind}_device {idx} is not an {kind} device; available: {names}")
    exact = [d for d in devices if d.name.lower() == wanted.lower()]
    partial = [d for d in devices if wanted.lower() in d.name.lower()]
    match = exact or partial
    if not match:
        raise AudioDeviceError(f"audio.{kind}_device {wanted!r} not found; available: {names}")
    return match[0].index


class PyAudioPlayer:
    """Plays 16 kHz mono int16 on an output device and returns only when playback has ended."""

    LEVEL_CHUNK = 480  # 30 ms: the level history is kept per chunk written

    def __init__(self, pa: Any, device: int | str = "") -> None:
        import pyaudio

        self._pa = pa
        self._index = find_device(pa, device, "output")
        self._format = pyaudio.paInt16
        self._lock = threading.Lock()
        self._levels: collections.deque[tuple[float, float]] = collections.deque(maxlen=200)
        self.far_end: FarEnd | None = None
        """Told every chunk played and when it is heard (an aec.FarEnd), for echo cancellation."""
        self.stop_flag = threading.Event()
        """Set it to cut playback short and drop what is still queued (Ctrl-C, barge-in); clear it to
        play again."""

    def play(self, samples: np.ndarray) -> None:
        if self.stop_flag.is_set():
            return
        with self._lock:
            try:
                stream = self._pa.open(
                    format=self._format,
                    channels=1,
                    rate=SAMPLE_RATE,
                    output=True,
                    output_device_index=self._index,
                    frames_per_buffer=self.LEVEL_CHUNK,
                )
            except OSError as e:
                raise AudioDeviceError(f"cannot open the speaker: {e}; check `voiceloop devices`") from e
            try:
                pcm = np.asarray(samples, dtype="<i2")
                # when each chunk will really be heard: writes run ahead of the speaker by the buffer
                start = time.monotonic() + float(stream.get_output_latency() or 0.0)
                for pos in range(0, len(pcm), self.LEVEL_CHUNK):
                    if self.stop_flag.is_set():
                        break
                    chunk = pcm[pos : pos + self.LEVEL_CHUNK]
                    self._levels.append((start + pos / SAMPLE_RATE, rms_dbfs(chunk)))
                    if self.far_end is not None:
                        self.far_end.push(chunk, start + pos / SAMPLE_RATE)
                    stream.write(chunk.tobytes())
                if not self.stop_flag.is_set():  # when stopped, close() below discards what is buffered
                    stream.stop_stream()  # blocks until the buffered audio has played
            except OSError as e:
                raise AudioDeviceError(f"the speaker failed while playing: {e}; check `voiceloop devices`") from e
            finally:
                with contextlib.suppress(OSError):
                    stream.close()

    def close(self) -> None:
        """Nothing stays open between replies: each play() opens and closes its own stream."""

    def recent_level(self, window_s: float) -> float | None:
        """Loudest level (dBFS) heard from the speaker in the last window_s, or None if it was silent."""
        now = time.monotonic()
        levels = [db for t, db in list(self._levels) if now - window_s <= t <= now]
        return max(levels) if levels else None
