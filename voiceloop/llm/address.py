"""The LLM server's address as people see it (credentials hidden) and as trust needs it (its origin)."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

SCHEMES = ("http", "https")
"""The only ways our clients reach a server: anything else in llm.host is a mistake, never a reason to fall
back to the embedded model without a word."""
HOST_NAME = re.compile(r"[A-Za-z0-9._-]+")
"""A host name or IPv4 address (a bracketed IPv6 address is checked by urlsplit)."""


def with_scheme(raw: str) -> str:
    """raw as a URL: "host:port" (how OLLAMA_HOST is often set) gets http://, and the trailing / goes."""
    raw = raw.strip()
    return ("http://" + raw if "://" not in raw else raw).rstrip("/")


def problem(url: str) -> str:
    """Why url cannot be the LLM server's address, or "" when it can: an http(s) URL with a host and, if it
    names one, a port from 1 to 65535. The words never repeat the URL (it may hold a password)."""
    if any(c.isspace() or not c.isprintable() for c in url):
        return "it holds spaces or control characters"
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as e:
        if "Port" in str(e):
            return "its port is not a number from 1 to 65535"
        return "its host is not a name or an IP address (an IPv6 address goes in brackets: http://[::1]:11434)"
    if parts.scheme.lower() not in SCHEMES:
        return f"it starts with {parts.scheme}://, and the LLM server is reached over http:// or https://"
    host = parts.netloc.rpartition("@")[2]
    if not parts.hostname or not (host.startswith("[") or HOST_NAME.fullmatch(parts.hostname)):
        return "its host is not a name or an IP address (an IPv6 address goes in brackets: http://[::1]:11434)"
    if port == 0:
        return "its port is not a number from 1 to 65535"
    if parts.query or parts.fragment:
        return "it has a ?query or #fragment; give the server's root, like http://127.0.0.1:11434"
    return ""


def shown(url: str) -> str:
    """url without its user:password part, for errors, `doctor`, `models` and logs.

    OLLAMA_HOST=http://user:secret@host is how some put a proxy's password in; it must never reach a
    terminal, a log or a bug report. The user name is hidden too: some gateways take a token there.
    """
    scheme, sep, rest = url.partition("://")
    if not sep:
        scheme, rest = "", url
    netloc = re.split(r"[/?#]", rest, maxsplit=1)[0]
    if "@" not in netloc:  # split by hand: a malformed URL (http://[::1) still gets its password hidden
        return url
    return f"{scheme}{sep}***@{netloc.rpartition('@')[2]}{rest[len(netloc) :]}"


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
