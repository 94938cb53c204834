"""The clinic's rows as the registry's tables, and the cohort report over them (onaboard/web/analytics/selectors.py)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pyarrow.parquet as pq
import pytest
from django.core.exceptions import PermissionDenied

from onaboard.clinical import PERIOD_DAYS, RETREATMENT_INTERVAL_DAYS, LabelCriteria, assess, treatment_outcomes
from onaboard.cohort.report import cohort_report, report_json
from onaboard.cohort.tables import SCHEMAS
from onaboard.web.accounts.models import Role
from onaboard.web.analytics.selectors import _visits, clinic_cohort_report, clinic_cohort_tables
from onaboard.web.audit.models import Action, AuditEvent
from onaboard.web.diary.selectors import patient_diary
from onaboard.web.injections.models import SessionStatus, Severity, SideEffect, SideEffectKind
from onaboard.web.patients.models import Patient
from tests.cohort.conftest import IBIS_ON_DUCKDB_2
from tests.web.factories import DiaryEntryFactory, InjectionSessionFactory, PatientFactory


@IBIS_ON_DUCKDB_2
def test_the_report_equals_the_registry_report_on_the_same_rows_exported(demo, staff, today, tmp_path):
    """Written out as a cohort directory, the clinic's tables give the CLI's report figure for figure."""
    tables = clinic_cohort_tables(user=staff[Role.CLINICIAN], today=today)
    for name, table in tables.items():
        pq.write_table(table, tmp_path / f"{name}.parquet")
    page = clinic_cohort_report(user=staff[Role.CLINICIAN], today=today)
    registry = cohort_report(tmp_path)
    assert page.treated == 7
    assert report_json(page) == report_json(replace(registry, directory=demo.name))


def test_the_figures_are_the_engines_patient_by_patient(demo, staff, today):
    """Week-24 responders, eligibility at the first injection and time to response agree with onaboard.clinical
    run on each treated patient's diary and recorded sessions."""
    report = clinic_cohort_report(user=staff[Role.NURSE], today=today)
    assessable = responders = eligible = onsets = 0
    for patient in Patient.objects.filter(clinic=demo):
        sessions = sorted(
            patient.injection_sessions.filter(status=SessionStatus.RECORDED).values_list("date", flat=True)
        )
        if not sessions:
            continue
        diary = patient_diary(patient)
        outcomes = treatment_outcomes(diary, injections=sessions)
        if outcomes.baseline.complete and outcomes.week24.available:
            assessable += 1
            responders += bool(outcomes.week24.responder_30)
        before = assess(diary, as_of=sessions[0] - timedelta(days=1), birth_date=patient.birth_date)
        eligible += before.label_criteria.verdict is LabelCriteria.MET
        onsets += outcomes.onset is not None
    assert (report.responder_30.count, report.responder_30.total) == (responders, assessable)
    assert report.label_criteria["met"] == eligible
    assert report.time_to_response["responded"] == onsets
    assert assessable > 0
    assert responders > 0


def test_only_the_callers_clinic_is_read(demo, staff, today, world):
    """Another clinic's patient, with diary and session, is in no table."""
    far = world.other_clinic_patient
    DiaryEntryFactory(patient=far, date=today)
    InjectionSessionFactory(patient=far, date=today, status=SessionStatus.RECORDED)
    tables = clinic_cohort_tables(user=staff[Role.ADMIN], today=today)
    ours = {str(key) for key in Patient.objects.filter(clinic=demo).values_list("external_id", flat=True)}
    assert set(tables["patients"]["patient_id"].to_pylist()) == ours
    for name in ("diary", "sessions", "prom", "adverse_events"):
        assert set(tables[name]["patient_id"].to_pylist()) <= ours
    assert all(table.column_names == SCHEMAS[name].names for name, table in tables.items())


def test_questionnaires_land_on_their_visits(demo, staff, today):
    """The HIT-6 a week before the first injection is visit 1, the one at the third session (week 24) visit 3, and
    the MIDAS answered with the first HIT-6 shares its row."""
    tables = clinic_cohort_tables(user=staff[Role.CLINICIAN], today=today)
    prom = tables["prom"].to_pylist()
    marsh = str(Patient.objects.get(clinic=demo, family_name="Marsh").external_id)
    visits = {row["visit"]: row for row in prom if row["patient_id"] == marsh}
    assert set(visits) == {1, 2, 3}
    assert visits[1]["midas_q1"] is not None
    assert visits[1]["hit6_1"] is not None
    assert visits[3]["midas_q1"] is None
    assert visits[3]["hit6_1"] is not None
    first = min(row["session_date"] for row in tables["sessions"].to_pylist() if row["patient_id"] == marsh)
    assert visits[3]["assessed_on"] == first + timedelta(days=2 * RETREATMENT_INTERVAL_DAYS)


