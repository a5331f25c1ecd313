"""Speculation: the reply to a question starts at the first short pause; the turn takes that stream over,
and a stale one is closed mid-answer instead of running to its end."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import numpy as np
import pytest

from voiceloop.agent.assistant import Assistant
from voiceloop.agent.confirm import TerminalConfirmer
from voiceloop.agent.sandbox import Sandbox
from voiceloop.agent.tools import Tools
from voiceloop.audio.formats import read_wav, wav_bytes
from voiceloop.audio.mic import WavSource
from voiceloop.audio.vad import build_segmenter
from voiceloop.listen.loop import Listener
from voiceloop.listen.speculate import CancellableLLM, Cancelled, SpeculativeLLM
from voiceloop.llm.ollama import OllamaClient
from voiceloop.voice.speech import SilentSpeaker

from .conftest import DATA
from .wire import fake_ollama

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
