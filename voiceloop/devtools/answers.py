"""`voiceloop eval-answers`: are the spoken answers ones a person wants to hear?

Each case is one question, or a few said in a row (follow-ups that need the turn before, "tell me
more"), typed as people say them. Every turn goes through the real answer path of a fresh session
(memory, the sentence budget, the repetition watcher, "tell me more"); the intent call is skipped,
since `voiceloop eval` measures that. The last answer is scored: its length in sentences, whether it
loops (heard by the person, or caught and stopped by the watcher), and whether the short reference
fact is in it. Nothing is written and nothing is spoken.
"""

from __future__ import annotations

import re
import statistics
import time
import tomllib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from voiceloop.agent.assistant import Assistant
from voiceloop.agent.classifier import Classification
from voiceloop.agent.commands import parse_command
from voiceloop.agent.intents import Action, Intent
from voiceloop.config import Config
from voiceloop.errors import ConfigError
from voiceloop.llm.ollama import LLMClient
from voiceloop.llm.repetition import find_loop
from voiceloop.voice.budget import LOOP_NOTE, Cut, split_said

MANIFEST = "manifest.toml"
KINDS = ("general", "coding", "follow-up", "story")


@dataclass(frozen=True)
class AnswerCase:
    """Questions said in a row; the answer to the last one is scored."""

    kind: str
    """general, coding, follow-up or story."""
    turns: tuple[str, ...]
    fact: tuple[str, ...]
    """The reference fact: the answer must contain one of these (any case, punctuation ignored)."""


@dataclass(frozen=True)
class AnswerResult:
    case: AnswerCase
    answer: str
    """The last answer, as printed and spoken."""
    sentences: int
    loop_heard: bool
    """The answer as said repeats itself (the watcher missed it)."""
    loop_caught: bool
    """The watcher stopped the stream because it was repeating (the person heard a short note instead)."""
    fact: bool
    cut: str
    """Why the answer ended: done, budget, run_on, loop ("" for a reply that was no answer)."""
    ms: float
    """Milliseconds for all the case's turns."""


@dataclass(frozen=True)
class AnswerReport:
    model: str
    budget: int
    results: tuple[AnswerResult, ...]

    @property
    def facts(self) -> int:
        return sum(r.fact for r in self.results)

    @property
    def loops_heard(self) -> int:
        return sum(r.loop_heard for r in self.results)

    @property
    def loops_caught(self) -> int:
        return sum(r.loop_caught for r in self.results)

    @property
    def median_sentences(self) -> float:
        return statistics.median(r.sentences for r in self.results) if self.results else 0.0

    @property
    def within_budget(self) -> int:
        return sum(r.sentences <= self.budget for r in self.results)

    def to_json(self) -> dict[str, Any]:
        n = len(self.results)
        return {
            "model": self.model,
            "cases": n,
            "budget_sentences": self.budget,
            "fact_present": self.facts,
            "fact_rate": round(self.facts / n, 4) if n else 0.0,
            "loops_heard": self.loops_heard,
            "loops_caught": self.loops_caught,
            "median_sentences": self.median_sentences,
            "within_budget": self.within_budget,
            "results": [
                {
                    "kind": r.case.kind,
                    "turns": list(r.case.turns),
                    "fact": list(r.case.fact),
                    "answer": r.answer,
                    "sentences": r.sentences,
                    "fact_present": r.fact,
                    "loop_heard": r.loop_heard,
                    "loop_caught": r.loop_caught,
                    "cut": r.cut,
                    "ms": round(r.ms, 1),
                }
                for r in self.results
            ],
        }


def _strings(value: Any, where: str) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not value or not all(isinstance(v, str) and v.strip() for v in value):
        raise ConfigError(f"{where} must be a string or a list of non-empty strings")
    return tuple(value)


