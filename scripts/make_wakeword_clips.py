"""Generate the wake word test clips in tests/data/wakeword (16 kHz mono WAV, committed).

positive/: "Hey Jarvis", alone or with a command in the same breath. negative/: look-alike names
("Hey Travis", "Hey Charles", "Hey Harvey") and ordinary speech. Spoken by Piper's joe voice made into
several voices: faster and higher, slower and lower (resampled: pitch and formants move together, like
a smaller or larger speaker), and by espeak-ng's English voice for some negatives.

Usage: .venv/bin/python scripts/make_wakeword_clips.py
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np

from voiceloop.audio.formats import decode_wav, resample, to_int16, wav_bytes
from voiceloop.config import TtsConfig
from voiceloop.voice.engines import PiperSynth

OUT = Path(__file__).resolve().parent.parent / "tests" / "data" / "wakeword"
PAD = np.zeros(4800, np.int16)  # 0.3 s of room before and after
POSITIVE = [
    "Hey Jarvis, what is the capital of France?",
    "Hey Jarvis, create a file called notes dot txt.",
    "Hey Jarvis, tell me a joke about a cat.",
    "Hey Jarvis, what time is it?",
    "Hey Jarvis.",
    "Hey Jarvis, summarize notes dot txt.",
]
NEGATIVE = [
    "Hey Travis, what is the capital of France?",
    "Hey Charles, create a file called notes dot txt.",
    "Hey Marvin, tell me a joke about a cat.",
    "Hey Harvey, what time is it?",
    "Hey Mavis.",
    "Hey Carlos, can you help me?",
    "Hey Charlie, what time is it?",
    "The harvest is late this year.",
    "A jar of this, please.",
    "What is the capital of France?",
    "Hey service, summarize notes dot txt.",
    "Hey Jarrod, are you there?",
]
VOICES = {  # name: (Piper length_scale, semitones)
    "joe": (1.0, 0.0),
    "fast_high": (0.85, 2.0),
    "slow_low": (1.2, -2.0),
    "high": (0.95, 3.0),
}


def piper(voice: PiperSynth, text: str, length: float, semitones: float) -> np.ndarray:
    from piper import SynthesisConfig

    chunks = list(voice._voice.synthesize(text, SynthesisConfig(length_scale=length)))
    x = np.concatenate([c.audio_float_array for c in chunks]).astype(np.float64)
    # read at a rate 2**(s/12) faster than it was made: higher (or lower) and shorter (or longer)
    return to_int16(resample(x, int(chunks[0].sample_rate * 2 ** (semitones / 12))))


def espeak(text: str, voice: str) -> np.ndarray:
    import subprocess
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "say.wav"
        subprocess.run(["espeak-ng", "-v", voice, "-w", str(path), text], capture_output=True, check=True)
        return decode_wav(path.read_bytes(), "espeak")


def main() -> None:
    shutil.rmtree(OUT, ignore_errors=True)
    for kind in ("positive", "negative"):
        (OUT / kind).mkdir(parents=True)
    joe = PiperSynth(TtsConfig(engine="piper"))
    n = 0
    for kind, texts in (("positive", POSITIVE), ("negative", NEGATIVE)):
        for i, text in enumerate(texts):
            for name, (length, semis) in VOICES.items():
                if kind == "negative" and name in ("high", "fast_high"):
                    continue
                clip = np.concatenate([PAD, piper(joe, text, length, semis), PAD])
                (OUT / kind / f"{i:02d}_{name}.wav").write_bytes(wav_bytes(clip))
                n += 1
    for i, text in enumerate(NEGATIVE[:6]):
        for voice in ("en-us",):
            clip = np.concatenate([PAD, espeak(text, voice), PAD])
            (OUT / "negative" / f"{i:02d}_espeak_{voice.replace('+', '_')}.wav").write_bytes(wav_bytes(clip))
            n += 1
    (OUT / "README.md").write_text(
        "Wake word clips made by scripts/make_wakeword_clips.py (Piper joe in four variants, espeak-ng for\n"
        "some negatives). positive/: the wake word 'Hey Jarvis', alone or with a command. negative/: look-alike\n"
        "names and ordinary speech. 16 kHz mono, 0.3 s of silence around each.\n"
    )
    print(f"{n} clips in {OUT}")


if __name__ == "__main__":
    main()
