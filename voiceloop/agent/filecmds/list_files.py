"""list_files: "what files do we have?" -> the files in output/, newest first, said briefly."""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path

from voiceloop.agent.confirm import Confirmer
from voiceloop.agent.intents import Action, Intent, Via
from voiceloop.agent.results import ActionResult, Status
from voiceloop.agent.sandbox import MAX_DEPTH, Sandbox
from voiceloop.errors import SandboxError

ACTION = Action.LIST_FILES
SPOKEN = 6  # names said aloud; more is a list nobody can follow by ear
MAX_LISTED = 100_000  # files looked at (well under a second); a folder holding more is not one filled by talking


@dataclass(frozen=True)
class Entry:
    """One file in output/."""

    rel: str
    """Its name inside output/, with / between folders."""
    size: int
    """Bytes."""
    mtime: float
    """Last modified (seconds since the epoch)."""


@dataclass(frozen=True)
class Listing:
    """What is in output/, and what was not looked at (said, never left out silently)."""

    entries: tuple[Entry, ...]
    """The regular files found, newest first."""
    complete: bool
    """False when the walk stopped at MAX_LISTED files: there are more than that."""
    deep: int
    """Folders left out because they are deeper than MAX_DEPTH (voiceloop neither reads nor writes there)."""


def ground(slots: dict[str, str], said: str, known: list[str]) -> Intent | None:
    """No slots: the template is the whole request."""
    return Intent(ACTION, request=said, via=Via.FAST)


def listing(root: Path) -> Listing:
    """The regular files under root, newest first. Links (to files or folders) are not followed or listed,
    hidden files (voiceloop's marker, half-written temp files) are skipped."""
    if os.path.islink(root):
        raise SandboxError(f"refused: the output folder {root} is a link; voiceloop does not follow it")
    out: list[Entry] = []
    deep = 0
    for folder, dirs, names in os.walk(root):  # os.walk never descends into a linked folder
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        if len(Path(folder).relative_to(root).parts) >= MAX_DEPTH:
            deep, dirs[:] = deep + len(dirs), []
        for name in names:
            if name.startswith("."):
                continue
            try:
                info = os.lstat(os.path.join(folder, name))
            except OSError:
                continue  # removed while we looked
            if stat.S_ISREG(info.st_mode):
                out.append(Entry(Path(folder, name).relative_to(root).as_posix(), info.st_size, info.st_mtime))
            if len(out) >= MAX_LISTED:
                return Listing(tuple(sorted(out, key=_newest)), False, deep)
    return Listing(tuple(sorted(out, key=_newest)), True, deep)


def _newest(e: Entry) -> tuple[float, str]:
    return (-e.mtime, e.rel)


def spoken_list(names: list[str]) -> str:
    """ "a, b and c" """
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


def handle(intent: Intent, sandbox: Sandbox, confirmer: Confirmer) -> ActionResult:
    found = listing(sandbox.root)
    return ActionResult(ACTION, Status.ANSWERED, str(sandbox.root), _say(found))


def _say(found: Listing) -> str:
    """The reply: how many files, the newest by name, and anything not looked at."""
    names = [e.rel for e in found.entries]
    deep = ""
    if found.deep:
        folders = "1 folder" if found.deep == 1 else f"{found.deep:,} folders"
        deep = f" I left out {folders} more than {MAX_DEPTH} folders deep: I do not read or write that deep."
    if not names and deep:
        return f"There are no files in the output folder within {MAX_DEPTH} folders.{deep}"
    if not names:
        return "There are no files in the output folder yet."
    if not found.complete:
        newest = spoken_list(names[:SPOKEN])
        return (
            f"There are more than {len(names):,} files in the output folder; I stopped counting there, "
            f"so these are the newest of the ones I looked at: {newest}.{deep}"
        )
    if len(names) == 1:
        return f"There is one file in the output folder: {names[0]}.{deep}"
    if len(names) <= SPOKEN:
        return f"There are {len(names)} files in the output folder: {spoken_list(names)}.{deep}"
    rest = f"{len(names) - SPOKEN:,} more"
    return (
        f"There are {len(names):,} files in the output folder. The newest are "
        f"{spoken_list([*names[:SPOKEN], rest])}.{deep}"
    )
