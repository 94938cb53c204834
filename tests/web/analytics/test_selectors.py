"""The clinic's rows as the registry's tables, and the cohort report over them (onaboard/web/analytics/selectors.py)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

import pyarrow.parquet as pq
import pytest
from django.core.exceptions import PermissionDenied

from onaboard.clinical import (
    FIXED_SITE_COUNT,
    PERIOD_DAYS,
    RETREATMENT_INTERVAL_DAYS,
    WEEK24_PERIOD,
    LabelCriteria,
    MedicationOveruse,
    Muscle,
    NiceTa260,
    assess,
    plan_from_sites,
    preempt_plan,
    treatment_outcomes,
    week24_last_day,
)
from onaboard.cohort.backends import Engine, connect, read_cohort
from onaboard.cohort.report import WEEK24_NOT_REACHED, cohort_report_of, report_json
from onaboard.cohort.tables import SCHEMAS
from onaboard.web.accounts.models import Role
from onaboard.web.analytics.selectors import (
    RECORDED_EVENTS,
    _visits,
    clinic_cohort_report,
    clinic_cohort_tables,
)
from onaboard.web.audit.models import Action, AuditEvent
from onaboard.web.diary.models import DiaryEntry
from onaboard.web.diary.selectors import patient_diary
from onaboard.web.injections.models import (
    InjectionSession,
    InjectionSiteRecord,
    SessionStatus,
    Severity,
    SideEffect,
    SideEffectKind,
)
from onaboard.web.patients.models import Patient
from tests.cohort.conftest import IBIS_ON_DUCKDB_2
from tests.web.factories import DiaryEntryFactory, InjectionSessionFactory, PatientFactory


@IBIS_ON_DUCKDB_2
def test_the_report_equals_the_registry_report_on_the_same_rows_exported(demo, staff, today, tmp_path):
    """Written out as a cohort directory, the clinic's tables give the registry report figure for figure, made as
    of today with the side effects the app records."""
    tables = clinic_cohort_tables(user=staff[Role.CLINICIAN], today=today)
    for name, table in tables.items():
        pq.write_table(table, tmp_path / f"{name}.parquet")
    page = clinic_cohort_report(user=staff[Role.CLINICIAN], today=today)
    cohort = read_cohort(connect(Engine.DUCKDB), tmp_path)
    registry = cohort_report_of(
        cohort,
        source=str(tmp_path),
        as_of=today,
        recorded_events=RECORDED_EVENTS,
        discontinuation_recorded=False,
    )
    assert page.treated == 7
    assert report_json(page) == report_json(replace(registry, directory=demo.name))


def _engine_figures(clinic, today):
    """Per the engine, as the patient's pages call it (``as_of=today``): week-24 responders and assessable
    patients, patients meeting the label, onsets, NICE TA260 verdicts and period indices with a judged change."""
    assessable = responders = eligible = onsets = 0
    nice: dict[str, int] = {}
    judged: dict[int, int] = {}
    for patient in Patient.objects.filter(clinic=clinic):
        sessions = sorted(
            patient.injection_sessions.filter(status=SessionStatus.RECORDED).values_list("date", flat=True)
        )
        if not sessions:
            continue
        diary = patient_diary(patient)
        outcomes = treatment_outcomes(diary, injections=sessions, as_of=today)
        if outcomes.baseline.complete and outcomes.week24.available:
            assessable += 1
            responders += bool(outcomes.week24.responder_30)
        before = assess(diary, as_of=sessions[0] - timedelta(days=1), birth_date=patient.birth_date)
        eligible += before.label_criteria.verdict is LabelCriteria.MET
        onsets += outcomes.onset is not None
        verdict = outcomes.nice_ta260.verdict.value
        nice[verdict] = nice.get(verdict, 0) + 1
        for change in outcomes.periods:
            if outcomes.baseline.complete and change.judged:
                judged[change.period.index] = judged.get(change.period.index, 0) + 1
    return assessable, responders, eligible, onsets, nice, judged


def _page_figures(report):
    """The same figures as the clinic's cohort page counts them."""
    nice = {name: n for name, n in report.nice_ta260.items() if n}
    judged = {row.period: row.n for row in report.change_by_period}
    return (
        report.responder_30.total,
        report.responder_30.count,
        report.label_criteria["met"],
        report.time_to_response["responded"],
        nice,
        judged,
    )


def test_the_figures_are_the_engines_patient_by_patient(demo, staff, today):
    """Week-24 responders, eligibility at the first injection, time to response, NICE TA260 and the periods with a
    change agree with onaboard.clinical run on each treated patient's diary and recorded sessions as of today."""
    report = clinic_cohort_report(user=staff[Role.NURSE], today=today)
    figures = _engine_figures(demo, today)
    assert _page_figures(report) == figures
    assert figures[0] > 0
    assert figures[1] > 0


