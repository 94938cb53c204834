"""The side effects linked to no session put down again by the report's rule whenever the patient's sessions change
(services.py ``relink_waiting_side_effects``): a booking recorded on a later day than it was booked for, cancelled,
moved, or a session marked entered in error."""

from __future__ import annotations

import datetime as dt

import pytest

from onaboard.web.audit.models import Action, AuditEvent
from onaboard.web.injections import selectors, services
from onaboard.web.injections.models import InjectionSession, SessionStatus, SideEffect
from tests.web.injections.conftest import record

FIRST = dt.date(2026, 1, 5)
BOOKED = dt.date(2026, 3, 30)  # the next session, booked by recording FIRST: 12 weeks later
AFTER_BOOKED = dt.date(2026, 3, 31)
GIVEN = dt.date(2026, 4, 3)  # the day the patient came instead


@pytest.fixture
def first(nurse, patient) -> InjectionSession:
    """The patient's first session, recorded on its day; it books the next for ``BOOKED``."""
    session = record(user=nurse, patient=patient, date=FIRST, today=FIRST)
    assert selectors.open_booking(patient).date == BOOKED
    return session


def _report(world, patient, onset: dt.date, today: dt.date, kind: str = "neck_pain") -> SideEffect:
    return services.side_effect_report(
        user=world.users["patient"], patient=patient, kind=kind, onset=onset, severity="moderate", today=today
    )


def _linked_event(effect: SideEffect) -> AuditEvent:
    """The side effect's own audit event of being put down again (``services.audit_relinked``)."""
    return AuditEvent.objects.get(
        object_type="side_effect", object_id=str(effect.external_id), action=Action.UPDATE, detail__startswith="linked"
    )


def _booking_event(booking: InjectionSession, startswith: str) -> AuditEvent:
    return AuditEvent.objects.get(
        object_id=str(booking.external_id), action=Action.UPDATE, detail__startswith=startswith
    )


def test_a_booking_recorded_on_a_later_day_puts_the_reports_in_between_down_to_the_session_before(
    world, nurse, patient, first
):
    """The patient, booked for 30 March, comes on 3 April. A report started on 31 March waited for the booking; once
    the session is recorded as given on 3 April, it follows the session of 5 January (it began before the
    treatment of 3 April), not left with none for good, and its page no longer names a booking; one started on 3
    April follows the session of 3 April. Each is audited as its own event; the recording's entry counts them."""
    between = _report(world, patient, AFTER_BOOKED, today=dt.date(2026, 4, 1))
    same_day = _report(world, patient, GIVEN, today=GIVEN, kind="myalgia")
    assert (between.session, same_day.session) == (None, None)
    given = record(user=nurse, patient=patient, date=GIVEN, today=GIVEN)
    assert given.status == SessionStatus.RECORDED
    between.refresh_from_db()
    same_day.refresh_from_db()
    assert (between.session, same_day.session) == (first, given)
    assert selectors.side_effect_booking(patient, AFTER_BOOKED) is None
    event = AuditEvent.objects.get(object_id=str(given.external_id), detail__startswith=f"recorded {GIVEN}")
    assert event.detail.endswith("; 2 side effect(s) linked")
    assert _linked_event(between).detail == f"linked to the session of {FIRST}: session of {GIVEN} recorded"
    assert _linked_event(same_day).detail == f"linked to the session of {GIVEN}: session of {GIVEN} recorded"


def test_cancelling_the_booking_puts_the_reports_waiting_for_it_down_to_the_session_before(
    world, nurse, patient, first
):
    """A report started the day after a booking the patient missed waits for it; cancelling the booking puts it
    down to the session before its onset, audited as its own event and counted in the cancellation's entry."""
    waiting = _report(world, patient, AFTER_BOOKED, today=dt.date(2026, 4, 1))
    assert waiting.session is None
    booking = selectors.open_booking(patient)
    services.injection_session_cancel(user=nurse, session=booking, expected_version=booking.version)
    waiting.refresh_from_db()
    assert waiting.session == first
    event = _booking_event(booking, f"booking of {BOOKED} cancelled")
    assert event.detail == f"booking of {BOOKED} cancelled; 1 side effect(s) linked"
    assert _linked_event(waiting).detail == f"linked to the session of {FIRST}: booking of {BOOKED} cancelled"


def test_moving_the_booking_past_a_report_puts_it_down_to_the_session_before(world, nurse, patient, first):
    """A report waiting for a booking the patient missed follows the session before its onset once the booking is
    moved to a day after its onset (audited as its own event, counted in the booking's move)."""
    waiting = _report(world, patient, AFTER_BOOKED, today=dt.date(2026, 4, 2))
    booking = selectors.open_booking(patient)
    moved_to = dt.date(2026, 4, 10)
    services.injection_session_book(
        user=nurse, session=booking, date=moved_to, expected_version=booking.version, today=dt.date(2026, 4, 2)
    )
    waiting.refresh_from_db()
    assert waiting.session == first
    event = _booking_event(booking, f"booking moved from {BOOKED} to {moved_to}")
    assert event.detail.endswith("; 1 side effect(s) linked")
    why = f"booking moved from {BOOKED} to {moved_to}"
    assert _linked_event(waiting).detail == f"linked to the session of {FIRST}: {why}"


