"""Early start: transcription and the intent call begin at a short pause; kept when the person stays
quiet, thrown away when they go on. Real segmenter, real Whisper, real model server."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from voiceloop.agent.assistant import Assistant
from voiceloop.agent.confirm import TerminalConfirmer
from voiceloop.agent.intents import Action
from voiceloop.agent.sandbox import Sandbox
from voiceloop.agent.tools import Tools
from voiceloop.audio.formats import read_wav, wav_bytes
from voiceloop.audio.mic import WavSource
from voiceloop.audio.vad import Segmenter, WebRtcVad
from voiceloop.config import VadConfig
from voiceloop.listen.early import EarlyStart
from voiceloop.listen.loop import Listener
from voiceloop.voice.speech import SilentSpeaker

from .conftest import DATA

GAP = np.zeros(16000 * 2, dtype=np.int16)


def scripted(pattern: str) -> tuple[Segmenter, list[np.ndarray]]:
    """A segmenter whose VAD answers from a script ("1" voiced, "0" silent), and the frames to feed."""
    answers = iter(pattern)
    seg = Segmenter(VadConfig(start_ms=90, min_speech_ms=90, silence_ms=600), lambda _: next(answers) == "1")
    frames = [np.full(480, i, dtype=np.int16) for i in range(len(pattern))]  # each frame tells where it was
    return seg, frames


def test_job_starts_at_the_pause_and_its_result_is_kept_for_the_same_audio() -> None:
    seg, frames = scripted("1" * 10 + "0" * 30)
    calls: list[np.ndarray] = []
    early: EarlyStart[int] = EarlyStart(lambda s, job: calls.append(s) or len(s), after_ms=240, frame_ms=30)
    utt = None
    for i, f in enumerate(frames):
        utt = seg.feed(f)
        if utt is not None:
            break
        early.watch(seg)
        assert early.started == (1 if i >= 10 + 8 - 1 else 0)  # once, after 8 silent frames (240 ms)
    assert utt is not None
    assert early.take(utt) == len(utt.samples)
    assert len(calls) == 1 and np.array_equal(calls[0], utt.samples)
    assert (early.used, early.wasted) == (1, 0)


def test_job_is_thrown_away_when_speech_resumes() -> None:
    seg, frames = scripted("1" * 10 + "0" * 10 + "1" * 10 + "0" * 30)
    early: EarlyStart[int] = EarlyStart(lambda s, job: len(s), after_ms=240, frame_ms=30)
    utt = None
    for f in frames:
        utt = seg.feed(f)
        if utt is not None:
            break
        early.watch(seg)
    assert utt is not None
    result = early.take(utt)
    assert early.wasted == 1 and early.started == 2  # the first was stale; the second is for the whole utterance
    assert result == len(utt.samples)


def listener_for(stream: np.ndarray, tmp_path: Path, cfg, llm, transcriber, console) -> Listener:
    wav = tmp_path / "mic.wav"
    wav.write_bytes(wav_bytes(stream))
    tools = Tools(llm, Sandbox(Path(cfg.output.dir)), TerminalConfirmer(console), cfg.llm.num_predict)
    assistant = Assistant(cfg, transcriber, llm, tools, SilentSpeaker())
    return Listener(assistant, WavSource(wav), Segmenter(cfg.vad, WebRtcVad(2)), console)


@pytest.mark.slow
@pytest.mark.llm
def test_turn_starts_with_the_early_transcript_and_intents(tmp_path: Path, cfg, llm, transcriber, console) -> None:
    stream = np.concatenate([read_wav(DATA / "create_notes.wav"), GAP])
    listener = listener_for(stream, tmp_path, cfg, llm, transcriber, console)
    assert listener.early is not None  # on by default
    listener.run(max_turns=1)
    out = console.file.getvalue()  # type: ignore[attr-defined]
    assert listener.early.used == 1, out
    head = listener.last_head
    assert head is not None and head.decided is not None
    assert "notes" in head.heard.text.lower()
    assert [i.action for i in head.decided.intents] == [Action.CREATE_FILE]
    assert "You said:" in out and "notes.txt" in out
    assert not Path(cfg.output.dir).exists()  # no terminal here: the write is still asked for, and refused


@pytest.mark.slow
@pytest.mark.llm
def test_a_pause_mid_sentence_does_not_split_or_act_early(tmp_path: Path, cfg, llm, transcriber, console) -> None:
    x = read_wav(DATA / "create_notes.wav")
    cut = int(len(x) * 0.45)
    pause = np.zeros(16 * 450, np.int16)  # longer than early_start_ms, shorter than silence_ms
    listener = listener_for(np.concatenate([x[:cut], pause, x[cut:], GAP]), tmp_path, cfg, llm, transcriber, console)
    listener.run(max_turns=1)
    out = console.file.getvalue()  # type: ignore[attr-defined]
    assert listener.early is not None and listener.early.wasted >= 1, out
    said = [line for line in out.splitlines() if line.startswith("You said:")]
    assert len(said) == 1, out
    assert "create" in said[0].lower() and "shopping" in said[0].lower()  # both halves, one turn
    assert not Path(cfg.output.dir).exists()
