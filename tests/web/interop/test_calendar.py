"""The calendar feeds' content and audit (onaboard/web/interop/calendar.py): the window, each event's status and
revision time, and who a clinic feed's fetch is audited against."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone
from icalendar import Calendar

from onaboard.web.audit.models import AuditEvent
from onaboard.web.injections.models import InjectionSession, SessionStatus
from onaboard.web.injections.services import booking_horizon
from onaboard.web.interop.calendar import CLINIC_FEED_READ, FEED_PAST_DAYS, feed_calendar, feed_create


def _events(text: bytes) -> list:
    return Calendar.from_ical(text).walk("VEVENT")


def _cancelled(patient, date: dt.date) -> InjectionSession:
    return InjectionSession.objects.create(patient=patient, date=date, status=SessionStatus.CANCELLED)


def test_a_feed_holds_the_bookings_from_its_past_days_to_the_booking_horizon(world, charted):
    """A clinic feed lists a booking FEED_PAST_DAYS ago and one on the booking horizon, not the day before the one
    or the day after the other."""
    now = timezone.now()
    today = timezone.localdate(now)
    first, last = today - dt.timedelta(days=FEED_PAST_DAYS), booking_horizon(today)
    for day in (first - dt.timedelta(days=1), first, last, last + dt.timedelta(days=1)):
        _cancelled(world.same_clinic_patient, day)
    feed, _secret = feed_create(user=world.users["clinician"], patient=None)
    days = [event["dtstart"].dt for event in _events(feed_calendar(feed, now=now))]
    assert days == [first, today + dt.timedelta(days=14), last]


def test_a_booking_beyond_the_horizon_is_left_out_of_the_patients_feed(world, charted):
    """A booking on 9999-12-31 (a typing slip from before the horizon rule) is not in the patient's feed, and the
    feed is served without it instead of failing on an end date the calendar does not have."""
    InjectionSession.objects.filter(patient=charted, status=SessionStatus.BOOKED).update(date=dt.date.max)
    feed, _secret = feed_create(user=world.users["patient"], patient=charted)
    assert _events(feed_calendar(feed)) == []


def test_a_clinic_feed_fetch_audits_only_the_patients_it_lists(world, charted):
    """A patient whose only booking was cancelled before the window is not in the feed, so the fetch writes no read
    in their trail; the listed patient gets one."""
    now = timezone.now()
    today = timezone.localdate(now)
    _cancelled(world.same_clinic_patient, today - dt.timedelta(days=FEED_PAST_DAYS + 1))
    feed, _secret = feed_create(user=world.users["clinician"], patient=None)
    before = AuditEvent.objects.count()
    feed_calendar(feed, now=now)
    reads = AuditEvent.objects.order_by("id")[before:]
    assert [(event.patient_id, event.detail) for event in reads if event.patient_id] == [
        (charted.external_id, CLINIC_FEED_READ)
    ]


def test_a_booking_still_open_after_its_day_is_tentative(world, charted):
    """A booking whose day has passed and that is still open (missed, or not recorded yet) is TENTATIVE; one on
    today or later is CONFIRMED, a cancelled one CANCELLED."""
    now = timezone.now()
    today = timezone.localdate(now)
    InjectionSession.objects.filter(patient=charted, status=SessionStatus.BOOKED).update(
        date=today - dt.timedelta(days=1)
    )
    InjectionSession.objects.create(patient=world.same_clinic_patient, date=today, status=SessionStatus.BOOKED)
    _cancelled(world.same_clinic_patient, today - dt.timedelta(days=2))
    feed, _secret = feed_create(user=world.users["clinician"], patient=None)
    statuses = [(event["dtstart"].dt, str(event["status"])) for event in _events(feed_calendar(feed, now=now))]
    assert statuses == [
        (today - dt.timedelta(days=2), "CANCELLED"),
        (today - dt.timedelta(days=1), "TENTATIVE"),
        (today, "CONFIRMED"),
    ]


def test_an_events_dtstamp_and_last_modified_are_its_sessions_modified_in_utc(world, charted):
    """DTSTAMP and LAST-MODIFIED are the session's last change, in UTC, whenever the feed is fetched: two polls
    an hour apart serve the same event, not a revision."""
    changed = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
    InjectionSession.objects.filter(patient=charted).update(modified=changed)
    feed, _secret = feed_create(user=world.users["patient"], patient=charted)
    now = timezone.now()
    first = feed_calendar(feed, now=now)
    assert feed_calendar(feed, now=now + dt.timedelta(hours=1)) == first
    assert b"\r\nDTSTAMP:20260102T030405Z\r\n" in first
    assert b"\r\nLAST-MODIFIED:20260102T030405Z\r\n" in first


def test_a_booking_gone_tentative_was_revised_when_its_day_ended(world, charted):
    """A booking left open after its day last changed when that day ended (the start of the next, in the clinic's
    time zone): then it stopped being CONFIRMED, so calendars comparing revision times take the new status."""
    now = timezone.now()
    today = timezone.localdate(now)
    day = today - dt.timedelta(days=2)
    InjectionSession.objects.filter(patient=charted).update(date=day, modified=now - dt.timedelta(days=10))
    feed, _secret = feed_create(user=world.users["patient"], patient=charted)
    (event,) = _events(feed_calendar(feed, now=now))
    day_ended = timezone.make_aware(dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min))
    assert event["dtstamp"].dt == event["last-modified"].dt == day_ended
    assert event["dtstamp"].dt.utcoffset() == dt.timedelta(0)
