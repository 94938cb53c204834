"""iCalendar feeds of booked sessions (RFC 5545), one per patient or per clinician (their clinic's bookings).

What an event says: calendar contents are copied to the calendar provider's servers and shown on lock screens,
so events carry no names. A patient's feed says "onabotulinumtoxinA session" and the clinic; a clinician's feed
names the patient by record number only, which means something only inside the clinic. Sessions are booked by
day, so events are all-day. A cancelled booking stays in the feed as a cancelled event, so subscribed calendars
remove it.
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
from onaboard.web.interop.models import CalendarFeed, feed_digest
from onaboard.web.patients.access import Capability, can, patients_visible_to
from onaboard.web.patients.models import Patient

PATIENT_SUMMARY = gettext_noop("onabotulinumtoxinA session")
CLINICIAN_SUMMARY = gettext_noop("onabotulinumtoxinA session: {record_number}")
PRODID = "-//onaboard//booked sessions//EN"
CLINIC_FEED_READ = "clinic calendar feed"
"""The detail of the READ event a clinic feed's fetch writes for each patient it lists."""


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


def feed_calendar(feed: CalendarFeed, *, now: dt.datetime | None = None) -> bytes:
    """The feed's iCalendar text: booked and cancelled bookings. The fetch is audited; a clinic feed's also as a read
    of each patient it lists (``CLINIC_FEED_READ``), whose record number and booking dates it sends to the calendar
    provider, so each patient's own trail shows it (a patient's feed is already theirs)."""
    now = now or timezone.now()
    sessions = InjectionSession.objects.select_related("patient", "patient__clinic").filter(
        status__in=(SessionStatus.BOOKED, SessionStatus.CANCELLED)
    )
    if feed.patient is not None:
        sessions = sessions.filter(patient=feed.patient)
    else:
        sessions = sessions.filter(patient__in=patients_visible_to(feed.owner))
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", "onaboard")
    listed_sessions = list(sessions.order_by("date"))
    for session in listed_sessions:
        event = Event()
        event.add("uid", f"{session.external_id}@onaboard")
        event.add("dtstamp", now)
        event.add("dtstart", session.date)
        if session.date < dt.date.max:  # RFC 5545 3.6.1: an all-day event without DTEND lasts that one day
            event.add("dtend", session.date + dt.timedelta(days=1))
        if feed.patient is not None:
            event.add("summary", gettext(PATIENT_SUMMARY))
            event.add("location", session.patient.clinic.name)
        else:
            event.add("summary", gettext(CLINICIAN_SUMMARY).format(record_number=session.patient.record_number))
        event.add("status", "CANCELLED" if session.status == SessionStatus.CANCELLED else "CONFIRMED")
        event.add("sequence", session.version)
        calendar.add_component(event)
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
    return calendar.to_ical()
