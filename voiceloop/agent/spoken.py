"""File names as said, written as names: "math underscore utils dot p y" -> math_utils.py.

Word by word, from vocabulary.yaml: spoken_marks ("underscore" -> _, "dot" -> .), extensions ("jason" -> json,
"p y" -> py) and name_lead ("the file called"). A sentence is cut into pieces, runs of word characters and the
runs between them, and names are found by walking the pieces: no pattern language to learn.
"""

from __future__ import annotations

from voiceloop.agent.names import canonical
from voiceloop.vocabulary import leading, phrase_set, table

MARKS = table("spoken_marks")
"""A mark as said -> as written ("underscore" -> "_"); the mark written "." starts the extension."""
EXTENSIONS = table("extensions")
"""An extension as said -> as written ("jason" -> "json")."""
_JOINERS = frozenset(word for word, mark in MARKS.items() if mark != ".")
_EXT_SAID = sorted((said.split() for said in EXTENSIONS), key=lambda w: -len(" ".join(w)))  # the longest first
_SPELLING_GAPS = ("-", " ", ", ")
"""What Whisper writes between letters said one by one: "w-e-a-t", "n o t e", "w, e, a"."""
MIN_SPELLED = 3
"""Letters in a row that are a spelled word (two could be "a b" in a sentence)."""


def is_word(piece: str) -> bool:
    """True for a run of word characters (what a regular expression's \\w matches)."""
    return piece[:1].isalnum() or piece[:1] == "_"


def pieces(text: str) -> list[str]:
    """text cut where word characters start or stop: "a.b  c" -> ["a", ".", "b", "  ", "c"] ("".join gives it back)."""
    out: list[str] = []
    for ch in text:
        if out and is_word(out[-1]) == is_word(ch):
            out[-1] += ch
        else:
            out.append(ch)
    return out


def is_space(p: list[str], i: int) -> bool:
    """True when p[i] is there and only white space."""
    return i < len(p) and p[i].isspace()


def normalize_filename(spoken: str) -> str:
    """Spoken or typed file names -> a plain relative name: "math underscore utils dot p y" -> math_utils.py."""
    s = canonical(spoken).strip().strip("\"'`").strip()
    lead = leading(s, "name_lead")
    if lead and s[len(lead) : len(lead) + 1] == " ":
        s = s[len(lead) + 1 :]
    said = s.split()
    dots = [n for n in range(len(said)) if _mark(said, n) == "."]
    if not dots:
        return _written(said, "_").rstrip(".")
    ext = said[dots[-1] + 1 :]  # "notes dot backup dot txt": the last dot starts the extension
    written = EXTENSIONS.get(" ".join(ext).lower(), _written(ext, "").lower())
    return f"{_written(said[: dots[-1]], '_')}.{written}".rstrip(".")


def _mark(words: list[str], n: int) -> str | None:
    """words[n] as a mark ("_" for "underscore"), or None when it is a word. A dot is a mark only with a word
    after it and no other dot next to it: "notes dot" is notes_dot, and no name gets ".." from "dot dot"."""
    mark = MARKS.get(words[n].lower())
    if mark != ".":
        return mark
    near = {MARKS.get(words[k].lower()) for k in (n - 1, n + 1) if 0 <= k < len(words)}
    return mark if n + 1 < len(words) and "." not in near else None


def _written(words: list[str], between: str) -> str:
    """Words as one name: marks as written and glued to their neighbours, `between` between two other words."""
    out, glued = "", True
    for n, word in enumerate(words):
        mark = _mark(words, n)
        out += mark if mark is not None else ("" if glued else between) + word
        glued = mark is not None
    return out


def spoken_names(text: str) -> str:
    """Write spoken file names inside a sentence as names: "summarize notes dot txt" -> "summarize notes.txt".

    Small models copy "notes dot txt" half-converted ("notes.dot.txt"); they get the name right when the
    sentence already holds it. Only "<word> [<mark> <word>]... dot <known extension>" and "a <mark> b" (the
    marks_anywhere) are rewritten: "the dot product" stays.
    """
    p = pieces(text)
    out: list[str] = []
    i = 0
    while i < len(p):
        end = _name_end(p, i)
        out.append(normalize_filename("".join(p[i:end])) if end else p[i])
        i = end or i + 1
    return glue("".join(out))


