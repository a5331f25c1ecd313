"""`voiceloop listen` as a person runs it, on a private PulseAudio server whose speaker is looped
back into its microphone (like a laptop's speakers and mic): it must never hear itself, and Ctrl-C
must stop it cleanly in every stage."""

from __future__ import annotations

import contextlib
import io
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pexpect
import pytest

from voiceloop.listen.loop import AUDIO_IN

from .conftest import DATA, ROOT, Recorder, loud_seconds, write_config

pytestmark = [pytest.mark.slow, pytest.mark.llm, pytest.mark.audio]

AUDIO = str(ROOT / "scripts" / "audio_devices.sh")
STOP_S = 15  # Ctrl-C must end listen; how fast is bench's business, a hang fails here
BARGE_IN = "[vad]\nbarge_in = true\n"
START_OVER = "eval/spoken/forget_start_over.wav"


@contextlib.contextmanager
def looped_room(prefix: str, echo_volume: str = "100%") -> Iterator[dict[str, str]]:
    """Env for a private sound server where what is played on vl_speaker reaches vl_mic at echo_volume."""
    runtime = tempfile.mkdtemp(prefix=prefix)
    env = dict(os.environ, XDG_RUNTIME_DIR=runtime, PULSE_SOURCE="vl_mic", PULSE_SINK="vl_speaker", COLUMNS="160")
    subprocess.run(["bash", AUDIO, "start"], env=env, check=True, capture_output=True)
    subprocess.run(
        ["pactl", "load-module", "module-loopback", "source=vl_speaker.monitor", "sink=vl_micfeed", "latency_msec=60"],
        env=env,
        check=True,
        capture_output=True,
    )
    inputs = subprocess.run(["pactl", "list", "short", "sink-inputs"], env=env, capture_output=True, text=True)
    for line in inputs.stdout.splitlines():
        subprocess.run(["pactl", "set-sink-input-volume", line.split()[0], echo_volume], env=env, check=True)
    try:
        yield env
    finally:
        subprocess.run(["bash", AUDIO, "stop"], env=env, check=False)


@pytest.fixture(scope="module")
def room() -> Iterator[dict[str, str]]:
    """Everything played on vl_speaker reaches vl_mic at full level."""
    with looped_room("vl-room-") as env:
        yield env


def spawn_listen(
    tmp_path: Path, env: dict[str, str], ollama_url: str, speak: bool = True, more: str = ""
) -> pexpect.spawn:
    """`voiceloop listen` on the room's devices; `more`: further config.toml sections."""
    extra = f'[tts]\nenabled = {str(speak).lower()}\n[audio]\ninput_device = "pulse"\noutput_device = "pulse"\n'
    write_config(tmp_path / "config.toml", ollama_url, extra + more)
    child = pexpect.spawn(
        sys.executable, ["-m", "voiceloop", "listen"], cwd=str(tmp_path), env=env, encoding="utf-8", timeout=180
    )
    child.logfile_read = io.StringIO()
    child.expect(AUDIO_IN)  # a fresh capture stream on a null-sink monitor can take seconds to deliver
    return child


