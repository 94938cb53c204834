"""Sessions end after a while idle and after an absolute limit, longer for patients (accounts/middleware.py)."""

from __future__ import annotations

import time
import uuid
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from onaboard.web.accounts import views
from onaboard.web.accounts.middleware import (
    EXPLAIN_SECONDS,
    SEEN_AT_KEY,
    SEEN_RESOLUTION_SECONDS,
    SIGN_IN_AGAIN,
    SIGNED_IN_AT_KEY,
    SIGNED_OUT_SCRIPTED,
    UNSAVED_NOTICE_SECONDS,
    session_limits,
)
from onaboard.web.accounts.views import SESSION_EXPIRED, SESSION_EXPIRED_UNSAVED, UNSAVED_AFTER_SIGN_IN
from onaboard.web.audit.models import Action, AuditEvent
from tests.web.accounts.conftest import next_code, totp_code
from tests.web.factories import PASSWORD, DiaryEntryFactory

LOGIN = reverse("accounts:login")
STAFF_PAGE = reverse("accounts:otp_device_detail")
PATIENT_PAGE = reverse("diary:today")


def _sign_in(client, username):
    assert client.post(LOGIN, {"username": username, "password": PASSWORD}).status_code == 302


def _age_session(client, *, idle=0.0, signed_in=None):
    """As if ``idle`` seconds had passed since the session was last stored (its last counted activity), its sign-in
    clock moving back by ``signed_in`` seconds (``idle`` unless given): the session's clocks move back, and so does
    the stored session's expiry, as real time would bring it nearer. A stored session past its expiry is gone, as it
    is for a browser coming back (the stored row is no longer read, the cookie no longer sent)."""
    signed_in = idle if signed_in is None else signed_in
    session = client.session
    key = session.session_key
    stored_until = Session.objects.get(session_key=key).expire_date
    session[SEEN_AT_KEY] -= idle
    session[SIGNED_IN_AT_KEY] -= signed_in
    expiry = session.get("_session_expiry")
    if isinstance(expiry, str):  # a fixed end (set from the sign-in time): it moves with the sign-in
        session.set_expiry(datetime.fromisoformat(expiry) - timedelta(seconds=signed_in))
        session.save()
    else:  # so many seconds from the last save: the last save moves back by the idle time
        session.save()
        Session.objects.filter(session_key=key).update(expire_date=stored_until - timedelta(seconds=idle))


def test_the_limits_are_short_for_staff_and_long_for_patients(world):
    """Staff: 30 minutes idle, 10 hours in all; patients: 30 days idle, 90 days in all; trainees count as staff."""
    assert session_limits(world.users["nurse"]) == (30 * 60, 10 * 3600)
    assert session_limits(world.users["trainee"]) == (30 * 60, 10 * 3600)
    assert session_limits(world.users["patient"]) == (30 * 86400, 90 * 86400)


def test_the_cookie_age_setting_is_the_longest_session(world):
    """SESSION_COOKIE_AGE is the longest absolute limit plus the day ``session_stored_until`` adds to it."""
    assert max(settings.SESSION_ABSOLUTE_SECONDS.values()) + EXPLAIN_SECONDS == settings.SESSION_COOKIE_AGE


@pytest.mark.parametrize("username", ["nurse", "patient"])
def test_no_signed_in_session_outlives_the_cookie_age_setting(client, world, username):
    """A signed-in session's cookie and stored session, at sign-in and after an activity refresh, end no later than
    SESSION_COOKIE_AGE from now: the setting is the true upper bound."""
    _sign_in(client, username)
    _assert_ends_within_cookie_age(client)
    _age_session(client, idle=SEEN_RESOLUTION_SECONDS)
    assert client.get(PATIENT_PAGE if username == "patient" else STAFF_PAGE).status_code == 200
    _assert_ends_within_cookie_age(client)


def _assert_ends_within_cookie_age(client):
    """The session cookie last sent and the stored session end at most SESSION_COOKIE_AGE from now."""
    assert int(client.cookies[settings.SESSION_COOKIE_NAME]["max-age"]) <= settings.SESSION_COOKIE_AGE
    stored = Session.objects.get(session_key=client.session.session_key).expire_date
    assert (stored - timezone.now()).total_seconds() <= settings.SESSION_COOKIE_AGE


