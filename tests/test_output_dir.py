"""output.dir (issue 19): every system folder and every folder on PATH is refused at load, through the real
loader and the real CLI; a person's own folder outside the project (under /tmp, /var/tmp or home) still works.
Issue 29: folders whose files run as code (hidden settings folders, *.d, ~/bin) and names with control
characters are refused too; HOME is a fake one under tmp_path."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from voiceloop.agent.sandbox import Sandbox
from voiceloop.config import load
from voiceloop.errors import ConfigError
from voiceloop.output_dir import OUTPUT_MARKER, output_dir_problem

from .conftest import DATA, run_cli

# empty, writable by root and accepted before: the FHS's own folders and their children, at any depth
SYSTEM = ["/usr/games", "/run/user", "/usr/local/games", "/usr/local/src", "/var/mail", "/var/local", "/srv", "/media"]
SYSTEM += ["/tmp", "/var/tmp", "/tmp/.X11-unix", "/dev/shm", "/etc/voiceloop", "/usr/share/applications", "/opt/x/y"]


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project folder under pytest's tmp_path (itself under /tmp), with its own home beside it."""
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    (tmp_path / "home").mkdir()
    (tmp_path / "project").mkdir()
    return tmp_path / "project"


def refusal(project: Path, value: str) -> str:
    (project / "config.toml").write_text(f'[output]\ndir = "{value}"\n')
    with pytest.raises(ConfigError) as info:
        load(project / "config.toml", project)
    return str(info.value)


@pytest.mark.parametrize("value", SYSTEM)
def test_system_folders_are_refused_naming_the_key(project: Path, value: str) -> None:
    why = refusal(project, value)
    assert why.startswith("config: output.dir") and "a system folder" in why and "\n" not in why
    assert "~/voice-notes" in why  # says what to use instead


def test_a_folder_on_path_is_refused_even_an_empty_one_of_the_persons_own(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tools = tmp_path / "tools"
    tools.mkdir()  # empty and outside the project: fine, until it is on PATH
    (project / "config.toml").write_text(f'[output]\ndir = "{tools}"\n')
    load(project / "config.toml", project)
    monkeypatch.setenv("PATH", f"/usr/bin{os.pathsep}~/../tools{os.pathsep}/bin")  # ~ as shells expand it
    why = refusal(project, str(tools))
    assert "a folder on PATH" in why and str(tools) in why


@pytest.mark.parametrize("value", ["/usr/local/sbin", "{path}"])
def test_cli_refuses_a_folder_on_path_in_one_line_and_writes_nothing(project: Path, tmp_path: Path, value: str) -> None:
    on_path = tmp_path / "bin"
    on_path.mkdir()
    value = value.format(path=on_path)
    (project / "config.toml").write_text(f'[output]\ndir = "{value}"\n')
    before = sorted(os.listdir(value))
    env = {"PATH": f"{on_path}{os.pathsep}/usr/local/sbin{os.pathsep}{os.environ['PATH']}"}
    result = run_cli("once", str(DATA / "create_notes.wav"), "--no-speak", cwd=project, env=env)
    lines = [line for line in (result.stdout + result.stderr).splitlines() if line.strip()]
    assert result.returncode == 3 and len(lines) == 1, lines
    assert "output.dir" in lines[0] and "on PATH" in lines[0]
    assert sorted(os.listdir(value)) == before


@pytest.fixture
def var_tmp_folder() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(dir="/var/tmp", prefix="voice-notes-"))
    yield path
    for child in path.iterdir():
        child.unlink()
    path.rmdir()


def test_a_persons_own_folders_outside_the_project_still_work(project: Path, var_tmp_folder: Path) -> None:
    home_notes = Path(os.environ["HOME"]) / "voice-notes"
    tmp_notes = project.parent / "something"  # under /tmp/pytest-of-*/
    for folder, value in [(home_notes, "~/voice-notes"), (tmp_notes, str(tmp_notes)), (var_tmp_folder, None)]:
        folder.mkdir(exist_ok=True)
        (project / "config.toml").write_text(f'[output]\ndir = "{value or folder}"\n')
        cfg = load(project / "config.toml", project)
        box = Sandbox(Path(cfg.output.dir), mark=True)
        box.write(box.propose("a.txt", "hello\n"))
        assert sorted(p.name for p in folder.iterdir()) == [OUTPUT_MARKER, "a.txt"]


