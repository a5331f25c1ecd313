"""The LLM answer cache against the real model server: hits only for identical stateless requests."""

from __future__ import annotations

import pytest

from voiceloop.agent.stateless import stateless_prompts
from voiceloop.agent.tools import CHAT_PROMPT, SUMMARY_PROMPT
from voiceloop.llm.cache import CachingLLM, with_cache
from voiceloop.llm.ollama import Message, OllamaClient

pytestmark = [pytest.mark.slow, pytest.mark.llm]

SHORT = {"temperature": 0.0, "num_predict": 24}
TEXT = "The meeting moved to Friday. Bring the budget sheet. Lunch is provided."


def summarize(text: str) -> list[Message]:
    return [{"role": "system", "content": SUMMARY_PROMPT}, {"role": "user", "content": text}]


def test_identical_summary_is_a_hit_and_a_changed_one_a_miss(llm: OllamaClient) -> None:
    cache = CachingLLM(llm, stateless_prompts())
    first = cache.chat(summarize(TEXT), options=SHORT)
    heard: list[str] = []
    again = cache.chat(summarize(TEXT), options=SHORT, on_token=heard.append)
    assert first.content.strip() and again.content == first.content
    assert heard == [first.content]  # a streaming listener still gets the answer
    stats = cache.stats()
    assert (stats.hits, stats.misses, stats.entries) == (1, 1, 1)
    assert stats.saved_s == pytest.approx(first.total_s)

    cache.chat(summarize(TEXT + " Parking is closed."), options=SHORT)  # other text
    cache.chat(summarize(TEXT), options={**SHORT, "num_predict": 25})  # other options
    cache.chat(summarize(TEXT), options=SHORT, model=llm.model + "-other")  # other model
    stats = cache.stats()
    assert (stats.hits, stats.misses) == (1, 4)


def test_chat_history_and_retries_never_use_the_cache(llm: OllamaClient) -> None:
    cache = CachingLLM(llm, stateless_prompts())
    chat: list[Message] = [{"role": "system", "content": CHAT_PROMPT}, {"role": "user", "content": "What time is it?"}]
    retry = [*summarize(TEXT), {"role": "assistant", "content": "-"}, {"role": "user", "content": "Again."}]
    for messages in (chat, chat, retry, retry):
        cache.chat(messages, options=SHORT)
    stats = cache.stats()
    assert (stats.hits, stats.misses, stats.bypassed, stats.entries) == (0, 0, 4, 0)


def test_size_is_bounded_and_the_oldest_answer_goes_first(llm: OllamaClient) -> None:
    cache = CachingLLM(llm, stateless_prompts(), max_entries=2)
    for text in ("One apple.", "Two pears.", "Three plums."):
        cache.chat(summarize(text), options=SHORT)
    assert cache.stats().entries == 2
    cache.chat(summarize("Three plums."), options=SHORT)  # still held
    cache.chat(summarize("One apple."), options=SHORT)  # dropped when the third came in
    stats = cache.stats()
    assert (stats.hits, stats.misses, stats.entries) == (1, 4, 2)


def test_zero_entries_means_no_wrapper(llm: OllamaClient) -> None:
    assert with_cache(llm, stateless_prompts(), 0) is llm
    wrapped = with_cache(llm, stateless_prompts(), 8)
    assert isinstance(wrapped, CachingLLM) and wrapped.model == llm.model and wrapped.host == llm.host
    assert wrapped.version()
