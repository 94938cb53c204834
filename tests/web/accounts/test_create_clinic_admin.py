"""``manage.py create_clinic_admin`` (onaboard/web/accounts/management/commands/create_clinic_admin.py)."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from onaboard.web.accounts.management.commands import create_clinic_admin
from onaboard.web.accounts.management.commands.create_clinic_admin import (
    ALREADY_SET_UP,
    CLINIC_SPELLED_DIFFERENTLY,
    CREATED,
    NO_PASSWORD_SOURCE,
    PASSWORDS_DIFFER,
    SITE_DIFFERS,
    USER_EXISTS,
    WEAK_PASSWORD,
    Command,
)
from onaboard.web.accounts.models import Clinic, Role, SiteOfService, User
from onaboard.web.audit.models import Action, AuditEvent

pytestmark = pytest.mark.django_db

CLINIC = "East Headache Clinic"
USERNAME = "a.jones"
PASSWORD = "violet-harbour-1957"


class _Terminal(StringIO):
    """Standard input that is a terminal, so the command asks for the password."""

    def isatty(self) -> bool:
        return True


@pytest.fixture
def password_file(tmp_path):
    """A file holding the password on its first line, as an operator's secret store writes it."""
    path = tmp_path / "admin-password"
    path.write_text(PASSWORD + "\n", encoding="utf-8")
    return path


def _run(*args: str, **options):
    out = StringIO()
    call_command("create_clinic_admin", *args, stdout=out, stderr=StringIO(), **options)
    return out.getvalue()


def _nothing_written(clinics_before: int, users_before: int, events_before: int) -> bool:
    return (
        Clinic.objects.count() == clinics_before
        and User.objects.count() == users_before
        and AuditEvent.objects.count() == events_before
    )


def test_it_creates_the_clinic_and_its_administrator(password_file):
    """A new clinic and a staff superuser with the Administrator role in it are created, the password from the file
    works, both creations are audited, and the password is never printed."""
    email = ("--email", "a.jones@example.org")
    output = _run("--clinic", CLINIC, "--username", USERNAME, *email, "--password-file", str(password_file))
    admin = User.objects.get(username=USERNAME)
    assert (admin.role, admin.clinic.name, admin.email) == (Role.ADMIN, CLINIC, "a.jones@example.org")
    assert (admin.is_active, admin.is_staff, admin.is_superuser) == (True, True, True)
    assert admin.check_password(PASSWORD)
    assert CREATED.format(username=USERNAME, clinic=CLINIC, what="and the clinic, new") in output
    assert PASSWORD not in output
    events = AuditEvent.objects.filter(action=Action.CREATE)
    assert sorted(events.values_list("object_type", "object_id")) == sorted(
        [("clinic", str(admin.clinic.external_id)), ("user", str(admin.external_id))]
    )


def test_the_administrator_it_makes_signs_in_to_the_clinic_and_the_admin(client, password_file):
    """The account it makes signs in with the password, lands on the clinic's worklist (not a 403: it has a role and
    a clinic, which createsuperuser's account lacks) and opens the admin's user list, where staff are created."""
    _run("--clinic", CLINIC, "--username", USERNAME, "--password-file", str(password_file))
    signed_in = client.post(reverse("accounts:login"), {"username": USERNAME, "password": PASSWORD}, follow=True)
    assert signed_in.redirect_chain[-1][0] == reverse("clinic:worklist")
    assert signed_in.status_code == 200
    assert client.get(reverse("admin:accounts_user_changelist")).status_code == 200


def test_it_uses_an_existing_clinic_of_that_name(world, password_file):
    """Given the name of a clinic that exists, the administrator joins it and no clinic is added."""
    clinics = Clinic.objects.count()
    output = _run("--clinic", world.clinic.name, "--username", USERNAME, "--password-file", str(password_file))
    assert Clinic.objects.count() == clinics
    assert User.objects.get(username=USERNAME).clinic == world.clinic
    assert "the clinic already existed" in output
    assert list(AuditEvent.objects.values_list("object_type", flat=True)) == ["user"]


