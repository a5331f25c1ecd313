"""Early start: transcription and the intent call begin at a short pause; kept when the person stays
quiet, thrown away when they go on. Real segmenter, real Whisper, real model server."""

from __future__ import annotations

import io
import json
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest
from rich.console import Console

from voiceloop.agent.assistant import Assistant
from voiceloop.agent.confirm import TerminalConfirmer
from voiceloop.agent.intents import Action
from voiceloop.agent.sandbox import Sandbox
from voiceloop.agent.tools import Tools
from voiceloop.audio.bus import AudioChunk
from voiceloop.audio.formats import read_wav, wav_bytes
from voiceloop.audio.frames import FrameChunker
from voiceloop.audio.mic import WavSource
from voiceloop.audio.vad import Segmenter, Utterance, WebRtcVad, build_segmenter
from voiceloop.config import Config, VadConfig
from voiceloop.devtools.acoustic_room import first_loud, last_loud
from voiceloop.listen.early import EarlyStart
from voiceloop.listen.loop import Listener
from voiceloop.listen.turn_clock import TRACE_ENV, speech_clock
from voiceloop.llm.ollama import OllamaClient
from voiceloop.stt.transcript import Transcriber, Transcript
from voiceloop.voice.speech import SilentSpeaker

from .conftest import DATA

GAP = np.zeros(16000 * 2, dtype=np.int16)
# spoken commands to create a file (a person, espeak, Piper): a fast path could act on the first half alone
PAUSED = (
    DATA / "create_notes.wav",
    DATA / "eval" / "spoken" / "name_todo.wav",
    DATA / "eval" / "spoken" / "name_shopping_list.wav",
)


def scripted(pattern: str) -> tuple[Segmenter, list[np.ndarray]]:
    """A segmenter whose VAD answers from a script ("1" voiced, "0" silent), and the frames to feed."""
    answers = iter(pattern)
    seg = Segmenter(VadConfig(start_ms=90, min_speech_ms=90, silence_ms=600), lambda _: next(answers) == "1")
    frames = [np.full(480, i, dtype=np.int16) for i in range(len(pattern))]  # each frame tells where it was
    return seg, frames


def fed(seg: Segmenter, frames: list[np.ndarray], early: EarlyStart[int]) -> Utterance | None:
    """Feed frames as listen does, the early start watching after each; the utterance they ended, if any."""
    for f in frames:
        utt = seg.feed(f)
        if utt is not None:
            return utt
        early.watch(seg)
    return None


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
    utt = fed(seg, frames, early)
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
def test_turn_starts_with_the_early_transcript_and_intents(
    tmp_path: Path, cfg: Config, llm: OllamaClient, transcriber: Transcriber
) -> None:
    """Three spoken commands, each followed by silence: the turn starts from the early job (transcript and
    intents), and the intents are the file the person asked for. Both are rates over the three: a noisy clip
    can hold a pause where a job starts and goes stale (Piper's name_journal, with noise, did: used 0), and
    the intents rest on Whisper. With the early result never taken, none is used."""
    used = created = 0
    for wav in PAUSED:
        console = Console(file=io.StringIO(), width=120)
        stream = np.concatenate([read_wav(wav), GAP])
        listener = listener_for(stream, tmp_path, cfg, llm, transcriber, console)
        assert listener.early is not None  # on by default
        listener.run(max_turns=1)
        out = console.file.getvalue()  # type: ignore[attr-defined]
        assert "You said:" in out and not Path(cfg.output.dir).exists()  # no terminal: the write is refused
        if listener.early.used:
            head = listener.last_head
            assert head is not None and head.decided is not None, (wav.name, out)
            used += 1
            created += [i.action for i in head.decided.intents] == [Action.CREATE_FILE]
    assert used >= len(PAUSED) - 1 and created >= len(PAUSED) - 1, (used, created)


class HeardLengths:
    """The real transcriber, noting how many samples each transcription was given (the early jobs' and the
    turn's) and what it heard."""

    def __init__(self, inner: Transcriber) -> None:
        self.inner, self.name = inner, inner.name
        self.calls: list[tuple[int, str]] = []

    def hint_files(self, files: Sequence[str]) -> None:
        self.inner.hint_files(files)

    def transcribe(self, samples: np.ndarray) -> Transcript:
        heard = self.inner.transcribe(samples)
        self.calls.append((len(samples), heard.text))
        return heard


@pytest.mark.slow
@pytest.mark.llm
def test_a_pause_mid_sentence_does_not_split_or_act_early(
    tmp_path: Path, cfg: Config, llm: OllamaClient, transcriber: Transcriber
) -> None:
    """A 450 ms pause halfway through the speech (longer than early_start_ms, shorter than silence_ms), in each
    of three commands: one turn, on the whole sentence; the job started at the pause is thrown away. How many
    words Whisper makes of the spliced audio is a rate: more than of the first half, in all but one."""
    grew = 0
    for wav in PAUSED:
        x = read_wav(wav)
        start, last = first_loud(x, 300), last_loud(x, 300)
        assert start is not None and last is not None
        cut = start + int((last - start) * 0.45)
        pause = np.zeros(16 * 450, np.int16)  # longer than early_start_ms, shorter than silence_ms
        ears = HeardLengths(transcriber)
        out_io = Console(file=io.StringIO(), width=120)
        listener = listener_for(np.concatenate([x[:cut], pause, x[cut:], GAP]), tmp_path, cfg, llm, ears, out_io)
        listener.run(max_turns=1)
        out = out_io.file.getvalue()  # type: ignore[attr-defined]
        assert listener.early is not None and listener.early.wasted >= 1, (wav.name, out)
        listener.early.settle(60)  # the stale job may still be transcribing (on a busy box, after the turn's own)
        said = [line for line in out.splitlines() if line.startswith("You said:")]
        assert len(said) == 1, (wav.name, out)  # one turn
        # the job at the pause heard the least, the turn the most (the stale job may finish after the turn's own)
        (early_n, early_text), (turn_n, turn_text) = min(ears.calls), max(ears.calls)
        assert turn_n >= last - start + len(pause), (wav.name, ears.calls)  # the turn heard both halves
        assert turn_n - early_n >= last - cut, (wav.name, ears.calls)  # the first job had only the first
        grew += len(turn_text.split()) > len(early_text.split())
        assert not Path(cfg.output.dir).exists()
    assert grew >= len(PAUSED) - 1, grew


