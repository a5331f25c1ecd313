"""Wiring echo cancellation into listen: the speaker reports what it plays, the microphone takes it out."""

from __future__ import annotations

from collections.abc import Callable

from voiceloop.audio.aec import EchoCancelledSource, FarEnd
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
