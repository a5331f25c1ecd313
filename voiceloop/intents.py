"""What the person wants: the intent schema, the classifier prompt, and local validation."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from enum import Enum
from typing import Any


class Action(str, Enum):
    CREATE_FILE = "create_file"
    WRITE_CODE = "write_code"
    SUMMARIZE = "summarize"
    GENERAL_CHAT = "general_chat"


WRITES = (Action.CREATE_FILE, Action.WRITE_CODE)


@dataclass(frozen=True)
class Intent:
    """One thing to do, in the order the person asked."""

    action: Action
    filename: str = ""
    """Target file for create_file / write_code, or a file to summarize (normalized, relative)."""
    content: str = ""
    """Text to put in the file (create_file) or the text to summarize."""
    request: str = ""
    """What the person asked for, in their words (code to write, question to answer)."""

    def to_json(self) -> dict[str, str]:
        return {
            "action": self.action.value,
            "filename": self.filename,
            "content": self.content,
            "request": self.request,
        }


SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "intents": {
            "type": "array",
            "minItems": 1,
            "maxItems": 5,
            "items": {
                "type": "object",
                "properties": {
                    "action": {"type": "string", "enum": [a.value for a in Action]},
                    "filename": {"type": "string"},
                    "content": {"type": "string"},
                    "request": {"type": "string"},
                },
                "required": ["action", "filename", "content", "request"],
            },
        }
    },
    "required": ["intents"],
}

SYSTEM_PROMPT = """You turn one spoken request into a JSON list of intents. Actions:
- create_file: make a text file. filename = the file name said; content = the text to put in it (write it out in full; "" if none).
- write_code: write source code into a file. filename = the file name said; request = what the code must do.
- summarize: summarize text. content = the text said; or filename = a file to summarize.
- general_chat: anything else (questions, greetings). request = the question.
Several requests in one sentence give several intents, in order. Answer only with JSON.

Examples:
"create a file called notes.txt with a shopping list" ->
{"intents":[{"action":"create_file","filename":"notes.txt","content":"Shopping list:\\n- milk\\n- eggs\\n- bread\\n","request":"a shopping list"}]}
"write a python function that adds two numbers in math_utils.py" ->
{"intents":[{"action":"write_code","filename":"math_utils.py","content":"","request":"a python function that adds two numbers"}]}
"summarize notes.txt" ->
{"intents":[{"action":"summarize","filename":"notes.txt","content":"","request":"summarize notes.txt"}]}
"what is the capital of France" ->
{"intents":[{"action":"general_chat","filename":"","content":"","request":"what is the capital of France"}]}
"make an empty file todo.md and tell me a joke" ->
{"intents":[{"action":"create_file","filename":"todo.md","content":"","request":"an empty file"},{"action":"general_chat","filename":"","content":"","request":"tell me a joke"}]}"""

_EXT_WORDS = {
    "text": "txt",
    "tax": "txt",
    "txt": "txt",
    "t x t": "txt",
    "python": "py",
    "pi": "py",
    "pie": "py",
    "p y": "py",
    "py": "py",
    "markdown": "md",
    "mark down": "md",
    "m d": "md",
    "md": "md",
    "jason": "json",
    "json": "json",
    "j son": "json",
    "javascript": "js",
    "j s": "js",
    "js": "js",
    "html": "html",
    "h t m l": "html",
    "csv": "csv",
    "c s v": "csv",
    "yaml": "yaml",
    "yml": "yml",
    "toml": "toml",
    "sh": "sh",
    "shell": "sh",
}
_FENCE = re.compile(r"^\s*```[a-zA-Z0-9_+-]*\s*\n?(.*?)\n?\s*```\s*$", re.S)


def normalize_filename(spoken: str) -> str:
    """Spoken or typed file names -> a plain relative name: "math underscore utils dot p y" -> math_utils.py."""
    s = spoken.strip().strip("\"'`").strip()
    s = re.sub(r"^(?:a |the )?(?:file )?(?:called |named )", "", s, flags=re.I)
    words = f" {s} "
    for spoken_word, symbol in (("underscore", "_"), ("dash|hyphen", "-"), ("slash", "/")):
        words = re.sub(rf"\s+(?:{spoken_word})\s+", symbol, words, flags=re.I)
    match = re.search(r"\s+dot\s+(.+?)\s*$", words, flags=re.I)
    if match:
        ext = match.group(1).lower().strip()
        words = words[: match.start()] + "." + _EXT_WORDS.get(ext, ext.replace(" ", ""))
    return re.sub(r"\s+", "_", words.strip()).rstrip(".")


def strip_fences(text: str) -> str:
    """Remove a Markdown code fence wrapped around an answer, if there is one."""
    m = _FENCE.match(text.strip())
    return m.group(1) if m else text.strip()


class IntentParseError(ValueError):
    """The model's answer is not a valid intent list (message says why, for the retry prompt)."""


def _items(data: Any) -> list[Any]:
    if isinstance(data, dict) and "intents" in data:
        data = data["intents"]
    elif isinstance(data, dict) and "action" in data:
        data = [data]
    if not isinstance(data, list) or not data:
        raise IntentParseError('expected {"intents": [ ... ]} with at least one intent')
    return data


def parse_intents(text: str) -> list[Intent]:
    """Validate the model's JSON locally (Ollama may ignore the schema); raises IntentParseError."""
    body = strip_fences(text)
    try:
        data = json.loads(body)
    except json.JSONDecodeError as e:
        raise IntentParseError(f"not valid JSON ({e.msg} at char {e.pos})") from e
    intents: list[Intent] = []
    for i, item in enumerate(_items(data)[:5]):
        if not isinstance(item, dict):
            raise IntentParseError(f"intent {i} is not an object")
        try:
            action = Action(str(item.get("action", "")).strip())
        except ValueError as e:
            raise IntentParseError(f"intent {i} has unknown action {item.get('action')!r}") from e
        fields = {k: item.get(k, "") for k in ("filename", "content", "request")}
        bad = [k for k, v in fields.items() if v is not None and not isinstance(v, str)]
        if bad:
            raise IntentParseError(f"intent {i}: {', '.join(bad)} must be a string")
        filename = normalize_filename(fields["filename"] or "")
        if action in WRITES and not filename:
            raise IntentParseError(f"intent {i} ({action.value}) needs a filename")
        intents.append(Intent(action, filename, fields["content"] or "", (fields["request"] or "").strip()))
    return intents
