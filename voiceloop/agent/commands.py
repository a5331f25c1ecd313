"""Things said that are handled here, before the intent call: "start over", "switch to <model>", and
"tell me more" / "go on" / "the long version" (which carry on the last answer)."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from enum import Enum


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


_START_OVER_PIECE = re.compile(
    r"^(?:(?:ok|okay|please|lets|let us|alright|now|so|hey|can you|could you|i want to|id like to|just)\s+)*"
    r"(?:start over|start again|start afresh|start fresh|start from scratch|start from the (?:beginning|top)|"
    r"(?:start|begin|open)? ?(?:a )?(?:new|fresh|clean) (?:conversation|chat|session|slate|start)|"
    r"(?:reset|clear|wipe|erase) (?:the |our |this |your |my )?(?:conversation|chat|history|session|memory|context)|"
    r"forget (?:everything|all (?:of )?(?:that|this|it)|(?:it|that|this) all|what we (?:said|talked about)|"
    r"(?:our|the|this) (?:conversation|chat)|everything we (?:said|talked about|did))|reset|"
    r"wipe the slate(?: clean)?|clean slate|from the top|back to square one)"
    r"(?:\s+(?:please|now|again|from scratch|for me))*$"
)
_FILLER = re.compile(r"^(?:ok|okay|alright|all right|so|now|please|well|right)?$")
"""A piece that is only a filler ("OK, let's start over" splits into "ok" and "lets start over")."""
_LEAD = r"^(?:(?:ok|okay|yes|yeah|sure|please|and|so|now|alright|great|nice|cool|interesting)\s+)*"
_MORE = re.compile(
    _LEAD + r"(?:(?:can you |could you |please )?(?:tell me|say|give me) (?:a (?:bit|little) )?more|more"
    r"|go on|keep going|carry on|continue|go ahead|and then(?: what)?|then what|what happened next|what happens next"
    r"|tell me the rest|the rest)(?:\s+please)?$"
)
_LONG = re.compile(
    _LEAD + r"(?:(?:give me|tell me|i want|i(?:d| would) like|can i (?:have|hear)|lets hear|let me hear) )?"
    r"(?:the )?(?:long|longer|full|whole) (?:version|story|answer)(?:\s+please)?$"
)
_SWITCH = re.compile(
    r"^(?:(?:ok|okay|please|now|can you|could you|lets|let us|i want to|id like to)\s+)*"
    r"(?:(?:switch|change|swap)(?:\s+over)?\s+(?:the\s+)?(?:models?\s+)?to|(?:switch|change) (?:the )?models? to|"
    r"use|go with)\s+(?:the\s+)?(?:model\s+)?"
    r"(?P<name>.+?)(?:\s+model)?(?:\s+(?:instead|from now on|please|now))*$"
)
_MODEL_NAME = re.compile(r"\d|[a-z]+[:/-]", re.I)
"""A model name holds a digit or a tag ("qwen2.5-coder:0.5b", "llama 3", "gemma3"): "use a list" is no switch."""


def _plain(text: str) -> str:
    """Lower case, words only: "Start over!" and "start over." read the same."""
    return " ".join(re.sub(r"[^a-z0-9.:/ -]+", " ", text.lower().replace("'", "")).split()).strip(" .")


def parse_command(text: str) -> Command | None:
    plain = _plain(text)
    joints = r"\s*(?:,|\band then\b|\band\b|\bthen\b|\bso\b|(?=\blets\b)|(?=\blet us\b))\s*"
    pieces = [p for p in re.split(joints, plain.replace(".", " ").replace("  ", " ")) if not _FILLER.match(p.strip())]
    if all(_START_OVER_PIECE.match(p.strip()) for p in pieces if p.strip()) and any(p.strip() for p in pieces):
        return Command(Kind.START_OVER)
    words = plain.replace(".", " ").replace("  ", " ").strip()
    if _MORE.match(words):
        return Command(Kind.MORE)
    if _LONG.match(words):
        return Command(Kind.LONG_VERSION)
    m = _SWITCH.match(plain)
    if m and (not plain.startswith(("use", "go with", "please use", "now use")) or _MODEL_NAME.search(m.group("name"))):
        return Command(Kind.SWITCH_MODEL, m.group("name"))
    return None


def _compact(name: str) -> str:
    """Only letters and digits: "Qwen 2.5 coder 0.5 B", "qwen2.5-coder:0.5b" -> "qwen25coder05b"."""
    name = re.sub(r"\b(point|dot)\b", "", name.lower())
    return re.sub(r"[^a-z0-9]", "", name.removesuffix(":latest"))


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
    """"switch to <spoken>" against the server's models: (the model meant, or None; what to say)."""
    found = match_model(spoken, names)
    if found is not None:
        return found, f"Switched to {found}."
    listed = ", ".join(closest_models(spoken, names)[:MODELS_LISTED]) or "none"
    if len(names) > MODELS_LISTED:
        listed += f" and {len(names) - MODELS_LISTED} more (voiceloop models lists them)"
    return None, f"I have no model called {spoken}. Available: {listed}."
