"""The side-effect report (onaboard/web/injections/views.py ``report_side_effect``, services.py
``side_effect_report``) from the day of the first session, before the clinic records it, and the patient's own
reports listed on the page."""

from __future__ import annotations

import datetime as dt
import html

import pytest
from django.urls import reverse
from django.utils import timezone

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
    once the session is recorded, it says the report is not linked to it yet."""
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
    record(user=world.users["nurse"], patient=patient, date=today, today=today)
    detail = client.get(reverse("injections:side_effect_detail", args=[effect.external_id])).content.decode()
    assert "not linked to a session yet" in detail


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
