"""How a turn looks in the terminal."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table
from rich.text import Text

from voiceloop.agent.tools import Status
from voiceloop.agent.turn import Turn
from voiceloop.safetext import line, shown

_STATUS_STYLE = {
    Status.WRITTEN: "green",
    Status.DECLINED: "yellow",
    Status.REFUSED: "red",
    Status.FAILED: "red",
    Status.ANSWERED: "cyan",
}


def print_turn(console: Console, turn: Turn) -> None:
    """Transcript, intents, what happened, the reply and per-stage timings. Everything in them that came from
    outside (what was heard, file names, file content read back, the model's words) is shown by safetext:
    never taken as markup, its control characters shown, not obeyed."""
    if turn.transcript:
        conf = (f" (avg_logprob {turn.avg_logprob:.2f})", "dim") if turn.avg_logprob is not None else ("", "")
        console.print(line(("You said: ", "bold"), turn.transcript, conf))
    for i, intent in enumerate(turn.intents, 1):
        target = line((" -> ", ""), intent.filename) if intent.filename else ""
        console.print(line((f"Intent {i}: ", "bold"), (intent.action.value, ""), target))
    for a in turn.actions:
        where = f" {a.target}" if a.target else ""
        console.print(line((a.status.value, _STATUS_STYLE[a.status]), (f" {a.action.value}", ""), where))
    if turn.error:
        console.print(line(("error: ", "red"), turn.error), soft_wrap=True)
    elif turn.reply:
        console.print(Text.assemble(("Reply:", "bold"), " ", shown(turn.reply)))  # the space unstyled, as before
    if turn.warning:
        console.print(line(("warning: ", "yellow"), turn.warning), soft_wrap=True)
    if turn.timings_ms:
        table = Table("stage", "ms", "model", title="timings", title_justify="left", box=None, pad_edge=False)
        for stage, ms in turn.timings_ms.items():
            table.add_row(stage, f"{ms:,.0f}", shown(_stage_model(turn, stage), one_line=True))
        console.print(table)


def heard_line(text: str, after: str) -> Text:
    """ "You said: <what was heard> — <after>" (a stop word, a yes/no), the transcript shown safely."""
    return line(("You said: ", "bold"), text, (f" — {after}", ""))


def error_line(error: object, after: str = "") -> Text:
    """ "error: <message><after>", the message (which may name files, paths, devices) shown safely."""
    return line(("error: ", "red"), str(error), (after, ""))


def _stage_model(turn: Turn, stage: str) -> str:
    """The model(s) behind a timing stage: "act" covers every action of the turn."""
    if stage == "act":
        actions = {k: v for k, v in turn.models.items() if k not in ("intent", "memory", "session")}
        if len(set(actions.values())) == 1:
            return next(iter(actions.values()))
        return ", ".join(f"{k}: {v}" for k, v in actions.items())
    return turn.models.get(stage, "")