def test_a_new_clinic_is_a_hospital_outpatient_department_unless_told(password_file, tmp_path):
    """A new clinic is a hospital outpatient department by default (its Medicare patients are asked for prior
    authorisation); ``--site-of-service office`` makes a physician's office."""
    _run("--clinic", CLINIC, "--username", USERNAME, "--password-file", str(password_file))
    assert Clinic.objects.get(name=CLINIC).site_of_service == SiteOfService.HOSPITAL_OUTPATIENT
    office = ("--site-of-service", "office")
    _run("--clinic", "West Office", "--username", "b.smith", *office, "--password-file", str(password_file))
    assert Clinic.objects.get(name="West Office").site_of_service == SiteOfService.OFFICE


def test_a_site_of_service_unlike_the_existing_clinics_is_refused(world, password_file):
    """Given an existing clinic and a site of service other than its own, the command refuses (exit 1) and writes
    nothing: the clinic's site is changed in the admin, not by adding an administrator. The clinic's own site, or
    none, is accepted."""
    before = (Clinic.objects.count(), User.objects.count(), AuditEvent.objects.count())
    clinic = ("--clinic", world.clinic.name)
    with pytest.raises(CommandError) as refused:
        _run(*clinic, "--username", USERNAME, "--site-of-service", "office", "--password-file", str(password_file))
    assert str(refused.value) == SITE_DIFFERS.format(
        clinic=world.clinic.name, site="hospital_outpatient", given="office"
    )
    assert refused.value.returncode == 1
    assert _nothing_written(*before)
    _run(
        *clinic,
        "--username",
        USERNAME,
        "--site-of-service",
        "hospital_outpatient",
        "--password-file",
        str(password_file),
    )
    world.clinic.refresh_from_db()
    assert world.clinic.site_of_service == SiteOfService.HOSPITAL_OUTPATIENT


def test_a_site_of_service_that_is_none_is_a_usage_error(password_file, monkeypatch, capsys):
    """``--site-of-service`` takes office or hospital_outpatient only; anything else is wrong usage (exit 2)."""
    with pytest.raises(CommandError) as refused:
        _run(
            "--clinic",
            CLINIC,
            "--username",
            USERNAME,
            "--site-of-service",
            "home",
            "--password-file",
            str(password_file),
        )
    assert "invalid choice: 'home'" in str(refused.value)
    assert _nothing_written(0, 0, 0)


def test_an_existing_user_name_is_refused_and_left_alone(world, password_file):
    """A user name already taken by another account is refused (exit 1) with a message saying so; that account
    keeps its role, clinic and password, and no clinic is created."""
    nurse = world.users["nurse"]
    before = (Clinic.objects.count(), User.objects.count(), AuditEvent.objects.count())
    with pytest.raises(CommandError) as refused:
        _run("--clinic", CLINIC, "--username", nurse.username, "--password-file", str(password_file))
    assert str(refused.value) == USER_EXISTS.format(username=nurse.username, clinic=CLINIC)
    assert refused.value.returncode == 1
    assert _nothing_written(*before)
    nurse.refresh_from_db()
    assert (nurse.role, nurse.clinic, nurse.is_superuser) == (Role.NURSE, world.clinic, False)
    assert not nurse.check_password(PASSWORD)


def test_a_user_name_taken_in_other_capitals_is_refused_naming_the_account(world, password_file):
    """A user name another account has in other capitals (sign-in limits count names so) is refused naming that
    account; nothing is written."""
    before = (Clinic.objects.count(), User.objects.count(), AuditEvent.objects.count())
    with pytest.raises(CommandError) as refused:
        _run("--clinic", CLINIC, "--username", "NURSE", "--password-file", str(password_file))
    assert str(refused.value) == USER_EXISTS.format(username="nurse", clinic=CLINIC)
    assert _nothing_written(*before)


