"""The one atomic-write helper: all or nothing, never through a link, never a silent overwrite."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from voiceloop.atomic import DIR_FLAGS, atomic_write, atomic_write_at


def test_a_failure_midway_leaves_the_old_file_and_no_temp_file(tmp_path: Path) -> None:
    target = tmp_path / "config.toml"
    target.write_text("old\n")
    with pytest.raises(RuntimeError), atomic_write(target) as f:
        f.write(b"half of the new")
        raise RuntimeError("disk pulled")
    assert target.read_text() == "old\n" and sorted(os.listdir(tmp_path)) == ["config.toml"]
    with atomic_write(target) as f:
        f.write(b"new\n")
    assert target.read_text() == "new\n" and sorted(os.listdir(tmp_path)) == ["config.toml"]


def test_exclusive_never_replaces_a_file_that_appeared(tmp_path: Path) -> None:
    fd = os.open(tmp_path, DIR_FLAGS)
    try:
        (tmp_path / "notes.txt").write_text("theirs\n")
        with pytest.raises(FileExistsError), atomic_write_at(fd, "notes.txt", exclusive=True) as f:
            f.write(b"mine\n")
    finally:
        os.close(fd)
    assert (tmp_path / "notes.txt").read_text() == "theirs\n" and os.listdir(tmp_path) == ["notes.txt"]


def test_a_folder_that_is_a_link_is_not_written_through(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "real", target_is_directory=True)
    with pytest.raises(OSError), atomic_write(tmp_path / "link" / "x") as f:
        f.write(b"x")
    assert list((tmp_path / "real").iterdir()) == []
