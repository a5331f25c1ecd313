"""What the person wants: intents (the data that crosses into tools), and spoken file names."""

from __future__ import annotations

import string
from dataclasses import dataclass
from enum import Enum

from voiceloop.agent.spoken import normalize_filename as normalize_filename
from voiceloop.agent.spoken import spoken_names as spoken_names


class Action(str, Enum):
    CREATE_FILE = "create_file"
    WRITE_CODE = "write_code"
    EDIT_FILE = "edit_file"
    SUMMARIZE = "summarize"
    GENERAL_CHAT = "general_chat"
    CLARIFY = "clarify"
    """Not enough to act on (a write with no file name, "it" with no file): ask the person."""
    LIST_FILES = "list_files"
    """Say what is in output/ (agent/filecmds; decided from sentence templates, never by the model)."""
    READ_FILE = "read_file"
    """Read a file in output/ aloud."""
    UNDO = "undo"
    """Put back what the last confirmed write replaced (or remove the file it created), after a yes."""


class Via(str, Enum):
    """Which part of the understanding path decided an intent (shown by --json and eval)."""

    FAST = "fast"
    """The deterministic fast path: a common shape, no model call."""
    MODEL = "model"
    """The model, on one part of the request, then grounded in what was said."""


WRITES = (Action.CREATE_FILE, Action.WRITE_CODE, Action.EDIT_FILE)
MODEL_ACTIONS = (*WRITES, Action.SUMMARIZE, Action.GENERAL_CHAT)
"""What the model may answer (its JSON schema's enum comes from here); the rest are decided by our own rules."""
FILE_COMMANDS = (Action.LIST_FILES, Action.READ_FILE, Action.UNDO)
"""Intents kept as data (sentence templates) with one module each in agent/filecmds."""
PROSE = (".txt", ".md")
"""Suffixes of text, not code, files."""


@dataclass(frozen=True)
class Intent:
    """One thing to do, in the order the person asked."""

    action: Action
    filename: str = ""
    """Target file for create_file / write_code / edit_file, or a file to summarize (normalized, relative)."""
    content: str = ""
    """Text to put in the file (create_file) or the text to summarize."""
    request: str = ""
    """What the person asked for, in their words (code to write, question to answer; for clarify: the question;
    for read_file without a filename: the words that named the file, "shopping list")."""
    via: Via = Via.MODEL
    """Which path decided it."""

    def to_json(self) -> dict[str, str]:
        return {
            "action": self.action.value,
            "filename": self.filename,
            "content": self.content,
            "request": self.request,
            "via": self.via.value,
        }


_FENCE = "```"
_FENCE_INFO = string.ascii_letters + string.digits + "_+-"
"""What may follow the opening fence on its line: the language's name ("python", "c++", "objective-c")."""


def strip_fences(text: str) -> str:
    """Remove a Markdown code fence wrapped around an answer, if there is one."""
    text = text.strip()
    if len(text) < 2 * len(_FENCE) or not (text.startswith(_FENCE) and text.endswith(_FENCE)):
        return text
    inner = text[len(_FENCE) : -len(_FENCE)]
    info = len(inner) - len(inner.lstrip(_FENCE_INFO))
    return inner[info:].strip()


class IntentParseError(ValueError):
    """The model's answer is not a valid intent list (message says why, for the retry prompt)."""
