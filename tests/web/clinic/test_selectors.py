"""Pathway states and the worklist (onaboard/web/clinic/selectors.py)."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from unittest import mock

import pytest
from django.core.cache import caches
from django.core.cache.backends.db import DatabaseCache
from django.core.cache.backends.locmem import LocMemCache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from onaboard.clinical import (
    DUE_WINDOW_DAYS,
    PERIOD_DAYS,
    RETREATMENT_INTERVAL_DAYS,
    WEEK24_PERIOD,
    NiceTa260,
    PatientDiary,
    interval_check,
)
from onaboard.clinical.outcomes import Week24State
from onaboard.web.accounts.models import Clinic, SiteOfService, User
from onaboard.web.audit.models import Action, AuditEvent
from onaboard.web.clinic.demo import demo_clinic_load
from onaboard.web.clinic.selectors import (
    APPROVAL_DENIED_ON,
    BOOKED_BEFORE_DUE,
    BOOKED_BEYOND_WINDOW,
    BOOKED_FIRST,
    BOOKED_NEXT,
    BOOKING_MISSED,
    CONTINUED_AGAINST_RULE,
    DIARY_PERIODS,
    NEEDS_ATTENTION,
    PATHWAY_CACHE,
    SEARCH_MAX_WORDS,
    SHARE_BATCH,
    STOP_RULE_STILL_HOLDS,
    STOP_SUGGESTED_SINCE,
    STOPPED_BUT_BOOKED,
    SUMMARY_AND,
    WEEK24_AND_OVERDUE,
    WEEK24_ENDED_INCOMPLETE,
    WEEK24_READY,
    ApprovalFilter,
    ApprovalLine,
    ApprovalStatus,
    LatestDecision,
    Pathway,
    PathwayLine,
    PathwayState,
    ScheduleFlag,
    WorklistRow,
    _fingerprint_keys,
    _share,
    asks_prior_authorisation,
    booking_uncovered,
    pathway_state,
    pathway_states,
    patient_pathway_state,
    rules_version,
    worklist,
)
from onaboard.web.config.settings import base
from onaboard.web.coverage.models import AuthorisationStatus, PatientInsurance, PriorAuthorisation
from onaboard.web.coverage.selectors import RENEWAL_LEAD_DAYS, ApprovalAnswers, ApprovalStates
from onaboard.web.injections.models import InjectionSession, SessionStatus, Severity, SideEffect, SideEffectKind
from onaboard.web.injections.selectors import interval_weeks
from onaboard.web.injections.services import FIRST_BOOKING_OPEN, SessionConflictError, injection_session_book_first
from onaboard.web.outcomes.models import Decision, TreatmentDecision
from onaboard.web.outcomes.selectors import Week24Period
from onaboard.web.patients.models import Patient
from tests.web.clinic.diaries import (
    TODAY,
    chronic_rows,
    course_rows,
    days_before,
    diary_of,
    episodic_rows,
    store,
)
from tests.web.factories import InjectionSessionFactory, PatientFactory

ADULT = date(1984, 5, 17)


def _report(patient, kind, *, hours_ago=1):
    """An unreviewed side effect of ``kind`` that the patient reported ``hours_ago`` hours ago."""
    effect = SideEffect.objects.create(patient=patient, kind=kind, onset=TODAY, severity=Severity.MILD)
    SideEffect.objects.filter(pk=effect.pk).update(created=timezone.now() - timedelta(hours=hours_ago))
    return effect


def _state(rows, *, recorded=(), booked=(), birth_date=ADULT, approval_pending=False, approval_denied_on=None):
    return pathway_state(
        diary=diary_of(rows),
        birth_date=birth_date,
        recorded=recorded,
        booked=booked,
        today=TODAY,
        approval_pending=approval_pending,
        approval_denied_on=approval_denied_on,
    )


# --- Before treatment -------------------------------------------------------------------------------------------


def test_one_complete_period_keeps_the_diary_running():
    """With one of the three periods recorded, the engine cannot judge chronic migraine yet: diary running."""
    pathway = _state(chronic_rows(periods=1))
    assert pathway.state is PathwayState.DIARY_RUNNING
    assert pathway.summary == DIARY_PERIODS % {"complete": 1, "needed": 3}
    assert any("missing" in reason for reason in pathway.reasons)


def test_an_empty_diary_is_a_running_diary():
    """A patient with no diary day yet is in the diary-running state, not an error."""
    pathway = pathway_state(diary=PatientDiary("P", ()), birth_date=ADULT, recorded=(), booked=(), today=TODAY)
    assert pathway.state is PathwayState.DIARY_RUNNING


def test_episodic_migraine_is_not_eligible_with_the_ichd_reason():
    """Too few headache days makes chronic migraine "no", so the patient is not eligible and the ICHD-3 reason leads."""
    pathway = _state(episodic_rows())
    assert pathway.state is PathwayState.NOT_ELIGIBLE
    assert pathway.summary.startswith("ICHD-3 1.3 A: period 1")


def test_a_minor_with_chronic_migraine_is_not_eligible_by_the_label_age():
    """Chronic migraine at 16 does not meet the label (adults only); the label's age reason leads."""
    pathway = _state(chronic_rows(), birth_date=TODAY.replace(year=TODAY.year - 16))
    assert pathway.state is PathwayState.NOT_ELIGIBLE
    assert pathway.summary.startswith("BOTOX label 8.4: age 16")


def test_label_criteria_met_is_eligible():
    """Three chronic periods in an adult meet the label criteria: eligible, with the label's reason as summary."""
    pathway = _state(chronic_rows())
    assert pathway.state is PathwayState.ELIGIBLE
    assert pathway.summary.startswith("BOTOX label (Indications): each of the 3 periods")
    assert pathway.assessment is not None


def test_awaiting_approval_is_entered_only_through_the_approval_seam():
    """An eligible patient with a pending approval request is awaiting approval (the insurance feature's seam)."""
    assert _state(chronic_rows(), approval_pending=True).state is PathwayState.AWAITING_APPROVAL


def test_a_denied_approval_shows_until_a_new_request_is_pending():
    """An eligible patient whose latest request was denied is "approval denied", saying when; a pending request
    (a new one or an appeal) takes over, and a patient who is not eligible stays not eligible."""
    denied = _state(chronic_rows(), approval_denied_on=TODAY - timedelta(days=3))
    assert denied.state is PathwayState.APPROVAL_DENIED
    assert denied.summary == APPROVAL_DENIED_ON % {"date": (TODAY - timedelta(days=3)).isoformat()}
    again = _state(chronic_rows(), approval_pending=True, approval_denied_on=TODAY - timedelta(days=3))
    assert again.state is PathwayState.AWAITING_APPROVAL
    assert _state(chronic_rows(), approval_denied_on=TODAY).state is PathwayState.APPROVAL_DENIED
    assert _state(chronic_rows()).state is PathwayState.ELIGIBLE


def test_a_first_session_booked_ahead_is_booked_whatever_the_diary():
    """A booking for today or later puts an untreated patient in booked, saying when."""
    booked_for = TODAY + timedelta(days=5)
    pathway = _state(chronic_rows(), booked=[booked_for])
    assert pathway.state is PathwayState.BOOKED
    assert pathway.booked_for == booked_for
    assert pathway.summary == BOOKED_FIRST % {"date": booked_for.isoformat()}


def test_a_missed_booking_does_not_count_as_booked():
    """A booking dated before today that was never recorded leaves the patient in their eligibility state."""
    assert _state(chronic_rows(), booked=[days_before(3)]).state is PathwayState.ELIGIBLE


def _missed(day: date) -> str:
    return BOOKING_MISSED.format(date=day.isoformat())


def test_a_missed_booking_is_carried_and_said_beside_the_eligibility_state():
    """An untreated patient's open booking of three days ago is not "booked", but the line carries it and the summary
    says, after the state's own reason, to record, move or cancel it (it keeps another day from being booked)."""
    missed = days_before(3)
    plain = _state(chronic_rows())
    pathway = _state(chronic_rows(), booked=[missed])
    assert (pathway.state, pathway.booked_for, pathway.missed_booking) == (PathwayState.ELIGIBLE, None, missed)
    assert pathway.summary == SUMMARY_AND.format(summary=plain.summary, more=_missed(missed))
    assert pathway.reasons == (_missed(missed), *plain.reasons)
    assert plain.missed_booking is None


def test_a_missed_next_booking_is_said_beside_overdue():
    """A treated patient whose next booking (ten days ago) was missed stays overdue, with the engine's overdue reason
    first and the missed booking after it, in the summary and among the reasons."""
    day0, missed = days_before(100), days_before(10)
    rows = course_rows(day0, 20, 18, 18, 18, 18)
    plain = _state(rows, recorded=[day0])
    pathway = _state(rows, recorded=[day0], booked=[missed])
    assert pathway.state is PathwayState.OVERDUE
    assert pathway.missed_booking == missed
    assert pathway.summary == SUMMARY_AND.format(summary=plain.summary, more=_missed(missed))
    assert _missed(missed) in pathway.reasons


def test_a_booking_ahead_leaves_no_missed_booking():
    """With a booking today or later, an older one (which the one-open-booking rule would not let stand) is not
    reported missed: the booking ahead is the patient's open booking; a booking today is not missed either."""
    pathway = _state(chronic_rows(), booked=[days_before(3), TODAY + timedelta(days=4)])
    assert pathway.state is PathwayState.BOOKED
    assert pathway.missed_booking is None
    assert _state(chronic_rows(), booked=[TODAY]).missed_booking is None


def test_a_stopped_patients_missed_booking_follows_the_stop():
    """Once a clinician stopped treatment, the stop leads the summary and a missed booking still open follows it."""
    rows, sessions = _week24_course()
    decision = LatestDecision(Decision.STOP, days_before(2), "Dana Whitfield", "no benefit")
    missed = days_before(1)
    pathway = pathway_state(
        diary=diary_of(rows), birth_date=ADULT, recorded=sessions, booked=[missed], today=TODAY, decision=decision
    )
    assert pathway.state is PathwayState.TREATMENT_STOPPED
    assert pathway.summary.startswith(f"Treatment stopped on {days_before(2).isoformat()} by Dana Whitfield")
    assert pathway.summary.endswith(_missed(missed))
    assert pathway.reasons[1] == _missed(missed)


@pytest.mark.django_db
def test_the_demo_patients_missed_first_booking_shows_on_the_worklist_and_blocks_another():
    """The demo's booked patient (DEMO-0006) whose first booking moved to two days ago is eligible on the worklist,
    with no booking ahead, and the row names the missed booking, which is why booking another day is refused."""
    demo_clinic_load(today=TODAY)
    patient = Patient.objects.get(record_number="DEMO-0006")
    missed = days_before(2)
    InjectionSession.objects.filter(patient=patient, status=SessionStatus.BOOKED).update(date=missed)
    clinician = User.objects.get(username="dr.demo")
    listing = worklist(user=clinician, today=TODAY)
    (row,) = (row for group in listing.groups for row in group.rows if row.patient.pk == patient.pk)
    assert (row.state, row.booked_for, row.missed_booking) == (PathwayState.ELIGIBLE, None, missed)
    assert row.summary.endswith(_missed(missed))
    with pytest.raises(SessionConflictError) as refused:
        injection_session_book_first(user=clinician, patient=patient, date=TODAY + timedelta(days=3), today=TODAY)
    assert refused.value.messages == (FIRST_BOOKING_OPEN.format(date=missed),)


def test_diary_days_and_sessions_after_today_are_ignored():
    """The state on a day uses only what happened up to that day."""
    later = TODAY + timedelta(days=10)
    pathway = pathway_state(
        diary=diary_of(chronic_rows(today=later), today=later),
        birth_date=ADULT,
        recorded=[later],
        booked=(),
        today=TODAY,
    )
    assert not pathway.treated
    assert pathway.assessment is not None
    assert pathway.assessment.as_of == TODAY


# --- On treatment -------------------------------------------------------------------------------------------------


