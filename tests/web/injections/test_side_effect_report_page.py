"""The side-effect report (onaboard/web/injections/views.py ``report_side_effect``, services.py
``side_effect_report``) from the day of a session (the first or a later one), before the clinic records it, the
report linked to the session once recorded, and the patient's own reports listed on the page."""

from __future__ import annotations

import datetime as dt
import html
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from onaboard.clinical import RETREATMENT_INTERVAL_DAYS
from onaboard.web.audit.models import Action, AuditEvent
from onaboard.web.common.words import plain_day
from onaboard.web.injections import services
from onaboard.web.injections.models import InjectionSession, SessionStatus, SideEffect
from tests.web.factories import PASSWORD
from tests.web.injections.conftest import record

REPORT_URL = "injections:report_side_effect"


def _today() -> dt.date:
    return timezone.localdate()


def _book(patient, day: dt.date) -> InjectionSession:
    """The patient's session booked for ``day`` (not recorded)."""
    return InjectionSession.objects.create(patient=patient, date=day, status=SessionStatus.BOOKED)


def _login(client, world, role: str):
    assert client.login(username=role, password=PASSWORD)
    return world.users[role]


def _post(client, url: str, **changed: str):
    data = {"kind": "neck_pain", "onset": _today().isoformat(), "severity": "moderate", "description": ""}
    data.update(changed)
    return client.post(url, data, follow=True)


# --- the service ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["patient", "nurse"])
def test_a_report_on_the_day_of_a_booked_session_not_recorded_is_saved_with_no_session(world, patient, role):
    """On the day of a booked session the clinic has not recorded yet, a report started that day is saved with no
    session to follow (the clinician links it on review), audited as after that booking."""
    today = _today()
    _book(patient, today)
    effect = services.side_effect_report(
        user=world.users[role], patient=patient, kind="neck_pain", onset=today, severity="mild", today=today
    )
    assert effect.session is None
    event = AuditEvent.objects.get(object_type="side_effect", action=Action.CREATE)
    assert event.detail == f"side effect reported; after the session booked for {today}, not recorded yet"


SECOND_AFTER_DAYS = RETREATMENT_INTERVAL_DAYS
"""Days between the first session and the second in these tests: the second is due that day, so it is recorded
without an override."""


def _second_booked_today(patient) -> tuple[InjectionSession, InjectionSession]:
    """The patient's first session recorded ``SECOND_AFTER_DAYS`` ago and the second booked for today, given this
    morning and not recorded yet."""
    today = _today()
    first = InjectionSession.objects.create(
        patient=patient,
        date=today - dt.timedelta(days=SECOND_AFTER_DAYS),
        status=SessionStatus.RECORDED,
        total_units=155,
    )
    return first, _book(patient, today)


@pytest.mark.parametrize("role", ["patient", "nurse"])
def test_a_report_on_the_day_of_a_later_booked_session_is_not_put_down_to_the_one_before(world, patient, role):
    """With a session recorded months ago and the next booked for today and not recorded yet, a report started today
    is saved with no session, audited as after the booking (as on the day of a first session), not put down to the
    session months before; one started before today's booking still follows the recorded session."""
    today = _today()
    first, booked = _second_booked_today(patient)
    answers = {"patient": patient, "kind": "neck_pain", "severity": "moderate", "today": today}
    effect = services.side_effect_report(user=world.users[role], onset=today, **answers)
    assert effect.session is None
    event = AuditEvent.objects.get(object_type="side_effect", object_id=str(effect.external_id))
    assert event.detail == f"side effect reported; after the session booked for {booked.date}, not recorded yet"
    earlier = services.side_effect_report(user=world.users[role], onset=today - dt.timedelta(days=3), **answers)
    assert earlier.session == first


def test_recording_the_booked_session_links_the_reports_waiting_for_it(world, patient):
    """Recording the session booked for today links the reports that were waiting for it, also one reviewed
    meanwhile with no session (the review form could not offer a session not recorded yet), and audits the links
    with the recording; a report that began before it keeps the session before, and one a review unlinked from the
    session before (offered to it, and not chosen) keeps the reviewer's choice."""
    today = _today()
    first, booked = _second_booked_today(patient)
    answers = {"patient": patient, "kind": "neck_pain", "severity": "moderate", "today": today}
    clinician = world.users["clinician"]
    waiting = services.side_effect_report(user=world.users["patient"], onset=today, **answers)
    reviewed = services.side_effect_report(user=world.users["patient"], onset=today, **{**answers, "kind": "myalgia"})
    services.side_effect_review(
        user=clinician, side_effect=reviewed, grade="moderate", related_to_treatment=None, session=None
    )
    before = services.side_effect_report(user=world.users["patient"], onset=today - dt.timedelta(days=3), **answers)
    unlinked = services.side_effect_report(
        user=world.users["patient"], onset=today - dt.timedelta(days=2), **{**answers, "kind": "myalgia"}
    )
    assert unlinked.session == first
    services.side_effect_review(
        user=clinician, side_effect=unlinked, grade="moderate", related_to_treatment=None, session=None
    )
    given = record(user=world.users["nurse"], patient=patient, date=today, today=today, booking=booked)
    assert given.pk == booked.pk
    for effect in (waiting, reviewed, before, unlinked):
        effect.refresh_from_db()
    assert (waiting.session, reviewed.session, before.session, unlinked.session) == (given, given, first, None)
    event = AuditEvent.objects.get(object_id=str(given.external_id), detail__startswith=f"recorded {today}")
    assert event.detail.endswith("; 2 side effect(s) linked")
    for effect in (waiting, reviewed):
        linked = AuditEvent.objects.get(object_id=str(effect.external_id), detail__startswith="linked")
        assert linked.detail == f"linked to the session of {today}: session of {today} recorded"
    assert not AuditEvent.objects.filter(object_id=str(unlinked.external_id), detail__startswith="linked").exists()


