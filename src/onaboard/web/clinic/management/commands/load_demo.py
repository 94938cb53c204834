"""``manage.py load_demo``: the synthetic demo clinic, its logins printed; ``--reset`` rebuilds it for today.

Every demo login shares a published password, and one of them is a superuser, so the command refuses before writing
anything unless DEBUG is on (the development settings) and the database holds nothing but the demo: no clinic other
than the demo clinic, no login outside it but the demo's own (a login added in the demo clinic, a patient's portal
account made while trying the demo, is the demo's too). DEBUG alone does not keep
it off a live database: ``manage.py`` falls back to the development settings, so on a production host with the live
DATABASE_URL set but not DJANGO_SETTINGS_MODULE, DEBUG is on, and the demo superuser would be written into the
clinic's database. An empty database (``make run``'s first run) and the demo's alone (every later run, ``--reset``)
are loaded as before."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from onaboard.web.accounts.models import Clinic, User
from onaboard.web.clinic.demo import CLINIC_NAME, PASSWORD, demo_clinic_load, demo_logins

REFUSED_WITHOUT_DEBUG = (
    "load_demo runs only with DEBUG on (the development settings `make run` uses, or ONABOARD_DEBUG=1): the demo's "
    f"logins, an administrator with the Django admin among them, share the published password {PASSWORD}. "
    "Nothing was written."
)
"""Why the command refuses on a production server (DEBUG off), where such logins would be an open door."""
REFUSED_NOT_DEMO_ONLY = (
    "load_demo writes only to an empty database or one holding the demo alone (as `make run` leaves it): this one "
    "also holds {clinics} other clinic(s) and {logins} other login(s). The demo's logins, an administrator with the "
    f"Django admin among them, share the published password {PASSWORD}. On a server, check DATABASE_URL and "
    "DJANGO_SETTINGS_MODULE (manage.py falls back to the development settings); for the demo, point DATABASE_URL at "
    "a database of its own. Nothing was written."
)
"""Why the command refuses on a database with anything but the demo in it: a live clinic's, reached with DEBUG on
because ``manage.py`` falls back to the development settings, or any other that is not the demo's alone."""


class Command(BaseCommand):
    help = (
        "Load the demo clinic (made-up staff and patients spread over the pathway states, dates relative to today). "
        "Does nothing if it exists, unless --reset is given. Prints the demo logins. Refuses unless DEBUG is on and "
        "the database holds nothing but the demo."
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
        clinics, logins = _not_the_demo()
        if clinics or logins:
            raise CommandError(REFUSED_NOT_DEMO_ONLY.format(clinics=clinics, logins=logins))
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


def _not_the_demo() -> tuple[int, int]:
    """How many clinics other than the demo clinic (``CLINIC_NAME``), and how many logins outside it, the database
    holds: (0, 0) on an empty database and on one holding the demo alone, which a second run (or ``--reset``) finds.
    A login of the demo clinic is the demo's, whether the load made it (``demo_logins``) or someone trying the demo
    did (a new patient's portal account, a colleague added in the admin); one in no clinic or another is not, even
    named like a demo login (a server's first superuser)."""
    clinics = Clinic.objects.exclude(name=CLINIC_NAME).count()
    logins = User.objects.exclude(clinic__name=CLINIC_NAME).count()
    return clinics, logins
