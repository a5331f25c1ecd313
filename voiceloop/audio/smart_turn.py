"""Semantic end of turn: the smart-turn v3 ONNX model (shipped in the pipecat-ai wheel) says whether
the last seconds of speech sound finished. Run with onnxruntime; features from faster-whisper's
Whisper log-mel extractor, so neither pipecat nor transformers is imported."""

from __future__ import annotations

import importlib.util
import threading
from pathlib import Path
from typing import Any

import numpy as np

from voiceloop.audio.formats import SAMPLE_RATE
from voiceloop.errors import ModelError
from voiceloop.privacy import no_telemetry

WINDOW_S = 8  # the model looks at the last 8 s, zero-padded in front
PACKAGED = ("audio", "turn", "smart_turn", "data", "smart-turn-v3.2-cpu.onnx")


def packaged_model() -> Path:
    """The ONNX file inside the installed pipecat-ai wheel, found without importing pipecat."""
    spec = importlib.util.find_spec("pipecat")
    locations = list(spec.submodule_search_locations or []) if spec else []
    for root in locations:
        path = Path(root).joinpath(*PACKAGED)
        if path.is_file():
            return path
    raise ModelError(
        "the smart-turn model is not installed: pip install --no-deps pipecat-ai (make install does), "
        "or set vad.smart_turn = false"
    )


class SmartTurn:
    """probability(samples) -> 0..1 that the speaker has finished; is_complete() thresholds it."""

    def __init__(self, model: Path | None = None, threshold: float = 0.5) -> None:
        no_telemetry()  # `import voiceloop` did it; again here in case a host program imported onnxruntime first
        try:
            import onnxruntime as ort
            from faster_whisper.feature_extractor import FeatureExtractor
        except ImportError as e:
            raise ModelError("smart turn needs onnxruntime and faster-whisper: pip install onnxruntime") from e
        path = model or packaged_model()
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = 1
        opts.inter_op_num_threads = 1
        try:
            self._session: Any = ort.InferenceSession(str(path), sess_options=opts, providers=["CPUExecutionProvider"])
        except Exception as e:  # onnxruntime raises its own exception types for a bad file
            raise ModelError(f"cannot load the smart-turn model {path}: {e}") from e
        self._features = FeatureExtractor(chunk_length=WINDOW_S)
        self._lock = threading.Lock()
        self.threshold = threshold
        self.calls = 0

    def probability(self, samples: np.ndarray) -> float:
        n = WINDOW_S * SAMPLE_RATE
        x = samples[-n:].astype(np.float32) / 32768.0
        x = np.pad(x, (n - len(x), 0))
        x = (x - x.mean()) / np.sqrt(x.var() + 1e-7)  # the model was trained on normalized audio
        mel = self._features(x, padding=0)[:, : n // 160]
        with self._lock:
            self.calls += 1
            out = self._session.run(None, {"input_features": mel[np.newaxis].astype(np.float32)})
        return float(np.asarray(out[0]).reshape(-1)[0])

    def is_complete(self, samples: np.ndarray) -> bool:
        return self.probability(samples) >= self.threshold
