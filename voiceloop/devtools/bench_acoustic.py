"""`voiceloop bench --acoustic`: what a person feels, measured at the devices.

Two real `voiceloop listen` processes run side by side, each on its own private sound server
(acoustic_room.Room): one with the settings under test, one with the baseline. Each spoken WAV is played
into one microphone, then the other (order alternating), while the room records mic feed and speaker on
one clock. Reported per side, median and p90:
  - questions: end of speech (last mic sample above MIC_THRESHOLD) -> first reply sample at the speaker;
  - writes: end of speech -> the confirmation panel on the terminal (pseudo-terminal output times mapped
    onto the recording's clock); the bench answers "n", so nothing is written.
"""

from __future__ import annotations

import dataclasses
import os
import re
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from voiceloop.config import Config
from voiceloop.devtools.acoustic_room import Room, StereoRecorder, first_loud, last_loud
from voiceloop.devtools.acoustic_turns import (
    MILESTONES,
    AcousticTurn,
    Row,
    breakdown,
    early_counts,
    headline_rows,
    milestone_rows,
    missing,
)
from voiceloop.devtools.bench_output import OutputPath, measure_output
from voiceloop.devtools.listen_driver import ListenProcess
from voiceloop.errors import AudioFormatError

DATA = Path(__file__).resolve().parent / "data" / "acoustic"
MIC_THRESHOLD = 300  # |sample| that still counts as speech in the mic feed (about -40 dBFS)
SPEAKER_THRESHOLD = 100  # the null sink is digital silence between replies: anything above is reply audio
TURN_TIMEOUT_S = 60.0
QUIET_S = 0.6  # speaker silence after the turn was printed before the next WAV (covers the echo tail)
TRACE_WAIT_S = 2.0  # listen traces a turn just after printing it (a turn that failed traces nothing)
SETTLE_S = 3.0  # after "listening": the capture stream's first reads and the warm-ups in the background
TURN_DONE = r"You said:|error:|didn't hear|didn't catch"
PANEL = r"─ (Create|Overwrite) "
TIMING_ROW = re.compile(r"^\s*(stt|intent|act|confirm|speak|first_audio|total)\s+([\d,.]+)", re.M)

BASELINE: dict[str, dict[str, object]] = {
    "vad": {
        "silence_ms": 700,
        "smart_turn": False,
        "early_start_ms": 250,
        "early_reply": False,
        "warm_while_talking": False,
    },
    "stt": {"short_window": False},
}
"""The settings shipped before the latency work: what `--acoustic` compares against by default."""

Say = Callable[[str], None]


def baseline_of(cfg: Config) -> Config:
    """cfg with the BASELINE values put back (keys this version does not have are skipped)."""
    for section, values in BASELINE.items():
        sub = getattr(cfg, section)
        known = {f.name for f in dataclasses.fields(sub)}
        sub = dataclasses.replace(sub, **{k: v for k, v in values.items() if k in known})
        cfg = dataclasses.replace(cfg, **{section: sub})
    return cfg


