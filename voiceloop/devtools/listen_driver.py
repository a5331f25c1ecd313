"""A real `voiceloop listen` process on a pseudo-terminal, for the acoustic bench: it sees what a person
sees (the panel, the prompt) with the time each piece of output arrived, and answers the write prompt."""

from __future__ import annotations

import bisect
import contextlib
import dataclasses
import fcntl
import json
import os
import re
import signal
import struct
import subprocess
import sys
import termios
import threading
import time
from pathlib import Path
from typing import Any

from voiceloop.config import Config
from voiceloop.errors import AudioDeviceError
from voiceloop.listen.turn_clock import TRACE_ENV

PROMPT = "Write this file?"
READY_TIMEOUT_S = 180.0  # loading Whisper, the voice and the LLM connection on a busy machine
ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[()][0-9A-Za-z]|\r")


def to_toml(cfg: Config) -> str:
    """Every key of a Config as TOML, so a side of the bench runs exactly these settings."""

    def table(name: str, obj: Any) -> list[str]:
        lines = [f"[{name}]"]
        subs = []
        for f in dataclasses.fields(obj):
            value = getattr(obj, f.name)
            if dataclasses.is_dataclass(value):
                subs += table(f"{name}.{f.name}", value)
            elif isinstance(value, bool):
                lines.append(f"{f.name} = {'true' if value else 'false'}")
            elif isinstance(value, (int, float)):
                lines.append(f"{f.name} = {value!r}")
            else:
                lines.append(f"{f.name} = {json.dumps(str(value))}")
        return [*lines, "", *subs]

    out: list[str] = []
    for f in dataclasses.fields(cfg):
        out += table(f.name, getattr(cfg, f.name))
    return "\n".join(out) + "\n"


class ListenProcess:
    """`python -m voiceloop listen --config <file>` in `cwd`, with env (the room's sound server); each turn it
    takes is traced (VOICELOOP_TRACE) to cwd/trace.jsonl."""

    def __init__(self, cfg: Config, cwd: Path, env: dict[str, str]) -> None:
        import pty

        self.trace = cwd / "trace.jsonl"
        config = cwd / "config.toml"
        config.write_text(to_toml(cfg), encoding="utf-8")
        master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 50, 200, 0, 0))  # wide: no wrapped panel titles
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "voiceloop", "listen", "--config", str(config)],
            stdin=slave,
            stdout=slave,
            stderr=slave,
            cwd=str(cwd),
            env=dict(env, TERM="xterm-256color", COLUMNS="200", LINES="50", **{TRACE_ENV: str(self.trace)}),
            start_new_session=True,
        )
        os.close(slave)
        self._master = master
        self._lock = threading.Lock()
        self._text = ""
        self._starts: list[int] = []
        self._times: list[float] = []
        self._answered = 0
        self._reader = threading.Thread(target=self._read, name="voiceloop-listen-pty", daemon=True)
        self._reader.start()

    def _read(self) -> None:
        while True:
            try:
                raw = os.read(self._master, 65536)
            except OSError:
                return
            if not raw:
                return
            now = time.monotonic()
            with self._lock:
                self._starts.append(len(self._text))
                self._times.append(now)
                self._text += ANSI.sub("", raw.decode("utf-8", "replace"))
                prompts = self._text.count(PROMPT)
            if prompts > self._answered:  # the person's answer: no, so nothing is ever written
                self._answered = prompts
                with contextlib.suppress(OSError):
                    os.write(self._master, b"n\r")

    def mark(self) -> int:
        """A position in the output; find() looks only after it."""
        with self._lock:
            return len(self._text)

    def find(self, pattern: str, since: int) -> float | None:
        """time.monotonic() when output matching pattern (a regex) first arrived after `since`."""
        with self._lock:
            m = re.compile(pattern).search(self._text, since)
            if m is None:
                return None
            i = bisect.bisect_right(self._starts, m.end() - 1) - 1
            return self._times[max(i, 0)]

    def turns(self) -> list[dict[str, Any]]:
        """Every turn traced so far: when its speech ended (monotonic) and its timings from there."""
        if not self.trace.exists():
            return []
        lines = self.trace.read_text(encoding="utf-8").splitlines()
        return [json.loads(x) for x in lines if x.strip()]

    def text_since(self, since: int) -> str:
        with self._lock:
            return self._text[since:]

    def tail(self, n: int = 2000) -> str:
        with self._lock:
            return self._text[-n:]

    def wait_for(self, pattern: str, since: int, timeout_s: float) -> float | None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            at = self.find(pattern, since)
            if at is not None:
                return at
            if self.proc.poll() is not None:
                raise AudioDeviceError(f"voiceloop listen exited ({self.proc.returncode}): {self.tail(600)!r}")
            time.sleep(0.05)
        return None

    def wait_ready(self) -> None:
        if self.wait_for("listening", 0, READY_TIMEOUT_S) is None:
            self.close()
            raise AudioDeviceError(f"voiceloop listen did not start listening: {self.tail(600)!r}")

    def close(self) -> None:
        """Ctrl-C, as a person would; killed if it does not stop within 10 s."""
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        with contextlib.suppress(OSError):
            os.close(self._master)
        self._reader.join(timeout=2)
