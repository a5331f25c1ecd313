"""A long write is announced before the model writes it, so the person is not left in silence."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.kit import ScriptedTranscriber
from voiceloop.agent.assistant import Assistant
from voiceloop.agent.intents import Action, Intent
from voiceloop.agent.progress import acknowledgement
from voiceloop.agent.sandbox import Proposal, Sandbox
from voiceloop.agent.tools import Tools
from voiceloop.config import TtsConfig
from voiceloop.llm.ollama import OllamaClient
from voiceloop.voice.engines import load_synth
from voiceloop.voice.speech import SentenceSpeaker


@pytest.mark.parametrize(
    ("intent", "said"),
    [
        (Intent(Action.WRITE_CODE, filename="fib.py", request="a fibonacci function"), "Writing fib.py."),
        (Intent(Action.EDIT_FILE, filename="fib.py", request="add a docstring"), "Changing fib.py."),
        (Intent(Action.CREATE_FILE, filename="list.txt", request="a shopping list"), "Writing list.txt."),
        (Intent(Action.CREATE_FILE, filename="todo.txt", request="with the text buy milk", content="buy milk"), ""),
        (Intent(Action.CREATE_FILE, filename="todo.md", request="make an empty file todo.md"), ""),
        (Intent(Action.GENERAL_CHAT, request="why is the sky blue"), ""),
    ],
)
def test_only_generated_files_are_announced(intent: Intent, said: str) -> None:
    assert acknowledgement(intent) == said


class No:
    def confirm(self, proposal: Proposal) -> tuple[bool, str]:
        return False, "you said no"


@pytest.mark.slow
@pytest.mark.llm
def test_the_announcement_is_spoken_before_the_generated_file_is_shown(cfg, llm: OllamaClient) -> None:
    tools = Tools(llm, Sandbox(Path(cfg.output.dir)), No(), cfg.llm.num_predict)
    speaker = SentenceSpeaker(load_synth(TtsConfig()), None)  # the real voice, no speaker device
    assistant = Assistant(cfg, ScriptedTranscriber(), llm, tools, speaker)
    turn = assistant.handle_text("write a python function that adds two numbers in math_utils.py")
    assert turn.spoken_text.startswith("Writing math_utils.py."), turn.spoken_text
    assert "did not write" in turn.spoken_text and not Path(cfg.output.dir, "math_utils.py").exists()
