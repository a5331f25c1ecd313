"""list_files: "what files do we have?" -> the files in output/, newest first, said briefly."""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path

from voiceloop.agent.confirm import Confirmer
from voiceloop.agent.intents import Action, Intent, Via
from voiceloop.agent.sandbox import MAX_DEPTH, Sandbox
from voiceloop.agent.tools import ActionResult, Status
from voiceloop.errors import SandboxError

ACTION = Action.LIST_FILES
SPOKEN = 6  # names said aloud; more is a list nobody can follow by ear
MAX_LISTED = 10_000  # a folder holding more is not one a person filled by talking


@dataclass(frozen=True)
class Entry:
    """One file in output/."""

    rel: str
    """Its name inside output/, with / between folders."""
    size: int
    """Bytes."""
    mtime: float
    """Last modified (seconds since the epoch)."""


def ground(slots: dict[str, str], said: str, known: list[str]) -> Intent | None:
    """No slots: the template is the whole request."""
    return Intent(ACTION, request=said, via=Via.FAST)


def files_in(root: Path) -> list[Entry]:
    """The regular files under root, newest first. Links (to files or folders) are not followed or listed,
    hidden files (voiceloop's marker, half-written temp files) are skipped."""
    if os.path.islink(root):
        raise SandboxError(f"refused: the output folder {root} is a link; voiceloop does not follow it")
    out: list[Entry] = []
    for folder, dirs, names in os.walk(root):  # os.walk never descends into a linked folder
        depth = len(Path(folder).relative_to(root).parts)
        dirs[:] = [] if depth >= MAX_DEPTH else sorted(d for d in dirs if not d.startswith("."))
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
                break
    return sorted(out, key=lambda e: (-e.mtime, e.rel))


def spoken_list(names: list[str]) -> str:
    """ "a, b and c" """
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


def handle(intent: Intent, sandbox: Sandbox, confirmer: Confirmer) -> ActionResult:
    entries = files_in(sandbox.root)
    if not entries:
        return ActionResult(ACTION, Status.ANSWERED, str(sandbox.root), "There are no files in the output folder yet.")
    names = [e.rel for e in entries]
    if len(names) == 1:
        say = f"There is one file in the output folder: {names[0]}."
    elif len(names) <= SPOKEN:
        say = f"There are {len(names)} files in the output folder: {spoken_list(names)}."
    else:
        say = (
            f"There are {len(names)} files in the output folder. The newest are "
            f"{spoken_list([*names[:SPOKEN], f'{len(names) - SPOKEN} more'])}."
        )
    return ActionResult(ACTION, Status.ANSWERED, str(sandbox.root), say)
