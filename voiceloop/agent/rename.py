"""A new name given at the write prompt: "no, call it report dot md", "name it todo.md", "call it n o t e s dot
t x t". The one parser for typed and spoken answers; the sandbox checks the name like any other."""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import TYPE_CHECKING

from voiceloop.agent.intents import normalize_filename
from voiceloop.agent.understand import shapes
from voiceloop.agent.understand.words import prepare
from voiceloop.errors import SandboxError
from voiceloop.vocabulary import ending

if TYPE_CHECKING:
    from voiceloop.agent.confirm import Confirmer
    from voiceloop.agent.sandbox import Proposal, Sandbox

_NO_NAME = frozenset({"that", "this", "it", "something", "something else", "whatever", "anything"})
MAX_WORDS = 3
"""A name said without a dot ("call it shopping list") has at most this many words; more is no name."""


class Rename(Exception):
    """Raised by a Confirmer when the answer gave the file a new name: nothing is written, and the same
    content is proposed again under `name`, with its own panel and its own yes."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name


def renamed(answer: str) -> str:
    """The new file name in an answer at the write prompt, or "" when it gives none. The name is taken as
    said: "../x.txt" stays "../x.txt", so that the sandbox refuses it."""
    return called(answer) or ""


def called(answer: str) -> str | None:
    """The one parser of "call it X" ("name it", "let's call it", "rename it to", "save it as"), at the write
    prompt and as the answer to a question: the name, "" when the answer has that shape but gives no name
    ("call it that", "don't call it that"), None when it has not."""
    text = prepare(answer.strip())  # "report dot md" -> report.md, "n o t e s dot t x t" -> notes.txt
    m = shapes.find("call_it", text)
    if m is None:
        return None
    if ending(m["_before"], "not"):
        return ""  # "don't call it that" gives no name
    said = m["new"].strip().strip("\"'`")
    first = said.split()[0].strip("\"'`,;!?")
    if "." in first.rstrip("."):  # a name with a dot ends at its word: "report.md please"
        return first.rstrip(".")
    said = said.rstrip(".!?,;")
    if not said or said.lower() in _NO_NAME or len(said.split()) > MAX_WORDS:
        return ""
    return normalize_filename(said)


def with_suffix(name: str, old: str) -> str:
    """name, with the old file's suffix when it was said without one ("call it list" for notes.txt)."""
    return name if PurePosixPath(name).suffix else name + PurePosixPath(old).suffix


def ask_by_name(confirmer: Confirmer, sandbox: Sandbox, proposal: Proposal) -> tuple[bool, str, Proposal]:
    """(yes?, why not, the proposal answered): each new name given at the prompt proposes the same content
    again under it, with its own panel and its own yes. A new name the sandbox refuses writes nothing
    (SandboxError, saying so)."""
    while True:
        try:
            ok, why = confirmer.confirm(proposal)
            return ok, why, proposal
        except Rename as new:
            try:
                proposal = sandbox.propose(new.name, proposal.content)  # the same checks as any name
            except SandboxError as e:
                raise SandboxError(f"I wrote nothing: {e}") from e