def say(env: dict[str, str], name: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(["paplay", "-d", "vl_micfeed", str(DATA / name)], env=env)


def stop(child: pexpect.spawn) -> int:
    """Ctrl-C: it must say so and exit within STOP_S; returns the exit status."""
    child.kill(signal.SIGINT)
    try:
        child.expect(r"stopped after \d+ turns", timeout=STOP_S)
    except pexpect.EOF:  # it ended without saying so: how, and everything it printed
        child.close()
        raise AssertionError(
            f"listen ended without 'stopped after' (exit {child.exitstatus}, signal {child.signalstatus}):\n"
            + printed(child.logfile_read.getvalue())
        ) from None
    child.expect(pexpect.EOF, timeout=STOP_S)
    child.close()
    return int(child.exitstatus if child.exitstatus is not None else -(child.signalstatus or 0))


def said_lines(log: str) -> list[str]:
    """Each "You said: ..." as one line: listen wraps a long one at the terminal's width."""
    plain = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", log).replace("\r", "")
    end = r"(?=\n\s*(?:Reply:|●|You said:|interrupted|kept what|stopped after|error:)|\Z)"
    return [" ".join(m.split()) for m in re.findall(r"You said:(.*?)" + end, plain, re.S)]


def expect_turns(child: pexpect.spawn, n: int) -> None:
    """n turns heard, the last one's reply spoken to its end and listening again; a failure shows what it printed."""
    try:
        for _ in range(n):
            child.expect("You said:")
        child.expect("Reply:")
        child.expect("listening")
    except pexpect.TIMEOUT:
        pytest.fail(f"not {n} turns; listen printed:\n" + printed(child.logfile_read.getvalue()))


def printed(log: str) -> str:
    """What listen printed above its live status region (the region, redrawn ten times a second, left out): a
    failure shows every line of the run, not the last few seconds of redraws."""
    plain = re.sub(r"\x1b\[[0-9;?]*[A-LN-Za-z]", "\n", re.sub(r"\x1b\[[0-9;]*m", "", log)).replace("\r", "\n")
    live = ("●", "heard:", "reply:", "last turn:", "waiting:")
    return "\n".join(t for t in (x.strip() for x in plain.split("\n")) if t and not t.startswith(live))


def next_turn_is_start_over(child: pexpect.spawn, env: dict[str, str]) -> None:
    """Say "Forget everything and start over." (a command: no model call): the next turn must be that, proof
    that nothing in between (the reply's echo, a self-interruption) was taken as a turn."""
    child.expect("listening")  # the turn before is over, echo tail included: speech now is heard whole
    # Said half a second later, as a person would: the harness reacts to "listening" within ~0.1 s, and the clip
    # starts talking at once. Traced (6 runs, no pause): its first voiced frame reached the segmenter 110-150 ms
    # after listening resumed, behind only 3-6 silent frames; the segmenter needs 3 (RESUME_QUIET_MS) to tell a
    # sentence started now from one under way before it listened, so under load the clip was taken as begun while
    # not listening, and ignored. What this helper proves is that nothing between the turns became a turn.
    time.sleep(0.5)
    assert say(env, START_OVER).wait() == 0  # it really was played into the room
    try:
        child.expect(r"You said:[^\n]*")
    except pexpect.TIMEOUT:
        pytest.fail("no turn after the start-over clip; listen printed:\n" + printed(child.logfile_read.getvalue()))
    assert re.search(r"[Ss]tart over", child.after), child.after
    child.expect("Reply:[^\n]*starting over")  # its reply is spoken in the room too


def test_reply_is_heard_in_the_room_but_never_taken_as_a_turn(tmp_path: Path, room: dict[str, str], ollama_url: str):
    child = spawn_listen(tmp_path, room, ollama_url)
    rec = Recorder(env=room)
    say(room, "question.wav").wait()
    child.expect("You said:")
    child.expect(r"Reply:")  # printed once the reply has played; its echo went through the room meanwhile
    next_turn_is_start_over(child, room)
    heard = rec.stop()  # both replies (a short answer can be one word) were played into the room
    assert stop(child) == 0
    log = child.logfile_read.getvalue()
    assert log.count("You said:") == 2, log  # the reply came back through the mic and was ignored
    assert loud_seconds(heard) > 0.8, log  # and it really was played into the room
    assert "Traceback" not in log


@pytest.mark.parametrize("stage", ["hearing", "thinking", "waiting for you", "speaking"])
def test_ctrl_c_stops_cleanly_in_every_stage(tmp_path: Path, room: dict[str, str], ollama_url: str, stage: str):
    child = spawn_listen(tmp_path, room, ollama_url)
    player = say(room, "create_notes.wav" if stage == "waiting for you" else "question.wav")
    child.expect(stage)
    status = stop(child)
    player.kill()
    log = child.logfile_read.getvalue()
    assert "Traceback" not in log
    assert status == 0, log
    assert not (tmp_path / "output").exists()  # stopping at the prompt writes nothing


@pytest.fixture(scope="module")
def laptop() -> Iterator[dict[str, str]]:
    """A room whose speaker reaches the mic 50% quieter (about -18 dB), like a laptop's."""
    with looped_room("vl-laptop-", "50%") as env:
        yield env


def test_talking_over_the_reply_stops_it_and_is_the_next_turn(
    tmp_path: Path, laptop: dict[str, str], ollama_url: str
) -> None:
    child = spawn_listen(tmp_path, laptop, ollama_url, more=BARGE_IN)
    rec = Recorder(env=laptop)
    say(laptop, "story.wav").wait()
    child.expect("speaking")
    rec.wait_loud(1.5)  # well into the story
    say(laptop, "create_notes.wav")
    rec.stop()
    child.expect("interrupted")
    child.expect(r"Write this file\? \[y/N\]")  # what they said over the reply is the next turn
    child.sendline("n")
    child.expect("did not write")
    assert stop(child) == 0
    log = child.logfile_read.getvalue()
    said = said_lines(log)  # a long one (the reply's echo from before the trigger in it too) wraps at 160
    # what they said over the reply is the next turn; its first word is the edge of the pre-roll, heard whole in
    # most talk-overs but not all ("Read a file called notes.txt…" once in eight runs): test_bargein_room counts
    # talk-overs heard whole as a rate, which is where that is measured; so is the name ("nodes.txt" with AVX2 kernels)
    assert re.search(r"\ban? file called \w+", said[-1]), said  # "Create an file called": once in 14
    assert log.count("interrupted") == 1
    assert "Traceback" not in log


def test_its_own_reply_never_interrupts_itself(tmp_path: Path, laptop: dict[str, str], ollama_url: str) -> None:
    """A story told through the laptop's speaker and back into its mic with barge-in on. Two sentences (10-40 s of
    echo) instead of the default three: the echo comes back at the same level all through the reply, and the
    start, where barge-in is still learning the echo's level, is in every reply. With three (up to 180 words) it
    took 200 s on a slower box and timed out."""
    child = spawn_listen(tmp_path, laptop, ollama_url, more=BARGE_IN + "[answer]\nsentences = 2\n")
    say(laptop, "story.wav").wait()
    child.expect("You said:")
    child.expect(r"Reply:")  # printed once the whole story has played through the laptop's speaker and mic
    next_turn_is_start_over(child, laptop)
    assert stop(child) == 0
    log = child.logfile_read.getvalue()
    assert "interrupted" not in log, log
    assert log.count("You said:") == 2, log  # the story's echo was never a turn of its own
