"""The file commands people expect (list_files, read_file, undo), kept as sentence templates: matched on real
sentences, carried out by the Assistant on a real output folder, the undo prompt answered in a real
pseudo-terminal, and spoken commands through real tiny.en Whisper in `voiceloop once`."""

from __future__ import annotations

import io
import json
import os
import sys
import textwrap
from pathlib import Path

import pexpect
import pytest

from tests.kit import RecordingConfirmer, ScriptedTranscriber
from voiceloop.agent.assistant import Assistant
from voiceloop.agent.filecmds.matcher import match_file_command
from voiceloop.agent.filecmds.read_file import MAX_READ_BYTES
from voiceloop.agent.intents import Action
from voiceloop.agent.sandbox import Sandbox
from voiceloop.agent.tools import Status, Tools
from voiceloop.agent.turn import Turn
from voiceloop.agent.understand.words import prepare
from voiceloop.config import Config, TtsConfig
from voiceloop.llm.ollama import OllamaClient
from voiceloop.voice.engines import load_synth
from voiceloop.voice.speech import SentenceSpeaker, SilentSpeaker, Speaker

from .conftest import DATA, ROOT, run_cli, write_config

EVAL = DATA / "eval"


@pytest.mark.parametrize(
    ("said", "known", "action", "filename"),
    [
        ("What files do we have?", [], Action.LIST_FILES, ""),
        ("list my files", [], Action.LIST_FILES, ""),
        ("okay, show me the files", [], Action.LIST_FILES, ""),
        ("which files did you make", [], Action.LIST_FILES, ""),
        ("what's in the output folder?", [], Action.LIST_FILES, ""),
        ("read me notes.txt", [], Action.READ_FILE, "notes.txt"),
        ("What's in notes dot txt?", [], Action.READ_FILE, "notes.txt"),
        ("can you please read me notes.txt", [], Action.READ_FILE, "notes.txt"),
        ("so, read me the notes dot txt file", [], Action.READ_FILE, "notes.txt"),  # the name, not "notes txt"
        ("what is in the todo.md file", [], Action.READ_FILE, "todo.md"),
        ("read back the shopping list", ["shopping_list.txt"], Action.READ_FILE, "shopping_list.txt"),
        ("read it back to me", ["a.txt", "poem.txt"], Action.READ_FILE, "poem.txt"),
        ("undo that", [], Action.UNDO, ""),
        ("undo the last change", [], Action.UNDO, ""),
        ("Oh no, take that back.", [], Action.UNDO, ""),
        ("And do that.", [], Action.UNDO, ""),  # how tiny.en writes a spoken "Undo that."
        ("undo the change to notes.txt", [], Action.UNDO, "notes.txt"),
    ],
)
def test_the_way_people_ask_matches_the_intent(said: str, known: list[str], action: Action, filename: str) -> None:
    got = match_file_command(prepare(said), known)
    assert got is not None and len(got) == 1, said
    assert (got[0].action, got[0].filename) == (action, filename)


@pytest.mark.parametrize(
    "said",
    [
        "read me a story about dragons",
        "read me a poem",
        "how do I undo a commit in git",
        "what is the capital of France",
        "create a file called notes.txt",
        "what's the difference between a list and a tuple",
        "show me how to write a list comprehension",
        "and do your homework",
    ],
)
def test_other_requests_are_left_to_the_rest_of_the_path(said: str) -> None:
    assert match_file_command(prepare(said), []) is None


def test_read_it_with_no_file_in_the_session_asks_which() -> None:
    got = match_file_command("read it to me", [])
    assert got is not None and got[0].action is Action.CLARIFY and got[0].request == "Which file should I read?"


def _assistant(
    cfg: Config, llm: OllamaClient, confirmer: RecordingConfirmer, speaker: Speaker | None = None
) -> Assistant:
    tools = Tools(llm, Sandbox(Path(cfg.output.dir)), confirmer, cfg.llm.num_predict)
    return Assistant(cfg, ScriptedTranscriber(), llm, tools, speaker or SilentSpeaker())


def _only(turn: Turn, action: Action, status: Status) -> str:
    assert [i.action for i in turn.intents] == [action], turn
    assert [a.status for a in turn.actions] == [status], turn.actions
    return turn.reply


