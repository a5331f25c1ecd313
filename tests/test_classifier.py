"""The classifier's retry and fallback, and model routing, on answers recorded at the wire: a fenced
answer, schema-invalid JSON, then garbage twice (a real model will not produce these on demand)."""

from __future__ import annotations

import io
import json
import logging
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest
from rich.console import Console

from tests.kit import ScriptedTranscriber
from voiceloop.agent.assistant import Assistant
from voiceloop.agent.classifier import Classification, Classifier
from voiceloop.agent.intents import Action
from voiceloop.agent.sandbox import Sandbox
from voiceloop.agent.tools import Tools
from voiceloop.config import Config, LlmConfig, OutputConfig, RoutesConfig, TtsConfig
from voiceloop.listen.ui import print_turn
from voiceloop.llm.ollama import OllamaClient
from voiceloop.voice.speech import SilentSpeaker

from .wire import fake_ollama

FENCED = '```json\n{"action":"general_chat","filename":"","content":"","request":"hi"}\n```'
INVALID = '{"action":"format_disk","filename":"","content":"","request":""}'
VALID_CODE = '{"action":"write_code","filename":"add.py","content":"","request":"add two numbers"}'
BY_MODEL = "I'd like add.py to hold a function that adds two numbers"
"""A request the fast path leaves to the model."""


class Recorded:
    """Answers /api/chat with the next recorded answer and keeps every request body."""

    def __init__(self, answers: list[str]) -> None:
        self.answers = answers
        self.requests: list[dict] = []

    def __call__(self, h: BaseHTTPRequestHandler) -> None:
        body = json.loads(h.body)
        self.requests.append(body)
        line = {"model": body["model"], "message": {"role": "assistant", "content": self.answers.pop(0)}, "done": True}
        data = json.dumps(line).encode() + b"\n"
        h.send_response(200)
        h.send_header("Content-Type", "application/x-ndjson")
        h.send_header("Content-Length", str(len(data)))
        h.end_headers()
        h.wfile.write(data)


def classify(answers: list[str], text: str = "hello") -> tuple[Classification, Recorded]:
    wire = Recorded(answers)
    with fake_ollama(wire) as url:
        decided = Classifier(OllamaClient(url, "m")).classify(text)
    return decided, wire


def test_a_fenced_answer_is_accepted_without_a_retry() -> None:
    decided, wire = classify([FENCED])
    assert [i.action for i in decided.intents] == [Action.GENERAL_CHAT]
    assert decided.attempts == 1 and not decided.fallback
    assert len(wire.requests) == 1
    assert wire.requests[0]["format"]["required"] == ["action", "filename", "content", "request"]


def test_common_shapes_never_reach_the_model() -> None:
    decided, wire = classify([], "create a file called notes.txt and tell me a joke")
    assert [(i.action, i.filename, i.via.value) for i in decided.intents] == [
        (Action.CREATE_FILE, "notes.txt", "fast"),
        (Action.GENERAL_CHAT, "", "fast"),
    ]
    assert wire.requests == [] and decided.attempts == 0


def test_a_schema_invalid_answer_is_retried_with_the_error() -> None:
    decided, wire = classify([INVALID, VALID_CODE], BY_MODEL)
    assert [(i.action, i.filename) for i in decided.intents] == [(Action.WRITE_CODE, "add.py")]
    assert decided.attempts == 2
    retry = wire.requests[1]["messages"]
    assert retry[-2] == {"role": "assistant", "content": INVALID}
    assert "action" in retry[-1]["content"] and "not valid" in retry[-1]["content"]


