"""What Whisper mishears in a command, mended before anything reads it.

All of it is data in vocabulary.yaml: the `misheard` table (heard -> meant, word by word: "right a poem in
poem.txt" -> "Write a poem ..."), the `called` words (split off a name glued to them: "callednotes.txt") and
`extensions`, for an extension written as said ("notes.text" -> notes.txt). To mend a new mishearing, add a row
to the table and a sentence to tests/test_repair.py.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from voiceloop.agent.spoken import EXTENSIONS, is_space, is_word, pieces, words_end
from voiceloop.vocabulary import entries, expand, phrases

NAME_AHEAD = "{name}"
"""In a `next` list: a file name further on, with only words, spaces and dashes before its dot."""
EXTENSION = "{ext}"
"""In a `next` list: an extension glued on (".md")."""


@dataclass(frozen=True)
class Mishearing:
    """One row of the misheard table."""

    heard: tuple[str, ...]
    """The words Whisper writes, lower case."""
    meant: str
    """What was said, written in their place."""
    first: bool = False
    """Only when they are the first words of the text."""
    next: tuple[tuple[str, ...], ...] = ()
    """Only when one of these follows (words, NAME_AHEAD or EXTENSION); anything may when empty."""


_KEYS = {"meant", "first", "next"}


@functools.cache
def table() -> tuple[Mishearing, ...]:
    rows: list[Mishearing] = []
    for heard, said in entries("misheard").items():
        when = said if isinstance(said, dict) else {"meant": said}
        if "meant" not in when or set(when) - _KEYS:
            raise ValueError(f"misheard {heard!r}: give `meant`, and only {sorted(_KEYS)}")
        nexts = tuple(tuple(p.split()) for p in expand(str(when["next"]))) if "next" in when else ()
        for phrase in expand(str(heard)):
            rows.append(Mishearing(tuple(phrase.split()), str(when["meant"]), bool(when.get("first")), nexts))
    return tuple(rows)


def mend(text: str) -> str:
    """text with every mishearing of the table mended, in the table's order, then glued words split off a name
    and extensions written as said made written ("notes.text" -> notes.txt)."""
    for row in table():
        text = _mended(text, row)
    return _extensions(_unglued(text))


def _mended(text: str, row: Mishearing) -> str:
    p = pieces(text)
    out: list[str] = []
    i = 0
    start = 0 if p and is_word(p[0]) else 1
    while i < len(p):
        end = words_end(p, i, row.heard)
        if end and (i == start or not row.first) and (not row.next or any(_follows(p, end, n) for n in row.next)):
            out.append(row.meant + (" " if is_space(p, end) else ""))
            i = end + is_space(p, end)  # one space after what was mended
        else:
            out.append(p[i])
            i += 1
    return "".join(out)


def _follows(p: list[str], end: int, what: tuple[str, ...]) -> bool:
    """True when `what` comes after p[:end]: a glued extension, or a space and then a name ahead or words."""
    if what == (EXTENSION,):
        return p[end : end + 1] == ["."] and end + 1 < len(p) and _letter(p[end + 1][0])
    if not p[end : end + 1] or not p[end][0].isspace():
        return False
    if what == (NAME_AHEAD,):  # only words, spaces and dashes up to the dot: "right my shopping-list.txt"
        rest = "".join(p[end:])
        stop = next((k for k, ch in enumerate(rest) if not (is_word(ch) or ch == "-" or ch.isspace())), len(rest))
        return rest[stop : stop + 1] == "." and _letter(rest[stop + 1 : stop + 2])
    after = words_end(p, end + 1, what) if is_space(p, end) else None
    return after is not None and p[after : after + 1] != [] and p[after][0] == " "


def _letter(ch: str) -> bool:
    return ch.isascii() and ch.isalpha()


def _unglued(text: str) -> str:
    """ "callednotes.txt" -> "called notes.txt": a `called` word split off the name stuck to it."""
    glued = phrases("called")
    p = pieces(text)
    for i, piece in enumerate(p):
        low = piece.lower()
        word = next((w for w in glued if low.startswith(w) and len(low) > len(w)), "")
        if word and _follows(p, i + 1, (EXTENSION,)):
            p[i] = f"{piece[: len(word)]} {piece[len(word) :]}"
    return "".join(p)


def _extensions(text: str) -> str:
    """A name's extension written as said, made written: "notes.text" -> notes.txt, "notes.jason" -> notes.json."""
    p = pieces(text)
    for i in range(2, len(p)):
        said = EXTENSIONS.get(p[i].lower())
        if said and p[i - 1] == "." and is_word(p[i - 2]) and said != p[i].lower():
            p[i] = said
    return "".join(p)
