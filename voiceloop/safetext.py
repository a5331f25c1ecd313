"""Untrusted text on the terminal: file content, model answers, transcripts, file names, paths, error messages.

Everything shown from outside voiceloop goes through shown(): it becomes a rich Text, never markup, so
"[/bold]" or "[/\\]" in a file is text, neither a crash nor a style. Every character a terminal would obey
instead of showing is shown instead, marked in CONTROL_STYLE: C0 and C1 controls other than newline and tab
(ESC as ␛, BEL as ␇, CR as ␍, C1 as \\x9b), whole escape sequences (a line ending in ␛[2K is not erased,
an OSC 52 clipboard write is not run), and the characters that reorder or break lines (bidi overrides,
isolates and marks; U+2028/U+2029) as \\u202e. Newline and tab are kept, except in one-line text (names,
titles, error messages), where a newline could fake a line of voiceloop's own.
"""

from __future__ import annotations

import re
from typing import Any

from rich.text import Text

CONTROL_STYLE = "bold reverse red"
"""How a shown control character or escape sequence stands out from the text around it."""

_REORDER = "\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029"
_CONTROLS = "\x00-\x08\x0b-\x1f\x7f-\x9f" + _REORDER
"""Newline and tab are not here: multi-line text keeps them."""
_SEQUENCE = (
    r"\x1b\[[0-?]*[ -/]*[@-~]?"  # CSI: ESC [ parameters, intermediates, final byte (ESC[2K, ESC[8m)
    r"|\x1b\][^\x07\x1b\n]*(?:\x07|\x1b\\)?"  # OSC up to BEL or ST: title (0), hyperlink (8), clipboard (52)
    r"|\x1b[ -~]?"  # any other escape (ESC c, ESC 7)
    r"|\x9b[0-?]*[ -/]*[@-~]?"  # the one-byte CSI
)
_UNSAFE = re.compile(f"{_SEQUENCE}|[{_CONTROLS}]")
_UNSAFE_LINE = re.compile(f"{_SEQUENCE}|[{_CONTROLS}\n\t]")
_CONTROL = re.compile(f"[{_CONTROLS}]")


def _glyph(ch: str) -> str:
    """How one control character is shown: its control picture (␛ ␇ ␍ ␊ ␉), else its code."""
    code = ord(ch)
    if code < 0x20:
        return chr(0x2400 + code)
    if code == 0x7F:
        return "\u2421"  # ␡
    if code < 0xA0:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}"


def _glyphs(unsafe: str) -> str:
    """A matched sequence with each control in it shown: "\\x1b[2K" -> "␛[2K"; printable parts stay."""
    return "".join(_glyph(ch) if ch in "\n\t" or _CONTROL.match(ch) else ch for ch in unsafe)


def visible(text: str, one_line: bool = False) -> tuple[str, list[tuple[int, int]]]:
    """(text with every control shown, the [start, end) spans of what was shown), as plain str."""
    out: list[str] = []
    marks: list[tuple[int, int]] = []
    at = size = 0
    for m in (_UNSAFE_LINE if one_line else _UNSAFE).finditer(text):
        out.append(text[at : m.start()])
        size += m.start() - at
        shown = _glyphs(m.group())
        out.append(shown)
        marks.append((size, size + len(shown)))
        size += len(shown)
        at = m.end()
    out.append(text[at:])
    return "".join(out), marks


def shown(text: str, style: str = "", *, one_line: bool = False, lexer: str | None = None) -> Text:
    """Untrusted text as a rich Text to print: never markup, every control shown and marked. one_line: newlines
    and tabs shown too (names, paths, titles, one-line messages). lexer: highlighted as that language."""
    plain, marks = visible(text, one_line)
    out = _highlighted(plain, lexer) if lexer else None
    if out is None:
        out = Text(plain, style=style)
    elif style:
        out.stylize(style)
    for start, end in marks:
        out.stylize(CONTROL_STYLE, start, end)
    return out


def controls(text: str) -> int:
    """How many characters in text a terminal would obey rather than show (newline and tab not counted)."""
    return len(_CONTROL.findall(text))


def glyphs_of(text: str, most: int = 6) -> list[str]:
    """The distinct ways text's controls are shown ("␛", "\\u202e"), in order of first appearance."""
    seen: dict[str, None] = {}
    for ch in _CONTROL.findall(text):
        seen.setdefault(_glyph(ch))
        if len(seen) >= most:
            break
    return list(seen)


def line(*parts: str | Text | tuple[str, str]) -> Text:
    """One line of voiceloop's own words and untrusted text: a (words, style) pair is ours, as written; a bare
    str is untrusted and shown one-line; a Text is used as it is (already shown)."""
    out = Text()
    for part in parts:
        if isinstance(part, tuple):
            out.append(part[0], style=part[1])
        elif isinstance(part, Text):
            out.append_text(part)
        else:
            out.append_text(shown(part, one_line=True))
    return out


def _highlighted(plain: str, lexer: str) -> Text | None:
    """plain highlighted by the Pygments lexer of that name, its characters exactly as given (no tabs
    expanded, no newline added or stripped: the marks' offsets must still hold); None when that cannot be."""
    from pygments.lexers import get_lexer_by_name
    from pygments.util import ClassNotFound
    from rich.syntax import Syntax

    try:
        pygments: Any = get_lexer_by_name(lexer, stripnl=False, ensurenl=False, tabsize=0)
    except ClassNotFound:
        return None
    # lexers read lines by their newline: a last line without one (a diff's "+added") would be error tokens
    out = Syntax(plain, pygments, theme="ansi_dark", word_wrap=True).highlight(plain + "\n")
    out.right_crop(1)
    return out if out.plain == plain else None