def test_an_inactive_administrator_is_told_to_be_reactivated_not_that_they_are_not_one(password_file):
    """Run again for an administrator made inactive, it refuses saying so and who reactivates them (it said they
    were no administrator of the clinic); nothing changes."""
    from onaboard.web.accounts.management.commands.create_clinic_admin import ADMIN_INACTIVE

    _run("--clinic", CLINIC, "--username", USERNAME, "--password-file", str(password_file))
    User.objects.filter(username=USERNAME).update(is_active=False)
    with pytest.raises(CommandError) as refused:
        _run("--clinic", CLINIC, "--username", USERNAME, "--password-file", str(password_file))
    assert str(refused.value) == ADMIN_INACTIVE.format(username=USERNAME, clinic=CLINIC)
    assert not User.objects.get(username=USERNAME).is_active


def test_running_it_again_for_the_same_administrator_changes_nothing(password_file, tmp_path):
    """Run again with the same clinic and user name, it succeeds saying nothing changed, and the password stays."""
    _run("--clinic", CLINIC, "--username", USERNAME, "--password-file", str(password_file))
    before = (Clinic.objects.count(), User.objects.count(), AuditEvent.objects.count())
    other = tmp_path / "other"
    other.write_text("another-long-password-2", encoding="utf-8")
    output = _run("--clinic", CLINIC, "--username", USERNAME, "--password-file", str(other))
    assert output.strip() == ALREADY_SET_UP.format(username=USERNAME, clinic=CLINIC)
    assert _nothing_written(*before)
    assert User.objects.get(username=USERNAME).check_password(PASSWORD)


def test_running_it_again_with_another_site_of_service_is_refused(password_file):
    """Run again for the clinic's administrator with a site of service other than the clinic's, it refuses (exit 1)
    naming both sites, as for a new administrator, instead of saying nothing changed (the operator would believe the
    site was set); the clinic keeps its site, and the clinic's own site given again still succeeds."""
    account = ("--clinic", CLINIC, "--username", USERNAME, "--password-file", str(password_file))
    _run(*account)
    before = (Clinic.objects.count(), User.objects.count(), AuditEvent.objects.count())
    with pytest.raises(CommandError) as refused:
        _run(*account, "--site-of-service", "office")
    assert str(refused.value) == SITE_DIFFERS.format(clinic=CLINIC, site="hospital_outpatient", given="office")
    assert refused.value.returncode == 1
    assert _nothing_written(*before)
    assert Clinic.objects.get(name=CLINIC).site_of_service == SiteOfService.HOSPITAL_OUTPATIENT
    output = _run(*account, "--site-of-service", "hospital_outpatient")
    assert output.strip() == ALREADY_SET_UP.format(username=USERNAME, clinic=CLINIC)


def test_a_password_the_rules_refuse_writes_nothing(tmp_path):
    """A password the project's rules refuse (too short) is refused with their reasons, and neither the clinic nor
    the account is created."""
    weak = tmp_path / "weak"
    weak.write_text("short\n", encoding="utf-8")
    with pytest.raises(CommandError) as refused:
        _run("--clinic", CLINIC, "--username", USERNAME, "--password-file", str(weak))
    assert str(refused.value).startswith(WEAK_PASSWORD.format(problems="This password is too short."))
    assert _nothing_written(0, 0, 0)


def test_the_password_can_come_from_standard_input():
    """``--password-file -`` reads the password's line from standard input, for a script."""
    _run("--clinic", CLINIC, "--username", USERNAME, "--password-file", "-", stdin=StringIO(PASSWORD + "\n"))
    assert User.objects.get(username=USERNAME).check_password(PASSWORD)


