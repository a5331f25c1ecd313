"""Pick the voice from config: pyttsx3 (espeak-ng)."""

from __future__ import annotations

from voiceloop.config import TtsConfig
from voiceloop.errors import SpeechError
from voiceloop.speech import Pyttsx3Synth, Synth


def load_synth(cfg: TtsConfig) -> Synth:
    """The configured voice, loaded; SpeechError says what to install when it cannot be."""
    try:
        return Pyttsx3Synth(cfg)
    except (ImportError, RuntimeError, OSError) as e:
        raise SpeechError(str(e).splitlines()[0] if str(e) else f"pyttsx3 cannot start: {type(e).__name__}") from e