def test_the_turn_clock_starts_at_the_end_of_speech() -> None:
    """An utterance ended by 10 silent frames (then the one that ended it), in a chunk that reached the mic 0.5 s
    ago with 2 frames and 100 samples after that frame: the speech ended that long ago, the clock's start."""
    now = time.monotonic()
    chunk = AudioChunk(np.zeros(480 * 4, np.int16), now - 0.5 - 4 * 0.03, 0)
    frames = FrameChunker(480)
    assert len(frames.push(np.zeros(480 * 2 + 100, np.int16))) == 2  # 100 samples wait for a whole frame
    clock = speech_clock(chunk, frames, 2, 10)  # 2 whole frames came after it, and the 100 pending
    ended_s_ago = 0.5 + (2 * 480 + 100) / 16000 + 11 * 0.03
    assert abs((time.perf_counter() - clock.origin) - ended_s_ago) < 0.02
    assert abs(clock.ms["endpoint"] - ended_s_ago * 1000) < 20  # the silence that ended it is the first stage
    clock.lap("stt", at=clock.origin)  # the transcript was known before the turn was declared over: no time
    clock.mark("transcript", at=clock.origin + 0.2)
    clock.mark("transcript")  # only the first counts
    assert clock.ms["stt"] == 0 and abs(clock.marks["transcript"] - 200) < 1e-6


@pytest.mark.slow
@pytest.mark.llm
def test_a_listen_turn_is_timed_from_the_end_of_speech(
    tmp_path: Path, cfg, llm, transcriber, console, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The shipped endpointing on a question said in real time: the turn's stages start where the speech ended,
    so the silence that ended it and the wait for the early intent call are stages (they read 0 before)."""
    trace = tmp_path / "trace.jsonl"
    monkeypatch.setenv(TRACE_ENV, str(trace))
    speech = read_wav(DATA / "question.wav")
    wav = tmp_path / "mic.wav"
    wav.write_bytes(wav_bytes(np.concatenate([speech, GAP])))
    tools = Tools(llm, Sandbox(Path(cfg.output.dir)), TerminalConfirmer(console), cfg.llm.num_predict, cfg.answer)
    assistant = Assistant(cfg, transcriber, llm, tools, SilentSpeaker())
    listener = Listener(assistant, WavSource(wav, realtime=True), build_segmenter(cfg.vad), console)
    started = time.monotonic()
    listener.run(max_turns=1)
    out = console.file.getvalue()  # type: ignore[attr-defined]
    [line] = [json.loads(x) for x in trace.read_text().splitlines()]
    ms = line["timings_ms"]
    spoken_end = last_loud(speech, 300) / 16000  # type: ignore[operator]
    assert abs(line["speech_ended"] - (started + spoken_end)) < 0.3, (line, started + spoken_end)
    assert 150 <= ms["endpoint"] <= 1500, ms  # the silence the segmenter waited out
    assert ms["intent"] > 0, ms  # the wait for the early intent call is the intent stage
    assert ms["transcript"] <= ms["first_token"] <= ms["total"], ms
    assert line["transcript"].strip(), out  # a question was heard and answered (first_token above); not which words


def test_a_job_started_at_a_pause_shorter_than_the_kept_tail_is_taken() -> None:
    """early_start_ms below the segmenter's kept tail (150 ms): the finished utterance holds the job's audio and up
    to 150 ms of silence after it, and the job is still the turn's (it was thrown away every time before)."""
    seg, frames = scripted("1" * 10 + "0" * 30)
    early: EarlyStart[int] = EarlyStart(lambda s, job: len(s), after_ms=90, frame_ms=30)
    utt = fed(seg, frames, early)
    assert utt is not None and early.started == 1
    assert early.take(utt) == 480 * (10 + 3)  # the job's audio: the speech and the 3 silent frames it waited for
    assert (early.used, early.wasted) == (1, 0)
    assert len(utt.samples) == 480 * (10 + 5)  # the utterance kept 150 ms


def test_a_job_is_not_taken_for_an_utterance_that_goes_on_past_its_audio() -> None:
    seg, frames = scripted("1" * 10 + "0" * 3 + "1" * 10 + "0" * 30)
    early: EarlyStart[int] = EarlyStart(lambda s, job: len(s), after_ms=90, frame_ms=30)
    utt = fed(seg, frames, early)
    assert utt is not None
    assert early.started == 2 and early.wasted == 1  # the first pause's job was dropped when speech came back
    assert early.take(utt) == 480 * (10 + 3 + 10 + 3)
