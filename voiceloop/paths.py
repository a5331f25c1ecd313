"""Where voiceloop keeps what it assembles once (joined model files): shared by stt and llm."""

from __future__ import annotations

import os
from pathlib import Path


def cache_dir() -> Path:
    """Where assembled models live: $VOICELOOP_CACHE, else $XDG_CACHE_HOME/voiceloop."""
    env = os.environ.get("VOICELOOP_CACHE")
    if env:
        return Path(env)
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "voiceloop"
