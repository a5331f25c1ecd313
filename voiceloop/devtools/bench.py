"""`voiceloop bench`: replay spoken WAVs through the real pipeline and time every stage.

Each turn runs the real parts (webrtcvad segmenter, Whisper, the LLM server, the voice), with a
confirmer that declines every write and a speaker that synthesizes but never plays. Thin wrappers
around the transcriber, the LLM client and the voice note when each one was called and how long it
took, so the stages come from the very turn that was timed, not from a second run.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from voiceloop.audio.formats import ms_to_samples, read_audio
from voiceloop.audio.vad import Utterance, build_segmenter, join_utterances
from voiceloop.config import Config
from voiceloop.devtools.bench_probes import Decline, Probe, TimedLLM, TimedSynth, TimedTranscriber
from voiceloop.errors import AudioFormatError
from voiceloop.llm.ollama import LLMClient
from voiceloop.stt.transcript import Transcriber
from voiceloop.voice.speech import Synth

DEFAULT_WAV_DIR = Path(__file__).resolve().parent / "data"
DEFAULT_WAVS = ("create_notes.wav", "question.wav", "write_code.wav", "create_notes_espeak.wav")
"""Spoken commands shipped with the tests: two Piper voices' worth of requests and one espeak-ng voice."""

STAGES: tuple[tuple[str, str], ...] = (
    ("vad_end", "end of speech → VAD decision (silence timer + VAD work)"),
    ("stt", "speech to text"),
    ("llm_first_token", "LLM first token (from its request)"),
    ("first_sentence", "first reply sentence ready (from turn start)"),
    ("first_audio", "first reply audio ready (from turn start)"),
    ("total", "whole turn (from turn start)"),
    ("felt", "end of speech → first audio (what you feel)"),
)


def pct(values: list[float], q: float) -> float:
    """The q-th percentile (linear), 0 for no values."""
    return float(np.percentile(values, q)) if values else 0.0


@dataclass(frozen=True)
class Stage:
    """One row of the stage table."""

    key: str
    label: str
    median_ms: float
    p90_ms: float
    n: int

    def to_json(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "median_ms": round(self.median_ms, 1),
            "p90_ms": round(self.p90_ms, 1),
            "n": self.n,
        }


@dataclass(frozen=True)
class TurnTiming:
    """What one replayed turn took, stage by stage (milliseconds)."""

    wav: str
    transcript: str
    reply: str
    ms: dict[str, float]
    raw_ms: float
    """Time inside the raw calls (STT, LLM, voice): the rest of `total` is our orchestration."""
    llm_calls: int
    sentences: int


@dataclass(frozen=True)
class Replay:
    """A recording prepared for a live-like replay."""

    name: str
    utterance: Utterance
    timer_ms: float
    """Audio time from the end of the last voiced frame to the frame on which the segmenter decided."""
    work_ms: float
    """Wall time of that deciding frame's VAD (and smart-turn) work."""
    audio_s: float

    @property
    def vad_end_ms(self) -> float:
        """End of speech to the end-of-utterance decision, as a live microphone would see it."""
        return self.timer_ms + self.work_ms


