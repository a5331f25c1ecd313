"""Native engines that can kill the process on an instruction set: each is tried once in a child process first.

moonshine-cpp's libmoonshine.so is compiled for AVX-512 (EVEX-encoded broadcasts, vpermt2q, vmovdqu8) with no
fallback, so on a CPU without it the first model load dies of SIGILL: no exception, no message, just
"Illegal instruction" and exit 132 for `listen`, `once`, `bench` and the test run alike. The child loads the
model and transcribes a short clip; if it dies by a signal, this process never loads the library and gets a
one-line verdict instead. The verdict is kept in the cache, keyed by the package's version and the CPU's
flags, so the child runs once per machine and version.
"""

from __future__ import annotations

import hashlib
import json
import os
import shlex
import signal
import subprocess
import sys
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from voiceloop.atomic import write_bytes
from voiceloop.paths import cache_dir

PREFIX_ENV = "VOICELOOP_PROBE_PREFIX"
"""A command the child's interpreter runs under, e.g. `qemu-x86_64 -cpu Haswell` (a CPU without AVX-512, emulated)."""
TIMEOUT_S = 300.0  # a real CPU needs seconds; an emulated one a minute or two
PACKAGES = {"moonshine": "moonshine-cpp"}
"""The engines checked, and the package whose version keys the verdict."""
NEEDS = {"moonshine": ("AVX512F", "AVX512BW", "AVX512VL")}
"""What each engine's library executes unconditionally (moonshine: EVEX broadcasts, vpermt2q, vmovdqu8)."""
LACKS_TAG = "lacks:"  # the child's first line: the engine's instruction sets its CPU does not have
DONE_TAG = "loaded and transcribed"  # the child's last line


@dataclass(frozen=True)
class Verdict:
    """Whether a native engine can be loaded in this process."""

    ok: bool
    """False only when the child died by a signal (or did not finish): loading here would do the same."""
    message: str = ""
    """The one line a user sees when it cannot be loaded."""


def cpu_flags() -> frozenset[str]:
    """The kernel's flags for this CPU (/proc/cpuinfo), lower case; empty where there is no such file."""
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as f:
            for row in f:
                if row.startswith("flags"):
                    return frozenset(row.partition(":")[2].split())
    except OSError:
        pass
    return frozenset()


def missing_instructions(engine: str) -> list[str]:
    """The instruction sets `engine` needs that the CPU running this process lacks, as the CPU itself says.

    numpy asks the CPU (CPUID), so this is right under an emulator too, where /proc/cpuinfo still shows the
    host's flags; /proc/cpuinfo is the fallback when numpy's table is not there.
    """
    needed = NEEDS.get(engine, ())
    try:
        from numpy._core._multiarray_umath import __cpu_features__ as features
    except ImportError:
        flags = cpu_flags()
        return [n for n in needed if n.lower() not in flags]
    return [n for n in needed if not features.get(n, False)]


def _cache_file(engine: str) -> Path:
    try:
        version = metadata.version(PACKAGES[engine])
    except metadata.PackageNotFoundError:  # importable without its metadata (a copied folder): checked per machine
        version = "unknown"
    # the prefix is part of the machine: an emulated CPU must not read the host's verdict
    machine = " ".join(sorted(cpu_flags())) + "|" + os.environ.get(PREFIX_ENV, "")
    key = hashlib.sha256(machine.encode()).hexdigest()[:16]
    return cache_dir() / "native-checks" / f"{engine}-{version}-{key}.json"


def check(engine: str) -> Verdict:
    """The verdict for `engine` on this machine: from the cache, else from a child process (then cached)."""
    path = _cache_file(engine)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return Verdict(bool(data["ok"]), str(data["message"]))
    except (OSError, ValueError, KeyError, TypeError):
        pass  # not checked yet on this machine and version (or an unreadable file): check again
    verdict, keep = probe(engine)
    if keep:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_bytes(path, json.dumps({"ok": verdict.ok, "message": verdict.message}).encode())
    return verdict


def probe(engine: str) -> tuple[Verdict, bool]:
    """Run the child once: (verdict, whether it is worth keeping). A timeout or an ordinary error is not kept."""
    prefix = shlex.split(os.environ.get(PREFIX_ENV, ""))
    command = [*prefix, sys.executable, "-m", __name__, engine]
    try:
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=TIMEOUT_S, stdin=subprocess.DEVNULL, check=False
        )
    except subprocess.TimeoutExpired:
        return Verdict(False, f"{engine}: its load check did not finish in {TIMEOUT_S:.0f} s; try again"), False
    except OSError as e:  # the prefix's command is missing
        return Verdict(False, f"{engine}: cannot run its load check ({command[0]}: {e.strerror})"), False
    if done.returncode < 0:  # killed by a signal: what this process would have suffered
        return Verdict(False, crash_message(engine, -done.returncode, done.stdout)), True
    if done.returncode == 0 and DONE_TAG in done.stdout:
        return Verdict(True), True
    # an ordinary error (a missing file, no memory): the load in this process raises it too, with its message
    return Verdict(True), False


def crash_message(engine: str, signum: int, child_stdout: str) -> str:
    """The one line for a child that died by signal `signum`, from what it said about its CPU first."""
    lacks = next((ln[len(LACKS_TAG) :].split() for ln in child_stdout.splitlines() if ln.startswith(LACKS_TAG)), [])
    if signum == signal.SIGILL and lacks:
        return f"{engine}: needs AVX-512; this CPU lacks it"
    try:
        name = signal.Signals(signum).name
    except ValueError:
        name = "unknown"
    return f"{engine} crashed loading (signal {signum}, {name})"


def _child(engine: str) -> None:
    """In the child: say what the CPU lacks, then do what would kill the parent."""
    import resource

    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # a death here is expected: no core file (an emulator writes one)
    print(LACKS_TAG, " ".join(missing_instructions(engine)), flush=True)
    if engine == "moonshine":
        from voiceloop.stt.moonshine import try_packaged_model

        try_packaged_model()
    else:
        raise SystemExit(f"no native check for {engine!r}")
    print(DONE_TAG, flush=True)


if __name__ == "__main__":
    _child(sys.argv[1])
