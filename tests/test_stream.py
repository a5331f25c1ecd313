"""Speaking while the reply is still being written: the first sentence plays before the LLM is done,
and a cancelled reply goes quiet at once and says how much was really spoken."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import numpy as np
import pytest

from tests.kit import RecordingConfirmer, ScriptedTranscriber
from voiceloop.agent.assistant import Assistant
from voiceloop.agent.sandbox import Sandbox
from voiceloop.agent.tools import Tools
from voiceloop.audio.aec import FarEnd
from voiceloop.config import Config, TtsConfig
from voiceloop.llm.ollama import OllamaClient
from voiceloop.voice.budget import AnswerGuard
from voiceloop.voice.espeak import Pyttsx3Synth
from voiceloop.voice.speech import SentenceSpeaker, SpeechInterrupted, SpeechStream

from .wire import held


class ClockedPlayer:
    """The speaker seam: takes as long as the audio lasts, like a real device, and honours stop_flag
    every 30 ms as PyAudioPlayer does."""

    def __init__(self) -> None:
        self.stop_flag = threading.Event()
        self.far_end: FarEnd | None = None  # no echo canceller hears it (echo_cancel needs a real stream)
        self.played: list[tuple[float, int]] = []
        self.stopped_after: list[int] = []
        """Samples played of each sound cut short by stop_flag."""

    def play(self, samples: np.ndarray) -> None:
        if self.stop_flag.is_set():
            return
        self.played.append((time.perf_counter(), len(samples)))
        for pos in range(0, len(samples), 480):
            if self.stop_flag.is_set():
                self.stopped_after.append(pos)
                return
            time.sleep(0.03)


@pytest.fixture(scope="module")
def synth() -> Pyttsx3Synth:
    return Pyttsx3Synth(TtsConfig(rate=220))


def test_first_sentence_plays_before_the_text_is_finished(synth: Pyttsx3Synth) -> None:
    player = ClockedPlayer()
    stream = SpeechStream(synth, player)
    for token in ["The ", "sky ", "is ", "blue", ". ", "Grass"]:
        stream.feed(token)
    deadline = time.monotonic() + 10
    while not player.played and time.monotonic() < deadline:
        time.sleep(0.01)
    assert player.played, "the complete first sentence was not played while the rest was still coming"
    assert len(player.played) == 1  # "Grass" is not a sentence yet
    stream.feed(" is green.")
    spoken = stream.close()
    assert spoken.text == "The sky is blue. Grass is green."
    assert len(player.played) == 2
    assert not spoken.interrupted
    assert spoken.first_audio_at is not None and spoken.first_audio_at <= player.played[0][0]


def test_a_long_first_clause_does_not_wait_for_the_full_stop(synth: Pyttsx3Synth) -> None:
    player = ClockedPlayer()
    stream = SpeechStream(synth, player)
    for token in ["On a grey ", "and rainy morning", ", people ", "hurry to work", ", 1,000 of them"]:
        stream.feed(token)
    deadline = time.monotonic() + 10
    while not player.played and time.monotonic() < deadline:
        time.sleep(0.01)
    assert len(player.played) == 1  # "On a grey and rainy morning," only: later commas wait for the stop
    stream.feed(".")
    spoken = stream.close()
    assert spoken.text == "On a grey and rainy morning, people hurry to work, 1,000 of them."
    assert len(player.played) == 2


def test_cancel_goes_quiet_and_reports_what_was_said(synth: Pyttsx3Synth) -> None:
    player = ClockedPlayer()
    stream = SpeechStream(synth, player)
    stream.say("This is the first sentence of a long story. Here is the second one. And a third.")
    deadline = time.monotonic() + 10
    while not player.played and time.monotonic() < deadline:
        time.sleep(0.01)
    assert player.played, "the first sentence was never played"
    stream.cancel()
    spoken = stream.close()
    # close() did not wait for the rest: the first sentence's playback was stopped part-way, not played out
    assert player.stopped_after and player.stopped_after[0] < player.played[0][1]
    assert spoken.interrupted
    assert spoken.text.startswith("This is the first sentence") and spoken.text.endswith("…")
    assert "third" not in spoken.text
    assert len(player.played) == 1
    with pytest.raises(SpeechInterrupted):
        stream.feed("more tokens")  # the LLM stream feeding it stops too


def test_a_new_reply_is_not_silenced_by_an_earlier_interruption(synth: Pyttsx3Synth) -> None:
    player = ClockedPlayer()
    speaker = SentenceSpeaker(synth, player)
    first = speaker.stream()
    first.say("One. Two.")
    first.cancel()
    first.close()
    spoken = speaker.speak("Hello again.")
    assert spoken.played and spoken.text == "Hello again." and not spoken.interrupted


def test_a_long_first_sentence_is_spoken_in_two_parts_at_its_first_joining_word(synth: Pyttsx3Synth) -> None:
    """The model writes "A black hole is a region of space where matter cannot escape." a token at a time: its
    first part goes to the voice once "where" has come, voiced with a pause that goes on (a comma), and the
    words spoken are the words written. A whole reply said at once is not cut up."""
    player, voice = ClockedPlayer(), TimedSynth(synth)
    stream = SpeechStream(voice, player)
    for token in ["A", " black", " hole", " is", " a", " region", " of", " space", " where", " matter"]:
        stream.feed(token)
    wait_for(lambda: bool(player.played))
    assert voice.said == ["A black hole is a region of space,"]  # "where" is the rest's
    stream.feed(" cannot escape.")
    spoken = stream.close()
    assert voice.said[1:] == ["where matter cannot escape."]
    assert spoken.text == "A black hole is a region of space where matter cannot escape."
    whole = TimedSynth(synth)
    assert SentenceSpeaker(whole, None).speak("A black hole is a region of space where matter cannot escape.").text
    assert whole.said == ["A black hole is a region of space where matter cannot escape."]


def test_a_short_answer_is_spoken_in_two_parts_at_a_joining_word_after_four_words(synth: Pyttsx3Synth) -> None:
    """ "The sky is blue because it scatters blue light.", the 0.5B model's answer to "Why is the sky blue?": its
    first four words go to the voice once "because" has come, not after the full stop eight tokens later (at five
    words it waited). Three words before a joining word ("The water is so hot.") are not cut off."""
    player, voice = ClockedPlayer(), TimedSynth(synth)
    stream = SpeechStream(voice, player)
    guard = AnswerGuard(3, stream.feed)
    for token in ["The", " sky", " is", " blue", " because", " it"]:
        guard.feed(token)
    wait_for(lambda: bool(player.played))
    assert voice.said == ["The sky is blue,"]
    for token in [" scatters", " blue", " light", "."]:
        guard.feed(token)
    guard.finish()
    assert stream.close().text == guard.said == "The sky is blue because it scatters blue light."
    whole = TimedSynth(synth)
    stream = SpeechStream(whole, None)
    for token in ["The", " water", " is", " so", " hot", " it", " burns", "."]:
        stream.feed(token)
    assert stream.close().text == "The water is so hot it burns."
    assert whole.said == ["The water is so hot it burns."]


def test_a_one_sentence_answer_pauses_after_its_subject_before_its_full_stop(synth: Pyttsx3Synth) -> None:
    """ "The capital of France is Paris.", the 0.5B model's answer with no comma or joining word: its subject goes
    to the voice once "is" has come (the rest waited for the full stop and the end of the stream before). No pause
    after a short subject ("The sky is blue.") or a pronoun ("One of the things you can do is rest.")."""
    player, voice = ClockedPlayer(), TimedSynth(synth)
    stream = SpeechStream(voice, player)
    guard = AnswerGuard(3, stream.feed)
    for token in ["The", " capital", " of", " France", " is", " Paris"]:
        guard.feed(token)
    wait_for(lambda: bool(player.played))
    assert voice.said == ["The capital of France,"]
    guard.feed(".")
    guard.finish()
    assert stream.close().text == guard.said == "The capital of France is Paris."
    assert voice.said[1:] == ["is Paris."]
    for whole in ["The sky is blue today.", "One of the things you can do is rest."]:
        voice = TimedSynth(synth)
        stream = SpeechStream(voice, None)
        guard = AnswerGuard(3, stream.feed)
        for token in whole.replace(" ", "| ").split("|"):
            guard.feed(token)
        guard.finish()
        assert stream.close().text == whole and voice.said == [whole]


def test_the_guard_hands_a_first_clause_on_so_it_is_spoken_before_its_full_stop(synth: Pyttsx3Synth) -> None:
    """An answer through the AnswerGuard, as answers are streamed: the first clause ("..., a color") is spoken
    before the sentence ends. The guard once passed it on without the space after the comma, and the speech
    stream, which knows a clause end by that space, held it until the full stop."""
    player = ClockedPlayer()
    stream = SpeechStream(synth, player)
    guard = AnswerGuard(3, stream.feed)
    for token in ["The", " sky", " is", " blue", " because", " it", " scatters", " blue", " light", ",", " a"]:
        guard.feed(token)
    wait_for(lambda: bool(player.played))
    assert len(player.played) == 1
    for token in [" color", " we", " see", "."]:
        guard.feed(token)
    guard.finish()
    assert stream.close().text == guard.said == "The sky is blue because it scatters blue light, a color we see."


def test_the_next_sentence_is_made_while_this_one_plays(synth: Pyttsx3Synth) -> None:
    """Synthesis runs ahead of playback: the second sentence is at the voice before the first has finished
    playing, so it is ready when the first ends (no gap of a synthesis between sentences)."""
    player, voice = ClockedPlayer(), TimedSynth(synth)
    stream = SpeechStream(voice, player)
    stream.say("This first sentence takes a good while to say out loud. Then a second one.")
    stream.close()
    (started, samples), _ = player.played
    assert len(voice.asked) == 2 and voice.asked[1] < started + samples / 16000, (voice.asked, player.played)


def wait_for(done: Callable[[], bool], timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not done() and time.monotonic() < deadline:
        time.sleep(0.01)


class TimedSynth:
    """The real voice, noting when it was asked to say each sentence."""

    def __init__(self, synth: Pyttsx3Synth) -> None:
        self.inner = synth
        self.asked: list[float] = []
        self.said: list[str] = []
        """The text it was asked to voice, in order."""

    def synth(self, text: str) -> np.ndarray:
        self.asked.append(time.perf_counter())
        self.said.append(text)
        return self.inner.synth(text)


class TimedClient(OllamaClient):
    """The real Ollama client, noting when each answer's stream ended."""

    ended: list[float]

    def chat(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        try:
            return super().chat(*args, **kwargs)
        finally:
            self.ended.append(time.perf_counter())


@pytest.mark.slow
@pytest.mark.llm
def test_chat_reply_starts_speaking_before_the_llm_finishes(cfg: Config, tmp_path, synth: Pyttsx3Synth) -> None:
    """The real model's answer reaches voiceloop at 20 tokens a second at most (a 4B model's pace on a CPU; the
    0.5B one writes three facts in about a second): "before the model finishes" is then a gap of seconds, not a
    race between the speech thread and the last token that a busy box lost. Each sentence of the reply is said
    once, in order: the words spoken are the words printed."""
    player = ClockedPlayer()
    voice = TimedSynth(synth)
    speaker = SentenceSpeaker(voice, player)
    person = RecordingConfirmer(answer=False)
    with held(cfg.ollama_host, line_s=0.05) as url:
        llm = TimedClient(url, cfg.llm.model, read_timeout_s=cfg.llm.read_timeout_s)
        llm.ended = []
        tools = Tools(llm, Sandbox(tmp_path / "output"), person)
        assistant = Assistant(cfg, ScriptedTranscriber(), llm, tools, speaker)  # typed text: nothing to transcribe
        turn = assistant.handle_text("Tell me three short facts about the moon, one sentence each.")
    assert turn.intents and turn.intents[0].action.value == "general_chat", turn.intents
    assert turn.spoken_s > 0.5
    assert turn.spoken_text.split() == turn.reply.split(), (turn.spoken_text, turn.reply)
    assert len(voice.asked) >= 2, turn.reply  # said sentence by sentence, not as one block at the end
    # the first sentence went to the voice while the answer was still being written
    assert voice.asked[0] < llm.ended[-1], turn.reply
    assert not (tmp_path / "output").exists() and person.shown == []  # a question: no write was even proposed