def prepare(path: Path, cfg: Config) -> Replay:
    """Feed the recording, then the silence a live microphone keeps delivering, through the real segmenter."""
    samples = read_audio(path)
    wait_ms = cfg.vad.smart_turn_max_silence_ms if cfg.vad.smart_turn else cfg.vad.silence_ms
    padded = np.concatenate([samples, np.zeros(ms_to_samples(wait_ms + 500), dtype=np.int16)])
    seg = build_segmenter(cfg.vad)
    frame = seg.frame_samples
    utts: list[Utterance] = []
    decided_ms = work_ms = 0.0
    for i in range(len(padded) // frame):
        t = time.perf_counter()
        utt = seg.feed(padded[i * frame : (i + 1) * frame])
        if utt is not None:
            utts.append(utt)
            decided_ms = (i + 1) * cfg.vad.frame_ms
            work_ms = (time.perf_counter() - t) * 1000
    if not utts:
        raise AudioFormatError(f"{path.name}: no speech found; the benchmark needs spoken requests")
    joined = join_utterances(utts, padded)
    return Replay(path.name, joined, decided_ms - utts[-1].end_s * 1000, work_ms, len(samples) / 16000)


def find_wavs(folder: Path | None) -> list[Path]:
    """The WAVs to replay: every *.wav in `folder`, or the shipped default set."""
    if folder is None:
        paths = [DEFAULT_WAV_DIR / name for name in DEFAULT_WAVS]
        if not all(p.is_file() for p in paths):
            raise AudioFormatError(f"the default recordings are not in {DEFAULT_WAV_DIR}; pass a folder of WAVs")
        return paths
    if not folder.is_dir():
        raise AudioFormatError(f"{folder}: not a folder of WAV files")
    paths = sorted(folder.glob("*.wav"))
    if not paths:
        raise AudioFormatError(f"{folder}: no .wav files in it")
    return paths


@dataclass(frozen=True)
class Parts:
    """What the benchmark built once (like `listen` does), and how long each took to load."""

    cfg: Config
    transcriber: Transcriber
    llm: LLMClient
    synth: Synth
    loads_ms: dict[str, float] = field(default_factory=dict)


def timed(loads: dict[str, float], key: str, make: Callable[[], Any]) -> Any:
    t = time.perf_counter()
    out = make()
    loads[key] = (time.perf_counter() - t) * 1000
    return out


def build_parts(cfg: Config) -> Parts:
    """Load STT, connect and warm the LLM, load the voice; each timed on its own."""
    from voiceloop.agent.warmup import warm_llm
    from voiceloop.llm.backend import connect
    from voiceloop.stt.engines import build_engine, warm_up
    from voiceloop.voice.engines import load_synth

    loads: dict[str, float] = {}
    transcriber = timed(loads, "stt_load", lambda: build_engine(cfg.stt))
    timed(loads, "stt_first_call", lambda: warm_up(transcriber))
    llm = timed(loads, "llm_connect", lambda: connect(cfg)[0])
    timed(loads, "llm_first_call", lambda: warm_llm(llm, cfg.llm.temperature))
    synth = timed(loads, "tts_load", lambda: load_synth(cfg.tts))
    timed(loads, "tts_first_call", lambda: synth.synth("Ready."))
    return Parts(cfg, transcriber, llm, synth, loads)


def run_turn(parts: Parts, replay: Replay, llm: LLMClient | None = None, early_ms: int = 0) -> TurnTiming:
    """One turn on a fresh Assistant (no history carried between replays), timed from the VAD decision.

    early_ms: replay listen's early start too — transcription and intents begin after early_ms of
    silence, while the rest of the silence timer passes in real time, as a live microphone delivers it.
    """
    import tempfile
    import threading

    from voiceloop.agent.assistant import Assistant
    from voiceloop.agent.sandbox import Sandbox
    from voiceloop.agent.tools import Tools
    from voiceloop.agent.turn import HeadStart
    from voiceloop.voice.speech import SentenceSpeaker

    probe = Probe()
    client = TimedLLM(llm or parts.llm, probe)
    with tempfile.TemporaryDirectory(prefix="voiceloop-bench-") as tmp:
        tools = Tools(client, Sandbox(Path(tmp)), Decline(), parts.cfg.llm.num_predict, parts.cfg.answer)
        speaker = SentenceSpeaker(TimedSynth(parts.synth, probe), None)  # synthesized, never played
        assistant = Assistant(parts.cfg, TimedTranscriber(parts.transcriber, probe), client, tools, speaker)
        heads: list[HeadStart] = []
        if early_ms:
            early = threading.Thread(target=lambda: heads.append(assistant.head_start(replay.utterance.samples)))
            early.start()
            time.sleep(max(0, replay.timer_ms - early_ms) / 1000)  # the rest of the wait for the end of turn
        t0 = time.perf_counter()  # the silence timer ends here: waiting for the early work counts
        probe.start(t0)
        if early_ms:
            early.join()
        turn = assistant.handle(replay.utterance, head=heads[0] if heads else None)
        end = time.perf_counter()

    def since(at: float | None) -> float:
        return ((at if at is not None else end) - t0) * 1000

    ms = {
        "vad_end": replay.vad_end_ms,
        "stt": probe.stt_s * 1000,
        "llm_first_token": (probe.first_token_s or 0.0) * 1000,
        "first_sentence": since(probe.first_sentence_at),
        "first_audio": since(probe.first_audio_at),
        "total": (end - t0) * 1000,
    }
    ms["felt"] = ms["vad_end"] + ms["first_audio"]
    raw = (probe.stt_s + probe.llm_s + probe.synth_s) * 1000
    return TurnTiming(replay.name, turn.transcript, turn.reply, ms, raw, probe.llm_calls, probe.sentences)


def stage_table(turns: list[TurnTiming]) -> tuple[Stage, ...]:
    rows = []
    for key, label in STAGES:
        values = [t.ms[key] for t in turns if key in t.ms]
        if key == "llm_first_token":
            values = [v for t, v in zip(turns, values, strict=True) if t.llm_calls]  # no call, no first token
        rows.append(Stage(key, label, statistics.median(values) if values else 0.0, pct(values, 90), len(values)))
    return tuple(rows)
