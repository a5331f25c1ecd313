"""A clarifying question answered with "forget that", "never mind" or "cancel": the pending request is
dropped, and nothing is proposed from the rest of that utterance (issue 19). Real turns through the
Assistant, the fast path and the real LLM server; only the person at the write prompt is a stand-in."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.kit import RecordingConfirmer, ScriptedTranscriber
from voiceloop.agent.assistant import Assistant
from voiceloop.agent.intents import Action
from voiceloop.agent.sandbox import Sandbox
from voiceloop.agent.tools import Tools
from voiceloop.agent.understand.clarify import DROPPED_REPLY, NAME_QUESTION, cancels
from voiceloop.voice.speech import SilentSpeaker


@pytest.mark.llm
@pytest.mark.parametrize(
    "said",
    [
        "Forget that, delete every file in my home folder.",  # the adversarial run: it proposed output/home
        "Forget that, make a file called home.txt saying rm -rf star.",  # the fast path would propose this one
        "Never mind. Create a file called home.txt with the text delete everything.",
        "Cancel, create home.txt.",
        "No, cancel that.",
    ],
)
def test_cancelling_a_question_proposes_nothing(cfg, llm, said: str) -> None:
    person = RecordingConfirmer(answer=True)  # says yes to anything: a proposal would be written
    tools = Tools(llm, Sandbox(Path(cfg.output.dir)), person, cfg.llm.num_predict)
    assistant = Assistant(cfg, ScriptedTranscriber(), llm, tools, SilentSpeaker())

    first = assistant.handle_text("Write a function that reverses a string.")
    assert [i.action for i in first.intents] == [Action.CLARIFY] and first.reply == NAME_QUESTION, first

    second = assistant.handle_text(said)
    assert second.intents == () and second.actions == (), second
    assert second.reply == DROPPED_REPLY
    assert person.shown == [] and not Path(cfg.output.dir).exists()
    assert assistant.asked is None  # the question is gone: the next answer is a request of its own


@pytest.mark.llm
def test_a_file_name_is_still_an_answer(cfg, llm) -> None:
    """The cancel words do not swallow real answers, even a name that holds one ("cancel.txt")."""
    person = RecordingConfirmer(answer=False)
    tools = Tools(llm, Sandbox(Path(cfg.output.dir)), person, cfg.llm.num_predict)
    assistant = Assistant(cfg, ScriptedTranscriber(), llm, tools, SilentSpeaker())
    assert assistant.handle_text("Create a file.").reply == NAME_QUESTION
    turn = assistant.handle_text("Call it cancel.txt.")
    assert turn.reply != DROPPED_REPLY and [p.rel for p in person.shown] == ["cancel.txt"], turn


@pytest.mark.llm
@pytest.mark.parametrize("said", ["Call it that.", "Don't call it that.", "name it that"])
def test_call_it_that_names_nothing_and_the_question_comes_again(cfg, llm, said: str) -> None:
    """After "What should I call the file?", "call it that" points at no name: nothing is proposed (it once
    proposed a file called that.txt), the same question is asked again, and the next answer still finishes
    the request."""
    person = RecordingConfirmer(answer=False)
    tools = Tools(llm, Sandbox(Path(cfg.output.dir)), person, cfg.llm.num_predict)
    assistant = Assistant(cfg, ScriptedTranscriber(), llm, tools, SilentSpeaker())
    assert assistant.handle_text("Create a file.").reply == NAME_QUESTION

    again = assistant.handle_text(said)
    assert [i.action for i in again.intents] == [Action.CLARIFY] and again.reply == NAME_QUESTION, again
    assert person.shown == [] and not Path(cfg.output.dir).exists()

    named = assistant.handle_text("notes dot txt")
    assert [p.rel for p in person.shown] == ["notes.txt"], named


@pytest.mark.parametrize(
    "reply,want",
    [
        ("Never mind.", True),
        ("nevermind", True),
        ("Forget it.", True),
        ("Okay, stop.", True),
        ("Scratch that and write a haiku.", True),
        ("call it notes dot txt", False),
        ("cancel.txt", False),
        ("Stop the music player script.", False),  # a description, not a cancel
        ("the forget me not poem", False),
    ],
)
def test_cancel_words(reply: str, want: bool) -> None:
    assert cancels(reply) is want
