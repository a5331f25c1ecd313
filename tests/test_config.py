"""config.toml: the shipped file equals the defaults; every bad key is named in the error."""

from __future__ import annotations

import dataclasses
import re
import typing
from pathlib import Path

import pytest

from voiceloop.config import Config, load
from voiceloop.config_checks import CHECKS

from .conftest import ROOT, run_cli


def test_shipped_config_documents_every_key_with_its_default() -> None:
    assert load(ROOT / "config.toml") == Config()
    text = (ROOT / "config.toml").read_text()
    readme = (ROOT / "README.md").read_text()

    def check(name: str, section: type) -> None:
        assert f"[{name}]" in text
        for key in dataclasses.fields(section):
            hint = typing.get_type_hints(section)[key.name]
            if dataclasses.is_dataclass(hint):  # a sub-table such as [llm.routes]
                check(f"{name}.{key.name}", hint)
            else:
                assert f"\n{key.name} =" in text, key.name
                assert key.name in readme, f"the README's config reference lacks {name}.{key.name}"

    for name, section in typing.get_type_hints(Config).items():
        check(name, section)


@pytest.mark.parametrize(
    "toml,names",
    [
        ("[vad]\nsilence = 700\n", "vad.silence"),
        ('[vad]\nsilence_ms = "long"\n', "vad.silence_ms must be an integer"),
        ("[vad]\naggressiveness = 7\n", "vad.aggressiveness must be 0, 1, 2 or 3"),
        ("[vad]\nframe_ms = 25\n", "vad.frame_ms must be 10, 20 or 30"),
        ("[vad]\nmin_speech_ms = -5\n", "vad.min_speech_ms"),
        ('[tts]\nenabled = "yes"\n', "tts.enabled must be true or false"),
        ('[stt]\nengine = "vosk"\n', "stt.engine"),
        ("[llm]\ntemperature = true\n", "llm.temperature must be a number"),
        ('[llm.routes]\nwritecode = "qwen2.5-coder:7b"\n', "unknown key llm.routes.writecode"),
        ("[llm.routes]\nsummarize = 3\n", "llm.routes.summarize must be a string"),
        ('[llm]\nroutes = "fast"\n', "[llm.routes] must be a table"),
        ("[memory]\nmax_turns = 0\n", "memory.max_turns must be an integer from 1 to 100"),
        ("[llm]\nanswer_timeout_s = 0\n", "llm.answer_timeout_s must be more than 0 and at most 3600, got 0.0"),
        (
            "[vad]\nsmart_turn_ask_ms = 1500\nsmart_turn_max_silence_ms = 1000\n",
            "vad.smart_turn_ask_ms (1500) is more than vad.smart_turn_max_silence_ms (1000)",
        ),
        (
            "[vad]\nsmart_turn_ask_ms = 2000\n",
            "vad.smart_turn_ask_ms (2000) is more than vad.smart_turn_max_silence_ms (1200)",
        ),
        ("[speaker]\nx = 1\n", "unknown section [speaker]"),
        ("vad = 3\n", "[vad] must be a table"),
        ("[vad\n", "not valid TOML"),
    ],
)
def test_bad_config_names_the_key(tmp_path: Path, toml: str, names: str) -> None:
    path = tmp_path / "config.toml"
    path.write_text(toml)
    from voiceloop.errors import ConfigError

    with pytest.raises(ConfigError) as info:
        load(path)
    assert names in str(info.value)


def test_cli_reports_bad_config_in_one_line_with_exit_3(tmp_path: Path) -> None:
    (tmp_path / "config.toml").write_text("[vad]\nsilence_ms = 'x'\n")
    result = run_cli("once", str(ROOT / "tests" / "data" / "question.wav"), cwd=tmp_path)
    assert result.returncode == 3
    assert "vad.silence_ms" in result.stderr + result.stdout
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    "toml,names",
    [
        ("[vad]\nsmart_turn_ask_ms = 1500\nsmart_turn_max_silence_ms = 1000\n", "vad.smart_turn_max_silence_ms"),
        ("[llm]\nanswer_timeout_s = 0\n", "more than 0"),
    ],
)
def test_cli_refuses_contradictory_or_out_of_range_keys_in_one_line(tmp_path: Path, toml: str, names: str) -> None:
    (tmp_path / "config.toml").write_text(toml)
    result = run_cli("once", str(ROOT / "tests" / "data" / "question.wav"), "--no-speak", cwd=tmp_path)
    lines = [line for line in (result.stdout + result.stderr).splitlines() if line.strip()]
    assert result.returncode == 3 and len(lines) == 1, lines
    assert names in lines[0] and toml.split("\n")[1].split(" =")[0] in lines[0]


def test_every_range_message_is_true_at_its_edges() -> None:
    """ "from A to B" must accept A and B; "more than A and at most B" must refuse A; just outside is refused."""
    said = 0
    for key, (check, words) in CHECKS.items():
        closed = re.search(r"from (-?[\d.]+) (?:\(off\) )?to (-?[\d.]+)", words)
        opened = re.search(r"more than (-?[\d.]+) and at most (-?[\d.]+)", words)
        if not (closed or opened):
            continue
        low, high = (float(g) for g in (closed or opened).groups())  # type: ignore[union-attr]
        step = 1 if "integer" in words else 1e-6  # an integer key never holds a fraction
        assert check(high) and not check(high + step), (key, words)
        assert check(low) == bool(closed) and not check(low - step), (key, words)
        said += 1
    assert said > 20  # the table really was read


def test_ollama_host_env_overrides(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OLLAMA_HOST", "127.0.0.1:9999")
    assert Config().ollama_host == "http://127.0.0.1:9999"
