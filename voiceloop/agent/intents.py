"""What the person wants: intents (the data that crosses into tools), and spoken file names."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum

from voiceloop.agent.names import canonical
from voiceloop.vocabulary import table


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


_EXT_WORDS = table("extensions")
"""An extension as said -> as written ("jason" -> "json"; vocabulary.yaml)."""
_FENCE = re.compile(r"^\s*```[a-zA-Z0-9_+-]*\s*\n?(.*?)\n?\s*```\s*$", re.S)


def normalize_filename(spoken: str) -> str:
    """Spoken or typed file names -> a plain relative name: "math underscore utils dot p y" -> math_utils.py."""
    s = canonical(spoken).strip().strip("\"'`").strip()
    s = re.sub(r"^(?:a |the )?(?:file )?(?:called |named )", "", s, flags=re.I)
    words = f" {s} "
    for spoken_word, symbol in (("underscore", "_"), ("dash|hyphen", "-"), ("slash", "/")):
        words = re.sub(rf"\s+(?:{spoken_word})\s+", symbol, words, flags=re.I)
    match = re.search(r"\s+dot\s+(.+?)\s*$", words, flags=re.I)
    if match:
        ext = match.group(1).lower().strip()
        words = words[: match.start()] + "." + _EXT_WORDS.get(ext, ext.replace(" ", ""))
    return re.sub(r"\s+", "_", words.strip()).rstrip(".")


_EXT_ALTERNATIVES = "|".join(re.escape(k).replace(r"\ ", r"\s+") for k in sorted(_EXT_WORDS, key=len, reverse=True))
_SPOKEN_NAME = re.compile(
    rf"\b\w+(?:\s+(?:underscore|dash|hyphen|slash)\s+\w+)*\s+dot\s+(?:{_EXT_ALTERNATIVES})\b", re.I
)


def spoken_names(text: str) -> str:
    """Write spoken file names inside a sentence as names: "summarize notes dot txt" -> "summarize notes.txt".

    Small models copy "notes dot txt" half-converted ("notes.dot.txt"); they get the name right when the
    sentence already holds it. Only "<words> dot <known extension>" and "a underscore b" are rewritten.
    """
    text = _SPOKEN_NAME.sub(lambda m: normalize_filename(m.group(0)), text)
    return re.sub(r"(\w)\s+underscore\s+(\w)", r"\1_\2", text, flags=re.I)


def strip_fences(text: str) -> str:
    """Remove a Markdown code fence wrapped around an answer, if there is one."""
    m = _FENCE.match(text.strip())
    return m.group(1) if m else text.strip()


class IntentParseError(ValueError):
    """The model's answer is not a valid intent list (message says why, for the retry prompt)."""
