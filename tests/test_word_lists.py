"""The word lists as data (voiceloop/vocabulary.yaml): the tiny template language, whole-word matching, and the
lists the understanding path reads from it (issue 28, part 3)."""

from __future__ import annotations

import pytest
import yaml

from voiceloop import vocabulary
from voiceloop.agent.understand.words import is_question, strip_lead
from voiceloop.vocabulary import contains, expand, is_one, leading, only_words_of, phrases, replace_first, starts


def test_a_template_stands_for_every_phrase_it_spells() -> None:
    assert sorted(expand("(can|could) you [please|just]")) == sorted(
        ["can you", "can you please", "can you just", "could you", "could you please", "could you just"]
    )
    assert expand("give me [a|an] (tip|tips)") == [
        "give me a tip",
        "give me a tips",
        "give me an tip",
        "give me an tips",
        "give me tip",
        "give me tips",
    ]
    assert "3 ideas" not in phrases("describes") and "five" in phrases("describes")  # <numbers> is read in place
    assert "nine" in phrases("described")
    with pytest.raises(ValueError, match="template"):
        expand("(can|could you")


def test_matching_is_on_whole_words_case_aside() -> None:
    assert starts("Create a file", "make_verbs") and not starts("Created a file", "make_verbs")
    assert leading("Could you please make it", "polite") == "Could you please"  # the longest phrase
    assert contains("a poem about it.", "pointers") and not contains("a poem about italy", "pointers")
    assert not contains("a function that adds", "refers") and contains("fix that", "refers")
    assert is_one("  That   FILE ", "the_file") and not is_one("that file please", "the_file")
    resolved = replace_first("write a test for it and run it", "pointers", "fizz.py")
    assert resolved == "write a test for fizz.py and run it"
    assert only_words_of("Create the file.", "just_create", ".,!")
    assert not only_words_of("Create the file?", "just_create", ".,!")
    assert not only_words_of("create the file with eggs", "just_create", ".,!")


def test_the_understanding_path_reads_the_lists() -> None:
    assert strip_lead("Okay, um, could you please create notes.txt") == "create notes.txt"
    assert strip_lead("ummm, create notes.txt") == "create notes.txt"
    assert is_question("Give me an example of a closure") and not is_question("Give me a file called x.txt")
    assert not is_question("Whatever you like")  # "what" is a whole word, not a prefix


def test_every_list_is_defined_once_and_every_template_expands() -> None:
    text = vocabulary.VOCABULARY.read_text(encoding="utf-8")
    keys = [line.split(":")[0] for line in text.splitlines() if line and not line[0].isspace() and line[0] != "#"]
    assert len(keys) == len(set(keys)), keys  # YAML would quietly keep the last of two lists with one name
    for name, value in yaml.safe_load(text).items():
        if isinstance(value, list):
            assert phrases(name), name


def test_request_shapes_are_templates_with_slots() -> None:
    from voiceloop.agent.understand import shapes

    assert shapes.match("summary", "Summarize: the cat sat on the mat") == {"rest": "the cat sat on the mat"}
    assert shapes.match("summary", "sum it up") == {"pro": "it", "rest": ""}
    assert shapes.match("summary", "summarized notes.txt") is None  # whole words only
    assert shapes.match("dictated", "with the text buy milk") == {"x": "buy milk"}
    assert shapes.match("wished", "to-do list") is None  # a slot never starts inside a word
    assert shapes.starts("no_name_write", "write me a small python script that prints hi") is not None
    # `_` takes marks only before a space: a name that starts with dots keeps them, so the sandbox refuses it
    assert shapes.find("call_it", "no, call it ../x.txt") == {"new": "../x.txt", "_before": "no, "}
    assert shapes.find("call_it", "call it... notes.txt") == {"new": "notes.txt", "_before": ""}
    with pytest.raises(ValueError, match="template"):
        shapes._regex("(create|make a file")


@pytest.mark.parametrize(
    "text,left",
    [
        ("Okay, so, um, create a file", "create a file"),
        ("okay so create a file", "create a file"),
        ("Okay... what is it", ".. what is it"),  # one stop mark goes with each filler, no more
        ("Okay , so what", "what"),  # a space before the comma: the polite loop's strip takes it
        ("Um! Please, can you please make notes.txt", "make notes.txt"),
        ("Sorry, what", "Sorry, what"),  # "so" only as a whole word
        ("so", ""),
        ("", ""),
    ],
)
def test_understanding_takes_fillers_off_with_one_mark_after_each(text: str, left: str) -> None:
    assert strip_lead(text) == left


@pytest.mark.parametrize(
    "text,question",
    [
        ("Okay... what is it", True),  # hearing takes every mark after a filler
        ("Okay , so, how do I undo a commit?", True),
        ("Um!, uh. Tell me a joke", True),
        ("So, can you take that back?", False),  # a polite request, though it ends with "?"
        ("Sorry, what?", True),  # "sorry" is no filler; a question mark, no polite opening
        ("so", False),
        ("", False),
    ],
)
def test_hearing_takes_fillers_off_with_every_mark_after_each(text: str, question: bool) -> None:
    from voiceloop.stt.heard_names import asks

    assert asks(text) is question


def test_one_list_strips_fillers_for_hearing_and_understanding() -> None:
    """vocabulary.without_leading is the one filler strip: understanding takes one stop mark after each filler,
    hearing every mark (stt may not import agent, so both call vocabulary)."""
    assert vocabulary.without_leading("Okay... so, make it", "fillers") == ".. so, make it"
    assert vocabulary.without_leading("Okay... so, make it", "fillers", every_mark=True) == "make it"
    assert vocabulary.drop_leading("can you, make it", "polite", ",") == "make it"
    assert vocabulary.drop_leading("make it", "polite") == "make it"
