"""The embedded backend: llama.cpp (xllamacpp) in this process, on the packaged Qwen 0.5B GGUF.

xllamacpp runs llama.cpp's own server on a private loopback port (port 0: the OS picks one) with a
random API key; we talk to it with the OpenAI client, so streaming, JSON schemas and errors work
exactly as with an external llama.cpp server.
"""

from __future__ import annotations

import os
import secrets
import threading
from collections.abc import Callable
from typing import Any, ClassVar

from voiceloop.errors import LLMError, VoiceloopError
from voiceloop.llm.gguf import MODEL_NAME, Progress, assemble_gguf, model
from voiceloop.llm.openai_compat import OpenAIClient


def available(name: str = MODEL_NAME) -> bool:
    """True if xllamacpp and the model's packages are installed (no loading)."""
    import importlib.util

    try:
        return importlib.util.find_spec("xllamacpp") is not None and model(name).installed()
    except VoiceloopError:
        return False


class EmbeddedClient(OpenAIClient):
    """An OpenAIClient bound to a llama.cpp server that lives (and dies) with this object."""

    backend = "embedded"
    who = "the embedded model"
    extra_options: ClassVar[dict[str, str]] = {"repeat_penalty": "repeat_penalty", "repeat_last_n": "repeat_last_n"}

    def __init__(
        self,
        server: Any,
        url: str,
        api_key: str,
        *,
        read_timeout_s: float,
        answer_timeout_s: float = 300.0,
        name: str = MODEL_NAME,
        stop: threading.Event | None = None,
    ) -> None:
        super().__init__(
            url,
            name,
            connect_timeout_s=3.0,
            read_timeout_s=read_timeout_s,
            answer_timeout_s=answer_timeout_s,
            stop=stop,
        )
        self.http.headers["Authorization"] = f"Bearer {api_key}"
        self._server = server  # llama.cpp stops when this is garbage-collected

    def _not_running(self) -> LLMError:
        # there is no server to start: llama.cpp lives in this process, on a port of its own
        return LLMError("the embedded model stopped answering (llama.cpp in this process); restart voiceloop")

    def chat(self, messages: Any, **kwargs: Any) -> Any:
        kwargs.pop("model", None)  # one model is loaded; any other name would be misleading
        return super().chat(messages, **kwargs)


def start(
    *,
    read_timeout_s: float = 60.0,
    answer_timeout_s: float = 300.0,
    threads: int | None = None,
    n_ctx: int = 8192,
    progress: Progress | None = None,
    say: Callable[[str], None] | None = None,
    name: str = MODEL_NAME,
    stop: threading.Event | None = None,
) -> EmbeddedClient:
    """Assemble the GGUF of model `name` if needed, load it into llama.cpp here, and return a client for it."""
    try:
        spec = model(name)
    except VoiceloopError as e:
        raise LLMError(str(e)) from e
    try:
        import xllamacpp
    except ImportError as e:
        raise LLMError(f'llm.backend = "embedded" needs xllamacpp: {spec.install_hint}') from e
    try:
        gguf = assemble_gguf(progress=progress, gguf=spec)
    except VoiceloopError as e:
        raise LLMError(str(e)) from e
    if say:
        say(f"loading the embedded model {name} ({gguf.stat().st_size / 1e6:.0f} MB)")
    key = secrets.token_hex(16)
    params = xllamacpp.CommonParams()
    params.model.path = str(gguf)
    params.model_alias = {name}
    params.hostnames = ["127.0.0.1"]
    params.port = 0
    params.api_keys = [key]
    params.n_ctx = n_ctx
    params.n_parallel = 1
    params.verbosity = -1
    params.ui = False
    n = threads or _env_threads() or max(1, os.cpu_count() or 1)
    params.cpuparams.n_threads = n
    params.cpuparams_batch.n_threads = n
    try:
        server = xllamacpp.Server(params)
    except Exception as e:  # the binding raises RuntimeError or its own types
        raise LLMError(f"llama.cpp could not load {gguf.name} ({type(e).__name__}: {e}); {spec.install_hint}") from e
    address = str(server.listening_address)
    return EmbeddedClient(
        server, address, key, read_timeout_s=read_timeout_s, answer_timeout_s=answer_timeout_s, name=name, stop=stop
    )


THREADS_ENV = "VOICELOOP_EMBEDDED_THREADS"
"""llama.cpp threads for the embedded model (default: one per core). Its threads wait on each other at every step of
a token, so where other work holds a core (the test suite's parallel workers) one thread answers faster than two."""


def _env_threads() -> int | None:
    text = os.environ.get(THREADS_ENV, "").strip()
    return int(text) if text.isdigit() and int(text) > 0 else None
