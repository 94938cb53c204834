"""``manage.py create_clinic_admin --clinic NAME --username USERNAME [--site-of-service SITE]``: a new clinic's first
administrator.

A fresh installation has no clinic and no account, and ``manage.py createsuperuser`` makes an account with no role
and no clinic: it signs in to a 403 telling it to ask the clinic's administrator, and the admin lists none of the
clinic's patients to it. This command makes the account the clinic needs first, in one transaction: the clinic (or
the existing one of that name) and a user with the Administrator role in it, staff and superuser, so it can open
the admin and create everyone else's accounts there (docs/deploy.md, "First day"). Both are audited. A new clinic's
site of service (``--site-of-service``: ``office`` or ``hospital_outpatient``, the default) decides whether Medicare
asks for prior authorisation; an existing clinic keeps its own, and a different one given for it is refused (its
administrator changes it in the admin).

The password is never an argument (it would stay in the shell's history and be visible to every user of the
machine in the process list) and is never printed: it is typed twice at a prompt, or read from the first line of
``--password-file`` (``-`` for standard input, for a script). The project's password rules apply.

Running it again for an account that already is that clinic's administrator changes nothing and succeeds (exit 0),
so a provisioning script may repeat it, unless it gives a site of service other than the clinic's: that is refused
(exit 1) as for a new administrator. Any other account of that name is refused (exit 1) and left as it is.
"""

from __future__ import annotations

import getpass
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import IntegrityError, transaction

from onaboard.web.accounts.models import Clinic, Role, SiteOfService, User
from onaboard.web.audit.models import Action
from onaboard.web.audit.services import audit_record

EMPTY_CLINIC = "the clinic needs a name, e.g. --clinic 'North Headache Clinic'"
CLINIC_SPELLED_DIFFERENTLY = (
    "a clinic named {existing!r} already exists: give its name exactly as it is spelled, or a clearly different "
    "name for a new clinic. Nothing was written."
)
USER_EXISTS = (
    "a user named {username!r} already exists and is not an administrator of {clinic!r}; nothing was changed. "
    "Choose another user name, or change that account in the admin (Users)."
)
SITE_DIFFERS = (
    "the clinic {clinic!r} already exists as site of service {site}, not {given}: change it in the admin (Clinics), "
    "or leave --site-of-service out. Nothing was written."
)
ALREADY_SET_UP = "{username!r} is already an administrator of {clinic!r}; nothing was changed."
ADMIN_INACTIVE = (
    "{username!r} is an administrator of {clinic!r} made inactive; nothing was changed. The operator (an "
    "administrator of no clinic) ticks Active again in the admin (Users), or choose another user name for a new one."
)
INVALID_ACCOUNT = "the account cannot be created: {problems}"
WEAK_PASSWORD = "the password was refused: {problems}"  # noqa: S105 - a message, not a secret
PASSWORDS_DIFFER = "the two passwords differ; nothing was written"
CANCELLED = "cancelled; nothing was written"
NO_PASSWORD_SOURCE = (
    "no password given: run the command at a terminal to be asked for it, or give --password-file FILE "  # noqa: S105
    "(its first line; '-' reads standard input). Nothing was written."
)
UNREADABLE_PASSWORD_FILE = "cannot read the password file {path}: {reason}"  # noqa: S105 - a message
EMPTY_PASSWORD_FILE = "the password file {path} is empty"  # noqa: S105 - a message, not a secret
CREATED = "Created the administrator {username!r} of {clinic!r} ({what})."
NEXT_STEPS = (
    "Sign in with it, open Admin and create the staff accounts (Users: a role and the clinic for each); "
    "docs/deploy.md, 'First day', lists the rest."
)
PROMPT = "Password for {username}: "
PROMPT_AGAIN = "Password for {username} (again): "
STDIN = "-"


@dataclass(frozen=True)
class ClinicAdmin:
    """What ``clinic_admin_create`` did: the account, its clinic, and whether the clinic is new."""

    user: User
    clinic: Clinic
    clinic_created: bool


def _problems(error: ValidationError) -> str:
    return " ".join(error.messages)


def _is_admin_of(user: User, clinic_name: str, *, active: bool = True) -> bool:
    """Whether ``user`` is an administrator of the clinic of that name (and active, unless ``active`` is False)."""
    return (
        (user.is_active or not active)
        and user.is_staff
        and user.is_superuser
        and user.role == Role.ADMIN
        and user.clinic is not None
        and user.clinic.name == clinic_name
    )


