"""Activation modes: the wake word on committed clips (scripts/make_wakeword_clips.py) through the real
microWakeWord model and the real Whisper check, the stop words, and push-to-talk's key handling."""

from __future__ import annotations

import contextlib
import io
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from rich.console import Console

from voiceloop.audio.formats import read_wav
from voiceloop.audio.vad import Segmenter, WebRtcVad
from voiceloop.audio.wakeword import WakeWord
from voiceloop.config import VadConfig
from voiceloop.listen.activation import WakeWordGate, is_stop, strip_wake
from voiceloop.listen.ptt import PushToTalk

from .conftest import DATA

CLIPS = DATA / "wakeword"
POSITIVE = sorted((CLIPS / "positive").glob("*.wav"))
NEGATIVE = sorted((CLIPS / "negative").glob("*.wav"))


def test_there_are_enough_clips_in_several_voices() -> None:
    assert len(POSITIVE) >= 20 and len(NEGATIVE) >= 20
    voices = {p.stem.split("_", 1)[1] for p in POSITIVE + NEGATIVE}
    assert len(voices) >= 4, voices


@pytest.mark.parametrize(
    ("heard", "command"),
    [
        ("Hey Jarvis, what is the capital of France?", "What is the capital of France?"),
        ("Hey, Jarvis. Create a file called notes.txt.", "Create a file called notes.txt."),
        ("Hey Jarvis.", ""),
        ("Jarvis's what time is it", "What time is it"),
        ("Hey Charles, create a file called notes.txt.", None),
        ("Hey Travis, what time is it?", None),
        ("What is the capital of France? Ask Jarvis.", None),  # named too late: not addressed to it
    ],
)
def test_the_wake_word_is_found_among_the_first_words_and_taken_off(heard: str, command: str | None) -> None:
    assert strip_wake(heard, "Hey Jarvis") == command


@pytest.mark.parametrize("said", ["Stop.", "Cancel!", "stop it", "Hey Jarvis, stop.", "Never mind."])
def test_stop_words_are_heard(said: str) -> None:
    assert is_stop(said)


@pytest.mark.parametrize("said", ["Stop the music and write a poem.", "Cancel my file notes.txt", "Stopwatch"])
def test_a_sentence_with_stop_in_it_is_not_a_stop(said: str) -> None:
    assert not is_stop(said)


def _utterance(samples: np.ndarray):
    from voiceloop.audio.vad import Segmenter, join_utterances

    seg = Segmenter(VadConfig(), WebRtcVad(2))
    utts = list(seg.segment(samples))
    return join_utterances(utts, samples) if utts else None


def _admitted(gate: WakeWordGate, path: Path) -> tuple[bool, str]:
    """Feed a clip to the gate as the listen loop does (every 30 ms chunk), then ask about its utterance."""
    samples = read_wav(path)
    for pos in range(0, len(samples), 480):
        gate.hear(samples[pos : pos + 480])
    utt = _utterance(samples)
    if utt is None:
        return False, ""
    ok, heard = gate.admit(utt)
    return ok, heard.text if heard is not None else ""


@pytest.fixture(scope="module")
def gate(transcriber) -> WakeWordGate:
    return WakeWordGate(WakeWord("hey_jarvis"), transcriber, window_s=5.0, silence_s=0.7)


def test_wake_word_accepts_no_look_alike_and_misses_at_most_one_in_ten(gate: WakeWordGate, capsys) -> None:
    accepted = {}
    for p in POSITIVE:
        gate.armed_until = 0.0
        ok, text = _admitted(gate, p)
        if p.name.startswith("04_"):  # "Hey Jarvis." alone is not a turn: it opens the window for the command
            ok = gate.armed_until > 0
        accepted[p.name] = (ok, text)
    rejected_pos = [n for n, (ok, _) in accepted.items() if not ok]
    false_accepts = []
    raw_hits = gate.detections
    for p in NEGATIVE:
        gate.armed_until = 0.0
        ok, text = _admitted(gate, p)
        if ok:
            false_accepts.append((p.name, text))
    raw_false = gate.detections - raw_hits
    with capsys.disabled():
        print(
            f"\nwake word: {len(POSITIVE) - len(rejected_pos)}/{len(POSITIVE)} positives accepted, "
            f"{len(false_accepts)}/{len(NEGATIVE)} negatives accepted; the model alone fired on "
            f"{raw_false} negatives, {gate.rejected} detections refused by the transcript"
        )
    assert false_accepts == []
    assert len(rejected_pos) <= 0.1 * len(POSITIVE), rejected_pos
    for name, (ok, text) in accepted.items():
        if ok:
            assert "jarvis" not in text.lower(), (name, text)  # the command reaches the turn without the wake word


