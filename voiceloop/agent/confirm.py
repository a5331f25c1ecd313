"""Asking before every write: a Confirmer protocol, the one rule for what counts as a yes (typed or spoken),
and the rich terminal prompt."""

from __future__ import annotations

import contextlib
import sys
from enum import Enum
from pathlib import PurePosixPath
from typing import Protocol, TextIO

from rich.console import Console, Group, RenderableType
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from voiceloop.agent.diff import file_lines
from voiceloop.agent.rename import Rename, renamed, with_suffix
from voiceloop.agent.sandbox import Proposal
from voiceloop.safetext import CONTROL_STYLE, controls, glyphs_of, line, shown

_LEXERS = {
    ".py": "python",
    ".md": "markdown",
    ".json": "json",
    ".js": "javascript",
    ".sh": "bash",
    ".toml": "toml",
    ".yaml": "yaml",
    ".yml": "yaml",
    ".html": "html",
    ".css": "css",
}


FILLERS = frozenset({"uh", "um", "oh", "ah", "well", "so", "please", "just"})
YES_WORDS = frozenset({"y", "yes", "yeah", "yep", "yup", "sure", "ok", "okay", "right", "alright"})
GO_PHRASES = frozenset({"write it", "do it", "go ahead", "save it", "go for it", "do that", "write that"})
"""A yes is yes words ("yeah", "okay yes"), a go phrase ("write it"), or yes words and then one."""
NO_WORDS = frozenset({"n", "no", "nope", "nah", "cancel", "don't", "dont", "not", "stop", "never", "wait", "abort"})


class Said(str, Enum):
    """What an answer to "write it?" was taken to be, typed or spoken."""

    YES = "yes"
    NO = "no"
    UNCLEAR = "unclear"


def answer_to(text: str) -> Said:
    """The one rule for typed and spoken answers: case, punctuation and fillers do not matter; any no word
    anywhere is a no; a yes is the whole answer being yes words and/or one go phrase; anything else is
    unclear (the keyboard takes it as no, the voice prompt asks again)."""
    words = [w.strip("'") for w in "".join(c if "a" <= c <= "z" or c == "'" else " " for c in text.lower()).split()]
    if any(w in NO_WORDS for w in words):
        return Said.NO  # a no is safe to take even half-heard
    kept = [w for w in words if w not in FILLERS]
    rest = kept
    while rest and rest[0] in YES_WORDS:
        rest = rest[1:]
    return Said.YES if kept and (not rest or " ".join(rest) in GO_PHRASES) else Said.UNCLEAR


def decide(answer: str, proposal: Proposal) -> tuple[bool, str]:
    """What an answer at the prompt does, typed or spoken: a new name ("no, call it report.md") raises Rename
    (the caller proposes the same write again under it; an undo cannot be renamed); a yes writes; else no."""
    name = "" if proposal.undo else renamed(answer)
    if name:
        raise Rename(with_suffix(name, proposal.rel))
    return (True, "") if answer_to(answer) is Said.YES else (False, "you said no")


def drop_typed_ahead(stdin: TextIO) -> None:
    """Discard keys typed before now: a `y` pressed before the panel was on screen must not answer it."""
    import termios

    with contextlib.suppress(OSError, ValueError, AttributeError, termios.error):
        termios.tcflush(stdin.fileno(), termios.TCIFLUSH)


class Confirmer(Protocol):
    def confirm(self, proposal: Proposal) -> tuple[bool, str]:
        """(yes?, why not) for one proposed write; raises Rename when the answer gave the file a new name."""
        ...


def question(proposal: Proposal) -> str:
    """What the prompt asks under the panel: a write, or taking the last write back."""
    return "Undo this change? [y/N]" if proposal.undo else "Write this file? [y/N]"


def render(proposal: Proposal) -> Panel:
    """The panel a person sees: the exact final path, then every line of the content, numbered, or the diff;
    then what the file will be (lines, bytes), and a warning when it holds control characters. Nothing in it
    is obeyed by the terminal: a line cannot erase itself, hide, or restyle the panel (safetext)."""
    if proposal.undo:
        verb = f"Undo: {'remove' if proposal.removes else 'restore'} "
    else:
        verb = "Overwrite " if proposal.is_overwrite else "Create "
    body: RenderableType
    if proposal.is_overwrite:
        diff = proposal.diff()
        body = shown(diff.removesuffix("\n"), lexer="diff") if diff else Text("(no change)", style="dim")
    elif not proposal.content:
        body = Text("(empty file)", style="dim")
    else:
        body = numbered(proposal.content, _LEXERS.get(PurePosixPath(proposal.rel).suffix.lower(), "text"))
    return Panel(
        Group(body, *facts(proposal.content)),
        title=line((verb, ""), str(proposal.path)),
        title_align="left",
        border_style="yellow",
    )


def numbered(content: str, lexer: str) -> Table:
    """Each line of content on a row of its own, numbered (a line ends at a newline only, as the diff and the
    line count have it); a long line wraps inside its row."""
    rows = list(shown(content, lexer=lexer).split("\n", allow_blank=True))
    if content.endswith("\n"):
        rows.pop()  # the empty "line" after the last newline
    grid = Table.grid(padding=(0, 1))
    grid.add_column(justify="right", style="dim", no_wrap=True)
    grid.add_column(overflow="fold")
    for number, row in enumerate(rows, 1):
        grid.add_row(str(number), row)
    return grid


def facts(content: str) -> list[Text]:
    """What the written file will be, under the panel: its lines and bytes, whether it ends without a newline,
    and (in bold red) how many control characters it holds and how they are shown."""
    n = len(file_lines(content))
    size = len(content.encode("utf-8", "surrogatepass"))
    ending = ", no newline at the end" if content and not content.endswith("\n") else ""
    out = [Text(f"{n} line{'' if n == 1 else 's'}, {size} bytes{ending}", style="dim")]
    count = controls(content)
    if count:
        warn = Text(f"contains {count} control character{'' if count == 1 else 's'} (shown as", style="bold red")
        for glyph in glyphs_of(content):
            warn.append(" ").append(glyph, style=CONTROL_STYLE)
        out.append(warn.append("): a terminal would obey them, not show them; look before you say yes"))
    return out


class TerminalConfirmer:
    """Shows the panel and asks "Write this file? [y/N]". Only a yes (answer_to) typed after the panel is on
    screen writes; "call it <name>" asks again under that name (Rename); no terminal means no."""

    def __init__(self, console: Console, stdin: TextIO | None = None) -> None:
        self.console = console
        self.stdin = stdin or sys.stdin

    def confirm(self, proposal: Proposal) -> tuple[bool, str]:
        self.console.print(render(proposal))
        try:
            interactive = self.stdin.isatty()
        except (AttributeError, ValueError):
            interactive = False
        if not interactive:
            return False, "no terminal to ask on (stdin is not a TTY), so nothing was written"
        self.console.file.flush()
        drop_typed_ahead(self.stdin)  # after the panel, before the question: keys typed from now on answer
        self.console.print(Text(f"{question(proposal)} ", style="bold"), end="")
        self.console.file.flush()
        try:
            answer = self.stdin.readline()
        except (OSError, ValueError):
            answer = ""  # Ctrl-C is not caught: it stops voiceloop, and nothing was written
        return decide(answer, proposal)
