"""A preventive medicine or another toxin treatment saved while the birth date moves (onaboard/web/patients/
services.py): each write takes the patient's row lock (``patient_locked``) that ``patient_update`` takes, so it
waits for the birth date's save and is checked against the birth date it left.

PostgreSQL only (row locks under READ COMMITTED); SQLite serialises writers itself. Run with
ONABOARD_TEST_DATABASE_URL set."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction

from onaboard.web.patients.models import OtherToxinTreatment, Patient, PreventiveTrial
from onaboard.web.patients.services import (
    other_toxin_treatment_create,
    patient_update,
    preventive_trial_create,
    preventive_trial_update,
)
from tests.web.threads import WAITS, in_thread, postgresql_only  # noqa: F401 (a fixture)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("postgresql_only")]

TODAY = date(2026, 3, 2)
TRIAL = {
    "drug": "amitriptyline",
    "drug_class": "tricyclic_antidepressant",
    "dose": "25 mg at night",
    "stop": None,
    "stop_reason": "ongoing",
}


def _while_the_birth_date_moves(world: Any, patient: Patient, birth: date, write: Callable[[], Any]) -> Any:
    """What ``write`` returned or raised, run in its own thread while ``patient_update`` moves the birth date to
    ``birth`` and holds the patient's lock; it must wait for that save."""
    with transaction.atomic():
        patient_update(
            user=world.users["clinician"],
            patient=Patient.objects.get(pk=patient.pk),
            data={"birth_date": birth},
            expected_version=patient.version,
        )
        thread, outcome = in_thread(write)
        thread.join(WAITS)
        assert thread.is_alive(), "the write did not wait for the birth date's save"
    thread.join()
    return outcome[0]


def test_a_preventive_started_before_a_birth_date_being_moved_after_it_is_refused(world):
    """The birth date is being moved after day D when a preventive started on D is added: the save waits for the
    patient's lock, then checks D against the new birth date and is refused at the start; nothing is stored."""
    patient = world.own_patient
    day = patient.birth_date + timedelta(days=1)
    refused = _while_the_birth_date_moves(
        world,
        patient,
        day + timedelta(days=1),
        lambda: preventive_trial_create(
            user=world.users["nurse"], patient=patient, data={**TRIAL, "start": day}, today=TODAY
        ),
    )
    assert isinstance(refused, ValidationError), refused
    assert "start" in refused.message_dict
    assert not PreventiveTrial.objects.exists()


def test_a_preventive_corrected_to_before_a_birth_date_being_moved_after_it_is_refused(world):
    """A preventive's start is corrected to day D while the birth date is being moved after D: the correction waits
    for the patient's lock, then is refused at the start; the stored start stays."""
    patient = world.own_patient
    day = patient.birth_date + timedelta(days=1)
    start = day + timedelta(days=30)
    trial = preventive_trial_create(
        user=world.users["nurse"], patient=patient, data={**TRIAL, "start": start}, today=TODAY
    )
    patient.refresh_from_db()
    refused = _while_the_birth_date_moves(
        world,
        patient,
        day + timedelta(days=1),
        lambda: preventive_trial_update(
            user=world.users["nurse"],
            trial=PreventiveTrial.objects.get(pk=trial.pk),
            data={**TRIAL, "start": day},
            today=TODAY,
        ),
    )
    assert isinstance(refused, ValidationError), refused
    assert "start" in refused.message_dict
    assert PreventiveTrial.objects.get(pk=trial.pk).start == start


def test_another_toxin_treatment_before_a_birth_date_being_moved_after_it_is_refused(world):
    """The birth date is being moved after day D when another toxin treatment on D is added: the save waits for the
    patient's lock, then checks D against the new birth date and is refused at the date; nothing is stored."""
    patient = world.own_patient
    day = patient.birth_date + timedelta(days=1)
    refused = _while_the_birth_date_moves(
        world,
        patient,
        day + timedelta(days=1),
        lambda: other_toxin_treatment_create(
            user=world.users["nurse"],
            patient=patient,
            data={"date": day, "product": "Dysport", "units": 300, "indication": "cervical dystonia"},
            today=TODAY,
        ),
    )
    assert isinstance(refused, ValidationError), refused
    assert "date" in refused.message_dict
    assert not OtherToxinTreatment.objects.exists()
