"""The OpenAI-compatible client and llm.backend: the real llama.cpp server for answers, a fake wire for failures."""

from __future__ import annotations

import json
import os
import urllib.request
from pathlib import Path

import pytest

from voiceloop.config import Config, LlmConfig
from voiceloop.errors import LLMError
from voiceloop.llm.backend import connect, detect
from voiceloop.llm.ollama import OllamaClient
from voiceloop.llm.openai_compat import API_KEY_ENV, OpenAIClient

from .conftest import DATA, TEST_MODEL, run_cli, write_config
from .wire import fake_ollama, free_port, reply, stream

OPENAI = os.environ.get("VOICELOOP_TEST_OPENAI", "http://127.0.0.1:18080")


def event(text: str | None = None, finish: str | None = None) -> bytes:
    chunk = {"choices": [{"index": 0, "delta": {"content": text} if text else {}, "finish_reason": finish}]}
    return b"data: " + json.dumps(chunk).encode() + b"\n"


DONE = b"data: [DONE]\n"


@pytest.fixture(scope="session")
def openai_url(ollama_url: str) -> str:
    """llama.cpp's own OpenAI-compatible server, the one scripts/llm_server.py puts behind the Ollama API."""
    try:
        with urllib.request.urlopen(OPENAI + "/v1/models", timeout=5) as r:
            assert r.status == 200
    except OSError:
        pytest.fail(f"no OpenAI-compatible server at {OPENAI} (scripts/llm_server.py --backend-port)")
    return OPENAI


@pytest.mark.llm
def test_real_server_streams_an_answer(openai_url: str) -> None:
    client = OpenAIClient(openai_url + "/v1", TEST_MODEL, read_timeout_s=120)  # the /v1 URL servers print works too
    seen: list[str] = []
    result = client.chat(
        [{"role": "user", "content": "Say the word hello."}],
        options={"temperature": 0, "num_predict": 20},
        on_token=seen.append,
    )
    assert result.content and "".join(seen) == result.content
    assert 0 < result.first_token_s <= result.total_s
    assert client.models() and client.version().startswith("OpenAI API")


@pytest.mark.llm
def test_real_server_follows_the_json_schema(openai_url: str) -> None:
    schema = {
        "type": "object",
        "properties": {"city": {"type": "string"}, "country": {"type": "string"}},
        "required": ["city", "country"],
    }
    client = OpenAIClient(openai_url, TEST_MODEL, read_timeout_s=120)
    answer = client.chat(
        [{"role": "user", "content": "Name the capital of France as JSON."}],
        fmt=schema,
        options={"temperature": 0, "num_predict": 60},
    )
    data = json.loads(answer.content)
    assert set(data) >= {"city", "country"} and all(isinstance(v, str) for v in data.values())


@pytest.mark.llm
def test_auto_finds_ollama_then_openai_and_says_which(ollama_url: str, openai_url: str) -> None:
    assert detect(ollama_url, 3) == "ollama"
    assert detect(openai_url, 3) == "openai"
    assert detect(f"http://127.0.0.1:{free_port()}", 1) is None
    client, how = connect(Config(llm=LlmConfig(host=openai_url, model=TEST_MODEL)))
    assert isinstance(client, OpenAIClient) and "OpenAI-compatible" in how and "auto" in how
    client, how = connect(Config(llm=LlmConfig(host=ollama_url, model=TEST_MODEL)))
    assert isinstance(client, OllamaClient) and how.startswith("Ollama")
    dead = f"http://127.0.0.1:{free_port()}"
    client, how = connect(Config(llm=LlmConfig(host=dead, backend="ollama")))
    assert isinstance(client, OllamaClient)  # asked for Ollama: its errors say `ollama serve`


