"""Carry out a file command: the hook Tools.run calls for list_files, read_file and undo."""

from __future__ import annotations

from voiceloop.agent.confirm import Confirmer
from voiceloop.agent.filecmds import list_files, read_file, undo
from voiceloop.agent.intents import Action, Intent
from voiceloop.agent.results import ActionResult
from voiceloop.agent.sandbox import Sandbox

HANDLERS = {Action.LIST_FILES: list_files.handle, Action.READ_FILE: read_file.handle, Action.UNDO: undo.handle}


def run_file_command(intent: Intent, sandbox: Sandbox, confirmer: Confirmer) -> ActionResult:
    """The intent's own module handles it (SandboxError is the caller's: a refusal, spoken)."""
    return HANDLERS[intent.action](intent, sandbox, confirmer)