def test_a_period_still_running_today_is_not_counted(world, today):
    """A patient on day 24 of week 24 (period 6) has 24 days of it recorded (28 headache days at baseline, 16 in
    each period since: a 30 % responder who stays chronic), yet week 24 is still running: the page,
    as the patient's pages, counts no one assessable at week 24, gives NICE TA260 "not yet assessable" and shows no
    period 6 change, as ``treatment_outcomes(..., as_of=today)`` does."""
    patient = PatientFactory(clinic=world.clinic)
    day0 = today - timedelta(days=PERIOD_DAYS * (WEEK24_PERIOD - 1) + 23)
    first = day0 - timedelta(days=PERIOD_DAYS)
    DiaryEntry.objects.bulk_create(
        DiaryEntry(
            patient=patient,
            date=first + timedelta(days=offset),
            headache_hours=Decimal(6 if offset < PERIOD_DAYS or offset % PERIOD_DAYS < 16 else 0),
        )
        for offset in range((today - first).days + 1)
    )
    for when in (day0, day0 + timedelta(days=RETREATMENT_INTERVAL_DAYS)):
        InjectionSessionFactory(patient=patient, date=when, status=SessionStatus.RECORDED)
    report = clinic_cohort_report(user=world.users[Role.CLINICIAN], today=today)
    outcomes = treatment_outcomes(patient_diary(patient), injections=[day0], as_of=today)
    assert outcomes.running is not None
    assert (outcomes.running.period.index, outcomes.running.period.days_recorded) == (WEEK24_PERIOD, 24)
    assert not outcomes.week24.available
    assert report.responder_50.total == 0
    assert report.nice_ta260[NiceTa260.NOT_YET_ASSESSABLE] == 1
    assert [row.period for row in report.change_by_period] == list(range(1, WEEK24_PERIOD))
    assert _page_figures(report) == _engine_figures(world.clinic, today)


def test_overuse_at_week24_judges_only_the_patients_who_have_reached_it(demo, staff, today):
    """The demo clinic's overuse at week 24 gives the engine's verdicts only to the treated patients whose week 24
    ended before today (``week24_last_day`` of their first recorded session) and counts the others as not reached:
    the patient first injected 120 days ago, whose period 4 ended without overuse, is not reached, not "not
    suspected" (which gave 4 not suspected beside 3 assessable at week 24)."""
    report = clinic_cohort_report(user=staff[Role.CLINICIAN], today=today)
    reached = not_reached = 0
    for patient in Patient.objects.filter(clinic=demo):
        sessions = patient.injection_sessions.filter(status=SessionStatus.RECORDED).order_by("date")
        if first := sessions.values_list("date", flat=True).first():
            if week24_last_day(first) < today:
                reached += 1
            else:
                not_reached += 1
    overuse = report.overuse_at_week24
    judged = sum(n for name, n in overuse.items() if name != WEEK24_NOT_REACHED)
    assert (judged, overuse[WEEK24_NOT_REACHED]) == (reached, not_reached) == (3, 4)
    assert overuse[MedicationOveruse.NOT_SUSPECTED] <= report.responder_50.total == 3
    assert report_json(report)["overuse_at_week24"][WEEK24_NOT_REACHED] == not_reached


def test_only_the_callers_clinic_is_read(demo, staff, today, world):
    """Another clinic's patient, with diary and session, is in no table."""
    far = world.other_clinic_patient
    DiaryEntryFactory(patient=far, date=today)
    InjectionSessionFactory(patient=far, date=today, status=SessionStatus.RECORDED)
    tables = clinic_cohort_tables(user=staff[Role.NURSE], today=today)
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


def test_side_effects_count_under_the_labels_names_once_week24_is_over(demo, staff, today):
    """A drooping eyelid after a second session is the label's eyelid ptosis, one of the patients whose week 24 has
    ended; the neck pain of a patient first injected less than 24 weeks ago is in no rate, above or below the line,
    until their week 24 has ended, and then counts as the label's neck pain; the app records no stop."""
    report = clinic_cohort_report(user=staff[Role.CLINICIAN], today=today)
    counted = {row.event: row.rate for row in report.adverse_events}
    over = sum(week24_last_day(first) < today for first in _first_sessions(demo).values())
    assert (counted["eyelid_ptosis"].count, counted["eyelid_ptosis"].total) == (1, over)
    assert (counted["neck_pain"].count, counted["neck_pain"].total) == (0, over)
    assert over < report.treated
    assert sum(rate.count for rate in counted.values()) == 1
    assert report.discontinued_adverse_event.count == 0
    neck_pain = SideEffect.objects.get(patient__clinic=demo, kind=SideEffectKind.NECK_PAIN)
    week24_over = week24_last_day(_first_sessions(demo)[neck_pain.patient_id]) + timedelta(days=1)
    assert week24_over > today
    later = clinic_cohort_report(user=staff[Role.CLINICIAN], today=week24_over)
    assert {row.event: row.rate.count for row in later.adverse_events}["neck_pain"] == 1


