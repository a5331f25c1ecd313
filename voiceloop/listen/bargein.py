"""Barge-in: while voiceloop speaks, keep listening; when the person starts talking over the reply,
stop speaking and hand what they said to the next turn.

The microphone also hears our own voice (echo), less so with echo cancellation (audio/aec.py) on the
microphone path. We know what we play and how loud, so we learn how loud our echo arrives and take
speech as the person's only when webrtcvad calls it speech and it is `margin_db` louder than that echo for
a few frames in a row. The echo gain is learned over the first second of each reply (the level, relative to
what we played, that our echo stays under in three frames of four, and never below MIN_ECHO_GAIN_DB), and a
reply can be talked over from its first moments: its first 180 ms are left out (AEC3 lets a reply's onset
through, our voice 20 dB over where it settles), and from then on each frame is judged against the gain
learned so far, and learned from only when it does not count towards stopping the reply. Before, the gain was
the loudest frame of the first second and nothing could stop the reply meanwhile, so a person who spoke in it
(a question said right after the one being answered) was learned as echo: the bar rose to their own level,
the reply played on, and their words were lost.

What reaches the next turn is the person's words from their first sound on. Two things used to lose them:
the trigger can come well over a second after they began (AEC3 turns a voice down while the echo is as
loud), so the pre-roll is long; and AEC3's suppressor mangles the words said over the reply ("Create a file
called notes" heard as "I'll call notes"), so from where their voice began we hand on the bus's `plain`
audio, which has only a linear echo estimate taken out.
"""

from __future__ import annotations

import collections
import threading
import time
from collections.abc import Callable

import numpy as np

from voiceloop.agent.assistant import Assistant
from voiceloop.audio.bus import AudioChunk, Tap
from voiceloop.audio.formats import SAMPLE_RATE, ms_to_samples, rms_dbfs
from voiceloop.audio.frames import FrameChunker
from voiceloop.audio.vad import IsSpeech, WebRtcVad
from voiceloop.errors import AudioDeviceError
from voiceloop.runtime import spawn
from voiceloop.voice.speech import Player

FRAME_MS = 30
ECHO_WINDOW_S = 0.4  # what we played this recently may be arriving at the microphone now
ONSET_FRAMES = 6  # 180 ms from the first audible frame (again after a pause) are not judged: AEC3 lets them through
LEARN_FRAMES = 33  # about 1 s of audible playback after that teaches the echo gain of each reply
ECHO_QUANTILE = 0.75  # the echo gain: what our echo stays under in three frames of four learned from
TRIGGER_FRAMES = 3  # 90 ms of the person's voice ends our speech
PRE_ROLL_FRAMES = 67  # about 2 s kept from before the trigger, so their first word reaches the next turn
# (in the looped room the trigger came 0.3-1.7 s after they began: 1.2 s and more under the louder voice)
ONSET_GAP_FRAMES = 12  # walking back from the trigger, their speech goes on over gaps this short (360 ms)
ONSET_MARGIN_FRAMES = 7  # and the plain audio starts this far (210 ms) before the first voiced frame found
AUDIBLE_DBFS = -50.0  # quieter playback teaches nothing about the echo
MIN_ECHO_GAIN_DB = -25.0
"""Echo cancellation can leave our voice 40-60 dB down once it has learned the room, and then leak for a
moment (a glitch in playback timing); the echo is never assumed quieter than this relative to what we play."""


