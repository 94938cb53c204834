"""Commands of `onaboard` that work on the web app's database (Django is set up inside each command, so the
engine commands start without it). Each module has ``register(app)``, called by ``onaboard.cli``."""

from __future__ import annotations

import os
import sys

import typer

SETUP_REFUSED = "the app's settings are not usable: {reason}"


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
