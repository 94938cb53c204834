"""``manage.py load_demo`` (onaboard/web/clinic/management/commands/load_demo.py)."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from onaboard.web.accounts.models import Clinic, User
from onaboard.web.clinic.demo import CLINIC_NAME, PASSWORD, PATIENTS
from onaboard.web.clinic.management.commands.load_demo import REFUSED_NOT_DEMO_ONLY, REFUSED_WITHOUT_DEBUG
from onaboard.web.patients.models import Patient
from tests.web.factories import ClinicFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def debug(settings):
    """The demo loads only with DEBUG on (the development settings); pytest-django turns it off."""
    settings.DEBUG = True


def _run(*args: str) -> str:
    out = StringIO()
    call_command("load_demo", *args, stdout=out)
    return out.getvalue()


def test_the_first_run_builds_the_demo_for_today_and_prints_the_logins():
    """The command builds the clinic for today and prints the shared password and every login."""
    output = _run()
    assert f"{CLINIC_NAME}: built for {timezone.localdate().isoformat()}." in output
    assert f"every password: {PASSWORD}" in output
    assert "dr.demo" in output
    assert "billing.demo" in output
    assert f"patient{len(PATIENTS)}.demo" in output
    assert Patient.objects.filter(clinic__name=CLINIC_NAME).count() == len(PATIENTS)


def test_a_second_run_changes_nothing_and_still_prints_the_logins():
    """Run twice, the command says the demo is already loaded, keeps its rows and prints the logins again."""
    _run()
    ids = set(Patient.objects.values_list("external_id", flat=True))
    output = _run()
    assert "already loaded" in output
    assert "nurse.demo" in output
    assert set(Patient.objects.values_list("external_id", flat=True)) == ids


def test_reset_rebuilds_the_demo():
    """--reset replaces the demo patients."""
    _run()
    ids = set(Patient.objects.values_list("external_id", flat=True))
    output = _run("--reset")
    assert "built for" in output
    assert ids.isdisjoint(Patient.objects.values_list("external_id", flat=True))


def test_without_debug_the_command_refuses_and_writes_nothing(settings):
    """With DEBUG off (production) the command exits non-zero with its reason and creates no clinic, login or
    patient: the demo's logins, a superuser among them, share a published password."""
    settings.DEBUG = False
    with pytest.raises(CommandError) as refused:
        _run()
    assert str(refused.value) == REFUSED_WITHOUT_DEBUG
    assert refused.value.returncode != 0
    assert not Clinic.objects.exists()
    assert not User.objects.exists()
    assert not Patient.objects.exists()


def test_a_database_with_another_clinic_is_refused_and_nothing_is_written():
    """With DEBUG on but a clinic other than the demo's in the database (a live one, reached through the
    development settings ``manage.py`` falls back to), the command exits non-zero with its reason and creates no
    demo clinic, login or patient."""
    ClinicFactory(name="North Headache Clinic")
    with pytest.raises(CommandError) as refused:
        _run()
    assert str(refused.value) == REFUSED_NOT_DEMO_ONLY.format(clinics=1, logins=0)
    assert refused.value.returncode != 0
    assert list(Clinic.objects.values_list("name", flat=True)) == ["North Headache Clinic"]
    assert not User.objects.exists()
    assert not Patient.objects.exists()


@pytest.mark.parametrize("username", ["ops", "admin.demo"])
def test_a_database_with_a_login_not_the_demos_is_refused_and_nothing_is_written(username):
    """With DEBUG on and no clinic yet, a login outside the demo clinic (a server's first superuser, even one named
    like a demo login) is refused too: the command writes no clinic, no login and no patient, and the login keeps
    its password."""
    login = UserFactory(username=username, clinic=None, is_superuser=True)
    with pytest.raises(CommandError) as refused:
        _run()
    assert str(refused.value) == REFUSED_NOT_DEMO_ONLY.format(clinics=0, logins=1)
    assert not Clinic.objects.exists()
    assert list(User.objects.values_list("username", flat=True)) == [username]
    assert User.objects.get().password == login.password
    assert not Patient.objects.exists()


def test_a_demo_database_with_anything_added_is_refused_on_a_rerun_and_a_reset():
    """A database holding the demo alone is loaded again (nothing changed) and reset, a login added in the demo
    clinic while trying it (a new colleague) included; once another clinic and a login outside the demo are added,
    both are refused and the demo stays as it was."""
    _run()
    UserFactory(username="new.nurse", clinic=Clinic.objects.get(name=CLINIC_NAME))
    assert "already loaded" in _run()
    _run("--reset")
    ids = set(Patient.objects.values_list("external_id", flat=True))
    UserFactory(username="ops", clinic=ClinicFactory(name="North Headache Clinic"))
    for args in ((), ("--reset",)):
        with pytest.raises(CommandError) as refused:
            _run(*args)
        assert str(refused.value) == REFUSED_NOT_DEMO_ONLY.format(clinics=1, logins=1)
    assert set(Patient.objects.values_list("external_id", flat=True)) == ids
