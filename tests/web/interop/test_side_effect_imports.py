"""Side effects and the imports (onaboard/web/interop/services.py): a grade a file gives is a review by whoever
imports, held to the review's rules, and a session an import records links the reports waiting for it."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from django.utils import timezone

from onaboard.interop.fhir import BundleInvalidError, read_bundle
from onaboard.web.audit.models import AuditEvent
from onaboard.web.injections import selectors, services
from onaboard.web.injections.models import SessionStatus, SideEffect
from onaboard.web.interop.selectors import patients_export
from onaboard.web.interop.services import fhir_records_import, table_csv_import
from tests.web.interop.test_services import SESSIONS_HEADER, _preempt_row, _recorded_on_screen


def _severe_breathing(world, patient, today: dt.date) -> SideEffect:
    """The patient's severe "trouble breathing", reported after a session recorded 30 days ago, not reviewed."""
    _recorded_on_screen(world, patient, today - dt.timedelta(days=30))
    return services.side_effect_report(
        user=world.users["patient"],
        patient=patient,
        kind="breathing_difficulty",
        onset=today - dt.timedelta(days=25),
        severity="severe",
        today=today,
    )


def _graded_mild_unrelated(world, patient, today: dt.date):
    """The patient's own export with every side effect graded mild and not related to treatment."""
    (record,) = read_bundle(patients_export(user=world.users["clinician"], patients=[patient]), today=today)
    graded = tuple(
        dataclasses.replace(effect, clinician_grade="mild", related_to_treatment=False)
        for effect in record.side_effects
    )
    return dataclasses.replace(record, side_effects=graded)


def test_a_nurses_import_may_not_play_down_a_report_no_clinician_has_reviewed(world):
    """A nurse's import grading the patient's severe "trouble breathing" mild and not related, before any clinician
    has reviewed it, is refused in the review form's words (``REVIEW_BELOW_REPORT_CLINICIAN_ONLY``), nothing
    stored; a clinician's import of the same grade is stored."""
    patient, today = world.same_clinic_patient, timezone.localdate()
    effect = _severe_breathing(world, patient, today)
    record = _graded_mild_unrelated(world, patient, today)
    with pytest.raises(BundleInvalidError) as refused:
        fhir_records_import(user=world.users["nurse"], clinic=world.clinic, records=[record], today=today)
    (problem,) = refused.value.problems
    assert problem.message.endswith(services.REVIEW_BELOW_REPORT_CLINICIAN_ONLY.format(severity="severe"))
    effect.refresh_from_db()
    assert (effect.clinician_grade, effect.related_to_treatment, effect.reviews.count()) == ("", None, 0)
    fhir_records_import(user=world.users["clinician"], clinic=world.clinic, records=[record], today=today)
    effect.refresh_from_db()
    assert (effect.clinician_grade, effect.related_to_treatment) == ("mild", False)


def test_a_booking_the_sessions_csv_records_links_the_report_waiting_for_it(world):
    """A report made on the day of the booked session, given and not recorded yet, waits with no session; a sessions
    CSV recording that booking links it to the session, audited as its own event and counted in that row's audit
    entry (as recording it on the screen does)."""
    patient, today = world.same_clinic_patient, timezone.localdate()
    first = today - dt.timedelta(days=90)
    _recorded_on_screen(world, patient, first)
    booking = selectors.open_booking(patient)
    assert booking.date <= today
    effect = services.side_effect_report(
        user=world.users["patient"], patient=patient, kind="neck_pain", onset=booking.date, severity="mild", today=today
    )
    assert effect.session is None
    text = f"{SESSIONS_HEADER}\n{_preempt_row(patient, first)}\n{_preempt_row(patient, booking.date)}\n"
    table_csv_import(
        user=world.users["clinician"], clinic=world.clinic, kind="sessions", source=text, today=today, patient=patient
    )
    booking.refresh_from_db()
    assert booking.status == SessionStatus.RECORDED
    effect.refresh_from_db()
    assert effect.session == booking
    event = AuditEvent.objects.get(object_id=str(booking.external_id), detail__startswith="imported recorded")
    assert event.detail.endswith("; 1 side effect(s) linked")
    linked = AuditEvent.objects.get(object_id=str(effect.external_id), detail__startswith="linked")
    assert linked.detail == f"linked to the session of {booking.date}: sessions imported"


