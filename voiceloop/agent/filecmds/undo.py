"""undo: "undo that", "take that back" -> the last confirmed write taken back, after its own yes.

What the write replaced is kept by the sandbox in memory for the session (Sandbox.last): undo puts it
back, or removes the file the write created. The sandbox refuses when the file changed since (edited,
removed, swapped for a link), so a change the person made by hand is never thrown away.
"""

from __future__ import annotations

from voiceloop.agent.confirm import Confirmer
from voiceloop.agent.intents import Action, Intent, Via
from voiceloop.agent.results import ActionResult, Status
from voiceloop.agent.sandbox import Sandbox
from voiceloop.agent.understand.words import escapes, names_in

ACTION = Action.UNDO
NOTHING_REPLY = "There is nothing to undo: I have not written anything since voiceloop started."
UNDONE_REPLY = "There is nothing more to undo: I already took back my last change, to {}, and I keep only that one."


def ground(slots: dict[str, str], said: str, known: list[str]) -> Intent | None:
    """ "undo that": no slot; "undo the change to notes.txt": that file, which must be the last write."""
    spoken = slots.get("filename", "").strip(" .,!?")
    if not spoken:
        return Intent(ACTION, request=said, via=Via.FAST)
    names = names_in(spoken)
    if escapes(spoken) or len(names) != 1:
        return None
    return Intent(ACTION, names[0], request=said, via=Via.FAST)


def handle(intent: Intent, sandbox: Sandbox, confirmer: Confirmer) -> ActionResult:
    last = sandbox.last
    if last is None and sandbox.undone is not None:  # a second "undo": the first one took the last change back
        return ActionResult(ACTION, Status.ANSWERED, "", UNDONE_REPLY.format(sandbox.undone.rel))
    if last is None:
        return ActionResult(ACTION, Status.ANSWERED, "", NOTHING_REPLY)
    if intent.filename and intent.filename != last.rel:
        why = f"The last change I made was to {last.rel}, not {intent.filename}; I can only undo the last one."
        return ActionResult(ACTION, Status.ANSWERED, "", why)
    proposal = sandbox.undo_proposal()  # SandboxError (changed since, a link): refused, nothing touched
    ok, why = confirmer.confirm(proposal)
    if not ok:
        return ActionResult(ACTION, Status.DECLINED, str(proposal.path), f"I did not undo {proposal.rel}: {why}.")
    path = sandbox.undo(proposal)
    if proposal.removes:
        return ActionResult(ACTION, Status.WRITTEN, str(path), f"I removed {proposal.rel}, which I had created.")
    return ActionResult(ACTION, Status.WRITTEN, str(path), f"I put {proposal.rel} back the way it was.")
