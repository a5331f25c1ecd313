"""Where voiceloop may write: output.dir is refused at config load when it is a system, home or project
folder, a link, a file, or a folder outside the project that is not empty and not already voiceloop's."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import TYPE_CHECKING

from voiceloop.errors import ConfigError

if TYPE_CHECKING:
    from voiceloop.config import Config

OUTPUT_MARKER = ".voiceloop-output"
"""Dropped in an output.dir outside the project on the first write: the folder is voiceloop's."""
SYSTEM_DIRS = frozenset(
    {"/", "/bin", "/boot", "/dev", "/etc", "/home", "/lib", "/lib64", "/media", "/mnt", "/opt", "/proc", "/root"}
    | {"/run", "/sbin", "/srv", "/sys", "/tmp", "/usr", "/var", "/var/tmp"}
)


def output_dir_problem(value: str, project: Path) -> str:
    """Why output.dir = value must not be used from the project folder, or "" when it is fine."""
    path = Path(os.path.expanduser(value))
    path = Path(os.path.normpath(path if path.is_absolute() else project / path))
    if os.path.islink(path):
        return f"{value!r} is a link to {os.path.realpath(path)}; voiceloop does not follow links: use a real folder"
    real = Path(os.path.realpath(path))
    here = Path(os.path.realpath(project))
    if str(real) in SYSTEM_DIRS or real == Path(os.path.realpath(Path.home())):
        return f'{value!r} is {real}, a system or home folder; use a folder of its own, such as "output"'
    if real == here or real in here.parents:
        return f'{value!r} is {real}, the project folder or one above it; use a subfolder such as "output"'
    if real.exists() and not real.is_dir():
        return f"{value!r} ({real}) is a file, not a folder"
    if here in real.parents:
        return ""
    if not real.is_dir():
        return f"{value!r} is outside the project ({real}) and does not exist: create it empty for voiceloop first"
    try:
        entries = os.listdir(real)
    except OSError as e:
        return f"{value!r} ({real}) cannot be read: {e.strerror}"
    if entries and OUTPUT_MARKER not in entries:
        return f"{value!r} is outside the project ({real}) and holds other files: use an empty folder of its own"
    return ""


def output_outside(value: str, project: Path) -> bool:
    """True when output.dir lies outside the project folder (the sandbox then marks it as voiceloop's)."""
    path = Path(os.path.expanduser(value))
    real = Path(os.path.realpath(path if path.is_absolute() else project / path))
    return Path(os.path.realpath(project)) not in real.parents


def checked_output(cfg: Config, project: Path) -> Config:
    """cfg with output.dir's ~ expanded, after refusing a dangerous folder (ConfigError names the key)."""
    why = output_dir_problem(cfg.output.dir, project)
    if why:
        raise ConfigError(f"config: output.dir {why}")
    expanded = os.path.expanduser(cfg.output.dir)
    return dataclasses.replace(cfg, output=dataclasses.replace(cfg.output, dir=expanded))
