"""Injections migrations that change stored rows: 0004 leaves one open booking per patient before its constraint."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

BEFORE = ("injections", "0003_side_effect_description_limit")
AFTER = ("injections", "0004_one_open_booking_per_patient")


def _migrate(target: tuple[str, str]):
    """Migrate the test database to ``target`` and return the app registry of that state."""
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate([target])
    return executor.loader.project_state([target]).apps


def _latest() -> tuple[str, str]:
    executor = MigrationExecutor(connection)
    return next(node for node in executor.loader.graph.leaf_nodes() if node[0] == "injections")


@pytest.mark.django_db(transaction=True)
def test_0004_keeps_one_open_booking_per_patient_and_cancels_the_others_with_an_audit_event():
    """Before its constraint, 0004 leaves each patient one open booking: the earliest on or after today (a missed one
    and a later one are cancelled), or the latest when all have passed; the cancelled rows are kept with their
    version bumped and an audit event naming the booking kept. A patient's single booking and recorded sessions are
    untouched, and the constraint then refuses a second booking."""
    today = timezone.localdate()
    try:
        apps = _migrate(BEFORE)
        clinic = apps.get_model("accounts", "Clinic").objects.create(name="North Headache Clinic")
        patients = apps.get_model("patients", "Patient").objects
        doubled, missed, single = (
            patients.create(clinic=clinic, record_number=f"MRN{n}", birth_date=dt.date(1984, 5, 17)) for n in range(3)
        )
        sessions = apps.get_model("injections", "InjectionSession").objects

        def book(patient, days, status="booked"):
            return sessions.create(patient=patient, date=today + dt.timedelta(days=days), status=status)

        recorded, gone, ahead, after = (
            book(doubled, -60, "recorded"),
            book(doubled, -5),
            book(doubled, 9),
            book(doubled, 20),
        )
        first_missed, last_missed = book(missed, -30), book(missed, -10)
        alone = book(single, 30)

        apps = _migrate(AFTER)
        sessions = apps.get_model("injections", "InjectionSession").objects
        states = {row.pk: (row.status, row.version) for row in sessions.all()}
        assert states == {
            recorded.pk: ("recorded", 1),
            gone.pk: ("cancelled", 2),
            ahead.pk: ("booked", 1),
            after.pk: ("cancelled", 2),
            first_missed.pk: ("cancelled", 2),
            last_missed.pk: ("booked", 1),
            alone.pk: ("booked", 1),
        }
        events = apps.get_model("audit", "AuditEvent").objects.filter(object_type="injection_session")
        assert sorted((event.object_id, event.patient_id, event.detail) for event in events) == sorted(
            (str(cancelled.external_id), patient.external_id, _detail(cancelled, kept))
            for cancelled, kept, patient in (
                (gone, ahead, doubled),
                (after, ahead, doubled),
                (first_missed, last_missed, missed),
            )
        )
        with pytest.raises(IntegrityError), transaction.atomic():
            sessions.create(patient_id=single.pk, date=today + dt.timedelta(days=40), status="booked")
    finally:
        _migrate(_latest())


def _detail(cancelled, kept) -> str:
    """The audit detail 0004 writes for a cancelled booking."""
    return (
        f"booking of {cancelled.date} cancelled by migration injections 0004: one open booking per patient (the "
        f"booking of {kept.date} is kept)"
    )
