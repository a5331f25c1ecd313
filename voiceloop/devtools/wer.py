"""Word error rate of the configured Whisper on spoken commands (the eval set's WAVs) and on general speech
(tests/data/speech), with the command vocabulary bias on and off.

    python -m voiceloop.devtools.wer [--model tiny.en]

File names count as their words ("notes dot txt" and "notes.txt" are both "notes txt"), so a name heard
in either spelling is right and one heard as "go to dot dxt" is wrong.
"""

from __future__ import annotations

import argparse
import dataclasses
import tomllib
from pathlib import Path

from rich.console import Console

from voiceloop.agent.intents import spoken_names
from voiceloop.agent.understand.words import words
from voiceloop.audio.formats import read_wav
from voiceloop.config import SttConfig
from voiceloop.stt.engines import build_engine

ROOT = Path(__file__).resolve().parents[2]
SETS = {"spoken commands": ROOT / "tests" / "data" / "eval", "general speech": ROOT / "tests" / "data" / "speech"}


def tokens(text: str) -> list[str]:
    """Words, with spoken file names written as names (no other correction: this measures Whisper)."""
    return words(spoken_names(text))


def errors(reference: str, heard: str) -> tuple[int, int]:
    """(word edits, reference words): Levenshtein distance over words."""
    ref, hyp = tokens(reference), tokens(heard)
    row = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        prev, row[0] = row[0], i
        for j, h in enumerate(hyp, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (r != h))
    return row[len(hyp)], len(ref)


def recordings(folder: Path) -> list[tuple[Path, str]]:
    """(wav, what it says) for every case of folder/manifest.toml that has both."""
    cases = tomllib.loads((folder / "manifest.toml").read_text(encoding="utf-8"))["case"]
    return [(folder / c["wav"], c["said"]) for c in cases if "wav" in c and "said" in c]


def measure(cfg: SttConfig, console: Console) -> dict[str, float]:
    """WER per set for one configuration; the worst cases are printed."""
    engine = build_engine(cfg)
    out = {}
    for name, folder in SETS.items():
        edits = total = 0
        worst = []
        for wav, said in recordings(folder):
            heard = engine.transcribe(read_wav(wav)).text
            e, n = errors(said, heard)
            edits, total = edits + e, total + n
            if e:
                worst.append((e, said, heard))
        out[name] = edits / max(total, 1)
        for e, said, heard in sorted(worst, reverse=True)[:4]:
            console.print(f"  [dim]{e} wrong: {said!r} heard {heard!r}[/dim]", highlight=False)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="tiny.en")
    args = parser.parse_args()
    console = Console()
    for bias in (False, True):
        cfg = dataclasses.replace(SttConfig(), model=args.model, vocabulary_bias=bias)
        console.print(f"[bold]{args.model}, vocabulary bias {'on' if bias else 'off'}[/bold]")
        for name, wer in measure(cfg, console).items():
            console.print(f"{name}: WER {wer:.1%}", highlight=False)


if __name__ == "__main__":
    main()
