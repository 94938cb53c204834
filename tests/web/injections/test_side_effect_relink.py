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
    April follows the session of 3 April. The recording's audit entry names both."""
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
    assert f"; side effect {between.external_id} now after the session of {FIRST}" in event.detail
    assert f"; side effect {same_day.external_id} now after this session" in event.detail


def test_cancelling_the_booking_puts_the_reports_waiting_for_it_down_to_the_session_before(
    world, nurse, patient, first
):
    """A report started the day after a booking the patient missed waits for it; cancelling the booking puts it
    down to the session before its onset, named in the cancellation's audit entry."""
    waiting = _report(world, patient, AFTER_BOOKED, today=dt.date(2026, 4, 1))
    assert waiting.session is None
    booking = selectors.open_booking(patient)
    services.injection_session_cancel(user=nurse, session=booking, expected_version=booking.version)
    waiting.refresh_from_db()
    assert waiting.session == first
    event = _booking_event(booking, f"booking of {BOOKED} cancelled")
    assert (
        event.detail
        == f"booking of {BOOKED} cancelled; side effect {waiting.external_id} now after the session of {FIRST}"
    )


def test_moving_the_booking_past_a_report_puts_it_down_to_the_session_before(world, nurse, patient, first):
    """A report waiting for a booking the patient missed follows the session before its onset once the booking is
    moved to a day after its onset (the booking's move audited naming it); one still after the moved booking would
    wait."""
    waiting = _report(world, patient, AFTER_BOOKED, today=dt.date(2026, 4, 2))
    booking = selectors.open_booking(patient)
    moved_to = dt.date(2026, 4, 10)
    services.injection_session_book(
        user=nurse, session=booking, date=moved_to, expected_version=booking.version, today=dt.date(2026, 4, 2)
    )
    waiting.refresh_from_db()
    assert waiting.session == first
    event = _booking_event(booking, f"booking moved from {BOOKED} to {moved_to}")
    assert event.detail.endswith(f"; side effect {waiting.external_id} now after the session of {FIRST}")


def test_marking_a_session_in_error_links_a_report_left_with_none_by_the_history_as_it_now_is(
    world, nurse, patient, first
):
    """A report stored with no session (as an import of a record without one leaves it) after the second session:
    marking the second entered in error moves that session's own report to the first (``side_effects_moved``,
    sent back to review) and puts the unlinked one down to the first too, both named in the audit entry."""
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
    assert event.detail.endswith(f"; side effect {unlinked.external_id} now after the session of {FIRST}")


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
