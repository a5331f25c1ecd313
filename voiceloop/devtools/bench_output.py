"""The output path, measured at the speaker: from a sentence's audio being synthesized to its first sample
at the (virtual) speaker, through the real voice, SpeechStream and the player `listen` speaks with (one stream
kept open for the session, echo cancellation told every chunk it plays), in this process."""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from voiceloop.config import Config
from voiceloop.devtools.acoustic_room import Room, StereoRecorder, first_loud
from voiceloop.devtools.bench import pct

SENTENCE = "The capital of France is Paris."
ROOM_ENV = ("XDG_RUNTIME_DIR", "PULSE_SINK", "PULSE_SOURCE", "PULSE_SERVER")


@contextmanager
def _in_room(room: Room) -> Iterator[None]:
    """Point this process's sound (libpulse reads these per stream) at the room, then put them back."""
    saved = {k: os.environ.get(k) for k in ROOM_ENV}
    for k in ROOM_ENV:
        if room.env.get(k) is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = room.env[k]
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@dataclass(frozen=True)
class OutputPath:
    """Synthesis done -> the first sample at the speaker, ms."""

    median_ms: float
    p90_ms: float
    n: int
    player: str
    """The player class measured (listen's: StreamPlayer)."""


def measure_output(cfg: Config, tries: int = 5) -> OutputPath:
    """The output path as `listen` has it once its player's stream is open (its first reply opened it)."""
    import numpy as np

    from voiceloop.audio.aec import FarEnd
    from voiceloop.audio.devices import open_pyaudio
    from voiceloop.audio.stream_player import CHUNK, StreamPlayer
    from voiceloop.voice.engines import load_synth
    from voiceloop.voice.speech import SentenceSpeaker

    synth = load_synth(cfg.tts)
    room = Room()
    delays: list[float] = []
    try:
        with _in_room(room):
            recorder = StereoRecorder(room)
            player = StreamPlayer(open_pyaudio(), "")
            try:
                player.far_end = FarEnd()  # listen's echo cancellation is told every chunk played
                player.play(np.zeros(CHUNK, np.int16))  # the stream opens, as listen's does at its first reply
                speaker = SentenceSpeaker(synth, player)
                for _ in range(tries):
                    time.sleep(0.3)
                    start = recorder.frames()
                    stream = speaker.stream()
                    stream.say(SENTENCE)
                    stream.close()
                    time.sleep(0.3)
                    first = first_loud(recorder.clip(start)[:, 1], 100)
                    if first is None or stream.first_audio_at is None:
                        continue
                    ready = stream.first_audio_at + (time.monotonic() - time.perf_counter())
                    delays.append((recorder.time_of(start + first) - ready) * 1000)
            finally:
                player.close()
                recorder.close()
    finally:
        room.close()
    if not delays:
        return OutputPath(0.0, 0.0, 0, type(player).__name__)
    return OutputPath(statistics.median(delays), pct(delays, 90), len(delays), type(player).__name__)
