"""Speech to text with real Whisper weights: the right words, and no words invented from noise."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from voiceloop.audio.formats import read_wav
from voiceloop.audio.vad import Segmenter, WebRtcVad, join_utterances
from voiceloop.config import SttConfig, VadConfig
from voiceloop.errors import ModelError
from voiceloop.stt.engines import (
    LOOPED_LOGPROB,
    FasterWhisper,
    OpenAIWhisper,
    TieredTranscriber,
    confidence,
    load_transcriber,
)
from voiceloop.stt.moonshine import Moonshine
from voiceloop.stt.native_probe import missing_instructions

from .conftest import DATA


def words(text: str) -> set[str]:
    return set(re.sub(r"[^a-z0-9_. ]+", " ", text.lower()).split())


def speech(name: str):
    samples = read_wav(DATA / name)
    utts = list(Segmenter(VadConfig(), WebRtcVad(2)).segment(samples))
    return join_utterances(utts, samples).samples


@pytest.mark.slow
@pytest.mark.parametrize(
    "name,expected",
    [
        ("create_notes.wav", {"create", "file", "notes.txt", "shopping", "list."}),
        ("question.wav", {"capital", "france"}),
        ("create_notes_espeak.wav", {"create", "file", "shopping"}),
    ],
)
def test_spoken_commands_give_the_right_words(transcriber, name: str, expected: set[str]) -> None:
    got = transcriber.transcribe(speech(name))
    assert expected <= words(got.text), got.text
    assert got.avg_logprob > -0.8 and got.no_speech_prob < 0.6


@pytest.mark.slow
@pytest.mark.parametrize("name", ["noise.wav", "tone.wav"])
def test_noise_is_not_turned_into_words(transcriber, name: str) -> None:
    got = transcriber.transcribe(read_wav(DATA / name))
    # Whisper may hallucinate a word; the confidence gate must then reject it
    assert got.text.strip(" .") == "" or got.avg_logprob < -0.8 or got.no_speech_prob > 0.6


@pytest.mark.slow
def test_packaged_base_model_is_assembled_and_transcribes(whisper_base) -> None:
    got = whisper_base.transcribe(speech("question.wav"))  # FasterWhisper(SttConfig(model="base"))
    assert {"capital", "france"} <= words(got.text)


@pytest.mark.slow
def test_openai_whisper_engine_on_packaged_weights_matches_faster_whisper(transcriber, tmp_path: Path) -> None:
    """The design card's engine: tiny.en converted once to a .pt checkpoint, loaded by openai-whisper."""
    engine = OpenAIWhisper(SttConfig(engine="openai-whisper", model="tiny.en"))
    audio = speech("create_notes.wav")
    ours = engine.transcribe(audio)
    theirs = words(transcriber.transcribe(audio).text)
    assert {"create", "file", "shopping"} <= words(ours.text) & theirs
    # the same weights on two runtimes (PyTorch, CTranslate2), each with its own CPU kernels: the same words
    # as a rule, but a word at the edge may differ, so they are compared as sets with room for one
    assert len(words(ours.text) ^ theirs) <= 2, (ours.text, theirs)
    # a local .pt path is accepted as the model too
    from voiceloop.paths import cache_dir

    pt = cache_dir() / "openai-whisper" / "tiny.en.pt"
    assert pt.is_file()
    by_path = OpenAIWhisper(SttConfig(engine="openai-whisper", model=str(pt)))
    assert by_path.transcribe(audio).text == ours.text


@pytest.mark.slow
@pytest.mark.parametrize("name", ["write_code.wav", "story.wav"])
def test_unsure_audio_gives_the_same_words_every_time(transcriber, name: str) -> None:
    """Speech played backwards leaves tiny.en unsure (avg_logprob below -1): Whisper used to retry it at sampled
    temperatures up to 1.0, so each run heard other words. Greedy only, it hears the same, and the gate refuses it."""
    backwards = read_wav(DATA / name)[::-1].copy()
    heard = [transcriber.transcribe(backwards) for _ in range(3)]
    assert len({(h.text, h.avg_logprob) for h in heard}) == 1, [h.text for h in heard]
    assert heard[0].avg_logprob < SttConfig().min_avg_logprob