def test_a_visit_takes_answers_from_the_28_days_up_to_it():
    """Visit 1 on day 0 takes a questionnaire answered 27 days before (the 28th day of its window), not one
    answered 28 days before (29 days back, outside the four weeks the questionnaires ask about)."""
    day0 = date(2026, 3, 1)
    inside, outside = day0 - timedelta(days=PERIOD_DAYS - 1), day0 - timedelta(days=PERIOD_DAYS)
    assert _visits(day0, [(inside, "in")], last_visit=1) == {1: (inside, "in")}
    assert _visits(day0, [(outside, "out")], last_visit=1) == {}


def test_side_effects_count_under_the_labels_names(demo, staff, today):
    """Neck pain after a first session and a drooping eyelid after a second are the label's neck pain and eyelid
    ptosis, each one patient; the app records no stop for an adverse event."""
    report = clinic_cohort_report(user=staff[Role.CLINICIAN], today=today)
    counted = {row.event: row.rate.count for row in report.adverse_events}
    assert counted["neck_pain"] == 1
    assert counted["eyelid_ptosis"] == 1
    assert sum(counted.values()) == 2
    assert report.discontinued_adverse_event.count == 0


def test_a_side_effect_without_a_session_goes_to_the_session_before_it(demo, staff, today):
    """A side effect reported with no session is attributed to the last recorded session before its onset; one
    before any session is left out."""
    patient = Patient.objects.get(clinic=demo, family_name="Marsh")
    sessions = list(patient.injection_sessions.order_by("date"))
    for onset in (sessions[1].date + timedelta(days=3), sessions[0].date - timedelta(days=3)):
        SideEffect.objects.create(patient=patient, kind=SideEffectKind.MYALGIA, onset=onset, severity=Severity.MILD)
    events = clinic_cohort_tables(user=staff[Role.CLINICIAN], today=today)["adverse_events"].to_pylist()
    mine = [row for row in events if row["patient_id"] == str(patient.external_id)]
    assert [(row["event"], row["session_number"]) for row in mine] == [("myalgia", 2)]


@pytest.mark.parametrize("role", [Role.BILLING, Role.PATIENT, Role.TRAINEE])
def test_other_roles_are_refused_and_the_refusal_is_audited(world, role, today):
    """Billing staff, patients and trainees get PermissionDenied, recorded as a denied read."""
    with pytest.raises(PermissionDenied):
        clinic_cohort_report(user=world.users[role], today=today)
    event = AuditEvent.objects.get(user=world.users[role])
    assert (event.action, event.object_type) == (Action.DENIED, "clinic_cohort")


def test_a_clinician_without_a_clinic_is_refused(world, today):
    """Staff attached to no clinic have no cohort."""
    clinician = world.users[Role.CLINICIAN]
    clinician.clinic = None
    clinician.save()
    with pytest.raises(PermissionDenied):
        clinic_cohort_tables(user=clinician, today=today)


def test_the_read_is_audited_as_an_aggregate(world, today):
    """Reading the report writes one read event naming the clinic and no patient."""
    PatientFactory(clinic=world.clinic)
    report = clinic_cohort_report(user=world.users[Role.CLINICIAN], today=today)
    (event,) = AuditEvent.objects.filter(action=Action.READ, object_type="clinic_cohort")
    assert event.object_id == str(world.clinic.external_id)
    assert event.patient_id is None
    assert f"{report.patients} patients, 0 treated" in event.detail


def test_a_visit_with_hit6_alone_has_no_midas_grade(demo, staff, today):
    """The week-24 HIT-6 counts toward the HIT-6 change, and its visit, without MIDAS answers, adds no MIDAS grade."""
    report = clinic_cohort_report(user=staff[Role.CLINICIAN], today=today)
    assert report.hit6_week24_change.n == 1
    assert sum(report.midas_grades["week24"].values()) == 0
    assert sum(report.midas_grades["baseline"].values()) == report.hit6_baseline.n
