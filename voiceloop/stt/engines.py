"""Speech to text: a Transcriber protocol; faster-whisper, openai-whisper and Moonshine engines; tiered mode."""

from __future__ import annotations

import atexit
import dataclasses
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from voiceloop.audio.formats import SAMPLE_RATE
from voiceloop.config import SttConfig
from voiceloop.errors import ModelError
from voiceloop.paths import cache_dir
from voiceloop.runtime import spawn
from voiceloop.stt.heard_names import mend
from voiceloop.stt.inflight import RUNNING
from voiceloop.stt.models import cpu_threads, device_and_compute, looks_like_path, resolve_ct2
from voiceloop.stt.moonshine import Moonshine
from voiceloop.stt.second_ear import SecondEar
from voiceloop.stt.short_window import NAMES_BEAM, transcribe_short
from voiceloop.stt.transcript import Transcriber, Transcript, float_audio
from voiceloop.stt.vocabulary import bias_prompt

MAX_COMPRESSION = 2.4  # Whisper's own limit: text that zips to under 1/2.4 of its size is the model repeating itself
LOOPED_LOGPROB = -10.0  # a repetition loop counts as no confidence at all, however sure each repeated token was


def confidence(segments: Sequence[tuple[int, float, float, float]]) -> tuple[float, float]:
    """(tokens, avg_logprob, no_speech_prob, compression_ratio) per segment -> (avg_logprob, no_speech_prob),
    weighted by tokens.

    Whisper decodes greedily here (temperature 0, no sampled retries: the same audio always gives the same
    words). Its retries at higher temperatures were its answer to two failures; ours are the confidence gate
    for an unsure decode (at its default -0.8 it refuses all that a retry was for: below -1) and this rule for a
    decode stuck in a loop ("called no.vx.vx.vx…" at -0.09: sure of every token), which the gate alone would pass.
    """
    if not segments:
        return -10.0, 1.0
    total = sum(max(n, 1) for n, _, _, _ in segments)
    logprob = sum(max(n, 1) * (lp if ratio <= MAX_COMPRESSION else LOOPED_LOGPROB) for n, lp, _, ratio in segments)
    return logprob / total, sum(max(n, 1) * ns for n, _, ns, _ in segments) / total


