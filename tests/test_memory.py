"""Session memory: bounded by turns and by an approximate token budget; older turns folded into a
summary written by the real model; the file log that tells the classifier what "it" is."""

from __future__ import annotations

import pytest

from voiceloop.agent.memory import Memory, approx_tokens, llm_summarizer
from voiceloop.errors import LLMError
from voiceloop.llm.ollama import Message, OllamaClient

from .conftest import TEST_MODEL
from .wire import fake_ollama, reply


def test_turns_beyond_the_limit_are_dropped_in_batches_oldest_first_without_a_summarizer() -> None:
    memory = Memory(max_turns=3, max_tokens=10_000)
    kept = []
    for n in range(10):
        memory.add_turn(f"question {n}", f"answer {n}")
        kept.append(len(memory.history) // 2)
    assert kept == [1, 2, 3, 1, 2, 3, 1, 2, 3, 1]  # past 3 turns, down to 3 // 2 at once
    assert [m["content"] for m in memory.history] == ["question 9", "answer 9"]
    assert memory.summary == "" and memory.messages() == memory.history


def test_the_token_budget_folds_long_turns_but_always_keeps_the_newest() -> None:
    folded: list[list[Message]] = []

    def summarize(summary: str, turns: list[Message]) -> str:
        folded.append(turns)
        return "short"

    memory = Memory(max_turns=50, max_tokens=200, summarize=summarize)
    memory.add_turn("a" * 400, "b" * 300)  # 175 tokens: within budget
    assert folded == [] and len(memory.history) == 2
    memory.add_turn("c" * 400, "d" * 400)  # 375 tokens together: the first turn is folded
    assert [t[0]["content"][0] for t in folded] == ["a"]
    assert memory.summary == "short" and memory.history[0]["content"][0] == "c"
    memory.add_turn("e" * 2000, "f")  # alone over budget: still kept, everything older folded
    assert [m["content"][0] for m in memory.history] == ["e", "f"]
    assert memory.folds == 2
    assert memory.messages()[0] == {"role": "system", "content": "Earlier in this conversation: short"}


def test_a_failed_summary_call_drops_old_turns_and_the_turn_goes_on() -> None:
    def broken(summary: str, turns: list[Message]) -> str:
        raise LLMError("Ollama is not running")

    memory = Memory(max_turns=1, max_tokens=10_000, summarize=broken)
    memory.add_turn("one", "1")
    memory.add_turn("two", "2")
    assert [m["content"] for m in memory.history] == ["two", "2"] and memory.summary == "" and memory.folds == 0


def test_the_file_log_is_newest_first_without_repeats_and_start_over_clears_everything() -> None:
    memory = Memory()
    memory.record("notes.txt", "create_file")
    memory.record("math_utils.py", "write_code")
    memory.record("notes.txt", "summarize")
    assert [a.filename for a in memory.actions] == ["math_utils.py", "notes.txt"]
    log = memory.files()
    assert log.startswith("notes.txt (summarize, ") and "math_utils.py (write_code, " in log
    memory.add_turn("hi", "hello")
    memory.summary = "earlier"
    memory.clear()
    assert (memory.history, memory.summary, memory.actions, memory.files()) == ([], "", [], "")


def test_approx_tokens_is_chars_over_four() -> None:
    assert [approx_tokens(t) for t in ("", "abc", "abcd", "abcde")] == [0, 1, 1, 2]


@pytest.mark.slow
@pytest.mark.llm
def test_old_turns_are_folded_into_a_summary_by_the_real_model(llm: OllamaClient) -> None:
    memory = Memory(max_turns=2, max_tokens=10_000, summarize=llm_summarizer(llm, lambda: TEST_MODEL))
    memory.add_turn("My dog is called Rex and he is three years old.", "Rex sounds like a lovely dog.")
    memory.add_turn("I live in Lisbon.", "Lisbon is a beautiful city.")
    assert memory.summary == ""
    memory.add_turn("What should I cook tonight?", "How about grilled sardines?")
    assert memory.folds == 1 and [m["content"] for m in memory.history] == [  # both older turns, in one request
        "What should I cook tonight?",
        "How about grilled sardines?",
    ]
    assert "rex" in memory.summary.lower(), memory.summary
    assert len(memory.summary) <= 10_000 * 4 // 3
    first = memory.messages()[0]
    assert first["role"] == "system" and memory.summary in first["content"]


@pytest.mark.slow
@pytest.mark.llm
def test_a_long_conversation_folds_in_batches_so_the_prompt_opening_stays_the_same(llm: OllamaClient) -> None:
    """Twelve turns with the default bounds, folded by the real model: the history each turn's answer
    is asked with (what Assistant passes to the chat) must start with the previous turn's prompt and
    that turn's exchange, so the server reuses what it read, on every turn but the one after a fold.
    Folding one turn per turn broke that on turns 10, 11 and 12, with a summary request on 9 to 12."""
    summarize = llm_summarizer(llm, lambda: TEST_MODEL)
    requests: list[int] = []

    def counted(summary: str, turns: list[Message]) -> str:
        requests.append(len(turns) // 2)
        return summarize(summary, turns)

    memory = Memory(summarize=counted)  # the shipped bounds: 8 turns, 1500 tokens
    cities = ["Lisbon", "Oslo", "Quito", "Hanoi", "Accra", "Lima", "Perth", "Riga", "Doha", "Bern", "Kyiv", "Rome"]
    prompts: list[list[Message]] = []
    previous: list[Message] = []
    changed: list[int] = []
    for n, city in enumerate(cities, 1):
        seen = memory.messages()
        said, reply = f"Turn {n}: I am thinking of {city}.", f"{city} is a fine place to think of."
        if prompts and seen[: len(prompts[-1]) + 2] != prompts[-1] + previous:
            changed.append(n)
        assert len(seen) <= 1 + 2 * memory.max_turns  # never more than max_turns turns word for word
        prompts.append(seen)
        previous = [{"role": "user", "content": said}, {"role": "assistant", "content": reply}]
        memory.add_turn(said, reply)
    assert requests == [5] and memory.folds == 1, requests  # turn 9 folded the oldest five at once
    assert changed == [10], changed  # the first answer asked after the fold; turns 11 and 12 reuse it
    assert memory.messages()[0]["role"] == "system" and len(memory.history) == 2 * 7


def test_the_summarizer_reports_an_empty_answer_as_an_llm_error() -> None:
    body = b'{"model":"m","message":{"role":"assistant","content":"  "},"done":true}\n'
    with fake_ollama(reply(200, body, "application/x-ndjson")) as url:
        summarize = llm_summarizer(OllamaClient(url, "m"), lambda: "m")
        with pytest.raises(LLMError):
            summarize("", [{"role": "user", "content": "hi"}])
