"""Pick the LLM client from config: Ollama, an OpenAI-compatible server, or whichever answers ("auto")."""

from __future__ import annotations

import threading
from collections.abc import Callable

from voiceloop.config import Config
from voiceloop.errors import LLMError
from voiceloop.llm.address import shown
from voiceloop.llm.deadline import AnswerDeadline
from voiceloop.llm.http import ThreadSessions, fetch_whole
from voiceloop.llm.ollama import LLMClient, OllamaClient
from voiceloop.llm.openai_compat import OpenAIClient, base_url

Say = Callable[[str], None]


def _answers(http: ThreadSessions, root: str, path: str, timeout_s: float, key: str) -> bool:
    """True if GET root + path returns 200 with a JSON object holding `key` (so an HTML page does not count).
    Connecting and the whole answer get 2 * timeout_s together: a server trickling its headers is no answer."""
    nothing = LLMError("no answer")  # the probe only needs yes or no
    try:
        deadline = AnswerDeadline(2 * timeout_s)
        reply = fetch_whole(http, root, path, (timeout_s, timeout_s), deadline, "probe", (nothing, nothing))
        data = reply.json() if reply.status == 200 else None
    except (LLMError, ValueError):
        return False
    return isinstance(data, dict) and key in data


def detect(host: str, timeout_s: float) -> str | None:
    """ "ollama" if /api/version answers, else "openai" if /v1/models answers, else None."""
    root, http = base_url(host), ThreadSessions()
    if _answers(http, root, "/api/version", timeout_s, "version"):
        return "ollama"
    if _answers(http, root, "/v1/models", timeout_s, "data"):
        return "openai"
    return None


def _embedded(cfg: Config, say: Say | None, stop: threading.Event | None) -> LLMClient:
    from voiceloop.llm import embedded

    reported: list[int] = []

    def progress(done: int, total: int) -> None:
        step = done * 4 // total  # report quarters, not every chunk
        if say and step not in reported:
            reported.append(step)
            say(f"joining the embedded model from its packages (once): {done * 100 // total}%")

    llm = cfg.llm
    return embedded.start(
        read_timeout_s=llm.read_timeout_s,
        answer_timeout_s=llm.answer_timeout_s,
        progress=progress,
        say=say,
        name=llm.embedded_model,
        stop=stop,
    )


def connect(cfg: Config, say: Say | None = None, stop: threading.Event | None = None) -> tuple[LLMClient, str]:
    """The client llm.backend asks for, and one line saying which server it talks to.

    "auto" tries Ollama, then an OpenAI-compatible server at llm.host, then the embedded model if it is
    installed; with none of them it gives the Ollama client, whose errors then say to start Ollama.
    say() shows progress of slow steps (joining and loading the embedded model); stop: the session's stop
    token, which ends any request in flight when set (Ctrl-C).
    """
    llm = cfg.llm
    host = cfg.ollama_host
    backend: str = llm.backend
    how = ""
    if backend == "auto":
        from voiceloop.llm import embedded

        found = detect(host, llm.connect_timeout_s)
        where = shown(host)
        if found is None and embedded.available(llm.embedded_model):
            found = "embedded"
        backend = found or "ollama"
        how = {
            "ollama": " (llm.backend auto: Ollama answered)",
            "openai": " (llm.backend auto: an OpenAI-compatible server answered)",
            "embedded": f" (llm.backend auto: no server answered at {where})",
        }.get(found or "", f" (llm.backend auto: nothing answered at {where}, and the embedded model is not installed)")
    if backend == "embedded":
        local = _embedded(cfg, say, stop)
        return local, f"embedded llama.cpp running {local.model} in this process{how}"
    if backend == "openai":
        client: LLMClient = OpenAIClient(
            host,
            llm.model,
            connect_timeout_s=llm.connect_timeout_s,
            read_timeout_s=llm.read_timeout_s,
            answer_timeout_s=llm.answer_timeout_s,
            stop=stop,
        )
        return client, f"OpenAI-compatible server at {client.host}{how}"
    client = OllamaClient(
        host,
        llm.model,
        connect_timeout_s=llm.connect_timeout_s,
        read_timeout_s=llm.read_timeout_s,
        answer_timeout_s=llm.answer_timeout_s,
        keep_alive=llm.keep_alive,
        stop=stop,
    )
    return client, f"Ollama at {client.host}{how}"


def model_present(client: LLMClient, model: str) -> str:
    """Say how we know `model` is there, or raise LLMError with the fix."""
    names = client.models()
    if client.backend == "embedded":
        return f"model {client.model!r} is loaded (llm.model is not used by the embedded backend)"
    if model in names or (":" not in model and f"{model}:latest" in names):
        return f"model {model!r} is available"
    if isinstance(client, OllamaClient):
        raise LLMError(f"model {model!r} is not pulled: run `ollama pull {model}`")
    # single-model servers (llama.cpp, LM Studio) may list an alias but answer to any name: ask it
    client.chat([{"role": "user", "content": "Say OK."}], options={"num_predict": 1, "temperature": 0})
    return f"model {model!r} answers (the server lists: {', '.join(names[:5]) or 'nothing'})"
