"""Booking the first session ahead (injections.services.injection_session_book_first and views.first_session_book)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from onaboard.web.audit.models import Action, AuditEvent
from onaboard.web.injections import services
from onaboard.web.injections.models import InjectionSession, SessionStatus
from onaboard.web.outcomes.services import treatment_decision_record
from tests.web.factories import PASSWORD
from tests.web.injections.conftest import TODAY, record

pytestmark = pytest.mark.django_db

CANNOT_RECORD = ["patient", "billing", "admin", "trainee"]


def _book(user, patient, date, today=TODAY):
    return services.injection_session_book_first(user=user, patient=patient, date=date, today=today)


def _url(patient):
    return reverse("injections:first_session_book", args=[patient.external_id])


# --- The service ----------------------------------------------------------------------------------------------------


def test_a_first_session_is_booked_ahead_and_audited(nurse, patient):
    """A patient with no session gets a booked session on the day chosen, with a create event naming the day."""
    day = TODAY + dt.timedelta(days=20)
    booking = _book(nurse, patient, day)
    assert (booking.status, booking.date, booking.patient) == (SessionStatus.BOOKED, day, patient)
    event = AuditEvent.objects.get(object_type="injection_session", object_id=str(booking.external_id))
    assert event.action == Action.CREATE
    assert event.patient_id == patient.external_id
    assert event.detail == f"first session booked for {day}"


@pytest.mark.parametrize(
    ("day", "message"),
    [
        (TODAY - dt.timedelta(days=1), services.BOOKING_IN_PAST.format(date=TODAY - dt.timedelta(days=1), today=TODAY)),
        (
            dt.date(9999, 12, 31),
            services.BOOKING_TOO_FAR.format(date=dt.date(9999, 12, 31), years=2, limit=services.booking_horizon(TODAY)),
        ),
    ],
)
def test_a_first_booking_follows_the_booking_day_rule(nurse, patient, day, message):
    """A day before today or past the booking horizon is refused at the date, as when moving a booking; nothing is
    saved."""
    with pytest.raises(services.SessionRefusedError) as refused:
        _book(nurse, patient, day)
    assert refused.value.problems == (("date", message),)
    assert not InjectionSession.objects.filter(patient=patient).exists()


def test_a_treated_patient_whose_booking_was_cancelled_is_booked_again(nurse, patient):
    """After a recorded session whose automatic booking was cancelled, no session is open: the next one is booked on
    the day chosen (audited as the next, not the first); while a booking is open a second is refused."""
    record(user=nurse, patient=patient, date=TODAY - dt.timedelta(days=3), today=TODAY)
    booked = InjectionSession.objects.get(patient=patient, status=SessionStatus.BOOKED)
    with pytest.raises(services.SessionConflictError) as conflict:
        _book(nurse, patient, TODAY + dt.timedelta(days=100))
    assert conflict.value.messages == (services.FIRST_BOOKING_OPEN.format(date=booked.date),)
    services.injection_session_cancel(user=nurse, session=booked, expected_version=booked.version)
    day = TODAY + dt.timedelta(days=90)
    again = _book(nurse, patient, day)
    assert (again.status, again.date) == (SessionStatus.BOOKED, day)
    event = AuditEvent.objects.get(object_type="injection_session", object_id=str(again.external_id))
    assert event.detail == f"next session booked for {day}"


def test_no_session_is_booked_after_a_decision_to_stop(world, nurse, patient):
    """While the latest decision is to stop, booking is refused naming the stop; a decision to continue books the
    next session itself (on the engine's due date), as recording one does."""
    record(user=nurse, patient=patient, date=TODAY - dt.timedelta(days=60), today=TODAY)
    clinician = world.users["clinician"]
    stop = {"reason": "Patient prefers to stop", "decided_on": TODAY, "today": TODAY}
    treatment_decision_record(user=clinician, patient=patient, decision="stop", **stop)
    assert not InjectionSession.objects.filter(patient=patient, status=SessionStatus.BOOKED).exists()
    with pytest.raises(services.SessionConflictError) as conflict:
        _book(nurse, patient, TODAY + dt.timedelta(days=30))
    assert conflict.value.messages == (services.NO_BOOKING_AFTER_STOP.format(date=TODAY),)
    treatment_decision_record(
        user=clinician, patient=patient, decision="continue", reason="Changed her mind", decided_on=TODAY, today=TODAY
    )
    booked = InjectionSession.objects.get(patient=patient, status=SessionStatus.BOOKED)
    assert booked.date == TODAY + dt.timedelta(days=24)  # 84 days after the session 60 days ago


def test_a_first_booking_is_refused_while_another_day_is_booked(nurse, patient):
    """An open booking on another day is moved on its own page: a second first booking is refused, naming its day."""
    booked = _book(nurse, patient, TODAY + dt.timedelta(days=20))
    with pytest.raises(services.SessionConflictError) as conflict:
        _book(nurse, patient, TODAY + dt.timedelta(days=30))
    assert conflict.value.messages == (services.FIRST_BOOKING_OPEN.format(date=booked.date),)
    assert list(InjectionSession.objects.filter(patient=patient)) == [booked]


def test_the_same_first_booking_sent_twice_lands_on_one_booking(nurse, patient):
    """A second click (or a colleague booking the same day) returns the booking already made, writing nothing more."""
    day = TODAY + dt.timedelta(days=20)
    first = _book(nurse, patient, day)
    again = _book(nurse, patient, day)
    assert again.pk == first.pk
    assert InjectionSession.objects.filter(patient=patient).count() == 1
    assert AuditEvent.objects.filter(object_type="injection_session", action=Action.CREATE).count() == 1


def test_a_cancelled_first_booking_can_be_booked_again_on_its_day(nurse, patient):
    """A cancelled booking blocks nothing: the same day can be booked again."""
    day = TODAY + dt.timedelta(days=20)
    first = _book(nurse, patient, day)
    services.injection_session_cancel(user=nurse, session=first, expected_version=None)
    again = _book(nurse, patient, day)
    assert again.pk != first.pk
    assert again.status == SessionStatus.BOOKED


# --- The page -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["clinician", "nurse"])
def test_clinical_staff_book_the_first_session_on_its_page(client, world, patient, role):
    """The page asks for the day; posting it books the session and lands on the booked session's page."""
    client.login(username=role, password=PASSWORD)
    assert "Book the first session" in client.get(_url(patient)).content.decode()
    day = timezone.localdate() + dt.timedelta(days=14)
    response = client.post(_url(patient), {"date": day.isoformat()}, follow=True)
    booking = InjectionSession.objects.get(patient=patient, status=SessionStatus.BOOKED)
    assert booking.date == day
    assert response.redirect_chain[-1][0] == reverse("injections:session_detail", args=[booking.external_id])
    assert f"First session booked for {day.isoformat()}." in response.content.decode()


def test_the_patient_page_and_a_cancelled_booking_offer_to_book_the_next_session(client, world, nurse, patient):
    """A treated patient with no booking open (the one made after the session cancelled) is offered "Book the next
    session" on their page and "Book again" on the cancelled booking's page; the page names the last session and
    the due date, and posting a day books it."""
    today = timezone.localdate()
    record(user=nurse, patient=patient, date=today - dt.timedelta(days=3), today=today)
    booked = InjectionSession.objects.get(patient=patient, status=SessionStatus.BOOKED)
    services.injection_session_cancel(user=nurse, session=booked, expected_version=booked.version)
    client.login(username="nurse", password=PASSWORD)
    page = client.get(reverse("patients:detail", args=[patient.external_id])).content.decode()
    assert f'href="{_url(patient)}">Book the next session</a>' in page
    cancelled = client.get(reverse("injections:session_detail", args=[booked.external_id])).content.decode()
    assert f'href="{_url(patient)}">Book again</a>' in cancelled
    form = client.get(_url(patient)).content.decode()
    assert "<h1>Book the next session</h1>" in form
    due = today - dt.timedelta(days=3) + dt.timedelta(days=84)
    assert f"the next is due from {due.isoformat()} (12 weeks later). No session is booked." in form
    response = client.post(_url(patient), {"date": due.isoformat()}, follow=True)
    assert f"Next session booked for {due.isoformat()}." in response.content.decode()


def test_a_first_booking_in_the_past_is_refused_next_to_the_date(client, world, patient):
    """The date field shows why nothing was booked."""
    client.login(username="nurse", password=PASSWORD)
    today = timezone.localdate()
    past = today - dt.timedelta(days=1)
    page = client.post(_url(patient), {"date": past.isoformat()}).content.decode()
    assert services.BOOKING_IN_PAST.format(date=past, today=today) in page
    assert not InjectionSession.objects.filter(patient=patient).exists()


def test_the_first_booking_page_sends_an_open_booking_to_its_own_page(client, world, patient):
    """With a booking open, the page leads to that booking (moved on its own page) instead of booking another."""
    client.login(username="nurse", password=PASSWORD)
    booking = InjectionSession.objects.create(patient=patient, date=timezone.localdate() + dt.timedelta(days=9))
    response = client.get(_url(patient))
    assert response.status_code == 302
    assert response["Location"] == reverse("injections:session_detail", args=[booking.external_id])


def test_a_first_booking_posted_twice_shows_the_one_booking(client, world, patient):
    """The form sent twice (a double click) books once and both posts land on the same session."""
    client.login(username="nurse", password=PASSWORD)
    day = timezone.localdate() + dt.timedelta(days=14)
    first = client.post(_url(patient), {"date": day.isoformat()})
    second = client.post(_url(patient), {"date": day.isoformat()})
    booking = InjectionSession.objects.get(patient=patient)
    assert first["Location"] == second["Location"] == reverse("injections:session_detail", args=[booking.external_id])


@pytest.mark.parametrize("role", CANNOT_RECORD)
def test_only_clinicians_and_nurses_book_a_first_session(client, world, patient, role):
    """Every other role gets "not found", and a post books nothing."""
    client.login(username=role, password=PASSWORD)
    assert client.get(_url(patient)).status_code == 404
    client.post(_url(patient), {"date": timezone.localdate().isoformat()})
    assert not InjectionSession.objects.filter(patient=patient).exists()


def test_a_first_booking_without_a_date_asks_for_it_in_plain_words(client, world, patient):
    """No date sent: the page opens on its error summary and asks for the session's day, not Django's "This field
    is required."; nothing is booked."""
    client.login(username="nurse", password=PASSWORD)
    page = client.post(_url(patient), {"date": ""}).content.decode()
    assert 'class="error-summary' in page
    assert page.count("Enter the day of the session.") == 2  # the summary's link and the field's own message
    assert "This field is required." not in page
    assert not InjectionSession.objects.exists()


def test_a_first_booking_while_the_label_criteria_are_not_met_warns(nurse, patient):
    """The patient page offers no first booking to a patient who does not meet the BOTOX label criteria, but the
    clinic may book ahead: the booking is saved, and its warnings say the label's reasons and that recording the
    first session will need a clinician's override (three episodic periods: chronic migraine no)."""
    from tests.web.clinic.diaries import TODAY as DIARY_DAY
    from tests.web.clinic.diaries import episodic_rows, store

    store(patient, episodic_rows())
    booking = _book(nurse, patient, DIARY_DAY)
    (warning, *_) = services.booking_warnings(patient=patient, date=booking.date, today=DIARY_DAY)
    assert warning.startswith(f"The BOTOX label criteria are not met on {DIARY_DAY}: ")
    assert warning.endswith("recording the first session will need a clinician's reason to go ahead anyway.")
    assert "ICHD-3 1.3" in warning
