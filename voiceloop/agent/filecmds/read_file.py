"""read_file: "read me notes.txt", "what's in the shopping list" -> the file's text, spoken and shown.

Only the sandbox reads: a name outside output/, a link, a binary or an odd file is refused there with its
one-line reason. A file too long to listen to is refused here.
"""

from __future__ import annotations

import difflib
from pathlib import PurePosixPath

from voiceloop.agent.confirm import Confirmer
from voiceloop.agent.filecmds.list_files import listing
from voiceloop.agent.intents import Action, Intent, Via, normalize_filename
from voiceloop.agent.results import ActionResult, Status
from voiceloop.agent.sandbox import Sandbox
from voiceloop.agent.understand import shapes
from voiceloop.agent.understand.clarify import ask_for_file
from voiceloop.agent.understand.words import escapes, known_by_words, names_in, session_file, squash, words
from voiceloop.errors import SandboxError
from voiceloop.vocabulary import is_one

ACTION = Action.READ_FILE
MAX_READ_BYTES = 3_000  # about four minutes of speech: longer is better summarized or opened in an editor
_PATH_CHARS = frozenset("_.-")
_NOT_A_FILE = frozenset({"a", "an", "some", "any", "another", "me", "us", "back", "out"})
"""Words before the file word that mean something to make up ("read me a ... list of ideas"), or
template words caught in the wildcard, not a file's name."""


def ground(slots: dict[str, str], said: str, known: list[str]) -> Intent | None:
    """A written name, "it", or "<topic> <file word>" ("the shopping list"); None for anything else, so
    "read me a story about dragons" goes on to be answered."""
    if "filename" in slots:
        spoken = slots["filename"].strip(" .,!?")
        if _spoken_path(spoken):
            spoken = normalize_filename(spoken)
        if escapes(spoken) or _path(spoken):  # kept whole: the sandbox reads it or says why not, aloud
            return Intent(ACTION, _as_said(spoken, said), request=said, via=Via.FAST)
        if is_one(spoken, "read_it"):
            return Intent(ACTION, known[-1], request=said, via=Via.FAST) if known else ask_for_file(said, "read")
        m = shapes.match("just_a_name", spoken)
        if not m:
            return None
        name = names_in(m["name"])[0]
        return Intent(ACTION, session_file(name, known) or name, request=said, via=Via.FAST)
    topic = words(slots.get("topic", ""))
    if topic and topic[0] in _NOT_A_FILE:
        return None
    reference = " ".join([*topic, slots.get("file_word", "")]).strip()
    named = known_by_words(reference, known) or (known_by_words(" ".join(topic), known) if topic else "")
    return Intent(ACTION, named, request="" if named else reference, via=Via.FAST)


def _as_said(path: str, said: str) -> str:
    """The path with what the template's wildcard dropped in front of it ("../secret.txt", not "/secret.txt"):
    a refusal names the path the person gave."""
    whole = next((w for w in said.split() if path in w), "")
    return whole[: whole.rindex(path) + len(path)].rstrip(".,!?") if whole else path


def _part(text: str, more: str = "") -> bool:
    return bool(text) and all(ch.isalnum() or ch in _PATH_CHARS or ch in more for ch in text)


def _path(spoken: str) -> bool:
    """A path with no extension ("proc/self/status", "/etc/hostname"): read (or refused) as said, never answered
    by the model, which would make up what the file says."""
    first, *rest = spoken.removesuffix("/").split("/")
    return bool(rest) and (not first or _part(first, "~")) and all(_part(p) for p in rest)


def _spoken_path(spoken: str) -> bool:
    """The same path as Whisper writes it when said aloud ("slash proc slash self slash status")."""
    said = spoken.split()
    return _slashed(said) or (said[:1] == ["slash"] and _slashed(said[1:]))


def _slashed(said: list[str]) -> bool:
    """ "proc slash self slash status": parts with "slash" between them."""
    parts, slashes = said[::2], [w.lower() for w in said[1::2]]
    return len(said) >= 3 and len(said) % 2 == 1 and set(slashes) == {"slash"} and all(_part(w) for w in parts)


def find(reference: str, sandbox: Sandbox) -> str:
    """The file in output/ that "shopping list" names (shopping_list.txt, shopping-list.md, shopping.txt)."""
    names = [e.rel for e in listing(sandbox.root).entries]
    said = [squash(reference), squash(" ".join(reference.split()[:-1]))]
    for want in filter(None, said):
        exact = [n for n in names if squash(PurePosixPath(n).stem) == want]
        if exact:
            return exact[0]  # newest first
    close = difflib.get_close_matches(said[0], [squash(PurePosixPath(n).stem) for n in names], n=1, cutoff=0.8)
    if close:
        return next(n for n in names if squash(PurePosixPath(n).stem) == close[0])
    have = f"there is {', '.join(names[:6])}" if names else "the output folder is empty"
    raise SandboxError(f"I found no file called {reference!r} in the output folder; {have}")


def handle(intent: Intent, sandbox: Sandbox, confirmer: Confirmer) -> ActionResult:
    name = intent.filename or find(intent.request, sandbox)
    text = sandbox.read(name)
    size = len(text.encode("utf-8", "surrogatepass"))
    if size > MAX_READ_BYTES:
        raise SandboxError(
            f"{name} is {size:,} bytes, too long to read aloud (the limit is {MAX_READ_BYTES:,}); "
            f"ask me to summarize it, or open it in an editor"
        )
    target = str(sandbox.resolve(name))
    if not text.strip():
        return ActionResult(ACTION, Status.ANSWERED, target, f"{name} is empty.")
    return ActionResult(ACTION, Status.ANSWERED, target, f"{name} says: {text.strip()}")
