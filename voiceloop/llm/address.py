"""The LLM server's address as people see it (credentials hidden) and as trust needs it (its origin)."""

from __future__ import annotations

from urllib.parse import urlsplit


def shown(url: str) -> str:
    """url without its user:password part, for errors, `doctor`, `models` and logs.

    OLLAMA_HOST=http://user:secret@host is how some put a proxy's password in; it must never reach a
    terminal, a log or a bug report. The user name is hidden too: some gateways take a token there.
    """
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return parts._replace(netloc="***@" + parts.netloc.rpartition("@")[2]).geturl()


def origin(url: str) -> tuple[str, str, int | None]:
    """(scheme, host, port): what must stay the same for a request to reach the same server."""
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:  # a port that is not a number: no origin we could trust
        port = -1
    default = {"http": 80, "https": 443}.get(parts.scheme.lower())
    return parts.scheme.lower(), (parts.hostname or "").lower(), port if port is not None else default


def origin_text(url: str) -> str:
    """scheme://host:port of url, credentials and path left out (where a redirect wanted to go)."""
    scheme, host, port = origin(url)
    return f"{scheme}://{host}" + (f":{port}" if port is not None else "")
