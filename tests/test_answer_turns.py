"""Spoken answers with the real model: the dragon story is short and does not loop, "tell me more" goes on
from it with the conversation kept, and `voiceloop eval-answers` scores a small set end to end."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from rich.console import Console

from voiceloop.agent.answers import NOTHING_MORE_REPLY, NOTHING_YET_REPLY
from voiceloop.agent.intents import Action
from voiceloop.devtools.answers import typed_session
from voiceloop.llm.ollama import OllamaClient
from voiceloop.llm.repetition import find_loop
from voiceloop.voice.budget import LOOP_NOTE, split_said

from .conftest import run_cli, write_config

DRAGON = "Tell me a long story about a dragon who learns to cook."
STORIES = (
    DRAGON,
    "Tell me a long story about a lighthouse keeper and a lost whale.",
    "Tell me a long story about a robot who wants to paint.",
)


@pytest.mark.slow
@pytest.mark.llm
def test_the_dragon_story_is_short_without_repetition_and_tell_me_more_goes_on(cfg, llm: OllamaClient) -> None:
    """Every session must keep the budget, the loop watch and the memory; going on is up to the small model,
    which now and then has nothing new to say about a story, so it must go on for at least one of three stories
    (the test server samples with a fixed seed: the same story would get the same answer three times)."""
    went_on = 0
    for story in STORIES:
        assistant = typed_session(cfg, llm)
        first = assistant.handle_text(story)  # the real turn: intent call, answer, budget, loop watch
        assert [a.action for a in first.actions] == [Action.GENERAL_CHAT]
        told = split_said(first.reply.replace(LOOP_NOTE, ""))
        assert 1 <= len(told) <= cfg.answer.sentences
        assert find_loop(first.reply) is None
        assert first.spoken_text == first.reply  # printed, spoken and remembered are the same words
        assert assistant.memory.history[-1] == {"role": "assistant", "content": first.reply}

        more = assistant.handle_text("Tell me more.")
        assert "intent" not in more.models  # handled without the intent call
        assert more.reply
        assert [m["content"] for m in assistant.memory.history] == [story, first.reply, "Tell me more.", more.reply]
        if more.reply == NOTHING_MORE_REPLY:
            continue
        new = split_said(more.reply.replace(LOOP_NOTE, ""))
        assert 1 <= len(new) <= cfg.answer.sentences
        assert not set(new) & set(told)  # it went on: nothing said before is said again
        assert find_loop(f"{first.reply} {more.reply}".replace(LOOP_NOTE, "")) is None
        went_on += 1
        break
    assert went_on, "tell me more said nothing new about any of three stories"


@pytest.mark.llm
def test_tell_me_more_with_nothing_said_yet_asks_for_a_question(cfg, llm: OllamaClient) -> None:
    turn = typed_session(cfg, llm).handle_text("Go on.")
    assert turn.reply == NOTHING_YET_REPLY
    assert "intent" not in turn.models


MANIFEST = """
[[case]]
kind = "general"
ask = "what's the capital of france"
fact = ["paris"]

[[case]]
kind = "follow-up"
ask = ["who wrote romeo and juliet", "tell me more"]
fact = ["shakespeare", "play", "romeo", "juliet"]
"""


@pytest.mark.slow
@pytest.mark.llm
def test_eval_answers_scores_each_case_as_json(tmp_path: Path, ollama_url: str) -> None:
    cases = tmp_path / "answers"
    cases.mkdir()
    (cases / "manifest.toml").write_text(MANIFEST, encoding="utf-8")
    write_config(tmp_path / "config.toml", ollama_url)
    result = run_cli("eval-answers", str(cases), "--json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["cases"] == 2 and report["budget_sentences"] == 3
    rows = report["results"]
    assert [r["turns"] for r in rows] == [
        ["what's the capital of france"],
        ["who wrote romeo and juliet", "tell me more"],
    ]
    for r in rows:
        assert r["answer"] and 1 <= r["sentences"] <= 3
        assert r["fact_present"] == any(f in r["answer"].lower() for f in r["fact"])
        assert r["loop_heard"] is False
    assert report["fact_present"] == sum(r["fact_present"] for r in rows)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["answers", "config.toml"]  # nothing written


@pytest.mark.parametrize(
    ("manifest", "message"),
    [
        ('[[case]]\nask = "hi"\n', "fact must be"),
        ('[[case]]\nask = "hi"\nfact = ["x"]\nkind = "poem"\n', "kind must be one of"),
        ('[[case]]\nask = []\nfact = ["x"]\n', "ask must be"),
        ("", "has no [[case]] tables"),
    ],
)
def test_a_bad_answer_manifest_is_one_line_with_exit_3(tmp_path: Path, manifest: str, message: str) -> None:
    (tmp_path / "manifest.toml").write_text(manifest, encoding="utf-8")
    result = run_cli("eval-answers", str(tmp_path), cwd=tmp_path, env={"OLLAMA_HOST": "127.0.0.1:9"})
    assert result.returncode == 3
    assert message in result.stdout and "Traceback" not in result.stdout + result.stderr


def test_the_shipped_answer_set_is_big_enough_and_loads() -> None:
    from voiceloop.devtools.answers import load_answer_cases

    cases = load_answer_cases(Path(__file__).parent / "data" / "answers")
    assert len(cases) >= 30
    assert {c.kind for c in cases} == {"general", "coding", "follow-up", "story"}
    assert sum(len(c.turns) > 1 for c in cases) >= 8


def test_print_answers_shows_the_summary() -> None:
    from voiceloop.devtools.answers import AnswerCase, AnswerReport, AnswerResult, print_answers

    case = AnswerCase("general", ("what's the capital of france",), ("paris",))
    report = AnswerReport("m", 3, (AnswerResult(case, "Paris.", 1, False, False, True, "done", 1.0),))
    out = io.StringIO()
    print_answers(Console(file=out, width=200), report)
    assert "reference fact present 1/1 = 100%" in out.getvalue()
