"""The benchmark's side-by-side measurements: STT engines, first sentence vs whole reply, idle cost, start-up.

Every pair is measured in the same process, alternating, so a busy machine slows both sides alike;
only the ratios are meant to be compared between machines.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from voiceloop.audio.formats import SAMPLE_RATE
from voiceloop.config import SttConfig
from voiceloop.devtools.bench import Parts, Replay
from voiceloop.errors import VoiceloopError
from voiceloop.llm.ollama import Message
from voiceloop.stt.transcript import Transcriber, Transcript
from voiceloop.voice.pieces import split_sentences

Say = Callable[[str], None]
MULTI_SENTENCE_ASK = "Describe a rainy morning in three sentences."  # prose: models answer "tips" as a list


@dataclass(frozen=True)
class EngineRun:
    """One STT engine over the benchmark's utterances."""

    name: str
    load_ms: float
    """Building the engine (model files to memory), without the warm-up call."""
    median_ms: tuple[float, ...]
    """Per utterance, the median over runs."""
    audio_s: float
    """Seconds of speech transcribed once (all utterances)."""
    texts: tuple[str, ...]
    """What it heard, per utterance (first run)."""
    escalations: int = 0
    """Tiered mode only: utterances (over all runs) sent on to the larger model."""
    calls: int = 0

    @property
    def total_ms(self) -> float:
        return sum(self.median_ms)

    @property
    def rtf(self) -> float:
        """Processing time ÷ audio time."""
        return self.total_ms / 1000 / self.audio_s if self.audio_s else 0.0

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "load_ms": round(self.load_ms, 1),
            "median_ms_per_utterance": [round(v, 1) for v in self.median_ms],
            "total_ms": round(self.total_ms, 1),
            "rtf": round(self.rtf, 3),
            "texts": list(self.texts),
        }
        if self.calls:
            out["escalations"] = self.escalations
            out["calls"] = self.calls
        return out


class PlainOpenAIWhisper:
    """openai-whisper exactly as its README uses it: load_model() then transcribe() with defaults
    (English, fp32 on CPU, numpy input so no ffmpeg) — the baseline our engine is compared to."""

    def __init__(self, model: str) -> None:
        import whisper

        from voiceloop.stt.engines import openai_checkpoint

        self.name = f"openai-whisper {model}, plain transcribe()"
        self._model: Any = whisper.load_model(openai_checkpoint(model), device="cpu")

    def hint_files(self, files: Sequence[str]) -> None:
        """The plain baseline takes no prompt."""

    def transcribe(self, samples: np.ndarray) -> Transcript:
        t = time.perf_counter()
        result = self._model.transcribe(samples.astype(np.float32) / 32768.0, language="en", fp16=False)
        return Transcript(str(result.get("text", "")).strip(), 0.0, 0.0, time.perf_counter() - t)


@dataclass(frozen=True)
class SttComparison:
    """Every STT engine that could be built, over the same utterances."""

    engines: tuple[EngineRun, ...]
    missing: dict[str, str]
    """Engines that could not be built here, and why."""


