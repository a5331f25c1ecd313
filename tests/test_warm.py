"""Warming while the person talks (listen/warm.py): the question's words so far go to the LLM for one token, so
the server's prompt cache holds the answer's prompt but its last words when the turn asks. Real Whisper; the
embedded llama.cpp, which says how many prompt tokens it evaluated (timings.prompt_n), and the real test server
behind the Ollama API for the wiring in listen."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest

from voiceloop.agent.assistant import Assistant
from voiceloop.agent.intents import Action
from voiceloop.agent.sandbox import Sandbox
from voiceloop.agent.tools import Tools
from voiceloop.audio.formats import read_wav
from voiceloop.devtools.bench_acoustic import DATA as ACOUSTIC
from voiceloop.listen.early import Job
from voiceloop.listen.warm import Refuse, warm_answer
from voiceloop.llm.ollama import ChatResult, LLMClient, Message, OllamaClient
from voiceloop.voice.speech import SilentSpeaker

from .test_speculate import listen_once

pytestmark = [pytest.mark.slow, pytest.mark.llm]
QUESTION = ACOUSTIC / "q_octopus.wav"  # "Tell me a fun fact about octopuses."


class FirstToken:
    """The answer's client for measuring: every chat is sent as it is but for one token, and its result kept."""

    def __init__(self, inner: LLMClient) -> None:
        self.inner = inner
        self.host, self.model, self.backend = inner.host, inner.model, inner.backend
        self.results: list[ChatResult] = []

    def chat(self, messages: list[Message], *, options: dict[str, Any] | None = None, **kw: Any) -> ChatResult:
        self.results.append(self.inner.chat(messages, options={**(options or {}), "num_predict": 1}, **kw))
        return self.results[-1]

    def version(self) -> str:
        return self.inner.version()

    def models(self) -> list[str]:
        return self.inner.models()


def ask_first(a: Assistant, text: str, llm: LLMClient) -> None:
    """Another question asked before (as the last turn did): the server's cache holds the answer's system prompt
    and that question, and nothing of the next one."""
    prompt_tokens_of_the_answer(a, text, llm)


def prompt_tokens_of_the_answer(a: Assistant, text: str, llm: LLMClient) -> int:
    """Ask the turn's own answer request for `text` and return the prompt tokens the server evaluated for it."""
    intent = a.classify_turn(text).intents[0]
    assert intent.action is Action.GENERAL_CHAT, intent
    probe = FirstToken(llm)
    Tools(probe, a.tools.sandbox, Refuse(), a.tools.num_predict, a.tools.answer).run(
        intent, a.memory.messages(), a.model_for(intent.action)
    )
    assert probe.results and probe.results[0].prompt_tokens is not None, probe.results
    return probe.results[0].prompt_tokens


def test_after_warming_only_the_last_words_are_new_to_the_server(cfg, transcriber, embedded_llm) -> None:
    llm = embedded_llm[0]
    cfg = dataclasses.replace(cfg, llm=dataclasses.replace(cfg.llm, backend="embedded"))
    a = Assistant(cfg, transcriber, llm, Tools(llm, Sandbox(Path(cfg.output.dir)), Refuse()), SilentSpeaker())
    audio = read_wav(QUESTION)
    text = transcriber.transcribe(audio).text
    said_so_far = audio[: int(len(audio) * 0.6)]  # the question as far as it was said 60 % of the way in
    ask_first(a, "What is the capital of France?", llm)
    job = Job(said_so_far)
    assert warm_answer(a, llm, said_so_far, job) == 1
    assert job.asked_at is not None and job.answered_at is not None and job.asked_at < job.answered_at  # traced
    warm = prompt_tokens_of_the_answer(a, text, llm)
    ask_first(a, "What is the capital of France?", llm)
    cold = prompt_tokens_of_the_answer(a, text, llm)
    # cold: the whole question and the chat template around it; warm: the words said after 60 % of it
    assert warm + 4 <= cold, (warm, cold, text)


def test_nothing_is_warmed_for_a_request_that_is_not_a_question(cfg, transcriber) -> None:
    from .conftest import DATA

    llm = OllamaClient(cfg.ollama_host, cfg.llm.model)
    a = Assistant(cfg, transcriber, llm, Tools(llm, Sandbox(Path(cfg.output.dir)), Refuse()), SilentSpeaker())
    audio = read_wav(DATA / "create_notes.wav")  # a dictated write: nothing for the answer's prompt to warm
    assert warm_answer(a, llm, audio, Job(audio)) == 0


def test_a_spoken_question_is_warmed_while_said_and_answered_once(tmp_path: Path, cfg, transcriber) -> None:
    """The shipped wiring in listen, on a question said in real time: warmings go out while it is said (one token
    each), and the answer is still asked once, by the reply started at the pause and taken over by the turn."""
    listener, counter, out = listen_once(QUESTION, tmp_path, cfg, transcriber, realtime=True)
    assert listener.early is not None and cfg.vad.warm_while_talking  # on by default
    assert listener.early.warmed >= 1 and counter.warmings(), out
    assert all(c["options"]["num_predict"] == 1 for c in counter.warmings())
    assert len(counter.answers()) == 1, [c["messages"][-1] for c in counter.answers()]
    assert out.count("You said:") == 1, out  # one turn, and it was answered
