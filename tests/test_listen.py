"""`voiceloop listen`: the loop on a WAV microphone, and the real PyAudio path on PulseAudio devices."""

from __future__ import annotations

import dataclasses
import io
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import pexpect
import pytest

from tests.kit import RecordingConfirmer
from voiceloop.agent.assistant import Assistant
from voiceloop.agent.confirm import TerminalConfirmer
from voiceloop.agent.sandbox import Sandbox
from voiceloop.agent.tools import Tools
from voiceloop.audio.formats import read_wav, wav_bytes
from voiceloop.audio.mic import WavSource
from voiceloop.audio.vad import Segmenter, WebRtcVad
from voiceloop.config import VadConfig
from voiceloop.listen.loop import AUDIO_IN, Listener
from voiceloop.llm.ollama import OllamaClient
from voiceloop.voice.speech import SilentSpeaker

from .conftest import DATA, ROOT, write_config
from .wire import held

AUDIO = str(ROOT / "scripts" / "audio_devices.sh")
STOP_S = 15  # Ctrl-C must end listen; how fast is bench's business, a hang fails here

pytestmark = [pytest.mark.slow, pytest.mark.llm]


def test_each_spoken_command_is_one_turn(tmp_path: Path, cfg, llm, transcriber, console) -> None:
    gap = np.zeros(16000 * 2, dtype=np.int16)
    stream = np.concatenate([read_wav(DATA / "question.wav"), gap, read_wav(DATA / "create_notes.wav"), gap])
    wav = tmp_path / "two.wav"
    wav.write_bytes(wav_bytes(stream))
    tools = Tools(llm, Sandbox(Path(cfg.output.dir)), TerminalConfirmer(console), cfg.llm.num_predict)
    assistant = Assistant(cfg, transcriber, llm, tools, SilentSpeaker())
    listener = Listener(assistant, WavSource(wav), Segmenter(VadConfig(), WebRtcVad(2)), console)
    listener.run(max_turns=2)
    out = console.file.getvalue()  # type: ignore[attr-defined]
    said = [line for line in out.splitlines() if line.startswith("You said:")]
    assert len(said) == 2, out
    assert "capital of France" in said[0] and "notes.txt" in said[1]  # first words kept, not split
    assert not Path(cfg.output.dir).exists()  # no terminal in this test: the write was refused


def test_a_question_asked_while_the_last_turn_is_thinking_is_kept(tmp_path: Path, cfg, transcriber, console):
    """A write request, then a question one second after it, said while voiceloop is still writing the code
    (nothing is played: speech off): the question is heard whole and becomes the next turn instead of being lost.

    The real model's answers reach voiceloop only once the question and the silence that ends it have been
    said (a model that takes its time, as a 4B one does): so the question falls inside the first turn's
    thinking on any machine. Before, this rested on the 0.5B model writing the code slower than the question
    took to say, and on a faster or slower box the question came after the turn or met the write prompt.

    The first turn thinks on the turn engine's worker while the loop itself goes on reading the microphone (it
    used to wait for the turn, and a thread of the overhearing's own read a tap of its own meanwhile)."""
    second = np.zeros(16000, dtype=np.int16)
    first, question = read_wav(DATA / "write_code.wav"), read_wav(DATA / "question.wav")
    wav = tmp_path / "two.wav"
    wav.write_bytes(wav_bytes(np.concatenate([first, second, question, second, second, second])))
    # audio seconds until the question has ended: its speech, the silence timer and smart turn's longest wait
    ended_s = (len(first) + len(second) + len(question)) / 16000 + 2.0
    start: list[float] = []
    asked_at: list[float] = []
    listening: list[Listener] = []
    seen: list[tuple[float, set[str]]] = []  # while the first turn thinks: the age of the loop's last chunk, threads

    def after_the_question() -> None:
        asked_at.append(time.monotonic() - start[0])
        time.sleep(max(0.0, start[0] + ended_s - time.monotonic()))
        last = listening[0].tap.last if listening else None
        if not seen and last is not None:
            seen.append((time.monotonic() - last.t1, {t.name for t in threading.enumerate()}))

    with held(cfg.ollama_host, after_the_question) as url:
        slow = dataclasses.replace(cfg, llm=dataclasses.replace(cfg.llm, host=url))
        llm = OllamaClient(url, slow.llm.model, read_timeout_s=slow.llm.read_timeout_s)
        tools = Tools(llm, Sandbox(Path(slow.output.dir)), RecordingConfirmer(answer=False), slow.llm.num_predict)
        assistant = Assistant(slow, transcriber, llm, tools, SilentSpeaker())
        start.append(time.monotonic())  # the WAV microphone's clock starts with it, just after this
        mic = WavSource(wav, realtime=True)
        listener = Listener(assistant, mic, Segmenter(VadConfig(), WebRtcVad(2)), console)
        listening.append(listener)
        listener.run(max_turns=2)
    out = console.file.getvalue()  # type: ignore[attr-defined]
    assert asked_at, out  # the model was asked through the pass-through
    assert seen and seen[0][0] < 0.5, seen  # the loop read the microphone while the turn thought
    assert "voiceloop-turn" in seen[0][1] and "voiceloop-overhear" not in seen[0][1], seen
    said = [line for line in out.splitlines() if line.startswith("You said:")]
    assert len(said) == 2 and "math" in said[0] and "capital of France" in said[1], (asked_at, out)
    assert "kept what you said while I was thinking" in out, out  # it came in while the first turn ran
    assert "ignored" not in out, out  # not clipped