def test_a_first_session_a_month_ago_is_on_treatment():
    """One session 30 days ago: the next is not due, so the patient is on treatment with the schedule's reason."""
    day0 = days_before(30)
    pathway = _state(course_rows(day0, 20, 12), recorded=[day0])
    assert pathway.state is PathwayState.ON_TREATMENT
    assert pathway.summary.startswith("not yet due:")
    assert pathway.next_due == day0 + timedelta(days=84)


def test_twelve_weeks_after_the_last_session_is_due():
    """86 days after the only session (2 past the due date, within the 7-day window) the next session is due."""
    day0 = days_before(86)
    pathway = _state(course_rows(day0, 20, 18, 18, 18), recorded=[day0])
    assert pathway.state is PathwayState.DUE
    assert pathway.summary.startswith("due:")


def test_more_than_a_week_past_the_due_date_is_overdue():
    """100 days after the only session (16 past the due date) the patient is overdue."""
    day0 = days_before(100)
    pathway = _state(course_rows(day0, 20, 18, 18, 18, 18), recorded=[day0])
    assert pathway.state is PathwayState.OVERDUE
    assert pathway.summary.startswith("overdue:")


def test_a_booked_next_session_takes_precedence_over_due():
    """When the due session is already booked the worklist shows booked: nothing left to do."""
    day0 = days_before(100)
    pathway = _state(course_rows(day0, 20, 18, 18, 18, 18), recorded=[day0], booked=[TODAY + timedelta(days=2)])
    assert pathway.state is PathwayState.BOOKED


def _booked_after(day0: date, booked: date) -> Pathway:
    """The pathway of a patient whose only session was on ``day0`` (on or before today) with ``booked`` ahead."""
    return _state(course_rows(day0, 20, 18, 18, 18, 18), recorded=[day0], booked=[booked])


def test_a_booking_before_the_12_week_date_is_said_and_flagged():
    """A next session booked less than the engine's interval after the last one stays "booked", but the summary
    names the booking, the days since the last session and the earliest due date, with the engine's 12-week reason
    among the reasons, and the line is flagged."""
    day0 = days_before(30)
    booked = day0 + timedelta(days=RETREATMENT_INTERVAL_DAYS - 1)
    pathway = _booked_after(day0, booked)
    check = interval_check(day0, booked)
    assert pathway.state is PathwayState.BOOKED
    assert pathway.flag is ScheduleFlag.BOOKED_BEFORE_DUE
    assert pathway.summary == BOOKED_BEFORE_DUE.format(
        date=booked.isoformat(),
        days=RETREATMENT_INTERVAL_DAYS - 1,
        last=day0.isoformat(),
        earliest=(day0 + timedelta(days=RETREATMENT_INTERVAL_DAYS)).isoformat(),
        weeks=interval_weeks(),
    )
    assert check.reason in pathway.reasons


def test_a_booking_beyond_the_due_window_is_said_and_flagged():
    """A next session booked the day after the engine's due window stays "booked", but the summary names the window,
    the due date and the day the patient turns overdue, and the line is flagged."""
    day0 = days_before(30)
    due = day0 + timedelta(days=RETREATMENT_INTERVAL_DAYS)
    booked = due + timedelta(days=DUE_WINDOW_DAYS + 1)
    pathway = _booked_after(day0, booked)
    assert pathway.state is PathwayState.BOOKED
    assert pathway.flag is ScheduleFlag.BOOKED_BEYOND_WINDOW
    assert pathway.summary == BOOKED_BEYOND_WINDOW.format(
        date=booked.isoformat(), window=DUE_WINDOW_DAYS, due=due.isoformat(), overdue=booked.isoformat()
    )


def test_a_booking_within_the_12_weeks_and_the_window_is_plainly_booked():
    """Booked on the 12-week date or on the window's last day, the line is the plain booking, unflagged."""
    day0 = days_before(30)
    due = day0 + timedelta(days=RETREATMENT_INTERVAL_DAYS)
    for booked in (due, due + timedelta(days=DUE_WINDOW_DAYS)):
        pathway = _booked_after(day0, booked)
        assert (pathway.state, pathway.flag) == (PathwayState.BOOKED, None)
        assert pathway.summary == BOOKED_NEXT % {"date": booked.isoformat()}


def test_an_overdue_patient_booked_ahead_is_booked_and_says_overdue_from():
    """Already overdue (100 days after the only session) and booked in two days: still "booked", but flagged, the
    summary saying the booking is beyond the window and since when the patient is overdue."""
    day0 = days_before(100)
    due = day0 + timedelta(days=RETREATMENT_INTERVAL_DAYS)
    pathway = _booked_after(day0, TODAY + timedelta(days=2))
    assert pathway.state is PathwayState.BOOKED
    assert pathway.flag is ScheduleFlag.BOOKED_BEYOND_WINDOW
    assert f"overdue from {(due + timedelta(days=DUE_WINDOW_DAYS + 1)).isoformat()}" in pathway.summary


def _week24_course(*extra_sessions: date) -> tuple[list[dict[str, str]], list[date]]:
    """Two cycles 84 days apart, week 24 complete with exactly 30 % fewer headache days, never three periods < 15."""
    day0 = days_before(170)
    rows = course_rows(day0, 20, 16, 16, 16, 16, 16, 14)
    return rows, [day0, day0 + timedelta(days=84), *extra_sessions]


def test_a_complete_week_24_not_acted_on_is_week_24_assessment_due():
    """Week 24 complete and no session after it: week-24 assessment due, even though the next session is also due."""
    rows, sessions = _week24_course()
    pathway = _state(rows, recorded=sessions)
    assert pathway.state is PathwayState.WEEK24_DUE
    assert pathway.outcomes is not None
    assert pathway.outcomes.week24.available
    assert any("NICE TA260 1.2" in reason for reason in pathway.reasons)


def test_a_week_24_assessment_also_overdue_says_so_and_is_flagged():
    """Week 24 not acted on while the next session is overdue too (its window ended yesterday): still "week-24
    assessment due", but the summary adds "and overdue since" the day after the window, and the line is flagged;
    a week-24 line whose next session is only due is not."""
    last = days_before(RETREATMENT_INTERVAL_DAYS + DUE_WINDOW_DAYS + 1)
    day0 = last - timedelta(days=RETREATMENT_INTERVAL_DAYS)
    rows = course_rows(day0, 20, 16, 16, 16, 16, 16, 14)
    pathway = _state(rows, recorded=[day0, last])
    assert pathway.state is PathwayState.WEEK24_DUE
    assert pathway.flag is ScheduleFlag.OVERDUE
    week24 = pathway.week24
    lead = WEEK24_READY % {"period": WEEK24_PERIOD, "start": week24.start.isoformat(), "end": week24.end.isoformat()}
    due = last + timedelta(days=RETREATMENT_INTERVAL_DAYS)
    assert pathway.summary == WEEK24_AND_OVERDUE.format(
        lead=lead, since=TODAY.isoformat(), due=due.isoformat(), window=DUE_WINDOW_DAYS
    )
    assert pathway.reasons[0] == pathway.summary
    rows, sessions = _week24_course()
    only_due = _state(rows, recorded=sessions)
    assert (only_due.state, only_due.flag) == (PathwayState.WEEK24_DUE, None)
    start, end = only_due.week24.start.isoformat(), only_due.week24.end.isoformat()
    assert only_due.summary == WEEK24_READY % {"period": WEEK24_PERIOD, "start": start, "end": end}


def test_week_24_still_running_is_not_assessed_however_many_days_it_holds():
    """On day 159 period 6 (days 140-167) holds 20 recorded days, enough to be complete, but 8 are still to come
    and could change the verdict: the patient is on treatment, not 'week 24 complete: assess the response'."""
    day0 = days_before(159)
    rows = [row for row in course_rows(day0, 20, 16, 16, 16, 16, 16, 13) if row["date"] <= TODAY.isoformat()]
    pathway = _state(rows, recorded=[day0, day0 + timedelta(days=84)])
    assert pathway.state is PathwayState.ON_TREATMENT
    assert not pathway.outcomes.week24.available
    assert pathway.outcomes.running.period.index == 6


def test_the_summary_of_an_overdue_patient_is_the_status_not_an_old_short_interval():
    """Sessions 70 days apart long ago, the next now overdue: the worklist's 'why' says overdue, not the old
    12-week note (which stays among the reasons). (Week 24 has not ended yet: once over, unmeasured, it is the
    week-24 assessment first.)"""
    first, second = days_before(165), days_before(95)
    pathway = _state(course_rows(first, 20, 12, 12), recorded=[first, second])
    assert pathway.state is PathwayState.OVERDUE
    assert pathway.summary.startswith("overdue:")
    assert any(reason.startswith("12-week rule:") for reason in pathway.reasons)


def test_a_session_after_week_24_means_the_assessment_was_acted_on():
    """Once a session is recorded after period 6, the patient is back on the 12-week schedule."""
    rows, sessions = _week24_course(days_before(2))
    assert _state(rows, recorded=sessions).state is PathwayState.ON_TREATMENT


def test_less_than_30_percent_fewer_headache_days_at_week_24_suggests_stopping():
    """A non-responder at week 24 (NICE TA260 1.2: < 30 %) is stop suggested, with NICE's reason."""
    day0 = days_before(170)
    rows = course_rows(day0, 20, 19, 19, 18, 18, 18, 18)
    pathway = _state(rows, recorded=[day0, day0 + timedelta(days=84)])
    assert pathway.state is PathwayState.STOP_SUGGESTED
    assert "(< 30 %)" in pathway.summary


def test_three_episodic_periods_suggest_stopping_before_week_24():
    """Three consecutive periods under 15 headache days (NICE TA260 1.2) suggest stopping, even when booked."""
    day0 = days_before(90)
    rows = course_rows(day0, 20, 10, 10, 10)
    pathway = _state(rows, recorded=[day0, day0 + timedelta(days=84)], booked=[TODAY + timedelta(days=80)])
    assert pathway.state is PathwayState.STOP_SUGGESTED
    assert "changed to episodic migraine" in pathway.summary


# --- Loading from the database --------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_selector_reads_stored_rows_and_ignores_cancelled_sessions():
    """A stored diary and a recorded session give the same state as the pure decision; cancelled ones do not count."""
    patient = PatientFactory(birth_date=ADULT)
    day0 = days_before(86)
    store(patient, course_rows(day0, 20, 18, 18, 18))
    InjectionSessionFactory(patient=patient, date=day0, status=SessionStatus.RECORDED)
    InjectionSessionFactory(patient=patient, date=TODAY + timedelta(days=3), status=SessionStatus.CANCELLED)
    assert patient_pathway_state(patient, TODAY).state is PathwayState.DUE


@pytest.mark.django_db
def test_a_clinics_states_are_computed_once_and_then_read_from_the_cache():
    """Six patients' states are computed from their rows once; unchanged, the next load reads the same lines from
    this process's copy, and another process (an empty copy) from the shared cache, without computing anything."""
    patients = [PatientFactory(birth_date=ADULT) for _ in range(6)]
    for patient in patients:
        store(patient, chronic_rows())
    InjectionSessionFactory(patient=patients[0], date=TODAY + timedelta(days=4), status=SessionStatus.BOOKED)
    states = pathway_states(patients, today=TODAY)
    assert states[patients[0].pk].state is PathwayState.BOOKED
    assert {states[p.pk].state for p in patients[1:]} == {PathwayState.ELIGIBLE}
    with mock.patch("onaboard.web.clinic.selectors.pathway_state") as computed:
        again = pathway_states(patients, today=TODAY)
        with mock.patch("onaboard.web.clinic.selectors._LOCAL", LocMemCache("another-process", {})):
            elsewhere = pathway_states(patients, today=TODAY)
    computed.assert_not_called()
    assert again == elsewhere == states


