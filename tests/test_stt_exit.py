"""Ending the process while Whisper runs on another thread (Ctrl-C while listen is thinking and the early
start is transcribing) exits cleanly: the process waits for the transcription instead of aborting under
CTranslate2 ("terminate called without an active exception", SIGABRT), which it did 2 times in 3 before."""

from __future__ import annotations

import subprocess
import sys

from voiceloop.stt.inflight import InFlight

from .conftest import DATA, ROOT

EXIT_MID_TRANSCRIPTION = """
import sys, threading, time
import numpy as np
from voiceloop.audio.formats import read_wav
from voiceloop.config import SttConfig
from voiceloop.stt.engines import build_engine

engine = build_engine(SttConfig())
audio = np.tile(read_wav(sys.argv[1]), 6)  # some 20 s: still running when the main thread ends
threading.Thread(target=engine.transcribe, args=(audio,), daemon=True).start()
time.sleep(0.5)
print("main thread done", flush=True)
"""


def test_the_process_exits_cleanly_while_a_worker_thread_is_transcribing() -> None:
    for _ in range(3):
        done = subprocess.run(
            [sys.executable, "-c", EXIT_MID_TRANSCRIPTION, str(DATA / "question.wav")],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr[-2000:]
        assert "main thread done" in done.stdout and "terminate called" not in done.stderr


def test_in_flight_waits_until_the_last_call_ends() -> None:
    calls = InFlight()
    assert calls.wait_idle(0.0)
    with calls.running():
        with calls.running():
            assert calls.count == 2
        assert not calls.wait_idle(0.05)  # one still running: the wait times out
    assert calls.count == 0 and calls.wait_idle(0.0)
