"""Which LLM calls of the agent are stateless (their answer depends only on the request), so the cache may
answer them again: read from the prompts' own modules, so a changed prompt is still recognised."""

from __future__ import annotations

from voiceloop.agent.tools import CODE_PROMPT, SUMMARY_PROMPT
from voiceloop.agent.understand.prompt import prompt_messages
from voiceloop.llm.cache import Prefix, prefix_of


def stateless_prompts() -> frozenset[Prefix]:
    """The fixed openings (system prompt, then any few-shot examples) of the classifier, code and summary calls."""
    classify = prefix_of(prompt_messages("")[:-1])
    return frozenset({classify, (("system", CODE_PROMPT),), (("system", SUMMARY_PROMPT),)})
