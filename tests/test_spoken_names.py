"""A spoken file name stays the name that was said.

Two ways it did not: Whisper's prompt showed an example name ("Create a file called notes.txt"), and espeak's
"data dot csv" was heard as notes.csv; and in "create notes.txt, and write ... in math underscore U does.py"
the second part became an edit of the notes.txt the first part made. Real voices (espeak-ng and Piper), the
real tiny.en Whisper, the real LLM server.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from voiceloop.agent.classifier import Classifier
from voiceloop.agent.intents import Action
from voiceloop.agent.understand.grounding import ground
from voiceloop.agent.understand.prompt import ModelIntent
from voiceloop.agent.understand.words import names_in, prepare, words
from voiceloop.audio.formats import SAMPLE_RATE, wav_bytes
from voiceloop.config import SttConfig, TtsConfig
from voiceloop.devtools.evaluate import names_not_said
from voiceloop.llm.ollama import OllamaClient
from voiceloop.stt.engines import build_engine
from voiceloop.stt.vocabulary import bias_prompt
from voiceloop.voice.engines import PiperSynth
from voiceloop.voice.espeak import Pyttsx3Synth

from .conftest import run_cli, write_config

DATA_AND_JOKE = "Create a file called data dot csv, and then tell me a joke about cats."
NOTES_AND_CODE = (
    "Create a file named notes dot txt, and write a python function that adds two numbers in math underscore "
    "utils dot py."
)
UNSEEN = [  # names in no prompt; with the old prompt espeak heard the first two as notes.csv and notes.md
    DATA_AND_JOKE,
    "Make a file called budget dot md.",
    "Create a file called plan dot txt and then tell me a joke.",
    "Create an empty file called songs dot txt.",
    "Make a file called contacts dot json.",
    "Summarize minutes dot txt.",
]


@pytest.fixture(scope="module")
def ears():
    """tiny.en as a session starts: the command prompt, no session files yet."""
    return build_engine(SttConfig())


@pytest.fixture(scope="module")
def voices() -> dict[str, object]:
    return {"espeak": Pyttsx3Synth(TtsConfig()), "piper": PiperSynth(TtsConfig(engine="piper"))}


def spoken(voice, said: str) -> np.ndarray:
    """`said` in `voice`, with the quiet around it a microphone would give."""
    quiet = np.zeros(SAMPLE_RATE // 2, np.int16)
    return np.concatenate([quiet, voice.synth(said), quiet, quiet])


def hear(ears, voice, said: str) -> str:
    return str(ears.transcribe(spoken(voice, said)).text)


@pytest.mark.parametrize(
    "found,said,session,want",
    [
        (["notes.csv"], DATA_AND_JOKE, [], ["notes.csv"]),  # another word where the name was
        (["data.csv", "data.csc"], DATA_AND_JOKE, [], []),  # said, and misheard
        (["whether.py"], "Write a python script called weather dot py.", [], []),
        (["does.py", "under-sport-eatles.py"], "Put it in math underscore utils dot py.", [], []),
        (["notes.txt"], NOTES_AND_CODE, [], []),
        (["D.F"], "Summarize notes dot txt please.", [], []),  # initials, not a file
        (["math_utils.py"], "Add a docstring to it.", ["math_utils.py"], []),  # the session's file
        (["Summarize.txt", "plan.md"], "Create an empty file called songs dot txt.", [], ["Summarize.txt", "plan.md"]),
        (["diary.txt"], "I'd like a new text file called diary", [], []),  # the stem said, the suffix implied
        (["notes.txt"], "I'd like a new text file called diary", [], ["notes.txt"]),
    ],
)
def test_names_not_said_are_names_nobody_said_not_mishearings(
    found: list[str], said: str, session: list[str], want: list[str]
) -> None:
    assert list(names_not_said(found, said, session)) == want


@pytest.mark.slow
@pytest.mark.llm
def test_eval_reports_names_not_said(tmp_path: Path, ollama_url: str, voices) -> None:
    cases = tmp_path / "cases"
    cases.mkdir()
    (cases / "data.wav").write_bytes(wav_bytes(spoken(voices["espeak"], DATA_AND_JOKE)))
    (cases / "manifest.toml").write_text(
        f'[[case]]\nwav = "data.wav"\nsaid = "{DATA_AND_JOKE}"\nvoice = "espeak:en"\n'
        'expect = ["create_file", "general_chat"]\nfiles = ["data.csv", ""]\n',
        encoding="utf-8",
    )
    write_config(tmp_path / "config.toml", ollama_url)
    table = run_cli("eval", str(cases), cwd=tmp_path, env={"COLUMNS": "200"})
    report = json.loads(run_cli("eval", str(cases), "--json", cwd=tmp_path).stdout)
    [case] = report["cases"]
    assert f"names not said: {report['names_not_said']}" in table.stdout, table.stdout + table.stderr
    assert report["names_not_said"] == len(case["names_not_said"]), report
    # a name not said may only be one Whisper heard wrong (tiny.en heard "Vader.csv" once with AVX2 kernels),
    # never one the pipeline made up: the bias prompt's example, or any name that is not in the transcript
    for name in case["names_not_said"]:
        assert name.lower() in case["heard"].lower() and "notes" not in name, report
    if "data.csv" in case["heard"].lower().replace(" dot ", "."):
        assert case["names_not_said"] == [], report  # heard right: nothing to report


def test_the_prompt_holds_command_words_and_the_sessions_files_only() -> None:
    assert names_in(bias_prompt()) == []
    assert names_in(bias_prompt(["data.csv", "plan.md"])) == ["plan.md", "data.csv"]


@pytest.mark.slow
def test_espeak_names_are_not_heard_as_the_prompts_example(ears, voices) -> None:
    """The old prompt made espeak's "data dot csv" notes.csv every time. No name said by espeak may come out as
    the prompt's example, and a name heard is the name said in all but one of the six (tiny.en heard "data dot
    csv" as "Vader.csv" once with AVX2 kernels: a mishearing, not the prompt)."""
    heard = {said: hear(ears, voices["espeak"], said) for said in UNSEEN}
    assert not [h for h in heard.values() if "notes" in h.lower()], heard
    wrong = {said: h for said, h in heard.items() if names_not_said(names_in(prepare(h)), said)}
    assert len(wrong) <= 1, wrong


