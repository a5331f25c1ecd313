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
from voiceloop.audio.bus import AudioChunk
from voiceloop.audio.formats import SAMPLE_RATE, ms_to_samples, rms_dbfs
from voiceloop.audio.frames import FrameChunker
from voiceloop.audio.vad import IsSpeech, WebRtcVad
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
    """Judges, chunk by chunk, whether the person talks over the reply: a handler with no thread of its own. The
    listen loop feeds it every chunk of the microphone while the reply plays (feed), one watcher per reply; once it
    has triggered, caught() is what they said so far, and the loop hears the rest itself."""

    def __init__(
        self,
        player: Player,
        is_speech: IsSpeech,
        margin_db: float,
        on_trigger: Callable[[], None] = lambda: None,
    ) -> None:
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
        self._captured: list[np.ndarray] = []
        self._pre: collections.deque[tuple[np.ndarray, np.ndarray]] = collections.deque(maxlen=PRE_ROLL_FRAMES)
        self._gains: list[float] = []
        self._loud_run = self._audible = 0
        self._frames, self._plains = FrameChunker(self.frame), FrameChunker(self.frame)

    def caught(self) -> np.ndarray | None:
        """The person's speech over the reply so far (pre-roll included) once they talked over it, else None."""
        if not self.triggered.is_set():
            return None
        return np.concatenate(self._captured) if self._captured else np.zeros(0, np.int16)

    def feed(self, chunk: AudioChunk) -> bool:
        """Judge one chunk of the microphone; True once the person has talked over the reply (on_trigger has been
        called then: the reply stops). Chunks fed after that are kept as theirs, plain."""
        if self.triggered.is_set():
            self._captured.append(_plain(chunk))
            return True
        batch = self._frames.push(chunk.samples)
        plain_batch = self._plains.push(_plain(chunk))
        for i, frame in enumerate(batch):
            self._pre.append((frame, plain_batch[i]))
            echo = self.player.recent_level(ECHO_WINDOW_S)
            if echo is None:  # not speaking (yet / any more): nothing to talk over
                self._loud_run = self._audible = 0
                continue
            if self._audible or echo > AUDIBLE_DBFS:
                self._audible += 1
            if self._audible <= ONSET_FRAMES:  # the first moments of our voice, leaked
                continue
            mic = rms_dbfs(frame)
            gain = self.echo_gain_db = max(MIN_ECHO_GAIN_DB, _upper(self._gains))
            loud = self.is_speech(frame.tobytes()) and mic > echo + gain + self.margin_db
            self._loud_run = self._loud_run + 1 if loud else 0
            if not loud and len(self._gains) < LEARN_FRAMES and echo > AUDIBLE_DBFS:
                self._gains.append(mic - echo)  # not the person (their voice is what the bar is for): our echo
            if self._loud_run >= TRIGGER_FRAMES:
                self.triggered_at = time.monotonic()
                self.trigger_db = (mic, echo, gain)
                self._captured = [*self._from_onset(list(self._pre)), *plain_batch[i + 1 :], self._plains.pending]
                self.triggered.set()
                self.on_trigger()
                return True
        return False

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


def barge_in_on(assistant: Assistant) -> bool:
    """Whether replies can be talked over: vad.barge_in is on and we can speak."""
    return assistant.cfg.vad.barge_in and assistant.speaker.player is not None


def barge_in_for(assistant: Assistant) -> BargeIn | None:
    """A watcher for the person talking over one reply, when vad.barge_in is on and we can speak."""
    vad = assistant.cfg.vad
    player = assistant.speaker.player
    if not barge_in_on(assistant) or player is None:
        return None

    def stop_speaking() -> None:
        stream = assistant.speaking
        if stream is not None:
            stream.cancel()

    return BargeIn(player, WebRtcVad(vad.aggressiveness), vad.barge_in_margin_db, stop_speaking)
