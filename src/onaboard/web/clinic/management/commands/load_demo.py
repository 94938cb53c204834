"""``manage.py load_demo``: the synthetic demo clinic, its logins printed; ``--reset`` rebuilds it for today.

Only with DEBUG on (the development settings): every demo login shares a published password, and one of them is a
superuser, so on a production server the command refuses before writing anything."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from onaboard.web.clinic.demo import CLINIC_NAME, PASSWORD, demo_clinic_load, demo_logins

REFUSED_WITHOUT_DEBUG = (
    "load_demo runs only with DEBUG on (the development settings `make run` uses, or ONABOARD_DEBUG=1): the demo's "
    f"logins, an administrator with the Django admin among them, share the published password {PASSWORD}. "
    "Nothing was written."
)
"""Why the command refuses on a production server (DEBUG off), where such logins would be an open door."""


class Command(BaseCommand):
    help = (
        "Load the demo clinic (made-up staff and patients spread over the pathway states, dates relative to today). "
        "Does nothing if it exists, unless --reset is given. Prints the demo logins. Refuses unless DEBUG is on."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--reset",
            action="store_true",
            help="delete the demo clinic's patients and records and build them again for today",
        )

    def handle(self, *args: Any, reset: bool = False, **options: Any) -> None:
        if not settings.DEBUG:
            raise CommandError(REFUSED_WITHOUT_DEBUG)
        today = timezone.localdate()
        verbose = options.get("verbosity", 1) > 1
        result = demo_clinic_load(today=today, reset=reset, progress=self.stdout.write if verbose else None)
        if result.created:
            self.stdout.write(self.style.SUCCESS(f"{CLINIC_NAME}: built for {today.isoformat()}."))
        else:
            built = result.built_on.isoformat() if result.built_on else "an earlier day"
            self.stdout.write(f"{CLINIC_NAME} is already loaded (built for {built}); nothing changed.")
            if result.built_on != today:
                self.stdout.write("Run `manage.py load_demo --reset` to rebuild it with today's dates.")
        self.stdout.write("")
        self.stdout.write(f"Demo logins (every password: {PASSWORD})")
        rows = list(demo_logins())
        width_user = max(len(user) for user, _, _ in rows)
        width_role = max(len(role) for _, role, _ in rows)
        for user, role, who in rows:
            self.stdout.write(f"  {user:<{width_user}}  {role:<{width_role}}  {who}")
