"""Confirming a write by voice (confirm.voice): real synthesized answers, real tiny.en Whisper, a WAV as the
microphone, the real rich prompt. Only a clear yes writes; a no, silence, unclear speech and voiceloop's
own question never do."""

from __future__ import annotations

import contextlib
import io
import threading
from pathlib import Path

import numpy as np
import pytest
from rich.console import Console

from voiceloop.agent.sandbox import Sandbox
from voiceloop.audio.formats import SAMPLE_RATE, wav_bytes
from voiceloop.audio.mic import WavSource
from voiceloop.audio.vad import build_segmenter
from voiceloop.config import Config, ConfirmConfig, TtsConfig
from voiceloop.listen.voice_confirm import Ears, Said, VoiceConfirmer, spoken_answer
from voiceloop.stt.transcript import Transcript
from voiceloop.voice.engines import PiperSynth
from voiceloop.voice.espeak import Pyttsx3Synth
from voiceloop.voice.speech import SilentSpeaker

SURE, UNSURE = -0.2, -1.5


@pytest.mark.parametrize(
    "text,logprob,want",
    [
        ("Yes.", SURE, Said.YES),
        ("Yes, write it.", SURE, Said.YES),
        ("Yeah, go ahead.", SURE, Said.YES),
        ("Um, okay.", SURE, Said.YES),
        ("Yes.", UNSURE, Said.UNCLEAR),  # heard without confidence: not a yes
        ("No.", SURE, Said.NO),
        ("No, don't.", UNSURE, Said.NO),  # a no is a no, however it was heard
        ("Cancel that.", SURE, Said.NO),
        ("Yes, but not that file.", SURE, Said.NO),
        ("Yes. No. Wait.", SURE, Said.NO),
        ("Shall I write notes.txt?", SURE, Said.UNCLEAR),  # its own question, if it were ever heard
        ("Yesterday was fine.", SURE, Said.UNCLEAR),
        ("Yes, and also summarize it.", SURE, Said.UNCLEAR),  # more than a yes: ask again
        ("", SURE, Said.UNCLEAR),
    ],
)
def test_only_a_whole_confident_yes_is_a_yes_and_any_no_is_a_no(text: str, logprob: float, want: Said) -> None:
    assert spoken_answer(Transcript(text, logprob, 0.01, 0.0), -1.0, 0.6) is want


@pytest.fixture(scope="module")
def piper() -> PiperSynth:
    return PiperSynth(TtsConfig(engine="piper"))


def mic_saying(tmp_path: Path, speech: np.ndarray | None, after_s: float = 1.0) -> Path:
    """A WAV microphone: a moment of quiet, the answer, then quiet."""
    quiet = np.zeros(int(SAMPLE_RATE * after_s), np.int16)
    parts = [quiet, speech, np.zeros(SAMPLE_RATE * 2, np.int16)] if speech is not None else [quiet]
    path = tmp_path / "mic.wav"
    path.write_bytes(wav_bytes(np.concatenate(parts)))
    return path


def ask(tmp_path: Path, transcriber, mic: Path, timeout_s: float = 12.0) -> tuple[bool, str, VoiceConfirmer, str]:
    cfg = Config(confirm=ConfirmConfig(voice=True, timeout_s=timeout_s), tts=TtsConfig(enabled=False))
    out = io.StringIO()
    asker = VoiceConfirmer(Console(file=out, width=120, color_system=None), cfg, threading.Event(), io.StringIO())
    source = WavSource(mic, realtime=True)
    segmenter = build_segmenter(cfg.vad)
    asker.ears = Ears(SilentSpeaker(), lambda: source, segmenter, transcriber, contextlib.nullcontext)
    proposal = Sandbox(tmp_path / "output").propose("notes.txt", "buy milk\n")
    yes, why = asker.confirm(proposal)
    return yes, why, asker, out.getvalue()


@pytest.mark.parametrize(
    "said,want",
    [("Yes, write it.", True), ("Yeah.", True), ("No, cancel.", False), ("Nope, don't.", False)],
)
def test_a_spoken_answer_decides_the_write(tmp_path: Path, transcriber, piper: PiperSynth, said: str, want: bool):
    yes, why, asker, shown = ask(tmp_path, transcriber, mic_saying(tmp_path, piper.synth(said)))
    assert yes is want, (why, asker.heard, shown)
    assert "Create" in shown and "notes.txt" in shown and "say yes / no" in shown  # the panel came first
    assert why == ("" if want else "you said no"), asker.heard


def test_a_bare_no_never_writes(tmp_path: Path, transcriber, piper: PiperSynth) -> None:
    """A one-syllable "No." is sometimes heard as something else; then the prompt times out: still no write."""
    yes, why, asker, _ = ask(tmp_path, transcriber, mic_saying(tmp_path, piper.synth("No.")))
    assert not yes and why in ("you said no", "no answer in 12 s, so nothing was written"), asker.heard
    assert all(said is not Said.YES for _, said in asker.heard)


def test_silence_is_no_after_the_timeout(tmp_path: Path, transcriber) -> None:
    yes, why, asker, _ = ask(tmp_path, transcriber, mic_saying(tmp_path, None, 3.0), timeout_s=2.0)
    assert not yes and "no answer in 2 s" in why and asker.heard == []


def test_unclear_speech_and_its_own_question_never_write(tmp_path: Path, transcriber, piper: PiperSynth) -> None:
    """Something that is not an answer, then voiceloop's own question (as its echo would sound), then nothing."""
    gap = np.zeros(SAMPLE_RATE, np.int16)
    espeak = Pyttsx3Synth(TtsConfig(rate=180))
    speech = np.concatenate([piper.synth("Banana bread is nice."), gap, espeak.synth("Shall I write notes dot txt?")])
    yes, why, asker, shown = ask(tmp_path, transcriber, mic_saying(tmp_path, speech), timeout_s=9.0)
    assert not yes and "no answer" in why, asker.heard
    assert asker.heard and all(said is Said.UNCLEAR for _, said in asker.heard), asker.heard
    assert "Please say yes or no" in shown