@pytest.mark.parametrize(("username", "absolute"), [("nurse", 10 * 3600), ("patient", 90 * 86400)])
def test_the_stored_session_and_cookie_outlive_the_limits(client, world, username, absolute):
    """The stored session and its cookie last a day beyond the absolute limit (10 hours for staff, 90 days for
    patients), so it is the middleware that ends a session, and it can say why."""
    _sign_in(client, username)
    lasting = absolute + EXPLAIN_SECONDS
    assert abs(client.session.get_expiry_age() - lasting) <= 5
    assert abs(int(client.cookies[settings.SESSION_COOKIE_NAME]["max-age"]) - lasting) <= 5
    stored = Session.objects.get(session_key=client.session.session_key).expire_date
    assert abs((stored - timezone.now()).total_seconds() - lasting) <= 5


@pytest.mark.parametrize("idle_minutes", [31, 3 * 60, 20 * 60])
def test_an_idle_staff_session_ends_and_the_sign_in_page_says_why(client, world, idle_minutes):
    """A staff session idle for 31 minutes, 3 hours or until the next morning is signed out, audited, and the
    sign-in page explains it."""
    _sign_in(client, "nurse")
    assert client.get(STAFF_PAGE).status_code == 200
    _age_session(client, idle=idle_minutes * 60)
    response = client.get(STAFF_PAGE)
    assert response.status_code == 302
    assert response.url.startswith(LOGIN)
    page = client.get(response.url).content.decode()
    assert str(SESSION_EXPIRED["idle"]) in page
    event = AuditEvent.objects.get(action=Action.LOGOUT)
    assert (event.username, event.detail) == ("nurse", "session expired: idle longer than the limit")


def test_an_active_staff_session_still_ends_after_the_absolute_limit(client, world):
    """Activity does not stretch a staff session past 10 hours; the sign-in page says why."""
    _sign_in(client, "clinician")
    _age_session(client, idle=60, signed_in=10 * 3600 + 1)
    response = client.get(STAFF_PAGE)
    assert response.status_code == 302
    assert AuditEvent.objects.get(action=Action.LOGOUT).detail == "session expired: signed in longer than the limit"
    assert str(SESSION_EXPIRED["absolute"]) in client.get(response.url).content.decode()


def test_a_patient_idle_for_a_week_is_still_signed_in(client, world):
    """A patient who comes back to the phone after 7 days finds the diary, not the sign-in page."""
    _sign_in(client, "patient")
    _age_session(client, idle=7 * 86400, signed_in=7 * 86400)
    assert client.get(PATIENT_PAGE).status_code == 200


@pytest.mark.parametrize(("idle_days", "signed_in_days"), [(31, 31), (1, 91)])
def test_a_patient_session_ends_after_the_patient_limits(client, world, idle_days, signed_in_days):
    """A patient session ends after 30 days idle or 90 days in all."""
    _sign_in(client, "patient")
    _age_session(client, idle=idle_days * 86400, signed_in=signed_in_days * 86400)
    assert client.get(PATIENT_PAGE).status_code == 302


def test_activity_moves_the_idle_clock(client, world):
    """A request after 20 idle minutes counts as activity, so 20 more minutes later the session is still open."""
    _sign_in(client, "nurse")
    _age_session(client, idle=20 * 60)
    assert client.get(STAFF_PAGE).status_code == 200
    _age_session(client, idle=20 * 60, signed_in=20 * 60)
    assert client.get(STAFF_PAGE).status_code == 200


def test_signing_out_by_hand_is_audited(client, world):
    """The sign-out button's sign-out is recorded as such."""
    _sign_in(client, "nurse")
    client.post(reverse("accounts:logout"))
    assert AuditEvent.objects.get(action=Action.LOGOUT).detail == "signed out"


# --- An expiry that catches something being sent ------------------------------------------------------------------


def _shown(message):
    """``message`` as a page shows it (escaped)."""
    return escape(str(message))


def _diary_post(day):
    """A diary day's POST that would make the day a 6-hour severe headache."""
    return {"date": day.isoformat(), "hours_quick": "6", "headache_hours": "", "intensity": "severe"}


