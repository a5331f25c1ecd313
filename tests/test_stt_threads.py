"""Whisper's CPU threads (stt/models.cpu_threads): CTranslate2 starts one a core unless told, and on a 2-core box they
wait on each other and on the model beside them; one thread decoded the bench's questions faster there."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from voiceloop.stt import models

from .conftest import DATA


@pytest.mark.parametrize("cores,omp,threads", [(2, "", 1), (1, "", 1), (None, "", 1), (8, "", 0), (2, "3", 0)])
def test_two_cores_get_one_thread_unless_the_user_chose(
    monkeypatch: pytest.MonkeyPatch, cores: int | None, omp: str, threads: int
) -> None:
    monkeypatch.setattr(models.os, "cpu_count", lambda: cores)
    monkeypatch.setenv("OMP_NUM_THREADS", omp)
    assert models.cpu_threads() == threads


THREADS_AFTER_A_DECODE = """
import os
os.cpu_count = lambda: 2
from voiceloop.audio.formats import read_audio
from voiceloop.config import SttConfig
from voiceloop.stt.engines import FasterWhisper
engine = FasterWhisper(SttConfig(names_model=""))
engine.transcribe(read_audio({wav!r}))
print(len(os.listdir("/proc/self/task")))
"""


def _threads(omp: str | None) -> int:
    env = {k: v for k, v in os.environ.items() if k != "OMP_NUM_THREADS"}
    if omp is not None:
        env["OMP_NUM_THREADS"] = omp
    code = THREADS_AFTER_A_DECODE.format(wav=str(DATA / "question.wav"))
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return int(done.stdout.split()[-1])


def test_the_engine_on_two_cores_starts_fewer_threads_than_one_per_core() -> None:
    assert _threads(None) < _threads("2")  # one OpenMP thread against two (CTranslate2's own choice there)
