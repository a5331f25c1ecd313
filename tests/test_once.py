"""`voiceloop once`: whole turns on real parts — real WAVs, Whisper, the real LLM server, a real PTY."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pexpect
import pytest

from voiceloop.agent.assistant import Assistant
from voiceloop.agent.confirm import TerminalConfirmer
from voiceloop.agent.intents import Action
from voiceloop.agent.sandbox import Sandbox
from voiceloop.agent.tools import Tools
from voiceloop.llm.ollama import OllamaClient
from voiceloop.voice.speech import SilentSpeaker

from .conftest import DATA, run_cli, write_config
from .wire import free_port

pytestmark = [pytest.mark.slow]


@pytest.mark.llm
def test_create_file_command_is_classified(cfg, llm: OllamaClient, transcriber, console) -> None:
    tools = Tools(llm, Sandbox(Path(cfg.output.dir)), TerminalConfirmer(console), cfg.llm.num_predict)
    assistant = Assistant(cfg, transcriber, llm, tools, SilentSpeaker())
    intents = assistant.classify("create a file called notes.txt with a shopping list")
    assert intents[0].action is Action.CREATE_FILE
    assert intents[0].filename == "notes.txt"


def test_typed_text_loads_no_audio_model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The smart-turn model is loaded when a recording first needs it, not for every Assistant: typed text
    works without onnxruntime (and the tests' ~20 typed-text assistants load nothing)."""
    from voiceloop.config import Config
    from voiceloop.errors import ModelError

    from .kit import RecordingConfirmer, ScriptedTranscriber

    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # as if the smart-turn extra were not installed
    dead = OllamaClient(f"http://127.0.0.1:{free_port()}", "m")  # "start over" needs no model
    tools = Tools(dead, Sandbox(tmp_path / "output"), RecordingConfirmer())
    assistant = Assistant(Config(), ScriptedTranscriber(), dead, tools, SilentSpeaker())
    assert assistant.handle_text("start over").reply.startswith("Okay, starting over")
    with pytest.raises(ModelError, match="onnxruntime"):  # a recording does need it, and says so
        assistant.run_file(DATA / "question.wav")


def spawn_once(tmp_path: Path, wav: str, *extra: str) -> pexpect.spawn:
    """`voiceloop once` under a real pseudo-terminal, as a person would run it."""
    return pexpect.spawn(
        sys.executable,
        ["-m", "voiceloop", "once", str(DATA / wav), *extra],
        cwd=str(tmp_path),
        env=dict(os.environ, COLUMNS="120"),
        encoding="utf-8",
        timeout=240,
    )


@pytest.mark.llm
def test_yes_at_the_prompt_writes_output_notes_txt(tmp_path: Path, ollama_url: str) -> None:
    write_config(tmp_path / "config.toml", ollama_url)
    child = spawn_once(tmp_path, "create_notes.wav", "--no-speak")
    child.expect("Create .*notes.txt")
    child.expect(r"Write this file\? \[y/N\]")
    child.sendline("y")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0, child.before
    written = tmp_path / "output" / "notes.txt"
    assert written.is_file() and written.read_text().strip()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["config.toml", "output"]  # nothing else written


@pytest.mark.llm
# more than a yes is no yes ("yes, and call it todo.txt" asks again under that name: test_rename.py)
@pytest.mark.parametrize("answer", ["n", "", "yes, and summarize it"])
def test_anything_but_yes_writes_nothing(tmp_path: Path, ollama_url: str, answer: str) -> None:
    write_config(tmp_path / "config.toml", ollama_url)
    child = spawn_once(tmp_path, "create_notes.wav", "--no-speak")
    child.expect(r"Write this file\? \[y/N\]")
    child.sendline(answer)
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    assert not (tmp_path / "output").exists() or list((tmp_path / "output").iterdir()) == []
    assert "did not write notes.txt" in child.before


@pytest.mark.llm
def test_no_terminal_means_no_write_and_json_says_why(tmp_path: Path, ollama_url: str) -> None:
    write_config(tmp_path / "config.toml", ollama_url)
    result = run_cli("once", str(DATA / "create_notes.wav"), "--no-speak", "--json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    turn = json.loads(result.stdout)
    assert set(turn) >= {"transcript", "avg_logprob", "intents", "actions", "reply", "timings_ms"}
    assert "notes.txt" in turn["transcript"]
    assert turn["intents"][0]["action"] == "create_file"
    assert turn["actions"][0]["status"] == "declined" and "not a TTY" in turn["actions"][0]["message"]
    assert {"stt", "intent", "total"} <= set(turn["timings_ms"])
    assert not (tmp_path / "output").exists()


@pytest.mark.parametrize("wav", ["silence.wav", "noise.wav", "tone.wav"])
def test_silence_and_noise_take_no_action_and_never_call_the_llm(tmp_path: Path, wav: str) -> None:
    # the LLM host is a closed port: any call would fail the turn with exit 6
    write_config(tmp_path / "config.toml", f"http://127.0.0.1:{free_port()}", 'backend = "ollama"')
    result = run_cli("once", str(DATA / wav), "--no-speak", "--json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    turn = json.loads(result.stdout)
    assert turn["intents"] == [] and turn["actions"] == []
    assert turn["transcript"].strip(" .") == "" or turn["avg_logprob"] < -0.8 or turn["no_speech_prob"] > 0.6
    assert turn["reply"] in ("I didn't hear any speech.", "Sorry, I didn't catch that. Please say it again.")


def test_ollama_down_is_one_line_with_what_to_run(tmp_path: Path) -> None:
    write_config(tmp_path / "config.toml", f"http://127.0.0.1:{free_port()}", 'backend = "ollama"')
    result = run_cli("once", str(DATA / "question.wav"), "--no-speak", cwd=tmp_path)
    assert result.returncode == 6
    errors = [line for line in result.stdout.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "ollama serve" in errors[0]
    assert "Traceback" not in result.stdout + result.stderr


@pytest.mark.parametrize("content", [b"", b"not a wav at all", b"RIFF\x00\x00\x00\x00WAVE"])
def test_bad_wav_is_exit_2_with_one_line(tmp_path: Path, content: bytes) -> None:
    bad = tmp_path / "bad.wav"
    bad.write_bytes(content)
    result = run_cli("once", str(bad), cwd=tmp_path)
    assert result.returncode == 2
    lines = [line for line in (result.stdout + result.stderr).splitlines() if line.strip()]
    assert len(lines) == 1 and "bad.wav" in lines[0] and "Traceback" not in lines[0]
