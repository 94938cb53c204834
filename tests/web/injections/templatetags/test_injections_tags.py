"""The partials other pages include: a patient's sessions and side effects (injections/templatetags)."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.utils import timezone

from onaboard.clinical import preempt_plan
from onaboard.web.injections import services
from onaboard.web.injections.models import InjectionSession, SessionStatus
from onaboard.web.injections.templatetags.injections_tags import map_sites_of
from tests.web.factories import TreatmentDecisionFactory
from tests.web.injections.conftest import record


def render(template, world, role, patient):
    request = RequestFactory().get("/")
    request.user = world.users[role]
    return render_to_string(template, {"patient": patient}, request=request)


@pytest.fixture
def history(world, patient):
    today = timezone.localdate()
    session = record(
        user=world.users["nurse"], patient=patient, date=today, today=today, complications="Bruise at trapezius"
    )
    services.side_effect_report(
        user=world.users["patient"], patient=patient, kind="dysphagia", onset=today, severity="severe", today=today
    )
    return session


def test_clinicians_see_sessions_schedule_and_actions(world, patient, history):
    """The sessions partial shows the schedule's reasons, the booking with its date, and the record button."""
    html = render("injections/_sessions.html", world, "clinician", patient)
    next_due = (timezone.localdate() + dt.timedelta(days=84)).isoformat()
    assert f"next due {next_due}" in html
    assert f"Next session booked for <strong>{next_due}</strong>" in html
    assert "Record session" in html
    assert "complication" in html


def test_billing_sees_sessions_but_no_clinical_markers(world, patient, history):
    """Billing staff see dates, units and vials, without notes, override or complication markers."""
    html = render("injections/_sessions.html", world, "billing", patient)
    assert "155 U" in html
    assert "1 \u00d7 200 U" in html
    assert "complication" not in html
    assert "Record session" not in html


def test_trainees_see_no_sessions(world, patient, history):
    """A trainee gets nothing from the partial."""
    assert render("injections/_sessions.html", world, "trainee", patient).strip() == ""


def test_the_side_effects_partial_shows_urgent_reports_to_clinicians(world, patient, history):
    """The clinician sees the patient's report, marked urgent and not reviewed, with the session it follows."""
    html = render("injections/_side_effects.html", world, "clinician", patient)
    assert "Trouble swallowing" in html
    assert "urgent" in html
    assert "not reviewed" in html
    assert history.date.isoformat() in html
    assert "Review" in html


def test_billing_sees_no_side_effects(world, patient, history):
    """Side effects are clinical: the partial is empty for billing staff."""
    assert render("injections/_side_effects.html", world, "billing", patient).strip() == ""


def test_the_patient_sees_their_side_effects_without_the_review_link(world, patient, history):
    """The patient sees their own report and a link to report another, not the clinician's review."""
    html = render("injections/_side_effects.html", world, "patient", patient)
    assert "Trouble swallowing" in html
    assert "/review/" not in html
    assert "Report a side effect" in html


def test_a_plan_renders_on_the_site_map(world):
    """The trainer can draw any engine plan with the same include."""
    plan = preempt_plan(follow_the_pain={"occipitalis": 1})
    html = render_to_string("injections/_site_map.html", {"map_sites": map_sites_of(plan)})
    assert len(re.findall(r'<a href="#site-', html)) == 32
    assert 'aria-label="occipitalis left, extra site 1, 5 U"' in html


def test_a_stop_replaces_the_due_date_and_asks_to_cancel_the_booking_still_held(world, patient, history):
    """Once a clinician's decision to stop is on record the card says so (who, when; the reason to clinical staff)
    instead of the engine's next due date, and asks for the booking still held to be cancelled."""
    today = timezone.localdate()
    clinician = world.users["clinician"]
    TreatmentDecisionFactory(
        patient=patient, decided_on=today, reason="no benefit; agreed with the patient", decided_by=clinician
    )
    booked = (today + dt.timedelta(days=84)).isoformat()
    html = render("injections/_sessions.html", world, "clinician", patient)
    box = re.search(r'<div class="verdict warn" data-schedule="stopped">(.*?)</div>', html, flags=re.DOTALL)
    assert box, html
    text = " ".join(re.sub(r"<[^>]+>", " ", box.group(1)).split())
    name = clinician.get_full_name() or clinician.username
    assert text.startswith(f"Treatment stopped on {today.isoformat()} by {name}: no session is due")
    assert "Reason: no benefit; agreed with the patient" in text
    assert f"a session is still booked for {booked}: cancel it, as treatment has stopped" in text
    assert "next due" not in html
    billing = render("injections/_sessions.html", world, "billing", patient)
    assert "no session is due" in billing
    assert "no benefit" not in billing


def test_a_stop_with_nothing_booked_is_shown_without_alarm(world, patient, history):
    """A stop that left nothing booked is shown in the neutral tone, naming the last cycle given."""
    today = timezone.localdate()
    InjectionSession.objects.filter(patient=patient, status=SessionStatus.BOOKED).update(status=SessionStatus.CANCELLED)
    TreatmentDecisionFactory(patient=patient, decided_on=today)
    html = render("injections/_sessions.html", world, "clinician", patient)
    assert '<div class="verdict" data-schedule="stopped">' in html
    assert f"Last session: cycle 1, given {today.isoformat()}" in html
    assert "still booked" not in html
    assert "Due since" not in html
    assert "next due" not in html


def test_a_decision_to_continue_keeps_the_schedule(world, patient, history):
    """A later decision to continue brings the engine's due date back."""
    today = timezone.localdate()
    TreatmentDecisionFactory(patient=patient, decided_on=today - dt.timedelta(days=1))
    TreatmentDecisionFactory(patient=patient, decided_on=today, decision="continue", nice_verdict="")
    html = render("injections/_sessions.html", world, "clinician", patient)
    assert 'data-schedule="stopped"' not in html
    assert f"next due {(today + dt.timedelta(days=84)).isoformat()}" in html


def test_after_a_stop_a_missed_booking_is_not_asked_to_be_cancelled(world, patient, history):
    """A booking whose day has passed is left as it is by a stop (``booking_held``): the card stays neutral."""
    today = timezone.localdate()
    InjectionSession.objects.filter(patient=patient, status=SessionStatus.BOOKED).update(
        date=today - dt.timedelta(days=1)
    )
    TreatmentDecisionFactory(patient=patient, decided_on=today)
    html = render("injections/_sessions.html", world, "clinician", patient)
    assert '<div class="verdict" data-schedule="stopped">' in html
    assert "still booked" not in html


def test_a_booking_whose_day_has_passed_is_shown_as_missed_not_as_the_next_session(world, patient, history):
    """A booking left open after its day (missed, or given and not recorded) is not "Next session booked for" a day
    gone by: the card says it was missed and what to do."""
    from onaboard.web.injections.models import InjectionSession, SessionStatus

    missed = timezone.localdate() - dt.timedelta(days=3)
    InjectionSession.objects.filter(patient=patient, status=SessionStatus.BOOKED).update(date=missed)
    html = render("injections/_sessions.html", world, "clinician", patient)
    assert f"The session booked for <strong>{missed.isoformat()}</strong> was missed" in html
    assert "Next session booked for" not in html
