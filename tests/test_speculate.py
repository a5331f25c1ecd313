"""Speculation: the reply to a question starts at the first short pause; the turn takes that stream over,
and a stale one is closed mid-answer instead of running to its end."""

from __future__ import annotations

import dataclasses
import json
import threading
import time
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from voiceloop.agent.assistant import Assistant
from voiceloop.agent.confirm import TerminalConfirmer
from voiceloop.agent.sandbox import Sandbox
from voiceloop.agent.tools import Tools
from voiceloop.audio.formats import read_wav, wav_bytes
from voiceloop.audio.mic import WavSource
from voiceloop.audio.vad import build_segmenter
from voiceloop.config import AnswerConfig
from voiceloop.listen.loop import Listener
from voiceloop.listen.speculate import CancellableLLM, Cancelled, SpeculativeLLM
from voiceloop.llm.ollama import OllamaClient
from voiceloop.voice.budget import Cut, Enough
from voiceloop.voice.speech import SilentSpeaker

from .conftest import DATA
from .wire import fake_ollama, relay, stream

TOKENS = 200


class SlowAnswer:
    """Streams TOKENS words, one every 20 ms, and counts how many went out before the client hung up."""

    def __init__(self) -> None:
        self.sent = 0
        self.hung_up = threading.Event()

    def __call__(self, h: BaseHTTPRequestHandler) -> None:
        h.send_response(200)
        h.send_header("Content-Type", "application/x-ndjson")
        h.send_header("Transfer-Encoding", "chunked")
        h.end_headers()
        try:
            for i in range(TOKENS):
                line = json.dumps({"message": {"content": f"w{i} "}, "done": False}).encode() + b"\n"
                h.wfile.write(f"{len(line):x}\r\n".encode() + line + b"\r\n")
                h.wfile.flush()
                self.sent += 1
                time.sleep(0.02)
            done = json.dumps({"message": {"content": ""}, "done": True}).encode() + b"\n"
            h.wfile.write(f"{len(done):x}\r\n".encode() + done + b"\r\n0\r\n\r\n")
        except OSError:
            self.hung_up.set()


def test_a_stale_early_reply_is_closed_mid_answer() -> None:
    answer = SlowAnswer()
    with fake_ollama(answer) as url:
        cancel = threading.Event()
        spec = SpeculativeLLM(OllamaClient(url, "m"))
        client = CancellableLLM(spec.inner, cancel, record=spec)
        errors: list[BaseException] = []

        def run() -> None:
            try:
                client.chat([{"role": "user", "content": "why is the sky blue"}])
            except BaseException as e:
                errors.append(e)

        worker = threading.Thread(target=run)
        worker.start()
        while answer.sent < 5:
            time.sleep(0.01)
        cancel.set()  # the person went on talking
        worker.join(10)
        assert answer.hung_up.wait(10)  # the server saw the connection closed ...
        assert answer.sent < TOKENS  # ... long before the answer's end
        assert len(errors) == 1 and isinstance(errors[0], Cancelled)
    spec.drop_all()


@pytest.mark.slow
@pytest.mark.llm
def test_the_turn_speaks_the_reply_started_at_the_pause(tmp_path: Path, cfg, llm, transcriber, console) -> None:
    wav = tmp_path / "mic.wav"
    wav.write_bytes(wav_bytes(np.concatenate([read_wav(DATA / "question.wav"), np.zeros(32000, np.int16)])))
    tools = Tools(llm, Sandbox(Path(cfg.output.dir)), TerminalConfirmer(console), cfg.llm.num_predict)
    assistant = Assistant(cfg, transcriber, llm, tools, SilentSpeaker())
    listener = Listener(assistant, WavSource(wav), build_segmenter(cfg.vad), console)
    assert listener.speculated is not None and cfg.vad.early_reply  # on by default
    listener.run(max_turns=1)
    out = console.file.getvalue()  # type: ignore[attr-defined]
    assert listener.speculated.taken == 1, out  # the turn's chat came from the early stream, not a new request
    assert "paris" in out.lower(), out


