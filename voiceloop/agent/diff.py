"""The unified diff the write panel shows for an overwrite: lines as the file has them, and a last line
without a newline marked the way diff and git mark it."""

from __future__ import annotations

import difflib

NO_NEWLINE = "\\ No newline at end of file"


def file_lines(text: str) -> list[str]:
    """text's lines, each with its newline; they end at "\\n" only (str.splitlines also ends them at \\r, \\f,
    \\x1c-\\x1e, \\x85, U+2028 and U+2029, so the diff would count lines the file does not have)."""
    parts = text.split("\n")
    return [p + "\n" for p in parts[:-1]] + ([parts[-1]] if parts[-1] else [])


def unified(old: str, new: str, old_name: str, new_name: str) -> str:
    """The unified diff from old to new ("" when equal). A line without a final newline is followed by
    NO_NEWLINE on a line of its own, so it neither runs into the next diff line nor hides an added line."""
    lines = difflib.unified_diff(file_lines(old), file_lines(new), old_name, new_name)
    return "".join(x if x.endswith("\n") else f"{x}\n{NO_NEWLINE}\n" for x in lines)
