"""What the person wants: the intent schema, the classifier prompt, and local validation."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from enum import Enum
from pathlib import PurePosixPath
from typing import Any

from voiceloop.agent.names import canonical


class Action(str, Enum):
    CREATE_FILE = "create_file"
    WRITE_CODE = "write_code"
    EDIT_FILE = "edit_file"
    SUMMARIZE = "summarize"
    GENERAL_CHAT = "general_chat"


WRITES = (Action.CREATE_FILE, Action.WRITE_CODE, Action.EDIT_FILE)
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
- create_file: make a text file. filename = the file name said. content = the exact words to put in it, if they were dictated; else "". request = what the file should contain if it must be written for them ("an empty file" for an empty file).
- write_code: write a new source code file. filename = the file name said; request = what the code must do.
- edit_file: change a file that already exists. filename = that file; "it", "that file" or "that function" mean the FIRST file in "Files so far". request = the change.
- summarize: summarize text. content = the text said; or filename = a file to summarize ("it" = the FIRST file in "Files so far").
- general_chat: anything else: questions (also questions about code), greetings, jokes. request = the question.
create_file and write_code need a file name that was said. Several requests in one sentence give several intents, in order. Answer only with JSON."""

EXAMPLES: list[tuple[str, str, str]] = [
    (
        "",
        "create a file called groceries.txt with the text buy apples",
        '{"intents":[{"action":"create_file","filename":"groceries.txt","content":"buy apples","request":""}]}',
    ),
    (
        "",
        "write a python function that checks if a number is prime in primes.py",
        '{"intents":[{"action":"write_code","filename":"primes.py","content":"","request":"a python function that checks if a number is prime"}]}',
    ),
    (
        "primes.py (write_code, 09:12)",
        "add type hints to it",
        '{"intents":[{"action":"edit_file","filename":"primes.py","content":"","request":"add type hints"}]}',
    ),
    (
        "",
        "summarize report.md",
        '{"intents":[{"action":"summarize","filename":"report.md","content":"","request":"summarize report.md"}]}',
    ),
    (
        "",
        "how far away is the moon",
        '{"intents":[{"action":"general_chat","filename":"","content":"","request":"how far away is the moon"}]}',
    ),
    (
        "",
        "make an empty file todo.md and write a plan for a trip to Rome in trip.md",
        '{"intents":[{"action":"create_file","filename":"todo.md","content":"","request":"an empty file"},{"action":"create_file","filename":"trip.md","content":"","request":"a plan for a trip to Rome"}]}',
    ),
    (
        "primes.py (write_code, 09:14), trip.md (create_file, 09:13)",
        "add a main function to it and tell me what a prime number is",
        '{"intents":[{"action":"edit_file","filename":"primes.py","content":"","request":"add a main function"},{"action":"general_chat","filename":"","content":"","request":"what is a prime number"}]}',
    ),
]
"""(files so far, request, answer): few-shot turns shown to the model before the real request."""


def user_message(text: str, files: str = "") -> str:
    """The request as the classifier sees it, with the session's files so far (newest first)."""
    return f"Files so far: {files or 'none'}\nRequest: {text}"


def prompt_messages(text: str, files: str = "") -> list[dict[str, str]]:
    """System rules, the examples as earlier chat turns (small models copy those best), then the request."""
    messages = [{"role": "system", "content": SYSTEM_PROMPT}]
    for ex_files, ex_text, ex_answer in EXAMPLES:
        messages += [
            {"role": "user", "content": user_message(ex_text, ex_files)},
            {"role": "assistant", "content": ex_answer},
        ]
    return [*messages, {"role": "user", "content": user_message(spoken_names(text), files)}]


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


def _items(data: Any) -> list[Any]:
    if isinstance(data, dict) and "intents" in data:
        data = data["intents"]
    elif isinstance(data, dict) and "action" in data:
        data = [data]
    if not isinstance(data, list) or not data:
        raise IntentParseError('expected {"intents": [ ... ]} with at least one intent')
    return data


def parse_intents(text: str, last_file: str = "") -> list[Intent]:
    """Validate the model's JSON locally (Ollama may ignore the schema); raises IntentParseError.

    An edit_file with no name means the last file of the session (last_file), as "it" does when spoken.
    """
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
        content = fields["content"] or ""
        if action is Action.EDIT_FILE and not filename:
            filename = last_file
        if action is Action.SUMMARIZE and content.strip() and "." not in filename:
            filename = ""  # "summarize this: ..." gives filename "this"; a spoken file name has an extension
        if action is Action.WRITE_CODE and PurePosixPath(filename).suffix.lower() in PROSE:
            action = Action.CREATE_FILE  # a poem in sea.txt is prose: written by the text writer, not the coder
        if action in WRITES and not filename:
            raise IntentParseError(f"intent {i} ({action.value}) needs a filename")
        intents.append(Intent(action, filename, content, (fields["request"] or "").strip()))
    return intents


_VERBS = "write|create|make|summarize|summarise|tell|what|how|add|edit|change"


def _squash(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower())


def _described(content: str, sentence: str) -> bool:
    """True when the "content" is only what the sentence describes after an article ("with a shopping
    list", "containing some ideas"), not words to write down as they were said."""
    words = content.strip().strip(".").lower()
    return bool(words) and re.search(rf"\b(?:a|an|some|my)\s+{re.escape(words)}\b", sentence) is not None


def ground(intents: list[Intent], said: str, known: list[str]) -> list[Intent]:
    """Check the model's intents against the sentence itself.

    Writes need a file name that was said, or one the session already touched: a write to a name the
    model made up ("explain what a python decorator is" -> decorator.py) becomes a chat answer. "a file
    called notes" names notes.txt too: a bare stem counts after "called", "named" or "file". An intent
    on an unsaid file whose request names another intent's file is an echo (small models repeat
    "create docs/plan.md" as an edit of the last file) and is dropped.
    """
    text = spoken_names(said).lower()
    heard = _squash(text)
    names = {i.filename for i in intents if i.filename}
    out = []
    for i in intents:
        path = PurePosixPath(i.filename.lower())
        named = re.search(rf"\b(?:called|named|file)\s+{re.escape(path.stem)}\b", text)
        was_said = bool(i.filename) and (_squash(str(path)) in heard or bool(named))
        if i.filename and not was_said and any(n != i.filename and n in i.request for n in names):
            continue
        escapes = i.filename.startswith(("/", "~")) or ".." in i.filename or "\\" in i.filename
        if i.action in WRITES and i.filename not in known and not was_said and not escapes:
            # (a name that tries to leave output/ goes on to the sandbox, so the refusal is seen)
            i = Intent(Action.GENERAL_CHAT, request=i.request or said)
        elif i.action is Action.CREATE_FILE and i.content and _described(i.content, text):
            # "with a shopping list": the model copied a description into content; it is a wish to fill
            i = Intent(i.action, i.filename, "", f"{i.request} {i.content}".strip() if i.request else i.content)
        elif i.action is Action.CREATE_FILE and not i.content:
            wish = re.search(
                rf"{re.escape(path.name)}\s+(?:with|containing|about)\s+(.+?)(?:\s+and\s+(?:{_VERBS})\b.*)?[.!?]?$", text
            )
            if wish and not _squash(i.request.replace(i.filename, "")).removeprefix("create"):
                # the model said only "create docs/plan.md": take the wish from the sentence itself
                dictated = re.match(r"(?:the )?(?:text|words?|line)\s+(.+)", wish.group(1))
                i = Intent(i.action, i.filename, dictated.group(1) if dictated else "", wish.group(1))
        out.append(i)
    return out or intents[:1]