@pytest.mark.slow
@pytest.mark.llm
def test_once_runs_a_whole_turn_through_the_openai_backend(tmp_path: Path, openai_url: str) -> None:
    write_config(tmp_path / "config.toml", openai_url, 'backend = "openai"')
    result = run_cli("once", str(DATA / "create_notes.wav"), "--no-speak", "--json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    turn = json.loads(result.stdout)
    assert "notes.txt" in turn["transcript"]
    assert turn["intents"][0]["action"] == "create_file"
    assert turn["actions"][0]["status"] == "declined"  # no terminal: nothing written
    assert not (tmp_path / "output").exists()


@pytest.mark.slow
@pytest.mark.llm
def test_doctor_on_the_openai_backend(tmp_path: Path, openai_url: str) -> None:
    write_config(tmp_path / "config.toml", openai_url)  # backend auto
    result = run_cli("doctor", cwd=tmp_path)
    llm = [ln for ln in result.stdout.splitlines() if "LLM server" in ln]
    assert llm and llm[0].startswith("✓ ") and "OpenAI-compatible" in llm[0], result.stdout


def test_not_running_says_what_to_start() -> None:
    client = OpenAIClient(f"http://127.0.0.1:{free_port()}", "m", connect_timeout_s=1)
    with pytest.raises(LLMError, match="no OpenAI-compatible server is answering"):
        client.chat([{"role": "user", "content": "hi"}])
    with pytest.raises(LLMError, match="no OpenAI-compatible server is answering"):
        client.models()


VLLM_404 = b'{"object":"error","message":"The model `gemma3:4b` does not exist.","type":"NotFoundError","code":404}'


@pytest.mark.parametrize(
    "script,message",
    [
        (reply(404, VLLM_404), "model 'gemma3:4b' is not served"),
        (reply(404, b"<html>Not Found</html>", "text/html"), "/v1/chat/completions does not exist (HTTP 404)"),
        (reply(500, b'{"error":{"message":"llama runner crashed","type":"server_error"}}'), "HTTP 500: llama runner"),
        (reply(401, b'{"error":{"message":"Invalid API Key"}}'), API_KEY_ENV),
        (stream([event("Hel"), b'data: {"error":{"message":"out of memory"}}\n']), "failed mid-answer: out of memory"),
        (stream([event("Hel"), b'error: {"message":"context overflow"}\n']), "failed mid-answer: context overflow"),
        (stream([event("Hel"), b"data: this is not json\n"]), "broken stream line"),
        (stream([event("Hel")]), "before the answer was done"),
        (stream([event("Hel")], then_reset=True), "mid-answer"),
    ],
    ids=[
        "model-missing",
        "not-openai",
        "http-500",
        "api-key",
        "error-data",
        "error-event",
        "garbage",
        "no-done",
        "reset",
    ],
)
def test_failures_become_one_clear_line(script, message: str) -> None:
    with fake_ollama(script) as url:
        client = OpenAIClient(url, "gemma3:4b", read_timeout_s=1.0)
        with pytest.raises(LLMError) as info:
            client.chat([{"role": "user", "content": "hi"}])
    assert message in str(info.value) and "\n" not in str(info.value)


def test_a_stalled_stream_ends_at_the_read_timeout() -> None:
    """The server sends a piece, then nothing (until the client hangs up, at most 0.5 s): the client gives up
    after read_timeout_s and says so in one line, naming the setting to raise."""
    with fake_ollama(stream([event("Hel")], pause_s=0.5)) as url:
        client = OpenAIClient(url, "gemma3:4b", read_timeout_s=0.2)
        with pytest.raises(LLMError) as info:
            client.chat([{"role": "user", "content": "hi"}])
    message = str(info.value)
    assert "sent nothing for" in message and "llm.read_timeout_s" in message and "\n" not in message


def test_recorded_streams_are_assembled() -> None:
    keepalive = b": ping\n"
    with fake_ollama(stream([keepalive, event("Hello"), event(" there."), event(finish="stop"), DONE])) as url:
        assert OpenAIClient(url, "m").chat([{"role": "user", "content": "hi"}]).content == "Hello there."
    # some servers end with finish_reason and no [DONE]
    with fake_ollama(stream([event("Hi"), event(finish="length")])) as url:
        assert OpenAIClient(url, "m").chat([{"role": "user", "content": "hi"}]).content == "Hi"


def test_models_lists_ids_and_rejects_a_non_openai_answer() -> None:
    with fake_ollama(reply(200, b'{"object":"list","data":[{"id":"a","owned_by":"vllm"},{"id":"b"}]}')) as url:
        client = OpenAIClient(url, "a")
        assert client.models() == ["a", "b"] and client.version() == "OpenAI API (vllm)"
    with fake_ollama(reply(200, b'{"models":[]}')) as url, pytest.raises(LLMError, match="no model list"):
        OpenAIClient(url, "a").models()


def test_request_carries_schema_options_and_key(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[tuple[dict, str]] = []
    answer = stream([event("{}", finish="stop"), DONE])

    def record(h) -> None:
        seen.append((json.loads(h.body), h.headers.get("Authorization", "")))
        answer(h)

    monkeypatch.setenv(API_KEY_ENV, "s3cret")
    schema = {"type": "object", "properties": {"a": {"type": "string"}}}
    with fake_ollama(record) as url:
        OpenAIClient(url, "m").chat(
            [{"role": "user", "content": "hi"}], fmt=schema, options={"temperature": 0.2, "num_predict": 7, "x": 1}
        )
    body, auth = seen[0]
    assert body["stream"] is True and body["model"] == "m"
    assert body["response_format"] == {"type": "json_schema", "json_schema": {"name": "answer", "schema": schema}}
    assert body["max_tokens"] == 7 and body["temperature"] == 0.2 and "x" not in body and "options" not in body
    assert auth == "Bearer s3cret"