def test_marking_a_session_in_error_links_a_report_left_with_none_by_the_history_as_it_now_is(
    world, nurse, patient, first
):
    """A report stored with no session (as an import of a record without one leaves it) after the second session:
    marking the second entered in error moves that session's own report to the first (``side_effects_moved``,
    sent back to review) and puts the unlinked one down to the first too: the moved one named in the marking's
    audit entry, the linked one audited as its own event and counted there."""
    second = record(user=nurse, patient=patient, date=BOOKED, today=BOOKED)
    own = _report(world, patient, BOOKED + dt.timedelta(days=2), today=BOOKED + dt.timedelta(days=2))
    assert own.session == second
    unlinked = SideEffect.objects.create(
        patient=patient, session=None, kind="myalgia", onset=BOOKED + dt.timedelta(days=3), severity="mild"
    )
    second.refresh_from_db()
    _, moved = services.injection_session_mark_in_error(
        user=world.users["clinician"], session=second, reason="wrong patient", expected_version=second.version
    )
    assert [effect.pk for effect in moved] == [own.pk]
    unlinked.refresh_from_db()
    own.refresh_from_db()
    assert (own.session, unlinked.session) == (first, first)
    event = _booking_event(second, f"recorded session of {BOOKED}")
    assert f"; side effect {own.external_id} now after the session of {FIRST}, to review again" in event.detail
    assert event.detail.endswith("; 1 side effect(s) linked")
    why = f"session of {BOOKED} marked entered in error"
    assert _linked_event(unlinked).detail == f"linked to the session of {FIRST}: {why}"


def test_a_review_that_chose_no_session_over_one_it_was_offered_is_kept(world, nurse, patient, first):
    """A clinician's review taking a report off the session it followed (recorded before the review, so offered to
    it) is the reviewer's choice: cancelling the booking later does not link it again, while a report waiting for
    that booking is linked."""
    chosen = _report(world, patient, FIRST + dt.timedelta(days=10), today=FIRST + dt.timedelta(days=10))
    assert chosen.session == first
    services.side_effect_review(
        user=world.users["clinician"], side_effect=chosen, grade="moderate", related_to_treatment=None, session=None
    )
    waiting = _report(world, patient, AFTER_BOOKED, today=dt.date(2026, 4, 1), kind="myalgia")
    booking = selectors.open_booking(patient)
    services.injection_session_cancel(user=nurse, session=booking, expected_version=booking.version)
    chosen.refresh_from_db()
    waiting.refresh_from_db()
    assert (chosen.session, waiting.session) == (None, first)


def test_a_session_given_before_its_booking_takes_the_report_linked_to_the_session_before(world, nurse, patient, first):
    """The booking moved to 10 April; a report started on 1 April (the booking after it: no waiting) is linked to the
    session of 5 January. The patient then comes on 1 April, before the booking's day: recording that session puts
    the report, never reviewed, down to it, as the report would have been had the session been recorded first;
    another report of that day that a clinician reviewed, keeping the session of 5 January, keeps it."""
    booking = selectors.open_booking(patient)
    today = dt.date(2026, 3, 31)
    services.injection_session_book(
        user=nurse, session=booking, date=dt.date(2026, 4, 10), expected_version=booking.version, today=today
    )
    onset = dt.date(2026, 4, 1)
    unreviewed = _report(world, patient, onset, today=onset)
    reviewed = _report(world, patient, onset, today=onset, kind="myalgia")
    assert (unreviewed.session, reviewed.session) == (first, first)
    services.side_effect_review(
        user=world.users["clinician"], side_effect=reviewed, grade="moderate", related_to_treatment=True, session=first
    )
    given = record(user=nurse, patient=patient, date=onset, today=onset)
    unreviewed.refresh_from_db()
    reviewed.refresh_from_db()
    assert (unreviewed.session, reviewed.session) == (given, first)
    assert _linked_event(unreviewed).detail == f"linked to the session of {onset}: session of {onset} recorded"


def test_each_side_effect_put_down_again_has_its_own_audit_event(world, nurse, patient, first):
    """Six reports waiting for a booking the patient missed, cancelled: each is a write to the patient's record and
    has its own audit event naming its session (a list of them in the cancellation's detail was cut at the trail's
    400 characters, leaving some unaudited); the cancellation's own entry counts them."""
    kinds = ["neck_pain", "myalgia", "headache", "eyelid_ptosis", "injection_site_pain", "neck_weakness"]
    waiting = [_report(world, patient, AFTER_BOOKED, today=dt.date(2026, 4, 1), kind=kind) for kind in kinds]
    assert all(effect.session is None for effect in waiting)
    booking = selectors.open_booking(patient)
    services.injection_session_cancel(user=nurse, session=booking, expected_version=booking.version)
    for effect in waiting:
        effect.refresh_from_db()
        assert effect.session == first
        event = _linked_event(effect)
        assert event.detail == f"linked to the session of {FIRST}: booking of {BOOKED} cancelled"
        assert event.patient_id == patient.external_id
    event = _booking_event(booking, f"booking of {BOOKED} cancelled")
    assert event.detail == f"booking of {BOOKED} cancelled; 6 side effect(s) linked"
