"""The timings table names the model that really answered (issue 22): with llm.backend = "embedded" that is
the model llama.cpp loaded, never llm.model or a route's model, which the embedded backend cannot serve.
The real CLI, the real embedded model (llama.cpp in-process), a real WAV; the note's text cut at 64 tokens (sampled
unseeded, it ran from a few lines to the 512-token limit: 40 s to 79 s of a full run)."""

from __future__ import annotations

from pathlib import Path

import pytest

from voiceloop.llm.embedded import available

from .conftest import DATA, run_cli

pytestmark = [pytest.mark.slow, pytest.mark.llm]

CONFIG = """[llm]
backend = "embedded"
model = "gemma3:4b"
read_timeout_s = 120.0
num_predict = 64

[llm.routes]
create_file = "qwen2.5-coder:1.5b"
"""


def test_the_timings_table_names_the_embedded_model(tmp_path: Path) -> None:
    assert available(), "the embedded extra is part of the test install (make install)"
    (tmp_path / "config.toml").write_text(CONFIG, encoding="utf-8")
    result = run_cli("once", str(DATA / "create_notes.wav"), "--no-speak", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    table = result.stdout.split("timings", 1)[1]
    assert "qwen2.5-coder:0.5b" in table, result.stdout
    assert "gemma3:4b" not in result.stdout and "1.5b" not in result.stdout, result.stdout
