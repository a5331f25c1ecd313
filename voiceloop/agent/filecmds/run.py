"""Carry out a file command: the hook Tools.run calls for list_files, read_file and undo."""

from __future__ import annotations

from typing import TYPE_CHECKING

from voiceloop.agent.intents import Action, Intent

if TYPE_CHECKING:
    from voiceloop.agent.confirm import Confirmer
    from voiceloop.agent.sandbox import Sandbox
    from voiceloop.agent.tools import ActionResult


def run_file_command(intent: Intent, sandbox: Sandbox, confirmer: Confirmer) -> ActionResult:
    """The intent's own module handles it (SandboxError is the caller's: a refusal, spoken)."""
    # imported here: the intent modules build tools.ActionResult, and tools imports this module
    from voiceloop.agent.filecmds import list_files, read_file, undo

    handlers = {Action.LIST_FILES: list_files.handle, Action.READ_FILE: read_file.handle, Action.UNDO: undo.handle}
    return handlers[intent.action](intent, sandbox, confirmer)
