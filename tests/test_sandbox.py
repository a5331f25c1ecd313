"""Writes land only under output/, atomically, never overwriting silently; links out are refused."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from voiceloop.agent.sandbox import Sandbox
from voiceloop.errors import SandboxError

HOSTILE = [
    "../evil.txt",
    "a/../../evil.txt",
    "/etc/hosts",
    "~/evil.txt",
    "C:evil.txt",
    "c:\\windows\\x",
    "a\\..\\evil",
    "nul",
    "CON.txt",
    "bad\x00name",
    "line\nbreak",
    "",
    "   ",
    ".",
    "..",
    "x" * 300,
    "a/" * 20 + "deep.txt",
    "trailing.",
    "dir/ ",
    ".envrc",  # hidden names can be settings that run as code (direnv, a shell, git hooks)
    ".hidden.txt",
    "sub/.git/hooks/pre-commit",
    "．bashrc",  # fullwidth full stop: NFKC makes it ".bashrc"
]


@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_names_are_refused_in_one_line(tmp_path: Path, name: str) -> None:
    box = Sandbox(tmp_path / "output")
    with pytest.raises(SandboxError) as info:
        box.propose(name, "x")
    assert "\n" not in str(info.value)


def test_new_file_is_written_with_exact_content(tmp_path: Path) -> None:
    box = Sandbox(tmp_path / "output")
    p = box.propose("sub/dir/notes.txt", "milk\neggs\n")
    assert p.path == tmp_path / "output" / "sub" / "dir" / "notes.txt" and not p.is_overwrite
    box.write(p)
    assert p.path.read_text() == "milk\neggs\n"
    assert sorted(os.listdir(p.path.parent)) == ["notes.txt"]  # no temp files left behind


def test_overwrite_shows_a_diff_and_refuses_if_file_changed_meanwhile(tmp_path: Path) -> None:
    box = Sandbox(tmp_path / "output")
    box.write(box.propose("a.txt", "one\n"))
    p = box.propose("a.txt", "two\n")
    assert p.is_overwrite and "-one" in p.diff() and "+two" in p.diff()
    (tmp_path / "output" / "a.txt").write_text("changed by someone\n")
    with pytest.raises(SandboxError, match="changed since"):
        box.write(p)
    assert (tmp_path / "output" / "a.txt").read_text() == "changed by someone\n"


def test_file_appearing_after_proposal_is_not_overwritten(tmp_path: Path) -> None:
    box = Sandbox(tmp_path / "output")
    p = box.propose("race.txt", "mine\n")
    (tmp_path / "output").mkdir(exist_ok=True)
    (tmp_path / "output" / "race.txt").write_text("theirs\n")
    with pytest.raises(SandboxError):
        box.write(p)
    assert (tmp_path / "output" / "race.txt").read_text() == "theirs\n"


def test_symlinks_leading_out_are_refused(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    out = tmp_path / "output"
    out.mkdir()
    (out / "link").symlink_to(outside, target_is_directory=True)
    (out / "filelink.txt").symlink_to(outside / "target.txt")
    box = Sandbox(out)
    for name in ("link/evil.txt", "filelink.txt"):
        with pytest.raises(SandboxError, match="link"):
            box.propose(name, "x")
    assert list(outside.iterdir()) == []


names = st.lists(st.sampled_from([*"ab./\\~:\x00\n -_", "..", "CON", "é", "link", "link/"]), max_size=12).map("".join)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=names)
def test_no_generated_name_ever_writes_outside_output(tmp_path: Path, name: str) -> None:
    root = tmp_path / "output"
    root.mkdir(exist_ok=True)
    (tmp_path / "elsewhere").mkdir(exist_ok=True)
    if not (root / "link").is_symlink():
        (root / "link").symlink_to(tmp_path / "elsewhere", target_is_directory=True)
    outside_before = {p for p in tmp_path.rglob("*") if root not in p.parents and p != root}
    box = Sandbox(root)
    try:
        p = box.propose(name, "data")
        box.write(p)
    except SandboxError:
        pass
    else:
        real = Path(os.path.realpath(p.path))
        assert Path(os.path.realpath(root)) in real.parents
    outside_after = {p for p in tmp_path.rglob("*") if root not in p.parents and p != root}
    assert outside_after == outside_before
