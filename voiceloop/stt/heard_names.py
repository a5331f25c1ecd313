"""File names as Whisper wrote them, mended where the slip is one a listener would mend too.

tiny.en hears the letters of an extension by their sound: "report dot md" comes out "report.mb", "data dot csv"
"data.csd", "ideas dot txt" "ideas.dxt" (base: "ideas.cxc"). Letter names rhyme in a few groups (b c d e g p t v
z all end in "ee"); an extension that is no extension, and whose letters each rhyme with exactly one known
extension's, is that one. A stem gets two mendings: the case Whisper guessed goes (a spoken name has none:
"ReadMe.md" is readme.md), and a part that sounds like one of a few stems every project has, and is spelled like
none of them, is that stem ("Udles.py", "utles.py" for utils.py). "under score" is "underscore", and a "dot" heard as
"not" in a name's slot is a dot again ("called Timer. Not Python" for "called timer dot py"; "yaml, not json" stays).

Nothing else changes: a name with a known extension keeps its letters, initials ("D.F.") are no name, and a
sentence without a name comes back as it was. Measured on the spoken eval (scripts and numbers: README).
"""

from __future__ import annotations

import functools
import re
from pathlib import Path

from voiceloop.vocabulary import contains, phrase_set, phrases, starts, table, without_leading

LISTS = Path(__file__).resolve().parent / "heard_names.yaml"
RHYMES = ("bcdegptvz", "flmnsx", "ahjk", "iy", "quw")
"""Letters whose names rhyme, heard one for another ("dee"/"vee", "em"/"en"); o and r rhyme with none."""
VOICED = str.maketrans("dbgvz", "tpkfs")
"""Consonants that differ only in voicing sound alike in a quick "utils" ("udles")."""
_WRITTEN = re.compile(r"(?<![\w.])([A-Za-z0-9][\w-]*)\.([A-Za-z][A-Za-z0-9]{0,4})(?!\w|\.\w)")
_SPOKEN = re.compile(r"\b([A-Za-z][\w-]*)(\s+dot\s+)([A-Za-z]{2,5})\b", re.I)
_UNDER_SCORE = re.compile(r"\bunder\s+score\b", re.I)
_INITIALS = re.compile(r"[A-Z](?:\.[A-Z])+")
_NOT = r"[.,]?\s+not[.,]?\s+"
"""Whisper's "dot" after a name, heard as "not": "called Timer. Not Python" for "called timer dot py"."""


@functools.cache
def _lists() -> dict[str, list[str]]:
    import yaml

    data: dict[str, list[str]] = yaml.safe_load(LISTS.read_text(encoding="utf-8"))
    return data


@functools.cache
def said_extensions() -> frozenset[str]:
    """The extensions people say in a request (without the dot): what a mishearing is mended to."""
    said = {v.lower() for v in table("extensions").values()}
    return frozenset(said | {s.lstrip(".").lower() for s in phrase_set("code_suffixes")})


@functools.cache
def extensions() -> frozenset[str]:
    """Every extension known as written (without the dot): none of them is mended."""
    return said_extensions() | {e.lower() for e in _lists()["other_extensions"]}


def _rhymes(a: str, b: str) -> bool:
    return a == b or any(a in group and b in group for group in RHYMES)


def mend_extension(ext: str) -> str:
    """The known extension an unknown one was heard for, or ext itself when it is known or no single one fits."""
    low = ext.lower()
    if len(low) < 2 or low in extensions() or low in table("extensions"):
        return ext  # one letter is too little to tell by ("e.g", "i.e")
    fits = [k for k in said_extensions() if len(k) == len(low) and all(map(_rhymes, k, low))]
    same = {k: sum(map(str.__eq__, k, low)) for k in fits}  # "csd": csv keeps two letters, txt none
    best = [k for k in fits if same[k] == max(same.values())]
    return best[0] if len(best) == 1 else ext


def skeleton(word: str) -> str:
    """How a word sounds when said quickly: its first letter, then its consonants, voicing aside, once each."""
    low = word.lower()
    out = low[:1]
    for ch in low[1:].translate(VOICED):
        if ch not in "aeiouyh" and ch != out[-1:]:
            out += ch
    return out


