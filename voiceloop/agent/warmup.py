"""Warming the LLM at start, so the first spoken request does not pay for loading and prompt reading."""

from __future__ import annotations

import threading
import time

from voiceloop.errors import LLMError
from voiceloop.llm.ollama import LLMClient
from voiceloop.runtime import Runtime


def warm_llm(llm: LLMClient, temperature: float = 0.0) -> float | None:
    """One one-token intent call: the server loads the model (and keeps it for llm.keep_alive), the HTTP
    connection is opened, and the long intent prompt is read once, so Ollama and llama.cpp can reuse
    it from their prompt cache on the first real turn. Returns its seconds, or None if the server did
    not answer (start-up goes on: a turn will then say what is wrong)."""
    from voiceloop.agent.understand.prompt import SCHEMA, prompt_messages

    t0 = time.perf_counter()
    try:
        llm.chat(
            prompt_messages("hello"),  # the classifier's own opening (rules and examples), read once here
            fmt=SCHEMA,
            options={"temperature": temperature, "num_predict": 1},
        )
    except LLMError:
        return None
    return time.perf_counter() - t0


def warm_llm_soon(llm: LLMClient, runtime: Runtime, temperature: float = 0.0) -> threading.Thread:
    """warm_llm on a thread: start-up goes on to load the rest (and listen) while the server works."""
    return runtime.spawn("llm-warm-up", warm_llm, llm, temperature)
