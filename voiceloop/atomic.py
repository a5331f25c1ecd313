"""The one way voiceloop replaces a file: a temp file in the same folder, fsync, then one rename or link.

Standard library only (scripts/llm_server.py imports the model join, which uses this, from a bare venv).
Everything happens relative to an open directory descriptor, so the folder cannot be swapped for a
link between the check and the write; names are never followed as links.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
"""Open a folder, never through a link."""
TMP_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
FILE_MODE = 0o644  # what a person expects of a file they asked for (before the umask)


def temp_name(name: str) -> str:
    """A hidden, unguessable sibling name for name's temp file."""
    return f".{name[:40]}.{secrets.token_hex(6)}.tmp"


@contextlib.contextmanager
def atomic_write_at(dir_fd: int, name: str, *, exclusive: bool = False, mode: int = FILE_MODE) -> Iterator[BinaryIO]:
    """Write name inside the open folder dir_fd all at once: what is written to the yielded file appears
    under name only when the block ends without an error, and a failure leaves nothing behind.

    exclusive: the name must not exist yet (FileExistsError if it appeared meanwhile: never a silent
    overwrite); otherwise an existing file is replaced in one rename.
    """
    tmp = temp_name(name)
    fd = os.open(tmp, TMP_FLAGS, mode, dir_fd=dir_fd)
    try:
        with os.fdopen(fd, "wb") as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        if exclusive:
            os.link(tmp, name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd, follow_symlinks=False)
        else:
            os.replace(tmp, name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
        with contextlib.suppress(OSError):
            os.fsync(dir_fd)  # the new name itself is on disk too
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp, dir_fd=dir_fd)


@contextlib.contextmanager
def atomic_write(path: Path, *, exclusive: bool = False, mode: int = FILE_MODE) -> Iterator[BinaryIO]:
    """atomic_write_at for a path: its folder must exist (it is opened once, never through a final link)."""
    dir_fd = os.open(path.parent, DIR_FLAGS)
    try:
        with atomic_write_at(dir_fd, path.name, exclusive=exclusive, mode=mode) as f:
            yield f
    finally:
        os.close(dir_fd)


def write_bytes(path: Path, data: bytes, *, mode: int = FILE_MODE) -> None:
    """Replace path's content with data in one step."""
    with atomic_write(path, mode=mode) as f:
        f.write(data)


class NotARegularFile(ValueError):
    """open_regular() refused the path: a FIFO, device, folder, or a file over the size limit."""


def open_regular(path: Path, limit: int) -> BinaryIO:
    """Open path for reading only if it is a regular file of at most limit bytes. A FIFO or device is
    refused without blocking on it (O_NONBLOCK until fstat says what it is); OSError when it cannot
    be opened at all."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC)
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            kind = "a directory" if stat.S_ISDIR(info.st_mode) else "not a regular file (a pipe, device or socket)"
            raise NotARegularFile(f"is {kind}")
        if info.st_size > limit:
            raise NotARegularFile(f"is {info.st_size:,} bytes, over the {limit:,}-byte limit")
        os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise
