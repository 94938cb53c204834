"""Reading diaries (onaboard/web/diary/selectors.py): the portal's own record, days and gaps, audited reads."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from onaboard.clinical import PERIOD_DAYS
from onaboard.web.audit.models import Action, AuditEvent
from onaboard.web.diary.selectors import diary_day_read, diary_history
from onaboard.web.injections.models import SessionStatus
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
