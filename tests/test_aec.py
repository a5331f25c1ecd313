"""Echo cancellation (WebRTC AEC3) on a simulated echo path: delay, attenuation, reverb and room noise,
with voiceloop's recorded voices as what the speaker plays."""

from __future__ import annotations

import numpy as np
import pytest

from voiceloop.audio.aec import BLOCK_SAMPLES, EchoCancelledSource, EchoCanceller, FarEnd, erle_db
from voiceloop.audio.formats import SAMPLE_RATE, read_wav
from voiceloop.audio.linear_echo import LinearEcho

from .conftest import DATA

DELAY_S = 0.12  # speaker -> air -> microphone, plus the sound card's buffers
ATTENUATION_DB = -8.0  # a laptop's speaker close to its microphone
NOISE_BELOW_ECHO_DB = 35.0  # the room's hum, well under the echo but not nothing
CONVERGE_S = 2.0  # AEC3 is given this long to learn the room before it is measured


def reverb(seed: int = 7) -> np.ndarray:
    """A room impulse response: the direct path, two early reflections, and a decaying diffuse tail
    (about 300 ms to -60 dB)."""
    rng = np.random.default_rng(seed)
    n = int(0.3 * SAMPLE_RATE)
    t = np.arange(n) / SAMPLE_RATE
    h = rng.normal(0.0, 1.0, n) * 0.08 * 10 ** (-3 * t / 0.3)
    h[0] += 1.0
    h[int(0.011 * SAMPLE_RATE)] += 0.5
    h[int(0.023 * SAMPLE_RATE)] -= 0.3
    return h


def voices() -> np.ndarray:
    """About 20 s of the recorded voices, with the pauses a reply has between sentences."""
    gap = np.zeros(int(0.3 * SAMPLE_RATE), np.int16)
    parts = []
    for name in ("story.wav", "question.wav", "write_code.wav", "create_notes.wav"):
        parts += [read_wav(DATA / name), gap]
    return np.concatenate(parts)


