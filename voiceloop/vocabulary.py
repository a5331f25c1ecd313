"""The words voiceloop listens for, as data: vocabulary.yaml, read once, each list in one place.

A list's entries are phrase templates in a tiny language over words: `(a|b)` one of, `[a]` optional, `<list>`
any phrase of another list, nested freely ("(can|could) you [please|just]", "<numbers> ideas"). Each template
is expanded once into the phrases it stands for, and every check here is on whole words, case aside: "create"
starts "Create a file", never "Created" or "recreate". A top-level module, so that every stage
(understanding, hearing, the endpoint) can read it.
"""

from __future__ import annotations

import functools
import itertools
import re
from pathlib import Path
from typing import Any

VOCABULARY = Path(__file__).resolve().parent / "vocabulary.yaml"


@functools.cache
def _data() -> dict[str, Any]:
    import yaml

    data: dict[str, Any] = yaml.safe_load(VOCABULARY.read_text(encoding="utf-8"))
    return data


@functools.cache
def phrases(name: str) -> tuple[str, ...]:
    """Every phrase the list `name` stands for, lower case, longest first (so the longest one is tried first)."""
    out = dict.fromkeys(p for template in _data()[name] for p in expand(str(template)))
    return tuple(sorted(out, key=lambda p: (-len(p), p)))


@functools.cache
def phrase_set(name: str) -> frozenset[str]:
    return frozenset(phrases(name))


def table(name: str) -> dict[str, str]:
    """A mapping in the vocabulary (said -> written: "jason" -> "json")."""
    return {str(k): str(v) for k, v in _data()[name].items()}


def entries(name: str) -> dict[str, Any]:
    """A mapping whose values may be small records (the misheard table: heard -> meant, or -> {meant, when})."""
    data: dict[str, Any] = dict(_data()[name])
    return data


def expand(template: str) -> list[str]:
    """ "(can|could) you [please]" -> ["can you", "can you please", "could you", "could you please"]."""
    tokens = [t for t in _lex(template) if t]
    choices, rest = _alternatives(tokens, 0, "")
    if rest != len(tokens):
        raise ValueError(f"unbalanced brackets in vocabulary template {template!r}")
    return [" ".join(p.split()).lower() for p in choices]


def _lex(template: str) -> list[str]:
    out, word = [], ""
    for ch in template:
        if ch in "()[]|<>":
            out += [word, ch]
            word = ""
        else:
            word += ch
    return [*out, word]


def _alternatives(tokens: list[str], i: int, close: str) -> tuple[list[str], int]:
    """The phrases of `a b | c (d|e)` from tokens[i] up to the closing bracket; (phrases, index after it)."""
    found: list[str] = []
    while True:
        seq, i = _sequence(tokens, i)
        found += seq
        if i < len(tokens) and tokens[i] == "|":
            i += 1
            continue
        if close and (i >= len(tokens) or tokens[i] != close):
            raise ValueError(f"expected {close!r} in vocabulary template {''.join(tokens)!r}")
        return found, i + 1 if close else i


def _sequence(tokens: list[str], i: int) -> tuple[list[str], int]:
    parts: list[list[str]] = []
    while i < len(tokens) and tokens[i] not in "|)]":
        token = tokens[i]
        if token == "<" and i + 2 < len(tokens) and tokens[i + 2] == ">":
            parts.append(list(phrases(tokens[i + 1].strip())))
            i += 3
        elif token in "([":
            inner, i = _alternatives(tokens, i + 1, ")" if token == "(" else "]")
            parts.append([*inner, ""] if token == "[" else inner)
        else:
            parts.append([token])
            i += 1
    return [" ".join(" ".join(combo).split()) for combo in itertools.product(*parts)], i


def _word_char(ch: str) -> bool:
    return ch.isalnum() or ch == "_"


def _ends_word(text: str, at: int) -> bool:
    """True when a word ends before text[at] (regex's \\b after a phrase that ends in a letter)."""
    return at >= len(text) or not (_word_char(text[at]) and _word_char(text[at - 1]))