class BargeIn:
    """Runs on its own thread during a turn: start() when the turn starts, finish() when it ends. It reads its
    own tap of the capture bus, which the listen loop feeds only while the reply plays."""

    def __init__(
        self,
        tap: Tap,
        player: Player,
        is_speech: IsSpeech,
        margin_db: float,
        on_trigger: Callable[[], None] = lambda: None,
    ) -> None:
        self.tap = tap
        self.player = player
        self.is_speech = is_speech
        self.margin_db = margin_db
        self.on_trigger = on_trigger
        self.frame = ms_to_samples(FRAME_MS)
        self.triggered = threading.Event()
        self.echo_gain_db: float | None = None
        self.triggered_at: float | None = None
        """time.monotonic() when the person's voice stopped the reply."""
        self.trigger_db: tuple[float, float, float] | None = None
        """(microphone, played, echo gain) in dB at the frame that stopped the reply, for the record."""
        self.plain_s = 0.0
        """Seconds of the pre-roll handed on as plain audio (linear echo estimate only taken out), for the record."""
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._captured: list[np.ndarray] = []

    def start(self) -> None:
        self.triggered.clear()
        self._stop.clear()
        self._captured = []
        self._thread = spawn("voiceloop-barge-in", self._run)

    def finish(self) -> np.ndarray | None:
        """Stop watching; the person's speech (pre-roll included) if they barged in, else None. What the tap
        was handed before it was switched off and not read yet is theirs too."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2.0)
        rest = self.tap.take_all() if self._thread is None or not self._thread.is_alive() else []
        self.tap.close()
        if not self.triggered.is_set():
            return None
        self._captured += [_plain(chunk) for chunk in rest]
        return np.concatenate(self._captured) if self._captured else np.zeros(0, np.int16)

    def _run(self) -> None:
        pre: collections.deque[tuple[np.ndarray, np.ndarray]] = collections.deque(maxlen=PRE_ROLL_FRAMES)
        gains: list[float] = []
        loud_run = audible = 0
        frames, plains = FrameChunker(self.frame), FrameChunker(self.frame)
        while not self._stop.is_set():
            try:
                chunk = self.tap.next(0.1)
            except AudioDeviceError:
                return  # the main loop will notice and recover
            if chunk is None:
                continue
            if self.triggered.is_set():
                self._captured.append(_plain(chunk))
                continue
            batch = frames.push(chunk.samples)
            plain_batch = plains.push(_plain(chunk))
            for i, frame in enumerate(batch):
                pre.append((frame, plain_batch[i]))
                echo = self.player.recent_level(ECHO_WINDOW_S)
                if echo is None:  # not speaking (yet / any more): nothing to talk over
                    loud_run = audible = 0
                    continue
                if audible or echo > AUDIBLE_DBFS:
                    audible += 1
                if audible <= ONSET_FRAMES:  # the first moments of our voice, leaked
                    continue
                mic = rms_dbfs(frame)
                gain = self.echo_gain_db = max(MIN_ECHO_GAIN_DB, _upper(gains))
                loud = self.is_speech(frame.tobytes()) and mic > echo + gain + self.margin_db
                loud_run = loud_run + 1 if loud else 0
                if not loud and len(gains) < LEARN_FRAMES and echo > AUDIBLE_DBFS:
                    gains.append(mic - echo)  # not the person (their voice is what the bar is for): our echo
                if loud_run >= TRIGGER_FRAMES:
                    self.triggered_at = time.monotonic()
                    self.trigger_db = (mic, echo, gain)
                    self.triggered.set()
                    self.on_trigger()
                    self._captured = [*self._from_onset(list(pre)), *plain_batch[i + 1 :], plains.pending]
                    break

    def _from_onset(self, pre: list[tuple[np.ndarray, np.ndarray]]) -> list[np.ndarray]:
        """The pre-roll as the next turn gets it: echo-cancelled up to where the person's voice began, plain
        (their words at their own level) from there. The start is found walking back from the trigger over
        voiced frames, across the gaps AEC3's suppressor leaves in their speech."""
        start, gap = len(pre), 0
        for k in range(len(pre) - 1, -1, -1):
            if self.is_speech(pre[k][0].tobytes()):
                start, gap = k, 0
            else:
                gap += 1
                if gap > ONSET_GAP_FRAMES:
                    break
        start = max(0, start - ONSET_MARGIN_FRAMES)
        self.plain_s = sum(len(p) for f, p in pre[start:] if not np.array_equal(f, p)) / SAMPLE_RATE
        return [f for f, _ in pre[:start]] + [p for _, p in pre[start:]]


def _upper(gains: list[float]) -> float:
    """The echo gain our echo stays under in ECHO_QUANTILE of the frames learned from (-inf before any): not the
    loudest, so a person's first words, which AEC3 turns down to just under the bar, cannot raise it frame by frame
    to their own level (they did, from -20 to -3 dB in 0.8 s, and the reply played on)."""
    return float(np.quantile(gains, ECHO_QUANTILE)) if gains else float("-inf")


def _plain(chunk: AudioChunk) -> np.ndarray:
    """The chunk with only the linear echo estimate taken out, where echo cancellation made one."""
    return chunk.plain if chunk.plain is not None else chunk.samples


def barge_in_for(assistant: Assistant, tap: Callable[[], Tap]) -> BargeIn | None:
    """A watcher for the person talking over the reply, when vad.barge_in is on and we can speak; `tap` opens
    its tap of the capture bus."""
    vad = assistant.cfg.vad
    player = assistant.speaker.player
    if not vad.barge_in or player is None:
        return None

    def stop_speaking() -> None:
        stream = assistant.speaking
        if stream is not None:
            stream.cancel()

    return BargeIn(tap(), player, WebRtcVad(vad.aggressiveness), vad.barge_in_margin_db, stop_speaking)