def _name_end(p: list[str], i: int) -> int | None:
    """Where the spoken name that starts at p[i] ends ("math underscore utils dot p y"); None when none does."""
    if not is_word(p[i]):
        return None
    end, ends = i + 1, [i + 1]  # after each "<mark> <word>" the name may go on to its dot
    while is_space(p, end) and end + 3 < len(p) and p[end + 1].lower() in _JOINERS and is_space(p, end + 2):
        end += 4
        ends.append(end)
    for at in reversed(ends):
        dot = is_space(p, at) and at + 3 < len(p) and _is_dot(p[at + 1]) and is_space(p, at + 2)
        if dot and (found := _extension_end(p, at + 3)):
            return found
    return None


def _is_dot(word: str) -> bool:
    return MARKS.get(word.lower()) == "."


def _extension_end(p: list[str], at: int) -> int | None:
    """Where a known extension as said ("t x t", "mark down", "jason") that starts at p[at] ends."""
    return next((end for said in _EXT_SAID if (end := words_end(p, at, said))), None)


def words_end(p: list[str], at: int, words: list[str] | tuple[str, ...]) -> int | None:
    """Where the words (lower case, whole, white space between them) that start at p[at] end; None when they
    do not start there."""
    for n, word in enumerate(words):
        k = at + 2 * n
        if k >= len(p) or p[k].lower() != word or (n and not p[k - 1].isspace()):
            return None
    return at + 2 * len(words) - 1


def glue(text: str) -> str:
    """The marks_anywhere said between two words, written: "meeting. underscore. notes" -> meeting_notes (Whisper,
    prompted with names, writes dots around them)."""
    anywhere = phrase_set("marks_anywhere")
    p, out, i = pieces(text), list[str](), 0
    while i < len(p):
        if i + 4 < len(p) and is_word(p[i]) and p[i + 2].lower() in anywhere and _dots_or_space(p[i + 1], p[i + 3]):
            out += [p[i], MARKS.get(p[i + 2].lower(), p[i + 2])]
            i += 4  # the word after the mark may be glued to the next one: "a underscore b underscore c"
        else:
            out.append(p[i])
            i += 1
    return "".join(out)


def _dots_or_space(*gaps: str) -> bool:
    return all(ch == "." or ch.isspace() for gap in gaps for ch in gap)


def spelled(text: str) -> str:
    """Letters said one by one before a dot, joined into a word: "n o t e s dot t-x-t" -> "notes dot txt".

    Whisper writes them "w-e-a-t-h-e-r", "n o t e s" or "w, e, a, t". At least MIN_SPELLED letters, then a dot
    ("w-e-a-t-h-e-r.py", "n o t e s dot"); after "dot", two or more joined by "-" ("t-x-t"). tiny.en also writes a
    whole spelled name as one: "n-o-t-e-s-dot-t-x-t".
    """
    p, out, i = pieces(text), list[str](), 0
    while i < len(p):
        end = _spelled_end(p, i)
        if end is None:
            out.append(p[i])
            i += 1
            continue
        out.append("".join(p[i:end:2]))
        if len(p) > end + 3 and p[end] == p[end + 2] == "-" and _is_dot(p[end + 1]):
            out.append(f" {p[end + 1]} ")  # "n-o-t-e-s-dot-t-x-t": the letters after it follow
            end += 3
        i = end
    return "".join(out)


def _letter(p: list[str], i: int) -> bool:
    return 0 <= i < len(p) and len(p[i]) == 1 and p[i].isascii() and p[i].isalpha()


def _spelled_end(p: list[str], i: int) -> int | None:
    """Where the spelled letters that start at p[i] end (after the last letter); None when they are none."""
    if not _letter(p, i):
        return None
    last = i
    while last + 2 < len(p) and p[last + 1] in _SPELLING_GAPS and _letter(p, last + 2):
        last += 2
    if (last - i) // 2 + 1 >= MIN_SPELLED and _dot_follows(p[last + 1 : last + 4]):
        return last + 1
    if i >= 2 and p[i - 1] in (" ", "-") and _is_dot(p[i - 2]):  # "dot t-x-t"
        last = i
        while last + 2 < len(p) and p[last + 1] == "-" and _letter(p, last + 2):
            last += 2
        return last + 1 if last > i else None
    return None


def _dot_follows(then: list[str]) -> bool:
    """True when the pieces after spelled letters start with a dot: ".py", " dot ", "-dot-"."""
    if then[:1] == ["."]:
        return len(then) > 1
    if len(then) < 3 or not _is_dot(then[1]):
        return False
    return (then[0].isspace() and then[2][0].isspace()) or then[0] == then[2] == "-"