def _clinic_named(name: str) -> Clinic | None:
    """The clinic of exactly that name, or None; ValueError for a name that differs from an existing clinic's only
    in letter case (a second clinic by a slip of the shift key would split the staff)."""
    clinic = Clinic.objects.filter(name=name).first()
    if clinic is None:
        near = Clinic.objects.filter(name__iexact=name).first()
        if near is not None:
            raise ValueError(CLINIC_SPELLED_DIFFERENTLY.format(existing=near.name))
    return clinic


def _new_admin(*, username: str, email: str, clinic: Clinic | None) -> User:
    """The unsaved account, its fields checked (ValueError naming every problem)."""
    user = User(
        username=username,
        email=email,
        role=Role.ADMIN,
        clinic=clinic,
        is_active=True,
        is_staff=True,
        is_superuser=True,
    )
    try:
        user.clean_fields(exclude=["password", "clinic"])
    except ValidationError as refused:
        raise ValueError(INVALID_ACCOUNT.format(problems=_problems(refused))) from None
    return user


def _refuse_another_site(clinic: Clinic | None, site_of_service: SiteOfService | None) -> None:
    """ValueError (``SITE_DIFFERS``) when ``site_of_service`` is given for an existing clinic at another site: the
    command never changes a clinic's site, its administrator does in the admin."""
    if clinic is not None and site_of_service is not None and clinic.site_of_service != site_of_service:
        raise ValueError(
            SITE_DIFFERS.format(clinic=clinic.name, site=clinic.site_of_service, given=site_of_service.value)
        )


def clinic_admin_check(
    *, clinic_name: str, username: str, email: str, site_of_service: SiteOfService | None = None
) -> None:
    """Refuse (ValueError) what ``clinic_admin_create`` would refuse before a password is known: a clinic name
    spelled unlike the existing one's, a site of service unlike the existing clinic's, an invalid clinic name, user
    name or e-mail address."""
    _refuse_another_site(_clinic_named(clinic_name), site_of_service)
    try:
        Clinic(name=clinic_name).clean_fields()
    except ValidationError as refused:
        raise ValueError(INVALID_ACCOUNT.format(problems=_problems(refused))) from None
    _new_admin(username=username, email=email, clinic=None)


def clinic_admin_create(
    *, clinic_name: str, username: str, email: str, password: str, site_of_service: SiteOfService | None = None
) -> ClinicAdmin:
    """The clinic ``clinic_name`` (made if there is none, at ``site_of_service``: a hospital outpatient department
    when None) and a new active staff superuser with the Administrator role in it, in one transaction, each audited.
    ValueError, with nothing written, for what ``clinic_admin_check`` refuses, a user name already taken, or a
    password the project's rules refuse."""
    clinic_admin_check(clinic_name=clinic_name, username=username, email=email, site_of_service=site_of_service)
    try:
        return _clinic_admin_create(
            clinic_name=clinic_name,
            username=username,
            email=email,
            password=password,
            site_of_service=site_of_service or SiteOfService.HOSPITAL_OUTPATIENT,
        )
    except IntegrityError:  # another run made the same user name between the check and the insert
        raise ValueError(USER_EXISTS.format(username=username, clinic=clinic_name)) from None


def _clinic_admin_create(
    *, clinic_name: str, username: str, email: str, password: str, site_of_service: SiteOfService
) -> ClinicAdmin:
    with transaction.atomic():
        if User.objects.filter(username__iexact=username).exists():  # sign-in limits count the name so
            raise ValueError(USER_EXISTS.format(username=username, clinic=clinic_name))
        user = _new_admin(username=username, email=email, clinic=None)
        try:
            validate_password(password, user)
        except ValidationError as refused:
            raise ValueError(WEAK_PASSWORD.format(problems=_problems(refused))) from None
        clinic = _clinic_named(clinic_name)
        clinic_created = clinic is None
        if clinic is None:
            clinic = Clinic.objects.create(name=clinic_name, site_of_service=site_of_service)
            audit_record(
                user=None,
                action=Action.CREATE,
                object_type="clinic",
                object_id=clinic.external_id,
                detail=(f"clinic {clinic_name!r} ({site_of_service.value}) created by manage.py create_clinic_admin"),
                clinic_id=clinic.pk,
            )
        user.clinic = clinic
        user.set_password(password)
        user.save()
        audit_record(
            user=None,
            action=Action.CREATE,
            object_type="user",
            object_id=user.external_id,
            detail=(
                f"administrator {username!r} of clinic {clinic_name!r} (staff, superuser) "
                "created by manage.py create_clinic_admin"
            ),
            clinic_id=clinic.pk,
        )
    return ClinicAdmin(user=user, clinic=clinic, clinic_created=clinic_created)


