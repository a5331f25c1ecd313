"""Spoken answers on deterministic input: the loop detector, the sentence budget, "tell me more" parsing,
and the repetition penalties as they reach the wire for each backend."""

from __future__ import annotations

import json
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest

from voiceloop.agent.commands import Kind, parse_command
from voiceloop.agent.sandbox import Sandbox
from voiceloop.agent.tools import Tools
from voiceloop.config import AnswerConfig
from voiceloop.llm.embedded import EmbeddedClient
from voiceloop.llm.ollama import LLMClient, OllamaClient
from voiceloop.llm.openai_compat import OpenAIClient
from voiceloop.llm.repetition import RepetitionWatcher, find_loop, penalties
from voiceloop.voice.budget import LOOP_NOTE, RUN_ON_WORDS, AnswerGuard, Cut, Enough, split_said

from .kit import RecordingConfirmer
from .wire import fake_ollama, reply, stream

# The loop the 0.5B model really produced for "Tell me a long story about a dragon who learns to cook"
# (issue 16): one clause again and again with one word changed.
LOOPING = (
    "Once upon a time, a dragon named Zephyr lived in a cave by the sea. One day he found a box of fireworks. "
    "Zephyr then uses the firework to cook the dragon's teeth, which makes them shine. "
    "Zephyr then uses the firework to cook the dragon's fur, which makes it soft. "
    "Zephyr then uses the firework to cook the dragon's feathers, which makes them glow. "
    "Zephyr then uses the firework to cook the dragon's skin, which makes it warm. "
)
# A real answer of the same model that does not loop (its own words repeat, but no run of them does).
PLAIN = (
    "A dragon named Zephyr learns to cook by experimenting with different ingredients and techniques. "
    "Zephyr's favorite dish is a stew of carrots, onions, and garlic. He uses a special method to combine "
    "these ingredients in a special sauce that is rich in flavor and nutrients. Zephyr's cooking skills are "
    "so advanced that he can cook anything from small dishes to large meals."
)


def tokens(text: str, size: int = 3) -> list[str]:
    """The text in pieces of `size` characters, the way a stream cuts words anywhere."""
    return [text[i : i + size] for i in range(0, len(text), size)]


def test_the_dragon_loop_is_found_at_its_second_round() -> None:
    loop = find_loop(LOOPING)
    assert loop is not None
    assert "zephyr then uses the firework to cook the dragon" in LOOPING[loop.start :].lower()
    assert LOOPING.index("Zephyr then uses") < loop.start < LOOPING.index("feathers")  # caught at "fur"


def test_real_prose_is_not_a_loop() -> None:
    assert find_loop(PLAIN) is None
    assert find_loop("Paris is the capital of France. It is on the Seine.") is None


@pytest.mark.parametrize("size", [1, 2, 5, 17])
def test_the_verdict_does_not_depend_on_where_the_stream_is_cut(size: int) -> None:
    whole = find_loop(LOOPING)
    watcher = RepetitionWatcher()
    found = None
    for piece in tokens(LOOPING, size):
        found = found or watcher.feed(piece)
    assert found == whole


def test_one_word_over_and_over_is_a_loop() -> None:
    assert find_loop("It is very " + "very " * 8) is not None
    assert find_loop("It is very very good.") is None


def run_guard(text: str, sentences: int, already: str = "") -> tuple[AnswerGuard, str]:
    """Feed text token by token as a stream would; returns the guard and what it passed on."""
    out: list[str] = []
    guard = AnswerGuard(sentences, out.append, already)
    try:
        for piece in tokens(text):
            guard.feed(piece)
        guard.finish()
    except Enough as e:
        assert e.cut is guard.cut
    return guard, "".join(out)


def test_the_budget_cuts_at_a_sentence_end_and_passes_on_exactly_what_is_said() -> None:
    guard, passed = run_guard(PLAIN, 2)
    assert guard.cut is Cut.BUDGET
    assert guard.said == (
        "A dragon named Zephyr learns to cook by experimenting with different ingredients and techniques. "
        "Zephyr's favorite dish is a stew of carrots, onions, and garlic."
    )
    assert " ".join(passed.split()) == guard.said


