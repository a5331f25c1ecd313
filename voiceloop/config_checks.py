"""The allowed range of each config key, with the words an error uses to say it ("an integer from 0 to 3").

Types come from the dataclasses in config.py (Literal types list their choices); this table adds the ranges.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Callable
from typing import Any, Literal

from voiceloop.llm.address import problem, with_scheme

Check = Callable[[Any], bool]

CHECKS: dict[str, tuple[Check, str]] = {
    "audio.chunk_ms": (lambda v: 10 <= v <= 200, "an integer from 10 to 200"),
    "audio.ring_buffer_s": (lambda v: 0.5 <= v <= 60, "a number from 0.5 to 60"),
    "vad.aggressiveness": (lambda v: v in (0, 1, 2, 3), "0, 1, 2 or 3"),
    "vad.frame_ms": (lambda v: v in (10, 20, 30), "10, 20 or 30"),
    "vad.start_ms": (lambda v: 0 < v <= 2000, "an integer from 1 to 2000"),
    "vad.silence_ms": (lambda v: 100 <= v <= 10000, "an integer from 100 to 10000"),
    "vad.pre_roll_ms": (lambda v: 0 <= v <= 5000, "an integer from 0 to 5000"),
    "vad.min_speech_ms": (lambda v: 0 <= v <= 10000, "an integer from 0 to 10000"),
    "vad.max_utterance_s": (lambda v: 1 <= v <= 600, "a number from 1 to 600"),
    "vad.echo_tail_ms": (lambda v: 0 <= v <= 5000, "an integer from 0 to 5000"),
    "vad.barge_in_margin_db": (lambda v: 0 <= v <= 40, "a number of dB from 0 to 40"),
    "vad.early_start_ms": (lambda v: 0 <= v <= 5000, "an integer from 0 (off) to 5000"),
    "vad.smart_turn_ask_ms": (lambda v: 60 <= v <= 5000, "an integer from 60 to 5000"),
    "vad.smart_turn_max_silence_ms": (lambda v: 100 <= v <= 10000, "an integer from 100 to 10000"),
    "stt.escalate_model": (lambda v: bool(v.strip()), "a model name or path"),
    "stt.escalate_below": (lambda v: -10 <= v <= 0, "a number from -10 to 0"),
    "stt.model": (lambda v: bool(v.strip()), "a model name or path"),
    "confirm.timeout_s": (lambda v: 1 <= v <= 120, "a number of seconds from 1 to 120"),
    "stt.beam_size": (lambda v: 1 <= v <= 10, "an integer from 1 to 10"),
    "stt.min_avg_logprob": (lambda v: -10 <= v <= 0, "a number from -10 to 0"),
    "stt.max_no_speech_prob": (lambda v: 0 <= v <= 1, "a number from 0 to 1"),
    "llm.host": (lambda v: not problem(with_scheme(v)), 'an http(s) URL like "http://127.0.0.1:11434"'),
    "llm.model": (lambda v: bool(v.strip()), 'a model name like "gemma3:4b"'),
    "llm.temperature": (lambda v: 0 <= v <= 2, "a number from 0 to 2"),
    "llm.connect_timeout_s": (lambda v: 0 < v <= 60, "more than 0 and at most 60"),
    "llm.read_timeout_s": (lambda v: 0 < v <= 3600, "more than 0 and at most 3600"),
    "llm.answer_timeout_s": (lambda v: 0 < v <= 3600, "more than 0 and at most 3600"),
    "llm.num_predict": (lambda v: 16 <= v <= 32768, "an integer from 16 to 32768"),
    "llm.cache_entries": (lambda v: 0 <= v <= 100_000, "an integer from 0 to 100000"),
    "tts.rate": (lambda v: 50 <= v <= 500, "an integer from 50 to 500"),
    "output.dir": (lambda v: bool(v.strip()) and "\x00" not in v, "a directory path"),
    "answer.sentences": (lambda v: 1 <= v <= 20, "an integer from 1 to 20"),
    "answer.long_sentences": (lambda v: 1 <= v <= 50, "an integer from 1 to 50"),
    "answer.repeat_penalty": (lambda v: 1.0 <= v <= 2.0, "a number from 1.0 (off) to 2.0"),
    "answer.frequency_penalty": (lambda v: 0 <= v <= 2, "a number from 0 (off) to 2"),
    "answer.presence_penalty": (lambda v: 0 <= v <= 2, "a number from 0 (off) to 2"),
    "listen.mode": (lambda v: v in ("always", "wake_word", "push_to_talk"), '"always", "wake_word" or "push_to_talk"'),
    "listen.wake_word": (
        lambda v: v in ("hey_jarvis", "okay_nabu", "hey_mycroft", "alexa"),
        '"hey_jarvis", "okay_nabu", "hey_mycroft" or "alexa"',
    ),
    "listen.wake_window_s": (lambda v: 1 <= v <= 30, "a number of seconds from 1 to 30"),
    "memory.max_turns": (lambda v: 1 <= v <= 100, "an integer from 1 to 100"),
    "memory.max_tokens": (lambda v: 100 <= v <= 100_000, "an integer from 100 to 100000"),
}


REASONS: dict[str, Callable[[Any], str]] = {"llm.host": lambda v: problem(with_scheme(v))}
"""Keys whose refusal says why after the value ("its port is not a number from 1 to 65535")."""


def conflict(section: str, values: Any) -> str:
    """Keys of one section that contradict each other, said as an error naming both, or "" when none do."""
    if section == "vad" and values.smart_turn_ask_ms > values.smart_turn_max_silence_ms:
        return (
            f"vad.smart_turn_ask_ms ({values.smart_turn_ask_ms}) is more than vad.smart_turn_max_silence_ms "
            f"({values.smart_turn_max_silence_ms}): the silence limit would end every turn before smart turn is "
            "asked; make smart_turn_ask_ms the smaller"
        )
    return ""


def type_ok(value: Any, annotation: Any) -> bool:
    """Is value (from TOML) of the annotated type? A bool is never an int or a float here."""
    if typing.get_origin(annotation) is Literal:
        return value in typing.get_args(annotation)
    if isinstance(annotation, types.UnionType):
        return any(type_ok(value, a) for a in typing.get_args(annotation))
    if annotation is bool:
        return isinstance(value, bool)
    if annotation is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if annotation is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    return isinstance(value, annotation)


def type_name(annotation: Any) -> str:
    """The type as an error says it: "true or false", "an integer", "\"a\" or \"b\"" ..."""
    if typing.get_origin(annotation) is Literal:
        names = [f'"{a}"' for a in typing.get_args(annotation)]
        return ", ".join(names[:-1]) + " or " + names[-1]
    if isinstance(annotation, types.UnionType):
        return " or ".join(type_name(a) for a in typing.get_args(annotation))
    return {bool: "true or false", int: "an integer", float: "a number", str: "a string"}[annotation]
