"""What to say while a long piece of work runs, so the person is not left in silence."""

from __future__ import annotations

from voiceloop.agent.intents import Action, Intent
from voiceloop.agent.tools import wants_empty


def acknowledgement(intent: Intent) -> str:
    """A short spoken line before the model writes a file ("Writing fib.py."); "" when the action is quick
    (dictated text, an empty file, an answer, whose reply itself comes at once)."""
    name = intent.filename
    if not name:
        return ""
    if intent.action is Action.WRITE_CODE:
        return f"Writing {name}."
    if intent.action is Action.EDIT_FILE:
        return f"Changing {name}."
    if intent.action is Action.CREATE_FILE and not intent.content and not wants_empty(intent):
        return f"Writing {name}."
    return ""