def _first_sessions(clinic):
    """Each treated patient's first recorded session, by patient key."""
    first = {}
    sessions = InjectionSession.objects.filter(patient__clinic=clinic, status=SessionStatus.RECORDED).order_by("date")
    for patient_pk, day in sessions.values_list("patient_id", "date"):
        first.setdefault(patient_pk, day)
    return first


def test_label_rows_the_app_cannot_record_are_marked_and_not_compared(demo, staff, today):
    """Musculoskeletal pain, bronchitis and hypertension have no kind of side effect in the app: their rows say
    not recorded, with no rate and no comparison with the label, in the report and its JSON."""
    report = clinic_cohort_report(user=staff[Role.CLINICIAN], today=today)
    unrecorded = {row.event for row in report.adverse_events if not row.recorded}
    assert unrecorded == {"musculoskeletal_pain", "bronchitis", "hypertension"}
    for row in report.adverse_events:
        if not row.recorded:
            assert (row.rate.percent, row.rate.low, row.rate.high, row.label_within_interval) == (None,) * 4
    document = {row["event"]: row for row in report_json(report)["adverse_events"]}
    assert document["hypertension"]["recorded"] is False
    assert document["neck_pain"]["recorded"] is True


@IBIS_ON_DUCKDB_2
def test_the_published_discontinuation_figure_is_not_judged_against_a_clinic(demo, staff, today, tmp_path):
    """The app records no decision to stop for an adverse event, so the published discontinuation figure is shown as
    not recorded, with no value and no near or off, where a rate that can only be 0 used to read near; a registry's
    report (every stop recorded) still judges it."""
    report = clinic_cohort_report(user=staff[Role.CLINICIAN], today=today)
    [row] = [row for row in report.reference if row.name == "discontinued_adverse_event"]
    assert (row.recorded, row.cohort, row.near, row.within_tolerance, row.inside_interval) == (
        False,
        None,
        None,
        None,
        None,
    )
    assert {row.name for row in report.reference if not row.recorded} == {"discontinued_adverse_event"}
    document = {row["name"]: row for row in report_json(report)["reference"]}
    assert document["discontinued_adverse_event"]["recorded"] is False
    for name, table in clinic_cohort_tables(user=staff[Role.CLINICIAN], today=today).items():
        pq.write_table(table, tmp_path / f"{name}.parquet")
    cohort = read_cohort(connect(Engine.DUCKDB), tmp_path)
    registry = cohort_report_of(cohort, source="registry", as_of=today, recorded_events=RECORDED_EVENTS)
    [judged] = [row for row in registry.reference if row.name == "discontinued_adverse_event"]
    assert judged.recorded
    assert judged.near is not None


def test_a_kind_standing_for_two_label_rows_counts_for_both(demo, staff, today):
    """ "Neck weakness or stiffness" is the label's muscular weakness and musculoskeletal stiffness, "headache or
    migraine flare" its headache and migraine: each counts its patient in both rows, which name each other and are
    compared with neither label figure."""
    patient = Patient.objects.get(clinic=demo, family_name="Marsh")
    first = patient.injection_sessions.filter(status=SessionStatus.RECORDED).order_by("date").first()
    for kind in (SideEffectKind.NECK_WEAKNESS, SideEffectKind.HEADACHE_FLARE):
        SideEffect.objects.create(
            patient=patient, session=first, kind=kind, onset=first.date + timedelta(days=5), severity=Severity.MILD
        )
    report = clinic_cohort_report(user=staff[Role.CLINICIAN], today=today)
    rows = {row.event: row for row in report.adverse_events}
    for pair in (("muscular_weakness", "musculoskeletal_stiffness"), ("headache", "migraine")):
        one, other = (rows[event] for event in pair)
        assert one.rate == other.rate
        assert one.rate.count == 1
        assert (one.recorded_with, other.recorded_with) == ((other.event,), (one.event,))
        assert one.label_within_interval is other.label_within_interval is None
    assert rows["neck_pain"].recorded_with == ()