@pytest.mark.django_db
def test_reading_cached_states_costs_the_same_queries_for_a_few_patients_as_for_many(django_assert_num_queries):
    """With every state cached, three patients or fifteen cost the same three queries (pending prior
    authorisations and the two fingerprints), and one more where the lines come from the shared cache."""
    patients = [PatientFactory(birth_date=ADULT) for _ in range(15)]
    for patient in patients:
        store(patient, chronic_rows(periods=1))
    pathway_states(patients, today=TODAY)
    for listed in (patients[:3], patients):
        with django_assert_num_queries(3):
            pathway_states(listed, today=TODAY)
        with (
            mock.patch("onaboard.web.clinic.selectors._LOCAL", LocMemCache("another-process", {})),
            django_assert_num_queries(4),
        ):
            pathway_states(listed, today=TODAY)


@pytest.mark.django_db
def test_the_worklist_costs_the_same_queries_for_a_few_patients_as_for_many(world, django_assert_num_queries):
    """Once the states are cached, the worklist of a clinic of 2 patients and of one of 14 with 12 side effects to
    review cost the same queries (the patients, the three of the cached states, the side effects with their
    patients and the audit entry)."""
    clinician = world.users["clinician"]
    worklist(user=clinician, today=TODAY)
    with django_assert_num_queries(6) as few:
        small = worklist(user=clinician, today=TODAY)
    for _ in range(12):
        patient = PatientFactory(clinic=world.clinic, birth_date=ADULT)
        store(patient, chronic_rows(periods=1))
        _report(patient, SideEffectKind.DYSPHAGIA)
    worklist(user=clinician, today=TODAY)
    with django_assert_num_queries(len(few)):
        large = worklist(user=clinician, today=TODAY)
    assert large.total == small.total + 12
    assert len(large.side_effects) == 12
    assert {effect.patient.family_name for effect in large.side_effects} <= _names(large)


@pytest.mark.django_db
def test_the_cache_keeps_the_worklist_line_and_not_the_engines_whole_pathway():
    """What is cached for a patient is the state, summary and dates as a plain tuple, and it reads back equal to the
    line computed from the full pathway."""
    patient = PatientFactory(birth_date=ADULT)
    store(patient, chronic_rows())
    line = pathway_states([patient], today=TODAY)[patient.pk]
    full = patient_pathway_state(patient, TODAY)
    assert line == PathwayLine.of(full)
    key = _fingerprint_keys([patient], TODAY, set(), {})[patient.pk]
    stored = caches[PATHWAY_CACHE].get(key)
    assert stored == (PathwayState.ELIGIBLE.value, full.summary, None, None, None, None, "")
    assert PathwayLine.from_cached(stored) == line


@pytest.mark.django_db
def test_a_missed_booking_and_a_flag_survive_the_cache():
    """A line's missed booking and scheduling flag are cached as plain values and read back as they were computed:
    a week-24 line overdue too, with its missed booking, is the same from this process's copy and from the shared
    cache."""
    patient = PatientFactory(birth_date=ADULT)
    last = days_before(RETREATMENT_INTERVAL_DAYS + DUE_WINDOW_DAYS + 1)
    day0 = last - timedelta(days=RETREATMENT_INTERVAL_DAYS)
    store(patient, course_rows(day0, 20, 16, 16, 16, 16, 16, 14))
    for day in (day0, last):
        InjectionSessionFactory(patient=patient, date=day, status=SessionStatus.RECORDED)
    InjectionSessionFactory(patient=patient, date=days_before(5), status=SessionStatus.BOOKED)
    line = pathway_states([patient], today=TODAY)[patient.pk]
    assert (line.flag, line.missed_booking) == (ScheduleFlag.OVERDUE, days_before(5))
    key = _fingerprint_keys([patient], TODAY, set(), {})[patient.pk]
    assert caches[PATHWAY_CACHE].get(key)[5:] == (days_before(5), ScheduleFlag.OVERDUE.value)
    with mock.patch("onaboard.web.clinic.selectors._LOCAL", LocMemCache("another-process", {})):
        assert (
            pathway_states([patient], today=TODAY)[patient.pk]
            == line
            == PathwayLine.of(patient_pathway_state(patient, TODAY))
        )


@pytest.mark.django_db
def test_a_line_computed_by_other_code_is_not_served_after_an_upgrade():
    """The key carries a digest of the code behind the line: a line cached by a release whose rules or wording
    differ (another digest) is not read back, even for an unchanged record on the same day, and is computed anew."""
    patient = PatientFactory(birth_date=ADULT)
    store(patient, chronic_rows())
    key = _fingerprint_keys([patient], TODAY, set(), {})[patient.pk]
    with mock.patch("onaboard.web.clinic.selectors.rules_version", return_value="an-older-release"):
        older = _fingerprint_keys([patient], TODAY, set(), {})[patient.pk]
        caches[PATHWAY_CACHE].set(older, ("not_eligible", "worded by the older release", None, None, None))
    assert key != older
    assert pathway_states([patient], today=TODAY)[patient.pk].summary != "worded by the older release"


def test_the_code_digest_covers_the_engine_this_module_and_the_catalogues(tmp_path, settings):
    """``rules_version`` changes with a translation catalogue (the summaries' wording), and reads every module of
    ``onaboard.clinical``: a changed rule gives another digest."""
    catalogue = tmp_path / "xx" / "LC_MESSAGES" / "django.po"
    catalogue.parent.mkdir(parents=True)
    catalogue.write_text('msgid "Eligible"\nmsgstr "A"\n')
    settings.LOCALE_PATHS = [tmp_path]
    rules_version.cache_clear()
    try:
        first = rules_version()
        catalogue.write_text('msgid "Eligible"\nmsgstr "B"\n')
        rules_version.cache_clear()
        second = rules_version()
        read = []
        real = Path.read_bytes
        with mock.patch.object(Path, "read_bytes", lambda path: read.append(path.name) or real(path)):
            rules_version.cache_clear()
            rules_version()
    finally:
        rules_version.cache_clear()
    assert first != second
    assert {"assessment.py", "verdicts.py", "outcomes.py", "selectors.py", "django.po"} <= set(read)


def test_the_pathway_cache_is_shared_by_every_app_server_process():
    """The pathway lines live in a database cache (every gunicorn worker and app server reads the same table), not
    a per-process memory cache that each worker would fill on its own; it writes many lines in a few statements."""
    assert base.CACHES[PATHWAY_CACHE]["BACKEND"] == "onaboard.web.common.cache.BulkDatabaseCache"
    assert isinstance(caches[PATHWAY_CACHE], DatabaseCache)
    assert base.CACHES[PATHWAY_CACHE]["LOCATION"] not in {
        other["LOCATION"] for alias, other in base.CACHES.items() if alias != PATHWAY_CACHE and "LOCATION" in other
    }


@pytest.mark.django_db(transaction=True)
def test_computed_lines_reach_the_shared_cache_in_a_few_commits(monkeypatch):
    """Lines are written SHARE_BATCH to a transaction, not one commit each as Django's database cache would (on
    SQLite every commit waits for the disk), and every line is there afterwards."""
    commits = []
    real = connection._commit
    monkeypatch.setattr(connection, "_commit", lambda: commits.append(1) or real())
    lines = {f"onaboard:test-line:{n}": ("eligible", f"line {n}", None, None, None) for n in range(2 * SHARE_BATCH + 1)}
    _share(lines)
    assert len(commits) == 3
    assert caches[PATHWAY_CACHE].get_many(list(lines)) == lines


@pytest.mark.django_db
def test_a_denied_request_shows_in_the_cached_worklist_states_until_a_new_request():
    """The payer's no to the latest request makes an eligible patient "approval denied" at once (also in the cached
    worklist states); a new request puts them back to awaiting approval."""
    patient = PatientFactory(birth_date=ADULT)
    store(patient, chronic_rows())
    assert pathway_states([patient], today=TODAY)[patient.pk].state is PathwayState.ELIGIBLE
    PriorAuthorisation.objects.create(
        patient=patient,
        policy_id="botox-label",
        diagnosis_code="G43.709",
        requested_on=TODAY - timedelta(days=20),
        status=AuthorisationStatus.DENIED,
        decided_on=TODAY - timedelta(days=2),
    )
    line = pathway_states([patient], today=TODAY)[patient.pk]
    assert line.state is PathwayState.APPROVAL_DENIED
    assert str((TODAY - timedelta(days=2)).isoformat()) in line.summary
    assert patient_pathway_state(patient, TODAY).state is PathwayState.APPROVAL_DENIED
    PriorAuthorisation.objects.create(
        patient=patient, policy_id="botox-label", diagnosis_code="G43.709", requested_on=TODAY
    )
    assert pathway_states([patient], today=TODAY)[patient.pk].state is PathwayState.AWAITING_APPROVAL


@pytest.mark.django_db
def test_an_eligible_patient_awaits_approval_while_a_request_is_with_the_payer():
    """A prior-authorisation request not yet answered makes an eligible patient "awaiting approval" at once (also in
    the cached worklist states); its approval makes them eligible again."""
    patient = PatientFactory(birth_date=ADULT)
    store(patient, chronic_rows())
    assert pathway_states([patient], today=TODAY)[patient.pk].state is PathwayState.ELIGIBLE
    request = PriorAuthorisation.objects.create(
        patient=patient, policy_id="botox-label", diagnosis_code="G43.709", requested_on=TODAY
    )
    assert pathway_states([patient], today=TODAY)[patient.pk].state is PathwayState.AWAITING_APPROVAL
    assert patient_pathway_state(patient, TODAY).state is PathwayState.AWAITING_APPROVAL
    PriorAuthorisation.objects.filter(pk=request.pk).update(status=AuthorisationStatus.APPROVED)
    assert pathway_states([patient], today=TODAY)[patient.pk].state is PathwayState.ELIGIBLE


@pytest.mark.django_db
def test_a_saved_change_recomputes_that_patients_state():
    """Cancelling the booking (a saved change to a session) is seen at once: the state is computed again."""
    patient = PatientFactory(birth_date=ADULT)
    store(patient, chronic_rows())
    booking = InjectionSessionFactory(patient=patient, date=TODAY + timedelta(days=4), status=SessionStatus.BOOKED)
    assert pathway_states([patient], today=TODAY)[patient.pk].state is PathwayState.BOOKED
    booking.status = SessionStatus.CANCELLED
    booking.save()
    assert pathway_states([patient], today=TODAY)[patient.pk].state is PathwayState.ELIGIBLE


@pytest.mark.django_db
def test_a_new_diary_day_recomputes_that_patients_state():
    """Entering the days that complete the third period moves the patient from diary running to eligible."""
    patient = PatientFactory(birth_date=ADULT)
    rows = chronic_rows()
    store(patient, rows[9:])  # the oldest period has 19 of 28 days: incomplete
    assert pathway_states([patient], today=TODAY)[patient.pk].state is PathwayState.DIARY_RUNNING
    store(patient, rows[:9])
    assert pathway_states([patient], today=TODAY)[patient.pk].state is PathwayState.ELIGIBLE


# --- The worklist ---------------------------------------------------------------------------------------------------


def _names(listing) -> set[str]:
    return {row.patient.family_name for group in listing.groups for row in group.rows}


@pytest.mark.django_db
def test_the_worklist_lists_only_the_clinics_patients(world):
    """A clinician's worklist holds their clinic's patients and none of another clinic's."""
    listing = worklist(user=world.users["clinician"], today=TODAY)
    assert _names(listing) == {"Own", "Same"}
    assert listing.clinical


@pytest.mark.django_db
def test_billing_staff_get_states_without_reasons(world):
    """Billing staff see each patient's state and dates but no clinical summary."""
    store(world.same_clinic_patient, chronic_rows())
    listing = worklist(user=world.users["billing"], today=TODAY)
    rows = [row for group in listing.groups for row in group.rows]
    assert {row.state for row in rows} >= {PathwayState.ELIGIBLE}
    assert all(row.summary is None for row in rows)
    assert not listing.clinical