@functools.cache
def _stems() -> dict[str, str]:
    return {skeleton(s): s for s in _lists()["file_stems"]}


def mend_stem(stem: str) -> str:
    """stem in lower case, each part that sounds like (and is not spelled like) a common stem made that stem."""
    parts = re.split(r"([_-])", stem.lower())
    common = set(_stems().values())
    for i, part in enumerate(parts):
        if len(part) >= 4 and part not in common and len(skeleton(part)) >= 3:
            parts[i] = _stems().get(skeleton(part), part)
    return "".join(parts)


def _mend_written(m: re.Match[str]) -> str:
    if _INITIALS.fullmatch(m[0]):
        return m[0]
    ext = mend_extension(m[2])
    if ext.lower() not in extensions():
        return m[0]  # no file name that we know of: "e.g" or a web address part, left alone
    return f"{mend_stem(m[1])}.{ext.lower()}"


def _mend_spoken(m: re.Match[str]) -> str:
    ext = mend_extension(m[3])
    if ext.lower() not in extensions() and ext.lower() not in table("extensions"):
        return m[0]
    return f"{mend_stem(m[1])}{m[2]}{ext}"


@functools.cache
def _dot_heard_not() -> re.Pattern[str]:
    called = "|".join(re.escape(p) for p in phrases("called"))
    return re.compile(rf"\b((?:{called})\s+)([A-Za-z][\w-]*){_NOT}([A-Za-z]+)\b", re.I)


def _mend_not(m: re.Match[str]) -> str:
    """ "called timer not py" -> "called timer dot py": only a name's slot (after a `called` word), only before an
    extension as said, and only after a word that is no language or extension itself ("called yaml, not json")."""
    stem, ext = m[2].lower(), m[3].lower()
    if ext not in said_extensions() and ext not in table("extensions"):
        return m[0]
    if stem in phrase_set("languages") or stem in extensions() or stem in table("extensions"):
        return m[0]
    return f"{m[1]}{mend_stem(m[2])} dot {m[3]}"


def mend(text: str) -> str:
    """text with the file names in it mended (see the module's docstring); the rest as it was."""
    text = _UNDER_SCORE.sub("underscore", text)
    text = _dot_heard_not().sub(_mend_not, text)
    text = _SPOKEN.sub(_mend_spoken, text)
    return _WRITTEN.sub(_mend_written, text)


def holds_a_name(text: str) -> bool:
    """True when the words, mended, hold a whole file name: a stem and an extension we know, written ("hello.py")
    or said ("hello dot py"). "in hello." does not: the name's end went missing."""
    text = mend(text)
    if any(m[2].lower() in extensions() and not _INITIALS.fullmatch(m[0]) for m in _WRITTEN.finditer(text)):
        return True
    return any(m[3].lower() in extensions() or m[3].lower() in table("extensions") for m in _SPOKEN.finditer(text))


def names_a_file(text: str) -> bool:
    """True when the words name a file or ask for one: a written name with a known extension, a mark said aloud
    ("dot", "underscore"), a `called` word or a `wants_file` word ("file", "script"). Questions and chat do not."""
    if any(m[2].lower() in extensions() and not _INITIALS.fullmatch(m[0]) for m in _WRITTEN.finditer(text)):
        return True
    words = text.lower().replace(",", " ").replace(".", " ").split()
    said, marks = " ".join(words), table("spoken_marks")
    return any(w in marks for w in words) or contains(said, "called") or contains(said, "wants_file")


def asks(text: str) -> bool:
    """True when the words, fillers aside ("Okay, so, ..."), start as a question does ("What ...", "Tell me ..."),
    or Whisper ended them with a question mark and they open with no polite request ("At what temperature does
    water boil?", but not "Can you take that back?"): answered, never acted on, so a greedy decode is enough."""
    s = without_leading(text.strip(), "fillers", every_mark=True)
    return starts(s, "question") or (s.endswith("?") and not starts(s, "polite"))