def test_at_a_terminal_the_password_is_asked_twice(monkeypatch):
    """At a terminal the password is asked for twice without echo; two different answers are refused and write
    nothing, the same answer twice creates the account."""
    answers = iter([PASSWORD, PASSWORD + "x", PASSWORD, PASSWORD])
    monkeypatch.setattr(create_clinic_admin.getpass, "getpass", lambda prompt: next(answers))
    with pytest.raises(CommandError) as refused:
        _run("--clinic", CLINIC, "--username", USERNAME, stdin=_Terminal())
    assert str(refused.value) == PASSWORDS_DIFFER
    assert _nothing_written(0, 0, 0)
    _run("--clinic", CLINIC, "--username", USERNAME, stdin=_Terminal())
    assert User.objects.get(username=USERNAME).check_password(PASSWORD)


def test_without_a_terminal_or_a_file_it_refuses_rather_than_wait():
    """Run by a script with no password file and no terminal, it refuses at once and writes nothing."""
    with pytest.raises(CommandError) as refused:
        _run("--clinic", CLINIC, "--username", USERNAME, stdin=StringIO(""))
    assert str(refused.value) == NO_PASSWORD_SOURCE
    assert _nothing_written(0, 0, 0)


def test_a_clinic_name_differing_only_in_letter_case_is_refused(world, password_file):
    """A clinic name that matches an existing clinic's but for letter case is refused, not made a second clinic."""
    clinics = Clinic.objects.count()
    with pytest.raises(CommandError) as refused:
        _run("--clinic", world.clinic.name.upper(), "--username", USERNAME, "--password-file", str(password_file))
    assert str(refused.value) == CLINIC_SPELLED_DIFFERENTLY.format(existing=world.clinic.name)
    assert Clinic.objects.count() == clinics
    assert not User.objects.filter(username=USERNAME).exists()


def test_exit_codes_from_the_command_line(world, password_file, monkeypatch, capsys):
    """From the command line it exits 0 when it created the account, 1 when it refused (a user name taken), and
    2 for wrong usage (no --clinic)."""
    monkeypatch.setattr("django.core.management.base.connections.close_all", lambda: None)  # keep the test database

    def exit_code(*args: str) -> int:
        try:
            Command().run_from_argv(["manage.py", "create_clinic_admin", *args])
        except SystemExit as stopped:
            return int(stopped.code)
        return 0

    file_option = ("--password-file", str(password_file))
    assert exit_code("--clinic", CLINIC, "--username", USERNAME, *file_option) == 0
    assert exit_code("--clinic", CLINIC, "--username", "nurse", *file_option) == 1
    assert USER_EXISTS.format(username="nurse", clinic=CLINIC) in capsys.readouterr().err
    assert exit_code("--username", "someone", *file_option) == 2
    assert "--clinic" in capsys.readouterr().err


def test_a_password_file_saved_with_a_byte_order_mark_gives_the_password_typed(client, tmp_path):
    """A password file saved with a byte-order mark (as Notepad does) gives the password without it, so the new
    administrator signs in with what was typed into the file."""
    path = tmp_path / "admin-password"
    path.write_text(PASSWORD + "\r\n", encoding="utf-8-sig")
    _run("--clinic", CLINIC, "--username", USERNAME, "--password-file", str(path))
    assert User.objects.get(username=USERNAME).check_password(PASSWORD)


def test_a_user_name_taken_by_a_run_at_the_same_time_is_refused_not_a_traceback(monkeypatch, password_file):
    """When another run creates the same user name between the check and the insert, the database's uniqueness
    refusal is the command's own "already exists" message (exit 1), not a traceback."""
    real = create_clinic_admin.validate_password

    def racing(password, user):
        """The other run's row lands after this run's check, while its password is being checked."""
        User.objects.create(username=user.username, role=Role.NURSE)
        return real(password, user)

    monkeypatch.setattr(create_clinic_admin, "validate_password", racing)
    with pytest.raises(CommandError) as refused:
        _run("--clinic", CLINIC, "--username", USERNAME, "--password-file", str(password_file))
    assert str(refused.value) == USER_EXISTS.format(username=USERNAME, clinic=CLINIC)
    assert refused.value.returncode == 1
