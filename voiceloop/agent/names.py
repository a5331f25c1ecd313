"""File names from speech or a model, made canonical: NFKC, then no invisible or look-alike characters.

Every check on a name (was it said? does it leave output/?) runs on the canonical form, so a fullwidth
"．．／" cannot pass as an ordinary word and then turn into "../" later.
"""

from __future__ import annotations

import unicodedata

_INVISIBLE = {"Cc", "Cf", "Co", "Cn", "Cs", "Zl", "Zp"}
"""Controls, format characters (bidi overrides, zero-width joiners), private use, unassigned."""
_LOOKALIKE_WORDS = ("SOLIDUS", "SLASH", "FULL STOP", "DOT LEADER", "DIAGONAL", "COLON")
"""Non-ASCII characters with these in their Unicode name pass for / . or : on screen."""


def canonical(name: str) -> str:
    """The NFKC form of name (fullwidth and other compatibility forms become plain ASCII)."""
    return unicodedata.normalize("NFKC", name)


def problem(name: str) -> str:
    """Why a canonical name must be refused for its characters, or "" when they are all ordinary."""
    for ch in name:
        cat = unicodedata.category(ch)
        if cat in _INVISIBLE or (cat == "Zs" and ch != " "):
            what = "a control character" if cat == "Cc" else "an invisible or direction-changing character"
            return f"it has {what} (U+{ord(ch):04X})"
        if ord(ch) > 127 and any(w in unicodedata.name(ch, "") for w in _LOOKALIKE_WORDS):
            return f"it has {ch!r} (U+{ord(ch):04X}), which looks like / . or : but is not"
    return ""
