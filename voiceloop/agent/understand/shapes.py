"""Request shapes as data: the sentence templates in shapes.yaml, matched against what was said.

A template is words, in the word lists' language (voiceloop/vocabulary.py), and slots:
- `word`, `(a|b c)` one of, `[a|b]` optional, `<list>` any phrase of a vocabulary.yaml list;
- `,` `:` `...` and other marks stand for themselves; `_` is marks before a space, or none; `~` any one word;
- `{x}` some words (as few as fit), `{x*}` any words or none, `{x:list}` one phrase of a list, `{x:~}` one word,
  `{name}` one file name, `{names}` one or more ("a.txt, b.txt and c.md").
Words match whole, case aside, with any spaces between them. A shape is a list of templates, tried in order:
the first that fits gives the slots, as said. Templates are compiled once to regular expressions, here.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path
from typing import Any

from voiceloop.agent.understand.words import NAME
from voiceloop.vocabulary import phrases

SHAPES = Path(__file__).resolve().parent / "shapes.yaml"
_NAMES = rf"{NAME}(?:\s*(?:,\s*|\s+and\s+|,\s*and\s+){NAME})*"


@functools.cache
def _data() -> dict[str, Any]:
    import yaml

    data: dict[str, Any] = yaml.safe_load(SHAPES.read_text(encoding="utf-8"))
    return data


@functools.cache
def _compiled(shape: str, whole: bool, anywhere: bool = False) -> tuple[re.Pattern[str], ...]:
    start = r"\b" if anywhere else r"^\s*"
    end = r"\s*$" if whole else ""
    return tuple(re.compile(f"{start}{_regex(str(t))}{end}", re.I | re.S) for t in _data()[shape])


def match(shape: str, text: str) -> dict[str, str] | None:
    """The slots of the first template of `shape` that text fits whole (a slot not in that template is absent);
    None when none fits."""
    for pattern in _compiled(shape, True):
        m = pattern.match(text)
        if m:
            return {k: v for k, v in m.groupdict().items() if v is not None}
    return None


def starts(shape: str, text: str) -> dict[str, str] | None:
    """Like match, for a template that only has to fit the start of text; the rest is in the slot "_rest"."""
    for pattern in _compiled(shape, False):
        m = pattern.match(text)
        if m:
            return {**{k: v for k, v in m.groupdict().items() if v is not None}, "_rest": text[m.end() :]}
    return None


def find(shape: str, text: str) -> dict[str, str] | None:
    """Like match, for a template that may start anywhere (at a word) and runs to the end of text; what was
    said before it is in the slot "_before"."""
    for pattern in _compiled(shape, True, True):
        m = pattern.search(text)
        if m:
            return {**{k: v for k, v in m.groupdict().items() if v is not None}, "_before": text[: m.start()]}
    return None


def fits(shape: str, text: str) -> bool:
    return match(shape, text) is not None


def _regex(template: str) -> str:
    tokens = _lex(template)
    out, i = _alternatives(tokens, 0, "")
    if i != len(tokens):
        raise ValueError(f"unbalanced brackets in shape template {template!r}")
    return out


def _lex(template: str) -> list[str]:
    out: list[str] = []
    word = ""
    for ch in f"{template} ":
        if ch.isspace() or ch in "()[]|":
            out += [word, ch] if not ch.isspace() else [word]
            word = ""
        else:
            word += ch
    return [t for t in out if t]


def _alternatives(tokens: list[str], i: int, close: str) -> tuple[str, int]:
    options: list[str] = []
    while True:
        seq, i = _sequence(tokens, i)
        options.append(seq)
        if i < len(tokens) and tokens[i] == "|":
            i += 1
            continue
        if close and (i >= len(tokens) or tokens[i] != close):
            raise ValueError(f"expected {close!r} in shape template {' '.join(tokens)!r}")
        return "(?:" + "|".join(options) + ")", i + 1 if close else i


def _sequence(tokens: list[str], i: int) -> tuple[str, int]:
    out = ""
    while i < len(tokens) and tokens[i] not in ("|", ")", "]"):
        token = tokens[i]
        if token in ("(", "["):
            inner, i = _alternatives(tokens, i + 1, ")" if token == "(" else "]")
            out += f"(?:{inner}\\s*)?" if token == "[" else f"{inner}\\s*"
            continue
        out += _item(token) + r"\s*"
        i += 1
    return out, i


def _item(token: str) -> str:
    if token == "~":
        return r"\w+"
    if token == "_":
        return r"(?:\W*?\s)?"  # marks only before a space: "call it... notes.txt", but "call it ../x.txt" is ../x.txt
    if token.startswith("<") and token.endswith(">"):
        return _list(token[1:-1])
    if token.startswith("{") and token.endswith("}"):
        return _slot(token[1:-1])
    left = r"\b" if token[0].isalnum() else ""
    right = r"\b" if token[-1].isalnum() else ""
    return left + re.escape(token) + right


def _list(name: str) -> str:
    return r"\b(?:" + "|".join(re.escape(p).replace(r"\ ", r"\s+") for p in phrases(name)) + r")\b"


def _slot(slot: str) -> str:
    """A slot never starts inside a word: "to-do list" has no {x} after "to"."""
    name, _, kind = slot.partition(":")
    if kind == "~":
        return f"(?P<{name}>(?<!\\w)[a-z][\\w-]*)"
    if kind:
        return f"(?P<{name}>{_list(kind)})"
    if name == "name":
        return f"(?P<name>(?<!\\w){NAME})"
    if name == "names":
        return f"(?P<names>(?<!\\w){_NAMES})"
    if name.endswith("*"):
        return f"(?P<{name[:-1]}>(?<!\\w).*?|)"
    return f"(?P<{name}>(?<!\\w).+?)"
