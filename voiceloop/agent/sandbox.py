"""The only way voiceloop writes: names checked, then every step relative to an opened output/ folder.

Writes never go by path: the folder chain is walked down from output/ with O_NOFOLLOW|O_DIRECTORY, the
temp file is created in the last folder's descriptor, and renamed or linked within it. A folder swapped
for a link while the person decides cannot redirect the write.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from voiceloop.agent.diff import unified
from voiceloop.agent.names import canonical, problem
from voiceloop.atomic import DIR_FLAGS, atomic_write_at
from voiceloop.errors import SandboxError
from voiceloop.output_dir import OUTPUT_MARKER

MAX_NAME_BYTES = 255  # one path component, as most filesystems allow
MAX_PATH_CHARS = 512  # the whole relative name
MAX_DEPTH = 8  # folders inside output/
MAX_CONTENT_BYTES = 2_000_000  # a spoken request never needs more
_RESERVED = {"con", "prn", "aux", "nul"} | {f"{port}{n}" for port in ("com", "lpt") for n in range(10)}
"""Device names Windows reserves, with any extension ("con.txt"): a folder copied there could not hold them."""
_READ_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC  # a FIFO must not block the read


@dataclass(frozen=True)
class Proposal:
    """A write waiting for the person's yes: exactly what will land where."""

    rel: str
    """The name inside the output directory, with / separators (canonical: what is really written)."""
    path: Path
    """The absolute final path."""
    content: str
    """The full new content."""
    old: str | None
    """The current content when the file exists (an overwrite), else None."""
    removes: bool = False
    """An undo that removes the file the last write created (content is then "")."""
    undo: bool = False
    """Taking back the last write (asked as "Undo this change?", not "Write this file?")."""

    @property
    def is_overwrite(self) -> bool:
        return self.old is not None

    def diff(self) -> str:
        """Unified diff from the current to the new content ("" for a new file); a removal diffs to /dev/null."""
        if self.old is None:
            return ""
        new = "/dev/null" if self.removes else f"b/{self.rel}"
        diff = unified(self.old, self.content, f"a/{self.rel}", new)
        return diff or (f"--- a/{self.rel}\n+++ {new}\n" if self.removes else "")


@dataclass(frozen=True)
class Written:
    """The last confirmed write, kept in memory for the session so that "undo" can take it back."""

    rel: str
    before: str | None
    """What the file held before (None: the write created it)."""
    after: str
    """What the write put there: undo only acts while the file still holds exactly this."""


def _encode(text: str) -> bytes:
    return text.encode("utf-8", "surrogatepass")