@pytest.mark.django_db
def test_the_search_matches_every_word_in_names_or_record_numbers(world):
    """Searching "sam same" finds Sam Same; a record number finds its patient; a stranger's name finds nobody."""
    clinician = world.users["clinician"]
    assert _names(worklist(user=clinician, today=TODAY, query="sam same")) == {"Same"}
    number = world.own_patient.record_number
    assert _names(worklist(user=clinician, today=TODAY, query=number.lower())) == {"Own"}
    assert _names(worklist(user=clinician, today=TODAY, query="Far")) == set()


@pytest.mark.django_db
def test_the_search_looks_for_its_first_five_words_only(world):
    """Words after the fifth are not looked for, so a search of two thousand words is answered at once (it took
    seconds on PostgreSQL, and SQLite refused it) with what its first five find."""
    clinician = world.users["clinician"]
    assert SEARCH_MAX_WORDS == 5
    assert _names(worklist(user=clinician, today=TODAY, query="sam same sam same sam nobody")) == {"Same"}
    assert _names(worklist(user=clinician, today=TODAY, query="same " * 2000)) == {"Same"}
    assert _names(worklist(user=clinician, today=TODAY, query="sam same sam same nobody")) == set()


@pytest.mark.django_db
def test_the_search_ignores_nul_characters(world):
    """A NUL character in the search is ignored (PostgreSQL refuses one in a query): "Sa<NUL>me" finds Sam Same, a
    search of NULs alone lists everyone, and the audit trail holds no NUL."""
    clinician = world.users["clinician"]
    listing = worklist(user=clinician, today=TODAY, query="Sa\x00me")
    assert (_names(listing), listing.query) == ({"Same"}, "Same")
    assert _names(worklist(user=clinician, today=TODAY, query="\x00\x00")) == {"Own", "Same"}
    assert [event.detail for event in AuditEvent.objects.filter(object_type="worklist").order_by("pk")] == [
        "1 patients listed; search 'Same'",
        "2 patients listed",
    ]


@pytest.mark.django_db
def test_the_state_filter_keeps_counts_for_every_state(world):
    """Filtering by a state lists only it, while the counts still cover every state of the search."""
    store(world.same_clinic_patient, chronic_rows())
    listing = worklist(user=world.users["nurse"], today=TODAY, state=PathwayState.ELIGIBLE)
    assert [group.state for group in listing.groups] == [PathwayState.ELIGIBLE]
    counts = dict(listing.counts)
    assert counts[PathwayState.ELIGIBLE] == 1
    assert counts[PathwayState.DIARY_RUNNING] == 1
    assert listing.total == 2


@pytest.mark.django_db
def test_an_unknown_state_filter_lists_everything(world):
    """A state name that does not exist is ignored rather than refused."""
    listing = worklist(user=world.users["clinician"], today=TODAY, state="nonsense")
    assert listing.state is None
    assert _names(listing) == {"Own", "Same"}


@pytest.mark.django_db
def test_reading_the_worklist_is_audited(world):
    """Each worklist read leaves one audit event saying how many patients were listed and what was searched."""
    worklist(user=world.users["clinician"], today=TODAY, query="Same")
    event = AuditEvent.objects.get(action=Action.READ, object_type="worklist")
    assert event.username == "clinician"
    assert event.detail == "1 patients listed; search 'Same'"


@pytest.mark.django_db
def test_a_groups_key_changes_with_what_the_group_shows_and_only_then(world):
    """Renaming a patient changes the key of their group and no other; billing staff's sections (no reasons) have
    keys of their own."""
    store(world.same_clinic_patient, chronic_rows())
    clinician = world.users["clinician"]

    def keys(user) -> dict[PathwayState, str]:
        return {group.state: group.key for group in worklist(user=user, today=TODAY).groups}

    before = keys(clinician)
    assert set(before) == {PathwayState.ELIGIBLE, PathwayState.DIARY_RUNNING}
    type(world.own_patient).objects.filter(pk=world.own_patient.pk).update(family_name="Renamed")
    after = keys(clinician)
    assert after[PathwayState.ELIGIBLE] == before[PathwayState.ELIGIBLE]
    assert after[PathwayState.DIARY_RUNNING] != before[PathwayState.DIARY_RUNNING]
    assert set(keys(world.users["billing"]).values()).isdisjoint(after.values())


# --- Side effects to review -------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_worklist_carries_the_clinics_unreviewed_side_effects_urgent_first(world):
    """A clinician's worklist lists the clinic's unreviewed side effects, an urgent kind before a later, milder
    one, and never another clinic's."""
    mild = _report(world.own_patient, SideEffectKind.NECK_PAIN, hours_ago=1)
    urgent = _report(world.same_clinic_patient, SideEffectKind.DYSPHAGIA, hours_ago=20)
    _report(world.other_clinic_patient, SideEffectKind.BREATHING)
    listing = worklist(user=world.users["clinician"], today=TODAY)
    assert [effect.pk for effect in listing.side_effects] == [urgent.pk, mild.pk]


@pytest.mark.django_db
def test_the_search_and_state_filter_do_not_hide_a_side_effect_to_review(world):
    """A search for one patient and a state filter narrow the patients, not the side effects waiting for review."""
    urgent = _report(world.same_clinic_patient, SideEffectKind.DIPLOPIA)
    listing = worklist(user=world.users["nurse"], today=TODAY, query="Own", state=PathwayState.OVERDUE)
    assert _names(listing) == set()
    assert [effect.pk for effect in listing.side_effects] == [urgent.pk]


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["billing", "admin"])
def test_staff_without_the_clinical_view_get_no_side_effects_on_the_worklist(world, role):
    """Billing staff and administrators get the patients' states but no side effect, urgent or not."""
    _report(world.same_clinic_patient, SideEffectKind.GENERALISED_WEAKNESS)
    listing = worklist(user=world.users[role], today=TODAY)
    assert listing.total == 2
    assert listing.side_effects == ()


@pytest.mark.django_db
def test_a_new_report_is_on_the_next_worklist_while_the_states_stay_cached(world):
    """A side effect reported after a worklist was read is on the next read, though the patients' lines come from
    the cache (computing them is not repeated) and the groups' keys are unchanged."""
    clinician = world.users["clinician"]
    before = worklist(user=clinician, today=TODAY)
    assert before.side_effects == ()
    urgent = _report(world.own_patient, SideEffectKind.BREATHING)
    with mock.patch("onaboard.web.clinic.selectors.pathway_state") as computed:
        after = worklist(user=clinician, today=TODAY)
    computed.assert_not_called()
    assert [effect.pk for effect in after.side_effects] == [urgent.pk]
    assert [group.key for group in after.groups] == [group.key for group in before.groups]


@pytest.mark.django_db
def test_the_worklists_audit_entry_counts_the_side_effects_shown(world):
    """The worklist's one audit event says how many side effects to review it showed."""
    _report(world.own_patient, SideEffectKind.NECK_PAIN)
    _report(world.same_clinic_patient, SideEffectKind.DYSPHAGIA)
    worklist(user=world.users["clinician"], today=TODAY)
    event = AuditEvent.objects.get(action=Action.READ, object_type="worklist")
    assert event.detail == "2 patients listed; 2 side effects to review"


@pytest.mark.django_db
def test_each_patient_and_side_effect_on_the_worklist_is_in_their_own_trail(world):
    """The worklist shows each listed patient's name, number and clinical summary, and the side effects to review:
    each patient listed and each side effect shown gets a read event naming the patient (as the API's list and the
    admin's lists do), so a patient's trail shows who saw them there; a search lists, and records, fewer."""
    effect = _report(world.own_patient, SideEffectKind.NECK_PAIN)
    worklist(user=world.users["clinician"], today=TODAY)
    listed = AuditEvent.objects.filter(action=Action.READ, object_type="patient", detail="worklist")
    assert sorted(str(event.patient_id) for event in listed) == sorted(
        str(patient.external_id) for patient in (world.own_patient, world.same_clinic_patient)
    )
    shown = AuditEvent.objects.get(action=Action.READ, object_type="side_effect", detail="worklist: to review")
    assert (shown.object_id, shown.patient_id) == (str(effect.external_id), world.own_patient.external_id)
    before = listed.count()
    worklist(user=world.users["clinician"], today=TODAY, query="Same")
    assert listed.all().count() == before + 1


def _shown(listing) -> list[tuple]:
    """Everything a worklist shows of its rows, group by group, with the groups' keys."""
    return [
        (
            group.state,
            group.key,
            [
                (row.patient.pk, row.state, row.summary, row.last_session, row.next_due, row.booked_for)
                for row in group.rows
            ],
        )
        for group in listing.groups
    ]


def _clinic_of(world, count: int, *, first: int = 0) -> None:
    """``count`` more patients in the world's clinic, spread over states (eligible, not eligible, diary running,
    treated and due, booked)."""
    for n in range(first, first + count):
        patient = PatientFactory(clinic=world.clinic, birth_date=ADULT, family_name=f"Patient {n:03d}")
        kind = n % 5
        if kind == 0:
            store(patient, chronic_rows())
        elif kind == 1:
            store(patient, episodic_rows())
        elif kind == 2:
            store(patient, chronic_rows(periods=1))
        else:
            day0 = days_before(84 + 7 * (kind - 3))
            store(patient, course_rows(day0, 20, 14, 12, 10))
            InjectionSessionFactory(patient=patient, date=day0, status=SessionStatus.RECORDED)
            if kind == 4:
                InjectionSessionFactory(patient=patient, date=TODAY + timedelta(days=2), status=SessionStatus.BOOKED)


@pytest.mark.django_db
def test_the_days_first_worklist_writes_its_lines_in_the_same_queries_for_few_patients_as_for_many(world):
    """The day's first worklist (every line's key is new) costs the same queries for 7 patients as for 52: the
    computed lines reach the shared cache in one write, not five queries a line."""
    clinician = world.users["clinician"]
    _clinic_of(world, 5)
    with (
        mock.patch("onaboard.web.clinic.selectors._LOCAL", LocMemCache("first-of-the-day", {})),
        CaptureQueriesContext(connection) as few,
    ):
        small = worklist(user=clinician, today=TODAY)
    _clinic_of(world, 45, first=5)
    with (
        mock.patch("onaboard.web.clinic.selectors._LOCAL", LocMemCache("first-of-the-next-day", {})),
        CaptureQueriesContext(connection) as many,
    ):
        large = worklist(user=clinician, today=TODAY + timedelta(days=1))
    assert (small.total, large.total) == (7, 52)
    assert len(few) == len(many)


@pytest.mark.django_db
def test_the_worklist_shows_the_same_cold_as_from_either_cache(world):
    """The worklist computed with both caches empty, read from this process's copy, and read from the shared cache
    by another process show the same rows, states, summaries, dates and group keys."""
    clinician = world.users["clinician"]
    _clinic_of(world, 10)
    with mock.patch("onaboard.web.clinic.selectors._LOCAL", LocMemCache("this-process", {})):
        cold = worklist(user=clinician, today=TODAY)
        with mock.patch("onaboard.web.clinic.selectors.pathway_state") as computed:
            local = worklist(user=clinician, today=TODAY)
            with mock.patch("onaboard.web.clinic.selectors._LOCAL", LocMemCache("another-process", {})):
                shared = worklist(user=clinician, today=TODAY)
    computed.assert_not_called()
    assert len({group.state for group in cold.groups}) >= 4
    assert _shown(cold) == _shown(local) == _shown(shared)


