"""The house rules a newcomer relies on: packages by stage, imports that run one way, small modules."""

from __future__ import annotations

import ast
import re
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


def _runtime_imports(path: Path, modules: set[str]) -> set[str]:
    """The voiceloop modules `path` imports when it runs, inside functions too (a lazy import is still an edge);
    imports under `if TYPE_CHECKING:` are only for the type checker and are left out."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    typing_only = {
        id(inner)
        for node in ast.walk(tree)
        if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING"
        for inner in ast.walk(node)
    }
    out: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in typing_only:
            continue
        if isinstance(node, ast.ImportFrom) and node.module:
            out.update(n for n in (node.module, *(f"{node.module}.{a.name}" for a in node.names)) if n in modules)
        elif isinstance(node, ast.Import):
            out.update(a.name for a in node.names if a.name in modules)
    return out


def test_the_agent_has_no_import_cycle() -> None:
    """tools carries out the file commands and the file commands build tools' results: one of them importing
    the other lazily hid a cycle, which breaks as soon as someone moves the import to the top."""
    files = (PKG / "agent").rglob("*.py")
    paths = {".".join(p.relative_to(PKG.parent).with_suffix("").parts).removesuffix(".__init__"): p for p in files}
    graph = {m: _runtime_imports(p, set(paths)) - {m} for m, p in paths.items()}
    cycles = []
    for start in graph:
        path, stack, seen = [start], [iter(sorted(graph[start]))], {start}
        while stack:
            nxt = next(stack[-1], None)
            if nxt is None:
                stack.pop()
                path.pop()
            elif nxt == start:
                cycles.append(" -> ".join([*path, start]))
                break
            elif nxt not in seen:
                seen.add(nxt)
                path.append(nxt)
                stack.append(iter(sorted(graph[nxt])))
    assert cycles == []


REGEX_CALLS = re.compile(r"re\.(compile|match|search|sub|fullmatch|findall|finditer|split)")
MAX_AGENT_REGEX_LINES = 2
"""Request shapes live in agent/understand/shapes.yaml and word lists in voiceloop/vocabulary.yaml (issue 28).
Lines calling the re module under agent/: 82 before, 16 last round, this many now (the goal was 5): the one
compile of the shape templates (understand/shapes.py) and the file-name pattern they share (understand/words.py).
Spoken names, spelled letters, mishearings and the splitter's joints are word lists walked word by word."""


def test_request_shapes_are_data_not_new_regular_expressions() -> None:
    found = [
        f"{path.relative_to(PKG)}:{n}"
        for path in (PKG / "agent").rglob("*.py")
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if REGEX_CALLS.search(line)
    ]
    assert len(found) <= MAX_AGENT_REGEX_LINES, found
