"""`voiceloop eval`: how well a model understands a folder of recorded and typed commands.

Classification only: each case is transcribed (WAVs) and classified with a fresh session memory, and
the actions and file names are compared with the manifest. Nothing is written and nothing is spoken.
"""

from __future__ import annotations

import time
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from voiceloop.agent.classifier import Classifier
from voiceloop.agent.commands import parse_command
from voiceloop.agent.memory import Memory
from voiceloop.audio.formats import read_audio
from voiceloop.errors import ConfigError
from voiceloop.stt.engines import Transcriber

MANIFEST = "manifest.toml"


@dataclass(frozen=True)
class Case:
    """One command and what should come of it."""

    name: str
    """The WAV's file name, or the typed text."""
    wav: Path | None
    text: str
    """The typed command ("" for a WAV)."""
    expect: tuple[str, ...]
    """Actions in order; "edit_file|write_code" accepts either."""
    files: tuple[str, ...] | None
    """File name per action ("" for none); None = not checked."""
    context: tuple[str, ...] = ()
    """Files the session touched before, oldest first, as "action filename"."""


@dataclass(frozen=True)
class CaseResult:
    case: Case
    heard: str
    """What was classified: the transcript or the typed text."""
    actions: tuple[str, ...]
    files: tuple[str, ...]
    ok: bool
    ms: float
    """Milliseconds to transcribe and classify."""


@dataclass(frozen=True)
class Report:
    model: str
    results: tuple[CaseResult, ...]

    @property
    def correct(self) -> int:
        return sum(r.ok for r in self.results)

    @property
    def accuracy(self) -> float:
        return self.correct / len(self.results) if self.results else 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "correct": self.correct,
            "total": len(self.results),
            "accuracy": round(self.accuracy, 4),
            "cases": [
                {
                    "name": r.case.name,
                    "heard": r.heard,
                    "expected_actions": list(r.case.expect),
                    "expected_files": list(r.case.files) if r.case.files is not None else None,
                    "actions": list(r.actions),
                    "files": list(r.files),
                    "ok": r.ok,
                    "ms": round(r.ms, 1),
                }
                for r in self.results
            ],
        }


def _strings(value: Any, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{where} must be a list of strings")
    return tuple(value)


def load_cases(folder: Path) -> list[Case]:
    """Read folder/manifest.toml: [[case]] tables with wav or text, expect, and optional files, context."""
    path = folder / MANIFEST
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as e:
        raise ConfigError(f"eval: {path} not found; a folder to evaluate needs a {MANIFEST}") from e
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as e:
        raise ConfigError(f"eval: cannot read {path}: {e}") from e
    cases = []
    for n, item in enumerate(raw.get("case", []), 1):
        where = f"eval: {path} case {n}"
        unknown = set(item) - {"wav", "text", "expect", "files", "context"}
        if unknown:
            raise ConfigError(f"{where}: unknown key {sorted(unknown)[0]}; known: wav, text, expect, files, context")
        if ("wav" in item) == ("text" in item):
            raise ConfigError(f"{where}: give exactly one of wav or text")
        expect = _strings(item.get("expect"), f"{where}: expect")
        files = _strings(item["files"], f"{where}: files") if "files" in item else None
        if files is not None and len(files) != len(expect):
            raise ConfigError(f"{where}: files needs one name per expected action ('' for none)")
        wav = folder / str(item["wav"]) if "wav" in item else None
        if wav is not None and not wav.is_file():
            raise ConfigError(f"{where}: no file {wav}")
        name = str(item.get("wav") or item.get("text"))
        context = _strings(item.get("context", []), f"{where}: context")
        cases.append(Case(name, wav, str(item.get("text", "")), expect, files, context))
    if not cases:
        raise ConfigError(f"eval: {path} has no [[case]] tables")
    return cases


def _matches(case: Case, actions: tuple[str, ...], files: tuple[str, ...]) -> bool:
    if len(actions) != len(case.expect):
        return False
    if not all(got in want.split("|") for got, want in zip(actions, case.expect, strict=True)):
        return False
    return case.files is None or files == case.files


def run_eval(
    cases: list[Case],
    classifier: Classifier,
    model: str,
    transcriber: Callable[[], Transcriber],
    on_result: Callable[[CaseResult], None] | None = None,
) -> Report:
    """Classify every case; transcriber() is called once, and only if a case is a WAV."""
    stt: Transcriber | None = None
    results = []
    for case in cases:
        t0 = time.perf_counter()
        heard = case.text
        if case.wav is not None:
            stt = stt or transcriber()
            heard = stt.transcribe(read_audio(case.wav)).text.strip()
        command = parse_command(heard)
        actions: tuple[str, ...]
        files: tuple[str, ...]
        if command is not None:
            actions, files = (command.kind.value,), ("",)
        else:
            memory = Memory()
            for entry in case.context:
                action, _, filename = entry.partition(" ")
                memory.record(filename, action)
            known = tuple(a.filename for a in memory.actions)
            decided = classifier.classify(heard, memory.files(), known, model)
            actions = tuple(i.action.value for i in decided.intents)
            files = tuple(i.filename for i in decided.intents)
        ms = (time.perf_counter() - t0) * 1000
        result = CaseResult(case, heard, actions, files, _matches(case, actions, files), ms)
        results.append(result)
        if on_result:
            on_result(result)
    return Report(model, tuple(results))


def print_eval(console: Console, report: Report) -> None:
    """One row per case, then the accuracy line."""
    table = Table("", "case", "heard", "expected", "got", "ms", title=f"eval: {report.model}", title_justify="left")
    for r in report.results:
        want = ", ".join(
            f"{a} {f}".strip() for a, f in zip(r.case.expect, r.case.files or ("",) * len(r.case.expect), strict=True)
        )
        got = ", ".join(f"{a} {f}".strip() for a, f in zip(r.actions, r.files, strict=True))
        mark = "[green]✓[/green]" if r.ok else "[red]✗[/red]"
        table.add_row(mark, r.case.name, "" if r.case.wav is None else r.heard, want, got, f"{r.ms:,.0f}")
    console.print(table)
    console.print(
        f"accuracy: {report.correct}/{len(report.results)} = {report.accuracy:.0%} (model {report.model})",
        highlight=False,
    )
