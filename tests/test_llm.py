"""The Ollama client: the real server for what a model does, the wire-level fake for failures."""

from __future__ import annotations

import json

import pytest

from voiceloop.errors import LLMError
from voiceloop.llm.ollama import OllamaClient

from .wire import fake_ollama, free_port, reply, stream

DONE = json.dumps({"message": {"role": "assistant", "content": ""}, "done": True}).encode()


def piece(text: str) -> bytes:
    return json.dumps({"message": {"role": "assistant", "content": text}, "done": False}).encode()


@pytest.mark.llm
def test_real_server_streams_an_answer(llm: OllamaClient) -> None:
    seen: list[str] = []
    result = llm.chat(
        [{"role": "user", "content": "Say the word hello."}],
        options={"temperature": 0, "num_predict": 20},
        on_token=seen.append,
    )
    assert result.content and "".join(seen) == result.content
    assert 0 < result.first_token_s <= result.total_s
    assert llm.version()
    assert llm.model in llm.models()


def test_ollama_not_running_says_what_to_run() -> None:
    client = OllamaClient(f"http://127.0.0.1:{free_port()}", "gemma3:4b", connect_timeout_s=1)
    with pytest.raises(LLMError, match="ollama serve"):
        client.chat([{"role": "user", "content": "hi"}])


@pytest.mark.parametrize(
    "script,message",
    [
        (reply(404, b'{"error":"model \'gemma3:4b\' not found, try pulling it first"}'), "ollama pull gemma3:4b"),
        (reply(500, b'{"error":"llama runner process has terminated"}'), "HTTP 500: llama runner"),
        (reply(502, b"<html>bad gateway</html>", "text/html"), "HTTP 502"),
        (stream([piece("Hel"), b'{"error":"out of memory"}']), "failed mid-answer: out of memory"),
        (stream([piece("Hel"), b"this is not json"]), "broken stream line"),
        (stream([piece("Hel")]), "before the answer was done"),
        (stream([piece("Hel")], then_reset=True), "mid-answer"),
    ],
    ids=["not-pulled", "http-500", "http-502-html", "error-line", "garbage-line", "no-done", "reset"],
)
def test_failures_become_one_clear_line(script, message: str) -> None:
    with fake_ollama(script) as url:
        client = OllamaClient(url, "gemma3:4b", read_timeout_s=0.2)
        with pytest.raises(LLMError) as info:
            client.chat([{"role": "user", "content": "hi"}])
    assert message in str(info.value) and "\n" not in str(info.value)


def test_a_stalled_stream_ends_at_the_read_timeout() -> None:
    """The server sends a piece, then nothing (until the client hangs up, at most 0.5 s): the client gives up
    after read_timeout_s and says so in one line, naming the setting to raise."""
    with fake_ollama(stream([piece("Hel")], pause_s=0.5)) as url:
        client = OllamaClient(url, "gemma3:4b", read_timeout_s=0.2)
        with pytest.raises(LLMError) as info:
            client.chat([{"role": "user", "content": "hi"}])
    message = str(info.value)
    assert "sent nothing for" in message and "llm.read_timeout_s" in message and "\n" not in message


def test_recorded_good_stream_is_assembled() -> None:
    with fake_ollama(stream([piece("Hello"), piece(" there."), DONE])) as url:
        result = OllamaClient(url, "m").chat([{"role": "user", "content": "hi"}])
    assert result.content == "Hello there."