@pytest.mark.django_db
def test_overdue_due_and_booked_patients_are_listed_by_date_the_rest_by_name(world):
    """Within overdue and due the longest-waiting patient comes first (next due date, earliest first), within
    booked the nearest booking; a tie, and every other state, keeps the order by name."""
    clinician = world.users["clinician"]
    for name, days_ago in (("Aa", 100), ("Bb", 120), ("Cc", 110), ("Dd", 86), ("Ee", 90), ("Ff", 90)):
        patient = PatientFactory(clinic=world.clinic, birth_date=ADULT, family_name=name)
        day0 = days_before(days_ago)
        store(patient, course_rows(day0, 20, 18, 18, 18, 18))
        InjectionSessionFactory(patient=patient, date=day0, status=SessionStatus.RECORDED)
    for name, ahead in (("Gg", 10), ("Hh", 3)):
        patient = PatientFactory(clinic=world.clinic, birth_date=ADULT, family_name=name)
        store(patient, chronic_rows())
        InjectionSessionFactory(patient=patient, date=TODAY + timedelta(days=ahead), status=SessionStatus.BOOKED)
    listing = worklist(user=clinician, today=TODAY)
    order = {group.state: [row.patient.family_name for row in group.rows] for group in listing.groups}
    assert order[PathwayState.OVERDUE] == ["Bb", "Cc", "Aa"]
    assert order[PathwayState.DUE] == ["Ee", "Ff", "Dd"]
    assert order[PathwayState.BOOKED] == ["Hh", "Gg"]
    assert order[PathwayState.DIARY_RUNNING] == ["Own", "Same"]


# --- Prior authorisation on the worklist ------------------------------------------------------------------------


def _authorisation(patient, *, requested, status=AuthorisationStatus.APPROVED, start=None, end=None, **fields):
    """A request made ``requested`` days before TODAY; an approved one runs from ``start`` to ``end`` (days from
    TODAY), a denied one is answered two days after the request. It is made under the patient's insurance
    (us-commercial-a without one), unless ``policy_id`` says otherwise."""
    approved = status == AuthorisationStatus.APPROVED
    insured = PatientInsurance.objects.filter(patient=patient).values_list("policy_id", flat=True).first()
    fields.setdefault("policy_id", insured or "us-commercial-a")
    return PriorAuthorisation.objects.create(
        patient=patient,
        diagnosis_code="G43.709",
        requested_on=days_before(requested),
        status=status,
        decided_on=days_before(requested - 2) if status == AuthorisationStatus.DENIED else None,
        approved_from=TODAY + timedelta(days=start) if approved and start is not None else None,
        approved_until=TODAY + timedelta(days=end) if approved and end is not None else None,
        **fields,
    )


def _treated(patient) -> None:
    """A patient given one session 91 days before TODAY: due their next one."""
    day0 = days_before(91)
    store(patient, course_rows(day0, 20, 18, 17, 16))
    InjectionSessionFactory(patient=patient, date=day0, status=SessionStatus.RECORDED)


def _rows(listing) -> dict[str, WorklistRow]:
    return {row.patient.family_name: row for group in listing.groups for row in group.rows}


@pytest.mark.django_db
def test_a_treated_patient_whose_continuation_request_awaits_the_payer_shows_request_pending(world):
    """A treated patient with an approval about to end and a continuation request awaiting the payer keeps the
    clinical state (due) and shows "request pending" since the request's day, listed under "needs attention";
    a patient whose approval is in force is not."""
    _treated(world.same_clinic_patient)
    _authorisation(world.same_clinic_patient, requested=100, start=-95, end=20)
    _authorisation(world.same_clinic_patient, requested=3, status=AuthorisationStatus.REQUESTED, stage="continuation")
    _authorisation(world.own_patient, requested=20, start=-10, end=170)
    listing = worklist(user=world.users["billing"], today=TODAY)
    row = _rows(listing)["Same"]
    assert row.state is PathwayState.DUE
    assert row.approval == ApprovalLine(ApprovalStatus.PENDING, days_before(3), TODAY + timedelta(days=20))
    assert row.approval.label == "request pending"
    attention = worklist(user=world.users["billing"], today=TODAY, approval=ApprovalFilter.NEEDS_ATTENTION)
    assert _names(attention) == {"Same"}
    assert attention.approval is ApprovalFilter.NEEDS_ATTENTION


@pytest.mark.django_db
def test_an_approval_that_ended_yesterday_shows_ended_on_its_last_day(world):
    """An approval whose last day was yesterday, with none in force, shows "ended" on that day and needs
    attention."""
    _treated(world.same_clinic_patient)
    _authorisation(world.same_clinic_patient, requested=200, start=-190, end=-1)
    row = _rows(worklist(user=world.users["billing"], today=TODAY))["Same"]
    assert row.approval == ApprovalLine(ApprovalStatus.ENDED, days_before(1))
    assert row.approval.status in NEEDS_ATTENTION
    assert row.state is PathwayState.DUE


@pytest.mark.django_db
def test_an_approved_untreated_patient_shows_in_force_while_one_without_a_request_shows_none(world):
    """An eligible, untreated patient with an approval in force stays "eligible" clinically and shows the approval
    in force until its last day; the eligible patient with no request shows none; neither needs attention."""
    store(world.same_clinic_patient, chronic_rows())
    store(world.own_patient, chronic_rows())
    _authorisation(world.same_clinic_patient, requested=10, start=-5, end=170)
    rows = _rows(worklist(user=world.users["clinician"], today=TODAY))
    assert rows["Same"].state is rows["Own"].state is PathwayState.ELIGIBLE
    assert rows["Same"].approval == ApprovalLine(
        ApprovalStatus.IN_FORCE, TODAY + timedelta(days=170), TODAY + timedelta(days=170)
    )
    assert rows["Own"].approval == ApprovalLine(ApprovalStatus.NONE)
    assert not {rows["Same"].approval.status, rows["Own"].approval.status} & NEEDS_ATTENTION
    assert _names(worklist(user=world.users["clinician"], today=TODAY, approval="needs_attention")) == set()


@pytest.mark.django_db
def test_an_approval_in_its_last_30_days_shows_its_renewal_due(world):
    """An approval ending within the renewal lead time, with no request renewing it, shows "renewal due" from the
    day the lead time starts, with its last day."""
    _treated(world.same_clinic_patient)
    _authorisation(world.same_clinic_patient, requested=170, start=-160, end=10)
    row = _rows(worklist(user=world.users["billing"], today=TODAY))["Same"]
    end = TODAY + timedelta(days=10)
    assert row.approval == ApprovalLine(ApprovalStatus.RENEWAL_DUE, end - timedelta(days=RENEWAL_LEAD_DAYS), end)


@pytest.mark.django_db
def test_a_denied_then_booked_patient_shows_booked_and_denied(world):
    """A first session booked after the payer said no keeps the clinical state "booked" and shows the denial, on
    the day of the answer."""
    store(world.same_clinic_patient, chronic_rows())
    _authorisation(world.same_clinic_patient, requested=9, status=AuthorisationStatus.DENIED)
    InjectionSessionFactory(
        patient=world.same_clinic_patient, date=TODAY + timedelta(days=5), status=SessionStatus.BOOKED
    )
    row = _rows(worklist(user=world.users["billing"], today=TODAY))["Same"]
    assert row.state is PathwayState.BOOKED
    assert row.approval == ApprovalLine(ApprovalStatus.DENIED, days_before(7))


@pytest.mark.django_db
def test_the_approval_filter_lists_one_status_and_the_counts_cover_every_status(world):
    """Filtering by an approval status lists only its patients, the state counts counting those; the approval counts
    cover every status of the search under the state filter, and the audit entry names the filter."""
    _treated(world.same_clinic_patient)
    _authorisation(world.same_clinic_patient, requested=200, start=-190, end=-1)
    listing = worklist(user=world.users["billing"], today=TODAY, approval=ApprovalStatus.ENDED)
    assert _names(listing) == {"Same"}
    assert dict(listing.counts)[PathwayState.DUE] == 1
    assert dict(listing.counts)[PathwayState.DIARY_RUNNING] == 0
    assert dict(listing.approval_counts) == {**dict.fromkeys(ApprovalStatus, 0), "ended": 1, "none": 1}
    assert listing.needs_attention == 1
    assert listing.total == 2
    assert AuditEvent.objects.filter(object_type="worklist").latest("id").detail == "1 patients listed; ended"
    assert worklist(user=world.users["billing"], today=TODAY, approval="nonsense").approval is None


@pytest.mark.django_db
def test_a_groups_key_changes_with_a_patients_approval_status(world):
    """An approval answered for a patient changes the key of their group and no other."""
    _treated(world.same_clinic_patient)
    request = _authorisation(world.same_clinic_patient, requested=5, status=AuthorisationStatus.REQUESTED)
    billing = world.users["billing"]

    def keys() -> dict[PathwayState, str]:
        return {group.state: group.key for group in worklist(user=billing, today=TODAY).groups}

    before = keys()
    assert set(before) == {PathwayState.DUE, PathwayState.DIARY_RUNNING}
    PriorAuthorisation.objects.filter(pk=request.pk).update(
        status=AuthorisationStatus.APPROVED, approved_from=TODAY, approved_until=TODAY + timedelta(days=180)
    )
    after = keys()
    assert after[PathwayState.DUE] != before[PathwayState.DUE]
    assert after[PathwayState.DIARY_RUNNING] == before[PathwayState.DIARY_RUNNING]


@pytest.mark.django_db
def test_the_worklist_with_approvals_costs_the_same_queries_for_a_few_patients_as_for_many(
    world, django_assert_num_queries
):
    """Patients' approvals cost the worklist no query of their own (the read that feeds the pathway's approval seam
    gives them, and whether a booking is covered is read from it): two patients with requests and fourteen, twelve
    of them insured and booked, some beyond their approval, cost the same six queries."""
    clinician = world.users["clinician"]
    _authorisation(world.own_patient, requested=5, status=AuthorisationStatus.REQUESTED)
    _authorisation(world.same_clinic_patient, requested=200, start=-190, end=-1)
    worklist(user=clinician, today=TODAY)
    with django_assert_num_queries(6):
        small = worklist(user=clinician, today=TODAY)
    for n in range(12):
        patient = PatientFactory(clinic=world.clinic, birth_date=ADULT)
        store(patient, chronic_rows(periods=1))
        PatientInsurance.objects.create(patient=patient, policy_id="us-commercial-a", terms_as_of=TODAY)
        _authorisation(patient, requested=30 + n, start=-20, end=n * 5)
        _authorisation(patient, requested=3, status=AuthorisationStatus.DENIED)
        InjectionSessionFactory(patient=patient, date=TODAY + timedelta(days=20), status=SessionStatus.BOOKED)
    worklist(user=clinician, today=TODAY)
    with django_assert_num_queries(6):
        large = worklist(user=clinician, today=TODAY)
    assert large.total == small.total + 12
    assert sum(count for _, count in large.approval_counts) == 14
    rows = [row for group in large.groups for row in group.rows]
    uncovered = [row for row in rows if row.approval.booking_uncovered is not None]
    assert 0 < len(uncovered) < 12  # approvals ending before the booking, and others covering it


@pytest.mark.django_db
def test_a_patient_under_a_policy_that_asks_no_prior_authorisation_shows_not_needed(world):
    """Under NICE TA260 (a guideline: its file has no ``[prior_authorisation]``) no approval is asked for,
    so the patient's approval is "not needed" and never needs attention, as the session screen's check says; a
    commercial payer's patient without a request shows none, and one without insurance none."""
    _treated(world.same_clinic_patient)
    PatientInsurance.objects.create(patient=world.same_clinic_patient, policy_id="nice-ta260", terms_as_of=TODAY)
    _authorisation(world.same_clinic_patient, requested=200, start=-190, end=-1, policy_id="us-medicare-a")
    PatientInsurance.objects.create(patient=world.own_patient, policy_id="us-commercial-a", terms_as_of=TODAY)
    rows = _rows(worklist(user=world.users["billing"], today=TODAY))
    assert rows["Same"].approval == ApprovalLine(ApprovalStatus.NOT_NEEDED)
    assert not rows["Same"].approval.needs_attention
    assert rows["Own"].approval == ApprovalLine(ApprovalStatus.NONE)
    PatientInsurance.objects.filter(patient=world.same_clinic_patient).update(policy_id="us-medicare-a")
    rows = _rows(worklist(user=world.users["billing"], today=TODAY))
    assert rows["Same"].approval == ApprovalLine(ApprovalStatus.ENDED, days_before(1))