def test_two_invalid_answers_fall_back_to_chat_and_the_turn_shows_what_the_model_said(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    wire = Recorded(["Sure! I will format the disk now.", INVALID, "Hello there."])
    with fake_ollama(wire) as url:
        cfg = Config(llm=LlmConfig(host=url, model="m"), tts=TtsConfig(enabled=False))
        llm = OllamaClient(url, "m")
        assistant = Assistant(
            cfg, ScriptedTranscriber(), llm, Tools(llm, Sandbox(tmp_path), _No(), 64), SilentSpeaker()
        )
        with caplog.at_level(logging.WARNING, logger="voiceloop.agent.classifier"):
            turn = assistant.handle_text("hello")
    assert [i.action for i in turn.intents] == [Action.GENERAL_CHAT]
    assert turn.reply == "Hello there."
    warning = turn.to_json()["warning"]
    assert "invalid twice" in warning and "format_disk" in warning  # the raw second answer, quoted
    assert "format_disk" in caplog.text
    assert len(wire.requests) == 3 and "format" not in wire.requests[2]  # the chat call is plain text


class _No:
    def confirm(self, proposal: object) -> tuple[bool, str]:
        return False, "no"


def test_routes_send_each_action_to_its_model_and_the_turn_shows_which(tmp_path: Path) -> None:
    code = "def add(a, b):\n    return a + b\n"
    wire = Recorded([VALID_CODE, code])
    with fake_ollama(wire) as url:
        routes = RoutesConfig(write_code="coder:7b", general_chat="chatty:4b")
        cfg = Config(
            llm=LlmConfig(host=url, model="main:1b", routes=routes),
            tts=TtsConfig(enabled=False),
            output=OutputConfig(dir=str(tmp_path)),
        )
        llm = OllamaClient(url, "main:1b")
        assistant = Assistant(
            cfg, ScriptedTranscriber(), llm, Tools(llm, Sandbox(tmp_path), _No(), 64), SilentSpeaker()
        )
        turn = assistant.handle_text(BY_MODEL)
    assert [r["model"] for r in wire.requests] == ["main:1b", "coder:7b"]  # classification stays on llm.model
    assert turn.to_json()["models"] == {"intent": "main:1b", "write_code": "coder:7b"}
    console = Console(file=io.StringIO(), width=120)
    print_turn(console, turn)
    shown = console.file.getvalue()
    assert "main:1b" in shown and "coder:7b" in shown


def test_the_schema_sent_is_made_from_the_pydantic_model() -> None:
    """One list of actions (intents.MODEL_ACTIONS): the schema's enum and the validator both come from it."""
    from voiceloop.agent.intents import MODEL_ACTIONS
    from voiceloop.agent.understand.prompt import SCHEMA, ModelIntent

    decided, wire = classify([VALID_CODE], BY_MODEL)
    sent = wire.requests[0]["format"]
    assert sent == SCHEMA == ModelIntent.model_json_schema(mode="serialization")
    assert sent["properties"]["action"]["enum"] == [a.value for a in MODEL_ACTIONS]
    assert set(sent["required"]) == set(sent["properties"]) == {"action", "filename", "content", "request"}
    assert (decided.asked, decided.invalid) == (1, 0)


def test_a_first_answer_that_is_not_schema_valid_is_counted_in_the_classification_and_eval() -> None:
    from voiceloop.devtools.eval_report import print_eval
    from voiceloop.devtools.evaluate import Case, run_eval

    decided, _ = classify([INVALID, VALID_CODE], BY_MODEL)
    assert (decided.asked, decided.invalid) == (1, 1)
    fast, _ = classify([], "create a file called notes.txt")  # never reached the model: not counted
    assert (fast.asked, fast.invalid) == (0, 0)

    def no_stt():
        raise AssertionError("typed cases are not transcribed")

    cases = [
        Case(BY_MODEL, None, BY_MODEL, ("write_code",), ("add.py",), said=BY_MODEL),
        Case("again", None, BY_MODEL, ("write_code",), ("add.py",), said=BY_MODEL),
    ]
    with fake_ollama(Recorded([INVALID, VALID_CODE, VALID_CODE])) as url:
        report = run_eval(cases, Classifier(OllamaClient(url, "m")), "m", no_stt)
    assert report.invalid == (1, 2) and report.correct == 2
    out = report.to_json()
    assert (out["invalid_first_answers"], out["model_answers"]) == (1, 2)
    assert [c["invalid_first_answers"] for c in out["cases"]] == [1, 0]
    console = Console(file=io.StringIO(), width=200)
    print_eval(console, report)
    shown = console.file.getvalue()
    assert "invalid first answers: 1 of 2 model answers" in shown
    assert "(invalid first answers)" in shown  # its row in the per-category table
