"""`voiceloop bench` end to end: run everything, then one report as rich tables or JSON."""

from __future__ import annotations

import os
import platform
import statistics
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from voiceloop.agent.stateless import stateless_prompts
from voiceloop.config import Config
from voiceloop.devtools.bench import Stage, TurnTiming, build_parts, find_wavs, prepare, run_turn, stage_table
from voiceloop.devtools.bench_compare import (
    EngineRun,
    SpeechComparison,
    SttComparison,
    compare_speech,
    compare_stt,
)
from voiceloop.devtools.bench_costs import (
    IdleCost,
    PromptWarmth,
    Startup,
    compare_prompt_warmth,
    measure_idle,
    measure_startup,
)
from voiceloop.llm.cache import CacheStats, CachingLLM

EARLY_DEFAULT_MS = 250  # early start is measured even when config turns it off

Say = Callable[[str], None]


@dataclass(frozen=True)
class Goal:
    """One side-by-side result: a value, the goal it is held to, and whether this run met it."""

    key: str
    label: str
    value: float
    unit: str
    goal: str
    met: bool | None
    """None where there is nothing to compare (e.g. an engine not installed)."""
    detail: str

    def to_json(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "value": round(self.value, 4),
            "unit": self.unit,
            "goal": self.goal,
            "met": self.met,
            "detail": self.detail,
        }


@dataclass(frozen=True)
class BenchReport:
    """Everything one `voiceloop bench` run measured."""

    machine: str
    runs: int
    wavs: tuple[str, ...]
    stages: tuple[Stage, ...]
    loads_ms: dict[str, float]
    goals: tuple[Goal, ...]
    engines: tuple[EngineRun, ...]
    engines_missing: dict[str, str]
    cache: CacheStats
    speech: tuple[SpeechComparison, ...]
    turns: tuple[TurnTiming, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "machine": self.machine,
            "runs": self.runs,
            "wavs": list(self.wavs),
            "stages_ms": {s.key: s.to_json() for s in self.stages},
            "loads_ms": {k: round(v, 1) for k, v in self.loads_ms.items()},
            "comparisons": {g.key: g.to_json() for g in self.goals},
            "stt_engines": {e.name: e.to_json() for e in self.engines},
            "stt_engines_missing": self.engines_missing,
            "cache": self.cache.to_json(),
            "speech": [v.to_json() for v in self.speech],
            "turns": [
                {
                    "wav": t.wav,
                    "transcript": t.transcript,
                    "reply": t.reply,
                    "llm_calls": t.llm_calls,
                    "sentences": t.sentences,
                    "raw_ms": round(t.raw_ms, 1),
                    "ms": {k: round(v, 1) for k, v in t.ms.items()},
                }
                for t in self.turns
            ],
        }


def machine() -> str:
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return f"{platform.machine()}, {os.cpu_count()} cores, load average {load:.2f} at start"