def test_a_kind_holding_more_than_its_label_row_is_counted_there_and_not_compared(demo, staff, today):
    """ "Drooping brow or facial weakness" and "pain or bruising where injected" hold more than the label's facial
    paresis and injection-site pain: each counts its patient in that row, under a code of its own, with no
    comparison with the label's figure, in the report and its JSON; neck pain, the label's row itself, is compared."""
    patient = Patient.objects.get(clinic=demo, family_name="Marsh")
    first = patient.injection_sessions.filter(status=SessionStatus.RECORDED).order_by("date").first()
    for kind in (SideEffectKind.BROW_PTOSIS, SideEffectKind.INJECTION_SITE_PAIN):
        SideEffect.objects.create(
            patient=patient, session=first, kind=kind, onset=first.date + timedelta(days=5), severity=Severity.MILD
        )
    report = clinic_cohort_report(user=staff[Role.CLINICIAN], today=today)
    rows = {row.event: row for row in report.adverse_events}
    for event, code in (("facial_paresis", "brow_ptosis"), ("injection_site_pain", "injection_site_pain_or_bruising")):
        row = rows[event]
        assert (row.rate.count, row.recorded, row.recorded_with, row.recorded_as) == (1, True, (), (code,)), event
        assert row.label_within_interval is None, event
        assert RECORDED_EVENTS[code] == (event,)
    assert rows["neck_pain"].recorded_as == ()
    assert rows["neck_pain"].label_within_interval is not None
    document = {row["event"]: row for row in report_json(report)["adverse_events"]}
    assert (document["facial_paresis"]["recorded_as"], document["facial_paresis"]["label_within_interval"]) == (
        ["brow_ptosis"],
        None,
    )
    events = clinic_cohort_tables(user=staff[Role.CLINICIAN], today=today)["adverse_events"].to_pylist()
    mine = {row["event"] for row in events if row["patient_id"] == str(patient.external_id)}
    assert mine == {"brow_ptosis", "injection_site_pain_or_bruising"}


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


def test_a_side_effect_waiting_for_a_booked_session_is_not_filed_under_the_session_before(demo, staff, today):
    """A side effect with no session that began on or after the patient's open booking, after their last recorded
    session (given and not recorded yet: it waits for that session, ``side_effect_booking``), is in no session's
    events until the session is recorded, not filed under the session before; one that began before the booking is
    filed under the last session."""
    patient = Patient.objects.get(clinic=demo, family_name="Marsh")
    recorded = list(patient.injection_sessions.filter(status=SessionStatus.RECORDED).order_by("date"))
    last = recorded[-1].date
    booked = last + timedelta(days=RETREATMENT_INTERVAL_DAYS)
    InjectionSession.objects.create(patient=patient, date=booked, status=SessionStatus.BOOKED)
    for kind, onset in ((SideEffectKind.MYALGIA, last + timedelta(days=3)), (SideEffectKind.NECK_PAIN, booked)):
        SideEffect.objects.create(patient=patient, kind=kind, onset=onset, severity=Severity.MILD)
    events = clinic_cohort_tables(user=staff[Role.CLINICIAN], today=today)["adverse_events"].to_pylist()
    mine = [row for row in events if row["patient_id"] == str(patient.external_id)]
    assert [(row["event"], row["session_number"]) for row in mine] == [("myalgia", len(recorded))]


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


def test_a_session_that_left_fixed_sites_out_counts_by_its_follow_the_pain_sites(world, today):
    """A recorded session that left two fixed trapezius sites out and added two follow-the-pain sites has 31 sites:
    the sessions table carries the engine's plan of its sites (31 sites, 2 follow-the-pain), and the report counts
    it as a follow-the-pain session, which a count of sites above 31 missed."""
    full = preempt_plan(follow_the_pain={Muscle.TEMPORALIS: 2})
    fixed_trapezius = [
        i for i, site in enumerate(full.sites) if site.muscle is Muscle.TRAPEZIUS and not site.follow_the_pain
    ]
    given = [site for i, site in enumerate(full.sites) if i not in fixed_trapezius[:2]]
    plan = plan_from_sites(given)
    patient = PatientFactory(clinic=world.clinic)
    session = InjectionSessionFactory(
        patient=patient, date=today - timedelta(days=7), status=SessionStatus.RECORDED, total_units=plan.total_units
    )
    InjectionSiteRecord.objects.bulk_create(
        InjectionSiteRecord(
            session=session, muscle=site.muscle, side=site.side, units=site.units, follow_the_pain=site.follow_the_pain
        )
        for site in given
    )
    tables = clinic_cohort_tables(user=world.users[Role.CLINICIAN], today=today)
    [row] = [row for row in tables["sessions"].to_pylist() if row["patient_id"] == str(patient.external_id)]
    assert (row["sites"], row["follow_the_pain_sites"]) == (FIXED_SITE_COUNT, plan.follow_the_pain_count)
    report = clinic_cohort_report(user=world.users[Role.CLINICIAN], today=today)
    assert (report.sessions_follow_the_pain.count, report.sessions_follow_the_pain.total) == (1, 1)


