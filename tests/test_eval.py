"""`voiceloop eval`: the shipped fixtures through Whisper and the real model; a table and accuracy,
or JSON; a bad manifest is one line naming the problem."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from .conftest import DATA, run_cli, write_config

pytestmark = [pytest.mark.slow, pytest.mark.llm]


def test_eval_of_shipped_categories_reports_every_case_as_json(tmp_path: Path, ollama_url: str) -> None:
    """Two categories of the shipped set (CI time); `make eval` runs them all."""
    write_config(tmp_path / "config.toml", ollama_url)
    result = run_cli(
        "eval",
        str(DATA / "eval"),
        "--json",
        "--category",
        "session",
        "--category",
        "clarify",
        cwd=tmp_path,
        timeout=900,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["total"] == len(report["cases"]) >= 20
    assert {c["category"] for c in report["cases"]} == {"session", "clarify"}
    assert set(report["categories"]) == {"session", "clarify"}
    assert report["correct"] == sum(c["ok"] for c in report["cases"])
    assert report["accuracy"] == pytest.approx(report["correct"] / report["total"], abs=1e-4)
    assert report["accuracy"] >= 0.8  # the rest is measured by `make eval`, not asserted
    assert report["invented"] == 0
    by_name = {c["name"]: c for c in report["cases"]}
    assert by_name["start_over.wav"]["actions"] == ["start_over"] and by_name["start_over.wav"]["ok"]
    assert by_name["start_over.wav"]["paths"] == ["command"]
    assert "over" in by_name["spoken/forget_start_over.wav"]["heard"].lower()  # it was really transcribed
    assert by_name["create a new file"]["actions"] == ["clarify"]
    for case in report["cases"]:
        assert set(case) >= {"name", "heard", "expected_actions", "actions", "files", "ok", "ms", "paths", "invented"}
    assert not (tmp_path / "output").exists()  # classification only: nothing written


def test_eval_table_and_min_accuracy(tmp_path: Path, ollama_url: str) -> None:
    write_config(tmp_path / "config.toml", ollama_url)
    cases = tmp_path / "cases"
    cases.mkdir()
    (cases / "manifest.toml").write_text(
        '[[case]]\ntext = "Start over!"\nexpect = ["start_over"]\n\n'
        '[[case]]\ntext = "what is the capital of Spain"\nexpect = ["write_code"]\nfiles = ["spain.py"]\n'
    )
    result = run_cli("eval", str(cases), "--min-accuracy", "0.9", cwd=tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "accuracy: 1/2 = 50% (model qwen2.5-coder:0.5b)" in result.stdout
    assert "per category" in result.stdout and "decided by" in result.stdout
    assert "start_over" in result.stdout and "general_chat" in result.stdout


@pytest.mark.parametrize(
    "manifest,message",
    [
        ('[[case]]\ntext = "hi"\nexpected = ["general_chat"]\n', "unknown key expected"),
        ('[[case]]\nwav = "missing.wav"\nexpect = ["general_chat"]\n', "no file"),
        ('[[case]]\ntext = "hi"\nexpect = ["create_file"]\nfiles = []\n', "one name per expected action"),
        ("", "no [[case]] tables"),
    ],
)
def test_a_bad_manifest_is_one_line_with_exit_3(tmp_path: Path, manifest: str, message: str) -> None:
    (tmp_path / "manifest.toml").write_text(manifest)
    result = run_cli("eval", str(tmp_path), cwd=tmp_path)
    assert result.returncode == 3
    assert message in result.stdout and "Traceback" not in result.stdout + result.stderr
