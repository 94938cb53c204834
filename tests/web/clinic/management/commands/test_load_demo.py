"""``manage.py load_demo`` (onaboard/web/clinic/management/commands/load_demo.py)."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from onaboard.web.clinic.demo import CLINIC_NAME, PASSWORD, PATIENTS
from onaboard.web.patients.models import Patient

pytestmark = pytest.mark.django_db


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