@pytest.mark.llm
def test_list_files_says_what_is_in_output_newest_first(cfg, llm, tmp_path: Path) -> None:
    out = Path(cfg.output.dir)
    (out / "sub").mkdir(parents=True)
    (out / "old.txt").write_text("x")
    (out / "sub" / "new.md").write_text("y")
    (out / ".voiceloop-output").write_text("")
    outside = tmp_path / "secret.txt"
    outside.write_text("secret")
    (out / "link.txt").symlink_to(outside)
    os.utime(out / "old.txt", (1_000_000, 1_000_000))
    turn = _assistant(cfg, llm, RecordingConfirmer()).handle_text("what files do we have?")
    reply = _only(turn, Action.LIST_FILES, Status.ANSWERED)
    assert reply == "There are 2 files in the output folder: sub/new.md and old.txt."  # no link, no hidden file


@pytest.mark.llm
def test_list_files_with_nothing_written_yet(cfg, llm) -> None:
    turn = _assistant(cfg, llm, RecordingConfirmer()).handle_text("list my files")
    assert _only(turn, Action.LIST_FILES, Status.ANSWERED) == "There are no files in the output folder yet."
    assert not Path(cfg.output.dir).exists()  # listing creates nothing


@pytest.mark.llm
def test_read_file_is_spoken_and_shown(cfg, llm) -> None:
    out = Path(cfg.output.dir)
    out.mkdir()
    (out / "notes.txt").write_text("Buy milk and eggs.\n")
    speaker = SentenceSpeaker(load_synth(TtsConfig()), None)  # the real voice, no speaker device
    turn = _assistant(cfg, llm, RecordingConfirmer(), speaker).handle_text("read me notes dot txt")
    assert _only(turn, Action.READ_FILE, Status.ANSWERED) == "notes.txt says: Buy milk and eggs."
    assert "Buy milk and eggs" in turn.spoken_text and turn.spoken_s > 0


@pytest.mark.llm
def test_read_file_finds_the_file_named_by_its_words(cfg, llm) -> None:
    out = Path(cfg.output.dir)
    out.mkdir()
    (out / "shopping_list.txt").write_text("- apples\n- bread\n")
    (out / "notes.txt").write_text("other")
    turn = _assistant(cfg, llm, RecordingConfirmer()).handle_text("read back the shopping list")  # a new session
    assert "apples" in _only(turn, Action.READ_FILE, Status.ANSWERED) and "other" not in turn.reply


def _outside(tmp_path: Path) -> Path:
    secret = tmp_path / "secret.txt"
    secret.write_text("the secret")
    return secret


@pytest.mark.llm
@pytest.mark.parametrize(
    ("setup", "said", "why"),
    [
        (lambda out, secret: (out / "link.txt").symlink_to(secret), "read me link.txt", "is a link"),
        (lambda out, secret: None, "read me ../secret.txt", "'../secret.txt': empty, '.' and '..' parts are not"),
        (lambda out, secret: None, f"read me {Path('/etc/hostname')}", "only names inside the output folder"),
        (lambda out, secret: (out / "data.txt").write_bytes(b"PK\x03\x04\x00\x00abc"), "read me data.txt", "binary"),
        (lambda out, secret: (out / "latin.txt").write_bytes(b"caf\xe9"), "read me latin.txt", "not UTF-8"),
        (lambda out, secret: (out / "big.txt").write_text("word " * MAX_READ_BYTES), "read me big.txt", "too long"),
        (lambda out, secret: None, "read me nothing.txt", "no file 'nothing.txt'"),
        (lambda out, secret: os.mkfifo(out / "pipe.txt"), "read me pipe.txt", "it exists and is not a regular file"),
        (lambda out, secret: (out / "a.txt").write_text("a"), "read back the shopping list", "no file called"),
    ],
)
def test_read_file_refuses_with_one_line_saying_why(cfg, llm, tmp_path: Path, setup, said: str, why: str) -> None:
    out = Path(cfg.output.dir)
    out.mkdir()
    secret = _outside(tmp_path)
    setup(out, secret)
    reply = _only(_assistant(cfg, llm, RecordingConfirmer()).handle_text(said), Action.READ_FILE, Status.REFUSED)
    assert why in reply and "\n" not in reply and "the secret" not in reply
    assert secret.read_text() == "the secret"


WRITE = "create a file called notes.txt with the text buy milk"


