"""Three questions said 1.5 s apart in a room whose speaker reaches the mic, with the shipped settings
(barge-in on): each is heard whole and answered, in order. The second and third are said while the reply
before is being spoken (a reply starts about a second after a question ends), so each talks over it and
becomes the next turn."""

from __future__ import annotations

import numpy as np
import pexpect
import pytest

from voiceloop.audio.formats import read_wav, wav_bytes
from voiceloop.devtools.bench_acoustic import DATA as ACOUSTIC

from .conftest import DATA
from .test_listen_audio import laptop, printed, said_lines, say, spawn_listen, stop  # noqa: F401  (laptop: a fixture)

pytestmark = [pytest.mark.slow, pytest.mark.llm, pytest.mark.audio]

GAP_S = 1.5
QUESTIONS = [  # (clip, words that show it was heard whole)
    (DATA / "question.wav", ("capital", "france")),
    (ACOUSTIC / "q_leap.wav", ("days", "leap")),
    (ACOUSTIC / "q_moon.wav", ("far", "moon")),
]


def test_three_questions_said_quickly_are_all_heard_and_answered_in_order(tmp_path, laptop, ollama_url) -> None:  # noqa: F811
    gap = np.zeros(int(GAP_S * 16000), np.int16)
    clips = [read_wav(clip) for clip, _ in QUESTIONS]
    wav = tmp_path / "three.wav"
    wav.write_bytes(wav_bytes(np.concatenate([clips[0], gap, clips[1], gap, clips[2], gap])))
    child = spawn_listen(tmp_path, laptop, ollama_url)  # the shipped settings: barge-in is on
    say(laptop, str(wav)).wait()  # an absolute path: DATA / it is it
    try:
        for _ in QUESTIONS:
            child.expect("You said:")
        child.expect("Reply:")  # the last one's reply is spoken to its end
        child.expect("listening")
    except pexpect.TIMEOUT:
        pytest.fail("not three turns; listen printed:\n" + printed(child.logfile_read.getvalue()))
    assert stop(child) == 0
    log = child.logfile_read.getvalue()
    said = [line.lower() for line in said_lines(log)]
    assert len(said) == 3, said  # half-duplex (barge_in = false) loses the second: the mic is muted while speaking
    for line, (_, words) in zip(said, QUESTIONS, strict=True):
        assert all(w in line for w in words), said
    assert "Traceback" not in log
