"""The write prompt inside `listen`: the live line steps aside, the space-bar reader lets go of the
terminal, and the microphone is lent to the prompt (nothing else reads it while the person answers)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from contextlib import AbstractContextManager

from voiceloop.agent.confirm import Confirmer
from voiceloop.agent.sandbox import Proposal
from voiceloop.listen.live import LiveView
from voiceloop.listen.ptt import PushToTalk
from voiceloop.state import LoopState


class PausingConfirmer:
    """Takes the live view off the screen while the person answers the write prompt."""

    def __init__(self, inner: Confirmer, view: LiveView, ptt: PushToTalk | None = None) -> None:
        self.inner = inner
        self.view = view
        self.ptt = ptt
        self.lend: Callable[[], AbstractContextManager[None]] = contextlib.nullcontext
        """Set by `listen` to Listener.lend_mic once the microphone is open."""

    def confirm(self, proposal: Proposal) -> tuple[bool, str]:
        self.view.set_state(LoopState.CONFIRMING)
        keys = self.ptt.paused() if self.ptt is not None else contextlib.nullcontext()
        try:
            with self.view.paused(), keys, self.lend():  # the prompt reads a line: the space-bar reader lets go
                return self.inner.confirm(proposal)  # or Rename: asked again under the new name
        finally:
            self.view.set_state(LoopState.THINKING)