@pytest.mark.django_db
def test_a_medicare_patient_of_a_physicians_office_needs_no_approval_in_the_worklist(world):
    """Medicare asks for prior authorisation in a hospital outpatient department only: with an ended approval, the
    Medicare patient of a clinic that is an office shows "not needed", the same patient of a hospital outpatient
    department shows the approval ended; a commercial payer's patient shows it ended in both."""
    _treated(world.same_clinic_patient)
    insurance = PatientInsurance.objects.create(
        patient=world.same_clinic_patient, policy_id="us-medicare-a", terms_as_of=TODAY
    )
    _authorisation(world.same_clinic_patient, requested=200, start=-190, end=-1)
    ended = ApprovalLine(ApprovalStatus.ENDED, days_before(1))
    for site, medicare in (
        (SiteOfService.OFFICE, ApprovalLine(ApprovalStatus.NOT_NEEDED)),
        (SiteOfService.HOSPITAL_OUTPATIENT, ended),
    ):
        Clinic.objects.filter(pk=world.clinic.pk).update(site_of_service=site)
        for policy_id, expected in (("us-medicare-a", medicare), ("us-commercial-a", ended)):
            # the patient insured under the policy, and the approval asked of it
            insurance.policy_id = policy_id
            insurance.save()
            PriorAuthorisation.objects.filter(patient=world.same_clinic_patient).update(policy_id=policy_id)
            assert _rows(worklist(user=world.users["billing"], today=TODAY))["Same"].approval == expected


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("made", "before"),
    [
        ({"requested": 200, "start": -190, "end": -1}, ApprovalStatus.ENDED),
        ({"requested": 170, "start": -160, "end": 10}, ApprovalStatus.RENEWAL_DUE),
        ({"requested": 9, "status": AuthorisationStatus.DENIED}, ApprovalStatus.DENIED),
        ({"requested": 10, "start": -5, "end": 170}, ApprovalStatus.IN_FORCE),
    ],
    ids=["ended", "renewal-due", "denied", "in-force"],
)
def test_a_patient_whose_treatment_was_stopped_needs_no_approval(world, made, before):
    """Once a clinician has decided to stop, no session is ahead: no next session is due, and an approval that
    ended, falls due for renewal, was denied or is in force shows "not needed: treatment stopped", neutral, and is
    not among those billing acts on."""
    _treated(world.same_clinic_patient)
    _authorisation(world.same_clinic_patient, **made)
    billing = world.users["billing"]
    assert _rows(worklist(user=billing, today=TODAY))["Same"].approval.status is before
    _record_decision(world.same_clinic_patient, Decision.STOP, world.users["clinician"])
    row = _rows(worklist(user=billing, today=TODAY))["Same"]
    assert row.state is PathwayState.TREATMENT_STOPPED
    assert row.next_due is None  # no next session is due once stopped
    assert row.approval == ApprovalLine(ApprovalStatus.STOPPED)
    assert (row.approval.label, row.approval.tone) == ("not needed: treatment stopped", "")
    assert not row.approval.needs_attention
    assert _names(worklist(user=billing, today=TODAY, approval=ApprovalFilter.NEEDS_ATTENTION)) == set()


@pytest.mark.django_db
def test_a_stopped_patient_whose_policy_asks_no_approval_is_listed_as_stopped_too(world):
    """Under a policy asking no approval (NICE TA260) a stopped patient's line is "not needed: treatment stopped",
    as under a payer's: the filter of that status lists every stopped patient, not those of payers alone."""
    _treated(world.same_clinic_patient)
    PatientInsurance.objects.create(patient=world.same_clinic_patient, policy_id="nice-ta260", terms_as_of=TODAY)
    assert _rows(worklist(user=world.users["billing"], today=TODAY))["Same"].approval.status is (
        ApprovalStatus.NOT_NEEDED
    )
    _record_decision(world.same_clinic_patient, Decision.STOP, world.users["clinician"])
    listing = worklist(user=world.users["billing"], today=TODAY, approval=ApprovalStatus.STOPPED)
    assert _names(listing) == {"Same"}


@pytest.mark.django_db
def test_a_request_still_with_the_payer_after_a_stop_still_needs_attention(world):
    """A request awaiting the payer when treatment stops stays "request pending" under "needs attention": billing
    withdraws it (or records the answer); the stop does not hide it."""
    _treated(world.same_clinic_patient)
    _authorisation(world.same_clinic_patient, requested=3, status=AuthorisationStatus.REQUESTED)
    _record_decision(world.same_clinic_patient, Decision.STOP, world.users["clinician"])
    row = _rows(worklist(user=world.users["billing"], today=TODAY))["Same"]
    assert row.state is PathwayState.TREATMENT_STOPPED
    assert row.approval.status is ApprovalStatus.PENDING
    assert row.approval.needs_attention


def test_whether_a_policy_asks_depends_on_the_clinics_site():
    """``asks_prior_authorisation`` reads the policy's ``[prior_authorisation]`` at the clinic's site: Medicare in an
    office asks none, in a hospital outpatient department it asks; NICE asks nowhere, a commercial payer everywhere;
    without insurance, or with a policy no longer shipped, the recorded requests count (not known)."""
    office, outpatient = SiteOfService.OFFICE, SiteOfService.HOSPITAL_OUTPATIENT
    assert [asks_prior_authorisation("us-medicare-a", site) for site in (office, outpatient)] == [False, True]
    assert [asks_prior_authorisation("nice-ta260", site) for site in (office, outpatient)] == [False, False]
    assert [asks_prior_authorisation("us-commercial-c", site) for site in (office, outpatient)] == [True, True]
    assert [asks_prior_authorisation(policy, office) for policy in (None, "us-commercial-retired")] == [True, True]


@pytest.mark.django_db
def test_an_eligible_patient_whose_policy_asks_and_who_has_no_request_shows_required_not_requested(world):
    """A hospital outpatient department's eligible Medicare patient with no request shows "required, not
    requested" (billing's first job), counted and listed under "needs attention" and under its own filter; in a
    physician's office Medicare asks none (not needed); a diary still running, or no insurance (not known), shows
    none."""
    Clinic.objects.filter(pk=world.clinic.pk).update(site_of_service=SiteOfService.HOSPITAL_OUTPATIENT)
    store(world.same_clinic_patient, chronic_rows())
    PatientInsurance.objects.create(patient=world.same_clinic_patient, policy_id="us-medicare-a", terms_as_of=TODAY)
    PatientInsurance.objects.create(patient=world.own_patient, policy_id="us-medicare-a", terms_as_of=TODAY)
    billing = world.users["billing"]
    listing = worklist(user=billing, today=TODAY)
    rows = _rows(listing)
    assert rows["Same"].state is PathwayState.ELIGIBLE
    assert rows["Same"].approval == ApprovalLine(ApprovalStatus.REQUIRED)
    assert rows["Same"].approval.label == "required, not requested"
    assert rows["Same"].approval.needs_attention
    assert rows["Same"].approval.tone == "warn"
    assert rows["Own"].state is PathwayState.DIARY_RUNNING
    assert rows["Own"].approval == ApprovalLine(ApprovalStatus.NONE)
    assert listing.needs_attention == 1
    assert _names(worklist(user=billing, today=TODAY, approval="needs_attention")) == {"Same"}
    assert _names(worklist(user=billing, today=TODAY, approval=ApprovalStatus.REQUIRED)) == {"Same"}
    Clinic.objects.filter(pk=world.clinic.pk).update(site_of_service=SiteOfService.OFFICE)
    assert _rows(worklist(user=billing, today=TODAY))["Same"].approval == ApprovalLine(ApprovalStatus.NOT_NEEDED)
    PatientInsurance.objects.filter(patient=world.same_clinic_patient).delete()
    assert _rows(worklist(user=billing, today=TODAY))["Same"].approval == ApprovalLine(ApprovalStatus.NONE)


@pytest.mark.django_db
def test_a_treated_patient_whose_payer_asks_shows_required_until_a_request_is_made(world):
    """A patient due their next session under a commercial payer, with no request, shows "required, not
    requested"; once a request is made it shows the request pending instead."""
    _treated(world.same_clinic_patient)
    PatientInsurance.objects.create(patient=world.same_clinic_patient, policy_id="us-commercial-a", terms_as_of=TODAY)
    row = _rows(worklist(user=world.users["billing"], today=TODAY))["Same"]
    assert (row.state, row.approval) == (PathwayState.DUE, ApprovalLine(ApprovalStatus.REQUIRED))
    _authorisation(world.same_clinic_patient, requested=1, status=AuthorisationStatus.REQUESTED)
    row = _rows(worklist(user=world.users["billing"], today=TODAY))["Same"]
    assert row.approval.status is ApprovalStatus.PENDING


@pytest.mark.django_db
def test_a_patient_who_is_not_eligible_or_stopped_needs_no_request_made(world):
    """No request is billing's to make for a patient whose diary does not meet the label criteria, nor one whose
    treatment a clinician stopped: under a payer that asks, the first shows none, the second "not needed: treatment
    stopped"."""
    store(world.same_clinic_patient, episodic_rows())
    PatientInsurance.objects.create(patient=world.same_clinic_patient, policy_id="us-commercial-a", terms_as_of=TODAY)
    _treated(world.own_patient)
    PatientInsurance.objects.create(patient=world.own_patient, policy_id="us-commercial-a", terms_as_of=TODAY)
    _record_decision(world.own_patient, Decision.STOP, world.users["clinician"])
    rows = _rows(worklist(user=world.users["billing"], today=TODAY))
    assert rows["Same"].state is PathwayState.NOT_ELIGIBLE
    assert rows["Own"].state is PathwayState.TREATMENT_STOPPED
    assert (rows["Same"].approval.status, rows["Own"].approval.status) == (ApprovalStatus.NONE, ApprovalStatus.STOPPED)


@pytest.mark.django_db
def test_required_not_requested_costs_the_worklist_no_query(world, django_assert_num_queries):
    """Whether a request is required comes from the patients' policies and pathway states already read: fourteen
    eligible insured patients cost the same six queries as two."""
    clinician = world.users["clinician"]
    worklist(user=clinician, today=TODAY)
    with django_assert_num_queries(6):
        worklist(user=clinician, today=TODAY)
    for n in range(12):
        patient = PatientFactory(clinic=world.clinic, birth_date=ADULT, family_name=f"Eligible {n:02d}")
        store(patient, chronic_rows())
        PatientInsurance.objects.create(patient=patient, policy_id="us-commercial-b", terms_as_of=TODAY)
    worklist(user=clinician, today=TODAY)
    with django_assert_num_queries(6):
        listing = worklist(user=clinician, today=TODAY)
    assert dict(listing.approval_counts)[ApprovalStatus.REQUIRED] == 12


@pytest.mark.django_db
def test_the_worklist_reads_the_patients_policies_in_its_patients_query(world, django_assert_num_queries):
    """Whether each patient's policy asks for prior authorisation comes with the patients (no query of its own):
    fourteen insured patients cost the same six queries as two."""
    clinician = world.users["clinician"]
    worklist(user=clinician, today=TODAY)
    with django_assert_num_queries(6):
        worklist(user=clinician, today=TODAY)
    for n in range(12):
        patient = PatientFactory(clinic=world.clinic, birth_date=ADULT, family_name=f"Insured {n:02d}")
        policy = "nice-ta260" if n % 2 else "us-commercial-b"
        PatientInsurance.objects.create(patient=patient, policy_id=policy, terms_as_of=TODAY)
    worklist(user=clinician, today=TODAY)
    with django_assert_num_queries(6):
        listing = worklist(user=clinician, today=TODAY)
    assert dict(listing.approval_counts)[ApprovalStatus.NOT_NEEDED] == 6


# --- The clinician's decision: continue or stop -------------------------------------------------------------------


