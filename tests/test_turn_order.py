"""Speech during a turn becomes the next turns, in the order it was said: a question kept while the first turn
thinks, then one that talks over the first turn's reply (barge-in, the shipped default), in the laptop room.

The loop used to run the kept question next with the barge-in flag meant for the one said over the reply, and that
turn's echo tail threw away what had been caught of the later question (its pre-roll, its start): 3 of 3 runs with
clips cut to their words lost it. The model is held (a pass-through to the real test server) until the second
question has been said, so it falls in the first turn's thinking on any machine; the third is said once the reply
is playing, so it talks over it."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import numpy as np
import pexpect
import pytest

from voiceloop.audio.formats import SAMPLE_RATE, rms_dbfs, wav_bytes
from voiceloop.config import TtsConfig

from .test_listen_audio import expect_turns, laptop, printed, said_lines, say, spawn_listen, stop  # noqa: F401  (laptop: a fixture)
from .wire import held

pytestmark = [pytest.mark.slow, pytest.mark.llm, pytest.mark.audio]

HELD_S = 60.0  # the model waits at most this long for the second question (a failing run ends, not hangs)
TALK_AT_S = 0.5  # the third question begins this long after the reply is shown as speaking
QUESTIONS = [  # what is said, and words of which one shows which question a turn was
    ("Tell me a long story about a brave little dragon.", ("dragon",)),
    ("What is the capital of France?", ("france",)),
    # said over the reply: how often talk-overs are heard word for word is a rate, test_bargein_room's to measure
    ("How far away is the moon?", ("moon", "far away")),
]


def words_only(samples: np.ndarray) -> np.ndarray:
    """The clip from its first word to its last (frames over -45 dBFS), 60 ms either side: no silence to spare."""
    frame = SAMPLE_RATE * 30 // 1000
    loud = [i for i in range(0, len(samples), frame) if rms_dbfs(samples[i : i + frame]) > -45.0]
    pad = 2 * frame
    return samples[max(0, loud[0] - pad) : loud[-1] + frame + pad]


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """The three questions spoken by Piper, cut to their words."""
    from voiceloop.voice.engines import PiperSynth

    piper = PiperSynth(TtsConfig(engine="piper"))
    folder = tmp_path_factory.mktemp("order")
    paths = [folder / f"q{i}.wav" for i in range(len(QUESTIONS))]
    for path, (said, _) in zip(paths, QUESTIONS, strict=True):
        path.write_bytes(wav_bytes(words_only(piper.synth(said))))
    return paths


def test_a_kept_question_and_one_said_over_the_reply_are_both_answered_in_order(
    tmp_path: Path,
    laptop: dict[str, str],  # noqa: F811
    ollama_url: str,
    clips: list[Path],
) -> None:
    armed, released = threading.Event(), threading.Event()

    def hold() -> None:  # the model answers the first question only once the second has been said
        if armed.is_set():
            released.wait(HELD_S)

    with held(ollama_url, hold) as url:
        child = spawn_listen(tmp_path, laptop, url)  # the shipped settings: barge-in is on
        child.timeout = 60
        armed.set()
        try:
            assert say(laptop, str(clips[0])).wait() == 0
            child.expect("thinking")
            assert say(laptop, str(clips[1])).wait() == 0  # kept: said while the first turn thinks
            released.set()
            child.expect("speaking")  # the first reply begins once the second question has ended
            time.sleep(TALK_AT_S)
            assert say(laptop, str(clips[2])).wait() == 0  # over the first reply
            expect_turns(child, len(QUESTIONS))
        except pexpect.TIMEOUT:
            pytest.fail("not three turns; listen printed:\n" + printed(child.logfile_read.getvalue()))
        finally:
            released.set()
        assert stop(child) == 0
    log = child.logfile_read.getvalue()
    said = [line.lower() for line in said_lines(log)]
    assert len(said) == 3, printed(log)
    for line, (_, words) in zip(said, QUESTIONS, strict=True):
        assert any(w in line for w in words), printed(log)
    assert log.count("interrupted") == 1, printed(log)  # the third talked over the first reply
    # only the second was kept while a turn thought; the old loop overheard the rest of the third as a turn of its own
    assert log.count("kept what you said") == 1, printed(log)
    assert "ignored" not in log, printed(log)  # no question lost its start
    assert "Traceback" not in log
