"""Nothing leaves the machine: a whole `listen` session, with every optional model loaded (smart turn,
the wake word, Piper, echo cancellation), traced with strace. It may talk to llm.host and to the sound
server's socket, and to nothing else: no DNS lookup, no telemetry database."""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pexpect
import pytest

from voiceloop.listen.loop import AUDIO_IN

from .conftest import DATA, ROOT, Recorder, loud_seconds, write_config
from .test_listen_audio import looped_room

pytestmark = pytest.mark.slow

EVERYTHING_ON = """
[audio]
input_device = "pulse"
output_device = "pulse"
echo_cancel = true
[vad]
smart_turn = true
barge_in = false  # reaches nothing; under strace (far slower) it once took its own echo for a talk-over
[tts]
enabled = true
engine = "piper"
[listen]
mode = "wake_word"
wake_word = "hey_jarvis"
"""
# files that show each optional model really was loaded in the traced session
MODELS = {
    "smart turn": "smart-turn-v3.2-cpu.onnx",
    "Piper": "en_US-joe-medium.onnx",
    "wake word": "hey_jarvis",
    "echo cancellation": "pywebrtc_audio",
}
# how a name lookup shows in a trace: glibc's resolver files, its DNS port, the name service cache daemon
LOOKUP_FILES = ("/etc/resolv.conf", "/etc/hosts", "/etc/gai.conf", "nscd/socket")
TELEMETRY = ("onnxruntime.db", "Microsoft/DeveloperTools")
JACK = "/dev/shm/jack"  # PortAudio's JACK host API looks for a local JACK server: same machine, no network


@pytest.fixture(scope="module")
def room() -> Iterator[dict[str, str]]:
    with looped_room("vl-privacy-") as env:
        yield env


def traced_listen(tmp_path: Path, env: dict[str, str], trace: Path) -> pexpect.spawn:
    """`voiceloop listen` under strace (network calls and file opens of every thread and child)."""
    strace = shutil.which("strace")
    if strace is None:
        pytest.fail("strace is not installed: `make system-deps` installs it")
    args = ["-f", "--seccomp-bpf", "-qq", "-e", "trace=network,openat", "-o", str(trace)]
    child = pexpect.spawn(
        strace, [*args, sys.executable, "-m", "voiceloop", "listen"], cwd=str(tmp_path), env=env, encoding="utf-8"
    )
    child.logfile_read = io.StringIO()
    child.timeout = 180
    return child


def strangers(trace: str, llm: tuple[str, int], pulse_socket: str) -> list[str]:
    """Trace lines that reach anything but llm.host and the sound server, look a name up, or open telemetry."""
    return [line for line in trace.splitlines() if _stranger(line, llm, pulse_socket)]


def _stranger(line: str, llm: tuple[str, int], pulse_socket: str) -> bool:
    if "openat(" in line:
        return any(name in line for name in LOOKUP_FILES + TELEMETRY)
    if not re.search(r"\b(connect|sendto|sendmsg|sendmmsg)\(", line):
        return False
    inet = re.search(r'sin6?_port=htons\((\d+)\).*?(?:inet_addr|inet_pton\(AF_INET6?,)\s*\(?"([^"]+)"', line)
    if inet:
        return (inet.group(2), int(inet.group(1))) != llm
    unix = re.search(r'sun_path="([^"]+)"', line)
    if unix:
        return unix.group(1) != pulse_socket and not unix.group(1).startswith(JACK)
    return "AF_NETLINK" in line  # getaddrinfo's interface probe


