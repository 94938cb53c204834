"""`onaboard` fhir, import and export: FHIR Bundles and CSV files in and out of the app's database."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add this module's commands to the `onaboard` command."""
