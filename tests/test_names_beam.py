"""A request is decoded again with a beam (short_window.NAMES_BEAM, on with stt.repair_names): on the real tiny.en,
greedy decoding hears the spoken eval's "weather dot py" as "whether.py" and "take that back" as "take that Mac", and
the beam over the same encoder output hears them right; a question is decoded once, greedily."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

import voiceloop
from voiceloop.audio.formats import read_audio
from voiceloop.config import SttConfig
from voiceloop.stt.engines import FasterWhisper
from voiceloop.stt.heard_names import asks, holds_a_name, names_a_file
from voiceloop.stt.short_window import NAMES_BEAM, transcribe_short
from voiceloop.stt.transcript import float_audio
from voiceloop.stt.vocabulary import bias_prompt

from .conftest import DATA

ACOUSTIC = Path(voiceloop.__file__).parent / "devtools" / "data" / "acoustic"


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


def test_a_whole_name_is_told_from_a_name_cut_short() -> None:
    assert holds_a_name("Write a hello world script in hello.py.")
    assert holds_a_name("Make a file called notes dot txt")
    assert holds_a_name("Summarize report.mb")  # mended to report.md
    assert not holds_a_name("Write a hello world script in hello.")
    assert not holds_a_name("Write a script in hello.net")
    assert not holds_a_name("So, D.F. Steve Lee.")


@pytest.mark.parametrize(
    "text,question",
    [
        ("What is the capital of France?", True),
        ("Okay, so, how do I undo a commit?", True),  # fillers first
        ("Tell me a joke.", True),
        ("Oh no, take that Mac.", False),  # requests, though they name no file
        ("Sort of the least alpha matically.", False),
        ("Could you make a file called notes.txt?", False),
        ("At what temperature does water boil?", True),  # a question mark, and no polite request before it
        ("In Python, is a list mutable?", True),
        ("Can you take that back?", False),  # a question mark on a polite request
        ("Would you please delete the last line?", False),
    ],
)
def test_a_question_is_told_from_a_request(text: str, question: bool) -> None:
    assert asks(text) is question


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


@pytest.mark.slow
def test_a_question_that_opens_with_no_question_word_is_decoded_once(tiny: FasterWhisper) -> None:
    """ "At what temperature does water boil?" (Piper, the acoustic bench's q_boil) does not start as a question
    does; its question mark tells it from a request, so it is decoded once (the beam cost it ~170 ms a turn)."""
    audio = float_audio(read_audio(ACOUSTIC / "q_boil.wav"))
    heard = transcribe_short(tiny._model, audio, language="en", prompt=bias_prompt(), beam_size=1, names_beam=5)
    assert heard is not None and not heard.second_look and heard.text.rstrip().endswith("?"), heard


@pytest.mark.slow
def test_a_request_that_names_no_file_gets_the_beam_too(tiny: FasterWhisper) -> None:
    """ "Oh no, take that back" (espeak-ng) is "take that Mac" to the greedy decode: an edit of the last file instead
    of an undo. It is a request, not a question, so the beam decodes it again."""
    wav = DATA / "eval" / "spoken" / "files_take_back.wav"
    once = dict(language="en", prompt=bias_prompt(), beam_size=1)
    greedy = transcribe_short(tiny._model, float_audio(read_audio(wav)), **once)  # type: ignore[arg-type]
    assert greedy is not None and "mac" in greedy.text.lower(), greedy
    heard = tiny.transcribe(read_audio(wav)).text
    assert "take that back" in heard.lower(), heard


@pytest.mark.slow
def test_of_near_equal_hypotheses_the_one_with_a_whole_name_is_kept(tiny: FasterWhisper) -> None:
    """The beam's likeliest reading of "a hello world script in hello dot py" (Piper, room noise) is "in hello.", the
    extension lost; the next one, a little less likely, has "hello.py" (short_window.WHOLE_NAME_BONUS)."""
    heard = tiny.transcribe(read_audio(DATA / "eval" / "spoken" / "name_hello.wav")).text
    assert "hello.py" in heard.lower(), heard
