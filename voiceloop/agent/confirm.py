"""Asking before every write: a Confirmer protocol and the rich terminal prompt."""

from __future__ import annotations

import sys
from pathlib import PurePosixPath
from typing import Protocol, TextIO

from rich.console import Console, Group
from rich.panel import Panel
from rich.syntax import Syntax
from rich.text import Text

from voiceloop.agent.sandbox import Proposal

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


class Confirmer(Protocol):
    def confirm(self, proposal: Proposal) -> tuple[bool, str]:
        """(yes?, why not) for one proposed write."""
        ...


def render(proposal: Proposal) -> Panel:
    """The panel a person sees: the exact final path, then the content or the diff."""
    title = f"{'Overwrite' if proposal.is_overwrite else 'Create'} {proposal.path}"
    body: Syntax | Text
    if proposal.is_overwrite:
        body = Syntax(proposal.diff() or "(no change)", "diff", theme="ansi_dark", word_wrap=True)
    elif not proposal.content:
        body = Text("(empty file)", style="dim")
    else:
        lexer = _LEXERS.get(PurePosixPath(proposal.rel).suffix.lower(), "text")
        body = Syntax(proposal.content, lexer, theme="ansi_dark", line_numbers=True, word_wrap=True)
    size = len(proposal.content.encode("utf-8", "surrogatepass"))
    return Panel(
        Group(body, Text(f"{size} bytes", style="dim")), title=title, title_align="left", border_style="yellow"
    )


class TerminalConfirmer:
    """Shows the panel and asks "Write this file? [y/N]". Only y/yes writes; no terminal means no."""

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
        self.console.print(Text("Write this file? [y/N] ", style="bold"), end="")
        self.console.file.flush()
        try:
            answer = self.stdin.readline()
        except (OSError, ValueError):
            answer = ""  # Ctrl-C is not caught: it stops voiceloop, and nothing was written
        if answer.strip().lower() in ("y", "yes"):
            return True, ""
        return False, "you said no"
