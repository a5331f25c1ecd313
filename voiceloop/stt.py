"""Speech to text: a Transcriber protocol with faster-whisper and openai-whisper engines."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from voiceloop.audio import SAMPLE_RATE
from voiceloop.config import SttConfig
from voiceloop.errors import ModelError
from voiceloop.models import cache_dir, looks_like_path, resolve_ct2


@dataclass(frozen=True)
class Transcript:
    """What Whisper heard, with the confidence numbers the gate uses."""

    text: str
    """The words, stripped."""
    avg_logprob: float
    """Mean token log-probability, weighted by segment length (closer to 0 is surer)."""
    no_speech_prob: float
    """Whisper's own estimate that there was no speech at all."""
    seconds: float
    """Time spent transcribing."""


class Transcriber(Protocol):
    name: str

    def transcribe(self, samples: np.ndarray) -> Transcript: ...


def _weighted(values: Sequence[tuple[float, float, float]]) -> tuple[float, float]:
    """(weight, avg_logprob, no_speech_prob) per segment -> weighted means."""
    total = sum(w for w, _, _ in values) or 1.0
    return (
        sum(w * lp for w, lp, _ in values) / total,
        sum(w * ns for w, _, ns in values) / total,
    )


def _float_audio(samples: np.ndarray) -> np.ndarray:
    return samples.astype(np.float32) / 32768.0


class FasterWhisper:
    """faster-whisper (CTranslate2): int8 on CPU, float16 on CUDA; loaded once."""

    def __init__(self, cfg: SttConfig) -> None:
        try:
            import ctranslate2
            from faster_whisper import WhisperModel
        except ImportError as e:
            raise ModelError("faster-whisper is not installed: pip install faster-whisper") from e
        local = resolve_ct2(cfg.model)
        if local is None and looks_like_path(cfg.model):
            raise ModelError(f"stt.model {cfg.model}: no such model directory")
        device = cfg.device
        if device == "auto":
            device = "cuda" if ctranslate2.get_cuda_device_count() > 0 else "cpu"
        compute = cfg.compute_type
        if compute == "auto":
            compute = "float16" if device == "cuda" else "int8"
        self.name = f"faster-whisper {cfg.model} ({device}, {compute})"
        self.cfg = cfg
        try:
            self._model = WhisperModel(
                str(local) if local else cfg.model,
                device=device,
                compute_type=compute,
                local_files_only=local is None,
            )
        except Exception as e:  # ctranslate2 and huggingface raise many types
            if local is None:
                raise ModelError(
                    f"stt.model {cfg.model!r} is not installed; packaged models: tiny.en, base "
                    "(run `make install`), or set stt.model to a local model directory"
                ) from e
            raise ModelError(
                f"stt.model {cfg.model}: cannot load ({type(e).__name__}: {e}); the files may be corrupt"
            ) from e

    def transcribe(self, samples: np.ndarray) -> Transcript:
        t0 = time.perf_counter()
        segments, _info = self._model.transcribe(
            _float_audio(samples),
            language=self.cfg.language or None,
            beam_size=self.cfg.beam_size,
            vad_filter=False,  # our own VAD already cut the utterance
            condition_on_previous_text=False,
            without_timestamps=True,
        )
        parts = list(segments)  # the generator does the work; finish it here
        text = " ".join(s.text.strip() for s in parts).strip()
        stats = [(max(len(s.tokens), 1), s.avg_logprob, s.no_speech_prob) for s in parts]
        avg, no_speech = _weighted(stats) if stats else (-10.0, 1.0)
        return Transcript(text, avg, no_speech, time.perf_counter() - t0)


class OpenAIWhisper:
    """openai-whisper (PyTorch), the design card's engine: a local .pt checkpoint or a model name."""

    def __init__(self, cfg: SttConfig) -> None:
        try:
            import torch
            import whisper
        except ImportError as e:
            raise ModelError("openai-whisper is not installed: pip install -e '.[openai-whisper]'") from e
        device = cfg.device
        if device == "auto":
            device = "cuda" if torch.cuda.is_available() else "cpu"
        self._fp16 = device == "cuda"
        self.cfg = cfg
        self.name = f"openai-whisper {cfg.model} ({device})"
        source = self._checkpoint(cfg.model)
        try:
            self._model: Any = whisper.load_model(
                source, device=device, download_root=str(cache_dir() / "openai-whisper")
            )
        except Exception as e:
            raise ModelError(
                f"stt.model {cfg.model!r}: openai-whisper cannot load it ({type(e).__name__}); "
                "use a local .pt checkpoint or a packaged name (tiny.en, base)"
            ) from e

    @staticmethod
    def _checkpoint(model: str) -> str:
        """A local .pt for a path or a packaged model (converted once from its CTranslate2 weights)."""
        path = Path(model).expanduser()
        if path.suffix == ".pt":
            if not path.is_file():
                raise ModelError(f"stt.model {model}: no such checkpoint file")
            return str(path)
        ct2 = resolve_ct2(model)
        if ct2 is None:
            return model  # a name openai-whisper may have cached or can download
        from voiceloop.whisper_convert import convert_ct2_to_openai

        out = cache_dir() / "openai-whisper" / f"{path.name if path.is_dir() else model}.pt"
        if not out.is_file():
            out.parent.mkdir(parents=True, exist_ok=True)
            convert_ct2_to_openai(ct2, out)
        return str(out)

    def transcribe(self, samples: np.ndarray) -> Transcript:
        t0 = time.perf_counter()
        opts: dict[str, Any] = {"language": self.cfg.language or None, "fp16": self._fp16}
        if self.cfg.beam_size > 1:
            opts["beam_size"] = self.cfg.beam_size
        result = self._model.transcribe(
            _float_audio(samples), condition_on_previous_text=False, without_timestamps=True, **opts
        )
        segs = result.get("segments", [])
        stats = [(max(len(s["tokens"]), 1), s["avg_logprob"], s["no_speech_prob"]) for s in segs]
        avg, no_speech = _weighted(stats) if stats else (-10.0, 1.0)
        return Transcript(str(result.get("text", "")).strip(), avg, no_speech, time.perf_counter() - t0)


def load_transcriber(cfg: SttConfig) -> Transcriber:
    """Build the configured engine and warm it up, so the first real turn is not slow."""
    engine: Transcriber = FasterWhisper(cfg) if cfg.engine == "faster-whisper" else OpenAIWhisper(cfg)
    engine.transcribe(np.zeros(SAMPLE_RATE // 2, dtype=np.int16))
    return engine