def test_a_short_answer_is_left_whole() -> None:
    guard, passed = run_guard("Paris. It is in France", 3)
    assert guard.cut is Cut.DONE
    assert guard.said == "Paris. It is in France"
    assert passed.strip() == guard.said


def test_a_loop_stops_the_stream_before_it_is_passed_on() -> None:
    guard, passed = run_guard(LOOPING, 20)
    assert guard.cut is Cut.LOOP
    assert guard.said.count("Zephyr then uses") == 1  # the first round was a sentence like any other
    assert "fur" not in guard.said
    # what went on to speech: the said sentences, and the unfinished part the caller drops from the stream
    assert " ".join(passed.split()) == " ".join(f"{guard.said} {guard.unfinished}".split())


def test_a_sentence_without_end_is_cut_at_a_clause() -> None:
    guard, passed = run_guard("We walked " + " ".join(f"past house number {n}," for n in range(40)), 3)
    assert guard.cut is Cut.RUN_ON
    assert guard.said and guard.said.endswith(",")
    assert len(guard.said.split()) <= RUN_ON_WORDS
    assert passed.strip() == guard.said  # the clauses already passed on are what is said


def test_a_continuation_skips_what_was_already_said() -> None:
    first = "Zephyr was a dragon who lived in a cave. He wanted to cook."
    # said again: nearly word for word, or eight words in a row of it (small models restate before going on)
    again = (
        "Zephyr was a dragon that lived in a cave. He wanted to cook. He baked bread. "
        "One day Zephyr, who was a dragon who lived in a cave by the sea with his grandmother, met a famous cook. "
        "He made soup. He sang."
    )
    guard, passed = run_guard(again, 2, already=first)
    assert guard.said == "He baked bread. He made soup."
    assert " ".join(passed.split()) == guard.said


@pytest.mark.parametrize(
    ("said", "kind"),
    [
        ("Tell me more.", Kind.MORE),
        ("Okay, go on.", Kind.MORE),
        ("Keep going please", Kind.MORE),
        ("What happened next?", Kind.MORE),
        ("The long version, please.", Kind.LONG_VERSION),
        ("Give me the long version.", Kind.LONG_VERSION),
        ("Tell me more about Paris.", None),
        ("Go on and write a file called notes.txt", None),
    ],
)
def test_asking_for_more_is_heard_without_the_model(said: str, kind: Kind | None) -> None:
    command = parse_command(said)
    assert (command.kind if command else None) is kind


class Recorded:
    """A wire script that keeps each request body and answers with a fixed stream."""

    def __init__(self, answer: list[bytes], content_type: str = "ndjson") -> None:
        self.bodies: list[dict] = []
        self.answer = answer
        self.sse = content_type == "sse"

    def __call__(self, h: BaseHTTPRequestHandler) -> None:
        self.bodies.append(json.loads(getattr(h, "body", b"{}") or b"{}"))
        if self.sse:
            reply(200, b"".join(self.answer), "text/event-stream")(h)
        else:
            stream(self.answer)(h)


def ollama_lines(text: str) -> list[bytes]:
    pieces = [json.dumps({"message": {"content": p}, "done": False}).encode() for p in tokens(text, 6)]
    return [*pieces, json.dumps({"message": {"content": ""}, "done": True}).encode()]


def sse_lines(text: str) -> list[bytes]:
    out = [f"data: {json.dumps({'choices': [{'delta': {'content': p}}]})}\n\n".encode() for p in tokens(text, 6)]
    return [*out, b'data: {"choices": [{"delta": {}, "finish_reason": "stop"}]}\n\n', b"data: [DONE]\n\n"]


def tools_for(client: LLMClient, tmp_path: Path, answer: AnswerConfig | None = None) -> Tools:
    return Tools(client, Sandbox(tmp_path), RecordingConfirmer(False), answer=answer or AnswerConfig())


