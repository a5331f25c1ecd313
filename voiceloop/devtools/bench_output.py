"""The output path, measured at the speaker: from a sentence's audio being synthesized to its first sample
at the (virtual) speaker, through the real voice, SpeechStream and PyAudio player, in this process."""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Iterator
from contextlib import contextmanager

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


def measure_output(cfg: Config, tries: int = 5) -> tuple[float, float, int]:
    """(median, p90, n) ms from synthesis done to the first sample at the speaker."""
    from voiceloop.audio.devices import PyAudioPlayer, open_pyaudio
    from voiceloop.voice.engines import load_synth
    from voiceloop.voice.speech import SentenceSpeaker

    synth = load_synth(cfg.tts)
    room = Room()
    delays: list[float] = []
    try:
        with _in_room(room):
            recorder = StereoRecorder(room)
            try:
                speaker = SentenceSpeaker(synth, PyAudioPlayer(open_pyaudio(), ""))
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
                recorder.close()
    finally:
        room.close()
    return (statistics.median(delays), pct(delays, 90), len(delays)) if delays else (0.0, 0.0, 0)
