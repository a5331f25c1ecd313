"""Trusting the LLM server no further than llm.host (issue 19): a hostile server on loopback redirects our
words elsewhere, trickles its headers, sends a line that never ends; a password in OLLAMA_HOST stays
hidden; Ctrl-C ends a stuck answer. The fake is only the wire; the clients and the CLI are the real code."""

from __future__ import annotations

import io
import json
import sys
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest
from rich.console import Console

from voiceloop.config import Config, LlmConfig, TtsConfig
from voiceloop.errors import LLMError
from voiceloop.llm.backend import connect, detect
from voiceloop.llm.embedded import EmbeddedClient
from voiceloop.llm.http import MAX_LINE_BYTES
from voiceloop.llm.ollama import OllamaClient
from voiceloop.llm.openai_compat import OpenAIClient
from voiceloop.runtime import Runtime

from .conftest import DATA, run_cli, write_config
from .wire import endless_line, fake_ollama, free_port, redirect, reply, stream, trickled_headers

HI = [{"role": "user", "content": "hi"}]
OLLAMA_DONE = json.dumps({"model": "m", "message": {"role": "assistant", "content": "stolen"}, "done": True}).encode()
OPENAI_DONE = b'data: {"choices":[{"delta":{"content":"stolen"},"finish_reason":"stop"}]}\n'


def ollama(url: str, **kw: float) -> OllamaClient:
    return OllamaClient(url, "m", read_timeout_s=1.0, answer_timeout_s=2.0, **kw)  # type: ignore[arg-type]


def openai(url: str, **kw: float) -> OpenAIClient:
    return OpenAIClient(url, "m", read_timeout_s=1.0, answer_timeout_s=2.0, **kw)  # type: ignore[arg-type]


CALLS: dict[str, Callable[[OllamaClient | OpenAIClient], object]] = {
    "chat": lambda c: c.chat(HI),
    "models": lambda c: c.models(),
}


class Thief:
    """Another server on loopback that answers whatever reaches it, and keeps what it was sent."""

    def __init__(self, answer: bytes) -> None:
        self.got: list[bytes] = []
        self.answer = answer

    def __call__(self, h: BaseHTTPRequestHandler) -> None:
        self.got.append(getattr(h, "body", b"") or h.path.encode())
        stream([self.answer])(h)


# --- redirects ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("make,answer", [(ollama, OLLAMA_DONE), (openai, OPENAI_DONE)], ids=["ollama", "openai"])
@pytest.mark.parametrize("call", ["chat", "models"])
def test_a_redirect_to_another_server_is_refused_and_nothing_reaches_it(make, answer: bytes, call: str) -> None:
    thief = Thief(answer)
    with (
        fake_ollama(thief) as elsewhere,
        fake_ollama(redirect(elsewhere + "/steal")) as url,
        pytest.raises(LLMError) as info,
    ):
        CALLS[call](make(url))
    message = str(info.value)
    assert thief.got == []  # not the system prompt, not the transcript, not even a GET
    assert "redirected" in message and elsewhere in message and "llm.host" in message and "\n" not in message


def test_a_redirect_within_the_same_server_is_followed() -> None:
    def moved(h: BaseHTTPRequestHandler) -> None:
        if h.path == "/api/chat":
            redirect("/api/chat/")(h)  # e.g. a reverse proxy adding the slash
        else:
            stream([OLLAMA_DONE])(h)

    with fake_ollama(moved) as url:
        assert ollama(url).chat(HI).content == "stolen"