class Command(BaseCommand):
    help = (
        "Create a clinic's first administrator: the clinic (or the existing one of that name) and a staff superuser "
        "with the Administrator role in it, who then creates every other account in the admin. The password is "
        "asked for twice at the terminal, or read from the first line of --password-file ('-': standard input); it "
        "is never printed. Exit 0 when created, or when that account already is the clinic's administrator "
        "(nothing changed); 1 when refused (another account of that name, a refused password, a site of service "
        "other than the existing clinic's); 2 for wrong usage."
    )
    stealth_options = ("stdin",)  # what the password is read from, for tests (as createsuperuser's)

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--clinic", required=True, help="the clinic's name, as staff and letters will show it")
        parser.add_argument("--username", required=True, help="the administrator's user name, for signing in")
        parser.add_argument("--email", default="", help="the administrator's e-mail address (optional)")
        parser.add_argument(
            "--site-of-service",
            choices=SiteOfService.values,
            default=None,
            help=(
                "where a new clinic gives the injections (default: hospital_outpatient): Medicare asks for prior "
                "authorisation in a hospital outpatient department only; an existing clinic keeps its own"
            ),
        )
        parser.add_argument(
            "--password-file",
            default=None,
            help="read the password from this file's first line ('-': standard input) instead of asking for it",
        )

    def handle(
        self,
        *args: Any,
        clinic: str,
        username: str,
        email: str = "",
        password_file: str | None = None,
        site_of_service: str | None = None,
        **options: Any,
    ) -> None:
        self.stdin = options.get("stdin", sys.stdin)
        clinic_name = clinic.strip()
        email = email.strip()
        site = SiteOfService(site_of_service) if site_of_service is not None else None
        if not clinic_name:
            raise CommandError(EMPTY_CLINIC)
        existing = User.objects.select_related("clinic").filter(username__iexact=username).first()
        if existing is not None and existing.username != username:  # another account's name in other capitals
            raise CommandError(USER_EXISTS.format(username=existing.username, clinic=clinic_name))
        if existing is not None:
            if _is_admin_of(existing, clinic_name, active=False) and not existing.is_active:
                raise CommandError(ADMIN_INACTIVE.format(username=username, clinic=clinic_name))
            if _is_admin_of(existing, clinic_name):
                try:  # "nothing was changed" must not hide a site of service the command would not set
                    _refuse_another_site(existing.clinic, site)
                except ValueError as refused:
                    raise CommandError(str(refused)) from None
                self.stdout.write(ALREADY_SET_UP.format(username=username, clinic=clinic_name))
                return
            raise CommandError(USER_EXISTS.format(username=username, clinic=clinic_name))
        try:
            clinic_admin_check(clinic_name=clinic_name, username=username, email=email, site_of_service=site)
            password = self._password_from_file(password_file) if password_file is not None else self._prompt(username)
            made = clinic_admin_create(
                clinic_name=clinic_name, username=username, email=email, password=password, site_of_service=site
            )
        except ValueError as refused:
            raise CommandError(str(refused)) from None
        what = "and the clinic, new" if made.clinic_created else "the clinic already existed"
        self.stdout.write(self.style.SUCCESS(CREATED.format(username=username, clinic=clinic_name, what=what)))
        self.stdout.write(NEXT_STEPS)

    def _password_from_file(self, path: str) -> str:
        try:
            # utf-8-sig: a byte-order mark (a file saved by Notepad) is not part of the password
            text = self.stdin.read() if path == STDIN else Path(path).read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as failed:
            reason = failed.strerror if isinstance(failed, OSError) and failed.strerror else str(failed)
            raise CommandError(UNREADABLE_PASSWORD_FILE.format(path=path, reason=reason)) from None
        lines = text.splitlines()
        if not lines or not lines[0]:
            raise CommandError(EMPTY_PASSWORD_FILE.format(path=path))
        return lines[0]

    def _prompt(self, username: str) -> str:
        """Asked twice at the terminal, without echo; a script without a terminal is refused, not left waiting."""
        if not self.stdin.isatty():
            raise CommandError(NO_PASSWORD_SOURCE)
        try:
            password = getpass.getpass(PROMPT.format(username=username))
            again = getpass.getpass(PROMPT_AGAIN.format(username=username))
        except (KeyboardInterrupt, EOFError):
            raise CommandError(CANCELLED) from None
        if again != password:
            raise CommandError(PASSWORDS_DIFFER)
        return password