@pytest.mark.parametrize(("days_before", "baseline"), [(0, True), (27, True), (28, False), (60, False), (120, False)])
def test_the_patient_page_and_the_cohort_agree_on_the_prom_baseline(world, days_before, baseline):
    """A HIT-6 and a MIDAS answered N days before the first injection are the baseline on the patient's page and
    the letters (``baseline_and_latest``) exactly when they are the cohort's visit 1: in the 28 days up to day 0
    (``onaboard.clinical.prom_baseline``); one 60 or 120 days before is neither, nor called "before treatment"."""
    from onaboard.web.outcomes.selectors import questionnaire_history
    from onaboard.web.outcomes.services import questionnaire_response_record

    day0, today = date(2026, 3, 2), date(2026, 11, 30)
    InjectionSessionFactory(patient=world.own_patient, date=day0, status=SessionStatus.RECORDED)
    midas = {"q1": 4, "q2": 2, "q3": 3, "q4": 1, "q5": 2, "a": 40, "b": 7}
    for day, hit6 in ((day0 - timedelta(days=days_before), "always"), (day0 + timedelta(days=168), "sometimes")):
        for instrument, answers in (("hit6", [hit6] * 6), ("midas", midas)):
            questionnaire_response_record(
                user=world.users["nurse"],
                patient=world.own_patient,
                instrument=instrument,
                answers=answers,
                date=day,
                today=today,
            )
    history = questionnaire_history(user=world.users["clinician"], patient=world.own_patient)
    prom = clinic_cohort_tables(user=world.users["clinician"], today=today)["prom"].to_pylist()
    visits = {row["visit"] for row in prom if row["patient_id"] == str(world.own_patient.external_id)}
    assert (1 in visits) is baseline
    assert history["hit6"].compared.before_treatment is baseline
    assert history["midas"].compared.before_treatment is baseline
    assert history["hit6"].compared.baseline.date == day0 - timedelta(days=days_before)


@pytest.mark.parametrize(
    ("role", "exports"),
    [
        (Role.CLINICIAN, True),
        (Role.NURSE, True),
        (Role.ADMIN, False),
        (Role.BILLING, False),
        (Role.TRAINEE, False),
        (Role.PATIENT, False),
    ],
)
def test_row_level_cohort_data_leaves_only_with_clinicians_and_nurses(world, role, exports, today):
    """The export (``clinic_cohort_export``) decides who may take the clinic's rows out: its clinicians and nurses
    (``may_export_clinic_cohort``); an administrator, who sees the cohort report but no clinical record, and every
    other role get PermissionDenied, audited as a denied export, and no patient's export is recorded."""
    from onaboard.web.analytics.selectors import NOT_FOR_EXPORT, clinic_cohort_export, may_export_clinic_cohort

    PatientFactory(clinic=world.clinic)
    user = world.users[role]
    patients = Patient.objects.filter(clinic=world.clinic)
    assert may_export_clinic_cohort(user) is exports
    if exports:
        tables = clinic_cohort_export(user=user, patients=patients, today=today, how="test")
        assert len(tables["patients"]) == patients.count()
        assert AuditEvent.objects.filter(action=Action.EXPORT, user=user).count() == patients.count()
        return
    with pytest.raises(PermissionDenied) as refused:
        clinic_cohort_export(user=user, patients=patients, today=today, how="test")
    assert str(refused.value) == str(NOT_FOR_EXPORT)
    assert not AuditEvent.objects.filter(action=Action.EXPORT).exists()
    event = AuditEvent.objects.get(user=user)
    assert (event.action, event.object_type) == (Action.DENIED, "cohort_export")


def test_a_clinician_may_not_export_another_clinics_patients(world, today):
    """A clinician handing the export another clinic's patients is refused, as if they had no role to export."""
    from onaboard.web.analytics.selectors import clinic_cohort_export

    with pytest.raises(PermissionDenied):
        clinic_cohort_export(
            user=world.users[Role.CLINICIAN],
            patients=Patient.objects.filter(clinic=world.other_clinic),
            today=today,
            how="t",
        )
    assert not AuditEvent.objects.filter(action=Action.EXPORT).exists()