def load_answer_cases(folder: Path) -> list[AnswerCase]:
    """Read folder/manifest.toml: [[case]] tables with kind, ask (a string, or a list said in a row), fact."""
    path = folder / MANIFEST
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as e:
        raise ConfigError(f"eval-answers: {path} not found; a folder of questions needs a {MANIFEST}") from e
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as e:
        raise ConfigError(f"eval-answers: cannot read {path}: {e}") from e
    cases = []
    for n, item in enumerate(raw.get("case", []), 1):
        where = f"eval-answers: {path} case {n}"
        unknown = set(item) - {"kind", "ask", "fact"}
        if unknown:
            raise ConfigError(f"{where}: unknown key {sorted(unknown)[0]}; known: kind, ask, fact")
        kind = item.get("kind", "general")
        if kind not in KINDS:
            raise ConfigError(f"{where}: kind must be one of {', '.join(KINDS)}, got {kind!r}")
        turns = _strings(item.get("ask"), f"{where}: ask")
        cases.append(AnswerCase(kind, turns, _strings(item.get("fact"), f"{where}: fact")))
    if not cases:
        raise ConfigError(f"eval-answers: {path} has no [[case]] tables")
    return cases


def _plain(text: str) -> str:
    return " ".join(re.sub(r"[^a-z0-9+\[\]:.()_ -]+", " ", text.lower()).split())


def has_fact(answer: str, fact: tuple[str, ...]) -> bool:
    """True if any of the fact's forms is in the answer (lower case, punctuation that is not code ignored)."""
    plain = _plain(answer)
    return any(_plain(f) in plain for f in fact)


def run_answers(
    cases: list[AnswerCase],
    session: Callable[[], Assistant],
    on_result: Callable[[AnswerResult], None] | None = None,
) -> AnswerReport:
    """Every case in a fresh session (session() builds one); returns the scores of the last answers."""
    results = []
    model = ""
    budget = 0
    for case in cases:
        assistant = session()
        model, budget = assistant.model_for(Action.GENERAL_CHAT), assistant.cfg.answer.sentences
        t0 = time.perf_counter()
        for said in case.turns:
            ask = Classification((Intent(Action.GENERAL_CHAT, request=said),), model, 0)
            turn = assistant.handle_text(said, decided=None if parse_command(said) else ask)
        cut = next((a.cut.value for a in turn.actions if a.cut is not None), "")
        answer = turn.reply
        result = AnswerResult(
            case,
            answer,
            len(split_said(answer.removesuffix(LOOP_NOTE))),  # the note is not part of the answer
            find_loop(answer) is not None,
            cut == Cut.LOOP.value,
            has_fact(answer, case.fact),
            cut,
            (time.perf_counter() - t0) * 1000,
        )
        results.append(result)
        if on_result:
            on_result(result)
    return AnswerReport(model, budget, tuple(results))


def print_answers(console: Console, report: AnswerReport) -> None:
    """One row per case, then the summary lines."""
    table = Table("", "kind", "asked", "answer", "sent.", "loop", title=f"eval-answers: {report.model}")
    for r in report.results:
        loop = "heard" if r.loop_heard else ("caught" if r.loop_caught else "")
        mark = "[green]✓[/green]" if r.fact else "[red]✗[/red]"
        asked = " / ".join(r.case.turns)
        table.add_row(mark, r.case.kind, escape(asked), escape(r.answer), str(r.sentences), loop)
    console.print(table)
    n = len(report.results)
    console.print(
        f"model {report.model}: reference fact present {report.facts}/{n} = {report.facts / max(n, 1):.0%}; "
        f"loops heard {report.loops_heard}, caught and stopped {report.loops_caught}; "
        f"median {report.median_sentences:g} sentences (budget {report.budget}), "
        f"{report.within_budget}/{n} within budget",
        highlight=False,
    )


class _TypedOnly:
    """eval-answers' questions are typed: nothing is transcribed."""

    name = "typed"

    def hint_files(self, files: Sequence[str]) -> None:
        pass

    def transcribe(self, samples: Any) -> Any:
        raise ConfigError("eval-answers takes typed questions only")


def typed_session(cfg: Config, llm: LLMClient) -> Assistant:
    """A fresh session for typed questions: no Whisper, no voice, and every write declined."""
    from voiceloop.agent.sandbox import Sandbox
    from voiceloop.agent.tools import Tools
    from voiceloop.devtools.bench_probes import Decline
    from voiceloop.voice.speech import SilentSpeaker

    tools = Tools(llm, Sandbox(Path(cfg.output.dir)), Decline(), cfg.llm.num_predict, cfg.answer)
    return Assistant(cfg, _TypedOnly(), llm, tools, SilentSpeaker())
