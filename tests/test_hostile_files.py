"""Hostile files and names (issue 15): a folder swapped for a link mid-write, dangerous output.dir values,
a file that stops being UTF-8 while the prompt waits, look-alike and invisible characters in names."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pexpect
import pytest

from voiceloop.agent.intents import Action, Intent
from voiceloop.agent.sandbox import Sandbox
from voiceloop.agent.tools import Status, Tools
from voiceloop.agent.understand.grounding import ground
from voiceloop.agent.understand.prompt import parse_answer
from voiceloop.config import load
from voiceloop.errors import ConfigError, SandboxError
from voiceloop.llm.ollama import OllamaClient
from voiceloop.output_dir import OUTPUT_MARKER

from .conftest import DATA, run_cli, write_config
from .test_safety import YesConfirmer, intents_reply
from .wire import fake_ollama, free_port, reply

# Swaps two names with renameat2(RENAME_EXCHANGE) as fast as it can, in its own process (real concurrency).
SWAPPER = r"""
import ctypes, sys
libc = ctypes.CDLL(None, use_errno=True)
a, b = sys.argv[1].encode(), sys.argv[2].encode()
print("swapping", flush=True)
while True:
    libc.renameat2(-100, a, -100, b, 2)
"""


def test_a_folder_swapped_for_a_link_mid_write_never_sends_a_file_outside(tmp_path: Path) -> None:
    out, outside = tmp_path / "output", tmp_path / "outside"
    (out / "sub").mkdir(parents=True)
    outside.mkdir()
    (out / "swap").symlink_to(outside, target_is_directory=True)
    box = Sandbox(out)
    swapper = subprocess.Popen(
        [sys.executable, "-c", SWAPPER, str(out / "sub"), str(out / "swap")], stdout=subprocess.PIPE, text=True
    )
    wrote: list[str] = []
    refused = 0
    try:
        assert swapper.stdout is not None and swapper.stdout.readline().strip() == "swapping"
        for i in range(3000):
            try:
                proposal = box.propose(f"sub/f{i}.txt", f"{i}\n")
                box.write(proposal)
                wrote.append(f"f{i}.txt")
            except SandboxError as e:  # refusals are fine; a raw OSError is not
                assert "\n" not in str(e)
                refused += 1
    finally:
        swapper.kill()
        swapper.wait(timeout=10)
    assert list(outside.iterdir()) == []  # no finished file and no temp file landed outside
    inside = {name for _, _, names in os.walk(out) for name in names}  # os.walk does not follow links
    assert set(wrote) <= inside and not any(n.endswith(".tmp") for n in inside)
    assert wrote, "no write succeeded at all: the race test proved nothing"


@pytest.mark.parametrize("value", ["/", "/etc", "/tmp", "..", ".", "~", "~/voiceloop-out", "{elsewhere}", "{link}"])
def test_dangerous_output_dirs_are_refused_at_load_naming_the_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    project, elsewhere = tmp_path / "project", tmp_path / "elsewhere"
    project.mkdir()
    elsewhere.mkdir()
    (elsewhere / "someone_elses.txt").write_text("keep\n")
    (project / "link").symlink_to(elsewhere, target_is_directory=True)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    (tmp_path / "home").mkdir()
    value = value.format(elsewhere=elsewhere, link="link")
    (project / "config.toml").write_text(f'[output]\ndir = "{value}"\n')
    with pytest.raises(ConfigError) as info:
        load(project / "config.toml", project)
    assert "output.dir" in str(info.value) and "\n" not in str(info.value)
    if value == "link":
        assert str(elsewhere) in str(info.value)  # where the files would really have gone


def test_output_dir_outside_the_project_must_be_empty_and_then_stays_voiceloops(tmp_path: Path) -> None:
    project, mine = tmp_path / "project", tmp_path / "voice-notes"
    project.mkdir()
    mine.mkdir()
    (project / "config.toml").write_text('[output]\ndir = "../voice-notes"\n')
    cfg = load(project / "config.toml", project)  # empty: accepted
    box = Sandbox(Path(os.path.join(project, cfg.output.dir)), mark=True)
    box.write(box.propose("a.txt", "hello\n"))
    assert sorted(p.name for p in mine.iterdir()) == [OUTPUT_MARKER, "a.txt"]
    load(project / "config.toml", project)  # no longer empty, but marked as voiceloop's: still accepted


def test_cli_refuses_a_system_output_dir_with_exit_3_before_anything_runs(tmp_path: Path) -> None:
    (tmp_path / "config.toml").write_text('[output]\ndir = "/etc"\n')
    result = run_cli("once", str(DATA / "question.wav"), "--no-speak", cwd=tmp_path)
    assert result.returncode == 3
    lines = [line for line in (result.stdout + result.stderr).splitlines() if line.strip()]
    assert len(lines) == 1 and "output.dir" in lines[0] and "Traceback" not in lines[0]


def test_an_output_that_is_a_file_is_named_as_such(tmp_path: Path) -> None:
    (tmp_path / "output").write_text("I am a file\n")
    with pytest.raises(ConfigError, match="is a file"):
        load(None, tmp_path)
    box = Sandbox(tmp_path / "output")
    with pytest.raises(SandboxError) as info:
        box.write(box.propose("a.txt", "x"))
    assert "not a folder" in str(info.value) and "appeared" not in str(info.value)


def test_a_file_that_stops_being_utf8_while_the_prompt_waits_is_refused_not_a_crash(tmp_path: Path) -> None:
    box = Sandbox(tmp_path / "output")
    box.write(box.propose("hello.txt", "hello\n"))
    proposal = box.propose("hello.txt", "hello there\n")
    (tmp_path / "output" / "hello.txt").write_bytes(b"\xff\xfe")  # while the person decides
    with pytest.raises(SandboxError, match="changed since it was shown"):
        box.write(proposal)
    assert (tmp_path / "output" / "hello.txt").read_bytes() == b"\xff\xfe"


def test_once_at_a_real_prompt_refuses_a_file_that_stopped_being_utf8_without_a_traceback(tmp_path: Path) -> None:
    (tmp_path / "output").mkdir()
    notes = tmp_path / "output" / "notes.txt"
    notes.write_text("eggs\n")
    answer = intents_reply([{"action": "create_file", "filename": "notes.txt", "content": "milk"}])
    with fake_ollama(reply(200, answer, "application/x-ndjson")) as url:
        write_config(tmp_path / "config.toml", url, 'backend = "ollama"')
        child = pexpect.spawn(
            sys.executable,
            ["-m", "voiceloop", "once", str(DATA / "create_notes.wav"), "--no-speak"],
            cwd=str(tmp_path),
            env=dict(os.environ, COLUMNS="120"),
            encoding="utf-8",
            timeout=120,
        )
        child.expect(r"Write this file\? \[y/N\]")
        notes.write_bytes(b"\xff\xfe")  # while the person reads the diff
        child.sendline("y")
        child.expect(pexpect.EOF)
        child.close()
    assert child.exitstatus == 0, child.before
    assert "changed since it was shown" in child.before and "Traceback" not in child.before
    assert notes.read_bytes() == b"\xff\xfe"


LOOKALIKES = {
    "fullwidth slash": "..\uff0fescape.txt",
    "two dot leader": "\u2025/escape.txt",
    "right-to-left override": "notes\u202etxt.exe",
    "zero-width space": "no\u200btes.txt",
    "division slash": "a\u2215b.txt",
    "byte order mark": "\ufeffnotes.txt",
}


@pytest.mark.parametrize("name", LOOKALIKES.values(), ids=LOOKALIKES.keys())
def test_lookalike_and_invisible_names_are_refused_before_anyone_is_asked(tmp_path: Path, name: str) -> None:
    yes = YesConfirmer()
    llm = OllamaClient(f"http://127.0.0.1:{free_port()}", "m")  # never called: dictated content
    tools = Tools(llm, Sandbox(tmp_path / "output"), yes)
    done = tools.run(Intent(Action.CREATE_FILE, name, "pwned"), [])
    assert done.status is Status.REFUSED and "\n" not in done.say
    assert yes.shown == []
    assert not (tmp_path / "output").exists() or list((tmp_path / "output").iterdir()) == []
    assert not (tmp_path / "escape.txt").exists()


def test_model_names_are_checked_in_canonical_form() -> None:
    answer = '{"action": "create_file", "filename": "..\\uff0fescape.txt", "content": "x", "request": ""}'
    intent = ground(parse_answer(answer), "create a file with x", [])
    assert intent.filename == "../escape.txt"  # what every later check sees (and the sandbox refuses)
