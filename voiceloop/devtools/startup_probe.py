"""Run by `voiceloop bench` in a fresh interpreter: how long start-up takes, to the first listening moment
and until the warm-ups behind it are done. Prints two JSON lines (in_process_s, then warm_s).

Usage: python -m voiceloop.devtools.startup_probe '{"config": "", "model": null}'
"""

from __future__ import annotations

import time

T0 = time.perf_counter()  # before the heavy imports below: they are part of start-up

import io  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

from rich.console import Console  # noqa: E402

from voiceloop import cli  # noqa: E402
from voiceloop.audio.vad import build_segmenter  # noqa: E402
from voiceloop.runtime import RUNTIME  # noqa: E402

WARM_WAIT_S = 60.0


def main(argv: list[str]) -> int:
    args = json.loads(argv[0])
    cfg = cli.session_config(Path(args["config"]) if args["config"] else None, args["model"])
    runtime = RUNTIME  # the process's one owner of worker threads and its stop token
    assistant = cli.build_assistant(cfg, Console(file=io.StringIO()), runtime)
    build_segmenter(cfg.vad)
    sys.stdout.write(json.dumps({"in_process_s": time.perf_counter() - T0}) + "\n")
    sys.stdout.flush()
    wait_warm = getattr(assistant.transcriber, "wait_warm", None)  # only the tiered transcriber warms up
    if wait_warm is not None:
        wait_warm(WARM_WAIT_S)
    deadline = time.monotonic() + WARM_WAIT_S
    while runtime.alive() and time.monotonic() < deadline:
        time.sleep(0.05)
    sys.stdout.write(json.dumps({"warm_s": time.perf_counter() - T0}) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