class Sandbox:
    """Resolves names inside one root directory and writes there atomically, never elsewhere.

    mark: drop an OUTPUT_MARKER file in the root on the first write (an output.dir outside the project,
    which config accepts only when it is empty or already marked as voiceloop's).
    """

    def __init__(self, root: Path, mark: bool = False) -> None:
        root = Path(os.path.abspath(os.path.expanduser(root)))
        self.root = Path(os.path.realpath(root.parent)) / root.name
        """Where files really go: the folders above are resolved; the root itself is never followed."""
        self.mark = mark
        self.last: Written | None = None
        """The last confirmed write (only the last: "undo" takes back one change, then there is nothing)."""
        self.undone: Written | None = None
        """The write the last undo took back (so a second "undo" is told that, not that nothing was written)."""

    def check_name(self, name: str) -> PurePosixPath:
        """Reject every name that is not a plain relative path of ordinary parts (checked in NFKC form)."""
        if not name or not name.strip():
            raise SandboxError("refused: the file name is empty")
        if len(name) > MAX_PATH_CHARS:
            raise SandboxError(f"refused: the file name is longer than {MAX_PATH_CHARS} characters")
        name = canonical(name)
        why = problem(name)
        if why:
            raise SandboxError(f"refused {name!r}: {why}")
        if "\\" in name:
            raise SandboxError(f"refused {name!r}: use / between folders, not \\")
        if name.startswith(("/", "~")) or (name[1:2] == ":" and name[:1].isascii() and name[:1].isalpha()):
            raise SandboxError(f"refused {name!r}: only names inside the output folder are allowed")
        parts = tuple(name.split("/"))
        if len(parts) > MAX_DEPTH + 1:
            raise SandboxError(f"refused {name!r}: more than {MAX_DEPTH} folders deep")
        for part in parts:
            if part in ("", ".", ".."):
                raise SandboxError(f"refused {name!r}: empty, '.' and '..' parts are not allowed in names")
            if len(_encode(part)) > MAX_NAME_BYTES:
                raise SandboxError(f"refused: a part of the name is longer than {MAX_NAME_BYTES} bytes")
            if part.startswith("."):
                raise SandboxError(f"refused {name!r}: hidden names (starting with '.') are not written")
            if part.split(".", 1)[0].lower() in _RESERVED or part != part.rstrip(" ."):
                raise SandboxError(f"refused {name!r}: {part!r} is a reserved or unsafe name")
        return PurePosixPath(*parts)

    def resolve(self, name: str) -> Path:
        """The absolute path for name, after checking no existing link or odd file is on the way."""
        rel = self.check_name(name)
        self._read_existing(rel)
        return self.root.joinpath(*rel.parts)

    def propose(self, name: str, content: str) -> Proposal:
        """Build the Proposal for writing content to name (reads the old content for a diff)."""
        rel = self.check_name(name)
        if len(_encode(content)) > MAX_CONTENT_BYTES:
            raise SandboxError(f"refused {str(rel)!r}: content is over {MAX_CONTENT_BYTES} bytes")
        raw = self._read_existing(rel)
        old = None
        if raw is not None:
            try:
                old = raw.decode("utf-8")
            except UnicodeDecodeError as e:
                raise SandboxError(f"refused {str(rel)!r}: it exists and is not a text file; not overwriting") from e
        return Proposal(str(rel), self.root.joinpath(*rel.parts), content, old)

    def read(self, name: str) -> str:
        """Read a text file inside the root (summarize, read_file); links, binaries and odd files are refused."""
        rel = self.check_name(name)
        raw = self._read_existing(rel)
        if raw is None:
            raise SandboxError(f"no file {str(rel)!r} in {self.root}")
        if b"\0" in raw:  # valid UTF-8 can hold NULs; no text file a person asked for does
            raise SandboxError(f"cannot read {str(rel)!r}: it is a binary file, not text")
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError as e:
            raise SandboxError(f"cannot read {str(rel)!r}: it is not UTF-8 text") from e

    def write(self, p: Proposal) -> Path:
        """Write a confirmed Proposal atomically; refuse if the file changed since it was shown."""
        rel = self.check_name(p.rel)
        try:
            with self._folder(rel, create=True) as dir_fd:
                assert dir_fd is not None
                current = self._read_at(dir_fd, rel)
                if current != (None if p.old is None else _encode(p.old)):
                    raise SandboxError(f"refused {p.rel!r}: the file changed since it was shown; ask again")
                with atomic_write_at(dir_fd, rel.name, exclusive=p.old is None) as f:
                    f.write(_encode(p.content))
        except FileExistsError as e:
            raise SandboxError(f"refused {p.rel!r}: a file appeared there meanwhile; ask again") from e
        except OSError as e:
            raise SandboxError(f"could not write {p.rel!r}: {e.strerror or e}") from e
        self.last = Written(str(rel), p.old, p.content)
        return self.root.joinpath(*rel.parts)

    def undo_proposal(self) -> Proposal:
        """Undoing the last write, for the person to confirm: its old content back, or the file it created
        removed. Refused when the file changed since (edited, removed, swapped for a link)."""
        if self.last is None:
            raise SandboxError("there is nothing to undo: I have written nothing since voiceloop started")
        rel, last = self.check_name(self.last.rel), self.last
        now = self._read_existing(rel)  # refuses a link or an odd file in its place
        if now is None:
            raise SandboxError(f"not undoing {last.rel!r}: it is no longer there; I left everything as it is")
        if now != _encode(last.after):
            raise SandboxError(f"not undoing {last.rel!r}: it changed since I wrote it; I left it as it is")
        removes = last.before is None
        return Proposal(last.rel, self.root.joinpath(*rel.parts), last.before or "", last.after, removes, undo=True)

    def undo(self, p: Proposal) -> Path:
        """Carry out a confirmed undo_proposal(); like write(), refused if the file changed meanwhile."""
        taken = self.last
        if not p.removes:
            path = self.write(p)
        else:
            rel = self.check_name(p.rel)
            try:
                with self._folder(rel, create=False) as dir_fd:
                    if dir_fd is None or self._read_at(dir_fd, rel) != _encode(p.old or ""):
                        raise SandboxError(f"not undoing {p.rel!r}: it changed since it was shown; ask again")
                    os.unlink(rel.name, dir_fd=dir_fd)  # a name inside output/: a link put there is unlinked itself
            except OSError as e:
                raise SandboxError(f"could not remove {p.rel!r}: {e.strerror or e}") from e
            path = self.root.joinpath(*rel.parts)
        self.undone, self.last = taken, None  # one change is taken back; undoing the undo is not offered
        return path

    def _read_existing(self, rel: PurePosixPath) -> bytes | None:
        """The file's current bytes, None when it (or a folder above it) does not exist yet."""
        try:
            with self._folder(rel, create=False) as dir_fd:
                return None if dir_fd is None else self._read_at(dir_fd, rel)
        except OSError as e:
            raise SandboxError(f"refused {str(rel)!r}: cannot read what is there: {e.strerror or e}") from e

    def _read_at(self, dir_fd: int, rel: PurePosixPath) -> bytes | None:
        try:
            fd = os.open(rel.name, _READ_FLAGS, dir_fd=dir_fd)
        except FileNotFoundError:
            return None
        except OSError as e:
            raise self._refusal(dir_fd, rel, str(rel), e) from e
        with os.fdopen(fd, "rb") as f:
            info = os.fstat(f.fileno())
            if not stat.S_ISREG(info.st_mode):
                raise SandboxError(f"refused {str(rel)!r}: it exists and is not a regular file")
            if info.st_size > MAX_CONTENT_BYTES:
                raise SandboxError(f"refused {str(rel)!r}: the file there is over {MAX_CONTENT_BYTES} bytes")
            return f.read(MAX_CONTENT_BYTES + 1)

    @contextlib.contextmanager
    def _folder(self, rel: PurePosixPath, create: bool) -> Iterator[int | None]:
        """An open descriptor of the folder that holds rel, walked down from the root without following
        any link; None when a folder on the way does not exist and create is False."""
        fds: list[int] = []
        try:
            fd = self._open_root(create)
            if fd is None:
                yield None
                return
            fds.append(fd)
            for i, part in enumerate(rel.parts[:-1]):
                where = PurePosixPath(*rel.parts[: i + 1])
                try:
                    fd = os.open(part, DIR_FLAGS, dir_fd=fds[-1])
                except FileNotFoundError:
                    if not create:
                        yield None
                        return
                    with contextlib.suppress(FileExistsError):
                        os.mkdir(part, 0o755, dir_fd=fds[-1])
                    try:
                        fd = os.open(part, DIR_FLAGS, dir_fd=fds[-1])  # a link put there meanwhile fails here
                    except OSError as e:
                        raise self._refusal(fds[-1], rel, str(where), e) from e
                except OSError as e:
                    raise self._refusal(fds[-1], rel, str(where), e) from e
                fds.append(fd)
            yield fds[-1]
        finally:
            for fd in reversed(fds):
                os.close(fd)

    def _open_root(self, create: bool) -> int | None:
        try:
            fd = os.open(self.root, DIR_FLAGS)
        except FileNotFoundError:
            if not create:
                return None
            try:
                os.makedirs(self.root, exist_ok=True)
                fd = os.open(self.root, DIR_FLAGS)
            except OSError as e:
                raise self._root_refusal(e) from e
        except OSError as e:
            raise self._root_refusal(e) from e
        if create and self.mark:
            with contextlib.suppress(FileExistsError):
                os.close(os.open(OUTPUT_MARKER, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, dir_fd=fd))
        return fd

    def _root_refusal(self, e: OSError) -> SandboxError:
        if os.path.islink(self.root):
            return SandboxError(f"refused: the output folder {self.root} is a link; voiceloop does not follow it")
        if os.path.lexists(self.root) and not os.path.isdir(self.root):
            return SandboxError(f"refused: the output folder {self.root} is not a folder (a file is in its place)")
        return SandboxError(f"cannot use the output folder {self.root}: {e.strerror or e}")

    def _refusal(self, dir_fd: int, rel: PurePosixPath, where: str, e: OSError) -> SandboxError:
        """The one-line reason opening `where` (the last part of it, inside dir_fd) failed."""
        part = PurePosixPath(where).name
        try:
            mode = os.stat(part, dir_fd=dir_fd, follow_symlinks=False).st_mode
        except OSError:
            mode = 0
        if stat.S_ISLNK(mode) or e.errno == errno.ELOOP:
            return SandboxError(f"refused {str(rel)!r}: {where} is a link; links are not followed")
        if e.errno == errno.ENOTDIR or (mode and not stat.S_ISDIR(mode) and where != str(rel)):
            return SandboxError(f"refused {str(rel)!r}: {where} exists and is not a folder")
        return SandboxError(f"refused {str(rel)!r}: cannot open {where}: {e.strerror or e}")
