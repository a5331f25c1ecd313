"""Shared fixtures: real models, the real LLM server on loopback, tmp output dirs."""

from __future__ import annotations

import contextlib
import io
import os
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest
from rich.console import Console

from voiceloop.config import Config, LlmConfig, OutputConfig, TtsConfig
from voiceloop.llm.ollama import OllamaClient

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data"
TEST_MODEL = os.environ.get("VOICELOOP_TEST_MODEL", "qwen2.5-coder:0.5b")
OLLAMA = os.environ.get("VOICELOOP_TEST_OLLAMA", "http://127.0.0.1:11434")
os.environ.setdefault("VOICELOOP_CACHE", str(ROOT / ".cache"))
os.environ.setdefault("XDG_RUNTIME_DIR", f"/tmp/voiceloop-runtime-{os.getuid()}")
os.environ.pop("OLLAMA_HOST", None)
# the embedded model's llama.cpp (in tests and the CLIs they run) on one thread: its threads wait on each other at
# every step of a token, and beside the other workers' Whisper two of them answered 2.3 times slower than one
os.environ.setdefault("VOICELOOP_EMBEDDED_THREADS", "1")
# Whisper (CTranslate2's OpenMP: 4 threads unless told) and torch on one thread in tests and the CLIs they start: two
# workers, the test server and their `voiceloop listen` children already fill a 2-core box, where each process's
# 4 threads waited on each other (2 workers, test_short_window + test_vocabulary + test_heard_names + test_bench:
# 190 s -> 106 s)
os.environ.setdefault("OMP_NUM_THREADS", "1")
WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")
"""The pytest-xdist worker this process is ("gw0", "gw1", ...), or "" in a plain run."""
if WORKER:
    # each worker has its own sound server (same device names, its own socket), so one worker's playback and
    # recordings never mix with another's; tests that start the devices start this worker's
    os.environ["XDG_RUNTIME_DIR"] = f"/tmp/voiceloop-runtime-{os.getuid()}-{WORKER}"
    os.environ.pop("PULSE_SERVER", None)
AUDIO_SCRIPT = ROOT / "scripts" / "audio_devices.sh"
_LLM_SERVER = pytest.StashKey[subprocess.Popen]()  # type: ignore[type-arg]
"""The LLM server the xdist controller started for its workers, if it started one."""


def pytest_configure(config: pytest.Config) -> None:
    if hasattr(config, "workerinput"):
        # a worker: its private virtual devices, up before any test asks for them
        subprocess.run(["bash", str(AUDIO_SCRIPT), "start"], check=False, capture_output=True, timeout=60)
    elif config.pluginmanager.hasplugin("xdist") and getattr(config.option, "numprocesses", None):
        _join_packaged_models()  # once, before the workers start: they would all join the same files at once
        if not _up(OLLAMA) and (ROOT / ".venv-llm" / "bin" / "python").exists():
            # one server for every worker (each starting its own would race for the port); up till the run ends
            config.stash[_LLM_SERVER] = _start_llm_server()


def cpu_line() -> str:
    """The CPU the run is on: Whisper (CTranslate2) and llama.cpp pick their code by its instruction sets, so a
    failure seen on one machine and not another often starts here."""
    model, flags = "unknown CPU", set()
    with contextlib.suppress(OSError):
        for text in Path("/proc/cpuinfo").read_text().splitlines():
            key, _, value = text.partition(":")
            if key.strip() == "model name":
                model = value.strip()
            elif key.strip() == "flags":
                flags = set(value.split())
                break
    isa = "AVX-512" if "avx512f" in flags else "AVX2" if "avx2" in flags else "no AVX2"
    forced = " ".join(f"{k}={os.environ[k]}" for k in ("CT2_FORCE_CPU_ISA", "ONEDNN_MAX_CPU_ISA") if k in os.environ)
    return f"cpu: {model}, {os.cpu_count()} cores, {isa}" + (f" (held to {forced})" if forced else "")


@pytest.hookimpl(trylast=True)
def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    terminalreporter.write_line(cpu_line())  # at the end, beside the failures, where a CI log's tail has it


LONGEST_FIRST = (
    "test_listen_audio.py",
    "test_voice_confirm_room.py",
    "test_bench.py",
    "test_cache.py",
    "test_short_window.py",
    "test_speculate.py",
    "test_vocabulary.py",
    "test_listen.py",
    "test_bargein_room.py",
    "test_handsfree_audio.py",
    "test_safety.py",
    "test_agent.py",
    "test_once.py",
    "test_stt.py",
    "test_llm_trust.py",
    "test_heard_names.py",
    "test_hostile_llm.py",
    "test_trust_grounding.py",
    "test_understand_model.py",
    "test_quick_questions.py",
    "test_voice_confirm.py",
    "test_typeahead.py",
    "test_openai.py",
    "test_hesitant.py",
    "test_speaker_back.py",
    "test_native_engines.py",
    "test_bargein_early.py",
    "test_calibrate.py",
    "test_spoken_names.py",
    "test_speech.py",
    "test_stream.py",
    "test_turn_order.py",
    "test_embedded.py",
    "test_answer_turns.py",
    "test_understand_names.py",
    "test_privacy.py",
    "test_rename.py",
)
"""The files that took about 20 s or more each of a 3-worker `make test` on a 2-core box (two thirds of its test time
between them), longest first. A worker takes whole files (--dist loadfile), so one of these taken last is the tail.
The LLM-bound ones (test_cache, test_speculate, test_agent, test_trust_grounding, test_understand_model) are placed
by their time on the two-thread test server (36-80 s; 4-20 s on one thread, whose llama.cpp threads do not wait on
each other beside the workers' Whisper)."""


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """In an xdist worker (whose order the controller hands out, with --no-loadscope-reorder), the longest files
    first and the rest after them in name order, so the short files fill in at the end."""
    if WORKER:
        rank = {name: i for i, name in enumerate(LONGEST_FIRST)}
        items.sort(key=lambda item: rank.get(item.path.name, len(rank)))  # stable: a file's own order is kept


def pytest_unconfigure(config: pytest.Config) -> None:
    server = config.stash.get(_LLM_SERVER, None)
    if server is not None:
        server.terminate()
        server.wait(timeout=10)
    if hasattr(config, "workerinput"):
        subprocess.run(["bash", str(AUDIO_SCRIPT), "stop"], check=False, capture_output=True, timeout=60)


@pytest.fixture(autouse=True)
def _no_child_outlives_its_test(monkeypatch: pytest.MonkeyPatch):
    """A test that fails half way leaves its `voiceloop listen` running: in a looped room it would go on
    hearing and answering into the next test's microphone. Every pexpect child still alive is ended here."""
    import pexpect

    children: list[pexpect.spawn] = []
    real_init = pexpect.spawn.__init__

    def recording_init(self: pexpect.spawn, *args: object, **kwargs: object) -> None:
        real_init(self, *args, **kwargs)
        children.append(self)

    monkeypatch.setattr(pexpect.spawn, "__init__", recording_init)
    yield
    for child in children:
        if child.isalive():
            child.terminate(force=True)


def _join_packaged_models() -> None:
    """Join the models that ship in parts (Whisper base, the GGUF) into the cache, as their first use would."""
    from voiceloop.llm.gguf import assemble_gguf
    from voiceloop.stt.models import resolve_ct2

    resolve_ct2("base")
    assemble_gguf()


def _up(url: str) -> bool:
    try:
        with urllib.request.urlopen(url + "/api/version", timeout=2) as r:
            return r.status == 200
    except OSError:
        return False


@pytest.fixture(scope="session")
def ollama_url() -> str:
    """The real Ollama-API server: reuse a running one, else start scripts/llm_server.py."""
    if _up(OLLAMA):
        yield OLLAMA
        return
    if not (ROOT / ".venv-llm" / "bin" / "python").exists():
        pytest.fail(f"no Ollama API at {OLLAMA} and no .venv-llm to start one: run `make llm-env` or `make llm-server`")
    proc = _start_llm_server()
    yield OLLAMA
    proc.terminate()
    proc.wait(timeout=10)


def _start_llm_server() -> subprocess.Popen[bytes]:
    """scripts/llm_server.py on OLLAMA's port, once it answers (fails the run if it does not come up)."""
    port = OLLAMA.rsplit(":", 1)[1]
    log = open(ROOT / ".cache" / "llm_server.log", "wb") if (ROOT / ".cache").is_dir() else subprocess.DEVNULL
    llm_python = ROOT / ".venv-llm" / "bin" / "python"
    proc = subprocess.Popen(
        [str(llm_python), str(ROOT / "scripts" / "llm_server.py"), "--port", port], stdout=log, stderr=subprocess.STDOUT
    )
    deadline = time.monotonic() + 180
    while not _up(OLLAMA):
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail("scripts/llm_server.py did not come up; see .cache/llm_server.log")
        time.sleep(0.5)
    return proc


