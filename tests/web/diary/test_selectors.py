"""Reading diaries (onaboard/web/diary/selectors.py): the portal's own record, days and gaps, audited reads."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from onaboard.clinical import PERIOD_DAYS, PatientDiary
from onaboard.web.audit.models import Action, AuditEvent
from onaboard.web.coverage.selectors import NextSession
from onaboard.web.diary.selectors import (
    chart_periods,
    diary_day_read,
    diary_history,
    next_treatment_read,
    patient_diary,
)
from onaboard.web.injections.models import SessionStatus
from tests.web.clinic.diaries import TODAY as CHART_TODAY
from tests.web.clinic.diaries import chronic_rows, course_rows, diary_of, store
from tests.web.factories import DiaryEntryFactory, InjectionSessionFactory

TODAY = date(2026, 3, 2)


def test_reading_a_day_is_audited(world):
    """diary_day_read returns the row (or None) and records who read which day."""
    entry = DiaryEntryFactory(patient=world.own_patient, date=TODAY)
    assert diary_day_read(user=world.users["patient"], patient=world.own_patient, day=TODAY) == entry
    assert diary_day_read(user=world.users["patient"], patient=world.own_patient, day=TODAY - timedelta(1)) is None
    reads = AuditEvent.objects.filter(action=Action.READ, object_type="diary_entry")
    assert sorted(reads.values_list("detail", flat=True)) == ["2026-03-01", "2026-03-02"]


def test_history_lists_every_day_newest_first_with_gaps(world):
    """Period 1 has 28 rows from today back; unrecorded days carry no entry and no classification."""
    DiaryEntryFactory(
        patient=world.own_patient,
        date=TODAY - timedelta(days=2),
        headache_hours=Decimal(6),
        intensity="severe",
        nausea=True,
        unilateral=True,
    )
    history = diary_history(user=world.users["patient"], patient=world.own_patient, today=TODAY)
    assert [row.date for row in history.rows[:3]] == [TODAY, TODAY - timedelta(1), TODAY - timedelta(2)]
    assert len(history.rows) == 28
    recorded = [row for row in history.rows if row.entry is not None]
    assert len(recorded) == 1
    assert recorded[0].day_class.migraine
    assert all(row.day_class is None for row in history.rows if row.entry is None)
    assert (history.number, history.last_number, history.period.days_recorded) == (1, 1, 1)


def test_history_periods_reach_back_to_the_first_row(world):
    """A diary begun 60 days ago has three periods; asking for more gives the oldest."""
    DiaryEntryFactory(patient=world.own_patient, date=TODAY - timedelta(days=60))
    history = diary_history(user=world.users["patient"], patient=world.own_patient, today=TODAY, number=5)
    assert (history.number, history.last_number) == (3, 3)
    assert history.period.start == TODAY - timedelta(days=83)
    assert len(history.chart_periods) == 3


def test_the_oldest_period_never_begins_before_the_calendar(world):
    """A day on 0001-01-01 (stored before birth dates were checked) gives an oldest period that starts on or after
    it instead of failing; the periods stay 28 days laid back from today."""
    DiaryEntryFactory(patient=world.own_patient, date=date.min)
    history = diary_history(user=world.users["patient"], patient=world.own_patient, today=TODAY, number=10**6)
    assert history.number == history.last_number
    assert date.min <= history.period.start < date.min + timedelta(days=PERIOD_DAYS)
    assert (TODAY - history.period.start).days % PERIOD_DAYS == PERIOD_DAYS - 1


def test_the_chart_marks_booked_and_recorded_sessions_but_not_cancelled(world):
    """Sessions for the chart are the patient's booked and recorded ones, in date order."""
    patient = world.own_patient
    InjectionSessionFactory(patient=patient, date=TODAY - timedelta(days=30), status=SessionStatus.RECORDED)
    InjectionSessionFactory(patient=patient, date=TODAY + timedelta(days=54), status=SessionStatus.BOOKED)
    InjectionSessionFactory(patient=patient, date=TODAY - timedelta(days=10), status=SessionStatus.CANCELLED)
    InjectionSessionFactory(patient=world.same_clinic_patient, date=TODAY, status=SessionStatus.RECORDED)
    history = diary_history(user=world.users["patient"], patient=patient, today=TODAY)
    assert [(s.date, s.recorded) for s in history.sessions] == [
        (TODAY - timedelta(days=30), True),
        (TODAY + timedelta(days=54), False),
    ]


def test_reading_the_history_is_audited(world):
    """Each history read leaves one audit event naming the period."""
    diary_history(user=world.users["patient"], patient=world.own_patient, today=TODAY)
    event = AuditEvent.objects.get(action=Action.READ, object_type="diary")
    assert event.patient_id == world.own_patient.external_id
    assert event.detail == "history 2026-02-03..2026-03-02"