def run_bench(
    cfg: Config,
    wav_dir: Path | None,
    runs: int,
    say: Say,
    config_path: Path | None = None,
    model: str | None = None,
    idle_s: float = 4.0,
    compare: bool = True,
) -> BenchReport:
    """Load once, replay every WAV `runs` times, then (unless compare is False: the stages alone, a quick
    check) the side-by-side comparisons."""
    where = machine()
    wavs = find_wavs(wav_dir)
    replays = [prepare(p, cfg) for p in wavs]
    say("loading speech to text, the LLM and the voice")
    parts = build_parts(cfg)
    turns: list[TurnTiming] = []
    first_cache: CachingLLM | None = None
    for run in range(runs):
        # every run gets its own empty cache, as a fresh `listen` would: these are first-time answers
        cache = CachingLLM(parts.llm, stateless_prompts(), max(1, cfg.llm.cache_entries))
        first_cache = first_cache or cache
        for replay in replays:
            say(f"run {run + 1}/{runs}: {replay.name}")
            turns.append(run_turn(parts, replay, cache))
    assert first_cache is not None
    if not compare:
        names, stages, stats = tuple(r.name for r in replays), stage_table(turns), first_cache.stats()
        return BenchReport(where, runs, names, stages, parts.loads_ms, (), (), {}, stats, (), tuple(turns))
    say("the same requests again, answered from the first run's cache where the rule allows")
    repeats = [run_turn(parts, replay, first_cache) for replay in replays]
    early_ms = cfg.vad.early_start_ms or EARLY_DEFAULT_MS
    say(f"the same requests with and without early start ({early_ms} ms into the silence), in pairs")
    plain: list[TurnTiming] = []
    early: list[TurnTiming] = []
    for run in range(runs):
        for replay in replays:  # pairs in alternating order, so neither side always finds a warmer server
            for ms in (0, early_ms) if run % 2 == 0 else (early_ms, 0):
                cache = CachingLLM(parts.llm, stateless_prompts(), max(1, cfg.llm.cache_entries))  # first-time answers
                (early if ms else plain).append(run_turn(parts, replay, cache, ms))
    stt = compare_stt(parts, replays, runs, say)
    speech = compare_speech(parts, runs, say)
    warmth = compare_prompt_warmth(parts, runs, say)
    say(f"idle: {idle_s:.0f} s of a quiet room through the listen loop")
    idle = measure_idle(parts, idle_s)
    idle_plain = measure_idle(parts, idle_s, terminal=False)
    say("start-up: a fresh process building what `voiceloop listen` builds")
    startup = measure_startup(config_path, model)
    goals = _goals(turns[: len(replays)], turns, repeats, stt, speech, (idle, idle_plain), startup, warmth)
    goals += (_early_goal(plain, early, early_ms),)
    return BenchReport(
        where,
        runs,
        tuple(r.name for r in replays),
        stage_table(turns),
        parts.loads_ms,
        goals,
        tuple(stt.engines),
        stt.missing,
        first_cache.stats(),
        tuple(speech),
        tuple(turns),
    )


def _early_goal(turns: list[TurnTiming], early: list[TurnTiming], early_ms: int) -> Goal:
    """End of speech to first audio with listen's early start vs without, on the same WAVs."""
    without = statistics.median(t.ms["felt"] for t in turns)
    with_early = statistics.median(t.ms["felt"] for t in early)
    r = with_early / without if without else 0.0
    detail = f"median {with_early:,.0f} ms vs {without:,.0f} ms; work starts after {early_ms} ms of silence"
    return Goal("early_start", "early start: end of speech → first audio, with vs without", r, "×", "—", None, detail)