@pytest.mark.llm
def test_undo_removes_the_file_the_last_write_created(cfg, llm) -> None:
    person = RecordingConfirmer()
    assistant = _assistant(cfg, llm, person)
    out = Path(cfg.output.dir)
    assert _only(assistant.handle_text(WRITE), Action.CREATE_FILE, Status.WRITTEN)
    (out / "keep.txt").write_text("not voiceloop's last write")
    reply = _only(assistant.handle_text("undo that"), Action.UNDO, Status.WRITTEN)
    assert reply == "I removed notes.txt, which I had created."
    assert person.shown[-1].removes and "+++ /dev/null" in person.shown[-1].diff()  # asked first, shown as a diff
    assert sorted(p.name for p in out.iterdir()) == ["keep.txt"]
    again = assistant.handle_text("undo that")  # one change is taken back, not the one before it
    assert _only(again, Action.UNDO, Status.ANSWERED).startswith("There is nothing more to undo: I already took back")


@pytest.mark.llm
def test_undo_puts_back_what_an_overwrite_replaced(cfg, llm) -> None:
    out = Path(cfg.output.dir)
    out.mkdir()
    (out / "notes.txt").write_text("the old list\n")
    person = RecordingConfirmer()
    assistant = _assistant(cfg, llm, person)
    _only(assistant.handle_text(WRITE), Action.CREATE_FILE, Status.WRITTEN)
    assert (out / "notes.txt").read_text() == "buy milk"
    reply = _only(assistant.handle_text("take that back"), Action.UNDO, Status.WRITTEN)
    assert reply == "I put notes.txt back the way it was." and (out / "notes.txt").read_text() == "the old list\n"
    assert "+the old list" in person.shown[-1].diff()


@pytest.mark.llm
def test_undo_declined_leaves_the_write(cfg, llm) -> None:
    person = RecordingConfirmer()
    assistant = _assistant(cfg, llm, person)
    _only(assistant.handle_text(WRITE), Action.CREATE_FILE, Status.WRITTEN)
    person.answer, person.reason = False, "you said no"
    reply = _only(assistant.handle_text("undo that"), Action.UNDO, Status.DECLINED)
    assert reply == "I did not undo notes.txt: you said no."
    assert Path(cfg.output.dir, "notes.txt").read_text() == "buy milk"


@pytest.mark.llm
def test_undo_never_throws_away_a_change_made_since(cfg, llm) -> None:
    person = RecordingConfirmer()
    assistant = _assistant(cfg, llm, person)
    _only(assistant.handle_text(WRITE), Action.CREATE_FILE, Status.WRITTEN)
    notes = Path(cfg.output.dir, "notes.txt")
    notes.write_text("buy milk\nand bread, added by hand\n")
    shown = len(person.shown)
    reply = _only(assistant.handle_text("undo that"), Action.UNDO, Status.REFUSED)
    assert "changed since I wrote it" in reply and len(person.shown) == shown  # not even asked
    assert notes.read_text() == "buy milk\nand bread, added by hand\n"


@pytest.mark.llm
def test_undo_never_touches_a_link_put_in_place_of_the_file(cfg, llm, tmp_path: Path) -> None:
    person = RecordingConfirmer()
    assistant = _assistant(cfg, llm, person)
    _only(assistant.handle_text(WRITE), Action.CREATE_FILE, Status.WRITTEN)
    notes = Path(cfg.output.dir, "notes.txt")
    secret = tmp_path / "secret.txt"
    secret.write_text("buy milk")  # even with the very content voiceloop wrote
    notes.unlink()
    notes.symlink_to(secret)
    reply = _only(assistant.handle_text("undo that"), Action.UNDO, Status.REFUSED)
    assert "is a link" in reply and notes.is_symlink() and secret.read_text() == "buy milk"


@pytest.mark.llm
def test_undo_of_another_file_than_the_last_write_says_so(cfg, llm) -> None:
    assistant = _assistant(cfg, llm, RecordingConfirmer())
    _only(assistant.handle_text(WRITE), Action.CREATE_FILE, Status.WRITTEN)
    reply = _only(assistant.handle_text("undo the change to todo.md"), Action.UNDO, Status.ANSWERED)
    assert reply.startswith("The last change I made was to notes.txt") and Path(cfg.output.dir, "notes.txt").exists()


