"""`voiceloop eval`: how well a model understands a folder of recorded and typed commands.

Classification only: each case is transcribed (WAVs) and classified with a fresh session memory, and
the actions and file names are compared with the manifest. Nothing is written and nothing is spoken.

"Names not said" counts file names in a transcript or an intent that the case's words (`said`, or the typed
text) and its session did not name: a name borrowed from Whisper's prompt or from another part of the
request. A mishearing of a said name ("whether.py" for weather.py) is a hearing error, not counted here: a
name counts as misheard when at least half of its stem's letters appear, in order, in a said name's stem.
"""

from __future__ import annotations

import re
import time
import tomllib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from voiceloop.agent.classifier import Classification, Classifier
from voiceloop.agent.commands import parse_command
from voiceloop.agent.intents import Action
from voiceloop.agent.memory import Memory
from voiceloop.agent.understand.words import names_in, prepare, squash
from voiceloop.audio.formats import read_audio
from voiceloop.errors import ConfigError, LLMError
from voiceloop.stt.transcript import Transcriber

MANIFEST = "manifest.toml"
KEYS = frozenset({"wav", "said", "voice", "text", "expect", "files", "context", "category", "content"})
"""said, voice: what a WAV says and who said it (for the reader, WER and scripts/make_eval_wavs.py)."""


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
    category: str = ""
    """What kind of request it is (compound, summary, edit, question, ...), for accuracy per kind."""
    content: tuple[str, ...] | None = None
    """Dictated content per action ("" for none); None = not checked."""
    said: str = ""
    """The words of the command: a WAV's `said`, or the typed text ("" = unknown: names are not checked)."""


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
    paths: tuple[str, ...] = ()
    """Which path decided each action: "fast", "model", or "command"."""
    invented: tuple[str, ...] = ()
    """Content proposed for a file that the person never said (must stay empty)."""
    intent_ms: float = 0.0
    """Milliseconds of the intent stage alone (no transcription)."""
    unsaid: tuple[str, ...] = ()
    """File names heard or proposed that the command and its session did not name (must stay empty)."""
    asked: int = 0
    """Parts of the command sent to the model."""
    invalid: int = 0
    """Of those, parts whose first answer was not schema-valid (retried)."""


@dataclass(frozen=True)
class Report:
    model: str
    results: tuple[CaseResult, ...]

    @property
    def correct(self) -> int:
        return sum(r.ok for r in self.results)

    @property
    def names_not_said(self) -> int:
        return sum(len(r.unsaid) for r in self.results)

    @property
    def invalid(self) -> tuple[int, int]:
        """(first answers that were not schema-valid, answers asked of the model), over all cases."""
        return sum(r.invalid for r in self.results), sum(r.asked for r in self.results)

    @property
    def accuracy(self) -> float:
        return self.correct / len(self.results) if self.results else 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "correct": self.correct,
            "total": len(self.results),
            "accuracy": round(self.accuracy, 4),
            "categories": {c: {"correct": ok, "total": n} for c, (ok, n) in by_category(self).items()},
            "invented": sum(len(r.invented) for r in self.results),
            "names_not_said": self.names_not_said,
            "invalid_first_answers": self.invalid[0],
            "model_answers": self.invalid[1],
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
                    "intent_ms": round(r.intent_ms, 1),
                    "category": r.case.category,
                    "paths": list(r.paths),
                    "invented": list(r.invented),
                    "names_not_said": list(r.unsaid),
                    "invalid_first_answers": r.invalid,
                }
                for r in self.results
            ],
        }


