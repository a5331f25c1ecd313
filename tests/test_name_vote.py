"""A request's file name is voted on by tiny.en's and base's beams (stt/name_vote.py, stt/second_ear.py): on the spoken
eval's own recordings, tiny.en alone hears "travel-nash-land.md" and, with notes.txt made before, "start.txt"; the two
beams together hear travel-plan.md and notes.txt. A question and a request that names no file never wake base."""

from __future__ import annotations

import dataclasses

import pytest

from voiceloop.audio.formats import read_audio
from voiceloop.config import SttConfig
from voiceloop.stt.engines import FasterWhisper
from voiceloop.stt.name_vote import Beam, choose, heard_names, sure_of, votes

from .conftest import DATA

SPOKEN = DATA / "eval" / "spoken"


@pytest.mark.parametrize(
    "text,names",
    [
        ("Create a file called travel-plan.md.", ["travel-plan.md"]),
        ("Write it in sort underscore utils dot py.", ["sort_utils.py"]),
        ("Summar eye shopping underscore list.txt.", ["shopping_list.txt"]),
        ("Write a test for it's in test, underscore math.py.", ["test_math.py"]),
        ("Make a file calledsons.txt and then tell me a joke.", ["sons.txt"]),  # "called" glued to the name
        ("Create hello.py and notes dot md", ["hello.py", "notes.md"]),
        ("Summarize report.mb", ["report.md"]),  # as written after heard_names.mend
        ("Write a script in hello.net", []),  # no extension we know
        ("So, D.F. Steve Lee.", []),
        ("What is the capital of France?", []),
    ],
)
def test_names_are_found_as_written(text: str, names: list[str]) -> None:
    from voiceloop.stt.heard_names import mend

    assert [n.name for n in heard_names(mend(text))] == names


def test_both_beams_vote_and_the_session_adds_its_own() -> None:
    tiny = Beam(("Read out start.txt out loud.", "Reload start.txt out loud."), (-4.0, -5.0))
    base = Beam(("Read notes.txt out loud.", "Read note.txt out loud."), (-3.0, -5.0))
    tally = votes([(tiny, 1.0), (base, 1.0)])
    assert tally["start.txt"] == pytest.approx(1.0)
    assert tally["notes.txt"] == pytest.approx(1 / (1 + 2.718281828**-2), rel=1e-6)
    assert votes([(tiny, 1.0), (base, 1.0)], ["notes.txt"])["notes.txt"] > tally["notes.txt"]


def test_the_winner_takes_the_heard_names_place() -> None:
    tiny = Beam(("Create a file called travel-nash-land.md.", "Create a file called travel-hash-land.md."), (-6, -7))
    base = Beam(("Create a file called travel-plan.mb", "Create a file, write a travel-plan.md"), (-6, -6.1))
    chosen = "Create a file called travel-nash-land.md."
    assert choose(chosen, tiny, base) == "Create a file called travel-plan.md."  # in tiny's words
    # one name agreed on: nothing changes; two names, or none: the vote is not asked
    assert choose(chosen, tiny, Beam((chosen,), (-1.0,))) == chosen
    assert choose("Create a.txt and b.txt", tiny, base) == "Create a.txt and b.txt"
    assert choose("Tell me a joke.", tiny, base) == "Tell me a joke."
    # a text that starts with its name lost its verb into it: the first beam's hypothesis with words before it
    glued = Beam(("RemiNotes.txt.", "Read notes dot txt to me."), (-3.0, -4.0))
    assert choose("reminotes.txt.", glued, Beam(("Renotes.txt",), (-1.0,))) == "Read notes dot txt to me."


def test_base_is_asked_only_when_tiny_is_unsure_of_the_name() -> None:
    sure = Beam(("Create notes.txt.", "Create notes.txt", "Create notes dot txt."), (-1.0, -1.5, -2.0))
    torn = Beam(("Create notes.txt.", "Create nodes.txt."), (-1.0, -1.5))
    assert sure_of("Create notes.txt.", sure)
    assert not sure_of("Create notes.txt.", torn)
    assert not sure_of("Create notes.txt.", sure, ["todo.md"])  # a new name, where the session has files
    assert sure_of("Create notes.txt.", sure, ["todo.md", "notes.txt"])
    assert not sure_of("renotes.txt to me.", Beam(("renotes.txt to me.",), (-1.0,)))  # the verb went into the name
    assert sure_of("Tell me a joke.", sure)  # no name: nothing to ask


@pytest.fixture(scope="module")
def both() -> FasterWhisper:
    engine = FasterWhisper(SttConfig())
    assert engine.second is not None, "stt.names_model (base) is installed by make install"
    return engine


@pytest.fixture(scope="module")
def tiny_alone() -> FasterWhisper:
    return FasterWhisper(dataclasses.replace(SttConfig(), names_model=""))


@pytest.mark.slow
def test_a_name_tiny_mishears_is_heard_by_the_two_beams(both: FasterWhisper, tiny_alone: FasterWhisper) -> None:
    """ "Create a file called travel dash plan dot md" (espeak-ng): tiny.en's beam hears "travel-nash-land.md", base's
    "travel-plan.mb" (mended: .md) with more of its belief."""
    audio = read_audio(SPOKEN / "more_travel_plan.wav")
    assert "travel-plan" not in tiny_alone.transcribe(audio).text.lower()
    assert "travel-plan.md" in both.transcribe(audio).text.lower()


@pytest.mark.slow
def test_a_session_file_wins_a_near_vote(both: FasterWhisper, tiny_alone: FasterWhisper) -> None:
    """ "Read notes dot txt out loud" (espeak-ng) after notes.txt was made: tiny.en hears "start.txt" (a name never
    said), base notes.txt; the session's file tips the vote."""
    audio = read_audio(SPOKEN / "more_notes_aloud.wav")
    for engine in (both, tiny_alone):
        engine.hint_files(["notes.txt"])
    try:
        assert "notes.txt" not in tiny_alone.transcribe(audio).text.lower()
        assert "notes.txt" in both.transcribe(audio).text.lower()
    finally:
        for engine in (both, tiny_alone):
            engine.hint_files([])


@pytest.mark.slow
def test_a_question_or_a_request_without_a_name_never_asks_base(both: FasterWhisper) -> None:
    """base decodes only what tiny.en's beam heard a file name in: a question and "take that back" cost nothing."""
    assert both.second is not None
    before = both.second.decodes
    for wav in (DATA / "question.wav", SPOKEN / "files_take_back.wav"):
        assert not heard_names(both.transcribe(read_audio(wav)).text)
    assert both.second.decodes == before
    assert "hello.py" in both.transcribe(read_audio(SPOKEN / "name_hello.wav")).text.lower()
    assert both.second.decodes == before + 1
