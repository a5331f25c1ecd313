"""Shared pieces of the understanding path: file names in a sentence, filler words, questions, "it"."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import PurePosixPath

from rapidfuzz import fuzz
from rapidfuzz.distance import Levenshtein

from voiceloop.agent.intents import PROSE
from voiceloop.agent.spoken import glue, normalize_filename, spelled, spoken_names
from voiceloop.agent.understand.repair import mend
from voiceloop.vocabulary import contains, drop_leading, ending, phrase_set, starts, without_leading

CODE_SUFFIXES = phrase_set("code_suffixes")
LANGUAGES = phrase_set("languages")
"""Languages and formats: "python" said alone is the language, never a file's name ("In Python, what ...")."""
NAME = r"(?:[\w~][\w/-]*(?:\.[\w-]+)*\.[A-Za-z][A-Za-z0-9]{0,4}|/[\w/.-]+)(?![\w/])"
"""A file name as written in a sentence (after spoken_names): a stem, a dot, an extension that starts with
a letter ("2.5" is no file), or an absolute path (kept, so that the sandbox can refuse it aloud)."""
_NAME_RE = re.compile(NAME)
SURE = 80.0
"""A heard name this close to a session file's (rapidfuzz ratio of the letters, 0-100) is that file: Whisper's
"whether.py" for weather.py, "note.stuff.txt" for notes.txt, "report.mb" for report.md."""
GUESS = 65.0
"""Closer than this but not SURE: asked ("Did you mean weather.py?"), never taken silently."""


def prepare(text: str) -> str:
    """Spoken names written as names ("notes dot txt" -> notes.txt, "n o t e s dot t x t" -> notes.txt), and what
    Whisper mishears mended ("notes.text" -> notes.txt, "right a poem ..." -> "Write a poem ..."; repair.py)."""
    return mend(spoken_names(spelled(glue(text))))


def strip_lead(text: str) -> str:
    """Fillers and polite openings off the front: "okay, can you please create ..." -> "create ..."."""
    s = text.strip()
    while True:
        t = drop_leading(without_leading(s, "fillers"), "polite", ",").strip(" ,")
        if t == s:
            return s
        s = t


def is_question(text: str) -> bool:
    """A question (after the fillers are gone): answered, never acted on. A lead-in may come first:
    "In Python, what matches a slash?" is a question about Python, not a file to write."""
    lead, comma, rest = text.partition(",")
    if comma and is_context(lead):
        text = rest.strip()
    return starts(text, "question")


def is_context(text: str) -> bool:
    """True when text is only a lead-in that sets the scene ("In Python", "using bash"), naming no file."""
    head, *rest = text.split() or [""]
    scene = all(ch.isalnum() or ch in "_+#.-" for ch in "".join(rest))
    return head.lower() in phrase_set("context") and 1 <= len(rest) <= 4 and scene and not names_in(text)


def names_in(text: str) -> list[str]:
    """File names written in the sentence, in order, normalized."""
    return [normalize_filename(m.group(0).rstrip(".")) for m in _NAME_RE.finditer(text)]


def is_name(text: str) -> bool:
    """True when text is one file name and nothing else."""
    return _NAME_RE.fullmatch(text) is not None


def describes(text: str, name: str = "describes") -> bool:
    """True when text starts with words that describe what to write ("a shopping list", "3 ideas") rather than
    being the words to write."""
    digits = len(text) - len(text.lstrip("0123456789"))
    return starts(text, name) or (
        digits > 0 and (digits == len(text) or not (text[digits].isalnum() or text[digits] == "_"))
    )


def has_pronoun(text: str) -> bool:
    return contains(text, "pronoun")


def is_code(name: str) -> bool:
    return PurePosixPath(name).suffix.lower() in CODE_SUFFIXES


def is_prose(name: str) -> bool:
    return PurePosixPath(name).suffix.lower() in PROSE or PurePosixPath(name).suffix.lower() not in CODE_SUFFIXES


def words(text: str) -> list[str]:
    """Lower-case words and numbers (what grounding compares)."""
    out: list[str] = []
    word = ""
    for ch in f"{text.lower()} ":
        if ch.isalnum():
            word += ch
        elif word:
            out.append(word)
            word = ""
    return out


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
    low = text.lower()
    at = low.find(stem)
    while stem and at >= 0:
        before, end = low[:at], at + len(stem)
        whole = not (stem[-1].isalnum() and (low[end : end + 1].isalnum() or low[end : end + 1] == "_"))
        if whole and before != before.rstrip() and ending(before, "name_words"):
            return True  # "called my notes", "the file shopping list"
        at = low.find(stem, at + 1)
    return False


def session_file(name: str, known: list[str]) -> str:
    """The session's file a heard name surely means (itself, or one within SURE); "" when none."""
    near = closest(name, known)
    return near.name if near is not None and near.sure else ""


@dataclass(frozen=True)
class Closest:
    """The one known file a heard name is close to."""

    name: str
    """The known file."""
    sure: bool
    """Close enough to take without asking (SURE); otherwise a guess to ask about."""


def closest(heard: str, known: list[str]) -> Closest | None:
    """The known file (session files, names said earlier in the turn) that a heard name means, when exactly one
    is close: its letters within GUESS and its extension the same or one letter off ("report.mb"). None when
    nothing is close, or when two are about as close (asking which one is the person's job, not a guess)."""
    if heard in known:
        return Closest(heard, True)
    ext = PurePosixPath(heard.lower()).suffix
    scored = sorted(
        (
            (fuzz.ratio(squash(heard), squash(k)), k)
            for k in dict.fromkeys(reversed(known))
            if ext and Levenshtein.distance(ext, PurePosixPath(k.lower()).suffix) <= 1
        ),
        key=lambda pair: -pair[0],
    )  # newest first, so a tie is the newest file
    if not scored or scored[0][0] < GUESS or (len(scored) > 1 and scored[1][0] > scored[0][0] - 5):
        return None
    return Closest(scored[0][1], scored[0][0] >= SURE)


def known_by_words(text: str, known: list[str]) -> str:
    """A session file named by its stem's words ("the math utils file" -> math_utils.py), newest first."""
    low = " ".join(words(text))
    for name in reversed(known):
        stem = " ".join(words(PurePosixPath(name).stem.replace("_", " ")))
        if stem and f" {stem} " in f" {low} ":
            return name
    return ""
