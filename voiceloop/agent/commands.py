"""Things said that are handled here, before the intent call: "start over", "switch to <model>", and
"tell me more" / "go on" / "the long version" (which carry on the last answer)."""

from __future__ import annotations

import difflib
import itertools
from dataclasses import dataclass
from enum import Enum

from voiceloop.agent.understand import shapes
from voiceloop.vocabulary import is_one, replace_first


class Kind(str, Enum):
    START_OVER = "start_over"
    SWITCH_MODEL = "switch_model"
    MORE = "more"
    LONG_VERSION = "long_version"


@dataclass(frozen=True)
class Command:
    """A request voiceloop answers itself."""

    kind: Kind
    arg: str = ""
    """For switch_model: the model name as it was said."""


def _plain(text: str) -> str:
    """Lower case, words only: "Start over!" and "start over." read the same."""
    kept = "".join(c if c in _KEPT else " " for c in text.lower().replace("'", ""))
    return " ".join(kept.split()).strip(" .")


_ALNUM = frozenset("abcdefghijklmnopqrstuvwxyz0123456789")
_KEPT = _ALNUM | frozenset(".:/ -")


def _model_name(name: str) -> bool:
    """A model name holds a digit or a tag ("qwen2.5-coder:0.5b", "llama 3", "gemma3"): "use a list" is no
    switch."""
    tagged = any(a.isalpha() and b in ":/-" for a, b in itertools.pairwise(name))
    return tagged or any(c.isdigit() for c in name)


def _pieces(words: str) -> list[str]:
    """ "ok so lets start over and reset" -> ["ok", "lets start over", "reset"]: cut at "and", "then", "so",
    "and then", and before "lets" / "let us"."""
    pieces: list[list[str]] = [[]]
    said = words.split()
    for at, word in enumerate(said):
        if word in ("and", "then", "so"):
            pieces.append([])
        elif word == "lets" or (word == "let" and said[at + 1 : at + 2] == ["us"]):
            pieces.append([word])
        else:
            pieces[-1].append(word)
    return [" ".join(p) for p in pieces]


def parse_command(text: str) -> Command | None:
    plain = _plain(text)
    words = plain.replace(".", " ").replace("  ", " ").strip()
    pieces = [p for p in _pieces(words) if p and not is_one(p, "command_fillers")]
    if pieces and all(shapes.fits("start_over", p) for p in pieces):
        return Command(Kind.START_OVER)
    if shapes.fits("more", words):
        return Command(Kind.MORE)
    if shapes.fits("long_version", words):
        return Command(Kind.LONG_VERSION)
    m = shapes.match("switch_model", plain)
    if m and (not plain.startswith(("use", "go with", "please use", "now use")) or _model_name(m["model"])):
        return Command(Kind.SWITCH_MODEL, m["model"])
    return None


def _compact(name: str) -> str:
    """Only letters and digits: "Qwen 2.5 coder 0.5 B", "qwen2.5-coder:0.5b" -> "qwen25coder05b"."""
    name = name.lower()
    while (spoken := replace_first(name, "spoken_point", "")) != name:
        name = spoken
    return "".join(c for c in name.removesuffix(":latest") if c in _ALNUM)


def match_model(spoken: str, names: list[str]) -> str | None:
    """The model in `names` that `spoken` means, matched loosely; None when none or several fit."""
    want = _compact(spoken)
    if not want:
        return None
    # a provider prefix ("openai/gpt-4o") is often left out when spoken
    keys = {name: {_compact(name), _compact(name.rsplit("/", 1)[-1])} for name in names}
    exact = [n for n, k in keys.items() if want in k]
    if len(exact) == 1:
        return exact[0]
    starts = [n for n, k in keys.items() if any(c.startswith(want) for c in k)]
    if len(starts) == 1:
        return starts[0]
    by_key = {c: n for n, k in keys.items() for c in k}
    close = difflib.get_close_matches(want, list(by_key), n=2, cutoff=0.8)
    if close and (len(close) == 1 or by_key[close[0]] == by_key[close[1]]):
        return by_key[close[0]]
    return None


def closest_models(spoken: str, names: list[str]) -> list[str]:
    """All names, the ones most like what was said first (for the "no such model" answer)."""
    want = _compact(spoken)
    return sorted(names, key=lambda n: -difflib.SequenceMatcher(None, want, _compact(n)).ratio())


MODELS_LISTED = 10  # an unknown model's answer lists this many, so it stays one spoken line


def switch_reply(spoken: str, names: list[str]) -> tuple[str | None, str]:
    """ "switch to <spoken>" against the server's models: (the model meant, or None; what to say)."""
    found = match_model(spoken, names)
    if found is not None:
        return found, f"Switched to {found}."
    listed = ", ".join(closest_models(spoken, names)[:MODELS_LISTED]) or "none"
    if len(names) > MODELS_LISTED:
        listed += f" and {len(names) - MODELS_LISTED} more (voiceloop models lists them)"
    return None, f"I have no model called {spoken}. Available: {listed}."