def _non_responder(*later_periods: int) -> tuple[list[dict[str, str]], list[date]]:
    """Two cycles 84 days apart; 18 headache days at week 24 against 20 at baseline (10 % fewer: NICE TA260 says
    stop on TODAY, period 6 having ended 3 days before), then ``later_periods``' counts (the diary runs past TODAY
    when given, for a later day to read)."""
    day0 = days_before(170)
    return course_rows(day0, 20, 19, 19, 18, 18, 18, 18, *later_periods), [day0, day0 + timedelta(days=84)]


def _on(day, rows, sessions, decision=None, booked=()):
    return pathway_state(
        diary=diary_of(rows, today=day),
        birth_date=ADULT,
        recorded=sessions,
        booked=booked,
        today=day,
        decision=decision,
    )


def _continued(day=TODAY, reason="HIT-6 down 9 points, fewer severe days", *, saw_stop=True):
    """A "continue" by Dr Stone; ``saw_stop``: the engine's NICE TA260 verdict that day was stop (the decision was
    made against it)."""
    return LatestDecision(Decision.CONTINUE, day, "Dr Avery Stone", reason, saw_stop=saw_stop)


def test_a_continue_decision_answers_the_stop_suggestion_it_saw():
    """Stop suggested at week 24; once a clinician records "continue" on TODAY the patient is back on the 12-week
    schedule (the decision is also the week-24 assessment), the reasons saying who continued against the rule,
    when and why, above the engine's reasons; the engine's verdict itself still says stop."""
    rows, sessions = _non_responder()
    assert _on(TODAY, rows, sessions).state is PathwayState.STOP_SUGGESTED
    pathway = _on(TODAY, rows, sessions, _continued())
    assert pathway.state is PathwayState.DUE
    line = str(
        CONTINUED_AGAINST_RULE
        % {"date": TODAY.isoformat(), "name": "Dr Avery Stone", "reason": "HIT-6 down 9 points, fewer severe days"}
    )
    assert line == (
        "Continued against the stopping rule on 2026-06-30 by Dr Avery Stone: HIT-6 down 9 points, fewer severe days"
    )
    assert line in pathway.reasons
    assert pathway.reasons.index(line) < pathway.reasons.index(pathway.outcomes.nice_ta260.reasons[0])
    assert pathway.outcomes.nice_ta260.verdict.value == "stop"


def test_a_continue_against_the_week_24_rule_answers_it_for_good():
    """Week 24's result never changes, so a "continue" recorded after it answers it for good: periods 7 and 8 ending
    since (18 headache days each, chronic all the same) do not bring the stop suggestion back every 28 days."""
    rows, sessions = _non_responder(18, 18)
    decision = _continued()
    for later in (TODAY + timedelta(days=20), TODAY + timedelta(days=30), TODAY + timedelta(days=58)):
        pathway = _on(later, rows, sessions, decision)
        assert pathway.outcomes.nice_ta260.verdict.value == "stop"
        assert pathway.state is not PathwayState.STOP_SUGGESTED
        assert any(reason.startswith("Continued against the stopping rule on 2026-06-30") for reason in pathway.reasons)


def test_a_return_to_episodic_migraine_after_a_continue_suggests_stopping_again():
    """A new fact: three periods under 15 headache days after the decision (NICE TA260's other stopping rule) suggest
    stopping again, the reasons naming the earlier decision and the period since."""
    rows, sessions = _non_responder(10, 10, 10)
    decision = _continued()
    later = TODAY + timedelta(days=85)
    again = _on(later, rows, sessions, decision)
    assert again.outcomes.nice_ta260.reverted_to_episodic
    assert again.state is PathwayState.STOP_SUGGESTED
    assert any(reason.startswith("Continued against the stopping rule on 2026-06-30") for reason in again.reasons)
    period9 = next(change.period for change in again.outcomes.periods if change.period.index == 9)
    assert (
        str(STOP_RULE_STILL_HOLDS % {"period": 9, "start": period9.start.isoformat(), "end": period9.end.isoformat()})
        in again.reasons
    )


def test_a_continue_against_a_return_to_episodic_migraine_is_asked_again_each_period_it_still_holds():
    """The episodic rule rests on the three latest periods: a "continue" answers the periods it saw; one more period
    under 15 headache days ending since is a new fact, and stopping is suggested again."""
    day0 = days_before(90)
    rows = course_rows(day0, 20, 10, 10, 10, 10)
    sessions = [day0, day0 + timedelta(days=84)]
    decision = _continued()
    assert _on(TODAY, rows, sessions).state is PathwayState.STOP_SUGGESTED
    assert _on(TODAY, rows, sessions, decision).state is not PathwayState.STOP_SUGGESTED
    assert _on(TODAY + timedelta(days=30), rows, sessions, decision).state is PathwayState.STOP_SUGGESTED


def test_a_continue_decision_dated_before_the_failing_period_does_not_answer_it():
    """A "continue" recorded before week 24 ended (say at the second session) saw no stop suggestion: week 24's
    result suggests stopping all the same."""
    rows, sessions = _non_responder()
    pathway = _on(TODAY, rows, sessions, _continued(day=sessions[1], saw_stop=False))
    assert pathway.state is PathwayState.STOP_SUGGESTED


def test_a_continue_that_saw_no_stop_is_not_said_to_go_against_the_rule():
    """A "continue" recorded at the second session, when NICE TA260 said nothing yet, is worded as a decision to
    continue, and the stop suggested since is said to be new, not to "still hold": neither went against a rule that
    did not yet hold."""
    rows, sessions = _non_responder()
    pathway = _on(TODAY, rows, sessions, _continued(day=sessions[1], saw_stop=False))
    assert pathway.state is PathwayState.STOP_SUGGESTED
    assert not any(reason.startswith("Continued against the stopping rule") for reason in pathway.reasons)
    assert any(reason.startswith(f"Decided to continue on {sessions[1].isoformat()}") for reason in pathway.reasons)
    assert not any("still holds" in reason for reason in pathway.reasons)
    week24 = next(change.period for change in pathway.outcomes.periods if change.period.index == 6)
    since = STOP_SUGGESTED_SINCE % {"period": 6, "start": week24.start.isoformat(), "end": week24.end.isoformat()}
    assert str(since) in pathway.reasons


def test_a_continue_recorded_on_the_last_day_of_week_24_did_not_see_its_result():
    """On period 6's last day the period is still running and the engine judges nothing of it, so a "continue"
    recorded that day cannot answer the stop week 24's result suggests once it has ended, even if a stop from
    another rule was on screen that day."""
    rows, sessions = _non_responder()
    week24 = next(change.period for change in _on(TODAY, rows, sessions).outcomes.periods if change.period.index == 6)
    for saw_stop in (False, True):
        pathway = _on(TODAY, rows, sessions, _continued(day=week24.end, saw_stop=saw_stop))
        assert pathway.state is PathwayState.STOP_SUGGESTED


def test_a_stop_decision_is_treatment_stopped_whatever_the_engine_says():
    """A clinician's stop is the state, first among the reasons with its day, clinician and reason, with the
    engine's reasons after it; a responder stopped for a side effect is stopped too, and a booking still open is
    named to be cancelled."""
    rows, sessions = _non_responder()
    stop = LatestDecision(Decision.STOP, TODAY, "Dr Avery Stone", "no meaningful benefit; patient agrees")
    pathway = _on(TODAY, rows, sessions, stop)
    assert pathway.state is PathwayState.TREATMENT_STOPPED
    assert pathway.summary == (
        "Treatment stopped on 2026-06-30 by Dr Avery Stone: no meaningful benefit; patient agrees"
    )
    assert pathway.reasons[0] == pathway.summary
    assert pathway.reasons[-1] == pathway.outcomes.nice_ta260.reasons[-1]
    assert (pathway.tone, pathway.label) == ("", "treatment stopped")
    booked = TODAY + timedelta(days=20)
    still_booked = _on(TODAY, rows, sessions, stop, booked=[booked])
    assert str(STOPPED_BUT_BOOKED % {"date": booked.isoformat()}) in still_booked.reasons


def test_a_decision_dated_after_the_day_asked_about_is_not_read():
    """The pathway on an earlier day (the session screen's day) ignores a decision made after it, as it ignores
    later sessions and diary days."""
    rows, sessions = _non_responder()
    stop = LatestDecision(Decision.STOP, TODAY, "Dr Avery Stone", "stopped")
    assert _on(TODAY - timedelta(days=1), rows, sessions, stop).state is PathwayState.STOP_SUGGESTED


def test_a_continue_at_week_24_of_a_responder_is_the_week_24_assessment():
    """A responder's week 24 complete and no session since: week-24 assessment due until a clinician records the
    decision to continue; then the next session's schedule, the decision among the reasons."""
    rows, sessions = _week24_course()
    assert _state(rows, recorded=sessions).state is PathwayState.WEEK24_DUE
    pathway = _on(TODAY, rows, sessions, _continued(reason="good response"))
    assert pathway.state is PathwayState.DUE
    assert "Decided to continue on 2026-06-30 by Dr Avery Stone: good response" in pathway.reasons


# --- Week 24 over without enough days; the return to episodic migraine over an incomplete baseline -------------


def _week24_short(*, recorded: int = 10) -> tuple[list[dict[str, str]], list[date]]:
    """Two cycles 84 days apart; week 24 (period 6) ended 3 days before TODAY with ``recorded`` of its 28 days in the
    diary (none: the diary stops after period 5), every period before it complete and chronic (16 headache days)."""
    day0 = days_before(170)
    rows = course_rows(day0, 20, 16, 16, 16, 16, 16, (min(recorded, 8), recorded))
    return rows, [day0, day0 + timedelta(days=84)]


@pytest.mark.parametrize("recorded", [10, 0])
def test_week_24_over_with_too_few_days_recorded_is_the_week_24_assessment_due(recorded):
    """Period 6 ended with 10 (or none) of its 28 days recorded: the engine's verdict stays not yet assessable for
    good, so instead of a green "on treatment" the worklist asks for the week-24 assessment (warn), saying the
    period, its dates and the days recorded, and that the clinician judges the response from the periods recorded."""
    rows, sessions = _week24_short(recorded=recorded)
    pathway = _state(rows, recorded=sessions)
    outcomes = pathway.outcomes
    assert outcomes.week24_state is Week24State.ENDED_INCOMPLETE
    assert outcomes.nice_ta260.verdict is NiceTa260.NOT_YET_ASSESSABLE
    assert (pathway.state, pathway.tone) == (PathwayState.WEEK24_DUE, "warn")
    start, end = sessions[0] + timedelta(days=140), sessions[0] + timedelta(days=167)
    numbers = {"period": 6, "start": start.isoformat(), "end": end.isoformat(), "period_days": PERIOD_DAYS}
    assert pathway.summary == str(WEEK24_ENDED_INCOMPLETE % {**numbers, "recorded": recorded})
    assert pathway.summary == (
        f"week 24 (period 6, 2026-05-31 to 2026-06-27) ended with {recorded} of 28 days recorded, so the reduction "
        "cannot be measured: judge the response from the periods recorded"
    )
    assert pathway.reasons[0] == pathway.summary
    assert pathway.week24 == Week24Period(start, end, recorded, Week24State.ENDED_INCOMPLETE)


def test_a_week_24_too_short_to_measure_is_acted_on_as_a_complete_one():
    """As for a complete week 24: a session recorded after period 6 ended, or a decision to continue made after it,
    is the assessment acted on (back to the 12-week schedule, the decision among the reasons); a decision to continue
    made on or before its last day saw none of it."""
    rows, sessions = _week24_short()
    end = sessions[0] + timedelta(days=167)
    assert _state(rows, recorded=[*sessions, days_before(1)]).state is PathwayState.ON_TREATMENT
    continued = _on(TODAY, rows, sessions, _continued(reason="fewer severe days", saw_stop=False))
    assert continued.state is PathwayState.DUE
    assert "Decided to continue on 2026-06-30 by Dr Avery Stone: fewer severe days" in continued.reasons
    assert _on(TODAY, rows, sessions, _continued(day=end, saw_stop=False)).state is PathwayState.WEEK24_DUE


