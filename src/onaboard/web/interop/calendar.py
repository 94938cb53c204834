"""iCalendar feeds of booked sessions (RFC 5545), one per patient or per clinician (their clinic's bookings).

Who a feed is for: a patient's feed is for the patient's own calendar (they create it on the portal's "my data";
staff create one on the patient's exchange page for a patient who does not use the portal, and hand them the
address); a clinician's or nurse's feed of the whole clinic is for their work calendar.

What an event says: calendar contents are copied to the calendar provider's servers and shown on lock screens,
so events carry no names. A patient's feed says "onabotulinumtoxinA session" and the clinic, and no identifier;
a clinician's feed titles each event with the patient's record number, an identifier (HIPAA counts medical record
numbers among them), which with the date and the treatment goes to whichever calendar service subscribes: the
clinic feed's page says so. Sessions are booked by day, so events are all-day. A cancelled booking stays in the
feed as a cancelled event, so subscribed calendars remove it; a booking still open after its day is tentative
(``event_status``). A feed holds the bookings from ``FEED_PAST_DAYS`` ago to the booking horizon ahead.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop
from icalendar import Calendar, Event

from onaboard.web.audit.models import Action
from onaboard.web.audit.services import AuditEntry, audit_record, audit_records
from onaboard.web.injections.models import InjectionSession, SessionStatus
from onaboard.web.injections.services import booking_horizon
from onaboard.web.interop.models import CalendarFeed, feed_digest
from onaboard.web.patients.access import Capability, can, patients_visible_to
from onaboard.web.patients.models import Patient

PATIENT_SUMMARY = gettext_noop("onabotulinumtoxinA session")
CLINICIAN_SUMMARY = gettext_noop("onabotulinumtoxinA session: {record_number}")
PRODID = "-//onaboard//booked sessions//EN"
CLINIC_FEED_READ = "clinic calendar feed"
"""The detail of the READ event a clinic feed's fetch writes for each patient it lists."""
FEED_PAST_DAYS = 90
"""How far back a feed reaches: the bookings of the last 90 days, through the booking horizon ahead
(``booking_horizon``, the furthest a booking may be put). Long enough for a cancellation or a missed booking to reach
every subscribed calendar (calendar apps poll hours, some a day, apart) and for the clinic to follow a missed one
up. Without a limit every poll sent every booking and cancellation the clinic ever had to the calendar provider
again and, for a clinic feed, wrote a read into the trail of every patient who ever had one. An event that leaves
the feed leaves the subscribed calendars; a session once recorded has already left it (the feed shows bookings)."""


def feed_create(*, user: Any, patient: Patient | None) -> tuple[CalendarFeed, str]:
    """A new feed for ``patient`` (or the user's clinic) and its secret, shown once; audited."""
    raw = CalendarFeed.new_secret()
    with transaction.atomic():
        feed = CalendarFeed.objects.create(owner=user, patient=patient, digest=feed_digest(raw), prefix=raw[4:12])
        audit_record(
            user=user,
            action=Action.CREATE,
            object_type="calendar_feed",
            object_id=feed.external_id,
            patient_id=patient.external_id if patient else None,
            detail="patient feed" if patient else "clinic feed",
        )
    return feed, raw


def feed_revoke(*, user: Any, feed: CalendarFeed) -> None:
    with transaction.atomic():
        CalendarFeed.objects.filter(pk=feed.pk, revoked__isnull=True).update(revoked=timezone.now())
        audit_record(
            user=user,
            action=Action.UPDATE,
            object_type="calendar_feed",
            object_id=feed.external_id,
            patient_id=feed.patient.external_id if feed.patient else None,
            detail="revoked",
        )


def feeds_of(user: Any, patient: Patient | None) -> list[CalendarFeed]:
    return list(CalendarFeed.objects.filter(owner=user, patient=patient, revoked__isnull=True))


def feed_for(raw: str) -> CalendarFeed | None:
    """The live feed for this secret whose owner may still see what it shows, else None."""
    feed = (
        CalendarFeed.objects.select_related("owner", "patient")
        .filter(digest=feed_digest(raw), revoked__isnull=True)
        .first()
    )
    if feed is None or not feed.owner.is_active:
        return None
    if feed.patient is not None:
        visible = patients_visible_to(feed.owner).filter(pk=feed.patient_id).exists()
        return feed if visible and can(feed.owner, Capability.VIEW_CLINICAL) else None
    return feed if feed.owner.clinic_id is not None and can(feed.owner, Capability.RECORD_SESSION) else None


def feed_window(today: dt.date) -> tuple[dt.date, dt.date]:
    """The first and last day of the bookings a feed holds on ``today``: ``FEED_PAST_DAYS`` back, through
    ``booking_horizon(today)``. A booking beyond the horizon (a typing slip from before the horizon rule, say
    9999-12-31) is left out, so every event has its day after for DTEND."""
    return today - dt.timedelta(days=FEED_PAST_DAYS), booking_horizon(today)