def test_once_on_a_redirecting_server_sends_nothing_elsewhere_and_says_why(tmp_path: Path) -> None:
    thief = Thief(OLLAMA_DONE)
    with fake_ollama(thief) as elsewhere, fake_ollama(redirect(elsewhere + "/steal")) as url:
        write_config(tmp_path / "config.toml", url, 'backend = "ollama"')
        result = run_cli("once", str(DATA / "question.wav"), "--no-speak", cwd=tmp_path, timeout=120)
    assert thief.got == [], thief.got
    assert result.returncode == 6, result.stdout + result.stderr
    errors = [line for line in result.stdout.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "redirected" in errors[0] and "llm.host" in errors[0], result.stdout


# --- headers that never end --------------------------------------------------------------------------------


@pytest.mark.parametrize("make", [ollama, openai], ids=["ollama", "openai"])
@pytest.mark.parametrize("call", ["chat", "models"])
def test_headers_trickled_forever_end_at_the_answer_deadline(make, call: str) -> None:
    # a byte every 0.2 s for 30 s: the 1 s read timeout never fires
    with fake_ollama(trickled_headers(30.0)) as url, pytest.raises(LLMError) as info:
        t0 = time.monotonic()
        CALLS[call](make(url))
    assert time.monotonic() - t0 < 2.0 + 10.0  # a generous bound: ended by the deadline, not by the trickle
    assert "after 2 s" in str(info.value) and "llm.answer_timeout_s" in str(info.value)


def test_once_on_trickled_headers_exits_6_at_the_deadline(tmp_path: Path) -> None:
    with fake_ollama(trickled_headers(300.0)) as url:
        write_config(tmp_path / "config.toml", url, 'backend = "ollama"\nanswer_timeout_s = 3.0')
        # a generous bound for loading Whisper and hearing the question, then 3 s: not the 300 s trickle
        result = run_cli("once", str(DATA / "question.wav"), "--no-speak", cwd=tmp_path, timeout=90)
    assert result.returncode == 6, result.stdout + result.stderr
    errors = [line for line in result.stdout.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "after 3 s" in errors[0], result.stdout


def test_models_on_trickled_headers_exits_6_at_the_deadline(tmp_path: Path) -> None:
    with fake_ollama(trickled_headers(300.0)) as url:
        write_config(tmp_path / "config.toml", url, 'backend = "ollama"\nanswer_timeout_s = 3.0')
        result = run_cli("models", cwd=tmp_path, timeout=60)
    assert result.returncode == 6 and "after 3 s" in result.stdout, result.stdout + result.stderr


def test_the_auto_probe_gives_up_on_trickled_headers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "xllamacpp", None)  # as if the embedded backend were not installed
    found: list[object] = []
    with fake_ollama(trickled_headers(60.0)) as url:
        cfg = Config(llm=LlmConfig(host=url, backend="auto", connect_timeout_s=1.0))
        probe = threading.Thread(target=lambda: found.extend([detect(url, 1.0), *connect(cfg)]), daemon=True)
        probe.start()
        probe.join(30.0)  # bounded: two probes of 2 s each, twice, not the 60 s the server would go on
        assert not probe.is_alive()
    assert found[0] is None and isinstance(found[1], OllamaClient) and "nothing answered" in str(found[2])


# --- a line that never ends -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "make,prefix",
    [(ollama, b'{"message":{"role":"assistant","content":"'), (openai, b'data: {"choices":[{"delta":{"content":"')],
    ids=["ollama", "openai"],
)
def test_a_line_that_never_ends_is_refused_as_it_arrives(make, prefix: bytes) -> None:
    with fake_ollama(endless_line(prefix)) as url:
        client = make(url)
        client.answer_timeout_s = 60.0  # the size cap must stop it, not the deadline
        with pytest.raises(LLMError) as info:
            client.chat(HI)
    assert f"over {MAX_LINE_BYTES // 1_000_000} MB" in str(info.value), info.value


# --- credentials in the host --------------------------------------------------------------------------------


@pytest.mark.parametrize("make", [ollama, openai], ids=["ollama", "openai"])
def test_a_password_in_the_host_is_never_shown_but_still_sent(make) -> None:
    dead = f"http://user:s3cret@127.0.0.1:{free_port()}"
    with pytest.raises(LLMError) as info:
        make(dead).chat(HI)
    assert "s3cret" not in str(info.value) and "user" not in str(info.value)
    assert f"http://***@127.0.0.1:{dead.rsplit(':', 1)[1]}" in str(info.value)
    seen: list[str] = []

    def record(h: BaseHTTPRequestHandler) -> None:
        seen.append(h.headers.get("Authorization", ""))
        reply(200, b'{"models":[{"name":"m"}],"data":[{"id":"m"}]}')(h)

    with fake_ollama(record) as url:
        client = make(url.replace("http://", "http://user:s3cret@"))
        assert client.models() == ["m"] and "s3cret" not in client.host
    assert seen == ["Basic dXNlcjpzM2NyZXQ="]  # user:s3cret, for the server and only there


@pytest.mark.parametrize("command", [["models"], ["once", str(DATA / "question.wav"), "--no-speak"]])
def test_ollama_host_with_a_password_is_hidden_in_the_cli(tmp_path: Path, command: list[str]) -> None:
    port = free_port()
    write_config(tmp_path / "config.toml", "http://127.0.0.1:1", 'backend = "ollama"')
    env = {"OLLAMA_HOST": f"http://admin:hunter2@127.0.0.1:{port}"}
    result = run_cli(*command, cwd=tmp_path, env=env, timeout=120)
    out = result.stdout + result.stderr
    assert result.returncode == 6 and f"***@127.0.0.1:{port}" in out, out
    assert "hunter2" not in out and "admin" not in out


