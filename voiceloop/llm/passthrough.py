"""A client wrapping another LLMClient: what the wrapper does not change (its server, version, models) comes
from the inner one. The response cache and listen's early-work clients are built on it."""

from __future__ import annotations

from voiceloop.llm.ollama import LLMClient


class PassThrough:
    """host, model and backend are the inner client's; version() and models() ask it."""

    def __init__(self, inner: LLMClient) -> None:
        self.inner = inner
        self.host, self.model, self.backend = inner.host, inner.model, inner.backend

    def version(self) -> str:
        return self.inner.version()

    def models(self) -> list[str]:
        return self.inner.models()
