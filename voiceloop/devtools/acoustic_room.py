"""A private sound server for measuring at the speaker: a virtual mic and speaker whose audio is also
recorded, both on one clock, so end of speech and first reply sample come from one recording.

Each Room is its own PulseAudio daemon in a fresh runtime folder (nothing shared with other programs):
  vl_micfeed (null sink; WAVs are played into it) -> vl_mic (the microphone `listen` reads)
  vl_speaker (null sink; `listen` plays its replies here)
  rec (stereo null sink): vl_micfeed.monitor -> left, vl_speaker.monitor -> right, via two module-loopbacks
  with the same latency, so a difference between the channels is a difference in time at the devices.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

from voiceloop.audio.formats import SAMPLE_RATE
from voiceloop.errors import AudioDeviceError

START_TIMEOUT_S = 10.0
FIRST_AUDIO_TIMEOUT_S = 15.0  # a new capture stream on a null-sink monitor can take a while to deliver

_MODULES = (
    "module-native-protocol-unix",
    "module-null-sink sink_name=vl_speaker rate=16000 channels=1",
    "module-null-sink sink_name=vl_micfeed rate=16000 channels=1",
    "module-remap-source source_name=vl_mic master=vl_micfeed.monitor",
    "module-null-sink sink_name=rec rate=16000 channels=2 channel_map=front-left,front-right",
    "module-loopback source=vl_micfeed.monitor sink=rec channels=1 channel_map=front-left latency_msec=5",
    "module-loopback source=vl_speaker.monitor sink=rec channels=1 channel_map=front-right latency_msec=5",
)


class Room:
    """One private PulseAudio daemon with the devices above; close() stops it and removes its folder."""

    def __init__(self) -> None:
        for tool in ("pulseaudio", "pactl", "parec", "paplay"):
            if shutil.which(tool) is None:
                raise AudioDeviceError(f"{tool} is missing: apt-get install pulseaudio pulseaudio-utils")
        self.runtime = tempfile.mkdtemp(prefix="voiceloop-room-")
        os.chmod(self.runtime, 0o700)
        self.env = dict(os.environ, XDG_RUNTIME_DIR=self.runtime, PULSE_SINK="vl_speaker", PULSE_SOURCE="vl_mic")
        self.env.pop("PULSE_SERVER", None)
        args = ["pulseaudio", "-n", "--daemonize=yes", "--exit-idle-time=-1", "--disallow-exit"]
        args += [f"--load={m}" for m in _MODULES]
        subprocess.run(args, env=self.env, capture_output=True, timeout=START_TIMEOUT_S, check=False)
        deadline = time.monotonic() + START_TIMEOUT_S
        while not self._ready():
            if time.monotonic() > deadline:
                self.close()
                raise AudioDeviceError("the private PulseAudio server for the acoustic bench did not start")
            time.sleep(0.1)
        self._pactl("set-default-sink", "vl_speaker")
        self._pactl("set-default-source", "vl_mic")

    def _pactl(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["pactl", *args], env=self.env, capture_output=True, text=True, timeout=10, check=False)

    def _ready(self) -> bool:
        return "rec" in self._pactl("list", "short", "sinks").stdout.split()

    def play(self, wav: Path) -> subprocess.Popen[bytes]:
        """Speak a WAV into the microphone (returns at once; wait() on the result)."""
        return subprocess.Popen(["paplay", "-d", "vl_micfeed", str(wav)], env=self.env)

    def close(self) -> None:
        subprocess.run(["pulseaudio", "--kill"], env=self.env, capture_output=True, timeout=10, check=False)
        shutil.rmtree(self.runtime, ignore_errors=True)


class StereoRecorder:
    """Records rec.monitor (left: the mic feed, right: the speaker) and notes when each piece arrived,
    so a sample index can also be turned into a time.monotonic() value (for things seen on the screen)."""

    def __init__(self, room: Room) -> None:
        self.proc = subprocess.Popen(
            [
                "parec",
                "-d",
                "rec.monitor",
                "--raw",
                "--format=s16le",
                "--rate=16000",
                "--channels=2",
                "--latency-msec=10",
            ],
            stdout=subprocess.PIPE,
            env=room.env,
        )
        self._lock = threading.Lock()
        self._data = bytearray()
        self._offset = float("inf")
        """min over pieces of (arrival time - stream time of the piece's end): the stream's time 0."""
        self._reader = threading.Thread(target=self._read, name="voiceloop-recorder", daemon=True)
        self._reader.start()
        deadline = time.monotonic() + FIRST_AUDIO_TIMEOUT_S
        while self.frames() < SAMPLE_RATE // 10:
            if time.monotonic() > deadline:
                self.close()
                raise AudioDeviceError("parec recorded nothing from the private sound server")
            time.sleep(0.02)

    def _read(self) -> None:
        assert self.proc.stdout is not None
        while piece := self.proc.stdout.read1(4096):  # type: ignore[attr-defined]
            now = time.monotonic()
            with self._lock:
                self._data += piece
                end_s = len(self._data) // 4 / SAMPLE_RATE
                self._offset = min(self._offset, now - end_s)

    def frames(self) -> int:
        with self._lock:
            return len(self._data) // 4

    def clip(self, a: int, b: int | None = None) -> np.ndarray:
        """Frames a..b as an (n, 2) int16 array: column 0 the mic feed, column 1 the speaker."""
        with self._lock:
            end = len(self._data) // 4 if b is None else b
            raw = bytes(self._data[a * 4 : end * 4])
        return np.frombuffer(raw, dtype="<i2").reshape(-1, 2)

    def time_of(self, frame: int) -> float:
        """time.monotonic() at which `frame` was at the devices (to a few ms)."""
        with self._lock:
            return self._offset + frame / SAMPLE_RATE

    def close(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self._reader.join(timeout=5)


def last_loud(x: np.ndarray, threshold: int) -> int | None:
    """Index of the last sample whose magnitude reaches threshold, or None."""
    hits = np.flatnonzero(np.abs(x.astype(np.int32)) >= threshold)
    return int(hits[-1]) if len(hits) else None


def first_loud(x: np.ndarray, threshold: int) -> int | None:
    hits = np.flatnonzero(np.abs(x.astype(np.int32)) >= threshold)
    return int(hits[0]) if len(hits) else None
