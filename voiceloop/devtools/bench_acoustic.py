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
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from voiceloop.config import Config
from voiceloop.devtools.acoustic_room import Room, StereoRecorder, first_loud, last_loud
from voiceloop.devtools.bench import pct
from voiceloop.devtools.bench_output import measure_output
from voiceloop.devtools.listen_driver import ListenProcess
from voiceloop.errors import AudioFormatError

DATA = Path(__file__).resolve().parent / "data" / "acoustic"
MIC_THRESHOLD = 300  # |sample| that still counts as speech in the mic feed (about -40 dBFS)
SPEAKER_THRESHOLD = 100  # the null sink is digital silence between replies: anything above is reply audio
TURN_TIMEOUT_S = 60.0
QUIET_S = 0.6  # speaker silence after the turn was printed before the next WAV (covers the echo tail)
SETTLE_S = 3.0  # after "listening": the capture stream's first reads and the warm-ups in the background
TURN_DONE = r"You said:|error:|didn't hear|didn't catch"
PANEL = r"─ (Create|Overwrite) "
TIMING_ROW = re.compile(r"^\s*(stt|intent|act|confirm|speak|first_audio|total)\s+([\d,.]+)", re.M)

BASELINE = {
    "vad": {"silence_ms": 700, "smart_turn": False, "early_start_ms": 250, "early_reply": False},
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


@dataclass(frozen=True)
class AcousticTurn:
    """One WAV spoken to one side."""

    side: str
    wav: str
    kind: str
    """"question" (first reply sample is timed) or "write" (the confirmation panel is timed)."""
    reply_ms: float | None
    """End of speech -> first reply sample at the speaker (None: no reply was heard)."""
    panel_ms: float | None
    """End of speech -> the panel on the terminal (writes; None: no panel)."""
    stages: dict[str, float] = dataclasses.field(default_factory=dict)
    """The turn's own timings as `listen` printed them (stt, intent, act, first_audio, ...)."""
    heard: str = ""
    """What `listen` printed as heard ("You said: ..."), to see a cut-off or a misheard turn."""

    def to_json(self) -> dict[str, Any]:
        def r(v: float | None) -> float | None:
            return None if v is None else round(v, 1)

        return {
            "side": self.side,
            "wav": self.wav,
            "kind": self.kind,
            "reply_ms": r(self.reply_ms),
            "panel_ms": r(self.panel_ms),
            "stages_ms": self.stages,
            "heard": self.heard,
        }


class Side:
    """One listen process with its room and recorder."""

    def __init__(self, name: str, cfg: Config) -> None:
        self.name = name
        self.room = Room()
        self.dir = tempfile.TemporaryDirectory(prefix=f"voiceloop-acoustic-{name}-")
        try:
            self.recorder = StereoRecorder(self.room)
            self.listen = ListenProcess(cfg, Path(self.dir.name), self.room.env)
        except BaseException:
            self.room.close()
            raise

    def turn(self, wav: Path, kind: str) -> AcousticTurn:
        rec, proc = self.recorder, self.listen
        start, mark = rec.frames(), proc.mark()
        player = self.room.play(wav)
        player.wait(timeout=TURN_TIMEOUT_S)
        deadline = time.monotonic() + TURN_TIMEOUT_S
        while time.monotonic() < deadline:
            done = proc.find(TURN_DONE, mark) is not None
            if done and not (abs(rec.clip(max(start, rec.frames() - int(QUIET_S * 16000)))[:, 1]) >= 100).any():
                break
            time.sleep(0.05)
        audio = rec.clip(start)
        end = last_loud(audio[:, 0], MIC_THRESHOLD)
        if end is None:
            raise AudioFormatError(f"{wav.name}: nothing reached the microphone")
        reply = first_loud(audio[end:, 1], SPEAKER_THRESHOLD)
        panel_at = proc.find(PANEL, mark)
        end_at = rec.time_of(start + end)
        return AcousticTurn(
            self.name,
            wav.name,
            kind,
            None if reply is None else reply / 16.0,
            None if panel_at is None else (panel_at - end_at) * 1000,
            printed_timings(proc.text_since(mark)),
            " | ".join(m.strip() for m in re.findall(r"You said:([^\n(]*)", proc.text_since(mark))),
        )

    def close(self) -> None:
        for step in (self.listen.close, self.recorder.close, self.room.close, self.dir.cleanup):
            try:
                step()
            except Exception:  # keep closing the rest
                pass


@dataclass(frozen=True)
class Row:
    """One metric, both sides."""

    label: str
    new: tuple[float, float, int]
    """median, p90, count."""
    base: tuple[float, float, int]

    @property
    def ratio(self) -> float:
        return self.new[0] / self.base[0] if self.base[0] else 0.0


@dataclass(frozen=True)
class AcousticReport:
    machine: str
    load_after: float
    rows: tuple[Row, ...]
    turns: tuple[AcousticTurn, ...]
    missing: int
    """Turns where the expected reply or panel never came."""
    output_ms: tuple[float, float, int] = (0.0, 0.0, 0)
    """Synthesis done -> first sample at the speaker (median, p90, n), the output path alone."""

    def to_json(self) -> dict[str, Any]:
        return {
            "machine": self.machine,
            "load_average_after": round(self.load_after, 2),
            "rows": [
                {
                    "label": r.label,
                    "new_median_ms": round(r.new[0]),
                    "new_p90_ms": round(r.new[1]),
                    "baseline_median_ms": round(r.base[0]),
                    "baseline_p90_ms": round(r.base[1]),
                    "n": r.new[2],
                    "ratio": round(r.ratio, 3),
                }
                for r in self.rows
            ],
            "missing": self.missing,
            "output_path_ms": {"median": round(self.output_ms[0], 1), "p90": round(self.output_ms[1], 1)},
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


def run_acoustic(cfg: Config, base: Config, folder: Path | None, runs: int, say: Say, machine: str) -> AcousticReport:
    wavs = find_acoustic_wavs(folder)
    say("starting two private sound servers and two `voiceloop listen` processes (new, baseline)")
    sides: list[Side] = []
    try:
        for name, c in (("new", cfg), ("baseline", base)):
            sides.append(Side(name, c))
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
    return AcousticReport(machine, os.getloadavg()[0], tuple(_rows(turns)), tuple(turns), _missing(turns), output)


def _stats(values: list[float]) -> tuple[float, float, int]:
    return (statistics.median(values), pct(values, 90), len(values)) if values else (0.0, 0.0, 0)


def _rows(turns: list[AcousticTurn]) -> list[Row]:
    rows = []
    for label, kind, key in (
        ("question: end of speech → first reply sample", "question", "reply_ms"),
        ("write: end of speech → confirmation panel", "write", "panel_ms"),
        ("write: end of speech → first reply sample", "write", "reply_ms"),
    ):
        per = {
            s: [getattr(t, key) for t in turns if t.side == s and t.kind == kind and getattr(t, key) is not None]
            for s in ("new", "baseline")
        }
        if per["new"] or per["baseline"]:
            rows.append(Row(label, _stats(per["new"]), _stats(per["baseline"])))
    return rows


def _missing(turns: list[AcousticTurn]) -> int:
    return sum((t.reply_ms if t.kind == "question" else t.panel_ms) is None for t in turns)


def render_acoustic(console: Any, report: AcousticReport) -> None:
    from rich.table import Table

    table = Table(
        "measured at the devices",
        "new median",
        "new p90",
        "baseline median",
        "baseline p90",
        "new/baseline",
        "n",
        title=f"acoustic bench — {report.machine}, load average {report.load_after:.2f} at the end",
        title_justify="left",
    )
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
    out = report.output_ms
    console.print(
        f"output path: synthesis done → first sample at the speaker {out[0]:.0f} ms median, {out[1]:.0f} ms p90"
    )
    if report.missing:
        console.print(f"[yellow]{report.missing} turn(s) gave no reply or panel (left out of the numbers)[/yellow]")
