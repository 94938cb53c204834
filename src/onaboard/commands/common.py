"""What the commands share: failing with every problem, setting Django up, a date argument, the one way to name a
user and a clinic and reach the clinic's patients (``onaboard.commands.exchange``, ``.cohort``), and the console
text goes to, which ends the command quietly when its reader closes the pipe (``stdout_console``).

A clinic is ``--clinic`` (name or id), else the ``--user``'s clinic, else the only clinic there is; ``--user``
names who is recorded in the audit trail and must be allowed to do what the command does. Nothing here imports
Django at import time: the engine commands (``onaboard.cli``, ``onaboard.cohort.cli``) use ``iso_date`` and the
console without loading it.
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
from datetime import date
from typing import Any, NoReturn

import typer
from rich.console import Console

from onaboard.commands import setup_django

__all__ = [
    "NOT_USERS_CLINIC",
    "NO_CLINICS",
    "NO_SUCH_CLINIC",
    "NO_SUCH_USER",
    "PIPE_WIDTH",
    "SETTINGS",
    "USER_MAY_NOT",
    "WHICH_CLINIC",
    "clinic_named",
    "clinic_patients",
    "django_setup",
    "fail",
    "iso_date",
    "require_capability",
    "stdout_console",
    "stop_writing",
    "user_named",
]

SETTINGS = "onaboard.web.config.settings.dev"
"""The settings the commands run with unless DJANGO_SETTINGS_MODULE names others."""

PIPE_WIDTH = 120
"""Text width when stdout is a file or a pipe (a terminal uses its own width)."""


def stop_writing() -> NoReturn:
    """End the command quietly when its reader has closed stdout (``onaboard assess big.csv --json | head -1``).

    As Python's documentation on SIGPIPE advises: the rest of the output goes to devnull (so the interpreter's own
    flush at exit cannot fail again and print "Exception ignored ... BrokenPipeError"), then exit. Exit 0, not the
    1 Python and Click use: cli.md knows only 0 (success) and 2 (invalid input or arguments, with every problem on
    stderr), and a closed pipe is no invalid input. Output is written only once the input has been read, checked
    and judged, so the command has succeeded; the reader just wanted no more of it (as ``head`` does).
    """
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # a stdout without a file descriptor (an in-process test runner) holds nothing more
        pass
    sys.exit(0)


class _StdoutConsole(Console):
    """The text output's console: a closed pipe ends the command as ``--json``'s does (``stop_writing``; Rich's
    own handler exits 1)."""

    def on_broken_pipe(self) -> None:
        self.quiet = True
        stop_writing()


def stdout_console() -> Console:
    """The console every command prints its text on: the terminal's width, or ``PIPE_WIDTH`` into a file or a pipe;
    a reader closing the pipe (``onaboard cohort report DIR | head``) ends the command with exit 0."""
    console = _StdoutConsole(highlight=False)
    return console if console.is_terminal else _StdoutConsole(highlight=False, width=PIPE_WIDTH)


# --- Messages (tests assert them exactly) -----------------------------------------------------------------------

NO_SUCH_CLINIC = "no clinic named {value!r}"
WHICH_CLINIC = "there are {count} clinics: name one with --clinic"
NO_CLINICS = "there is no clinic in the database"
NO_SUCH_USER = "no active user {value!r}"
USER_MAY_NOT = "{user} may not {what}"
NOT_USERS_CLINIC = "{user} works for {own}, not {clinic}"


def fail(*problems: str) -> NoReturn:
    """Print every problem on stderr, one a line, and exit 2 (nothing on stdout)."""
    for problem in problems:
        print(problem, file=sys.stderr)
    raise typer.Exit(2)


def django_setup() -> None:
    """Set Django up with ``SETTINGS`` (``onaboard.commands.setup_django``: a refused setting exits 2)."""
    setup_django(SETTINGS)


def iso_date(value: str) -> date | None:
    """The date written ``YYYY-MM-DD`` (exactly that form, a real day), else None: the caller names the option."""
    if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value):
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


def user_named(username: str | None) -> Any:
    """The active user ``--user`` names, None without one; exits 2 (``NO_SUCH_USER``) for any other name."""
    if username is None:
        return None
    from onaboard.web.accounts.models import User

    user = User.objects.filter(username=username, is_active=True).first()
    if user is None:
        fail(NO_SUCH_USER.format(value=username))
    return user


def clinic_named(value: str | None, user: Any) -> Any:
    """The clinic ``--clinic`` names (name or id; it must be the user's own), else the user's clinic, else the only
    clinic there is; exits 2 naming the problem otherwise."""
    import uuid

    from onaboard.web.accounts.models import Clinic

    if value is not None:
        clinics = Clinic.objects.filter(name=value)
        with contextlib.suppress(ValueError, AttributeError):
            clinics = clinics | Clinic.objects.filter(external_id=uuid.UUID(value))
        clinic = clinics.first()
        if clinic is None:
            fail(NO_SUCH_CLINIC.format(value=value))
        if user is not None and user.clinic_id != clinic.pk:
            own = user.clinic.name if user.clinic_id else "no clinic"
            fail(NOT_USERS_CLINIC.format(user=user.username, own=own, clinic=clinic.name))
        return clinic
    if user is not None and user.clinic_id is not None:
        return user.clinic
    count = Clinic.objects.count()
    if count == 0:
        fail(NO_CLINICS)
    if count > 1:
        fail(WHICH_CLINIC.format(count=count))
    return Clinic.objects.get()


def require_capability(user: Any, capability: str, what: str) -> None:
    """Exit 2 (``USER_MAY_NOT``, naming ``what``) unless the user has ``capability`` (``patients.access.can``);
    without ``--user`` (None) nothing is checked."""
    if user is None:
        return
    from onaboard.web.patients.access import Capability, can

    if not can(user, Capability(capability)):
        fail(USER_MAY_NOT.format(user=user.username, what=what))


def clinic_patients(clinic: Any, user: Any) -> Any:
    """The clinic's patients, or with ``--user`` those of them the user may see (a patient sees their own record
    only): the access module's rule, as on the web."""
    from onaboard.web.patients.access import patients_visible_to
    from onaboard.web.patients.models import Patient

    found = Patient.objects.filter(clinic=clinic)
    return found if user is None else found & patients_visible_to(user)