def compare_stt(parts: Parts, replays: list[Replay], runs: int, say: Say) -> SttComparison:
    """Ours (the configured engine), plain openai-whisper, Moonshine, the escalation model and tiered mode,
    each over the same utterances, interleaved run by run."""
    from voiceloop.stt.engines import FasterWhisper, TieredTranscriber, warm_up
    from voiceloop.stt.moonshine import Moonshine

    cfg = parts.cfg.stt
    size = cfg.model if cfg.model in ("tiny.en", "base") else "tiny.en"
    builders: list[tuple[str, Callable[[], Transcriber]]] = [
        (f"openai-whisper {size}, plain transcribe()", lambda: PlainOpenAIWhisper(size)),
        ("moonshine", lambda: Moonshine(SttConfig(engine="moonshine"))),
        (f"faster-whisper {cfg.escalate_model}", lambda: FasterWhisper(_escalation_cfg(cfg))),
    ]
    engines: dict[str, tuple[Transcriber, float]] = {f"ours: {parts.transcriber.name}": (parts.transcriber, 0.0)}
    missing: dict[str, str] = {}
    for label, build in builders:
        say(f"loading {label}")
        t = time.perf_counter()
        try:
            engine = build()
        except (ImportError, VoiceloopError, OSError) as e:  # not installed, or cannot run on this CPU
            why = missing[label] = str(e).splitlines()[0] if str(e) else type(e).__name__
            say(why if why.startswith(label) else f"{label}: {why}")  # one line, and the comparison goes on
            continue
        load_ms = (time.perf_counter() - t) * 1000
        warm_up(engine)
        engines[label] = (engine, load_ms)
    larger = engines.get(f"faster-whisper {cfg.escalate_model}")
    if larger is not None:
        tiered = TieredTranscriber(parts.transcriber, larger[0], cfg.escalate_below)
        engines[f"tiered: below {cfg.escalate_below} → {cfg.escalate_model}"] = (tiered, 0.0)
    times: dict[str, list[list[float]]] = {name: [[] for _ in replays] for name in engines}
    texts: dict[str, list[str]] = {name: [""] * len(replays) for name in engines}
    for run in range(runs):
        say(f"speech to text, run {run + 1}/{runs}")
        for i, replay in enumerate(replays):
            for name, (engine, _) in engines.items():
                t = time.perf_counter()
                heard = engine.transcribe(replay.utterance.samples)
                times[name][i].append((time.perf_counter() - t) * 1000)
                if run == 0:
                    texts[name][i] = heard.text
    audio_s = sum(len(r.utterance.samples) for r in replays) / SAMPLE_RATE
    runs_out = []
    for name, (engine, load_ms) in engines.items():
        tiered_engine = engine if isinstance(engine, TieredTranscriber) else None
        runs_out.append(
            EngineRun(
                name,
                load_ms,
                tuple(statistics.median(v) for v in times[name]),
                audio_s,
                tuple(texts[name]),
                tiered_engine.escalations if tiered_engine else 0,
                tiered_engine.calls if tiered_engine else 0,
            )
        )
    return SttComparison(tuple(runs_out), missing)


def _escalation_cfg(cfg: SttConfig) -> SttConfig:
    import dataclasses

    return dataclasses.replace(cfg, engine="faster-whisper", model=cfg.escalate_model)


@dataclass(frozen=True)
class SpeechComparison:
    """A real multi-sentence answer: its first audio when streamed (each sentence spoken as soon as the
    LLM has written it) vs waiting for the whole answer and synthesizing all of it."""

    voice: str
    """tts.engine of the voice measured."""
    answer: str
    sentences: int
    first_ms: float
    """Request sent → first audio ready, streamed."""
    whole_ms: float
    """Request sent → whole answer written and synthesized."""

    def to_json(self) -> dict[str, Any]:
        return {
            "voice": self.voice,
            "answer": self.answer,
            "sentences": self.sentences,
            "first_audio_ms": round(self.first_ms, 1),
            "whole_reply_ms": round(self.whole_ms, 1),
        }


def _chat_messages() -> list[Message]:
    from voiceloop.agent.tools import CHAT_PROMPT

    return [{"role": "system", "content": CHAT_PROMPT}, {"role": "user", "content": MULTI_SENTENCE_ASK}]


def compare_speech(parts: Parts, runs: int, say: Say) -> list[SpeechComparison]:
    """The configured voice, then the other one if it is installed (espeak synthesizes in a few ms;
    Piper's time grows with the text)."""
    import dataclasses

    from voiceloop.errors import SpeechError
    from voiceloop.voice.engines import load_synth
    from voiceloop.voice.speech import SpeechStream

    options = {"temperature": 0.0, "num_predict": 200}
    tts = parts.cfg.tts
    other = dataclasses.replace(tts, engine="piper" if tts.engine == "pyttsx3" else "pyttsx3", voice="")
    voices = [(tts.engine, parts.synth)]
    try:
        voices.append((other.engine, load_synth(other)))
    except SpeechError:
        pass  # only the configured voice is compared
    out = []
    for name, synth in voices:
        say(f"first audio streamed vs whole reply, voice {name}")
        synth.synth("Ready.")
        # both sides then find the prompt already read: one token reads it, the answer itself is not needed
        parts.llm.chat(_chat_messages(), options={**options, "num_predict": 1})
        first: list[float] = []
        whole: list[float] = []
        answer = ""
        for _ in range(runs):
            t = time.perf_counter()
            stream = SpeechStream(synth, None)
            parts.llm.chat(_chat_messages(), options=options, on_token=stream.feed)
            stream.close()
            first.append(((stream.first_audio_at or time.perf_counter()) - t) * 1000)
            t = time.perf_counter()
            answer = parts.llm.chat(_chat_messages(), options=options).content.strip()
            synth.synth(answer)
            whole.append((time.perf_counter() - t) * 1000)
        n = len(split_sentences(answer))
        out.append(SpeechComparison(name, answer, n, statistics.median(first), statistics.median(whole)))
    return out