def test_the_wake_word_alone_opens_a_window_for_the_command(gate: WakeWordGate) -> None:
    """The wake word said alone ("Hey Jarvis."), in each of the four voices: it is no turn itself, and where the
    model heard it (three voices of four at least: the set above allows one miss in ten) the question after it
    is a turn without the wake word, and the sentence after that is not."""
    opened = []
    for clip in sorted((CLIPS / "positive").glob("04_*.wav")):
        gate.armed_until = 0.0
        ok, _ = _admitted(gate, clip)
        assert not ok, clip.name
        if gate.armed_until == 0.0:
            continue  # the model missed it here
        opened.append(clip.name)
        ok, text = _admitted(gate, DATA / "question.wav")  # the question, without the wake word
        assert ok and text, clip.name
        ok, _ = _admitted(gate, DATA / "question.wav")  # the window was used: the next sentence is not a turn
        assert not ok, clip.name
    assert len(opened) >= 3, opened


def test_speech_without_the_wake_word_is_noted_as_ignored(gate: WakeWordGate) -> None:
    """listen says in one dim line that it heard speech and let it go, so nobody waits for an answer
    that will not come (and tests wait for that line instead of sitting out a silence)."""
    out = io.StringIO()
    gate.console, gate.armed_until = Console(file=out, width=120), 0.0
    ignored = "(heard speech without “Hey Jarvis”: ignored)"
    try:
        assert not _admitted(gate, DATA / "question.wav")[0]  # no wake word at all
        assert out.getvalue().count(ignored) == 1, out.getvalue()
        assert not _admitted(gate, CLIPS / "negative" / "01_joe.wav")[0]  # "Hey Charles, create a file..."
        assert out.getvalue().count(ignored) == 2, out.getvalue()
        taken = []
        for clip in sorted((CLIPS / "positive").glob("00_*.wav")):  # "Hey Jarvis, what is the capital..." x 4 voices
            before = out.getvalue().count(ignored)
            ok, text = _admitted(gate, clip)
            if ok:  # a turn is not noted as ignored
                taken.append(clip.name)
                assert "capital" in text.lower() and out.getvalue().count(ignored) == before, (clip.name, text)
            else:  # a missed wake word is, once
                assert out.getvalue().count(ignored) == before + 1, (clip.name, out.getvalue())
        assert len(taken) >= 3, taken
    finally:
        gate.console = None


class _Keys:
    """The keyboard seam, scripted: presses at given times."""

    def __init__(self) -> None:
        self.queue: list[float] = []

    def presses(self) -> list[float]:
        got, self.queue = self.queue, []
        return got

    def paused(self) -> contextlib.AbstractContextManager[None]:
        @contextlib.contextmanager
        def nothing() -> Iterator[None]:
            yield

        return nothing()


def test_push_to_talk_toggles_on_a_tap_and_ends_on_the_second_tap() -> None:
    keys = _Keys()
    ptt = PushToTalk(keys, WebRtcVad(2), min_speech_ms=300, max_s=30.0)
    speech = read_wav(DATA / "question.wav")
    chunks = [speech[i : i + 480] for i in range(0, len(speech), 480)]
    assert all(ptt.feed(c) is None for c in chunks[:10])  # nothing pressed: nothing heard
    keys.queue.append(time.monotonic())
    out = [ptt.feed(c) for c in chunks]
    assert all(u is None for u in out) and ptt.talking
    keys.queue.append(time.monotonic() + 5.0)  # a second tap, long after the first
    utt = ptt.feed(np.zeros(480, np.int16))
    assert utt is not None and not ptt.talking
    assert len(utt.samples) == len(speech) + 480  # everything from the first tap to the second


def test_push_to_talk_notes_a_sentence_said_without_space_as_ignored() -> None:
    out = io.StringIO()
    keys = _Keys()
    unheard = Segmenter(VadConfig(), WebRtcVad(2))
    ptt = PushToTalk(keys, WebRtcVad(2), 300, 30.0, unheard, Console(file=out, width=120))
    speech = np.concatenate([read_wav(DATA / "question.wav"), np.zeros(16000, np.int16)])
    chunks = [speech[i : i + 480] for i in range(0, len(speech), 480)]
    ignored = "(heard speech without the space bar: ignored)"
    assert all(ptt.feed(c) is None for c in chunks)  # space is up: not taken...
    assert out.getvalue().count(ignored) == 1, out.getvalue()  # ...but noted, once for the sentence
    keys.queue.append(time.monotonic())  # a tap: the same sentence again is the person's turn
    assert all(ptt.feed(c) is None for c in chunks) and ptt.talking
    keys.queue.append(time.monotonic() + 5.0)
    assert ptt.feed(np.zeros(480, np.int16)) is not None
    assert out.getvalue().count(ignored) == 1, out.getvalue()  # what was taken is not noted