def room(far: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """What the microphone hears of `far` played in the room: (echo + noise, noise)."""
    echo = np.convolve(far.astype(np.float64), reverb())[: len(far)] * 10 ** (ATTENUATION_DB / 20)
    delay = int(DELAY_S * SAMPLE_RATE)
    echo = np.concatenate([np.zeros(delay), echo])[: len(far)]
    noise = np.resize(read_wav(DATA / "noise.wav").astype(np.float64), len(far))
    echo_rms = np.sqrt(np.mean(echo**2))
    noise *= echo_rms * 10 ** (-NOISE_BELOW_ECHO_DB / 20) / np.sqrt(np.mean(noise**2))
    return np.clip(echo + noise, -32768, 32767).astype(np.int16), noise.astype(np.int16)


def cancel(near: np.ndarray, far: np.ndarray, chunk: int = 480) -> np.ndarray:
    aec = EchoCanceller()
    out = [aec.process(near[i : i + chunk], far[i : i + chunk]) for i in range(0, len(near) - chunk + 1, chunk)]
    return np.concatenate(out)


def while_speaking(far: np.ndarray, n: int) -> np.ndarray:
    """Indices of the 30 ms frames after convergence in which the speaker is really playing."""
    frames = []
    for i in range(int(CONVERGE_S * SAMPLE_RATE), n - 480, 480):
        level = np.sqrt(np.mean(far[i : i + 480].astype(np.float64) ** 2))
        if level > 32768 * 10 ** (-40 / 20):
            frames.append(np.arange(i, i + 480))
    return np.concatenate(frames)


def test_erle_is_at_least_20_db_on_a_room_with_delay_reverb_and_noise() -> None:
    far = voices()
    near, _ = room(far)
    out = cancel(near, far)
    idx = while_speaking(far, len(out))
    erle = erle_db(near[idx], out[idx])
    print(f"ERLE {erle:.1f} dB over {len(idx) / SAMPLE_RATE:.1f} s of playback")
    assert erle >= 20.0


def test_the_persons_voice_gets_through_while_it_speaks(transcriber) -> None:
    """Double talk: the person speaking over the reply, as loud as the echo, comes out at their level and
    clear enough for Whisper (barge-in depends on it)."""
    far = voices()
    echo, _ = room(far)
    person = np.zeros(len(far), np.float64)
    said = read_wav(DATA / "create_notes.wav").astype(np.float64) * 0.5
    at = int(8.0 * SAMPLE_RATE)
    person[at : at + len(said)] = said
    near = np.clip(echo + person, -32768, 32767).astype(np.int16)
    out = cancel(near, far)
    span = slice(at, at + len(said))
    kept = erle_db(person[span], out[span].astype(np.float64))  # how much quieter the person came out
    assert kept < 6.0, f"the person's voice lost {kept:.1f} dB"
    heard = transcriber.transcribe(out[span]).text.lower()
    assert "create a file" in heard and "notes" in heard, heard


def test_silence_in_gives_silence_out_and_partial_blocks_wait() -> None:
    aec = EchoCanceller()
    assert len(aec.process(np.zeros(100, np.int16), np.zeros(100, np.int16))) == 0
    out = aec.process(np.zeros(300, np.int16), np.zeros(300, np.int16))
    assert len(out) == 2 * BLOCK_SAMPLES and not out.any()
    with pytest.raises(ValueError, match="same length"):
        aec.process(np.zeros(160, np.int16), np.zeros(10, np.int16))


def test_far_end_lines_played_audio_up_with_the_time_it_was_heard() -> None:
    far = FarEnd()
    tone = (np.arange(1600) % 100).astype(np.int16) + 1
    far.push(tone, heard_at=10.0)
    got = far.take(480, ends_at=10.0 + 0.05)  # the 30 ms ending 50 ms into the tone
    assert np.array_equal(got, tone[320:800])
    before = far.take(480, ends_at=10.01)  # 20 ms of nothing, then the tone's first 10 ms
    assert not before[:320].any() and np.array_equal(before[320:], tone[:160])
    assert not far.take(480, ends_at=20.0).any()


class _Mic:
    """Recorded room audio handed out in 30 ms chunks, each stamped with when it reached the mic."""

    overflows = 0

    def __init__(self, samples: np.ndarray, t0: float) -> None:
        self.samples, self.t0, self.pos = samples, t0, 0
        self.captured_at: float | None = None

    def read(self, timeout_s: float) -> np.ndarray | None:
        if self.pos >= len(self.samples):
            return None
        chunk = self.samples[self.pos : self.pos + 480]
        self.pos += len(chunk)
        self.captured_at = self.t0 + self.pos / SAMPLE_RATE
        return chunk

    def drain(self) -> None:
        pass

    def close(self) -> None:
        pass


def test_cancelled_source_takes_the_played_audio_out_of_the_microphone() -> None:
    played = voices()
    near, _ = room(played)
    far = FarEnd()
    t0 = 1000.0
    src = EchoCancelledSource(_Mic(near, t0), far)
    chunks = []
    ahead = int(0.3 * SAMPLE_RATE)  # the player writes (and reports) audio before it is heard
    far.push(played[:ahead], t0)
    for i in range(0, len(played), 480):
        far.push(played[ahead + i : ahead + i + 480], t0 + (ahead + i) / SAMPLE_RATE)
        chunk = src.read(0.1)
        if chunk is not None:
            chunks.append(chunk)
    out = np.concatenate(chunks)
    assert len(near) - BLOCK_SAMPLES < len(out) <= len(near)  # only a last partial block waits
    assert src.erle_db is not None and src.erle_db > 15.0  # convergence included
    idx = while_speaking(played, len(out))
    assert erle_db(near[idx], out[idx]) >= 20.0


def test_the_linear_filter_learns_the_room_and_keeps_a_voice_talked_over_the_reply_at_its_level(transcriber) -> None:
    """audio/linear_echo.py, which barge-in hands on for the words said over a reply: it takes the echo out by
    subtraction alone, so the person keeps their level where AEC3's suppressor turns them down with the echo."""
    far = voices()
    echo, _ = room(far)
    person = np.zeros(len(far), np.float64)
    said = read_wav(DATA / "create_notes.wav").astype(np.float64) * 0.5
    at = int(12.0 * SAMPLE_RATE)
    person[at : at + len(said)] = said
    near = np.clip(echo + person, -32768, 32767).astype(np.int16)
    linear = LinearEcho()
    plain = np.concatenate([linear.process(near[i : i + 480], far[i : i + 480]) for i in range(0, len(near), 480)])
    learned = while_speaking(far, at)  # our voice alone, after the first CONVERGE_S
    assert erle_db(near[learned[learned > 8 * SAMPLE_RATE]], plain[learned[learned > 8 * SAMPLE_RATE]]) >= 10.0
    span = slice(at, at + len(said))
    assert abs(erle_db(person[span], plain[span].astype(np.float64))) < 3.0  # neither turned down nor drowned
    heard = transcriber.transcribe(plain[span]).text.lower()
    assert "create a file called notes" in heard.replace(",", ""), heard
