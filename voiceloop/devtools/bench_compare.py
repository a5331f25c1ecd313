"""The benchmark's side-by-side measurements: STT engines, first sentence vs whole reply, idle cost, start-up.

Every pair is measured in the same process, alternating, so a busy machine slows both sides alike;
only the ratios are meant to be compared between machines.
"""

from __future__ import annotations

import io
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from voiceloop.audio.formats import SAMPLE_RATE, wav_bytes
from voiceloop.config import SttConfig
from voiceloop.devtools.bench import Parts, Replay
from voiceloop.errors import VoiceloopError
from voiceloop.llm.ollama import Message
from voiceloop.stt.transcript import Transcriber, Transcript
from voiceloop.voice.speech import split_sentences

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
        except (ImportError, VoiceloopError, OSError) as e:
            missing[label] = str(e).splitlines()[0] if str(e) else type(e).__name__
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
        parts.llm.chat(_chat_messages(), options=options)  # both sides then find the prompt already read
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


@dataclass(frozen=True)
class IdleCost:
    """The listen loop fed near-silence in real time through the real segmenter and webrtcvad."""

    seconds: float
    cpu_s: float

    @property
    def percent(self) -> float:
        """CPU time ÷ wall time, in % of one core."""
        return 100 * self.cpu_s / self.seconds if self.seconds else 0.0


def measure_idle(parts: Parts, seconds: float, terminal: bool = True) -> IdleCost:
    """terminal=True draws the live status line (10 redraws a second) as `listen` does on a terminal."""
    from rich.console import Console

    from voiceloop.agent.assistant import Assistant
    from voiceloop.agent.sandbox import Sandbox
    from voiceloop.agent.tools import Tools
    from voiceloop.audio.mic import WavSource
    from voiceloop.audio.vad import build_segmenter
    from voiceloop.devtools.bench import Decline
    from voiceloop.listen.loop import Listener
    from voiceloop.voice.speech import SentenceSpeaker

    cfg = parts.cfg
    # a quiet room, not digital zeros: the level meter and the VAD see ordinary low noise
    hiss = np.random.default_rng(0).normal(0, 8, int(seconds * SAMPLE_RATE)).astype(np.int16)
    with tempfile.TemporaryDirectory(prefix="voiceloop-bench-") as tmp:
        wav = Path(tmp) / "quiet.wav"
        wav.write_bytes(wav_bytes(hiss))
        tools = Tools(parts.llm, Sandbox(Path(tmp) / "out"), Decline(), cfg.llm.num_predict, cfg.answer)
        assistant = Assistant(cfg, parts.transcriber, parts.llm, tools, SentenceSpeaker(parts.synth, None))
        console = Console(file=io.StringIO(), width=100, force_terminal=terminal)
        listener = Listener(
            assistant, WavSource(wav, cfg.audio.chunk_ms, realtime=True), build_segmenter(cfg.vad), console
        )
        time.sleep(0.5)  # let thread pools from the runs before go quiet; they are not the loop's cost
        cpu, wall = time.process_time(), time.perf_counter()
        listener.run()
        return IdleCost(time.perf_counter() - wall, time.process_time() - cpu)




@dataclass(frozen=True)
class Startup:
    """A fresh process building what `voiceloop listen` builds before it listens (models already cached)."""

    wall_s: float
    """From spawning Python to "ready to listen"."""
    in_process_s: float
    """The same, from the first line of our code (imports, config, models, voice)."""
    warm_s: float
    """From the first line of our code until the Whisper and LLM warm-ups behind the loop are done too."""


def measure_startup(config: Path | None, model: str | None) -> Startup:
    args = json.dumps({"config": str(config) if config else "", "model": model})
    t = time.perf_counter()
    with subprocess.Popen(
        [sys.executable, "-m", "voiceloop.devtools.startup_probe", args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
    ) as proc:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        wall = time.perf_counter() - t
        rest, err = proc.communicate(timeout=120)
    try:
        inside = float(json.loads(line)["in_process_s"])
        warm = float(json.loads(rest.strip().splitlines()[-1])["warm_s"])
    except (ValueError, KeyError, IndexError) as e:
        tail = (err or "").strip().splitlines()[-1:] or ["no output"]
        raise VoiceloopError(f"the start-up probe failed: {tail[0]}") from e
    return Startup(wall, inside, warm)


@dataclass(frozen=True)
class PromptWarmth:
    """First token of an intent call whose prompt the server has just read (what the start-up warm-up
    leaves behind) vs one whose prompt it has never seen."""

    primed_ms: float
    cold_ms: float


def compare_prompt_warmth(parts: Parts, runs: int, say: Say) -> PromptWarmth:
    import secrets

    from voiceloop.agent.understand.prompt import SCHEMA, SYSTEM_PROMPT
    from voiceloop.agent.warmup import warm_llm

    say("LLM first token with the intent prompt read at start, and without")
    primed: list[float] = []
    cold: list[float] = []
    ask = {"role": "user", "content": "What is the capital of France?"}
    options = {"temperature": 0.0, "num_predict": 1}
    for _ in range(runs):
        warm_llm(parts.llm)  # as at start-up; other users of the server may have pushed it out since
        # a never-seen first line makes the server read the whole prompt again, as before any warm-up
        unseen = f"Session {secrets.token_hex(4)}.\n{SYSTEM_PROMPT}"
        for target, system in ((primed, SYSTEM_PROMPT), (cold, unseen)):
            result = parts.llm.chat([{"role": "system", "content": system}, ask], fmt=SCHEMA, options=options)
            target.append(result.first_token_s * 1000)
    return PromptWarmth(statistics.median(primed), statistics.median(cold))