def _old_day(world):
    """An earlier day the patient recorded as 2 mild hours: its own address, and the stored row."""
    day = timezone.localdate() - timedelta(days=3)
    entry = DiaryEntryFactory(patient=world.own_patient, date=day, headache_hours=Decimal(2), intensity="mild")
    return reverse("diary:edit", kwargs={"day": day}), entry


@pytest.mark.parametrize(
    ("idle", "signed_in", "reason"),
    [(31 * 86400, 31 * 86400, "idle"), (86400, 90 * 86400 + 3600, "absolute")],
    ids=["idle", "absolute"],
)
def test_a_diary_day_sent_after_the_session_ended_is_not_saved_and_both_pages_say_so(
    client, world, idle, signed_in, reason
):
    """A diary day posted once the session has ended changes nothing; the sign-in page says it was not saved and to
    enter it again, and the page after signing in (the day's own) repeats it once, not on the next load."""
    url, entry = _old_day(world)
    _sign_in(client, "patient")
    _age_session(client, idle=idle, signed_in=signed_in)
    response = client.post(url, _diary_post(entry.date), headers={"Referer": f"http://testserver{url}"})
    assert response.status_code == 302
    assert response.url == f"{LOGIN}?next={url}"
    entry.refresh_from_db()
    assert (entry.headache_hours, entry.intensity) == (Decimal(2), "mild")
    page = client.get(response.url).content.decode()
    assert _shown(SESSION_EXPIRED_UNSAVED[reason]) in page
    assert _shown(SESSION_EXPIRED[reason]) not in page
    signed_in = client.post(response.url, {"username": "patient", "password": PASSWORD, "next": url})
    assert signed_in.url == url
    landing = client.get(url).content.decode()
    assert landing.count(_shown(UNSAVED_AFTER_SIGN_IN)) == 1
    assert _shown(UNSAVED_AFTER_SIGN_IN) not in client.get(url).content.decode()


def test_a_page_asked_for_after_the_session_ended_keeps_the_plain_message(client, world):
    """A GET that finds the session ended had nothing to lose: the sign-in page gives the usual reason only, and the
    page after signing in says nothing about unsaved work."""
    url, _entry = _old_day(world)
    _sign_in(client, "patient")
    _age_session(client, idle=31 * 86400)
    response = client.get(url)
    page = client.get(response.url).content.decode()
    assert _shown(SESSION_EXPIRED["idle"]) in page
    assert _shown(SESSION_EXPIRED_UNSAVED["idle"]) not in page
    client.post(response.url, {"username": "patient", "password": PASSWORD, "next": url})
    assert _shown(UNSAVED_AFTER_SIGN_IN) not in client.get(url).content.decode()


def test_signing_in_again_over_an_ended_session_is_not_called_unsaved_work(client, world):
    """The sign-in form sent from a tab left open once the session has ended carries nothing to keep: the page after
    it does not say something was not saved."""
    _sign_in(client, "nurse")
    _age_session(client, idle=31 * 60)
    response = client.post(LOGIN, {"username": "nurse", "password": PASSWORD, "next": STAFF_PAGE})
    assert response.url == STAFF_PAGE
    assert _shown(UNSAVED_AFTER_SIGN_IN) not in client.get(STAFF_PAGE).content.decode()


def test_someone_else_signing_in_after_the_session_ended_is_not_told_of_unsaved_work(client, world):
    """On a shared clinic computer, the next person to sign in was sending nothing: the repeat after signing in is
    for the user whose work was lost only."""
    _sign_in(client, "nurse")
    _age_session(client, idle=31 * 60)
    today = timezone.localdate()
    day_url = reverse("diary:patient_day", kwargs={"patient_id": world.own_patient.external_id, "day": today})
    response = client.post(day_url, _diary_post(today))
    assert _shown(SESSION_EXPIRED_UNSAVED["idle"]) in client.get(response.url).content.decode()
    _sign_in(client, "clinician")
    assert _shown(UNSAVED_AFTER_SIGN_IN) not in client.get(STAFF_PAGE).content.decode()