@pytest.mark.audio
def test_listen_on_the_virtual_microphone(tmp_path: Path, ollama_url: str) -> None:
    subprocess.run(
        ["bash", str(Path(__file__).parent.parent / "scripts" / "audio_devices.sh"), "start"],
        check=True,
        capture_output=True,
    )
    write_config(tmp_path / "config.toml", ollama_url, '[tts]\nenabled = false\n[audio]\ninput_device = "pulse"\n')
    env = dict(os.environ, COLUMNS="120", PULSE_SOURCE="vl_mic")
    child = pexpect.spawn(
        sys.executable, ["-m", "voiceloop", "listen"], cwd=str(tmp_path), env=env, encoding="utf-8", timeout=240
    )
    child.expect(AUDIO_IN)  # a fresh capture stream on a null-sink monitor can take seconds to deliver
    subprocess.run(["paplay", "-d", "vl_micfeed", str(DATA / "create_notes.wav")], check=True)
    child.expect(r"Write this file\? \[y/N\]")
    child.sendline("y")
    child.expect("wrote notes.txt")
    assert (tmp_path / "output" / "notes.txt").read_text().strip()
    child.expect("listening")
    child.kill(signal.SIGINT)
    child.expect("stopped after 1 turns", timeout=STOP_S)
    child.expect(pexpect.EOF, timeout=STOP_S)


@pytest.mark.audio
def test_lost_microphone_is_reported_and_reopened(tmp_path: Path, ollama_url: str) -> None:
    # a private sound server, so killing it ("unplugging" every device) disturbs nothing else
    runtime = tempfile.mkdtemp(prefix="vl-pa-")
    env = dict(os.environ, XDG_RUNTIME_DIR=runtime, COLUMNS="160", PULSE_SOURCE="vl_mic")
    subprocess.run(["bash", AUDIO, "start"], env=env, check=True, capture_output=True)
    write_config(tmp_path / "config.toml", ollama_url, '[tts]\nenabled = false\n[audio]\ninput_device = "pulse"\n')
    child = pexpect.spawn(
        sys.executable, ["-m", "voiceloop", "listen"], cwd=str(tmp_path), env=env, encoding="utf-8", timeout=120
    )
    child.logfile_read = log = io.StringIO()
    try:
        child.expect(AUDIO_IN)  # the microphone really delivers; now it goes away
        subprocess.run(["bash", AUDIO, "stop"], env=env, check=True)
        child.expect(r"microphone stopped delivering audio.*retrying")
        subprocess.run(["bash", AUDIO, "start"], env=env, check=True, capture_output=True)
        child.expect("microphone is back")
        child.expect(AUDIO_IN)  # the reopened stream delivers again
        # a microphone that goes quiet with no error: PulseAudio suspends the source under PortAudio's stream, which
        # then raises nothing and still says it is active (before, listen waited in silence, showing the last level)
        subprocess.run(["pactl", "suspend-source", "vl_mic", "1"], env=env, check=True)
        child.expect(r"no audio for 3 s \(stalled\).*retrying", timeout=30)
        subprocess.run(["pactl", "suspend-source", "vl_mic", "0"], env=env, check=True)
        child.expect("microphone is back")
        child.expect(AUDIO_IN)
        subprocess.run(["paplay", "-d", "vl_micfeed", str(DATA / "create_notes.wav")], env=env, check=True)
        child.expect(r"Write this file\? \[y/N\]")
        child.sendline("n")
        child.expect("did not write")
        child.kill(signal.SIGINT)
        child.expect("stopped after 1 turns")
        child.expect(pexpect.EOF)
        assert "Expression" not in log.getvalue()  # PortAudio's C-level complaints stay hidden
        assert "Traceback" not in log.getvalue()
        assert not (tmp_path / "output" / "notes.txt").exists()
    finally:
        child.close(force=True)
        subprocess.run(["bash", AUDIO, "stop"], env=env, check=False)