def event_status(session: InjectionSession, *, today: dt.date) -> str:
    """The event's STATUS (RFC 5545 3.8.1.11): CANCELLED for a cancelled booking; TENTATIVE for a booking still open
    after its day; CONFIRMED for one on ``today`` or later.

    A booking still open after its day was missed, or given and not recorded yet (recording turns the booking into
    the recorded session, which takes it out of the feed): the clinic does not know yet, which is what TENTATIVE
    says. It is kept rather than left out: left out, it would vanish from the clinic's calendar while it still
    needs recording, moving or cancelling, and from the patient's before the clinic has settled it; it leaves the
    feed once recorded or ``FEED_PAST_DAYS`` after its day."""
    if session.status == SessionStatus.CANCELLED:
        return "CANCELLED"
    return "TENTATIVE" if session.date < today else "CONFIRMED"


def event_revised(session: InjectionSession, *, today: dt.date) -> dt.datetime:
    """When the event last changed, in UTC: its DTSTAMP and LAST-MODIFIED (RFC 5545 3.8.7.2-3, UTC only). The
    session's ``modified``, or for a booking gone TENTATIVE (``event_status``) the start of the day after it, in the
    clinic's time zone, if later: the moment it stopped being CONFIRMED. Not the fetch's time, which made every poll
    look like a revision of every event."""
    revised = session.modified
    if event_status(session, today=today) == "TENTATIVE":
        day_after = session.date + dt.timedelta(days=1)
        revised = max(revised, timezone.make_aware(dt.datetime.combine(day_after, dt.time.min)))
    return revised.astimezone(dt.UTC)


def _feed_sessions(feed: CalendarFeed, *, today: dt.date) -> list[InjectionSession]:
    first, last = feed_window(today)
    sessions = InjectionSession.objects.select_related("patient", "patient__clinic").filter(
        status__in=(SessionStatus.BOOKED, SessionStatus.CANCELLED), date__gte=first, date__lte=last
    )
    if feed.patient is not None:
        sessions = sessions.filter(patient=feed.patient)
    else:
        sessions = sessions.filter(patient__in=patients_visible_to(feed.owner))
    return list(sessions.order_by("date"))


def _feed_text(feed: CalendarFeed, sessions: list[InjectionSession], *, today: dt.date) -> bytes:
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", "onaboard")
    for session in sessions:
        event = Event()
        revised = event_revised(session, today=today)
        event.add("uid", f"{session.external_id}@onaboard")
        event.add("dtstamp", revised)
        event.add("last-modified", revised)
        event.add("dtstart", session.date)
        event.add("dtend", session.date + dt.timedelta(days=1))  # the window ends at the horizon, before 9999-12-31
        if feed.patient is not None:
            event.add("summary", gettext(PATIENT_SUMMARY))
            event.add("location", session.patient.clinic.name)
        else:
            event.add("summary", gettext(CLINICIAN_SUMMARY).format(record_number=session.patient.record_number))
        event.add("status", event_status(session, today=today))
        event.add("sequence", session.version)
        calendar.add_component(event)
    return calendar.to_ical()


def feed_calendar(feed: CalendarFeed, *, now: dt.datetime | None = None) -> bytes:
    """The feed's iCalendar text: its booked and cancelled bookings of ``feed_window``. The fetch is audited; a
    clinic feed's also as a read of each patient it lists (``CLINIC_FEED_READ``), whose record number and booking
    dates it sends to the calendar provider, so each patient's own trail shows it (a patient's feed is already
    theirs). A patient whose bookings are all outside the window is not listed, so not audited."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    listed_sessions = _feed_sessions(feed, today=today)
    text = _feed_text(feed, listed_sessions, today=today)
    CalendarFeed.objects.filter(pk=feed.pk).update(last_used=now)
    fetched = AuditEntry(
        action=Action.READ,
        object_type="calendar_feed",
        object_id=feed.external_id,
        patient_id=feed.patient.external_id if feed.patient else None,
        detail="fetched by a calendar app",
    )
    listed = {} if feed.patient is not None else {session.patient_id: session.patient for session in listed_sessions}
    audit_records(  # one statement: the fetch and, for a clinic feed, each patient whose bookings it sent out
        user=feed.owner,
        entries=[
            fetched,
            *(
                AuditEntry.for_patient(patient, action=Action.READ, object_type="patient", detail=CLINIC_FEED_READ)
                for patient in listed.values()
            ),
        ],
    )
    return text


def feed_calendar_size(feed: CalendarFeed, *, now: dt.datetime | None = None) -> int:
    """The length in bytes of what ``feed_calendar`` would send at ``now``: a HEAD request's Content-Length (RFC
    9110 8.6: the GET's length or none). Nothing is sent, so neither the audit trail nor ``last_used`` records it."""
    today = timezone.localdate(now or timezone.now())
    return len(_feed_text(feed, _feed_sessions(feed, today=today), today=today))
