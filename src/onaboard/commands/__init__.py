"""Commands of `onaboard` that work on the web app's database (Django is set up inside each command, so the
engine commands start without it). Each module has ``register(app)``, called by ``onaboard.cli``.

Every one of them but ``serve`` takes ``--json`` (``JsonFlag``): a summary of what it did as exactly one JSON
document on stdout (``print_json``), snake_case keys listed in each command's help, and nothing else on stdout.
The files they write always go to ``-o``, never to stdout, so the summary and the file cannot mix: each command
with ``-o`` refuses ``-o -`` through ``output_problems``, with --json or without.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

SETUP_REFUSED = "the app's settings are not usable: {reason}"
OUTPUT_NOT_STDOUT = "-o -: the file is never written to stdout (stdout carries only the --json summary); name a file"

JsonFlag = Annotated[
    bool, typer.Option("--json", help="Print a summary of what was done as exactly one JSON document on stdout.")
]
"""The ``--json`` flag of these commands (``onaboard.cli`` declares the engine commands' own)."""


def print_json(document: Any) -> None:
    """Print ``document`` as the command's one JSON document on stdout, in the form the engine commands use."""
    sys.stdout.write(json.dumps(document, ensure_ascii=False, indent=2))
    sys.stdout.write("\n")


def output_problems(output: Path) -> list[str]:
    """``-o -`` (stdout by custom) is a problem, with --json or without: these commands never write their file to
    stdout, which carries only the --json summary, and without the check ``-o -`` wrote a file named "-". ``[]``
    for any other path. Every command with ``-o`` lists it with its other problems and exits 2."""
    return [OUTPUT_NOT_STDOUT] if str(output) == "-" else []


def setup_django(settings_module: str) -> None:
    """Set up Django with ``settings_module`` unless DJANGO_SETTINGS_MODULE names one; a setting the app refuses
    (an unknown ONABOARD_TIME_ZONE, a bad database address ...) exits 2 naming it, not with a traceback."""
    from django.core.exceptions import ImproperlyConfigured  # onaboard's ImproperlyConfiguredError is one

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", settings_module)
    import django

    try:
        django.setup()
    except ImproperlyConfigured as error:
        print(SETUP_REFUSED.format(reason=error), file=sys.stderr)
        raise typer.Exit(2) from None
