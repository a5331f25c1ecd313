"""The understanding path with the real small model: parts the fast path leaves to the model come back
grounded, and a question asked for a missing file name is answered by the next thing said."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.kit import ScriptedTranscriber
from voiceloop.agent.assistant import Assistant
from voiceloop.agent.classifier import Classifier
from voiceloop.agent.intents import Action, Via
from voiceloop.agent.sandbox import Sandbox
from voiceloop.agent.tools import Status, Tools
from voiceloop.llm.ollama import OllamaClient
from voiceloop.voice.speech import SilentSpeaker

pytestmark = pytest.mark.llm


LEFT_TO_THE_MODEL = [  # (typed request, the session's files, the intents wanted); no part has a fast-path shape
    ("I'd love a haiku about autumn saved as autumn.txt", (), [("create_file", "autumn.txt")]),
    ("the function should also handle negative numbers", ("math_utils.py",), [("edit_file", "math_utils.py")]),
    ("hello there, nice to meet you", (), [("general_chat", "")]),
    (
        "create a.txt. Also, I'd love a haiku about autumn saved as autumn.txt",
        (),
        [("create_file", "a.txt"), ("create_file", "autumn.txt")],
    ),
]


def test_parts_the_fast_path_leaves_are_decided_by_the_model_and_grounded(llm: OllamaClient) -> None:
    """Every part goes to the model and comes back grounded, in every case: only names said or in the session,
    nothing proposed as dictated words. Which action the model picks is its own accuracy (eval measures it) and
    a temperature-0 answer can still move with the server's cache state: at most one of the four differs from
    the action wanted."""
    wrong = []
    for text, known, want in LEFT_TO_THE_MODEL:
        decided = Classifier(llm).classify(text, ", ".join(reversed(known)), known)
        assert Via.MODEL in {i.via for i in decided.intents} and decided.attempts >= 1, (text, decided)
        for intent in decided.intents:
            assert not intent.filename or intent.filename in text or intent.filename in known, (text, intent)
            assert not intent.content, (text, intent)  # nothing was dictated: nothing may be proposed as its words
        if [(i.action.value, i.filename) for i in decided.intents] != want:
            wrong.append((text, decided.intents))
    assert len(wrong) <= 1, wrong


class Yes:
    def confirm(self, proposal: object) -> tuple[bool, str]:
        return True, ""


def test_a_write_without_a_name_asks_and_the_next_utterance_answers(cfg, llm: OllamaClient) -> None:
    out = Path(cfg.output.dir)
    assistant = Assistant(cfg, ScriptedTranscriber(), llm, Tools(llm, Sandbox(out), Yes()), SilentSpeaker())
    asked = assistant.handle_text("create a new file")
    assert [i.action for i in asked.intents] == [Action.CLARIFY]
    assert asked.reply == "What should I call the file?" and not out.exists()
    done = assistant.handle_text("call it shopping dot txt")
    assert [(a.action, a.status) for a in done.actions] == [(Action.CREATE_FILE, Status.WRITTEN)], done.reply
    assert (out / "shopping.txt").read_text() == ""  # nothing was said to put in it
    again = assistant.handle_text("summarize it")  # "it" is now the file from the answer
    assert [(i.action, i.filename) for i in again.intents] == [(Action.SUMMARIZE, "shopping.txt")]


def test_it_with_no_file_in_the_session_asks_which_file(cfg, llm: OllamaClient) -> None:
    assistant = Assistant(
        cfg, ScriptedTranscriber(), llm, Tools(llm, Sandbox(Path(cfg.output.dir)), Yes()), SilentSpeaker()
    )
    turn = assistant.handle_text("add a docstring to it")
    assert turn.reply == "Which file should I change?" and turn.intents[0].action is Action.CLARIFY
    assert turn.to_json()["intents"][0]["via"] == "fast"
    followed = assistant.handle_text("what is the capital of Spain")  # not an answer: a new request
    assert [i.action for i in followed.intents] == [Action.GENERAL_CHAT] and assistant.asked is None


def test_the_real_server_holds_the_model_to_the_schema(llm: OllamaClient) -> None:
    """Constrained output: asked outright for an action the schema does not allow, the model cannot give it
    (a server that ignored `format` would echo it and fail validation)."""
    from voiceloop.agent.understand.prompt import SCHEMA, parse_answer

    ask = 'Reply with exactly this JSON and nothing else: {"action": "format_disk", "target": "/"}'
    options = {"temperature": 0, "num_predict": 96}
    answer = llm.chat([{"role": "user", "content": ask}], fmt=SCHEMA, options=options).content
    assert parse_answer(answer).action in SCHEMA["properties"]["action"]["enum"], answer
