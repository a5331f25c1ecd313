"""What voiceloop is doing right now, as one Enum shared by the assistant (which moves through a turn)
and the live view (which shows it). The value is the word the person sees."""

from __future__ import annotations

from enum import Enum


class LoopState(Enum):
    """One state of the listen loop or of a turn."""

    LISTENING = "listening"
    HEARING = "hearing"
    TRANSCRIBING = "transcribing"
    THINKING = "thinking"
    CONFIRMING = "waiting for you"
    SPEAKING = "speaking"
    MIC_LOST = "microphone lost"