def test_a_decode_stuck_in_a_loop_counts_as_unsure() -> None:
    # (tokens, avg_logprob, no_speech_prob, compression_ratio) per segment, as Whisper reports them
    assert confidence([(12, -0.2, 0.1, 1.1)]) == pytest.approx((-0.2, 0.1))
    # tiny.en on create_notes.wav under loud noise: "Create a file called no.vx.vx.vx…", sure of each token
    assert confidence([(200, -0.09, 0.2, 6.72)]) == pytest.approx((LOOPED_LOGPROB, 0.2))
    avg, _ = confidence([(10, -0.2, 0.1, 1.1), (30, -0.1, 0.1, 3.0)])  # weighted by tokens
    assert avg == pytest.approx((10 * -0.2 + 30 * LOOPED_LOGPROB) / 40)
    assert confidence([]) == (-10.0, 1.0)


def test_missing_and_corrupt_models_give_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="not installed"):
        FasterWhisper(SttConfig(model="large-v3"))
    with pytest.raises(ModelError, match="no such model directory"):
        FasterWhisper(SttConfig(model=str(tmp_path / "nothing" / "here")))
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "model.bin").write_bytes(b"garbage")
    (broken / "config.json").write_text("{}")
    with pytest.raises(ModelError, match="corrupt"):
        FasterWhisper(SttConfig(model=str(broken)))


@pytest.mark.slow
def test_tiered_escalates_only_when_the_small_model_is_unsure(whisper_base) -> None:
    # without the command-vocabulary prompt, so the robotic voice below still leaves tiny.en unsure
    transcriber = FasterWhisper(SttConfig(vocabulary_bias=False))
    tiered = TieredTranscriber(transcriber, whisper_base, SttConfig().escalate_below)
    clear = tiered.transcribe(speech("question.wav"))
    assert not clear.escalated and {"capital", "france"} <= words(clear.text)
    assert (tiered.calls, tiered.escalations) == (1, 0)
    # the espeak-ng recording as a whole (robotic voice, silence around it) leaves tiny.en unsure
    unsure = read_wav(DATA / "create_notes_espeak.wav")
    assert transcriber.transcribe(unsure).avg_logprob < SttConfig().escalate_below
    got = tiered.transcribe(unsure)
    assert got.escalated and {"create", "file", "shopping"} <= words(got.text)
    assert (tiered.calls, tiered.escalations) == (2, 1)


@pytest.mark.slow
def test_tiered_mode_from_config() -> None:
    engine = load_transcriber(SttConfig(tiered=True))
    assert engine.wait_warm(180) and isinstance(engine.engine, TieredTranscriber)  # bounded; two models on a busy box
    assert "base" in engine.name
    assert {"capital", "france"} <= words(engine.transcribe(speech("question.wav")).text)
    with pytest.raises(ModelError, match="needs a Whisper engine"):
        load_transcriber(SttConfig(engine="moonshine", tiered=True))
    with pytest.raises(ModelError, match=r"stt.escalate_model 'large-v3' is not installed"):
        load_transcriber(SttConfig(tiered=True, escalate_model="large-v3"))


@pytest.mark.slow
def test_moonshine_transcribes_shipped_speech() -> None:
    # its first load is in a child process (stt/native_probe.py): on a CPU without AVX-512 that child dies, not
    # this test run, and the engine is one line
    if missing_instructions("moonshine"):
        with pytest.raises(ModelError, match=r"^moonshine: needs AVX-512; this CPU lacks it"):
            load_transcriber(SttConfig(engine="moonshine"))
        return
    engine = load_transcriber(SttConfig(engine="moonshine"))
    assert engine.name.startswith("moonshine")
    got = engine.transcribe(speech("question.wav"))
    assert {"capital", "france"} <= words(got.text)
    assert got.avg_logprob == 0.0 and got.no_speech_prob == 0.0  # no confidence: the gate lets it through
    assert {"shopping", "list."} <= words(engine.transcribe(speech("create_notes.wav")).text)
    with pytest.raises(ModelError, match="not a Moonshine model directory"):
        Moonshine(SttConfig(engine="moonshine", model="/nonexistent/moonshine"))
