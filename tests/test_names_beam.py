"""A request that names a file is decoded again with a beam (short_window.NAMES_BEAM, on with stt.repair_names):
on the real tiny.en, greedy decoding hears the spoken eval's "weather dot py" as "whether.py", and the beam over the
same encoder output hears weather.py; a question is decoded once, greedily."""

from __future__ import annotations

import dataclasses

import pytest

from voiceloop.audio.formats import read_audio
from voiceloop.config import SttConfig
from voiceloop.stt.engines import FasterWhisper
from voiceloop.stt.heard_names import names_a_file
from voiceloop.stt.short_window import NAMES_BEAM, transcribe_short
from voiceloop.stt.transcript import float_audio
from voiceloop.stt.vocabulary import bias_prompt

from .conftest import DATA


@pytest.mark.parametrize(
    "text",
    [
        "Write a Python script called whether.py.",
        "Write a hello world script in hello.",  # "file" words: the name may be what went missing
        "Make a file called birth is dot txt?",
        "Write a test for it and test under score calc.py",
        "reminotes.txt",
    ],
)
def test_words_that_name_or_ask_for_a_file_get_the_names_beam(text: str) -> None:
    assert names_a_file(text)


@pytest.mark.parametrize(
    "text",
    ["What is the capital of France?", "Tell me a joke.", "Summarize it.", "So, D.F. Steve Lee.", "e.g. this one"],
)
def test_questions_and_chat_stay_greedy(text: str) -> None:
    assert not names_a_file(text)


@pytest.fixture(scope="module")
def tiny() -> FasterWhisper:
    return FasterWhisper(SttConfig())


@pytest.mark.slow
def test_a_misheard_name_is_heard_right_by_the_names_beam(tiny: FasterWhisper) -> None:
    audio = float_audio(read_audio(DATA / "eval" / "spoken" / "name_weather.wav"))
    once = dict(language="en", prompt=bias_prompt(), beam_size=1)
    greedy = transcribe_short(tiny._model, audio, **once)  # type: ignore[arg-type]
    beam = transcribe_short(tiny._model, audio, **once, names_beam=NAMES_BEAM)  # type: ignore[arg-type]
    assert greedy is not None and beam is not None
    assert "whether" in greedy.text.lower() and not greedy.second_look, greedy
    assert "weather.py" in beam.text.lower() and beam.second_look, beam
    assert "weather.py" in tiny.transcribe(read_audio(DATA / "eval" / "spoken" / "name_weather.wav")).text.lower()
    off = FasterWhisper(dataclasses.replace(SttConfig(), repair_names=False))
    assert "whether" in off.transcribe(read_audio(DATA / "eval" / "spoken" / "name_weather.wav")).text.lower()


@pytest.mark.slow
def test_a_question_is_decoded_once(tiny: FasterWhisper) -> None:
    audio = float_audio(read_audio(DATA / "question.wav"))
    heard = transcribe_short(tiny._model, audio, language="en", prompt=bias_prompt(), beam_size=1, names_beam=5)
    assert heard is not None and not heard.second_look and "France" in heard.text, heard