def _strings(value: Any, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{where} must be a list of strings")
    return tuple(value)


def load_cases(folder: Path, categories: tuple[str, ...] = ()) -> list[Case]:
    """Read folder/manifest.toml: [[case]] tables with wav or text, expect, and optional files, content,
    context, category, voice; only the given categories, when some are given."""
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
        unknown = set(item) - KEYS
        if unknown:
            raise ConfigError(f"{where}: unknown key {sorted(unknown)[0]}; known: {', '.join(sorted(KEYS))}")
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
        content = _strings(item["content"], f"{where}: content") if "content" in item else None
        if content is not None and len(content) != len(expect):
            raise ConfigError(f"{where}: content needs one text per expected action ('' for none)")
        category = str(item.get("category", "other"))
        said = str(item.get("said", "")) if wav is not None else str(item["text"])
        cases.append(Case(name, wav, str(item.get("text", "")), expect, files, context, category, content, said))
    if not cases:
        raise ConfigError(f"eval: {path} has no [[case]] tables")
    if categories:
        cases = [c for c in cases if c.category in categories]
        if not cases:
            raise ConfigError(f"eval: {path} has no cases of category {', '.join(categories)}")
    return cases


def _matches(case: Case, actions: tuple[str, ...], files: tuple[str, ...], content: tuple[str, ...]) -> bool:
    if len(actions) != len(case.expect):
        return False
    if not all(got in want.split("|") for got, want in zip(actions, case.expect, strict=True)):
        return False
    if case.content is not None and tuple(squash(c) for c in content) != tuple(squash(c) for c in case.content):
        return False
    return case.files is None or files == case.files


def by_category(report: Report) -> dict[str, tuple[int, int]]:
    """category -> (correct, total), in the order categories first appear."""
    out: dict[str, tuple[int, int]] = {}
    for r in report.results:
        ok, n = out.get(r.case.category, (0, 0))
        out[r.case.category] = (ok + r.ok, n + 1)
    return out


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
            stt.hint_files([entry.partition(" ")[2] for entry in case.context])  # as a session hints its files
            heard = stt.transcribe(read_audio(case.wav)).text.strip()
        t1 = time.perf_counter()
        command = parse_command(heard)
        actions: tuple[str, ...]
        files: tuple[str, ...]
        content: tuple[str, ...] = ("",)
        paths: tuple[str, ...] = ("command",)
        asked = invalid = 0
        if command is not None:
            actions, files = (command.kind.value,), ("",)
        else:
            memory = Memory()
            for entry in case.context:
                action, _, filename = entry.partition(" ")
                memory.record(filename, action)
            known = tuple(a.filename for a in memory.actions)
            try:
                decided = classifier.classify(heard, memory.files(), known, model)
            except LLMError as e:  # one slow or failed answer is that case's failure, not the run's
                decided = Classification((), model, 0, str(e))
            actions = tuple(i.action.value for i in decided.intents)
            files = tuple(i.filename for i in decided.intents)
            content = tuple(i.content if i.action is Action.CREATE_FILE else "" for i in decided.intents)
            paths = tuple(i.via.value for i in decided.intents)
            asked, invalid = decided.asked, decided.invalid
        end = time.perf_counter()
        invented = tuple(c for c in content if c and squash(c) not in squash(prepare(heard)))
        ok = _matches(case, actions, files, content) and not invented
        unsaid: tuple[str, ...] = ()
        if case.said:
            session = [entry.partition(" ")[2] for entry in case.context]
            unsaid = names_not_said([*names_in(prepare(heard)), *files], case.said, session)
        ms, intent_ms = (end - t0) * 1000, (end - t1) * 1000
        result = CaseResult(case, heard, actions, files, ok, ms, paths, invented, intent_ms, unsaid, asked, invalid)
        results.append(result)
        if on_result:
            on_result(result)
    return Report(model, tuple(results))


_INITIALS = re.compile(r"[A-Z](?:\.[A-Z])+")
"""Whisper's "D.F." or "U.S." fits the pattern of a file name but is an abbreviation."""


def names_not_said(found: Iterable[str], said: str, session: Iterable[str] = ()) -> tuple[str, ...]:
    """The names in `found` (heard or proposed) that neither the words `said` nor the session named, once each."""
    stems = [_spoken_stem(n) for n in [*names_in(prepare(said)), *session] if n]
    words = squash(said.lower())  # "a new text file called diary": diary.txt was said, its suffix implied
    out: list[str] = []
    for name in found:
        stem = squash(PurePosixPath(name.lower()).stem)
        if not name or _INITIALS.fullmatch(name) or name in out:
            continue
        if len(stem) >= 3 and stem in words:
            continue
        if not any(_misheard(stem, s) for s in stems):
            out.append(name)
    return tuple(out)


def _spoken_stem(name: str) -> str:
    """A name's stem as it is said, in letters: math_utils.py -> "mathunderscoreutils"."""
    stem = PurePosixPath(name.lower()).stem
    return squash(stem.replace("_", " underscore ").replace("-", " dash "))


def _misheard(heard: str, said: str) -> bool:
    """True when at least half of the heard stem's letters appear in order in the said one (or it holds it
    whole: "summarizeminutes" for minutes)."""
    if not heard or said in heard or heard in said:
        return bool(heard)
    row = [0] * (len(said) + 1)  # longest common subsequence, one row at a time
    for a in heard:
        prev = 0
        for j, b in enumerate(said, 1):
            prev, row[j] = row[j], prev + 1 if a == b else max(row[j], row[j - 1])
    return row[-1] * 2 >= len(heard)