@pytest.mark.llm
@pytest.mark.audio
def test_a_listen_session_reaches_only_the_llm_and_the_sound_server(
    tmp_path: Path, room: dict[str, str], ollama_url: str
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    # a fresh home shows whether anything drops files there; the switch must not come from the caller
    env = {k: v for k, v in room.items() if k != "ORT_DISABLE_TELEMETRY"}
    env.update(HOME=str(home), XDG_CACHE_HOME=str(home / ".cache"), VOICELOOP_CACHE=str(ROOT / ".cache"))
    write_config(tmp_path / "config.toml", ollama_url, EVERYTHING_ON)
    trace = tmp_path / "strace.txt"
    child = traced_listen(tmp_path, env, trace)
    child.expect(AUDIO_IN)  # a fresh capture stream on a null-sink monitor can take seconds to deliver
    rec = Recorder(env=env)
    subprocess.run(["paplay", "-d", "vl_micfeed", str(DATA / "wakeword" / "positive" / "00_joe.wav")], env=env)
    child.expect("thinking")  # "Hey Jarvis, what is the capital of France?" is a turn
    child.expect("Reply:", timeout=120)  # printed once the reply has been spoken
    child.expect("listening", timeout=30)
    heard = rec.stop()
    child.sendintr()  # Ctrl-C from the terminal: strace keeps tracing until listen has exited
    child.expect(pexpect.EOF, timeout=30)
    child.close()
    log = child.logfile_read.getvalue()
    assert "Traceback" not in log and "say “Hey Jarvis”" in log, log[-3000:]
    assert re.search(r"You said:[^\n]*capital", log), log[-3000:]
    assert loud_seconds(heard) > 0.5, log[-3000:]  # Piper really spoke the reply

    text = trace.read_text(encoding="utf-8", errors="replace")
    loaded = {what for what, name in MODELS.items() if name in text}
    assert loaded == set(MODELS), f"not loaded in the traced session: {set(MODELS) - loaded}"
    url = urlsplit(ollama_url)
    llm = (url.hostname or "", url.port or 11434)
    assert re.search(rf'connect\(.*htons\({llm[1]}\).*"{re.escape(llm[0])}"', text), "never reached llm.host"
    pulse = os.path.join(env["XDG_RUNTIME_DIR"], "pulse", "native")
    assert strangers(text, llm, pulse) == []
    assert not (home / ".cache" / "Microsoft").exists()


def test_onnxruntime_keeps_no_telemetry_database_once_voiceloop_is_imported(tmp_path: Path) -> None:
    """The switch itself, quickly: smart turn and Piper load onnxruntime sessions; nothing lands in ~/.cache."""
    env = {k: v for k, v in os.environ.items() if k != "ORT_DISABLE_TELEMETRY"}
    env.update(HOME=str(tmp_path), XDG_CACHE_HOME=str(tmp_path / ".cache"))
    code = (
        "from voiceloop.audio.smart_turn import SmartTurn; from voiceloop.config import TtsConfig; "
        "from voiceloop.voice.engines import PiperSynth; SmartTurn(); PiperSynth(TtsConfig(engine='piper'))"
    )
    subprocess.run([sys.executable, "-c", code], env=env, check=True, timeout=120)
    assert list(tmp_path.rglob("*")) == []


def test_the_trace_check_catches_lookups_and_strangers() -> None:
    """The checker above, on lines shaped as strace prints them: what it must catch and what it must let pass."""
    llm, pulse = ("127.0.0.1", 11434), "/tmp/vl/pulse/native"
    bad = [
        '9 connect(5, {sa_family=AF_INET, sin_port=htons(53), sin_addr=inet_addr("10.0.0.2")}, 16) = 0',
        '9 sendto(5, "\\x12", 40, MSG_NOSIGNAL, {sa_family=AF_INET, sin_port=htons(53), '
        'sin_addr=inet_addr("10.0.0.2")}, 16) = 40',
        "9 connect(5, {sa_family=AF_INET6, sin6_port=htons(443), sin6_flowinfo=htonl(0), "
        'inet_pton(AF_INET6, "2603:1030::1", &sin6_addr), sin6_scope_id=0}, 28) = -1 ENETUNREACH',
        '9 connect(6, {sa_family=AF_UNIX, sun_path="/var/run/nscd/socket"}, 110) = -1 ENOENT',
        '9 openat(AT_FDCWD, "/etc/resolv.conf", O_RDONLY|O_CLOEXEC) = 7',
        '9 openat(AT_FDCWD, "/h/.cache/Microsoft/DeveloperTools/.onnxruntime/onnxruntime.db", O_RDWR|O_CREAT) = 4',
        '9 connect(3, {sa_family=AF_INET, sin_port=htons(11435), sin_addr=inet_addr("127.0.0.1")}, 16) = 0',
    ]
    good = [
        '9 connect(3, {sa_family=AF_INET, sin_port=htons(11434), sin_addr=inet_addr("127.0.0.1")}, 16) = 0',
        '9 connect(11, {sa_family=AF_UNIX, sun_path="/tmp/vl/pulse/native"}, 110) = 0',
        '9 connect(10, {sa_family=AF_UNIX, sun_path="/dev/shm/jack_default_0_0"}, 110) = -1 ENOENT',
        '9 sendto(3, "GET /api/version HTTP/1.1\\r\\n", 157, 0, NULL, 0) = 157',
        '9 openat(AT_FDCWD, "/work/.venv/lib/onnxruntime/capi/libonnxruntime.so", O_RDONLY) = 3',
    ]
    assert strangers("\n".join(bad + good), llm, pulse) == bad