def test_a_bundle_recording_the_booking_leaves_the_waiting_report_linked(world):
    """The patient's own Bundle exported while a report waited for the booked session (the report with no session),
    imported with that booking recorded, links the report to the session: the session's import links it, and the
    report as exported, with no session, does not unlink it again (its stored session kept: the row is then
    unchanged), audited as linked by the sessions imported."""
    patient, today = world.same_clinic_patient, timezone.localdate()
    _recorded_on_screen(world, patient, today - dt.timedelta(days=90))
    booking = selectors.open_booking(patient)
    effect = services.side_effect_report(
        user=world.users["patient"], patient=patient, kind="neck_pain", onset=booking.date, severity="mild", today=today
    )
    (record,) = read_bundle(patients_export(user=world.users["clinician"], patients=[patient]), today=today)
    (exported,) = record.side_effects
    assert exported.session_date is None
    (given_before,) = [session for session in record.sessions if session.status == SessionStatus.RECORDED]
    (booked,) = [session for session in record.sessions if session.status == SessionStatus.BOOKED]
    given = dataclasses.replace(given_before, key=booked.key, date=booked.date, overridden_checks="", check_reasons="")
    sessions = tuple(given if session is booked else session for session in record.sessions)
    fhir_records_import(
        user=world.users["clinician"],
        clinic=world.clinic,
        records=[dataclasses.replace(record, sessions=sessions)],
        today=today,
    )
    booking.refresh_from_db()
    effect.refresh_from_db()
    assert (booking.status, effect.session) == (SessionStatus.RECORDED, booking)
    assert not AuditEvent.objects.filter(object_id=str(effect.external_id), detail__startswith="imported").exists()
    event = AuditEvent.objects.get(object_id=str(effect.external_id), detail__startswith="linked")
    assert event.detail == f"linked to the session of {booking.date}: sessions imported"


def test_a_bundle_grading_a_waiting_report_keeps_the_session_it_records(world, django_capture_on_commit_callbacks):
    """A Bundle exported while a report waited (no ``sessionDate`` for it), imported by a clinician with the booking
    recorded and the report graded: the report follows the session the import recorded, the review the import
    makes keeps that session (the file's "none" is no choice of a session it could not name), and a later unrelated
    booking cancelled leaves it there (the import's stamping of the session after commit is no review's time)."""
    patient, today = world.same_clinic_patient, timezone.localdate()
    _recorded_on_screen(world, patient, today - dt.timedelta(days=90))
    booking = selectors.open_booking(patient)
    effect = services.side_effect_report(
        user=world.users["patient"], patient=patient, kind="neck_pain", onset=booking.date, severity="mild", today=today
    )
    (record,) = read_bundle(patients_export(user=world.users["clinician"], patients=[patient]), today=today)
    (exported,) = record.side_effects
    assert exported.session_date is None
    graded = dataclasses.replace(exported, clinician_grade="moderate", related_to_treatment=True)
    (given_before,) = [session for session in record.sessions if session.status == SessionStatus.RECORDED]
    (booked,) = [session for session in record.sessions if session.status == SessionStatus.BOOKED]
    given = dataclasses.replace(given_before, key=booked.key, date=booked.date, overridden_checks="", check_reasons="")
    sessions = tuple(given if session is booked else session for session in record.sessions)
    with django_capture_on_commit_callbacks(execute=True):
        fhir_records_import(
            user=world.users["clinician"],
            clinic=world.clinic,
            records=[dataclasses.replace(record, sessions=sessions, side_effects=(graded,))],
            today=today,
        )
    booking.refresh_from_db()
    effect.refresh_from_db()
    assert (booking.status, effect.session, effect.clinician_grade) == (SessionStatus.RECORDED, booking, "moderate")
    assert effect.reviews.get().session == booking
    later = services.injection_session_book_first(
        user=world.users["clinician"], patient=patient, date=today + dt.timedelta(days=80), today=today
    )
    services.injection_session_cancel(user=world.users["clinician"], session=later, expected_version=None)
    effect.refresh_from_db()
    assert effect.session == booking


@pytest.mark.parametrize(("grade", "related"), [("mild", True), ("severe", False)])
def test_a_nurses_import_may_not_play_down_a_new_report(world, grade, related):
    """A nurse's import of a side effect not stored yet, already graded below its own severity or not related to
    treatment, is refused in the review form's words (``REVIEW_BELOW_REPORT_CLINICIAN_ONLY``), at the same field as for
    a stored one, and nothing is stored; a clinician's import of it is stored."""
    patient, today = world.same_clinic_patient, timezone.localdate()
    _severe_breathing(world, patient, today)
    (record,) = read_bundle(patients_export(user=world.users["clinician"], patients=[patient]), today=today)
    (stored,) = record.side_effects
    onset = today - dt.timedelta(days=20)
    new = dataclasses.replace(stored, key="", onset=onset, clinician_grade=grade, related_to_treatment=related)
    record = dataclasses.replace(record, side_effects=(stored, new))
    with pytest.raises(BundleInvalidError) as refused:
        fhir_records_import(user=world.users["nurse"], clinic=world.clinic, records=[record], today=today)
    (problem,) = refused.value.problems
    assert problem.message.endswith(services.REVIEW_BELOW_REPORT_CLINICIAN_ONLY.format(severity="severe"))
    assert not SideEffect.objects.filter(patient=patient, onset=onset).exists()
    fhir_records_import(user=world.users["clinician"], clinic=world.clinic, records=[record], today=today)
    row = SideEffect.objects.get(patient=patient, onset=onset)
    assert (row.clinician_grade, row.related_to_treatment) == (grade, related)
