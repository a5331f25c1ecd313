"""The only way voiceloop writes: names resolved under output/, escapes refused, atomic writes."""

from __future__ import annotations

import difflib
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from voiceloop.errors import SandboxError

MAX_NAME_BYTES = 255  # one path component, as most filesystems allow
MAX_PATH_CHARS = 512  # the whole relative name
MAX_DEPTH = 8  # folders inside output/
MAX_CONTENT_BYTES = 2_000_000  # a spoken request never needs more
_RESERVED = re.compile(r"^(con|prn|aux|nul|com[0-9]|lpt[0-9])(\..*)?$", re.I)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True)
class Proposal:
    """A write waiting for the person's yes: exactly what will land where."""

    rel: str
    """The name inside the output directory, with / separators."""
    path: Path
    """The absolute final path."""
    content: str
    """The full new content."""
    old: str | None
    """The current content when the file exists (an overwrite), else None."""

    @property
    def is_overwrite(self) -> bool:
        return self.old is not None

    def diff(self) -> str:
        """Unified diff from the current to the new content ("" for a new file)."""
        if self.old is None:
            return ""
        lines = difflib.unified_diff(
            self.old.splitlines(keepends=True), self.content.splitlines(keepends=True), f"a/{self.rel}", f"b/{self.rel}"
        )
        return "".join(lines)


class Sandbox:
    """Resolves names inside one root directory and writes there atomically, never elsewhere."""

    def __init__(self, root: Path) -> None:
        self.root = Path(os.path.abspath(root))

    def check_name(self, name: str) -> PurePosixPath:
        """Reject every name that is not a plain relative path of ordinary parts."""
        if not name or not name.strip():
            raise SandboxError("refused: the file name is empty")
        if _CONTROL.search(name):
            raise SandboxError("refused: the file name has control characters")
        if len(name) > MAX_PATH_CHARS:
            raise SandboxError(f"refused: the file name is longer than {MAX_PATH_CHARS} characters")
        if "\\" in name:
            raise SandboxError(f"refused {name!r}: use / between folders, not \\")
        if name.startswith(("/", "~")) or re.match(r"^[A-Za-z]:", name):
            raise SandboxError(f"refused {name!r}: only names inside the output folder are allowed")
        parts = tuple(name.split("/"))
        if len(parts) > MAX_DEPTH + 1:
            raise SandboxError(f"refused {name!r}: more than {MAX_DEPTH} folders deep")
        for part in parts:
            if part in ("", ".", ".."):
                raise SandboxError(f"refused {name!r}: empty, '.' and '..' parts are not allowed in names")
            if len(part.encode("utf-8", "surrogatepass")) > MAX_NAME_BYTES:
                raise SandboxError(f"refused: a part of the name is longer than {MAX_NAME_BYTES} bytes")
            if _RESERVED.match(part) or part != part.rstrip(" ."):
                raise SandboxError(f"refused {name!r}: {part!r} is a reserved or unsafe name")
        return PurePosixPath(*parts)

    def resolve(self, name: str) -> Path:
        """The absolute path for name, after checking no existing link leads out of the root."""
        rel = self.check_name(name)
        target = self.root.joinpath(*rel.parts)
        real_root = Path(os.path.realpath(self.root))
        probe = self.root
        for part in rel.parts:
            probe = probe / part
            if probe.is_symlink():
                raise SandboxError(
                    f"refused {name!r}: {probe.relative_to(self.root)} is a link; links are not followed"
                )
        real = Path(os.path.realpath(target))
        if real != real_root and real_root not in real.parents:
            raise SandboxError(f"refused {name!r}: it resolves outside {self.root}")
        if target.exists() and not target.is_file():
            raise SandboxError(f"refused {name!r}: it exists and is not a regular file")
        return target

    def propose(self, name: str, content: str) -> Proposal:
        """Build the Proposal for writing content to name (reads the old content for a diff)."""
        path = self.resolve(name)
        if len(content.encode("utf-8", "surrogatepass")) > MAX_CONTENT_BYTES:
            raise SandboxError(f"refused {name!r}: content is over {MAX_CONTENT_BYTES} bytes")
        old = None
        if path.exists():
            try:
                old = path.read_text(encoding="utf-8")
            except UnicodeDecodeError as e:
                raise SandboxError(f"refused {name!r}: it exists and is not a text file; not overwriting") from e
            except OSError as e:
                raise SandboxError(f"refused {name!r}: cannot read the existing file: {e.strerror}") from e
        rel = str(PurePosixPath(*self.check_name(name).parts))
        return Proposal(rel, path, content, old)

    def read(self, name: str) -> str:
        """Read a text file inside the root (for summarize)."""
        path = self.resolve(name)
        try:
            return path.read_text(encoding="utf-8")
        except FileNotFoundError as e:
            raise SandboxError(f"no file {name!r} in {self.root}") from e
        except (OSError, UnicodeDecodeError) as e:
            raise SandboxError(f"cannot read {name!r}: {e}") from e

    def write(self, p: Proposal) -> Path:
        """Write a confirmed Proposal atomically; refuse if the file changed since it was shown."""
        path = self.resolve(p.rel)  # again: the tree may have changed while the person decided
        current = path.read_text(encoding="utf-8") if path.exists() else None
        if current != p.old:
            raise SandboxError(f"refused {p.rel!r}: the file changed since it was shown; ask again")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self.resolve(p.rel)  # mkdir may have raced with a link; check once more
            fd, tmp = tempfile.mkstemp(prefix=f".{path.name[:40]}.", suffix=".tmp", dir=path.parent)
            try:
                with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
                    f.write(p.content)
                    f.flush()
                    os.fsync(f.fileno())
                os.chmod(tmp, 0o644)  # mkstemp makes 0600; a normal file is what the person expects
                if p.old is None:
                    os.link(tmp, path)  # fails if the name appeared meanwhile: never a silent overwrite
                else:
                    os.replace(tmp, path)
            finally:
                if os.path.lexists(tmp):
                    os.unlink(tmp)
        except FileExistsError as e:
            raise SandboxError(f"refused {p.rel!r}: a file appeared there meanwhile; ask again") from e
        except OSError as e:
            raise SandboxError(f"could not write {p.rel!r}: {e.strerror or e}") from e
        return path
