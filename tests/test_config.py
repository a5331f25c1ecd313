"""config.toml: the shipped file equals the defaults; every bad key is named in the error."""

from __future__ import annotations

import dataclasses
import typing
from pathlib import Path

import pytest

from voiceloop.config import Config, load

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


def test_ollama_host_env_overrides(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OLLAMA_HOST", "127.0.0.1:9999")
    assert Config().ollama_host == "http://127.0.0.1:9999"
