"""Shared pieces of the understanding path: file names in a sentence, filler words, questions, "it"."""

from __future__ import annotations

import difflib
import re
from pathlib import PurePosixPath

from voiceloop.agent.intents import PROSE, normalize_filename, spoken_names

CODE_SUFFIXES = frozenset(
    {".py", ".js", ".ts", ".sh", ".bash", ".rs", ".go", ".c", ".h", ".cpp", ".java", ".rb", ".html", ".css", ".sql"}
)
NAME = r"(?:[\w~][\w/-]*(?:\.[\w-]+)*\.[A-Za-z][A-Za-z0-9]{0,4}|/[\w/.-]+)(?![\w/])"
"""A file name as written in a sentence (after spoken_names): a stem, a dot, an extension that starts with
a letter ("2.5" is no file), or an absolute path (kept, so that the sandbox can refuse it aloud)."""
_NAME_RE = re.compile(NAME)
_FILLERS = re.compile(
    r"^(?:(?:hey|hi|hello|ok|okay|so|um+|uh+|er|well|alright|all right|right|now|oh|and|also|then|next|"
    r"please|voiceloop|computer|actually|first|finally|lastly)\b[,.!]?\s*)+",
    re.I,
)
_POLITE = re.compile(
    r"^(?:(?:can|could|would|will) you(?: please| maybe| just)?|i(?:'d| would) like you to|i (?:want|need) you to|"
    r"go ahead and|(?:let's|lets|let us)|please|i(?:'d| would) like (?:to|a)|i (?:want|need) (?:to|a)|"
    r"help me|just|quickly|kindly)\b[,]?\s*",
    re.I,
)
_QUESTION = re.compile(
    r"^(?:what|what's|whats|how|how's|why|when|where|who|whom|whose|which|is|are|was|were|do|does|did|"
    r"should|shall|am|isn't|aren't|doesn't|don't|can (?:i|we|it|you explain)|could (?:i|we)|will (?:i|it)|"
    r"explain|define|describe|tell me|teach me|give me (?:an? )?(?:example|explanation|idea|tip|hint)s?|"
    r"i (?:wonder|don't understand|do not understand)|any idea|is there|are there|remind me|say|talk)\b",
    re.I,
)
_PRONOUN = re.compile(
    r"\b(?:it|that|this|them|the (?:file|code|script|function|class|list|poem|note|notes|text|module|program)|"
    r"(?:that|this) (?:file|code|script|function|class|list|one|module|program))\b",
    re.I,
)
_WORD = re.compile(r"[^\W_]+")


def prepare(text: str) -> str:
    """Spoken names written as names ("notes dot txt" -> notes.txt; Whisper's "notes.text" -> notes.txt)."""
    text = re.sub(
        r"(\w)[.\s]+(underscore|dash)[.\s]+(\w)",
        lambda m: m[1] + ("_" if m[2].lower() == "underscore" else "-") + m[3],
        text,
        flags=re.I,
    )  # Whisper, prompted with names, writes "meeting.underscore.notes.txt"
    text = spoken_names(text)
    text = re.sub(r"^(\W*)right\s+(?=[\w\s-]*\.[a-z]|a |an |me |down |some |the )", r"\1Write ", text, flags=re.I)
    text = re.sub(r"\b(called|named)(\w+\.[a-z]{1,4})\b", r"\1 \2", text, flags=re.I)  # Whisper glued them
    text = re.sub(r"\bto\s+do(?=\.[a-z])", "todo", text, flags=re.I)  # "todo dot md" is heard "to do.md"
    return re.sub(r"\b([\w-]+)\.text\b", r"\1.txt", text, flags=re.I)


def strip_lead(text: str) -> str:
    """Fillers and polite openings off the front: "okay, can you please create ..." -> "create ..."."""
    s = text.strip()
    while True:
        t = _POLITE.sub("", _FILLERS.sub("", s)).strip(" ,")
        if t == s:
            return s
        s = t


def is_question(text: str) -> bool:
    """A question (after the fillers are gone): answered, never acted on."""
    return bool(_QUESTION.match(text))


def names_in(text: str) -> list[str]:
    """File names written in the sentence, in order, normalized."""
    return [normalize_filename(m.group(0).rstrip(".")) for m in _NAME_RE.finditer(text)]


def has_pronoun(text: str) -> bool:
    return bool(_PRONOUN.search(text))


def is_code(name: str) -> bool:
    return PurePosixPath(name).suffix.lower() in CODE_SUFFIXES


def is_prose(name: str) -> bool:
    return PurePosixPath(name).suffix.lower() in PROSE or PurePosixPath(name).suffix.lower() not in CODE_SUFFIXES


def words(text: str) -> list[str]:
    """Lower-case words and numbers (what grounding compares)."""
    return _WORD.findall(text.lower())


def squash(text: str) -> str:
    return "".join(words(text))


def escapes(name: str) -> bool:
    """A name that tries to leave output/: kept, so the sandbox refuses it and the person hears why."""
    return name.startswith(("/", "~")) or ".." in name or "\\" in name


def mentioned(name: str, text: str) -> bool:
    """The file was named in text: as written, or by its stem after "called", "named" or "file"."""
    if not squash(name):
        return False
    if squash(name) in squash(text):
        return True
    stem = PurePosixPath(name.lower()).stem.replace("_", " ").replace("-", " ")
    return bool(stem) and re.search(rf"\b(?:called|named|file)\s+{re.escape(stem)}\b", text.lower()) is not None


def session_file(name: str, known: list[str]) -> str:
    """The session's file a heard name means: itself, or one it is very close to (Whisper's "note.stuff.txt"
    for notes.txt); "" when none is close enough."""
    if name in known:
        return name
    close = difflib.get_close_matches(squash(name), [squash(k) for k in known], n=1, cutoff=0.8)
    return next((k for k in reversed(known) if close and squash(k) == close[0]), "")


def known_by_words(text: str, known: list[str]) -> str:
    """A session file named by its stem's words ("the math utils file" -> math_utils.py), newest first."""
    low = " ".join(words(text))
    for name in reversed(known):
        stem = " ".join(words(PurePosixPath(name).stem.replace("_", " ")))
        if stem and re.search(rf"\b{re.escape(stem)}\b", low):
            return name
    return ""
