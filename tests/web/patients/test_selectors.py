"""Reading the patient record for the staff pages (onaboard/web/patients/selectors.py)."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.http import Http404
from django.utils.formats import date_format

from onaboard.web.audit.models import Action, AuditEvent
from onaboard.web.injections.models import InjectionSession
from onaboard.web.outcomes.selectors import BASELINE_AFTER_FIRST_SESSION, BASELINE_BEFORE_FIRST_SESSION
from onaboard.web.patients.access import Capability
from onaboard.web.patients.selectors import (
    patient_billing,
    patient_page,
    preventive_trial_of,
    record_number_taken,
)

pytestmark = pytest.mark.django_db


def test_a_record_number_is_taken_only_by_another_patient_of_the_clinic(world):
    """A number is taken when another patient of the same clinic has it, not by the patient themselves."""
    number = world.own_patient.record_number
    assert record_number_taken(clinic=world.clinic, record_number=number)
    assert not record_number_taken(clinic=world.clinic, record_number=number, exclude=world.own_patient)
    assert not record_number_taken(clinic=world.other_clinic, record_number=number)


def test_a_preventive_is_found_only_on_its_own_patient(world, treated):
    """A preventive's id under another patient, or a malformed id, is not found."""
    mine = {"user": world.users["clinician"], "need": Capability.EDIT_CLINICAL}
    assert preventive_trial_of(treated.patient, treated.trial.external_id, **mine) == treated.trial
    with pytest.raises(Http404):
        preventive_trial_of(world.own_patient, treated.trial.external_id, **mine)
    with pytest.raises(Http404):
        preventive_trial_of(treated.patient, "not-a-uuid", **mine)
    with pytest.raises(Http404):
        preventive_trial_of(treated.patient, uuid.uuid4(), **mine)


def test_a_refused_preventive_id_is_audited_naming_the_patient_whose_trial_it_is(world, treated):
    """Each refused preventive id is a DENIED event with the id asked and what was needed; where the id is another
    patient's trial the event names that patient (their clinic finds the attempt), otherwise no patient. A
    malformed id probes nothing and writes nothing; the found trial writes no refusal."""
    clinician = world.users["clinician"]
    mine = {"user": clinician, "need": Capability.EDIT_CLINICAL}
    preventive_trial_of(treated.patient, treated.trial.external_id, **mine)
    assert not AuditEvent.objects.filter(action=Action.DENIED).exists()
    nobody = uuid.uuid4()
    for asked in (treated.trial.external_id, nobody, "not-a-uuid"):
        with pytest.raises(Http404):
            preventive_trial_of(world.own_patient, asked, **mine)
    refusals = AuditEvent.objects.filter(action=Action.DENIED).order_by("id")
    assert [(e.object_type, e.object_id, e.patient_id, e.detail, e.username) for e in refusals] == [
        (
            "preventive_trial",
            str(treated.trial.external_id),
            treated.trial.patient.external_id,
            "edit_clinical",
            "clinician",
        ),
        ("preventive_trial", str(nobody), None, "edit_clinical", "clinician"),
    ]


def test_the_page_judges_eligibility_on_the_day_before_the_first_injection(world, treated):
    """For a treated patient eligibility is the engine's verdict on the day before day 0, not on today."""
    page = patient_page(user=world.users["clinician"], patient=treated.patient, today=treated.today)
    assert page.eligibility_before_treatment
    assert page.eligibility.as_of == treated.day0 - timedelta(days=1)
    assert [card.value for card in page.verdicts] == ["yes", "not_suspected", "met"]
    assert page.outcomes is not None
    assert page.nice is not None
    assert page.nice.value == "not_yet_assessable"


def test_hit6_change_is_from_the_answer_before_treatment_to_the_latest(world, treated):
    """The HIT-6 change runs from the last answer on or before day 0 to the latest answer, judged by the engine."""
    page = patient_page(user=world.users["clinician"], patient=treated.patient, today=treated.today)
    assert page.hit6_change is not None
    assert (page.hit6_change.baseline, page.hit6_change.follow_up, page.hit6_change.responder) == (78, 60, True)
    numbers = {
        "day": date_format(treated.day0 - timedelta(days=3), "j M Y"),
        "first": date_format(treated.day0, "j M Y"),
    }
    assert page.hit6_baseline == str(BASELINE_BEFORE_FIRST_SESSION) % numbers


def test_hit6_change_says_when_it_is_not_from_before_treatment(world, treated):
    """With no answer on or before the first session, the page says the change runs from the first answer and is
    not a change since treatment (the engine's reason names no dates)."""
    treated.patient.questionnaires.filter(date__lt=treated.day0).update(date=treated.day0 + timedelta(days=5))
    page = patient_page(user=world.users["clinician"], patient=treated.patient, today=treated.today)
    assert page.hit6_change is not None
    numbers = {
        "day": date_format(treated.day0 + timedelta(days=5), "j M Y"),
        "first": date_format(treated.day0, "j M Y"),
    }
    assert page.hit6_baseline == str(BASELINE_AFTER_FIRST_SESSION) % numbers


def test_the_safety_screen_runs_on_the_booked_day(world, treated):
    """With a session booked, the screen is for that day (other toxins within 3 months of it)."""
    booked = treated.today + timedelta(days=10)
    InjectionSession.objects.create(patient=treated.patient, date=booked)
    page = patient_page(user=world.users["clinician"], patient=treated.patient, today=treated.today)
    assert page.safety_on == booked
    assert page.safety.verdict == "contraindicated"


def test_a_billing_row_names_the_stored_figures_that_disagree_with_its_claim_lines(world, treated):
    """A session stored with 2 vials and 245 U discarded (an import carrying its own figures) beside sites giving 155
    U from one 200 U vial: its row names both disagreements, as the procedure note does; the other rows none."""
    session = treated.sessions[0]
    InjectionSession.objects.filter(pk=session.pk).update(vials_used=2, discarded_units=245)
    page = patient_billing(user=world.users["billing"], patient=treated.patient, today=treated.today)
    rows = {row.session.pk: row for row in page.sessions}
    figures = [(f.name, f.stored, f.from_sites) for f in rows[session.pk].stored_disagreements]
    assert figures == [("vials opened", 2, 1), ("units discarded", 245, 45)]
    assert all(not row.stored_disagreements for pk, row in rows.items() if pk != session.pk)


def test_reading_the_billing_page_gives_the_engines_claim_lines_and_is_audited(world, treated):
    """Each recorded session has the engine's lines: CPT 64615 once, J0585 for 155 U given and 45 U discarded."""
    page = patient_billing(user=world.users["billing"], patient=treated.patient, today=treated.today)
    lines = [(line.code, line.modifier, line.units) for line in page.sessions[0].billing_lines]
    assert lines == [("64615", None, 1), ("J0585", None, 155), ("J0585", "JW", 45)]
    event = AuditEvent.objects.get(action=Action.READ, object_type="patient")
    assert event.detail == "billing page"
