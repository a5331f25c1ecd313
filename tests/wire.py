"""A wire-level fake Ollama (test-only) for failures a real model will not produce on demand."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

Script = Callable[[BaseHTTPRequestHandler], None]


def reply(status: int, body: bytes, content_type: str = "application/json") -> Script:
    def run(h: BaseHTTPRequestHandler) -> None:
        h.send_response(status)
        h.send_header("Content-Type", content_type)
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        h.wfile.write(body)

    return run


def until_hangup(h: BaseHTTPRequestHandler, limit_s: float) -> bool:
    """Send nothing until the client closes the connection, for at most limit_s; True when it hung up.
    A stall that ends when the client gives up, instead of a fixed sleep longer than its timeout."""
    h.connection.settimeout(limit_s)
    try:
        return h.connection.recv(1) == b""
    except OSError:  # the limit passed, or the client reset the connection
        return False


def stream(lines: list[bytes], pause_s: float = 0.0, then_reset: bool = False) -> Script:
    """Send NDJSON lines (chunked), optionally resetting the connection after them, or stalling: sending
    nothing for up to pause_s, and less when the client hangs up first (its read timeout)."""

    def run(h: BaseHTTPRequestHandler) -> None:
        h.send_response(200)
        h.send_header("Content-Type", "application/x-ndjson")
        h.send_header("Transfer-Encoding", "chunked")
        h.end_headers()
        for line in lines:
            data = line + b"\n"
            h.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
            h.wfile.flush()
        if pause_s and until_hangup(h, pause_s):
            return
        if then_reset:
            h.wfile.write(b"40\r\npartial")  # a chunk cut short, then the connection dies
            h.wfile.flush()
            h.connection.shutdown(socket.SHUT_RDWR)
            h.close_connection = True
            return
        with contextlib.suppress(OSError):  # a client that timed out may be gone
            h.wfile.write(b"0\r\n\r\n")

    return run


@contextmanager
def fake_ollama(script: Script) -> Iterator[str]:
    """Serve `script` for every request on a loopback port; yields the base URL."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            script(self)

        def do_POST(self) -> None:
            self.body = self.rfile.read(int(self.headers.get("Content-Length", 0)))  # scripts may look at it
            script(self)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    # shutdown() waits for the serve loop's next poll: 0.5 s by default, on every test that uses this
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def redirect(location: str, status: int = 307) -> Script:
    """Answer every request with a redirect to `location` (307 re-sends a POST's body there)."""

    def run(h: BaseHTTPRequestHandler) -> None:
        h.send_response(status)
        h.send_header("Location", location)
        h.send_header("Content-Length", "0")
        h.end_headers()

    return run


def trickled_headers(for_s: float) -> Script:
    """The status line, then one byte of a header every 0.2 s for for_s seconds: the headers never end."""

    def run(h: BaseHTTPRequestHandler) -> None:
        h.close_connection = True
        try:
            h.wfile.write(b"HTTP/1.1 200 OK\r\nX-Slow: ")
            h.wfile.flush()
            end = time.monotonic() + for_s
            while time.monotonic() < end:
                h.wfile.write(b"z")
                h.wfile.flush()
                time.sleep(0.2)
        except OSError:
            pass  # the client hung up: what its deadline is for

    return run


def endless_line(prefix: bytes, total_bytes: int = 64_000_000) -> Script:
    """One stream line that never ends: prefix, then `x` as fast as the client takes it (chunked)."""

    def run(h: BaseHTTPRequestHandler) -> None:
        h.close_connection = True
        h.send_response(200)
        h.send_header("Transfer-Encoding", "chunked")
        h.end_headers()
        block = b"x" * 65536
        try:
            h.wfile.write(f"{len(prefix):x}\r\n".encode() + prefix + b"\r\n")
            for _ in range(total_bytes // len(block)):
                h.wfile.write(f"{len(block):x}\r\n".encode() + block + b"\r\n")
            h.wfile.flush()
        except OSError:
            pass  # the client stopped reading: that is the point

    return run


def relay(h: BaseHTTPRequestHandler, upstream: str, line_s: float = 0.0, timeout_s: float = 300.0) -> None:
    """Send the request `h` holds on to the real server at `upstream` as it is, and stream the answer back as it
    comes (one stream line every line_s at most, when line_s is set). A client that hangs up closes the upstream
    request too, which stops the model."""
    import http.client
    from urllib.parse import urlsplit

    target = urlsplit(upstream)
    body = getattr(h, "body", b"")
    conn = http.client.HTTPConnection(target.hostname or "127.0.0.1", target.port or 80, timeout=timeout_s)
    try:
        headers = {"Content-Type": h.headers.get("Content-Type", "application/json")}
        conn.request(h.command, h.path, body=body or None, headers=headers)
        resp = conn.getresponse()
        h.send_response(resp.status)
        h.send_header("Content-Type", resp.getheader("Content-Type", "application/json"))
        h.send_header("Transfer-Encoding", "chunked")
        h.end_headers()
        while piece := (resp.readline() if line_s else resp.read1(65536)):
            h.wfile.write(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
            h.wfile.flush()
            time.sleep(line_s)
        h.wfile.write(b"0\r\n\r\n")
    except OSError:
        h.close_connection = True  # the client hung up (a cancelled stream): nothing more to send
    finally:
        conn.close()


@contextmanager
def held(upstream: str, hold: Callable[[], None] = lambda: None, line_s: float = 0.0) -> Iterator[str]:
    """A pass-through to the real server at `upstream` whose POSTs wait for hold() to return before they are
    sent on, and whose answers come back one stream line (one token) every line_s at most: a model that takes
    its time (as a 4B model does), with the real model's answer. Yields the base URL to use instead of upstream."""

    def run(h: BaseHTTPRequestHandler) -> None:
        if h.command == "POST":
            hold()
        relay(h, upstream, line_s)

    with fake_ollama(run) as url:
        yield url