class Side:
    """One listen process with its room and recorder; `llm_host`: its own LLM server (OLLAMA_HOST), if given."""

    def __init__(self, name: str, cfg: Config, llm_host: str | None = None) -> None:
        self.name = name
        self.room = Room()
        self.dir = tempfile.TemporaryDirectory(prefix=f"voiceloop-acoustic-{name}-")
        env = dict(self.room.env, OLLAMA_HOST=llm_host) if llm_host else self.room.env
        try:
            self.recorder = StereoRecorder(self.room)
            self.listen = ListenProcess(cfg, Path(self.dir.name), env)
        except BaseException:
            self.room.close()
            raise

    def turn(self, wav: Path, kind: str) -> AcousticTurn:
        rec, proc = self.recorder, self.listen
        start, mark, before = rec.frames(), proc.mark(), proc.turns()
        player = self.room.play(wav)
        player.wait(timeout=TURN_TIMEOUT_S)
        deadline = time.monotonic() + TURN_TIMEOUT_S
        while time.monotonic() < deadline:
            done = proc.find(TURN_DONE, mark) is not None
            if done and not (abs(rec.clip(max(start, rec.frames() - int(QUIET_S * 16000)))[:, 1]) >= 100).any():
                break
            time.sleep(0.05)
        traced_by = time.monotonic() + TRACE_WAIT_S
        while len(proc.turns()) == len(before) and time.monotonic() < traced_by:
            time.sleep(0.05)
        audio = rec.clip(start)
        end = last_loud(audio[:, 0], MIC_THRESHOLD)
        if end is None:
            raise AudioFormatError(f"{wav.name}: nothing reached the microphone")
        reply = first_loud(audio[end:, 1], SPEAKER_THRESHOLD)
        panel_at = proc.find(PANEL, mark)
        end_at = rec.time_of(start + end)
        reply_ms = None if reply is None else reply / 16.0
        panel_ms = None if panel_at is None else (panel_at - end_at) * 1000
        traced = proc.turns()[len(before) :]
        last = traced[-1] if traced else None  # split at a pause: the last part heard the end of speech
        counts = before[-1] if before else {}
        return AcousticTurn(
            self.name,
            wav.name,
            kind,
            reply_ms,
            panel_ms,
            last["timings_ms"] if last else printed_timings(proc.text_since(mark)),
            " | ".join(m.strip() for m in re.findall(r"You said:([^\n(]*)", proc.text_since(mark))),
            breakdown(end_at, last, reply_ms, panel_ms),
            len(traced),
            last is not None and last["replies_started"] > counts.get("replies_started", 0),
            last is not None and last["replies_taken"] > counts.get("replies_taken", 0),
            last.get("prompt_tokens") if last is not None else None,
            last.get("warmings", 0) - counts.get("warmings", 0) if last is not None else 0,
            last.get("reply", "") if last is not None else "",
        )

    def close(self) -> None:
        for step in (self.listen.close, self.recorder.close, self.room.close, self.dir.cleanup):
            try:
                step()
            except Exception:  # keep closing the rest
                pass


NO_OUTPUT = OutputPath(0.0, 0.0, 0, "")


@dataclass(frozen=True)
class AcousticReport:
    machine: str
    load_after: float
    rows: tuple[Row, ...]
    turns: tuple[AcousticTurn, ...]
    missing: int
    """Turns where the expected reply or panel never came."""
    output: OutputPath = NO_OUTPUT
    """Synthesis done -> first sample at the speaker, the output path alone (listen's player)."""
    load_before: float = 0.0
    hosts: dict[str, str] = dataclasses.field(default_factory=dict)
    """The LLM server each side asked (one each: neither evicts the other's prompt cache)."""

    def milestones(self, kind: str) -> list[Row]:
        return milestone_rows(list(self.turns), kind)

    def to_json(self) -> dict[str, Any]:
        def row(r: Row) -> dict[str, Any]:
            return {
                "label": r.label,
                "new_median_ms": round(r.new[0]),
                "new_p90_ms": round(r.new[1]),
                "baseline_median_ms": round(r.base[0]),
                "baseline_p90_ms": round(r.base[1]),
                "n": r.new[2],
                "ratio": round(r.ratio, 3),
            }

        return {
            "machine": self.machine,
            "load_average_before": round(self.load_before, 2),
            "load_average_after": round(self.load_after, 2),
            "llm_hosts": self.hosts,
            "rows": [row(r) for r in self.rows],
            "milestones": {kind: [row(r) for r in self.milestones(kind)] for kind in ("question", "write")},
            "early_replies": early_counts(list(self.turns)),
            "missing": self.missing,
            "output_path_ms": {
                "median": round(self.output.median_ms, 1),
                "p90": round(self.output.p90_ms, 1),
                "player": self.output.player,
            },
            "turns": [t.to_json() for t in self.turns],
        }


def printed_timings(text: str) -> dict[str, float]:
    """The last timings table `listen` printed in `text`: stage name -> ms."""
    return {m.group(1): float(m.group(2).replace(",", "")) for m in TIMING_ROW.finditer(text)}


def find_acoustic_wavs(folder: Path | None) -> list[tuple[Path, str]]:
    """(wav, kind): files named w_* are writes, the rest questions."""
    root = folder or DATA
    paths = sorted(root.glob("*.wav")) if root.is_dir() else []
    if not paths:
        raise AudioFormatError(f"{root}: no .wav files to speak (questions, and w_*.wav for writes)")
    return [(p, "write" if p.name.startswith("w_") else "question") for p in paths]


