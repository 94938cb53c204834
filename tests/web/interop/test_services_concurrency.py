"""Imports of one patient at the same moment (onaboard/web/interop/services.py): each import locks the rows of the
patients it writes before it reads what is stored, so the second waits for the first and matches the rows it wrote
(a second import of the same file changes nothing) instead of adding them again or crashing on a constraint; two
imports of one new patient, which no lock can hold, end the same way (the second runs once more and finds them).

PostgreSQL only: under READ COMMITTED a transaction sees only committed rows, so without the lock each import read the
history as it was before either. SQLite serialises writers itself. Run with ONABOARD_TEST_DATABASE_URL set."""

from __future__ import annotations

import contextlib
import datetime as dt
import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import transaction
from django.utils import timezone

from onaboard.interop.fhir.records import PatientRecord, PreventiveRecord
from onaboard.web.diary.models import DiaryEntry
from onaboard.web.injections.models import InjectionSession
from onaboard.web.interop import services
from onaboard.web.interop.services import ImportSummary, diary_csv_import, fhir_records_import, table_csv_import
from onaboard.web.patients.models import Patient, PreventiveTrial
from tests.web.threads import WAITS, in_thread, postgresql_only  # noqa: F401 (a fixture)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("postgresql_only")]

START = dt.date(2025, 1, 1)


def _second_waits_for_first(first: Callable[[], ImportSummary], second: Callable[[], ImportSummary]) -> Any:
    """Run ``first`` in a transaction held open while ``second`` starts in a thread; the second must still be running
    (waiting) when the first commits. The second's result, or the exception it raised."""
    with transaction.atomic():
        first()
        thread, outcome = in_thread(second)
        thread.join(WAITS)
        assert thread.is_alive(), "the second import did not wait for the first"
    thread.join()
    (result,) = outcome
    return result


def _table(world: Any, kind: str, text: str) -> Callable[[], ImportSummary]:
    return lambda: table_csv_import(
        user=world.users["clinician"], clinic=world.clinic, kind=kind, source=text, today=timezone.localdate()
    )


def test_a_preventives_csv_imported_twice_at_once_adds_the_medicine_once(world):
    """The same one-row preventives CSV imported by two people at once: the second waits for the first, then finds
    its topiramate and changes nothing (each had created it: two identical rows)."""
    number = world.own_patient.record_number
    header = "patient_id,drug,drug_class,dose,start,stop,stop_reason\n"
    text = f"{header}{number},topiramate,anticonvulsant,,{START},,ongoing\n"
    second = _second_waits_for_first(_table(world, "preventives", text), _table(world, "preventives", text))
    assert isinstance(second, ImportSummary), second
    assert second.lines() == ["preventives: 0 created, 0 updated, 1 unchanged"]
    assert PreventiveTrial.objects.filter(patient=world.own_patient).count() == 1


def test_a_sessions_csv_imported_twice_at_once_books_the_session_once(world):
    """The same one-row sessions CSV (a booking) imported twice at once: the second waits, then finds the booking and
    changes nothing (it crashed on the one-session-a-day constraint: a 500 on the upload page)."""
    day = timezone.localdate() + dt.timedelta(days=14)
    text = f"patient_id,date,status\n{world.own_patient.record_number},{day},booked\n"
    second = _second_waits_for_first(_table(world, "sessions", text), _table(world, "sessions", text))
    assert isinstance(second, ImportSummary), second
    assert second.lines() == ["sessions: 0 created, 0 updated, 1 unchanged"]
    assert InjectionSession.objects.filter(patient=world.own_patient).count() == 1


def test_a_diary_csv_imported_twice_at_once_writes_the_day_once(world):
    """The same one-day diary CSV imported twice at once: the second waits, then finds the day unchanged (it crashed
    on the one-row-a-day constraint)."""
    day = timezone.localdate() - dt.timedelta(days=1)
    text = f"patient_id,date,headache_hours,intensity,nausea\n{world.own_patient.record_number},{day},6,severe,yes\n"

    def diary() -> ImportSummary:
        return diary_csv_import(user=world.users["clinician"], clinic=world.clinic, source=text, today=day)

    second = _second_waits_for_first(diary, diary)
    assert isinstance(second, ImportSummary), second
    assert second.lines() == ["diary days: 0 created, 0 updated, 1 unchanged"]
    assert DiaryEntry.objects.filter(patient=world.own_patient).count() == 1


def _new_patient(number: str) -> PatientRecord:
    trial = PreventiveRecord("", "topiramate", "anticonvulsant", START, None, "ongoing")
    return PatientRecord("", number, "Nia", number, dt.date(1980, 1, 1), "female", preventives=(trial,))


def _fhir(world: Any, records: list[PatientRecord]) -> Callable[[], ImportSummary]:
    return lambda: fhir_records_import(user=world.users["clinician"], clinic=world.clinic, records=records)


def test_a_bundle_of_a_new_patient_imported_twice_at_once_registers_them_once(world):
    """Two imports of a Bundle of a patient not yet registered: the second, refused the record number the first
    registered meanwhile, runs once more and finds the patient and their medicine unchanged (it crashed with the
    constraint's IntegrityError, the record number in its traceback)."""
    first = _fhir(world, [_new_patient("NEW-1")])
    second = _second_waits_for_first(first, _fhir(world, [_new_patient("NEW-1")]))
    assert isinstance(second, ImportSummary), second
    assert not second.changed
    assert second.counts["patients"] == [0, 0, 1]
    assert Patient.objects.filter(clinic=world.clinic, record_number="NEW-1").count() == 1
    assert PreventiveTrial.objects.filter(patient__record_number="NEW-1").count() == 1


def test_two_bundles_of_the_same_new_patients_in_either_order_do_not_deadlock(world, monkeypatch):
    """Two imports of the same two new patients, listed in opposite orders, each pausing after registering its first
    patient: both register them in the order of their record numbers, so one waits for the other instead of each
    holding a record number the other needs (PostgreSQL then aborted one as a deadlock); both end cleanly."""
    real = services.patient_create
    meeting = threading.Barrier(2)
    paused: set[int] = set()

    def create_then_pause(**kwargs: Any) -> Patient:
        patient = real(**kwargs)
        if threading.get_ident() not in paused:  # once per import: let the other register its first patient
            paused.add(threading.get_ident())
            with contextlib.suppress(threading.BrokenBarrierError):
                meeting.wait(timeout=WAITS)
        return patient

    monkeypatch.setattr(services, "patient_create", create_then_pause)
    one, two = _new_patient("NEW-1"), _new_patient("NEW-2")
    threads = [in_thread(_fhir(world, [one, two])), in_thread(_fhir(world, [two, one]))]
    for thread, _ in threads:
        thread.join()
    outcomes = [result for _, (result,) in threads]
    assert all(isinstance(outcome, ImportSummary) for outcome in outcomes), outcomes
    assert sorted(outcome.counts["patients"] for outcome in outcomes) == [[0, 0, 2], [2, 0, 0]]
    assert Patient.objects.filter(clinic=world.clinic, record_number__startswith="NEW-").count() == 2