def test_the_report_page_names_the_booked_session_not_the_one_before(client, world, patient):
    """The patient's report started on the day of their second session, given and not recorded yet, says on its page
    that it follows the session of today, not recorded yet, and never names the session months before."""
    today = _today()
    first, _booked = _second_booked_today(patient)
    _login(client, world, "patient")
    sent = _post(client, reverse(REPORT_URL)).content.decode()
    assert SideEffect.objects.get().session is None
    assert f"the session of {today.day} {today:%B %Y}, not recorded yet" in sent
    assert f"{first.date.day} {first.date:%B %Y}" not in sent
    assert "not linked to a session yet" not in sent


def test_a_booking_still_to_come_opens_no_report(world, patient):
    """A session booked for tomorrow is no session yet: the report is refused for the whole form
    (``NO_SESSION_YET``), nothing stored."""
    today = _today()
    _book(patient, today + dt.timedelta(days=1))
    with pytest.raises(services.SideEffectRefusedError) as refused:
        services.side_effect_report(
            user=world.users["patient"], patient=patient, kind="neck_pain", onset=today, severity="mild", today=today
        )
    assert refused.value.problems == (("", services.NO_SESSION_YET),)
    assert not SideEffect.objects.exists()


@pytest.mark.parametrize(
    ("role", "message"), [("patient", "ONSET_BEFORE_FIRST_SESSION"), ("nurse", "ONSET_BEFORE_BOOKED_SESSION_STAFF")]
)
def test_a_symptom_before_a_booked_session_passed_is_refused_at_the_start_date(world, patient, role, message):
    """A booked session whose day has passed unrecorded opens the form, but a symptom that began before its day is
    refused at the start date naming both days (staff are told the session is booked, not recorded); one started
    on its day is saved."""
    today = _today()
    booked = _book(patient, today - dt.timedelta(days=2))
    before = booked.date - dt.timedelta(days=1)
    answers = {"patient": patient, "kind": "neck_pain", "severity": "mild", "today": today}
    with pytest.raises(services.SideEffectRefusedError) as refused:
        services.side_effect_report(user=world.users[role], onset=before, **answers)
    expected = getattr(services, message).format(onset=plain_day(before), first=plain_day(booked.date))
    assert refused.value.problems == (("onset", expected),)
    assert services.side_effect_report(user=world.users[role], onset=booked.date, **answers).session is None


def test_the_no_session_message_sends_the_patient_to_the_clinic_and_to_urgent_care():
    """The refusal before any session tells the patient to contact the clinic and, for the urgent signs, to seek
    medical care now; staff are told to record the session first."""
    assert "contact the clinic" in services.NO_SESSION_YET
    assert "seek medical care now" in services.NO_SESSION_YET
    assert "record the session first" in services.NO_SESSION_YET_STAFF


# --- the report page ------------------------------------------------------------------------------------------------


def test_on_treatment_day_the_patient_reports_before_the_session_is_recorded(client, world, patient):
    """Booked for today and not recorded yet, the patient's report page has the form (the urgent advice naming the
    medicine), the report is stored with no session, and its page says the session of today is not recorded yet;
    once the session is recorded, the report follows it (``services.relink_waiting_side_effects``), and its page
    names the session's day."""
    today = _today()
    _book(patient, today)
    _login(client, world, "patient")
    page = client.get(reverse(REPORT_URL)).content.decode()
    assert 'name="submission"' in page
    assert html.escape(services.NO_SESSION_YET) not in page
    assert "mean it has spread beyond where it was injected" in page
    sent = _post(client, reverse(REPORT_URL), kind="dysphagia").content.decode()
    effect = SideEffect.objects.get()
    assert (effect.patient, effect.session) == (patient, None)
    assert "Your report was sent" in sent
    assert f"the session of {today.day} {today:%B %Y}, not recorded yet" in sent
    assert "can mean the medicine has spread beyond where it was injected" in sent
    given = record(user=world.users["nurse"], patient=patient, date=today, today=today)
    effect.refresh_from_db()
    assert effect.session == given
    detail = client.get(reverse("injections:side_effect_detail", args=[effect.external_id])).content.decode()
    assert "not recorded yet" not in detail
    assert "not linked to a session yet" not in detail
    assert f"<dd>{today.day} {today:%B %Y}</dd>" in detail