def test_a_late_sign_in_is_not_told_of_long_lost_work(client, world, monkeypatch):
    """Signing in long after the lost request (``UNSAVED_NOTICE_SECONDS``) is about something else: the repeat is
    not shown."""
    url, entry = _old_day(world)
    _sign_in(client, "patient")
    _age_session(client, idle=31 * 86400)
    client.post(url, _diary_post(entry.date))
    assert _shown(SESSION_EXPIRED_UNSAVED["idle"]) in client.get(LOGIN).content.decode()
    later = time.time() + UNSAVED_NOTICE_SECONDS + 1
    monkeypatch.setattr(views.time, "time", lambda: later)
    client.post(LOGIN, {"username": "patient", "password": PASSWORD})
    assert _shown(UNSAVED_AFTER_SIGN_IN) not in client.get(url).content.decode()


@pytest.mark.usefixtures("otp_middleware")
def test_with_a_one_time_code_the_repeat_comes_after_the_code_step(client, enrolled):
    """A staff member with an authenticator is told again on the page reached after the code, not on the code page
    (which is not yet where they were going)."""
    _clinician, device = enrolled
    client.post(LOGIN, {"username": "clinician", "password": PASSWORD})
    client.post(reverse("accounts:login_code"), {"code": totp_code(device)})
    _age_session(client, idle=31 * 60)
    response = client.post(STAFF_PAGE)
    assert response.url.startswith(LOGIN)
    assert _shown(SESSION_EXPIRED_UNSAVED["idle"]) in client.get(response.url).content.decode()
    to_code = client.post(LOGIN, {"username": "clinician", "password": PASSWORD, "next": STAFF_PAGE})
    assert _shown(UNSAVED_AFTER_SIGN_IN) not in client.get(to_code.url).content.decode()
    landing = client.post(to_code.url, {"code": next_code(device)})
    assert landing.url == STAFF_PAGE
    assert client.get(STAFF_PAGE).content.decode().count(_shown(UNSAVED_AFTER_SIGN_IN)) == 1


# --- Where signing in after an ended session leads -----------------------------------------------------------------

SESSION_PAGE = reverse("training:session", args=[uuid.UUID(int=7)])
"""A training session's page: where its enrol, leave, cancel and attendance buttons are."""
POST_ONLY = {
    "quiz_start": reverse("training:quiz_start", args=["anatomy"]),
    "session_enrol": reverse("training:session_enrol", args=[uuid.UUID(int=7)]),
    "session_leave": reverse("training:session_leave", args=[uuid.UUID(int=7)]),
    "session_cancel": reverse("training:session_cancel", args=[uuid.UUID(int=7)]),
    "session_attendance": reverse("training:session_attendance", args=[uuid.UUID(int=7)]),
    "otp_device_remove": reverse("accounts:otp_device_remove"),
}
"""Addresses that answer only POST (a GET there is a blank 405 page): the session ends before their view runs, so
the objects they name need not exist."""


@pytest.mark.parametrize("url", POST_ONLY.values(), ids=POST_ONLY.keys())
def test_a_post_only_button_pressed_after_the_session_ended_leads_back_to_its_page(client, world, url):
    """A button that only posts (enrol in a training session, turn two-step sign-in off), pressed once the session
    has ended, sends to sign in with the page it was pressed on as ``next``, never its own address (a GET there is
    refused with 405): signing in lands on that page."""
    _sign_in(client, "nurse")
    _age_session(client, idle=31 * 60)
    response = client.post(url, headers={"Referer": f"http://testserver{SESSION_PAGE}"})
    assert response.status_code == 302
    assert response.url == f"{LOGIN}?next={SESSION_PAGE}"
    assert _shown(SESSION_EXPIRED_UNSAVED["idle"]) in client.get(response.url).content.decode()
    signed_in = client.post(response.url, {"username": "nurse", "password": PASSWORD, "next": SESSION_PAGE})
    assert signed_in.url == SESSION_PAGE


