"""Soak test for `voiceloop listen`: run it for N minutes on a private PulseAudio mic, say a command
every interval, answer the write prompts "n", and report RSS over time, turns and overflows.

Usage: .venv/bin/python scripts/soak_listen.py [--minutes 10] [--every 45]  (needs the LLM server up)
"""

from __future__ import annotations

import argparse
import io
import itertools
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pexpect

ROOT = Path(__file__).resolve().parent.parent
AUDIO = str(ROOT / "scripts" / "audio_devices.sh")
COMMANDS = ["question.wav", "create_notes.wav", "write_code.wav"]


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--minutes", type=float, default=10.0)
    ap.add_argument("--every", type=float, default=45.0, help="seconds between spoken commands")
    args = ap.parse_args()
    runtime = tempfile.mkdtemp(prefix="vl-soak-")
    work = Path(tempfile.mkdtemp(prefix="vl-soak-work-"))
    env = dict(os.environ, XDG_RUNTIME_DIR=runtime, PULSE_SOURCE="vl_mic", PULSE_SINK="vl_speaker", COLUMNS="160")
    subprocess.run(["bash", AUDIO, "start"], env=env, check=True, capture_output=True)
    (work / "config.toml").write_text(
        '[llm]\nhost = "http://127.0.0.1:11434"\nmodel = "qwen2.5-coder:0.5b"\nbackend = "ollama"\n'
        'read_timeout_s = 180.0\n[audio]\ninput_device = "pulse"\noutput_device = "pulse"\n'
    )
    t_start = time.monotonic()
    child = pexpect.spawn(sys.executable, ["-m", "voiceloop", "listen"], cwd=str(work), env=env, encoding="utf-8")
    child.logfile_read = log = io.StringIO()
    child.expect("listening", timeout=120)
    print(f"start-to-listening {time.monotonic() - t_start:.1f} s (includes Python start and model loading)")
    samples: list[tuple[float, float]] = []
    end = time.monotonic() + args.minutes * 60
    next_say = time.monotonic() + 5
    cmds = itertools.cycle(COMMANDS)
    try:
        while time.monotonic() < end:
            if time.monotonic() >= next_say:
                subprocess.Popen(["paplay", "-d", "vl_micfeed", str(ROOT / "tests" / "data" / next(cmds))], env=env)
                next_say = time.monotonic() + args.every
            i = child.expect([r"Write this file\? \[y/N\]", pexpect.TIMEOUT], timeout=5)
            if i == 0:
                child.sendline("n")
            samples.append((time.monotonic() - t_start, rss_mib(child.pid)))
        child.kill(signal.SIGINT)
        t_stop = time.monotonic()
        if child.expect([pexpect.EOF, pexpect.TIMEOUT], timeout=10) == 1:
            child.kill(signal.SIGUSR1)  # listen prints every thread's stack on SIGUSR1
            child.expect([pexpect.EOF, pexpect.TIMEOUT], timeout=3)
            print("HUNG after Ctrl-C; stacks:\n" + re.sub(r"\x1b\[[0-9;?]*[a-zA-Z]", "", log.getvalue())[-8000:])
        else:
            print(f"stopped {time.monotonic() - t_stop:.2f} s after Ctrl-C")
    finally:
        child.close(force=True)
        subprocess.run(["bash", AUDIO, "stop"], env=env, check=False)
    text = re.sub(r"\x1b\[[0-9;?]*[a-zA-Z]", "", log.getvalue())
    overflows = [int(m) for m in re.findall(r"overflows (\d+)", text)]
    turns = re.findall(r"stopped after (\d+) turns", text)
    for t, mib in samples[:: max(1, len(samples) // 12)] + samples[-1:]:
        print(f"  t={t:6.0f} s  RSS {mib:7.1f} MiB")
    first = [m for t, m in samples if t > 60][:1] or [samples[0][1]]
    print(f"RSS after first minute {first[0]:.1f} MiB, at end {samples[-1][1]:.1f} MiB")
    print(f"turns {turns[-1] if turns else '?'}, overflows {max(overflows) if overflows else 0}")
    print(f"errors shown: {text.count('error:')}, tracebacks: {text.count('Traceback')}")


if __name__ == "__main__":
    main()
