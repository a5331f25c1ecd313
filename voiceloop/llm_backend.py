"""Pick the LLM client from config: Ollama, an OpenAI-compatible server, or whichever answers ("auto")."""

from __future__ import annotations

import requests

from voiceloop.config import Config
from voiceloop.errors import LLMError
from voiceloop.llm import LLMClient, OllamaClient
from voiceloop.openai_client import OpenAIClient, base_url


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
    """"ollama" if /api/version answers, else "openai" if /v1/models answers, else None."""
    root = base_url(host)
    if _answers(root + "/api/version", timeout_s, "version"):
        return "ollama"
    if _answers(root + "/v1/models", timeout_s, "data"):
        return "openai"
    return None


def connect(cfg: Config) -> tuple[LLMClient, str]:
    """The client llm.backend asks for, and one line saying which server it talks to.

    "auto" with nothing answering gives the Ollama client, whose errors then say to start Ollama.
    """
    llm = cfg.llm
    host = cfg.ollama_host
    backend = llm.backend
    how = ""
    if backend == "auto":
        found = detect(host, llm.connect_timeout_s)
        backend = found or "ollama"
        how = " (llm.backend auto: found it)" if found else " (llm.backend auto: nothing answered)"
    if backend == "openai":
        client: LLMClient = OpenAIClient(
            host, llm.model, connect_timeout_s=llm.connect_timeout_s, read_timeout_s=llm.read_timeout_s
        )
        return client, f"OpenAI-compatible server at {client.host}{how}"
    client = OllamaClient(
        host,
        llm.model,
        connect_timeout_s=llm.connect_timeout_s,
        read_timeout_s=llm.read_timeout_s,
        keep_alive=llm.keep_alive,
    )
    return client, f"Ollama at {client.host}{how}"


def model_present(client: LLMClient, model: str) -> str:
    """Say how we know `model` is there, or raise LLMError with the fix."""
    names = client.models()
    if model in names or (":" not in model and f"{model}:latest" in names):
        return f"model {model!r} is available"
    if isinstance(client, OllamaClient):
        raise LLMError(f"model {model!r} is not pulled: run `ollama pull {model}`")
    # single-model servers (llama.cpp, LM Studio) may list an alias but answer to any name: ask it
    client.chat([{"role": "user", "content": "Say OK."}], options={"num_predict": 1, "temperature": 0})
    return f"model {model!r} answers (the server lists: {', '.join(names[:5]) or 'nothing'})"