def test_the_auto_line_hides_the_password(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "xllamacpp", None)
    host = f"http://admin:hunter2@127.0.0.1:{free_port()}"
    client, how = connect(Config(llm=LlmConfig(host=host, backend="auto", connect_timeout_s=1.0)))
    assert "hunter2" not in how + client.host and "***@127.0.0.1" in how


# --- Ctrl-C while thinking ---------------------------------------------------------------------------------


def test_the_stop_token_ends_answers_in_flight_at_once(tmp_path: Path) -> None:
    """Listen's wiring (build_assistant): the warm-up and a turn's call both stuck on a trickling server;
    Ctrl-C sets the stop token and every worker ends within the runtime's shutdown bound (1 s)."""
    from voiceloop.cli.app import build_assistant

    asked = threading.Semaphore(0)
    trickle = trickled_headers(120.0)

    def stuck(h: BaseHTTPRequestHandler) -> None:
        asked.release()
        trickle(h)

    runtime, errors = Runtime(), []
    with fake_ollama(stuck) as url:
        llm = LlmConfig(host=url, model="m", backend="ollama", answer_timeout_s=120.0)
        cfg = Config(llm=llm, tts=TtsConfig(enabled=False))
        assistant = build_assistant(cfg, Console(file=io.StringIO()), runtime)  # starts the warm-up call

        def turn() -> None:
            try:
                assistant.llm.chat(HI)
            except LLMError as e:
                errors.append(str(e))

        runtime.spawn("a-turn", turn)
        assert asked.acquire(timeout=30) and asked.acquire(timeout=30)  # both calls are waiting on the server
        left = runtime.shutdown()  # what Ctrl-C leads to: the stop token, then joins bounded by 1 s
    assert left == [], left
    assert errors and "stopped" in errors[0], errors


# --- the embedded backend ----------------------------------------------------------------------------------


def test_embedded_errors_name_the_embedded_model_and_keep_the_deadline() -> None:
    """EmbeddedClient speaks to llama.cpp's server inside this process: here its wire is faked. llama.cpp
    sends its headers only once the prompt is read; the deadline covers that wait too."""
    with fake_ollama(trickled_headers(30.0)) as url:
        client = EmbeddedClient(None, url, "key", read_timeout_s=1.0, answer_timeout_s=2.0)
        t0 = time.monotonic()
        with pytest.raises(LLMError) as info:
            client.chat(HI)
    assert time.monotonic() - t0 < 2.0 + 10.0  # a generous bound: not the 30 s the headers took
    assert str(info.value).startswith("the embedded model was still answering after 2 s"), info.value
    client = EmbeddedClient(None, f"http://127.0.0.1:{free_port()}", "key", read_timeout_s=1.0)
    with pytest.raises(LLMError) as info:
        client.chat(HI)
    assert "LLM server" not in str(info.value) and "restart voiceloop" in str(info.value), info.value


PASSAGE = (
    "The allotment at the end of our road has eleven beds, a shed with a green door and a rain barrel that "
    "leaks from the bottom. In March we turn the soil and pull out the roots the winter left behind. In April "
    "the onions go in, then the beans along the fence, then the potatoes in two long rows. Every Saturday "
    "someone forgets to close the gate, and every Sunday the neighbour's hens walk in and scratch at the "
    "carrots. By June the beans are taller than the fence, the courgettes hide under their own leaves, and "
    "there is more lettuce than any of us can eat. We leave bags of it by the gate with a note that says "
    "help yourself, and by the evening the bags are always gone. In August the tomatoes split after the "
    "storms, the wasps find the plums, and the rain barrel is empty again."
)


@pytest.mark.slow
def test_the_real_embedded_model_keeps_the_deadline_and_names_itself(embedded_llm) -> None:
    """llama.cpp in this process, asked for a long answer under a 1 s deadline. The answer is a copy of a
    passage: a coder model asked to count may answer with a three-line loop instead (it did on another
    CPU), while any answer to "copy this" is hundreds of tokens, seconds on any CPU. (A short prompt:
    llama.cpp notices the dropped connection at its next token, not while it reads a prompt, and this
    process waits for it on the way out.)"""
    import copy

    client = copy.copy(embedded_llm[0])  # the session's llama.cpp, under a deadline of its own
    client.answer_timeout_s = 1.0
    ask = [{"role": "user", "content": f"Copy this text word for word, twice:\n\n{PASSAGE}"}]
    t0 = time.monotonic()
    with pytest.raises(LLMError) as info:
        client.chat(ask, options={"num_predict": 900})
    assert time.monotonic() - t0 < 1.0 + 10.0  # a generous bound
    assert str(info.value).startswith("the embedded model was still answering after 1 s"), info.value