class ChatCounter:
    """A pass-through HTTP proxy in front of the real server (the wire seam): every request is relayed as
    it is and the answer streamed back as it comes; the bodies of the POST /api/chat requests are kept."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.chats: list[dict[str, Any]] = []
        self.lock = threading.Lock()

    def answers(self) -> list[dict[str, Any]]:
        """The chat requests that asked for a spoken answer (not the intent call, which sends a schema)."""
        with self.lock:
            return [c for c in self.chats if "format" not in c and "voice assistant" in c["messages"][0]["content"]]

    def __call__(self, h: BaseHTTPRequestHandler) -> None:
        body = getattr(h, "body", b"")
        if h.command == "POST" and h.path == "/api/chat":
            with self.lock:
                self.chats.append(json.loads(body))
        relay(h, self.upstream, timeout_s=120)


def settle_early_replies(timeout_s: float = 30.0) -> None:
    """Wait (bounded) until no early reply is still asking the server: what it sent is then all counted."""
    deadline = time.monotonic() + timeout_s
    while any(t.name == "voiceloop-early-reply" for t in threading.enumerate()) and time.monotonic() < deadline:
        time.sleep(0.05)


@pytest.mark.slow
@pytest.mark.llm
@pytest.mark.parametrize("answer", [AnswerConfig(), AnswerConfig(sentences=2, frequency_penalty=0.4)])
def test_a_spoken_question_is_answered_with_one_request(
    tmp_path: Path, cfg, transcriber, console, answer: AnswerConfig
) -> None:
    """The answer started at the pause is the turn's answer: one answer request reaches the server, not a
    second identical one (the early job's own guard saw no token and asked again), whatever [answer] says."""
    cfg = dataclasses.replace(cfg, answer=answer)
    wav = tmp_path / "mic.wav"
    wav.write_bytes(wav_bytes(np.concatenate([read_wav(DATA / "question.wav"), np.zeros(32000, np.int16)])))
    counter = ChatCounter(cfg.ollama_host)
    with fake_ollama(counter) as url:
        llm = OllamaClient(url, cfg.llm.model, read_timeout_s=cfg.llm.read_timeout_s)
        tools = Tools(llm, Sandbox(Path(cfg.output.dir)), TerminalConfirmer(console), cfg.llm.num_predict, cfg.answer)
        assistant = Assistant(cfg, transcriber, llm, tools, SilentSpeaker())
        listener = Listener(assistant, WavSource(wav), build_segmenter(cfg.vad), console)
        listener.run(max_turns=1)
        settle_early_replies()
    out = console.file.getvalue()  # type: ignore[attr-defined]
    assert "paris" in out.lower(), out
    assert listener.speculated is not None and listener.speculated.taken == 1, out
    asked = counter.answers()
    assert len(asked) == 1, [c["messages"][-1]["content"] for c in asked]
    assert asked[0]["messages"][-1]["content"].lower().startswith("what"), asked  # the question itself


class CountedStream:
    """Answers every chat with `words` as separate stream pieces, then done; counts the requests."""

    def __init__(self, words: int) -> None:
        self.requests = 0
        self.words = words

    def __call__(self, h: BaseHTTPRequestHandler) -> None:
        self.requests += 1
        pieces = [json.dumps({"message": {"content": f"w{i}. "}, "done": False}).encode() for i in range(self.words)]
        stream([*pieces, json.dumps({"message": {"content": ""}, "done": True}).encode()])(h)


def test_the_early_readers_stop_ends_the_turns_copy_there_without_an_error() -> None:
    """The early job reads its own stream (its answer guard stops it at the budget); the turn that takes it over
    gets the same tokens, up to that stop, and no error: it does not ask again."""
    server = CountedStream(50)
    with fake_ollama(server) as url:
        spec = SpeculativeLLM(OllamaClient(url, "m"))
        early = CancellableLLM(spec.inner, threading.Event(), record=spec)
        seen: list[str] = []

        def guard(piece: str) -> None:
            seen.append(piece)
            if len(seen) == 3:
                raise Enough(Cut.BUDGET)

        with pytest.raises(Enough):
            early.chat([{"role": "user", "content": "count"}], on_token=guard)
        turn: list[str] = []
        result = spec.chat([{"role": "user", "content": "count"}], on_token=turn.append)
    assert seen == ["w0. ", "w1. ", "w2. "]  # the early reader saw every token (it saw none before)
    assert turn == seen and result.content == "w0. w1. w2. "
    assert spec.taken == 1 and server.requests == 1


def test_a_turn_asking_before_the_early_request_is_made_waits_for_it() -> None:
    server = CountedStream(3)
    with fake_ollama(server) as url:
        spec = SpeculativeLLM(OllamaClient(url, "m"))
        spec.expect()  # the early reply has started; its thread has not made the request yet
        early = CancellableLLM(spec.inner, threading.Event(), record=spec)
        ask = [{"role": "user", "content": "why"}]
        late = threading.Timer(0.7, lambda: early.chat(ask))  # type: ignore[arg-type]  # a slow worker thread
        late.start()
        result = spec.chat(ask)  # type: ignore[arg-type]
        late.join(5)
    assert result.content == "w0. w1. w2. "
    assert spec.taken == 1 and server.requests == 1  # taken over, not asked a second time
