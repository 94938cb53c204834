"""Writes to one patient's sessions at the same moment (onaboard/web/injections/services.py): the patient's row lock
serves them one after the other, each checked against what the other wrote, and a side-effect report against the
birth date and the sessions as they are left; a side-effect report form sent twice at once is stored once, the
second waiting for the patient's lock and its insert then failing on the unique (patient, submission) entry.

PostgreSQL only: under READ COMMITTED a transaction sees only committed rows, so without the lock two recordings each
passed the 12-week check against a history without the other. SQLite serialises writers itself (``BEGIN IMMEDIATE``).
Run with ONABOARD_TEST_DATABASE_URL set."""

from __future__ import annotations

import datetime as dt
import threading
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from django.db import transaction

from onaboard.web.audit.models import Action, AuditEvent
from onaboard.web.injections import services
from onaboard.web.injections.models import InjectionSession, SessionStatus, SideEffect
from onaboard.web.patients.models import Patient
from onaboard.web.patients.services import patient_update
from tests.web.injections.conftest import TODAY, record
from tests.web.threads import WAITS, in_thread, postgresql_only  # noqa: F401 (a fixture)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("postgresql_only")]


def test_a_recording_waits_for_one_in_progress_and_is_then_checked_against_it(nurse, patient, world):
    """While one recording's transaction is open, a second recording of the patient (10 days later, no booking to
    lock) waits for the patient's lock, then sees the first session and is refused by the 12-week check: one session
    recorded, one booking, one refusal."""
    with transaction.atomic():
        record(user=nurse, patient=patient, date=TODAY - dt.timedelta(days=10))
        thread, outcome = in_thread(lambda: record(user=world.users["clinician"], patient=patient, date=TODAY))
        thread.join(WAITS)
        assert thread.is_alive(), "the second recording did not wait for the first"
    thread.join()
    assert len(outcome) == 1
    assert isinstance(outcome[0], services.SessionChecksFailedError)
    assert [check.code for check in outcome[0].checks] == ["interval"]
    sessions = InjectionSession.objects.filter(patient=patient)
    assert sessions.filter(status=SessionStatus.RECORDED).count() == 1
    assert sessions.filter(status=SessionStatus.BOOKED).count() == 1


def test_recordings_started_together_on_different_days_record_one_session(nurse, patient):
    """Four recordings of the standard plan on four days within a week, released at once: exactly one is recorded
    and books the next session; the other three are refused for the 12-week interval (none overridden)."""
    barrier = threading.Barrier(4)

    def recording(days: int) -> Callable[[], Any]:
        def work() -> InjectionSession:
            barrier.wait()
            return record(user=nurse, patient=patient, date=TODAY - dt.timedelta(days=days))

        return work

    runs = [in_thread(recording(days)) for days in range(0, 8, 2)]
    for thread, _outcome in runs:
        thread.join()
    outcomes = [outcome[0] for _thread, outcome in runs]
    recorded = [result for result in outcomes if isinstance(result, InjectionSession)]
    refused = [result for result in outcomes if isinstance(result, services.SessionChecksFailedError)]
    assert (len(recorded), len(refused)) == (1, 3), outcomes
    sessions = InjectionSession.objects.filter(patient=patient)
    assert sessions.filter(status=SessionStatus.RECORDED).count() == 1
    assert sessions.filter(status=SessionStatus.BOOKED).count() == 1
    assert not sessions.exclude(override_reason="").exists()


def test_a_birth_date_moved_later_while_a_session_is_recorded_before_it_is_refused(nurse, patient, world):
    """A session on day D is being recorded when a colleague moves the birth date after D: the details save waits
    for the patient's lock, then finds the session and is refused; the stored birth date stays before D."""
    day = TODAY - dt.timedelta(days=3)
    birth = patient.birth_date
    with transaction.atomic():
        record(user=nurse, patient=patient, date=day)
        thread, outcome = in_thread(
            lambda: patient_update(
                user=world.users["clinician"],
                patient=Patient.objects.get(pk=patient.pk),
                data={"birth_date": day + dt.timedelta(days=1)},
                expected_version=patient.version,
            )
        )
        thread.join(WAITS)
        assert thread.is_alive(), "the birth date was saved without waiting for the recording"
    thread.join()
    assert isinstance(outcome[0], ValueError)
    assert Patient.objects.get(pk=patient.pk).birth_date == birth
    assert InjectionSession.objects.filter(patient=patient, date=day, status=SessionStatus.RECORDED).exists()


def test_a_session_recorded_while_the_birth_date_moves_after_it_is_refused(nurse, patient, world):
    """The birth date is being moved after day D when a session on D is recorded: the recording waits for the
    patient's lock, then checks D against the new birth date and is refused; nothing is written."""
    day = TODAY - dt.timedelta(days=3)
    with transaction.atomic():
        patient_update(
            user=world.users["clinician"],
            patient=Patient.objects.get(pk=patient.pk),
            data={"birth_date": day + dt.timedelta(days=1)},
            expected_version=patient.version,
        )
        thread, outcome = in_thread(lambda: record(user=nurse, patient=patient, date=day))
        thread.join(WAITS)
        assert thread.is_alive(), "the recording did not wait for the birth date's save"
    thread.join()
    assert isinstance(outcome[0], services.SessionRefusedError)
    assert [field for field, _message in outcome[0].problems] == ["date"]
    assert not InjectionSession.objects.filter(patient=patient).exists()


