"""`voiceloop doctor` on real parts: all green on a working setup, the right ✗ line and exit code when not."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from voiceloop.config import Config, LlmConfig, OutputConfig, SttConfig
from voiceloop.devtools.doctor import run_checks

from .conftest import ROOT, TEST_MODEL, run_cli, write_config
from .wire import free_port

pytestmark = [pytest.mark.slow]

NAMES = ["PortAudio", "microphone", "speaker", "Whisper model", "LLM server", "speech", "output dir"]


@pytest.fixture(scope="module")
def audio_devices() -> None:
    subprocess.run(["bash", str(ROOT / "scripts" / "audio_devices.sh"), "start"], check=True, capture_output=True)


def line(out: str, name: str) -> str:
    found = [ln for ln in out.splitlines() if ln[2:].startswith(name)]
    assert len(found) == 1, out
    return found[0]


@pytest.mark.llm
@pytest.mark.audio
def test_working_setup_is_all_green_and_leaves_no_files(tmp_path: Path, ollama_url: str, audio_devices) -> None:
    write_config(tmp_path / "config.toml", ollama_url)
    res = run_cli("doctor", cwd=tmp_path)
    assert res.returncode == 0, res.stdout + res.stderr
    for name in NAMES:
        assert line(res.stdout, name).startswith("✓ "), res.stdout
    assert TEST_MODEL in line(res.stdout, "LLM server")
    assert [p.name for p in tmp_path.iterdir()] == ["config.toml"]  # the write probe left nothing


@pytest.mark.audio
def test_dead_llm_port_is_one_red_line_and_nonzero_exit(tmp_path: Path, audio_devices) -> None:
    write_config(tmp_path / "config.toml", f"http://127.0.0.1:{free_port()}", 'backend = "ollama"')
    res = run_cli("doctor", cwd=tmp_path)
    assert res.returncode != 0
    llm = line(res.stdout, "LLM server")
    assert llm.startswith("✗ ") and "ollama serve" in llm
    assert line(res.stdout, "Whisper model").startswith("✓ ")  # only the broken part is red
    assert "1 problem found" in res.stdout


@pytest.mark.llm
def test_missing_model_says_how_to_pull_it(tmp_path: Path, ollama_url: str) -> None:
    cfg = Config(llm=LlmConfig(host=ollama_url, model="no-such-model:7b"), output=OutputConfig(str(tmp_path / "o")))
    llm = {c.name: c for c in run_checks(cfg)}["LLM server"]
    assert not llm.ok and "ollama pull no-such-model:7b" in llm.message


def test_unwritable_output_dir_and_missing_whisper_model(tmp_path: Path) -> None:
    (tmp_path / "afile").write_text("not a folder")
    write_config(
        tmp_path / "config.toml",
        f"http://127.0.0.1:{free_port()}",
        f'backend = "ollama"\n[output]\ndir = "{tmp_path}/afile/output"\n[stt]\nmodel = "{tmp_path}/no-model-here/"\n',
    )
    res = run_cli("doctor", cwd=tmp_path)
    assert res.returncode != 0
    out_line = line(res.stdout, "output dir")
    assert out_line.startswith("✗ ") and "afile" in out_line and "output.dir" in out_line
    whisper = line(res.stdout, "Whisper model")
    assert whisper.startswith("✗ ") and "no-model-here" in whisper
    assert sorted(p.name for p in tmp_path.iterdir()) == ["afile", "config.toml"]


def test_unknown_microphone_names_the_devices_there_are(tmp_path: Path, audio_devices) -> None:
    cfg = Config(stt=SttConfig(), output=OutputConfig(str(tmp_path)))
    cfg = Config(audio=type(cfg.audio)(input_device="no such mic"), output=cfg.output)
    mic = {c.name: c for c in run_checks(cfg)}["microphone"]
    assert not mic.ok and "no such mic" in mic.message and "available" in mic.message


def test_messages_keep_their_brackets(tmp_path: Path) -> None:
    (tmp_path / "config.toml").write_text("[tts]\nvolume = 3\n")
    res = run_cli("doctor", cwd=tmp_path)
    assert res.returncode == 3 and "known keys in [tts]:" in res.stdout, res.stdout
