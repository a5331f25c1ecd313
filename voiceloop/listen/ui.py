"""How a turn looks in the terminal."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from voiceloop.agent.tools import Status
from voiceloop.agent.turn import Turn

_STATUS_STYLE = {
    Status.WRITTEN: "green",
    Status.DECLINED: "yellow",
    Status.REFUSED: "red",
    Status.FAILED: "red",
    Status.ANSWERED: "cyan",
}


def print_turn(console: Console, turn: Turn) -> None:
    """Transcript, intents, what happened, the reply and per-stage timings."""
    if turn.transcript:
        conf = f" [dim](avg_logprob {turn.avg_logprob:.2f})[/dim]" if turn.avg_logprob is not None else ""
        console.print(f"[bold]You said:[/bold] {turn.transcript}{conf}", highlight=False)
    for i, intent in enumerate(turn.intents, 1):
        target = f" -> {intent.filename}" if intent.filename else ""
        console.print(f"[bold]Intent {i}:[/bold] {intent.action.value}{target}", highlight=False)
    for a in turn.actions:
        style = _STATUS_STYLE[a.status]
        console.print(f"[{style}]{a.status.value}[/{style}] {a.action.value} {a.target}".rstrip(), highlight=False)
    if turn.error:
        console.print(f"[red]error:[/red] {turn.error}", highlight=False, soft_wrap=True)
    elif turn.reply:
        console.print(f"[bold]Reply:[/bold] {turn.reply}", highlight=False)
    if turn.warning:
        console.print(f"[yellow]warning:[/yellow] {turn.warning}", highlight=False, soft_wrap=True)
    if turn.timings_ms:
        table = Table("stage", "ms", "model", title="timings", title_justify="left", box=None, pad_edge=False)
        for stage, ms in turn.timings_ms.items():
            table.add_row(stage, f"{ms:,.0f}", _stage_model(turn, stage))
        console.print(table)


def _stage_model(turn: Turn, stage: str) -> str:
    """The model(s) behind a timing stage: "act" covers every action of the turn."""
    if stage == "act":
        actions = {k: v for k, v in turn.models.items() if k not in ("intent", "memory", "session")}
        if len(set(actions.values())) == 1:
            return next(iter(actions.values()))
        return ", ".join(f"{k}: {v}" for k, v in actions.items())
    return turn.models.get(stage, "")
