"""One part of a request -> a file command intent, when it fits one of the sentence templates exactly."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

from voiceloop.agent.filecmds import list_files, read_file, undo
from voiceloop.agent.intents import Intent
from voiceloop.agent.understand.words import strip_lead

SENTENCES = Path(__file__).resolve().parent / "sentences"
GROUNDERS = {"list_files": list_files.ground, "undo": undo.ground, "read_file": read_file.ground}
"""Intent name (its YAML file) -> its grounding, in the order a sentence matching several is tried."""


@functools.lru_cache(maxsize=1)
def templates() -> Any:
    """Every intent's templates, compiled once (hassil is imported here: only sessions that talk need it)."""
    from hassil import Intents

    return Intents.from_files(sorted(SENTENCES.glob("*.yaml")))


def match_file_command(part: str, known: list[str]) -> list[Intent] | None:
    """The intent for one part ("read me notes.txt"), or None when no template fits it and grounds.

    known: the session's files, oldest first (the last is what "it" means). A template can match in
    several ways ("read me notes.txt": the name "notes.txt" or "me notes.txt"); the first way its intent's
    grounding accepts wins, so a wildcard that holds no file ("read me a story about dragons") is left to
    the rest of the understanding path.
    """
    from hassil import recognize_all

    said = part.strip()
    found: dict[str, list[dict[str, str]]] = {}
    # as said, then without the polite lead ("okay, can you please ..."): stripping first would also take
    # the "and" off "and do that", which is how Whisper writes "undo that"
    for text in dict.fromkeys((said, strip_lead(said).strip())):
        for result in recognize_all(text, templates()) if text else ():
            slots = {name: str(e.value).strip() for name, e in result.entities.items()}
            found.setdefault(result.intent.name, []).append(slots)
    for name, ground in GROUNDERS.items():
        # a name said outright beats words around it: "read me the notes.txt file" is notes.txt, not "notes txt"
        for slots in sorted(found.get(name, []), key=lambda slots: "filename" not in slots):
            intent = ground(slots, said, known)
            if intent is not None:
                return [intent]
    return None