class FasterWhisper:
    """faster-whisper (CTranslate2): int8 on CPU, float16 on CUDA; loaded once."""

    def __init__(self, cfg: SttConfig) -> None:
        try:
            from faster_whisper import WhisperModel
        except ImportError as e:
            raise ModelError("faster-whisper is not installed: pip install faster-whisper") from e
        local = resolve_ct2(cfg.model)
        if local is None and looks_like_path(cfg.model):
            raise ModelError(f"stt.model {cfg.model}: no such model directory")
        device, compute = device_and_compute(cfg.device, cfg.compute_type)
        self.name = f"faster-whisper {cfg.model} ({device}, {compute})"
        self.cfg, self.prompt = cfg, bias_prompt() if cfg.vocabulary_bias else ""  # the text before the audio
        try:
            where, threads = str(local) if local else cfg.model, cpu_threads()
            self._model = WhisperModel(
                where, device, compute_type=compute, cpu_threads=threads, local_files_only=not local
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
        self.second = SecondEar.load(cfg)  # base's vote on a request's file name (stt.names_model)

    def hint_files(self, files: Sequence[str]) -> None:
        if self.prompt:  # "" when stt.vocabulary_bias is off
            self.prompt = bias_prompt(files)
        if self.second is not None:
            self.second.hint_files(files)

    def glimpse(self, samples: np.ndarray) -> str | None:
        """Speech still under way, quickly: the fitted window's words, never a second pass (None: no such window)."""
        if not self.cfg.short_window:
            return None
        audio, cfg = float_audio(samples), self.cfg
        with RUNNING.running():
            short = transcribe_short(self._model, audio, language=cfg.language, prompt=self.prompt, beam_size=1)
        return None if short is None or short.looped else short.text

    def transcribe(self, samples: np.ndarray) -> Transcript:
        t0, audio, cfg = time.perf_counter(), float_audio(samples), self.cfg
        if cfg.short_window:  # a request that names a file gets the names beam too (stt.repair_names)
            beams = {"beam_size": cfg.beam_size, "names_beam": NAMES_BEAM if cfg.repair_names else 0}
            with RUNNING.running():
                short = transcribe_short(self._model, audio, language=cfg.language, prompt=self.prompt, **beams)
            if short is not None and self.second is not None:
                short = self.second.hear(audio, self.prompt, short)
            if short is not None and not short.needs_whole_window(len(audio) / SAMPLE_RATE):
                avg, no_speech = confidence([short.stats])
                if avg >= self.cfg.min_avg_logprob and no_speech <= self.cfg.max_no_speech_prob:
                    return Transcript(short.text, avg, no_speech, time.perf_counter() - t0)
            # looped, spelled, stopped early or unsure: the whole window decides (a short clip is sometimes heard
            # less surely in a short window; this way the gate refuses nothing the whole window would have passed)
        with RUNNING.running():  # the process does not exit under CTranslate2 (stt/inflight.py)
            segments, _info = self._model.transcribe(
                audio,
                language=self.cfg.language or None,
                beam_size=self.cfg.beam_size,
                vad_filter=False,  # our own VAD already cut the utterance
                condition_on_previous_text=False,
                without_timestamps=True,
                initial_prompt=self.prompt or None,
                temperature=0.0,  # greedy only, never a sampled retry (see confidence())
            )
            parts = list(segments)  # the generator does the work; finish it here
        text = " ".join(s.text.strip() for s in parts).strip()
        stats = [(len(s.tokens), s.avg_logprob, s.no_speech_prob, s.compression_ratio) for s in parts]
        avg, no_speech = confidence(stats)
        return Transcript(text, avg, no_speech, time.perf_counter() - t0)


def openai_checkpoint(model: str) -> str:
    """A local .pt for a path or a packaged model (converted once from its CTranslate2 weights)."""
    path = Path(model).expanduser()
    if path.suffix == ".pt":
        if not path.is_file():
            raise ModelError(f"stt.model {model}: no such checkpoint file")
        return str(path)
    ct2 = resolve_ct2(model)
    if ct2 is None:
        return model  # a name openai-whisper may have cached or can download
    from voiceloop.stt.whisper_convert import convert_ct2_to_openai

    out = cache_dir() / "openai-whisper" / f"{path.name if path.is_dir() else model}.pt"
    if not out.is_file():
        out.parent.mkdir(parents=True, exist_ok=True)
        convert_ct2_to_openai(ct2, out)
    return str(out)


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
        self.prompt = bias_prompt() if cfg.vocabulary_bias else ""
        self.name = f"openai-whisper {cfg.model} ({device})"
        source = openai_checkpoint(cfg.model)
        try:
            self._model: Any = whisper.load_model(
                source, device=device, download_root=str(cache_dir() / "openai-whisper")
            )
        except Exception as e:
            raise ModelError(
                f"stt.model {cfg.model!r}: openai-whisper cannot load it ({type(e).__name__}); "
                "use a local .pt checkpoint or a packaged name (tiny.en, base)"
            ) from e

    def hint_files(self, files: Sequence[str]) -> None:
        if self.prompt:  # "" when stt.vocabulary_bias is off
            self.prompt = bias_prompt(files)

    def transcribe(self, samples: np.ndarray) -> Transcript:
        t0 = time.perf_counter()
        # greedy only, never a sampled retry (see confidence())
        opts: dict[str, Any] = {"language": self.cfg.language or None, "fp16": self._fp16, "temperature": 0.0}
        if self.prompt:
            opts["initial_prompt"] = self.prompt
        if self.cfg.beam_size > 1:
            opts["beam_size"] = self.cfg.beam_size
        with RUNNING.running():
            result = self._model.transcribe(
                float_audio(samples), condition_on_previous_text=False, without_timestamps=True, **opts
            )
        segs = result.get("segments", [])
        avg, no_speech = confidence(
            [(len(s["tokens"]), s["avg_logprob"], s["no_speech_prob"], s["compression_ratio"]) for s in segs]
        )
        return Transcript(str(result.get("text", "")).strip(), avg, no_speech, time.perf_counter() - t0)


class TieredTranscriber:
    """A fast model first; a larger one only when the fast one is unsure (avg_logprob below a floor).

    Both are loaded at start, so escalating costs one more transcription and never a model load.
    """

    def __init__(self, fast: Transcriber, accurate: Transcriber, escalate_below: float) -> None:
        self.fast = fast
        self.accurate = accurate
        self.escalate_below = escalate_below
        self.name = f"tiered: {fast.name}, else {accurate.name}"
        self.calls = 0
        self.escalations = 0

    def hint_files(self, files: Sequence[str]) -> None:
        self.fast.hint_files(files)
        self.accurate.hint_files(files)

    def transcribe(self, samples: np.ndarray) -> Transcript:
        self.calls += 1
        first = self.fast.transcribe(samples)
        if first.avg_logprob >= self.escalate_below and first.text:
            return first
        self.escalations += 1
        second = self.accurate.transcribe(samples)
        # the larger model is not always surer: keep whichever transcript is more confident
        best = second if second.avg_logprob >= first.avg_logprob else first
        return dataclasses.replace(best, seconds=first.seconds + second.seconds, escalated=True)


def build_engine(cfg: SttConfig) -> Transcriber:
    """The configured engine, loaded but not warmed up (the benchmark times the two apart)."""
    if cfg.engine == "moonshine":
        return Moonshine(cfg)
    if cfg.engine == "openai-whisper":
        return OpenAIWhisper(cfg)
    return FasterWhisper(cfg)


def warm_up(engine: Transcriber) -> None:
    """One tiny transcription: the first real one then finds kernels chosen and buffers allocated."""
    engine.transcribe(np.zeros(SAMPLE_RATE // 2, dtype=np.int16))


WARM_UP_WAIT_S = 30.0  # an early transcription waits at most this long for the warm-up, then goes ahead
EXIT_WAIT_S = 10.0  # at exit, the warm-up is given this long to finish


class WarmingUp:
    """A loaded engine whose warm-up runs on a thread, so `listen` is listening while Whisper warms.

    A transcription that arrives before the warm-up is done waits for it (bounded) rather than
    competing with it for the same cores; by the time someone has finished a sentence it is done.
    """

    def __init__(self, engine: Transcriber, to_warm: Sequence[Transcriber], repair_names: bool = False) -> None:
        self.engine, self.repair_names = engine, repair_names
        self.name = engine.name
        self._ready = threading.Event()
        self._to_warm = tuple(to_warm)
        spawn("stt-warm-up", self._warm)
        # a process that ends while CTranslate2 runs on another thread can crash on the way out
        atexit.register(self.wait_warm, EXIT_WAIT_S)

    def _warm(self) -> None:
        try:
            for engine in self._to_warm:
                warm_up(engine)
        except Exception:  # a failing engine fails again, visibly, on the first real transcription
            pass
        finally:
            self._ready.set()

    def wait_warm(self, timeout_s: float = WARM_UP_WAIT_S) -> bool:
        """True once the warm-up has finished."""
        return self._ready.wait(timeout_s)

    def hint_files(self, files: Sequence[str]) -> None:
        self.engine.hint_files(files)

    def transcribe(self, samples: np.ndarray) -> Transcript:
        self.wait_warm()
        heard = self.engine.transcribe(samples)
        return dataclasses.replace(heard, text=mend(heard.text)) if self.repair_names else heard


def load_transcriber(cfg: SttConfig) -> WarmingUp:
    """Load the configured engine (tiered when asked) and start warming it, so the first turn is not slow."""
    if cfg.tiered and cfg.engine == "moonshine":
        raise ModelError("stt.tiered needs a Whisper engine: moonshine gives no confidence to decide on")
    engine = build_engine(cfg)
    if not cfg.tiered:
        return WarmingUp(engine, [engine], cfg.repair_names)
    try:
        # the second opinion is for accuracy: Whisper's whole window (the fitted one costs base ~3 points of WER)
        second = dataclasses.replace(cfg, model=cfg.escalate_model, engine="faster-whisper", short_window=False)
        larger = FasterWhisper(second)
    except ModelError as e:  # its message says stt.model; the key to fix is escalate_model
        raise ModelError(str(e).replace("stt.model", "stt.escalate_model")) from e
    return WarmingUp(TieredTranscriber(engine, larger, cfg.escalate_below), [engine, larger], cfg.repair_names)
