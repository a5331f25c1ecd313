"""The house rules a newcomer relies on: packages by stage, imports that run one way, small modules."""

from __future__ import annotations

import ast
from pathlib import Path

PKG = Path(__file__).resolve().parent.parent / "voiceloop"
MAX_LINES = 300
# who may import whom: a stage imports only the stages listed (and the shared top-level modules)
LAYERS = {
    "audio": set(),
    "stt": {"audio"},
    "voice": {"audio", "llm"},  # the sentence budget reuses the LLM stream's repetition watcher
    "llm": set(),
    "agent": {"audio", "stt", "voice", "llm"},
    "listen": {"audio", "stt", "voice", "llm", "agent"},
    "devtools": {"audio", "stt", "voice", "llm", "agent", "listen"},
}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("voiceloop"):
            out.add(node.module)
            out.update(f"{node.module}.{a.name}" for a in node.names)
        elif isinstance(node, ast.Import):
            out.update(a.name for a in node.names if a.name.startswith("voiceloop"))
    return out


def test_at_least_five_packages_by_stage() -> None:
    stages = [p.name for p in PKG.iterdir() if (p / "__init__.py").is_file()]
    assert set(LAYERS) <= set(stages), stages


def test_imports_run_one_way_and_the_product_never_imports_devtools() -> None:
    wrong = []
    for stage, allowed in LAYERS.items():
        for path in (PKG / stage).rglob("*.py"):
            for name in _imports(path):
                parts = name.split(".")
                if len(parts) > 1 and parts[1] in LAYERS and parts[1] != stage and parts[1] not in allowed:
                    wrong.append(f"{path.relative_to(PKG)} imports {name}")
    assert wrong == []


def test_no_module_is_over_300_lines() -> None:
    long = {str(p.relative_to(PKG)): n for p in PKG.rglob("*.py") if (n := len(p.read_text().splitlines())) > MAX_LINES}
    assert long == {}


def test_every_product_thread_is_started_through_the_runtime() -> None:
    """One place owns the threads: outside runtime.py (and the developer tools) nothing starts its own."""
    starters = []
    for path in PKG.rglob("*.py"):
        rel = path.relative_to(PKG)
        if rel.parts[0] == "devtools" or rel.name == "runtime.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "Thread":
                starters.append(f"{rel}:{node.lineno}")
    assert starters == []


MIC_OWNERS = {"audio/mic.py", "audio/aec.py", "audio/bus.py"}
"""The sources themselves (and the echo canceller's read of the source it wraps), and the capture bus."""


def test_the_microphone_is_read_in_exactly_one_place() -> None:
    """Every consumer reads a tap of the capture bus: a `.read(` on a source or microphone anywhere else (outside
    the developer tools) is a second reader splitting the audio with the first. In listen/, every read is of a tap
    (or the keyboard's file descriptor)."""
    readers, bus_reads = [], []
    for path in PKG.rglob("*.py"):
        rel = path.relative_to(PKG)
        if rel.parts[0] == "devtools":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "read"):
                continue
            who = ast.unparse(node.func.value)
            if str(rel) == "audio/bus.py" and "source" in who:
                bus_reads.append(f"{rel}:{node.lineno}")
                continue
            audio = str(rel) not in MIC_OWNERS and any(w in who.lower() for w in ("source", "mic", "inner", "stream"))
            untapped = rel.parts[0] == "listen" and "tap" not in who and who != "os"
            if audio or untapped:
                readers.append(f"{rel}:{node.lineno} {who}.read")
    assert readers == []
    assert len(bus_reads) == 1, bus_reads