def run_acoustic(
    cfg: Config,
    base: Config,
    folder: Path | None,
    runs: int,
    say: Say,
    machine: str,
    hosts: dict[str, str] | None = None,
) -> AcousticReport:
    """hosts: side name -> its own LLM server URL (else both ask the one config names, and evict each other's
    cached prompt on a one-slot server)."""
    wavs = find_acoustic_wavs(folder)
    hosts = hosts or {}
    load_before = os.getloadavg()[0]
    say("starting two private sound servers and two `voiceloop listen` processes (new, baseline)")
    sides: list[Side] = []
    try:
        for name, c in (("new", cfg), ("baseline", base)):
            sides.append(Side(name, c, hosts.get(name)))
        for side in sides:
            side.listen.wait_ready()
        time.sleep(SETTLE_S)
        for side in sides:  # the first turn of a fresh process pays for its lazy start-up: not measured
            say(f"warm-up turn ({side.name})")
            side.turn(wavs[0][0], wavs[0][1])
        turns: list[AcousticTurn] = []
        for run in range(runs):
            for i, (wav, kind) in enumerate(wavs):
                order = sides if (run + i) % 2 == 0 else sides[::-1]
                for side in order:
                    say(f"run {run + 1}/{runs}: {wav.name} -> {side.name}")
                    turns.append(side.turn(wav, kind))
    finally:
        for side in sides:
            side.close()
    say("the output path: synthesis done -> first sample at the speaker")
    output = measure_output(cfg)
    rows = tuple(headline_rows(turns))
    return AcousticReport(
        machine, os.getloadavg()[0], rows, tuple(turns), missing(turns), output, load_before, dict(hosts)
    )


def render_acoustic(console: Any, report: AcousticReport) -> None:
    from rich.table import Table

    title = f"acoustic bench — {report.machine}, load average {report.load_after:.2f} at the end"
    table = Table(
        "measured at the devices", "new median", "new p90", "baseline median", "baseline p90", "new/baseline", "n",
        title=title, title_justify="left",
    )  # fmt: skip
    for r in report.rows:
        table.add_row(
            r.label,
            f"{r.new[0]:,.0f} ms",
            f"{r.new[1]:,.0f} ms",
            f"{r.base[0]:,.0f} ms",
            f"{r.base[1]:,.0f} ms",
            f"{r.ratio:.2f}×",
            str(r.new[2]),
        )
    console.print(table)
    where = Table(
        "ms after the last speech sample (medians)", "questions: new", "baseline", "writes: new", "baseline",
        title="where the time goes", title_justify="left",
    )  # fmt: skip
    questions = {r.label: r for r in report.milestones("question")}
    writes = {r.label: r for r in report.milestones("write")}
    for label in MILESTONES.values():
        cells = [_median(rows.get(label), side) for rows in (questions, writes) for side in (0, 1)]
        where.add_row(label, *cells)
    console.print(where)
    turns = Table("side", "wav", *MILESTONES.values(), "early reply", title="every turn", title_justify="left")
    for t in report.turns:
        ms = [f"{v:,.0f}" if (v := t.milestones.get(k)) is not None else "—" for k in MILESTONES]
        early = ("taken over" if t.taken else "started, not taken") if t.early_reply else "—"
        turns.add_row(t.side, t.wav, *ms, early)
    console.print(turns)
    counts = early_counts(list(report.turns))
    started = ", ".join(f"{s} {c['started']:.0f}/{c['taken']:.0f}" for s, c in counts.items())
    console.print(f"replies started early / taken over: {started}", highlight=False)
    warm = ", ".join(f"{s} {c['warmings']:.0f} warmings, {c['prompt_tokens']:.0f} tokens" for s, c in counts.items())
    console.print(f"while talking / the answer's prompt tokens evaluated (median): {warm}", highlight=False)
    out = report.output
    console.print(
        f"output path ({out.player}): synthesis done → first sample at the speaker {out.median_ms:.0f} ms median, "
        f"{out.p90_ms:.0f} ms p90"
    )
    if report.missing:
        console.print(f"[yellow]{report.missing} turn(s) gave no reply or panel (left out of the numbers)[/yellow]")


def _median(row: Row | None, side: int) -> str:
    stats = (row.new, row.base)[side] if row is not None else (0.0, 0.0, 0)
    return f"{stats[0]:,.0f}" if stats[2] else "—"