def test_ollama_gets_every_penalty_in_options_and_the_loop_is_not_read(tmp_path) -> None:
    script = Recorded(ollama_lines(LOOPING))
    with fake_ollama(script) as url:
        heard: list[str] = []
        done = tools_for(OllamaClient(url, "m"), tmp_path).reply("Tell me a story.", [], 20, heard.append)
    options = script.bodies[0]["options"]
    assert options["repeat_penalty"] == 1.1
    assert options["frequency_penalty"] == 0.2
    assert options["presence_penalty"] == 0.1
    assert done.cut is Cut.LOOP
    assert done.say.endswith(LOOP_NOTE)
    assert "fur" not in done.say and "fur" not in "".join(heard)


def test_openai_gets_the_standard_penalties_only(tmp_path) -> None:
    script = Recorded(sse_lines(PLAIN), "sse")
    with fake_ollama(script) as url:
        done = tools_for(OpenAIClient(url, "m"), tmp_path).reply("Tell me a story.", [], 3)
    body = script.bodies[0]
    assert (body["frequency_penalty"], body["presence_penalty"]) == (0.2, 0.1)
    assert "repeat_penalty" not in body  # OpenAI itself rejects fields it does not know
    assert done.cut is Cut.BUDGET
    assert done.say.count(".") == 3


def test_embedded_llama_cpp_gets_its_repeat_penalty_too(tmp_path) -> None:
    script = Recorded(sse_lines(PLAIN), "sse")
    with fake_ollama(script) as url:
        client = EmbeddedClient(None, url, "key", read_timeout_s=10)
        tools_for(client, tmp_path, AnswerConfig(repeat_penalty=1.3)).reply("Tell me a story.", [], 3)
    body = script.bodies[0]
    assert (body["repeat_penalty"], body["frequency_penalty"], body["presence_penalty"]) == (1.3, 0.2, 0.1)


def test_penalties_that_are_off_are_not_sent() -> None:
    assert penalties(AnswerConfig(repeat_penalty=1.0, frequency_penalty=0.0, presence_penalty=0.0)) == {}


def test_a_list_number_is_not_a_sentence() -> None:
    guard, passed = run_guard("Here is how.\n1. Open it. 2. Close it. 3. Save it.", 2)
    assert guard.cut is Cut.BUDGET
    assert guard.said == "Here is how. 1. Open it."
    assert " ".join(passed.split()) == guard.said
    assert split_said("Here is how. 1. Open it. 2. Close it.") == ["Here is how.", "1. Open it.", "2. Close it."]


def test_tell_me_more_tries_the_next_way_when_the_first_loops_before_saying_anything(tmp_path: Path) -> None:
    from voiceloop.agent.answers import ALSO, LastAnswer, carry_on
    from voiceloop.agent.commands import Kind

    first = "Zephyr was a dragon who lived in a cave by the sea. He wanted to cook."
    # the first way only says the answer again, twice (skipped, then stopped as a loop); the second goes on
    streams = [ollama_lines(f" {first} {first}"), ollama_lines(" he baked bread for his friends. Then he made soup.")]
    bodies: list[dict] = []

    def script(h: BaseHTTPRequestHandler) -> None:
        bodies.append(json.loads(getattr(h, "body", b"{}")))
        stream(streams.pop(0))(h)

    ask = "tell me a story about a dragon"
    history = [{"role": "user", "content": ask}, {"role": "assistant", "content": first}]
    with fake_ollama(script) as url:
        tools = tools_for(OllamaClient(url, "m"), tmp_path)
        last = LastAnswer(ask, first, 3)
        done, thread = carry_on(tools, last, Kind.MORE, "go on", history, AnswerConfig(), "m", None)
    assert done.say == "Also, he baked bread for his friends. Then he made soup."
    assert done.cut is Cut.DONE
    assert bodies[0]["messages"][-1] == {"role": "assistant", "content": first}  # its own answer, to continue
    assert bodies[1]["messages"][-1] == {"role": "assistant", "content": f"{first} {ALSO}"}
    assert thread.said == f"{first} {done.say}"
