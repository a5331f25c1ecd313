"""The speaker comes back after the sound server restarts (issue 29), as the microphone does: `voiceloop
listen` with echo cancellation (one output stream kept open for the session) on a private PulseAudio server
that is stopped and started again between two spoken replies."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import pexpect
import pytest

from voiceloop.listen.loop import AUDIO_IN

from .conftest import DATA, ROOT, Recorder, loud_seconds, write_config

pytestmark = [pytest.mark.slow, pytest.mark.llm, pytest.mark.audio]

AUDIO = str(ROOT / "scripts" / "audio_devices.sh")
START_OVER = str(DATA / "eval" / "spoken" / "forget_start_over.wav")  # a command: no model call, a short reply


def test_replies_are_spoken_again_after_the_sound_server_restarts(tmp_path: Path, ollama_url: str) -> None:
    """Before: "microphone is back", then every reply said "could not speak the reply: the speaker stopped
    playing" (the session's output stream had died with the server and was never opened again)."""
    runtime = tempfile.mkdtemp(prefix="vl-pa-speaker-")  # a private server: stopping it disturbs no one else
    env = dict(os.environ, XDG_RUNTIME_DIR=runtime, COLUMNS="160", PULSE_SOURCE="vl_mic", PULSE_SINK="vl_speaker")
    env.pop("PULSE_SERVER", None)
    subprocess.run(["bash", AUDIO, "start"], env=env, check=True, capture_output=True)
    devices = '[tts]\nenabled = true\n[audio]\ninput_device = "pulse"\noutput_device = "pulse"\necho_cancel = true\n'
    write_config(tmp_path / "config.toml", ollama_url, devices)
    child = pexpect.spawn(
        sys.executable, ["-m", "voiceloop", "listen"], cwd=str(tmp_path), env=env, encoding="utf-8", timeout=120
    )
    child.logfile_read = log = io.StringIO()
    try:
        child.expect(AUDIO_IN)
        subprocess.run(["paplay", "-d", "vl_micfeed", START_OVER], env=env, check=True)
        child.expect("Reply:[^\n]*starting over")  # spoken: the session's output stream is open
        subprocess.run(["bash", AUDIO, "stop"], env=env, check=True)
        child.expect(r"microphone stopped delivering audio.*retrying")
        subprocess.run(["bash", AUDIO, "start"], env=env, check=True, capture_output=True)
        child.expect("microphone is back")
        child.expect(AUDIO_IN)
        rec = Recorder(env=env)
        subprocess.run(["paplay", "-d", "vl_micfeed", START_OVER], env=env, check=True)
        child.expect("Reply:[^\n]*starting over")
        child.expect("timings")  # a warning about the reply's voice comes before the timings
        heard = rec.stop()
        assert "could not speak" not in log.getvalue(), log.getvalue()
        assert loud_seconds(heard) > 0.3, log.getvalue()  # the reply really reached the restarted server
        child.kill(signal.SIGINT)
        child.expect(r"stopped after 2 turns")
        child.expect(pexpect.EOF)
        assert "Traceback" not in log.getvalue()
    finally:
        child.close(force=True)
        subprocess.run(["bash", AUDIO, "stop"], env=env, check=False)