def _listener(cfg, llm, transcriber, console, wav: Path, vad: VadConfig) -> Listener:
    tools = Tools(llm, Sandbox(Path(cfg.output.dir)), TerminalConfirmer(console), cfg.llm.num_predict)
    assistant = Assistant(cfg, transcriber, llm, tools, SilentSpeaker())
    return Listener(assistant, WavSource(wav), Segmenter(vad, WebRtcVad(vad.aggressiveness)), console)


def _offline_cfg(tmp_path: Path):
    """Speech off and an LLM host where nothing listens: any LLM call shows up as an error line."""
    from voiceloop.config import Config, LlmConfig, OutputConfig, TtsConfig

    from .wire import free_port

    dead = f"http://127.0.0.1:{free_port()}"
    cfg = Config(
        llm=LlmConfig(host=dead, model="m", backend="ollama"),
        tts=TtsConfig(enabled=False),
        output=OutputConfig(str(tmp_path / "o")),
    )
    return cfg, OllamaClient(dead, "m")


def test_speech_longer_than_max_utterance_is_cut_into_turns(tmp_path: Path, transcriber, console) -> None:
    wav = tmp_path / "long.wav"
    wav.write_bytes(wav_bytes(np.concatenate([read_wav(DATA / "create_notes.wav"), np.zeros(16000, np.int16)])))
    cfg, llm = _offline_cfg(tmp_path)
    listener = _listener(cfg, llm, transcriber, console, wav, VadConfig(max_utterance_s=1.5))
    listener.run()
    out = console.file.getvalue()  # type: ignore[attr-defined]
    said = [line for line in out.splitlines() if line.startswith("You said:")]
    assert listener.turns >= 2, out  # about 3.5 s of talking, at most 1.5 s per turn
    assert len(said) >= 2, out
    assert "still listening" in out or "Ollama is not running" in out  # each piece went on to the LLM stage
    assert "Traceback" not in out


def test_it_says_when_the_microphone_really_delivers(tmp_path: Path, transcriber, console) -> None:
    cfg, llm = _offline_cfg(tmp_path)
    listener = _listener(cfg, llm, transcriber, console, DATA / "silence.wav", VadConfig())
    listener.run()
    out = console.file.getvalue()  # type: ignore[attr-defined]
    assert out.count(AUDIO_IN) == 1, out  # once, when the first audio was read: the cue to start talking


def test_continuous_noise_never_reaches_the_llm(tmp_path: Path, transcriber, console) -> None:
    noise = np.tile(read_wav(DATA / "noise.wav"), 10)  # 30 s of fan-like hiss
    wav = tmp_path / "noise30.wav"
    wav.write_bytes(wav_bytes(noise))
    cfg, llm = _offline_cfg(tmp_path)
    listener = _listener(cfg, llm, transcriber, console, wav, VadConfig(max_utterance_s=10.0))
    listener.run()
    out = console.file.getvalue()  # type: ignore[attr-defined]
    assert "error" not in out and "Intent" not in out, out
    assert listener.turns <= 3  # at worst a few max-length cuts, each rejected before the LLM