DRIVER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from rich.console import Console
    from tests.kit import ScriptedTranscriber
    from voiceloop.agent.assistant import Assistant
    from voiceloop.agent.confirm import TerminalConfirmer
    from voiceloop.agent.sandbox import Sandbox
    from voiceloop.agent.tools import Tools
    from voiceloop.config import Config, LlmConfig, OutputConfig, TtsConfig
    from voiceloop.llm.ollama import OllamaClient
    from voiceloop.voice.speech import SilentSpeaker

    host, model, out = sys.argv[1:4]
    cfg = Config(llm=LlmConfig(host=host, model=model), tts=TtsConfig(enabled=False), output=OutputConfig(dir=out))
    llm = OllamaClient(host, model)
    console = Console(width=120)
    tools = Tools(llm, Sandbox(Path(out)), TerminalConfirmer(console), cfg.llm.num_predict)
    assistant = Assistant(cfg, ScriptedTranscriber(), llm, tools, SilentSpeaker())
    for said in sys.argv[4:]:
        print("REPLY:", assistant.handle_text(said).reply, flush=True)
    """
)


@pytest.mark.slow
@pytest.mark.llm
@pytest.mark.parametrize(("answer", "left"), [("y", "the old list\n"), ("n", "buy milk")])
def test_the_undo_prompt_in_a_real_terminal(ollama_url: str, cfg, tmp_path: Path, answer: str, left: str) -> None:
    out = Path(cfg.output.dir)
    out.mkdir()
    (out / "notes.txt").write_text("the old list\n")
    child = pexpect.spawn(
        sys.executable,
        ["-c", DRIVER, ollama_url, cfg.llm.model, str(out), WRITE, "undo that"],
        cwd=str(ROOT),
        env=dict(os.environ, COLUMNS="120"),
        encoding="utf-8",
        timeout=120,
    )
    child.expect(r"Write this file\? \[y/N\]")
    child.sendline("y")
    child.expect("REPLY: I updated notes.txt.")
    child.expect(r"Undo: restore .*notes\.txt")
    child.expect(r"\+the old list")  # the undo's diff is on screen before the question
    child.expect(r"Undo this change\? \[y/N\]")
    child.sendline(answer)
    child.expect("REPLY: I (put notes.txt back the way it was|did not undo notes.txt: you said no).")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0, child.before
    assert (out / "notes.txt").read_text() == left and sorted(p.name for p in out.iterdir()) == ["notes.txt"]


def _once(tmp_path: Path, ollama_url: str, wav: str) -> dict:
    write_config(tmp_path / "config.toml", ollama_url)
    result = run_cli("once", str(EVAL / wav), "--no-speak", "--json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.mark.slow
@pytest.mark.llm
def test_once_spoken_what_files_do_we_have(tmp_path: Path, ollama_url: str) -> None:
    (tmp_path / "output").mkdir()
    (tmp_path / "output" / "notes.txt").write_text("hello")
    turn = _once(tmp_path, ollama_url, "spoken/files_what_we_have.wav")  # Piper's voice, heard by tiny.en
    assert [a["action"] for a in turn["actions"]] == ["list_files"]
    assert turn["reply"] == "There is one file in the output folder: notes.txt."


@pytest.mark.slow
@pytest.mark.llm
def test_once_spoken_read_back_the_shopping_list(tmp_path: Path, ollama_url: str) -> None:
    (tmp_path / "output").mkdir()
    (tmp_path / "output" / "shopping_list.txt").write_text("apples and bread\n")
    turn = _once(tmp_path, ollama_url, "spoken/files_read_shopping.wav")
    assert [a["action"] for a in turn["actions"]] == ["read_file"]
    assert turn["reply"] == "shopping_list.txt says: apples and bread"


@pytest.mark.slow
@pytest.mark.llm
def test_once_spoken_undo_with_nothing_written_this_session(tmp_path: Path, ollama_url: str) -> None:
    (tmp_path / "output").mkdir()
    (tmp_path / "output" / "notes.txt").write_text("written by an earlier run")
    turn = _once(tmp_path, ollama_url, "spoken/files_please_undo.wav")
    assert [(a["action"], a["status"]) for a in turn["actions"]] == [("undo", "answered")]
    assert turn["reply"].startswith("There is nothing to undo")
    assert (tmp_path / "output" / "notes.txt").read_text() == "written by an earlier run"


def test_an_undo_is_shown_and_asked_as_an_undo_not_a_write(tmp_path: Path) -> None:
    from rich.console import Console

    from voiceloop.agent.confirm import question, render
    from voiceloop.agent.sandbox import Sandbox

    box = Sandbox(tmp_path / "output")
    box.write(box.propose("made.txt", "new words\n"))
    undo = box.undo_proposal()
    out = Console(file=io.StringIO(), width=120)
    out.print(render(undo))
    shown = out.file.getvalue()  # type: ignore[attr-defined]
    assert "Undo: remove" in shown and "made.txt" in shown
    assert question(undo) == "Undo this change? [y/N]"
    assert question(box.propose("other.txt", "x")) == "Write this file? [y/N]"