# --- chart_periods: one rule for the patient's chart and the clinician's ----------------------------------------


def test_before_treatment_the_chart_lays_periods_back_from_today():
    """Untreated, the chart shows the 28-day periods ending today, back to the first diary day."""
    periods = chart_periods(diary_of(chronic_rows(periods=2)), first_injection=None, today=CHART_TODAY)
    assert [p.end for p in periods] == [CHART_TODAY - timedelta(days=PERIOD_DAYS), CHART_TODAY]
    assert [p.headache_days for p in periods] == [18, 18]


def test_once_treated_the_chart_follows_the_engines_treatment_periods():
    """Treated, the chart holds earlier periods, the baseline and the periods after the first injection."""
    day0 = CHART_TODAY - timedelta(days=40)
    periods = chart_periods(diary_of(chronic_rows(periods=4)), first_injection=day0, today=CHART_TODAY)
    starts = [p.start for p in periods]
    assert day0 - timedelta(days=PERIOD_DAYS) in starts
    assert day0 in starts
    assert day0 + timedelta(days=PERIOD_DAYS) in starts
    assert starts == sorted(starts)
    assert all(not p.missing for p in periods)


def test_an_empty_diary_has_no_chart_periods():
    """No diary, nothing to chart."""
    assert chart_periods(PatientDiary("P", ()), first_injection=None, today=CHART_TODAY) == ()


def test_the_history_charts_the_periods_from_the_first_injection(world):
    """Once treated, "my chart" has ``chart_periods``' periods (the baseline the 28 days before the first recorded
    session, then periods from it, as on the clinician's page), and the day-by-day pages are those periods, each
    with its bar's counts: page 1 the period holding today (running past it, its days listed up to today), page 2
    the one before, page 3 the baseline. Before, the pages were laid back from today and matched no bar."""
    day0 = TODAY - timedelta(days=40)
    store(world.own_patient, course_rows(day0, 20, 6, (3, 13)), today=TODAY)
    InjectionSessionFactory(patient=world.own_patient, date=day0, status=SessionStatus.RECORDED)
    InjectionSessionFactory(patient=world.own_patient, date=TODAY + timedelta(days=60), status=SessionStatus.BOOKED)
    history = diary_history(user=world.users["patient"], patient=world.own_patient, today=TODAY)
    assert history.chart_periods == chart_periods(
        patient_diary(world.own_patient, until=TODAY), first_injection=day0, today=TODAY
    )
    assert [(p.start, p.headache_days) for p in history.chart_periods] == [
        (day0 - timedelta(days=PERIOD_DAYS), 20),
        (day0, 6),
        (day0 + timedelta(days=PERIOD_DAYS), 3),
    ]
    assert (history.period.start, history.period.headache_days, history.running) == (
        day0 + timedelta(days=PERIOD_DAYS),
        3,
        True,
    )
    assert [row.date for row in history.rows] == [TODAY - timedelta(days=i) for i in range(13)]
    assert history.last_number == 3
    pages = [
        diary_history(user=world.users["patient"], patient=world.own_patient, today=TODAY, number=n) for n in (2, 3, 4)
    ]
    assert [(page.period.start, page.period.headache_days, page.running) for page in pages] == [
        (day0, 6, False),
        (day0 - timedelta(days=PERIOD_DAYS), 20, False),
        (day0 - timedelta(days=PERIOD_DAYS), 20, False),  # clamped to the oldest
    ]
    assert len(pages[0].rows) == PERIOD_DAYS


def test_the_history_before_treatment_ends_on_today(world):
    """Before treatment the pages are laid back from today, as the chart's bars are: page 1 is today and the 27
    days before it, none running."""
    store(world.own_patient, course_rows(TODAY - timedelta(days=50), 20, 6), today=TODAY)
    history = diary_history(user=world.users["patient"], patient=world.own_patient, today=TODAY)
    assert (history.period.start, history.period.end, history.running) == (
        TODAY - timedelta(days=PERIOD_DAYS - 1),
        TODAY,
        False,
    )
    assert history.rows[0].date == TODAY
    assert len(history.rows) == PERIOD_DAYS
    assert history.last_number == 3  # the first row is 78 days before today


def test_reading_the_next_treatment_is_audited(world):
    """next_treatment_read gives the open booking and records who read the patient's next treatment."""
    booked = TODAY + timedelta(days=6)
    InjectionSessionFactory(patient=world.own_patient, date=booked, status=SessionStatus.BOOKED)
    found = next_treatment_read(user=world.users["patient"], patient=world.own_patient, today=TODAY)
    assert (found.date, found.kind) == (booked, NextSession.BOOKED)
    event = AuditEvent.objects.get(action=Action.READ, detail="next treatment")
    assert (event.patient_id, event.user) == (world.own_patient.external_id, world.users["patient"])