@pytest.mark.parametrize("change", ["move", "cancel"])
def test_moving_or_cancelling_a_booking_waits_for_the_patients_lock(nurse, patient, change):
    """While another write holds the patient's lock (a recording, a birth date), moving or cancelling the patient's
    booking waits for it, then is saved."""
    booking = InjectionSession.objects.create(patient=patient, date=TODAY, status=SessionStatus.BOOKED)
    later = TODAY + dt.timedelta(days=1)
    writes = {
        "move": lambda: services.injection_session_book(
            user=nurse, session=booking, date=later, expected_version=1, today=TODAY
        ),
        "cancel": lambda: services.injection_session_cancel(user=nurse, session=booking, expected_version=1),
    }
    with transaction.atomic():
        services.patient_locked(patient)
        thread, outcome = in_thread(writes[change])
        thread.join(WAITS)
        assert thread.is_alive(), f"the {change} did not wait for the patient's lock"
    thread.join()
    assert isinstance(outcome[0], InjectionSession)
    booking.refresh_from_db()
    assert (booking.date, booking.status) == {
        "move": (later, SessionStatus.BOOKED),
        "cancel": (TODAY, SessionStatus.CANCELLED),
    }[change]


def test_a_report_sent_twice_at_once_is_stored_once_and_both_get_it(patient, world):
    """One report form posted twice at the same moment (a double tap over a slow network): the second waits for the
    first's patient lock, its insert fails on the unique (patient, submission) entry, and it returns the first
    report; one side effect, one audit event."""
    _treated_before(patient, TODAY - dt.timedelta(days=30))
    token = uuid.uuid4()
    barrier = threading.Barrier(2)

    def sending() -> SideEffect:
        barrier.wait()
        return services.side_effect_report(
            user=world.users["patient"],
            patient=patient,
            kind="myalgia",
            onset=TODAY,
            severity="moderate",
            today=TODAY,
            submission=token,
        )

    runs = [in_thread(sending) for _ in range(2)]
    for thread, _outcome in runs:
        thread.join()
    outcomes = [outcome[0] for _thread, outcome in runs]
    assert all(isinstance(result, SideEffect) for result in outcomes), outcomes
    assert outcomes[0].pk == outcomes[1].pk
    assert SideEffect.objects.filter(patient=patient).count() == 1
    assert AuditEvent.objects.filter(object_type="side_effect", action=Action.CREATE).count() == 1


def test_a_report_resent_while_the_first_is_being_saved_waits_and_gets_the_first(patient, world):
    """While the first post's transaction is still open, the resend waits for it, then returns the first report."""
    _treated_before(patient, TODAY - dt.timedelta(days=30))
    token = uuid.uuid4()
    answers = {"kind": "myalgia", "onset": TODAY, "severity": "moderate", "today": TODAY, "submission": token}
    user = world.users["patient"]
    with transaction.atomic():
        first = services.side_effect_report(user=user, patient=patient, **answers)
        thread, outcome = in_thread(lambda: services.side_effect_report(user=user, patient=patient, **answers))
        thread.join(WAITS)
        assert thread.is_alive(), "the resend did not wait for the first"
    thread.join()
    assert outcome[0].pk == first.pk
    assert SideEffect.objects.filter(patient=patient).count() == 1


def test_a_side_effect_before_a_birth_date_being_moved_after_it_is_refused(patient, world):
    """The birth date is being moved after day D when a side effect beginning on D is reported: the report waits for
    the patient's lock, then checks D against the new birth date and is refused at the onset; nothing is stored."""
    day = TODAY - dt.timedelta(days=3)
    _treated_before(patient, TODAY - dt.timedelta(days=1))  # after the new birth date: the move is allowed
    with transaction.atomic():
        patient_update(
            user=world.users["clinician"],
            patient=Patient.objects.get(pk=patient.pk),
            data={"birth_date": day + dt.timedelta(days=1)},
            expected_version=patient.version,
        )
        thread, outcome = in_thread(
            lambda: services.side_effect_report(
                user=world.users["patient"],
                patient=patient,
                kind="myalgia",
                onset=day,
                severity="moderate",
                today=TODAY,
            )
        )
        thread.join(WAITS)
        assert thread.is_alive(), "the report did not wait for the birth date's save"
    thread.join()
    assert isinstance(outcome[0], services.SideEffectRefusedError), outcome
    fields = [field for field, _message in outcome[0].problems]
    assert set(fields) == {"onset"}  # before the new birth date, and before the first session
    assert "before the birth date on the record" in outcome[0].problems[0][1]  # the new birth date, checked first
    assert not SideEffect.objects.exists()


def test_a_side_effect_reported_while_a_session_before_it_is_recorded_follows_that_session(nurse, patient, world):
    """A session on day D is being recorded when a side effect beginning after D is reported: the report waits for
    the patient's lock, then finds the session and attributes the side effect to it."""
    day = TODAY - dt.timedelta(days=3)
    with transaction.atomic():
        session = record(user=nurse, patient=patient, date=day)
        thread, outcome = in_thread(
            lambda: services.side_effect_report(
                user=world.users["patient"],
                patient=patient,
                kind="myalgia",
                onset=day + dt.timedelta(days=1),
                severity="moderate",
                today=TODAY,
            )
        )
        thread.join(WAITS)
        assert thread.is_alive(), "the report did not wait for the recording"
    thread.join()
    assert isinstance(outcome[0], SideEffect), outcome
    assert SideEffect.objects.get(pk=outcome[0].pk).session_id == session.pk


def _treated_before(patient: Patient, day: dt.date) -> None:
    """A session recorded for the patient on ``day``: a side effect follows a session
    (``services.side_effect_session_problems``)."""
    InjectionSession.objects.create(patient=patient, date=day, status=SessionStatus.RECORDED)
