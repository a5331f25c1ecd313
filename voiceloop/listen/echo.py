"""Wiring echo cancellation into listen: the speaker reports what it plays, the microphone takes it out; and
how much of the echo tail after a reply is left, and which chunks fall in it."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from voiceloop.audio.aec import EchoCancelledSource, FarEnd
from voiceloop.audio.bus import CLOCK_SLACK_S, AudioChunk
from voiceloop.audio.formats import SAMPLE_RATE, ms_to_samples
from voiceloop.audio.mic import AudioSource
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
