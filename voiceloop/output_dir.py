"""Where voiceloop may write: output.dir is refused at config load when its name holds control characters,
when it is a system folder (the FHS trees, a folder on PATH), a folder whose files may run as code (hidden
settings folders, *.d start-up folders, ~/bin), the home or project folder, a link, a file, or a folder
outside the project that is not empty and not already voiceloop's."""

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
SYSTEM_TREES: tuple[str, ...] = ("/bin", "/boot", "/dev", "/etc", "/lib", "/lib32", "/lib64", "/libx32", "/opt")
SYSTEM_TREES += ("/proc", "/run", "/sbin", "/srv", "/sys", "/usr", "/var")
"""Top-level folders the FHS gives to the system: they and everything below them are refused."""
PEOPLES_PARENTS = ("/home", "/media", "/mnt")
"""The system's folders whose children are homes or mount points: deeper folders belong to people."""
TEMP_DIRS = ("/tmp", "/var/tmp")
"""Shared scratch folders: the folder itself and its hidden children (X11 and other sockets) are the
system's; a person's own subfolder (pytest's tmp_path, /tmp/voice-notes) is not."""


def system_folder(real: Path) -> bool:
    """Is this resolved folder the system's (FHS), someone's home root or mount point, or a temp root?"""
    for temp in map(Path, TEMP_DIRS):
        if real == temp or (real.parent == temp and real.name.startswith(".")):
            return True
        if temp in real.parents:
            return False  # /var/tmp/mine is a person's, though /var is the system's
    if len(real.parts) <= 2:  # "/" and every top-level folder, FHS or not (/work, /data, /nix)
        return True
    if any(Path(tree) in (real, *real.parents) for tree in SYSTEM_TREES):
        return True
    return str(real.parent) in PEOPLES_PARENTS


def on_path(real: Path) -> bool:
    """Is this resolved folder on PATH? A file written there could run as a command."""
    entries = [e for e in os.environ.get("PATH", "").split(os.pathsep) if e]
    return any(Path(os.path.realpath(os.path.expanduser(e))) == real for e in entries)


SETTINGS_HOMES = ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME")
"""Where programs keep settings (autostart entries, systemd units, plugins) when these are moved out of ~/."""


def runs_code(real: Path, here: Path) -> str:
    """Why files written in this resolved folder could run as code, or "" when they cannot: a hidden settings
    folder at any depth (~/.config/autostart, ~/.config/systemd/user, ~/.local/bin, ~/.ssh, ~/.bashrc.d, a
    project's .git/hooks; the list of such places has no end, so every hidden folder counts), a start-up
    folder named *.d, ~/bin (a login puts it on PATH once it exists) and the XDG settings folders.
    Only the folders below the project, the home folder or the folder the project shares with output.dir
    are looked at: a project kept under a hidden folder may still write to its own output/."""
    home = Path(os.path.realpath(Path.home()))
    settings = {Path(os.path.realpath(v)) for v in map(os.environ.get, SETTINGS_HOMES) if v}
    keep = {here, *here.parents, home}  # home itself is no settings folder (a hidden one is only odd)
    for folder in (real, *real.parents):
        if folder in keep:
            return ""
        if folder.name.startswith("."):
            return f"in {folder.name}, a hidden settings folder (files there may run as code)"
        if folder.name.endswith(".d"):
            return f"in {folder.name}, a start-up folder (*.d: a shell, cron or a service runs what is in it)"
        if folder == home / "bin":
            return "in ~/bin, which a login puts on PATH once it exists (a file there could run as a command)"
        if folder in settings:
            return f"in {folder}, a folder where programs keep settings (files there may run as code)"
    return ""


def output_dir_problem(value: str, project: Path) -> str:
    """Why output.dir = value must not be used from the project folder, or "" when it is fine."""
    if not value.isprintable():  # \n would forge a second line in every message naming the folder, ESC a colour
        return f'{value!r} holds control characters; use a plain folder name such as "output"'
    path = Path(os.path.expanduser(value))
    path = Path(os.path.normpath(path if path.is_absolute() else project / path))
    if os.path.islink(path):
        return f"{value!r} is a link to {os.path.realpath(path)}; voiceloop does not follow links: use a real folder"
    real = Path(os.path.realpath(path))
    here = Path(os.path.realpath(project))
    own = 'use a folder of its own, such as "output" or "~/voice-notes"'
    if real == Path(os.path.realpath(Path.home())):
        return f"{value!r} is {real}, your home folder; {own}"
    if on_path(real):
        return f"{value!r} is {real}, a folder on PATH (a file written there could run as a command); {own}"
    if system_folder(real) and here in real.parents:  # a project kept in /usr/src, /opt, /srv ...
        return f'{value!r} is {real}, in a project kept in a system folder; use a folder such as "~/voice-notes"'
    if system_folder(real):
        return f"{value!r} is {real}, a system folder; {own}"
    why = runs_code(real, here)
    if why:
        return f"{value!r} is {real}, {why}; {own}"
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
