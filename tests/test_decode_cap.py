"""A fitted-window decode is stopped at what a clip that long can hold (stt/short_window.max_tokens), so a decoder
that says the words so far over and over (tiny.en on the first second of a question, as warming hears it while
the person talks) ends in a few tokens, not ~220 (1.8 s on two cores, beside the early job's own transcription:
the acoustic bench's "What is a good name for a cat?" reached its transcript at 1.2 s instead of 0.4 s). Real
tiny.en weights, real clips from the acoustic bench."""

from __future__ import annotations

import numpy as np
import pytest

from voiceloop.audio.formats import SAMPLE_RATE, read_wav
from voiceloop.config import SttConfig
from voiceloop.devtools.bench_acoustic import DATA as ACOUSTIC
from voiceloop.stt.engines import FasterWhisper
from voiceloop.stt.short_window import Decoded, transcribe_short
from voiceloop.stt.transcript import float_audio

pytestmark = pytest.mark.slow

GLIMPSE_S = 1.11  # the first warming's look: 0.6 s of speech after the start, with the pre-roll before it
LOOPS_AT = {"q_cat.wav": 0.0, "q_compiler.wav": 0.0}  # where a look that long was said over and over (old decoder)


@pytest.fixture(scope="module")
def whisper() -> FasterWhisper:
    return FasterWhisper(SttConfig())


def greedy(whisper: FasterWhisper, clip: np.ndarray) -> Decoded:
    """The fitted window's greedy decode of clip, with the session's prompt, as glimpse and transcribe make it."""
    cfg = whisper.cfg
    decoded = transcribe_short(
        whisper._model, float_audio(clip), language=cfg.language, prompt=whisper.prompt, beam_size=1
    )
    assert decoded is not None
    return decoded


@pytest.mark.parametrize("name", sorted(LOOPS_AT))
def test_a_decode_that_says_the_words_over_stops_at_what_the_clip_can_hold(whisper: FasterWhisper, name: str) -> None:
    audio = read_wav(ACOUSTIC / name)
    start = int(LOOPS_AT[name] * SAMPLE_RATE)
    clip = audio[start : start + int(GLIMPSE_S * SAMPLE_RATE)]
    decoded = greedy(whisper, clip)
    assert decoded.tokens <= 32, decoded.text  # its window holds 2 s of speech; the old decoder wrote 224 tokens
    assert decoded.looped  # and it is still known for what it is: the whole window decides, warming sends nothing
    assert whisper.glimpse(clip) is None


def test_a_question_said_whole_is_decoded_whole(whisper: FasterWhisper) -> None:
    audio = read_wav(ACOUSTIC / "q_cat.wav")
    decoded = greedy(whisper, audio)
    assert not decoded.looped
    assert decoded.text == "What is a good name for a cat?"
    assert whisper.transcribe(audio).text == "What is a good name for a cat?"
