"""The benchmark's costs outside a turn: what listening idle costs, how long start-up takes, and what the
start-up warm-up saves on the first intent call."""

from __future__ import annotations

import io
import json
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from voiceloop.audio.formats import SAMPLE_RATE, wav_bytes
from voiceloop.devtools.bench import Parts
from voiceloop.devtools.bench_compare import Say
from voiceloop.errors import VoiceloopError


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
    from voiceloop.devtools.bench_probes import Decline
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
