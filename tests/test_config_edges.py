"""Settings at their edges (issue 29): a malformed LLM host in llm.host or OLLAMA_HOST is one config error
(never a traceback, never the embedded model answering instead), a config.toml saved with a BOM loads, and
`listen --wake-word` alone listens for the wake word. Real loader, real typer app, real commands."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from voiceloop.cli import app
from voiceloop.cli.core import _listen_config
from voiceloop.config import Config, load
from voiceloop.errors import ConfigError
from voiceloop.llm.address import shown

from .conftest import DATA, run_cli

BAD_HOSTS = {
    "http://[::1": "its host is not a name or an IP address",
    "http://[zz]:1": "its host is not a name or an IP address",
    "not a url": "spaces or control characters",
    "ftp://127.0.0.1:11434": "it starts with ftp://",
    "http://127.0.0.1:99999": "its port is not a number from 1 to 65535",
    "http://127.0.0.1:0": "its port is not a number from 1 to 65535",
    "http://admin:hunter2@127.0.0.1:99999": "its port",
    "http://127.0.0.1:11434/?x=1": "?query",
}
COMMANDS = {"once": ["once", str(DATA / "question.wav"), "--no-speak"], "models": ["models"], "doctor": ["doctor"]}


@pytest.mark.parametrize("source", ["OLLAMA_HOST", "llm.host"])
@pytest.mark.parametrize("command", sorted(COMMANDS))
@pytest.mark.parametrize("host", sorted(BAD_HOSTS))
def test_a_malformed_host_is_one_config_error_in_every_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, host: str, command: str, source: str
) -> None:
    """backend "auto" (the default): before, "[::1" was a ValueError traceback and "not a url", ftp:// and
    port 99999 were passed over for the embedded model without a word."""
    monkeypatch.chdir(tmp_path)
    in_file = "http://127.0.0.1:1" if source == "OLLAMA_HOST" else host
    (tmp_path / "config.toml").write_text(f'[llm]\nhost = "{in_file}"\n')
    if source == "OLLAMA_HOST":
        monkeypatch.setenv("OLLAMA_HOST", host)
    result = CliRunner().invoke(app, COMMANDS[command], catch_exceptions=False)
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert result.exit_code == 3 and len(lines) == 1, result.output
    assert source in lines[0] and BAD_HOSTS[host] in lines[0] and "http(s) URL" in lines[0], lines[0]
    assert "hunter2" not in result.output and "embedded" not in result.output


def test_good_hosts_still_load(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for host, url in [
        ("127.0.0.1:11434", "http://127.0.0.1:11434"),  # how OLLAMA_HOST is often set
        ("http://[::1]:11434/", "http://[::1]:11434"),
        ("https://user:pw@llm.example.internal/v1", "https://user:pw@llm.example.internal/v1"),
        ("http://ollama_box:8080", "http://ollama_box:8080"),  # a compose service name
    ]:
        monkeypatch.setenv("OLLAMA_HOST", host)
        assert load(None, tmp_path).ollama_host == url
    monkeypatch.setenv("OLLAMA_HOST", "http://[::1")  # the embedded backend never uses the host
    (tmp_path / "config.toml").write_text('[llm]\nbackend = "embedded"\n')
    assert load(tmp_path / "config.toml", tmp_path).llm.backend == "embedded"
    with pytest.raises(ConfigError, match="OLLAMA_HOST"):
        Config().ollama_host  # noqa: B018  (but a client asking for it gets the error, not a traceback)


def test_a_password_is_hidden_even_in_a_url_that_does_not_parse() -> None:
    assert shown("http://admin:hunter2@[::1") == "http://***@[::1"
    assert shown("http://admin:hunter2@host?q=a@b") == "http://***@host?q=a@b"
    assert shown("admin:hunter2@host:1/v1") == "***@host:1/v1"


def test_a_config_saved_with_a_utf8_bom_loads(tmp_path: Path) -> None:
    """Notepad's "UTF-8" puts EF BB BF first; tomllib said "Invalid statement (line 1, column 1)"."""
    path = tmp_path / "config.toml"
    path.write_bytes(b"\xef\xbb\xbf" + b"[vad]\nsilence_ms = 900\n")
    assert load(path, tmp_path).vad.silence_ms == 900


def test_wake_word_alone_means_wake_word_mode() -> None:
    """Before, `listen --wake-word hey_jarvis` kept mode "always" and answered every sentence."""
    cfg = _listen_config(Config(), None, "alexa")
    assert (cfg.listen.mode, cfg.listen.wake_word) == ("wake_word", "alexa")
    assert _listen_config(Config(), "wake_word", "okay_nabu").listen.mode == "wake_word"
    assert _listen_config(Config(), None, None).listen.mode == "always"


@pytest.mark.parametrize("mode", ["always", "push_to_talk"])
def test_wake_word_with_another_mode_is_refused_before_anything_opens(tmp_path: Path, mode: str) -> None:
    result = run_cli("listen", "--mode", mode, "--wake-word", "hey_jarvis", cwd=tmp_path, timeout=60)
    lines = [line for line in (result.stdout + result.stderr).splitlines() if line.strip()]
    assert result.returncode == 3 and len(lines) == 1, lines
    assert "--wake-word" in lines[0] and f"--mode {mode}" in lines[0]
