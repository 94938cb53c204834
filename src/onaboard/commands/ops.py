"""`onaboard` serve, backup and restore: running the app in production."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add this module's commands to the `onaboard` command."""