@pytest.fixture
def cfg(tmp_path: Path, ollama_url: str) -> Config:
    """Defaults, with the test model, speech off and output/ inside tmp_path."""
    return Config(
        llm=LlmConfig(host=ollama_url, model=TEST_MODEL, read_timeout_s=120.0),
        tts=TtsConfig(enabled=False),
        output=OutputConfig(dir=str(tmp_path / "output")),
    )


@pytest.fixture
def llm(cfg: Config) -> OllamaClient:
    return OllamaClient(cfg.ollama_host, cfg.llm.model, read_timeout_s=cfg.llm.read_timeout_s)


@pytest.fixture(scope="session")
def transcriber():
    from voiceloop.config import SttConfig
    from voiceloop.stt.engines import load_transcriber

    return load_transcriber(SttConfig())


@pytest.fixture(scope="session")
def whisper_base():
    """Multilingual base (faster-whisper), joined from its two packages, loaded and warmed once a session."""
    from voiceloop.config import SttConfig
    from voiceloop.stt.engines import FasterWhisper, warm_up

    engine = FasterWhisper(SttConfig(model="base"))
    warm_up(engine)
    return engine


@pytest.fixture(scope="session")
def embedded_llm():
    """llama.cpp in this process on the packaged 0.5B model, set up by connect() for llm.backend = "embedded"
    (answer_timeout_s 45) and loaded once a session: (client, connect's line). A test that needs another
    deadline takes a copy.copy of the client (same server) and sets answer_timeout_s on it."""
    from voiceloop.llm.backend import connect

    return connect(Config(llm=LlmConfig(backend="embedded", read_timeout_s=120, answer_timeout_s=45.0)))


@pytest.fixture
def console() -> Console:
    return Console(file=io.StringIO(), width=120)


def run_cli(
    *args: str,
    cwd: Path,
    stdin: int | None = subprocess.DEVNULL,
    env: dict[str, str] | None = None,
    timeout: float = 300,
) -> subprocess.CompletedProcess[str]:
    """Run the real `voiceloop` command the way a user would."""
    full_env = dict(os.environ, **(env or {}))
    return subprocess.run(
        [sys.executable, "-m", "voiceloop", *args],
        cwd=cwd,
        stdin=stdin,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def write_config(path: Path, ollama_url: str, extra: str = "") -> Path:
    """A config.toml for CLI tests: the test model, speech off unless extra turns it on."""
    path.write_text(
        f'[llm]\nhost = "{ollama_url}"\nmodel = "{TEST_MODEL}"\nread_timeout_s = 120.0\n{extra}\n', encoding="utf-8"
    )
    return path


class Recorder:
    """Records what is played on the virtual speaker with parec, from the moment it really records;
    a thread keeps the pipe empty so nothing is dropped on long recordings."""

    def __init__(self, source: str = "vl_speaker.monitor", env: dict[str, str] | None = None) -> None:
        self.proc = subprocess.Popen(
            ["parec", "-d", source, "--raw", "--format=s16le", "--rate=16000", "--channels=1", "--latency-msec=20"],
            stdout=subprocess.PIPE,
            env=env,
        )
        self._chunks: list[bytes] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        deadline = time.monotonic() + 15
        while sum(map(len, self._chunks)) < 3200 and time.monotonic() < deadline:  # 0.1 s recorded
            time.sleep(0.02)
        assert self._chunks, "parec recorded nothing from the virtual speaker"

    def _read(self) -> None:
        assert self.proc.stdout is not None
        while chunk := self.proc.stdout.read1(4096):
            self._chunks.append(chunk)

    def wait_loud(self, seconds: float, timeout: float = 60) -> None:
        """Wait (bounded) until at least `seconds` of loud audio have been played on the speaker."""
        deadline = time.monotonic() + timeout
        while loud_seconds(self.samples()) < seconds:
            assert time.monotonic() < deadline, f"less than {seconds} s of sound played in {timeout} s"
            time.sleep(0.05)

    def samples(self) -> np.ndarray:
        """What was recorded so far."""
        out = b"".join(list(self._chunks))
        return np.frombuffer(out[: len(out) // 2 * 2], dtype="<i2")

    def stop(self) -> np.ndarray:
        time.sleep(0.4)  # the server's playback latency: the last sentence is still on its way
        self.proc.terminate()
        self.proc.wait(timeout=10)
        self._reader.join(timeout=10)
        return self.samples()


def loud_seconds(samples: np.ndarray) -> float:
    frames = samples[: len(samples) // 480 * 480].reshape(-1, 480).astype(np.float64)
    return float((np.sqrt((frames**2).mean(axis=1)) > 300).sum() * 0.03)
