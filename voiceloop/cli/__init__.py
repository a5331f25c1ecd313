"""Command line: wiring from config, and the only place errors become messages and exit codes.

app.py holds the typer app and the shared wiring; core.py the product's commands; dev.py the developer tools'.
"""

from __future__ import annotations

from voiceloop.cli import core, dev  # noqa: F401  (registers the commands on the app, product first)
from voiceloop.cli.app import app, build_assistant, fail, session_config

__all__ = ["app", "build_assistant", "fail", "main", "session_config"]


def main() -> None:
    app()
