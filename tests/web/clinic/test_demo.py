"""The demo clinic (onaboard/web/clinic/demo.py): every patient lands in the state its story promises."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from onaboard.clinical import NiceTa260
from onaboard.web.accounts.models import Role, SiteOfService, User
from onaboard.web.audit.models import AuditEvent
from onaboard.web.clinic.demo import (
    CLINIC_NAME,
    PASSWORD,
    PATIENTS,
    STAFF,
    demo_clinic_load,
    demo_logins,
    story_holds,
)
from onaboard.web.clinic.selectors import PathwayState, pathway_states
from onaboard.web.diary.models import DiaryEntry
from onaboard.web.injections.models import InjectionSession, InjectionSiteRecord, SessionStatus
from onaboard.web.outcomes.models import (
    Decision,
    QuestionnaireResponse,
    SupersededQuestionnaireResponse,
    TreatmentDecision,
)
from onaboard.web.outcomes.services import answer_token, questionnaire_response_record, questionnaire_response_remove
from onaboard.web.patients.models import Patient
from tests.web.clinic.diaries import TODAY

DAYS = [TODAY, date(2027, 1, 1), date(2028, 2, 29), date(2031, 11, 5)]
"""Dates are relative to today, so the story holds whatever today is (a leap day included)."""


@pytest.mark.parametrize("today", DAYS, ids=str)
@pytest.mark.parametrize("spec", PATIENTS, ids=lambda spec: f"{spec.number}-{spec.expected}")
def test_each_demo_patient_tells_its_story_on_any_day(spec, today):
    """The engine puts each demo patient in its expected state, with the verdicts its story needs."""
    assert story_holds(spec, today)


def test_the_demo_spreads_over_every_state():
    """Every pathway state has a demo patient, "treatment stopped" (a clinician's recorded decision) included."""
    states = {spec.expected for spec in PATIENTS}
    assert states == set(PathwayState)


@pytest.mark.django_db
def test_the_stopped_patient_was_stopped_by_dr_demo_against_the_engines_stop_verdict():
    """The demo's stopped patient has one decision, to stop, recorded by dr.demo on the day the story says, with
    its reason and the engine's NICE TA260 "stop" of that day (week 24 without a 30 % response, not a return to
    episodic migraine), and an audit event; no other demo patient has a decision."""
    result = demo_clinic_load(today=TODAY)
    (spec,) = [spec for spec in PATIENTS if spec.expected is PathwayState.TREATMENT_STOPPED]
    decision = TreatmentDecision.objects.select_related("patient", "decided_by").get()
    assert decision.patient.record_number == spec.record_number
    assert decision.patient.clinic == result.clinic
    assert (decision.decision, decision.decided_by.username) == (Decision.STOP, "dr.demo")
    assert decision.decided_on == TODAY - timedelta(days=spec.stopped_ago)
    assert decision.reason == spec.stop_reason
    assert decision.nice_verdict == NiceTa260.STOP
    assert any("week 24" in line for line in decision.nice_reason_lines)
    assert AuditEvent.objects.filter(object_type="treatment_decision", object_id=str(decision.external_id)).exists()
    pathway = pathway_states([decision.patient], today=TODAY)[decision.patient.pk]
    assert pathway.summary.startswith(f"Treatment stopped on {decision.decided_on.isoformat()} by Dana Whitfield: ")


def test_logins_list_the_staff_then_every_patient():
    """The printed logins are the five staff accounts and one portal login per patient."""
    logins = [user for user, _, _ in demo_logins()]
    assert logins[: len(STAFF)] == ["dr.demo", "nurse.demo", "billing.demo", "admin.demo", "trainee.demo"]
    assert logins[len(STAFF) :] == [f"patient{spec.number}.demo" for spec in PATIENTS]


@pytest.mark.django_db
def test_loading_stores_patients_whose_stored_rows_give_the_expected_states():
    """The stored demo clinic, read back through the selectors, shows each patient in its expected state."""
    result = demo_clinic_load(today=TODAY)
    assert result.created
    patients = list(Patient.objects.filter(clinic=result.clinic))
    states = pathway_states(patients, today=TODAY)
    expected = {spec.record_number: spec.expected for spec in PATIENTS}
    assert {p.record_number: states[p.pk].state for p in patients} == expected


@pytest.mark.django_db
def test_demo_logins_have_their_roles_and_the_demo_password():
    """Every demo login signs in with the published password, with its role; only admin.demo is a superuser."""
    demo_clinic_load(today=TODAY)
    users = {user.username: user for user in User.objects.filter(clinic__name=CLINIC_NAME)}
    assert len(users) == len(STAFF) + len(PATIENTS)
    assert all(user.check_password(PASSWORD) for user in users.values())
    assert users["dr.demo"].role == Role.CLINICIAN
    assert users["trainee.demo"].role == Role.TRAINEE
    assert [name for name, user in users.items() if user.is_superuser] == ["admin.demo"]
    assert Patient.objects.get(record_number="DEMO-0001").user == users["patient1.demo"]


@pytest.mark.django_db
def test_recorded_sessions_follow_the_preempt_plan():
    """Each recorded session has its 31 fixed sites (plus follow-the-pain) and the engine's vials and wastage."""
    demo_clinic_load(today=TODAY)
    for session in InjectionSession.objects.filter(status=SessionStatus.RECORDED):
        sites = InjectionSiteRecord.objects.filter(session=session)
        assert sites.filter(follow_the_pain=False).count() == 31
        assert sum(site.units for site in sites) == session.total_units
        assert session.vials_used * session.vial_units - session.total_units == session.discarded_units
        assert not sites.filter(x__isnull=True).exists()


@pytest.mark.django_db
def test_loading_twice_changes_nothing():
    """A second load finds the demo and leaves every row as it was."""
    demo_clinic_load(today=TODAY)
    before = (Patient.objects.count(), DiaryEntry.objects.count(), InjectionSession.objects.count())
    again = demo_clinic_load(today=date(2026, 7, 3))
    assert not again.created
    assert again.built_on == TODAY
    assert (Patient.objects.count(), DiaryEntry.objects.count(), InjectionSession.objects.count()) == before


@pytest.mark.django_db
def test_reset_rebuilds_the_demo_for_the_new_day_and_keeps_the_logins():
    """--reset replaces the demo patients with ones built for the new day; staff and portal logins stay the same."""
    demo_clinic_load(today=TODAY)
    answer = QuestionnaireResponse.objects.first()  # an answer replaced and one removed: kept rows of the patient
    clinician = User.objects.get(username="dr.demo")
    questionnaire_response_record(
        user=clinician,
        patient=answer.patient,
        instrument=answer.instrument,
        answers=["always"] * 6 if answer.instrument == "hit6" else {"q1": 1, "q2": 1, "q3": 1, "q4": 1, "q5": 1},
        date=answer.date,
        today=TODAY,
    )
    answer.refresh_from_db()
    questionnaire_response_remove(
        user=clinician, patient=answer.patient, token=answer_token(answer), instrument=answer.instrument
    )
    assert SupersededQuestionnaireResponse.objects.count() == 2
    logins = set(User.objects.values_list("pk", flat=True))
    old_patients = set(Patient.objects.values_list("external_id", flat=True))
    later = date(2026, 7, 10)
    result = demo_clinic_load(today=later, reset=True)
    assert result.created
    assert set(User.objects.values_list("pk", flat=True)) == logins
    assert old_patients.isdisjoint(Patient.objects.values_list("external_id", flat=True))
    assert Patient.objects.count() == len(PATIENTS)
    assert DiaryEntry.objects.order_by("-date").first().date == later
    assert not SupersededQuestionnaireResponse.objects.exists()


@pytest.mark.django_db
def test_the_demo_clinic_is_a_hospital_outpatient_department():
    """The demo clinic is a hospital outpatient department, so its Medicare patient's prior authorisation is asked
    for (the coverage demo's story), and a reset makes it one again."""
    result = demo_clinic_load(today=TODAY)
    assert result.clinic.site_of_service == SiteOfService.HOSPITAL_OUTPATIENT
    type(result.clinic).objects.filter(pk=result.clinic.pk).update(site_of_service=SiteOfService.OFFICE)
    reset = demo_clinic_load(today=TODAY, reset=True)
    reset.clinic.refresh_from_db()
    assert reset.clinic.site_of_service == SiteOfService.HOSPITAL_OUTPATIENT
