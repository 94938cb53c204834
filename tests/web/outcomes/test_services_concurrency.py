"""Questionnaire answers and a birth date saved at the same moment (onaboard/web/outcomes/services.py): both take the
patient's row lock (``patients.services.patient_locked``), so the answers wait for the birth date's save and are
checked against the birth date it left.

PostgreSQL only (row locks under READ COMMITTED); SQLite serialises writers itself. Run with
ONABOARD_TEST_DATABASE_URL set."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.db import transaction

from onaboard.web.outcomes.models import Instrument, QuestionnaireResponse
from onaboard.web.outcomes.services import QuestionnaireDateError, questionnaire_response_record
from onaboard.web.patients.models import Patient
from onaboard.web.patients.services import patient_update
from tests.web.threads import WAITS, in_thread, postgresql_only  # noqa: F401 (a fixture)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("postgresql_only")]

TODAY = date(2026, 3, 2)


def test_answers_dated_before_a_birth_date_being_moved_after_them_are_refused(world):
    """The birth date is being moved after day D when HIT-6 answers dated D are sent: the save waits for the
    patient's lock, then checks D against the new birth date and is refused; no answers are stored."""
    patient = world.own_patient
    day = patient.birth_date + timedelta(days=1)
    with transaction.atomic():
        patient_update(
            user=world.users["clinician"],
            patient=Patient.objects.get(pk=patient.pk),
            data={"birth_date": day + timedelta(days=1)},
            expected_version=patient.version,
        )
        thread, outcome = in_thread(
            lambda: questionnaire_response_record(
                user=world.users["patient"],
                patient=patient,
                instrument=Instrument.HIT6,
                answers=["sometimes"] * 6,
                date=day,
                today=TODAY,
            )
        )
        thread.join(WAITS)
        assert thread.is_alive(), "the answers were saved without waiting for the birth date's save"
    thread.join()
    assert isinstance(outcome[0], QuestionnaireDateError), outcome
    assert not QuestionnaireResponse.objects.exists()
