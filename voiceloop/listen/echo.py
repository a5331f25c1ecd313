"""Wiring echo cancellation into listen: the speaker reports what it plays, the microphone takes it out; how
much of the echo tail after a reply is left, and which chunks fall in it; and what the segmenter learns from the
chunks no turn starts in once our voice is over (Hush)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from voiceloop.audio.aec import EchoCancelledSource, FarEnd
from voiceloop.audio.bus import CLOCK_SLACK_S, AudioChunk
from voiceloop.audio.formats import SAMPLE_RATE, ms_to_samples
from voiceloop.audio.frames import FrameChunker
from voiceloop.audio.mic import AudioSource
from voiceloop.audio.vad import Segmenter
from voiceloop.voice.speech import Speaker


def with_echo_cancel(open_mic: Callable[[], AudioSource], speaker: Speaker) -> Callable[[], AudioSource]:
    """A microphone opener whose sources have voiceloop's own voice removed; `open_mic` unchanged when
    nothing is played (speech off, no speaker device)."""
    player = speaker.player
    if player is None:
        return open_mic
    far = FarEnd()
    player.far_end = far

    def open_cancelled() -> AudioSource:
        return EchoCancelledSource(open_mic(), far)

    return open_cancelled


def echo_tail_left(speaker: Speaker, tail_ms: int) -> int:
    """Samples of the echo tail still to wait out after a reply: the tail counts from the reply's last audible
    sound, where echo cancellation knows it, not from when the turn got round to waiting (the synth's trailing
    silence and printing the turn had already used most of it: a person who answered 0.6 s after our last word
    was cut, "began while I was not listening"). The whole tail where the last sound is not known."""
    tail = ms_to_samples(tail_ms)
    far = speaker.player.far_end if speaker.player is not None else None
    if far is None or far.audible_until <= 0:
        return tail
    left = far.audible_until + tail_ms / 1000 - time.monotonic()
    return max(0, min(tail, round(left * SAMPLE_RATE)))


def voice_over(speaker: Speaker, t0: float) -> bool:
    """Whether audio captured from monotonic time `t0` on comes after our last audible sound (False where that is
    not known: nothing played yet, no echo cancellation)."""
    far = speaker.player.far_end if speaker.player is not None else None
    return far is not None and 0 < far.audible_until <= t0


@dataclass
class Hush:
    """The chunks the listen loop hears where no turn may start (the reply's last moments, while the barge-in
    watcher judges them; the echo tail), told to the segmenter once our last audible sound is past: they fill its
    pre-roll and count the silence a resumed start needs (Segmenter.hush), never a start. So a question begun as
    the reply ended, after a moment's silence, is heard whole from its first word once the tail is over; before,
    the segmenter began counting that silence only then, the question was under way, and it was ignored as "speech
    that began while I was not listening" (traced under load: begun 139 and 338 ms after our last sound). Only an
    unbroken run of chunks since our voice ended counts: where it still plays, or a chunk was not heard, the
    segmenter starts again as resumed."""

    speaker: Speaker
    segmenter: Segmenter
    frames: FrameChunker
    """The listen loop's own segmenter and frame chunker."""
    last: int | None = None
    """The bus's seq of the last chunk told since our voice ended (None: the run is broken)."""

    def hear(self, chunk: AudioChunk, live: bool) -> None:
        """A chunk no turn starts in (live: from a microphone, whose capture times the speaker's clock matches)."""
        over = live and voice_over(self.speaker, chunk.t0)
        if not (over and self.follows(chunk)):
            self.segmenter.reset(resumed=True)
            self.frames.reset()
        self.last = chunk.seq if over else None
        for frame in self.frames.push(chunk.samples) if over else ():
            self.segmenter.hush(frame)

    def follows(self, chunk: AudioChunk) -> bool:
        """Whether the segmenter was told every chunk since our voice ended, up to the one before this."""
        return self.last is not None and chunk.seq == self.last + 1


@dataclass
class EchoTail:
    """The echo tail after a reply as the listen loop drops it, chunk by chunk and never waiting: on a live source
    everything captured before `until` (a backlog the loop is still working through is our echo too, not the
    tail's end); on a recording read at its own pace, the next `samples`."""

    samples: int
    until: float
    live: bool
    cut: bool
    """The last utterance was cut at vad.max_utterance_s: speech already under way after the tail is its next piece."""

    def deaf(self, chunk: AudioChunk) -> bool:
        """Whether this chunk is still inside the tail (dropped)."""
        if self.live:
            return chunk.t0 < self.until - CLOCK_SLACK_S
        if self.samples <= 0:
            return False
        self.samples -= len(chunk.samples)
        return True


def echo_tail(speaker: Speaker, tail_ms: int, live: bool, cut: bool) -> EchoTail:
    """The echo tail that starts now (see echo_tail_left)."""
    samples = echo_tail_left(speaker, tail_ms)
    return EchoTail(samples, time.monotonic() + samples / SAMPLE_RATE, live, cut)