def _goals(
    cold: list[TurnTiming],
    turns: list[TurnTiming],
    repeats: list[TurnTiming],
    stt: SttComparison,
    speech: list[SpeechComparison],
    idles: tuple[IdleCost, IdleCost],
    startup: Startup,
    warmth: PromptWarmth,
) -> tuple[Goal, ...]:
    goals = []
    ours = next((e for e in stt.engines if e.name.startswith("ours")), None)
    plain = next((e for e in stt.engines if e.name.startswith("openai-whisper")), None)
    if ours and plain:
        x = plain.total_ms / ours.total_ms
        detail = f"{ours.total_ms:,.0f} ms vs {plain.total_ms:,.0f} ms for the same utterances"
        goals.append(Goal("stt_speedup", "STT: ours vs plain openai-whisper", x, "× faster", "≥ 3×", x >= 3, detail))
    else:
        why = next(iter(stt.missing.values()), "not measured")
        goals.append(Goal("stt_speedup", "STT: ours vs plain openai-whisper", 0.0, "× faster", "≥ 3×", None, why))
    for i, voice in enumerate(speech):
        r = voice.first_ms / voice.whole_ms if voice.whole_ms else 0.0
        detail = f"{voice.first_ms:,.0f} ms vs {voice.whole_ms:,.0f} ms, a {voice.sentences}-sentence answer"
        key, label = "first_vs_whole_audio", f"voice ({voice.voice}): first audio streamed vs whole reply"
        if i:  # the other installed voice, for comparison
            key, label = f"{key}_{voice.voice}", f"other voice ({voice.voice}): first audio streamed vs whole reply"
        goals.append(Goal(key, label, r, "×", "≤ 0.35", r <= 0.35, detail))
    total, raw = sum(t.ms["total"] for t in turns), sum(t.raw_ms for t in turns)
    r = total / raw if raw else 0.0
    detail = f"{total:,.0f} ms of turns, {raw:,.0f} ms inside STT, LLM and voice calls"
    goals.append(Goal("overhead", "pipeline total vs its raw calls", r, "×", "≤ 1.05", r <= 1.05, detail))
    idle, quiet = idles
    detail = (
        f"{idle.cpu_s * 1000:,.0f} ms of CPU in {idle.seconds:.1f} s with the live status line; "
        f"{quiet.percent:.2f} % without a terminal"
    )
    goals.append(
        Goal("idle_cpu", "idle listen loop CPU", idle.percent, "% of a core", "≤ 3 %", idle.percent <= 3, detail)
    )
    detail = (
        f"{startup.in_process_s:.2f} s of it in our code (config, models, voice); "
        f"warm-ups behind the loop done at {startup.warm_s:.2f} s"
    )
    goals.append(Goal("startup", "start to listening", startup.wall_s, "s", "≤ 3 s", startup.wall_s <= 3, detail))
    r = warmth.primed_ms / warmth.cold_ms if warmth.cold_ms else 0.0
    detail = f"{warmth.primed_ms:,.0f} ms vs {warmth.cold_ms:,.0f} ms: what the start-up LLM warm-up saves turn one"
    goals.append(Goal("prompt_warmth", "LLM first token: prompt read at start vs not", r, "×", "—", None, detail))
    cold_total = sum(t.ms["total"] for t in cold)
    again = sum(t.ms["total"] for t in repeats)
    r = again / cold_total if cold_total else 0.0
    detail = f"{again:,.0f} ms vs {cold_total:,.0f} ms for the same {len(repeats)} requests"
    goals.append(Goal("cache_repeat", "repeated request vs first time", r, "×", "—", None, detail))
    tiered = next((e for e in stt.engines if e.calls), None)
    larger = next((e for e in stt.engines if e.name.startswith("faster-whisper")), None)
    if tiered and ours and larger:
        extra = tiered.total_ms - ours.total_ms
        detail = (
            f"{tiered.escalations}/{tiered.calls} escalated; {extra:+,.0f} ms over the small model alone for all "
            f"utterances; one escalation costs ~{statistics.mean(larger.median_ms):,.0f} ms more"
        )
        r = tiered.escalations / tiered.calls
        goals.append(Goal("tiered", "tiered STT: share escalated", r, "", "—", None, detail))
    return tuple(goals)


def render(console: Console, report: BenchReport) -> None:
    """The report as tables: stages, loads, goals, engines."""
    console.print(
        f"[bold]voiceloop bench[/bold] — {report.runs} run(s) of {', '.join(report.wavs)}; {report.machine}",
        highlight=False,
    )
    stages = Table("stage", "median ms", "p90 ms", "n", title="per turn", title_justify="left")
    for s in report.stages:
        stages.add_row(s.label, f"{s.median_ms:,.0f}", f"{s.p90_ms:,.0f}", str(s.n))
    console.print(stages)
    loads = Table("loaded once at start", "ms", title="start-up parts", title_justify="left")
    for key, ms in report.loads_ms.items():
        loads.add_row(key.replace("_", " "), f"{ms:,.0f}")
    console.print(loads)
    goals = Table("side by side", "value", "goal", "", "detail", title="comparisons", title_justify="left")
    for g in report.goals:
        mark = {True: "[green]✓[/green]", False: "[red]✗[/red]", None: ""}[g.met]
        goals.add_row(g.label, f"{g.value:,.2f} {g.unit}".strip(), g.goal, mark, g.detail)
    if report.goals:  # none with --stages-only
        console.print(goals)
    engines = Table("STT engine", "load ms", "ms per utterance", "RTF", title="speech to text", title_justify="left")
    for e in report.engines:
        engines.add_row(
            e.name, f"{e.load_ms:,.0f}" if e.load_ms else "—", f"{statistics.mean(e.median_ms):,.0f}", f"{e.rtf:.3f}"
        )
    for name, why in report.engines_missing.items():
        engines.add_row(name, "—", "not measured", why)  # not installed, or not runnable on this CPU
    if report.engines or report.engines_missing:
        console.print(engines)
    c = report.cache
    console.print(
        f"cache: {c.hits} hits, {c.misses} misses, {c.bypassed} kept away by the rule (chat, history), "
        f"{c.saved_s * 1000:,.0f} ms of LLM time saved",
        highlight=False,
    )