def test_staff_see_a_report_made_before_the_session_was_recorded_as_such(client, world, patient):
    """A nurse reporting for a patient booked today has the form, and the report's page says the session of today
    is not recorded yet, in staff's date format."""
    today = _today()
    _book(patient, today)
    _login(client, world, "nurse")
    url = f"{reverse(REPORT_URL)}?patient={patient.external_id}"
    assert 'name="submission"' in client.get(url).content.decode()
    detail = _post(client, url).content.decode()
    assert SideEffect.objects.get().session is None
    assert f"the session of {today.isoformat()}, not recorded yet" in detail


def test_a_patient_booked_later_is_told_when_the_form_opens_and_where_to_turn(client, world, patient):
    """With only a session still to come, the page shows the urgent signs and, in the form's place, the reworded
    ``NO_SESSION_YET`` (contact the clinic; seek care now for the signs above); no form."""
    _book(patient, _today() + dt.timedelta(days=7))
    _login(client, world, "patient")
    page = client.get(reverse(REPORT_URL)).content.decode()
    assert "Seek medical care now if you have:" in page
    assert html.escape(services.NO_SESSION_YET) in page
    assert 'name="submission"' not in page


# --- the patient's own reports ------------------------------------------------------------------------------------


def test_the_report_page_lists_the_patients_own_reports_and_whether_they_were_reviewed(client, world, patient):
    """The patient's report page lists their reports, latest start first, each with what, when it started, when it
    was reported and whether the clinic has reviewed it, linking to its page; neither the clinician's grade nor
    another patient's report is shown, and the list is an audited read."""
    today = _today()
    record(user=world.users["nurse"], patient=patient, date=today - dt.timedelta(days=20), today=today)
    reporter = world.users["patient"]
    older = services.side_effect_report(
        user=reporter,
        patient=patient,
        kind="neck_pain",
        onset=today - dt.timedelta(days=10),
        severity="mild",
        today=today,
    )
    newer = services.side_effect_report(
        user=reporter,
        patient=patient,
        kind="eyelid_ptosis",
        onset=today - dt.timedelta(days=2),
        severity="severe",
        today=today,
    )
    services.side_effect_review(
        user=world.users["clinician"], side_effect=older, grade="moderate", related_to_treatment=True, session=None
    )
    other = world.same_clinic_patient
    InjectionSession.objects.create(patient=other, date=today - dt.timedelta(days=5), status=SessionStatus.RECORDED)
    services.side_effect_report(
        user=world.users["nurse"], patient=other, kind="myalgia", onset=today, severity="mild", today=today
    )
    _login(client, world, "patient")
    page = client.get(reverse(REPORT_URL)).content.decode()
    listed = page[page.index('id="my-reports"') :]
    newer_link = reverse("injections:side_effect_detail", args=[newer.external_id])
    older_link = reverse("injections:side_effect_detail", args=[older.external_id])
    assert listed.index(newer_link) < listed.index(older_link)
    assert "Drooping eyelid" in listed
    assert "Muscle aches" not in listed  # the other patient's
    assert f"{older.onset.day} {older.onset:%B %Y}" in listed
    assert f"{today.day} {today:%B %Y}" in listed  # reported on
    rows = listed.split("<tr>")
    assert "not reviewed yet" in next(row for row in rows if newer_link in row)
    assert ">reviewed<" in next(row for row in rows if older_link in row)
    assert "moderate" not in listed.lower()  # the clinician's grade is on the report's own page, not here
    assert listed.count('href="/sessions/side-effects/') == 2
    assert AuditEvent.objects.filter(
        action=Action.READ, username="patient", patient_id=patient.external_id, detail="own reports list"
    ).exists()


def test_staff_reporting_for_a_patient_see_no_list_of_reports(client, world, patient):
    """The list is the patient's own page's: a nurse's report form for the patient lists no reports (the patient
    page lists them)."""
    today = _today()
    record(user=world.users["nurse"], patient=patient, date=today - dt.timedelta(days=20), today=today)
    services.side_effect_report(
        user=world.users["patient"], patient=patient, kind="neck_pain", onset=today, severity="mild", today=today
    )
    _login(client, world, "nurse")
    page = client.get(f"{reverse(REPORT_URL)}?patient={patient.external_id}").content.decode()
    assert 'id="my-reports"' not in page


def test_the_same_report_sent_again_from_a_reloaded_form_is_stored_once(client, world, patient):
    """Back after sending reloads the form with the answers kept and a new token: sending it again stores nothing
    more (no report can be removed once sent, and a copy reads as a second adverse event in the letters) and shows
    the report sent; other answers (a worse severity) are a report of their own."""
    _book(patient, _today())
    _login(client, world, "patient")
    for _attempt in range(2):
        token = re.search(r'name="submission" value="([^"]+)"', client.get(reverse(REPORT_URL)).content.decode())
        assert token is not None
        assert "Your report was sent" in _post(client, reverse(REPORT_URL), submission=token[1]).content.decode()
    assert SideEffect.objects.count() == 1
    assert AuditEvent.objects.filter(object_type="side_effect", action=Action.CREATE).count() == 1
    _post(client, reverse(REPORT_URL), severity="severe")
    assert SideEffect.objects.count() == 2