def test_week_24_under_way_or_to_come_is_no_assessment_yet():
    """While period 6 is running, or still to come, nothing is due for week 24: ``Pathway.week24`` says where it
    stands, with the days recorded so far."""
    day0 = days_before(150)
    rows = [row for row in course_rows(day0, 20, 16, 16, 16, 16, 16, 8) if row["date"] <= TODAY.isoformat()]
    pathway = _state(rows, recorded=[day0, day0 + timedelta(days=84)])
    assert pathway.state is PathwayState.ON_TREATMENT
    assert (pathway.week24.state, pathway.week24.days_recorded) == (Week24State.UNDER_WAY, 11)
    early = _state(course_rows(days_before(60), 20, 16, 16), recorded=[days_before(60)])
    assert (early.state, early.week24.state, early.week24.days_recorded) == (
        PathwayState.ON_TREATMENT,
        Week24State.NOT_REACHED,
        0,
    )


def _migrated_on_treatment() -> tuple[list[dict[str, str]], list[date]]:
    """A patient who came on treatment: the diary begins at the first injection (no baseline recorded), then three
    periods of 6, 5 and 4 headache days (episodic), the third ended a week before TODAY; two sessions 84 days
    apart."""
    day0 = days_before(90)
    rows = [row for row in course_rows(day0, 20, 6, 5, 4) if row["date"] >= day0.isoformat()]
    return rows, [day0, day0 + timedelta(days=84)]


def test_a_return_to_episodic_migraine_over_an_incomplete_baseline_suggests_stopping():
    """With no baseline recorded the engine's verdict stays not yet assessable, yet its return to episodic migraine
    holds (three periods under 15 headache days): the worklist says stop suggested, summarised by the engine's
    episodic reason (the one after the baseline's), not a green "on treatment"."""
    rows, sessions = _migrated_on_treatment()
    pathway = _state(rows, recorded=sessions)
    nice = pathway.outcomes.nice_ta260
    assert not pathway.outcomes.baseline.complete
    assert (nice.verdict, nice.reverted_to_episodic) == (NiceTa260.NOT_YET_ASSESSABLE, True)
    assert (pathway.state, pathway.tone) == (PathwayState.STOP_SUGGESTED, "bad")
    assert pathway.summary == nice.reasons[1]
    assert "episodic migraine" in pathway.summary
    assert pathway.reasons == nice.reasons


def test_a_continue_against_the_return_to_episodic_migraine_over_an_incomplete_baseline_answers_it():
    """A "continue" recorded while that stop was suggested (``saw_stop``) answers it as any stop: back on the 12-week
    schedule, worded as continued against the stopping rule; one that saw no stop answers nothing."""
    rows, sessions = _migrated_on_treatment()
    pathway = _on(TODAY, rows, sessions, _continued())
    assert pathway.state is PathwayState.ON_TREATMENT
    line = str(
        CONTINUED_AGAINST_RULE
        % {"date": TODAY.isoformat(), "name": "Dr Avery Stone", "reason": "HIT-6 down 9 points, fewer severe days"}
    )
    assert line in pathway.reasons
    unseen = _on(TODAY, rows, sessions, _continued(saw_stop=False))
    assert unseen.state is PathwayState.STOP_SUGGESTED
    assert not any(reason.startswith("Continued against the stopping rule") for reason in unseen.reasons)


@pytest.mark.django_db
def test_the_worklist_suggests_stopping_a_patient_on_treatment_without_a_baseline_until_a_clinician_continues(world):
    """Stored rows: the worklist lists the patient who returned to episodic migraine over an incomplete baseline as
    stop suggested; a "continue" recorded through the service keeps the engine's verdict (not yet assessable) and
    that the rule held, so it answers the stop and the line moves on past its cache."""
    from onaboard.web.outcomes.services import treatment_decision_record

    clinician = world.users["clinician"]
    patient = world.same_clinic_patient
    rows, sessions = _migrated_on_treatment()
    store(patient, rows)
    for day in sessions:
        InjectionSessionFactory(patient=patient, date=day, status=SessionStatus.RECORDED)
    assert _rows(worklist(user=clinician, today=TODAY))["Same"].state is PathwayState.STOP_SUGGESTED
    record = treatment_decision_record(
        user=clinician, patient=patient, decision="continue", reason="feels better", decided_on=TODAY, today=TODAY
    )
    assert (record.nice_verdict, record.nice_reverted_to_episodic, record.saw_stop) == (
        "not_yet_assessable",
        True,
        True,
    )
    assert LatestDecision.of(record).saw_stop
    row = _rows(worklist(user=clinician, today=TODAY))["Same"]
    assert row.state is not PathwayState.STOP_SUGGESTED
    assert any(
        reason.startswith("Continued against the stopping rule")
        for reason in patient_pathway_state(patient, TODAY).reasons
    )


def test_treatment_stopped_is_listed_last():
    """Stopped patients need nothing done: their state comes after every other on the worklist, in neutral."""
    assert list(PathwayState)[-1] is PathwayState.TREATMENT_STOPPED
    assert PathwayState.TREATMENT_STOPPED.tone == ""


def _record_decision(patient, decision, clinician, *, day=TODAY, reason="decided with the patient"):
    return TreatmentDecision.objects.create(
        patient=patient,
        decided_on=day,
        decision=decision,
        reason=reason,
        decided_by=clinician,
        nice_verdict="stop",
    )


def _non_responding_patient(patient) -> None:
    rows, sessions = _non_responder()
    store(patient, rows)
    for day in sessions:
        InjectionSessionFactory(patient=patient, date=day, status=SessionStatus.RECORDED)


@pytest.mark.django_db
def test_the_worklist_follows_each_new_decision_past_its_cached_lines(world):
    """Stop suggested, then a clinician's "continue" (due: the cached line is not served), then "stop"
    (treatment stopped, listed last, its own filter chip); the patient page's pathway says the same."""
    clinician = world.users["clinician"]
    clinician.first_name, clinician.last_name = "Avery", "Stone"
    clinician.save()
    _non_responding_patient(world.same_clinic_patient)
    store(world.own_patient, chronic_rows())
    assert _rows(worklist(user=clinician, today=TODAY))["Same"].state is PathwayState.STOP_SUGGESTED
    _record_decision(world.same_clinic_patient, Decision.CONTINUE, clinician)
    assert _rows(worklist(user=clinician, today=TODAY))["Same"].state is PathwayState.DUE
    _record_decision(world.same_clinic_patient, Decision.STOP, clinician, reason="no benefit")
    listing = worklist(user=clinician, today=TODAY)
    assert [group.state for group in listing.groups][-1] is PathwayState.TREATMENT_STOPPED
    row = _rows(listing)["Same"]
    assert row.summary == "Treatment stopped on 2026-06-30 by Avery Stone: no benefit"
    assert dict(listing.counts)[PathwayState.TREATMENT_STOPPED] == 1
    only = worklist(user=clinician, today=TODAY, state="treatment_stopped")
    assert [group.state for group in only.groups] == [PathwayState.TREATMENT_STOPPED]
    assert patient_pathway_state(world.same_clinic_patient, TODAY).summary == row.summary


@pytest.mark.django_db
def test_decisions_cost_the_worklist_no_query_once_its_lines_are_cached(world, django_assert_num_queries):
    """Decisions on record add no query to a cached worklist: with two decided patients it costs the same six
    queries as before."""
    clinician = world.users["clinician"]
    for patient in (world.own_patient, world.same_clinic_patient):
        _non_responding_patient(patient)
    worklist(user=clinician, today=TODAY)
    with django_assert_num_queries(6):
        worklist(user=clinician, today=TODAY)
    _record_decision(world.own_patient, Decision.CONTINUE, clinician)
    _record_decision(world.same_clinic_patient, Decision.STOP, clinician)
    worklist(user=clinician, today=TODAY)
    with django_assert_num_queries(6):
        listing = worklist(user=clinician, today=TODAY)
    assert {row.state for row in _rows(listing).values()} == {PathwayState.DUE, PathwayState.TREATMENT_STOPPED}


@pytest.mark.django_db
def test_one_patients_pathway_reads_decisions_only_when_there_is_one(world, django_assert_num_queries):
    """A treated patient without a decision costs the pathway no more queries than before (sessions with their
    latest decision, diary, prior authorisations); one decision on record costs one more, to read it."""
    patient = world.same_clinic_patient
    _non_responding_patient(patient)
    with django_assert_num_queries(3):
        patient_pathway_state(patient, TODAY)
    _record_decision(patient, Decision.STOP, world.users["clinician"])
    with django_assert_num_queries(4):
        assert patient_pathway_state(patient, TODAY).state is PathwayState.TREATMENT_STOPPED


@pytest.mark.django_db
def test_a_booking_after_the_approval_in_force_ends_needs_attention(world):
    """A commercial patient whose approval is in force until 40 days from now (its renewal not due for 10 days more)
    and whose next session is booked 50 days from now shows the approval in force and, beside it, the booked day no
    approval covers: the row needs attention (counted and filtered) though no status says so. A later approval
    covering the booked day, a booking inside the approval, or a policy asking no approval (NICE) clear it; without
    insurance nothing is said, as on the booking."""
    _treated(world.same_clinic_patient)
    insurance = PatientInsurance.objects.create(
        patient=world.same_clinic_patient, policy_id="us-commercial-a", terms_as_of=TODAY
    )
    _authorisation(world.same_clinic_patient, requested=100, start=-90, end=40)
    booking = InjectionSessionFactory(
        patient=world.same_clinic_patient, date=TODAY + timedelta(days=50), status=SessionStatus.BOOKED
    )
    billing = world.users["billing"]
    listing = worklist(user=billing, today=TODAY)
    row = _rows(listing)["Same"]
    end = TODAY + timedelta(days=40)
    assert row.approval == ApprovalLine(ApprovalStatus.IN_FORCE, end, end, booking_uncovered=booking.date)
    assert row.approval.status not in NEEDS_ATTENTION
    assert row.approval.needs_attention
    assert listing.needs_attention == 1
    assert _names(worklist(user=billing, today=TODAY, approval="needs_attention")) == {"Same"}

    booking.date = TODAY + timedelta(days=30)
    booking.save()  # (saved, so the cached pathway learns of it)
    assert _rows(worklist(user=billing, today=TODAY))["Same"].approval.booking_uncovered is None
    booking.date = TODAY + timedelta(days=50)
    booking.save()
    later = _authorisation(world.same_clinic_patient, requested=1, start=41, end=220, stage="continuation")
    assert not _rows(worklist(user=billing, today=TODAY))["Same"].approval.needs_attention
    later.delete()
    insurance.policy_id = "nice-ta260"
    insurance.save()
    assert _rows(worklist(user=billing, today=TODAY))["Same"].approval.booking_uncovered is None
    insurance.delete()
    assert _rows(worklist(user=billing, today=TODAY))["Same"].approval.booking_uncovered is None


def test_a_booking_is_not_billings_to_cover_while_a_stop_is_suggested_or_decided():
    """With no approval at all, a booking under a commercial policy is flagged in every state with a session ahead,
    and not while NICE TA260 suggests stopping or a clinician stopped treatment (no session should be asked for until
    a clinician decides: ``REQUEST_DUE_STATES``), nor without insurance."""
    nothing = ApprovalStates({}, ApprovalAnswers(frozenset(), {}), {})
    booked = TODAY + timedelta(days=10)

    def flagged(state, policy="us-commercial-a"):
        return booking_uncovered(nothing, 1, policy, SiteOfService.OFFICE, state, booked)

    assert flagged(PathwayState.BOOKED) == flagged(PathwayState.DUE) == flagged(PathwayState.ON_TREATMENT) == booked
    assert flagged(PathwayState.STOP_SUGGESTED) is None
    assert flagged(PathwayState.TREATMENT_STOPPED) is None
    assert flagged(PathwayState.BOOKED, policy=None) is None