def test_a_project_kept_in_a_system_folder_must_write_elsewhere() -> None:
    why = output_dir_problem("output", Path("/usr/src/app"))  # a common container working directory
    assert "system folder" in why and "~/voice-notes" in why
    assert output_dir_problem("output", Path("/home/alice")) == ""  # a project at a home root is not one
    assert "system" not in output_dir_problem("/mnt/usb/notes", Path("/home/alice"))  # below a mount point


# folders whose files run as code: at login, at boot of a user service, on ssh, in a shell, on a commit
RUNS_CODE = ["~/.config/autostart", "~/.config/autostart/sub", "~/.local/bin", "~/.config/systemd/user", "~/.ssh"]
RUNS_CODE += ["~/.bashrc.d", "~/.config/fish/conf.d", "~/.local/share/systemd/user", "~/.config/environment.d"]
RUNS_CODE += ["~/bin", "~/cron.d", "~/notes/.hidden", "{project}/.git/hooks", "{project}/output/profile.d"]


@pytest.mark.parametrize("value", RUNS_CODE)
def test_folders_whose_files_run_as_code_are_refused_even_empty(project: Path, value: str) -> None:
    """Before, each of these was accepted once it existed and was empty (or was inside the project)."""
    value = value.format(project=project)
    Path(os.path.expanduser(value)).mkdir(parents=True)
    why = refusal(project, value)
    assert why.startswith("config: output.dir") and "\n" not in why, why
    assert "run as" in why or "runs what is in it" in why, why
    assert "~/voice-notes" in why
    assert list(Path(os.path.expanduser(value)).iterdir()) == []


def test_an_xdg_settings_folder_moved_out_of_home_is_refused(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = tmp_path / "settings"
    (settings / "autostart").mkdir(parents=True)
    (project / "config.toml").write_text(f'[output]\ndir = "{settings / "autostart"}"\n')
    load(project / "config.toml", project)  # a plain empty folder, until it is where settings live
    monkeypatch.setenv("XDG_CONFIG_HOME", str(settings))
    assert "where programs keep settings" in refusal(project, str(settings / "autostart"))


@pytest.mark.parametrize("value", ["out\\u001b[31mput", "out\\nput", "out\\rput", "out\\u0007", "out\\u202eput"])
def test_names_with_control_characters_are_refused(project: Path, value: str) -> None:
    """An ESC would colour the terminal, a newline forge a second line, U+202E turn the text around."""
    why = refusal(project, value)
    assert "control characters" in why and "\n" not in why and "\x1b" not in why and "\u202e" not in why, why


def test_a_project_kept_under_a_hidden_folder_may_still_write_to_its_own_output(tmp_path: Path) -> None:
    project = tmp_path / ".local" / "src" / "app"
    project.mkdir(parents=True)
    assert output_dir_problem("output", project) == ""
    assert "hidden" in output_dir_problem(".git/hooks", project)


def test_cli_refuses_an_autostart_output_dir_in_one_line_and_writes_nothing(project: Path) -> None:
    autostart = Path(os.environ["HOME"]) / ".config" / "autostart"
    autostart.mkdir(parents=True)
    (project / "config.toml").write_text('[output]\ndir = "~/.config/autostart"\n')
    result = run_cli("once", str(DATA / "create_notes.wav"), "--no-speak", cwd=project)  # HOME: the fake one
    lines = [line for line in (result.stdout + result.stderr).splitlines() if line.strip()]
    assert result.returncode == 3 and len(lines) == 1, lines
    assert "output.dir" in lines[0] and ".config" in lines[0]
    assert list(autostart.iterdir()) == []
