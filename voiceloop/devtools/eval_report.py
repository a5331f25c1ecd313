"""`voiceloop eval` on screen: one row per case, then accuracy per category and which path decided."""

from __future__ import annotations

import statistics
from collections import Counter

from rich.console import Console
from rich.table import Table

from voiceloop.devtools.evaluate import Report, by_category


def print_eval(console: Console, report: Report) -> None:
    """The cases, accuracy per category, the path split with its intent-stage median, and the total."""
    table = Table("", "case", "heard", "expected", "got", "path", "ms", title=f"eval: {report.model}")
    for r in report.results:
        files = r.case.files or ("",) * len(r.case.expect)
        want = ", ".join(f"{a} {f}".strip() for a, f in zip(r.case.expect, files, strict=True))
        got = ", ".join(f"{a} {f}".strip() for a, f in zip(r.actions, r.files, strict=True))
        if r.invented:
            got += f" [red](invented: {'; '.join(r.invented)})[/red]"
        if r.unsaid:
            got += f" [red](names not said: {', '.join(r.unsaid)})[/red]"
        mark = "[green]✓[/green]" if r.ok else "[red]✗[/red]"
        heard = "" if r.case.wav is None else r.heard
        table.add_row(mark, r.case.name, heard, want, got, ",".join(r.paths), f"{r.ms:,.0f}")
    console.print(table)
    kinds = Table("category", "correct", "total", "accuracy", title="per category", title_justify="left")
    for category, (ok, n) in by_category(report).items():
        kinds.add_row(category, str(ok), str(n), f"{ok / n:.0%}")
    spoken = [r for r in report.results if r.case.wav is not None]
    if spoken:
        ok = sum(r.ok for r in spoken)
        kinds.add_row("[dim](all spoken)[/dim]", str(ok), str(len(spoken)), f"{ok / len(spoken):.0%}")
    bad, asked = report.invalid
    if asked:  # how often constrained output still failed; each one cost a retry
        kinds.add_row("[dim](invalid first answers)[/dim]", str(bad), str(asked), f"{bad / asked:.0%}")
    console.print(kinds)
    console.print(path_line(report), highlight=False)
    invented = sum(len(r.invented) for r in report.results)
    console.print(
        f"accuracy: {report.correct}/{len(report.results)} = {report.accuracy:.0%} (model {report.model}); "
        f"invented file content: {invented}; names not said: {report.names_not_said}; "
        f"invalid first answers: {report.invalid[0]} of {report.invalid[1]} model answers",
        highlight=False,
    )


def path_line(report: Report) -> str:
    """Which path decided how many intents, and the intent stage's median per case by its deciding path."""
    decided = Counter(p for r in report.results for p in r.paths)
    split = ", ".join(f"{path} {n}" for path, n in decided.most_common())
    medians = []
    for path in ("command", "fast", "model"):
        ms = [r.intent_ms for r in report.results if r.paths and _deciding(r.paths) == path]
        if ms:
            medians.append(f"{path} {statistics.median(ms):,.0f} ms ({len(ms)} cases)")
    return f"decided by: {split}. intent stage median: {'; '.join(medians)}"


def _deciding(paths: tuple[str, ...]) -> str:
    """A case that needed the model at all counts as a model case."""
    return "model" if "model" in paths else paths[0]
