"""Native engines that kill the process on a CPU without their instructions (moonshine-cpp's library is built
for AVX-512): the real check in a child process, on this CPU and on an emulated Haswell (AVX2, no AVX-512,
like the AMD EPYC where `make test` died of SIGILL), run by qemu-user, which raises a real SIGILL there."""

from __future__ import annotations

import json
import platform
import shutil
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest

from voiceloop.config import Config, SttConfig
from voiceloop.devtools.doctor import run_checks
from voiceloop.errors import ModelError
from voiceloop.stt import native_probe
from voiceloop.stt.engines import load_transcriber
from voiceloop.stt.moonshine import Moonshine

from .conftest import DATA, run_cli, write_config

pytestmark = pytest.mark.skipif(platform.machine() != "x86_64", reason="moonshine-cpp and the emulated CPU are x86-64")

HASWELL = "qemu-x86_64 -cpu Haswell"
LINE = "moonshine: needs AVX-512; this CPU lacks it"


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A cache with no verdict in it yet, so the child process really runs."""
    monkeypatch.setenv("VOICELOOP_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


@pytest.fixture
def haswell(cache: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The probe's child runs on an emulated Haswell; returns the environment for a command run the same way."""
    if shutil.which("qemu-x86_64") is None:
        pytest.fail("qemu-user is not installed: apt-get install qemu-user (or `make system-deps`)")
    monkeypatch.setenv(native_probe.PREFIX_ENV, HASWELL)
    return {"VOICELOOP_CACHE": str(cache), native_probe.PREFIX_ENV: HASWELL}


def test_this_cpu_gets_the_verdict_its_instructions_call_for(cache: Path) -> None:
    verdict, keep = native_probe.probe("moonshine")
    assert keep
    if native_probe.missing_instructions("moonshine"):  # this CPU lacks AVX-512: the line, and the run goes on
        assert verdict == native_probe.Verdict(False, LINE)
    else:
        assert verdict == native_probe.Verdict(True)


def test_the_verdict_is_kept_per_machine_and_version(cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first = native_probe.check("moonshine")
    kept = list((cache / "native-checks").iterdir())
    assert len(kept) == 1 and kept[0].name.startswith(f"moonshine-{metadata.version('moonshine-cpp')}-")
    assert json.loads(kept[0].read_text()) == {"ok": first.ok, "message": first.message}
    # the next check reads the file instead of starting a child: a verdict put there is the one returned
    kept[0].write_text(json.dumps({"ok": False, "message": "from the cache"}))
    assert native_probe.check("moonshine") == native_probe.Verdict(False, "from the cache")
    # another CPU (here: the same one under a launcher) is another key, checked afresh
    monkeypatch.setenv(native_probe.PREFIX_ENV, "env")
    assert native_probe.check("moonshine") == first
    assert len(list((cache / "native-checks").iterdir())) == 2


def test_an_emulated_cpu_without_avx512_gets_one_line_instead_of_a_crash(haswell: dict[str, str]) -> None:
    assert native_probe.check("moonshine") == native_probe.Verdict(False, LINE)  # the child died of SIGILL
    assert len(list((Path(haswell["VOICELOOP_CACHE"]) / "native-checks").iterdir())) == 1  # and it is kept
    with pytest.raises(ModelError, match=f"^{LINE} ") as e:  # what once/listen/eval show
        Moonshine(SttConfig(engine="moonshine"))
    assert "faster-whisper" in str(e.value) and e.value.exit_code == 5
    with pytest.raises(ModelError, match=LINE):
        load_transcriber(SttConfig(engine="moonshine"))


def test_a_crash_on_a_cpu_with_the_instructions_names_the_signal(cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # a child that dies by SIGSEGV before it says anything about its CPU
    monkeypatch.setenv(native_probe.PREFIX_ENV, "sh -c 'kill -SEGV $$' sh")
    verdict, keep = native_probe.probe("moonshine")
    assert (verdict, keep) == (native_probe.Verdict(False, "moonshine crashed loading (signal 11, SIGSEGV)"), True)


@pytest.mark.llm
def test_once_on_an_emulated_cpu_exits_with_the_line(haswell: dict[str, str], tmp_path: Path, ollama_url: str) -> None:
    """The whole command on the emulated Haswell, as on the EPYC: before, it died of SIGILL (exit 132 in a shell)."""
    write_config(tmp_path / "config.toml", ollama_url, '[stt]\nengine = "moonshine"\n[tts]\nenabled = false')
    shutil.copy(DATA / "question.wav", tmp_path / "question.wav")
    command = [*HASWELL.split(), sys.executable, "-m", "voiceloop", "once", "question.wav"]
    done = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=600, check=False)
    out = done.stdout + done.stderr
    assert done.returncode == 5, out[-3000:]
    assert f"error: {LINE}" in done.stdout and "Traceback" not in out and "Illegal instruction" not in out


@pytest.mark.llm
def test_doctor_says_the_line_and_goes_on(haswell: dict[str, str], tmp_path: Path, ollama_url: str) -> None:
    write_config(tmp_path / "config.toml", ollama_url, '[stt]\nengine = "moonshine"')
    res = run_cli("doctor", cwd=tmp_path, env=haswell)
    rows = res.stdout.splitlines()
    stt = [r for r in rows if r[2:].startswith("Whisper model")]
    assert stt == [f"✗ Whisper model  {LINE} (stt.engine = \"faster-whisper\" runs here)"], res.stdout
    assert any(r[2:].startswith("output dir") for r in rows), res.stdout  # the checks after it ran
    assert res.returncode == 1 and "Traceback" not in res.stdout + res.stderr
    # with another engine configured, Moonshine is optional: its line says so, and is no problem
    (moonshine,) = [c for c in run_checks(Config()) if c.name == "moonshine"]
    assert moonshine.ok and moonshine.message == f"{LINE} (optional; stt.engine does not use it)"