@pytest.mark.slow
@pytest.mark.parametrize("voice", ["espeak", "piper"])
def test_no_heard_file_name_borrows_a_word_of_the_prompt(ears, voices, voice: str) -> None:
    """A prompt word that was not said must not become (part of) a file name: "Summarize.txt" for songs.txt."""
    prompt = set(words(bias_prompt()))
    borrowed = []
    for said in UNSEEN:
        heard = hear(ears, voices[voice], said)
        for name in names_in(prepare(heard)):
            from_prompt = (set(words(name.rsplit(".", 1)[0])) & prompt) - set(words(said))
            if from_prompt:
                borrowed.append((said, heard, name))
    # tiny.en's beam is not bit-stable across runs on borderline audio: a fresh-clone run once heard espeak's
    # "songs dot txt" as function.txt. The old prompt borrowed 2 of these 6 (notes.csv, notes.md) every time.
    assert len(borrowed) <= 1, borrowed


def test_a_part_that_names_a_file_keeps_it_whatever_the_model_picks() -> None:
    """The model's answer as it came for the misheard request; the part's own name wins."""
    part = "write a Python function that adds two numbers in math_U does.py"
    picked = ModelIntent(action="edit_file", filename="notes.txt", request="adds two numbers")
    got = ground(picked, part, ["notes.txt"], ("notes.txt",))
    assert (got.action, got.filename) == (Action.WRITE_CODE, "does.py")
    unnamed = ground(picked, "write a Python function that adds two numbers", ["notes.txt"], ("notes.txt",))
    assert unnamed.filename != "notes.txt"  # "a function that adds" points at nothing
    pointed = ground(picked, "and add a line about milk to it", ["notes.txt"], ("notes.txt",))
    assert (pointed.action, pointed.filename) == (Action.EDIT_FILE, "notes.txt")


@pytest.mark.llm
@pytest.mark.parametrize(
    "said",
    [
        # the transcript the issue saw (Piper, tiny.en, the old prompt): the fast path leaves it to the model
        "Create a file named notes.txt. And write a Python function that adds two numbers in math underscore "
        "U does.py.",
        "Create a file named notes.txt and then write a function that adds two numbers to a new file",
    ],
)
def test_no_compound_part_becomes_an_edit_of_the_file_another_part_made(llm: OllamaClient, said: str) -> None:
    intents = Classifier(llm).classify(said).intents
    assert (intents[0].action, intents[0].filename) == (Action.CREATE_FILE, "notes.txt")
    assert all(i.filename != "notes.txt" for i in intents[1:]), intents
    assert all(i.action is not Action.EDIT_FILE for i in intents), intents


@pytest.mark.slow
@pytest.mark.llm
def test_piper_compound_request_writes_the_code_to_its_own_file(ears, voices, llm: OllamaClient) -> None:
    heard = hear(ears, voices["piper"], NOTES_AND_CODE)
    intents = Classifier(llm).classify(heard).intents
    # Piper's voice is sampled: the first name is heard as notes.txt, or now and then as no.txt
    assert [i.action for i in intents][:1] == [Action.CREATE_FILE] and intents[0].filename, heard
    first, rest = intents[0].filename, intents[1:]
    assert rest and all(i.action is not Action.EDIT_FILE and i.filename != first for i in rest), (heard, intents)
    assert names_not_said([i.filename for i in intents], NOTES_AND_CODE) == (), (heard, intents)