@pytest.mark.parametrize(
    ("referer", "secure"),
    [
        (None, False),
        ("https://elsewhere.example/training/sessions/", False),
        ("//elsewhere.example/training/sessions/", False),
        (f"http://testserver{SESSION_PAGE}", True),
        (f"http://testserver{LOGIN}", False),
    ],
    ids=["no-referer", "off-site", "scheme-relative-off-site", "https-to-http", "the-sign-in-page"],
)
def test_a_post_after_the_session_ended_without_a_page_of_this_site_to_return_to_has_no_next(
    client, world, referer, secure
):
    """With no Referer, one of another site, one that would leave HTTPS for HTTP (Django's own check of ``next``,
    as the sign-in view makes it) or the sign-in page itself, the POST's sign-in has no ``next`` (signing in leads
    home), still not the POST-only address."""
    _sign_in(client, "nurse")
    _age_session(client, idle=31 * 60)
    headers = {"Referer": referer} if referer else {}
    response = client.post(POST_ONLY["session_enrol"], headers=headers, secure=secure)
    assert response.status_code == 302
    assert response.url == LOGIN


def test_a_post_after_signing_out_elsewhere_leads_back_to_its_page_too(client, world):
    """A session signed out in another tab: the POST-only button sends to sign in with its page as ``next``."""
    response = client.post(POST_ONLY["session_enrol"], headers={"Referer": f"http://testserver{SESSION_PAGE}"})
    assert response.url == f"{LOGIN}?next={SESSION_PAGE}"


def test_a_page_asked_for_after_the_session_ended_still_returns_to_itself(client, world):
    """A GET keeps its own address as ``next`` whatever the Referer: it is a page."""
    _sign_in(client, "nurse")
    _age_session(client, idle=31 * 60)
    response = client.get(STAFF_PAGE, headers={"Referer": f"http://testserver{SESSION_PAGE}"})
    assert response.url == f"{LOGIN}?next={STAFF_PAGE}"


# --- Scripted requests (htmx, the session screen's live totals) that find the session ended -----------------------

WORKLIST = reverse("clinic:worklist")


def test_an_htmx_request_after_the_session_ended_is_401_naming_where_to_sign_in(client, world):
    """An htmx request finding the session ended is answered 401 with ``HX-Redirect`` to the sign-in page (next:
    the page it came from, ``HX-Current-URL``), which htmx opens, instead of the sign-in page pasted into the
    page; the sign-in page then still says why (the 401 did not show it)."""
    _sign_in(client, "nurse")
    _age_session(client, idle=31 * 60)
    page = f"{WORKLIST}?q=ab"
    response = client.get(
        f"{WORKLIST}?q=abc", headers={"HX-Request": "true", "HX-Current-URL": f"http://testserver{page}"}
    )
    assert response.status_code == 401
    assert response["HX-Redirect"] == f"{LOGIN}?next={WORKLIST}%3Fq%3Dab"
    assert _shown(SESSION_EXPIRED["idle"]) in client.get(response["HX-Redirect"]).content.decode()


def test_an_expired_scripted_post_says_where_it_goes_that_nothing_was_saved_and_links_to_sign_in(client, world):
    """A scripted POST (``HX-Request``, as the session screen's totals send) finding the session ended gets 401,
    ``HX-Redirect`` to sign in (next: its Referer) and a short fragment for the page saying nothing was saved,
    linking there; the sign-in page keeps both reasons for when the link is followed."""
    _sign_in(client, "nurse")
    _age_session(client, idle=31 * 60)
    response = client.post(STAFF_PAGE, headers={"HX-Request": "true", "Referer": f"http://testserver{STAFF_PAGE}"})
    assert response.status_code == 401
    sign_in = f"{LOGIN}?next={STAFF_PAGE}"
    assert response["HX-Redirect"] == sign_in
    fragment = response.content.decode()
    assert "<html" not in fragment
    assert _shown(SIGNED_OUT_SCRIPTED) in fragment
    assert f'<a href="{escape(sign_in)}">{_shown(SIGN_IN_AGAIN)}</a>' in fragment
    assert _shown(SESSION_EXPIRED_UNSAVED["idle"]) in client.get(sign_in).content.decode()


def test_a_scripted_request_of_a_signed_in_session_is_answered_as_usual(client, world):
    """The 401 is for sessions that ended only: a signed-in htmx request gets its page."""
    _sign_in(client, "nurse")
    response = client.get(WORKLIST, headers={"HX-Request": "true"})
    assert response.status_code == 200
