"""`onaboard` coverage and document: payer criteria and the clinic's PDFs from the app's database."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add this module's commands to the `onaboard` command."""
