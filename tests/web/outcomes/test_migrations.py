"""Outcomes migrations that change stored rows: 0004 records that the return to episodic migraine held for the
decisions made before it kept that fact in a column."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection

from tests.web.migrating import latest_migration, migrate_to

BEFORE = ("outcomes", "0003_superseded_questionnaire_responses")
AFTER = ("outcomes", "0004_treatment_decision_reverted_to_episodic")
EPISODIC = (
    "NICE TA260 1.2: periods 1, 2, 3 (2026-01-05..2026-03-29) each have < 15 headache days (6, 5, 4): changed to "
    "episodic migraine for 3 consecutive periods"
)
"""A return-to-episodic reason as the engine worded it when these decisions were stored."""


@pytest.mark.django_db(transaction=True)
def test_0004_marks_the_decisions_whose_stored_reasons_say_the_return_to_episodic_migraine_held():
    """A decision stored with the engine's return-to-episodic reason (under a stop verdict, or under not yet
    assessable with an incomplete baseline) is marked as made while that rule held, so a "continue" among them
    counts as made against the stop; the others, and a row inserted as the previous code did (not naming the
    column), are not."""
    try:
        apps = migrate_to(BEFORE)
        clinic = apps.get_model("accounts", "Clinic").objects.create(name="North Headache Clinic")
        clinician = apps.get_model("accounts", "User").objects.create(username="avery", clinic=clinic)
        patient = apps.get_model("patients", "Patient").objects.create(
            clinic=clinic, record_number="MRN1", birth_date=dt.date(1984, 5, 17)
        )
        decisions = apps.get_model("outcomes", "TreatmentDecision").objects
        baseline = "NICE TA260 1.2: baseline has 0 of 28 days recorded (< 20): incomplete"
        week24 = "NICE TA260 1.2: headache days from 20 at baseline to 18 at week 24 (period 6), a reduction of 10 %"
        stored = {
            "held back": ("not_yet_assessable", f"{baseline}\n{EPISODIC}; the stopping rule holds"),
            "stop": ("stop", EPISODIC),
            "week 24": ("stop", week24),
            "baseline": ("not_yet_assessable", baseline),
        }
        for reason, (verdict, reasons) in stored.items():
            decisions.create(
                patient=patient,
                decided_on=dt.date(2026, 6, 30),
                decision="continue",
                reason=reason,
                decided_by=clinician,
                nice_verdict=verdict,
                nice_reasons=reasons,
            )
        apps = migrate_to(AFTER)
        decisions = apps.get_model("outcomes", "TreatmentDecision").objects
        marked = dict(decisions.values_list("reason", "nice_reverted_to_episodic"))
        assert marked == {"held back": True, "stop": True, "week 24": False, "baseline": False}
        with connection.cursor() as cursor:  # the previous code's insert, which does not name the new column
            cursor.execute(
                "INSERT INTO outcomes_treatmentdecision (external_id, created, modified, patient_id, decided_on, "
                "decision, reason, decided_by_id, nice_verdict, nice_reasons) VALUES "
                "(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                [
                    "0f0e0d0c0b0a09080706050403020100",
                    dt.datetime(2026, 7, 1, tzinfo=dt.UTC),
                    dt.datetime(2026, 7, 1, tzinfo=dt.UTC),
                    patient.pk,
                    dt.date(2026, 7, 1),
                    "stop",
                    "old server",
                    clinician.pk,
                    "stop",
                    week24,
                ],
            )
        assert decisions.get(reason="old server").nice_reverted_to_episodic is False
    finally:
        migrate_to(latest_migration("outcomes"))
