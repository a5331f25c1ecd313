"""Honest timings: the person's time at the write prompt is its own stage, `confirm`, never `act`."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.kit import ScriptedTranscriber
from voiceloop.agent.assistant import Assistant
from voiceloop.agent.clock import Clock, TimedConfirmer
from voiceloop.agent.sandbox import Proposal, Sandbox
from voiceloop.agent.tools import Status, Tools
from voiceloop.llm.ollama import OllamaClient
from voiceloop.voice.speech import SilentSpeaker

WAIT_S = 0.4


class SlowPerson:
    """Takes WAIT_S to answer yes; notes the clock's stages when the panel came up."""

    def __init__(self, clock: Clock | None = None) -> None:
        self.clock = clock
        self.seen: dict[str, float] = {}

    def confirm(self, proposal: Proposal) -> tuple[bool, str]:
        if self.clock is not None:
            self.seen = dict(self.clock.ms)
        time.sleep(WAIT_S)
        return True, ""


def test_wait_at_the_prompt_goes_to_confirm_and_act_stops_before_it(tmp_path: Path) -> None:
    clock = Clock()
    person = SlowPerson(clock)
    TimedConfirmer(person, clock).confirm(Sandbox(tmp_path / "output").propose("a.txt", "hi"))
    clock.lap("act")  # the write after the answer
    assert clock.ms["confirm"] >= WAIT_S * 1000
    assert person.seen["act"] <= clock.ms["act"] < person.seen["act"] + clock.ms["confirm"]


@pytest.mark.llm
def test_a_dictated_write_reports_the_person_time_as_confirm(cfg, llm: OllamaClient) -> None:
    person = SlowPerson()
    tools = Tools(llm, Sandbox(Path(cfg.output.dir)), person, cfg.llm.num_predict)
    assistant = Assistant(cfg, ScriptedTranscriber(), llm, tools, SilentSpeaker())  # typed text: nothing to transcribe
    turn = assistant.handle_text("create a file called notes dot txt with the text buy milk")
    assert [a.status for a in turn.actions] == [Status.WRITTEN], turn.reply
    assert turn.timings_ms["confirm"] >= WAIT_S * 1000
    assert tools.confirmer is person  # the turn's timing wrapper is taken off again
