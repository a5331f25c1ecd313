"""A real microphone that stops delivering without an error: PulseAudio suspends the source under PortAudio's
stream, which then hands out no audio, raises nothing and still says it is active. The capture bus must call that
a lost microphone within STALL_S (the listen loop then says so and reopens it), not wait in silence forever."""

from __future__ import annotations

import os
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator

import pytest

from voiceloop.audio.bus import STALL_S, CaptureBus, Tap
from voiceloop.audio.devices import open_pyaudio
from voiceloop.audio.mic import PyAudioSource
from voiceloop.errors import AudioDeviceError

from .conftest import AUDIO_SCRIPT

pytestmark = pytest.mark.audio

FIRST_S = 15.0  # a fresh capture stream on a null-sink monitor can take seconds to deliver


@pytest.fixture
def private_mic(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    """This test's own sound server (suspending its microphone touches no other test's)."""
    runtime = tempfile.mkdtemp(prefix="vl-stall-")
    env = dict(os.environ, XDG_RUNTIME_DIR=runtime, PULSE_SOURCE="vl_mic", PULSE_SINK="vl_speaker")
    subprocess.run(["bash", str(AUDIO_SCRIPT), "start"], env=env, check=True, capture_output=True, timeout=60)
    for key in ("XDG_RUNTIME_DIR", "PULSE_SOURCE", "PULSE_SINK"):
        monkeypatch.setenv(key, env[key])  # PortAudio's pulse device reaches the server through these
    try:
        yield env
    finally:
        subprocess.run(["bash", str(AUDIO_SCRIPT), "stop"], env=env, check=False, timeout=60)


def suspend(env: dict[str, str], on: bool) -> None:
    subprocess.run(["pactl", "suspend-source", "vl_mic", "1" if on else "0"], env=env, check=True, timeout=10)


def first_chunk(tap: Tap) -> None:
    deadline = time.monotonic() + FIRST_S
    while tap.next(0.1) is None:
        assert time.monotonic() < deadline, "the microphone delivered nothing"


def test_a_microphone_that_goes_quiet_without_an_error_is_reported_lost_and_a_reopened_one_is_heard(
    private_mic: dict[str, str],
) -> None:
    mic = PyAudioSource(open_pyaudio(), "pulse", 30, 2.0)
    stop = threading.Event()
    bus = CaptureBus(mic, stop)
    tap = bus.tap("listen")
    bus.start()
    try:
        first_chunk(tap)
        suspend(private_mic, True)
        began = time.monotonic()
        with pytest.raises(AudioDeviceError, match="no audio"):  # the old bus waited here in silence, forever
            while time.monotonic() - began < STALL_S + 5:
                tap.next(0.1)
        assert mic._stream.is_active()  # nothing but the silence told it: PortAudio still calls the stream active
        closing = threading.Thread(target=mic.close, daemon=True)  # Listener._recover closes the lost one first
        closing.start()
        closing.join(5)
        assert not closing.is_alive(), "closing the stalled stream hangs (PortAudio's stop waits for its thread)"
        suspend(private_mic, False)
        bus.replace(PyAudioSource(open_pyaudio(), "pulse", 30, 2.0))  # what Listener._recover does
        first_chunk(tap)
    finally:
        stop.set()
        bus.halt()
        suspend(private_mic, False)  # a stream on a suspended source could not be closed by the old code
        bus.source.close()
