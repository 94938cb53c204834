"""A diary day and a birth date saved at the same moment (onaboard/web/diary/services.py): both take the patient's
row lock, so one waits for the other and checks the day against the birth date as the other left it.

PostgreSQL only (row locks under READ COMMITTED); SQLite serialises writers itself. Run with
ONABOARD_TEST_DATABASE_URL set."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from django.db import transaction

from onaboard.web.diary.models import DiaryEntry
from onaboard.web.diary.services import DiaryEntryInvalidError, diary_entry_save
from onaboard.web.patients.models import Patient
from onaboard.web.patients.services import patient_update
from tests.web.threads import WAITS, in_thread, postgresql_only  # noqa: F401 (a fixture)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("postgresql_only")]

TODAY = date(2026, 3, 2)


def _move_birth_date(world: Any, patient: Patient, birth: date) -> Patient:
    return patient_update(
        user=world.users["clinician"],
        patient=Patient.objects.get(pk=patient.pk),
        data={"birth_date": birth},
        expected_version=patient.version,
    )


def test_a_day_saved_while_the_birth_date_moves_after_it_is_refused(world):
    """The birth date is being moved after day D when the patient saves D: the save waits for the patient's lock,
    then checks D against the new birth date and is refused; no diary day is written."""
    patient = world.own_patient
    day = patient.birth_date + timedelta(days=1)
    with transaction.atomic():
        _move_birth_date(world, patient, day + timedelta(days=1))
        thread, outcome = in_thread(
            lambda: diary_entry_save(
                user=world.users["patient"],
                patient=patient,
                fields={"date": day.isoformat(), "headache_hours": "0"},
                today=TODAY,
            )
        )
        thread.join(WAITS)
        assert thread.is_alive(), "the diary day was saved without waiting for the birth date's save"
    thread.join()
    assert isinstance(outcome[0], DiaryEntryInvalidError)
    assert not DiaryEntry.objects.exists()


def test_a_birth_date_moved_while_a_day_before_it_is_saved_is_refused(world):
    """Day D is being saved when a colleague moves the birth date after D: the details save waits for the patient's
    lock, then finds D on the record and is refused; the birth date stays as it was."""
    patient = world.own_patient
    birth = patient.birth_date
    day = birth + timedelta(days=1)
    with transaction.atomic():
        diary_entry_save(
            user=world.users["patient"],
            patient=patient,
            fields={"date": day.isoformat(), "headache_hours": "0"},
            today=TODAY,
        )
        thread, outcome = in_thread(lambda: _move_birth_date(world, patient, day + timedelta(days=1)))
        thread.join(WAITS)
        assert thread.is_alive(), "the birth date was saved without waiting for the diary day"
    thread.join()
    assert isinstance(outcome[0], ValueError)
    assert Patient.objects.get(pk=patient.pk).birth_date == birth
    assert DiaryEntry.objects.filter(patient=patient, date=day).exists()