def _starts_word(text: str, at: int) -> bool:
    return at == 0 or not (_word_char(text[at - 1]) and _word_char(text[at]))


def leading(text: str, name: str) -> str:
    """The longest phrase of `name` that `text` starts with, as written in text ("" when none)."""
    low = text.lower()
    for phrase in phrases(name):
        if phrase and low.startswith(phrase) and _ends_word(text, len(phrase)):
            return text[: len(phrase)]
    return ""


def drop_leading(text: str, name: str, marks: str = ",.!") -> str:
    """text without the phrase of `name` it starts with, one of `marks` right after it, and the spaces after that
    ("Okay, so ..." -> "so ..."); text as it is when it starts with none."""
    lead = leading(text, name)
    if not lead:
        return text
    rest = text[len(lead) :]
    return (rest[1:] if rest[:1] and rest[0] in marks else rest).lstrip()


def without_leading(text: str, name: str, marks: str = ",.!", every_mark: bool = False) -> str:
    """text without every phrase of `name` it starts with, one after another ("Okay, so, um, create ..." -> "create
    ..."), each with one of `marks` after it (drop_leading), or with every_mark all the spaces and marks after it
    ("Okay... what" -> "what", where one mark each leaves ".. what")."""
    while lead := leading(text, name):
        text = text[len(lead) :].lstrip(" " + marks) if every_mark else drop_leading(text, name, marks)
    return text


def starts(text: str, name: str) -> bool:
    """True when text starts with a phrase of `name` ("Create a file" starts with a create verb)."""
    return bool(leading(text, name))


def is_one(text: str, name: str) -> bool:
    """True when text is exactly one phrase of `name`, case and outer spaces aside."""
    return " ".join(text.lower().split()) in phrase_set(name)


def find(text: str, name: str) -> tuple[int, int] | None:
    """(start, end) of the first phrase of `name` in text as whole words (the longest one where two start
    together); None when there is none."""
    low = text.lower()
    best: tuple[int, int] | None = None
    for phrase in phrases(name):
        at = low.find(phrase)
        while phrase and at >= 0:
            if _starts_word(low, at) and _ends_word(low, at + len(phrase)):
                if best is None or at < best[0]:
                    best = (at, at + len(phrase))
                break
            at = low.find(phrase, at + 1)
    return best


def contains(text: str, name: str) -> bool:
    """True when a phrase of `name` is in text as whole words ("a poem about it" contains "it")."""
    return find(text, name) is not None


def after(text: str, name: str) -> str | None:
    """What text says after its first phrase of `name` (None when it has none)."""
    at = find(text, name)
    return None if at is None else text[at[1] :]


def replace_first(text: str, name: str, new: str) -> str:
    """text with its first phrase of `name` (as whole words) replaced by `new`; text itself when none."""
    at = find(text, name)
    return text if at is None else text[: at[0]] + new + text[at[1] :]


def ending(text: str, name: str) -> str:
    """The longest phrase of `name` that text ends with, spaces aside, as written ("" when none)."""
    text = text.rstrip()
    low = text.lower()
    for phrase in phrases(name):
        if phrase and low.endswith(phrase) and _starts_word(low, len(low) - len(phrase)):
            return text[len(text) - len(phrase) :]
    return ""


def only_words_of(text: str, name: str, besides: str = "") -> bool:
    """True when every word of text is one of `name`'s one-word phrases and every other character is in
    `besides` ("create the file." is only words of "create file" with ". ")."""
    known = phrase_set(name)
    word = ""
    for ch in f"{text} ":
        if _word_char(ch):
            word += ch
            continue
        if word and word.lower() not in known:
            return False
        word = ""
        if ch != " " and ch not in besides:
            return False
    return True


def alternation(name: str) -> str:
    """The list as a regular expression's alternatives (longest first), for the shapes still written as
    regular expressions: "(?:give me|create|make)"."""
    return "(?:" + "|".join(re.escape(p).replace(r"\ ", r"\s+") for p in phrases(name)) + ")"
