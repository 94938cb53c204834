"""Reading diaries: stored rows turned into the engine's values, and the pages' reads (each one audited)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from onaboard.clinical import (
    PERIOD_DAYS,
    WEEK24_PERIOD,
    AcuteClass,
    DayClass,
    DiaryDay,
    Intensity,
    PatientDiary,
    PeriodSummary,
    classify_days,
    periods_before,
    treatment_periods,
)
from onaboard.web.audit.models import Action
from onaboard.web.audit.services import audit_record
from onaboard.web.common.charts import SessionMark
from onaboard.web.diary.models import DiaryEntry
from onaboard.web.injections.models import ACTIVE_STATUSES, InjectionSession, SessionStatus
from onaboard.web.patients.models import Patient

if TYPE_CHECKING:
    from onaboard.web.coverage.selectors import NextTreatment

MAX_CHART_PERIODS = 13
"""At most a year of 28-day periods before treatment on the chart (the table under it lists the same numbers)."""


_INTENSITY = {intensity.value: intensity for intensity in Intensity}


@lru_cache(maxsize=512)
def _acute_classes(stored: str) -> frozenset[AcuteClass]:
    """The stored ``;``-separated classes as engine values (cached: a clinic's rows repeat few combinations)."""
    return frozenset(AcuteClass(c) for c in stored.split(";") if c)


def diary_day_of(entry: DiaryEntry, patient_key: str) -> DiaryDay:
    """The engine's value for one stored row."""
    return DiaryDay(
        patient_id=patient_key,
        date=entry.date,
        headache_hours=entry.headache_hours,
        intensity=_INTENSITY.get(entry.intensity),
        unilateral=entry.unilateral,
        pulsating=entry.pulsating,
        worse_with_activity=entry.worse_with_activity,
        nausea=entry.nausea,
        vomiting=entry.vomiting,
        photophobia=entry.photophobia,
        phonophobia=entry.phonophobia,
        aura=entry.aura,
        acute_medication=_acute_classes(entry.acute_medication),
        acute_relief=entry.acute_relief,
        believed_migraine=entry.believed_migraine,
        notes=entry.notes,
    )


def patient_diary(patient: Patient, *, until: date | None = None) -> PatientDiary:
    """The patient's whole diary (up to ``until``) as the engine reads it; the patient id is the public UUID."""
    entries = DiaryEntry.objects.filter(patient=patient).order_by("date")
    if until is not None:
        entries = entries.filter(date__lte=until)
    key = str(patient.external_id)
    return PatientDiary(key, tuple(diary_day_of(entry, key) for entry in entries))


def diary_entry_on(patient: Patient, day: date) -> DiaryEntry | None:
    return DiaryEntry.objects.filter(patient=patient, date=day).first()


def diary_day_read(*, user: Any, patient: Patient, day: date) -> DiaryEntry | None:
    """The patient's row for ``day`` (None when not recorded); the read is audited."""
    entry = diary_entry_on(patient, day)
    audit_record(
        user=user,
        action=Action.READ,
        object_type="diary_entry",
        object_id=entry.external_id if entry else "",
        patient_id=patient.external_id,
        detail=day.isoformat(),
    )
    return entry


@dataclass(frozen=True, slots=True)
class DiaryDayRow:
    """One calendar day of a period: its stored row and the engine's reading of it, or a gap (both None)."""

    date: date
    entry: DiaryEntry | None
    day_class: DayClass | None


def chart_periods(diary: PatientDiary, *, first_injection: date | None, today: date) -> tuple[PeriodSummary, ...]:
    """The 28-day periods to chart, oldest first: laid back from today before treatment; once treated, the engine's
    baseline and periods from the first injection, with up to a year of periods before the baseline. Periods wholly
    before the first diary day are left out. The one rule for the clinician's patient page and the patient's own
    chart, so both show the periods (and the counts) the letters and the worklist's reasons use."""
    if not diary.days:
        return ()
    classified = classify_days(diary.days)
    first_day = diary.days[0].date
    if first_injection is None:
        count = min(MAX_CHART_PERIODS, math.ceil(((today - first_day).days + 1) / PERIOD_DAYS))
        periods = periods_before(classified, as_of=today, count=max(count, 1))
    else:
        baseline, after = treatment_periods(classified, day0=first_injection)
        earlier_end = baseline.start - timedelta(days=1)
        earlier: tuple[PeriodSummary, ...] = ()
        if first_day <= earlier_end:
            count = min(MAX_CHART_PERIODS, math.ceil(((earlier_end - first_day).days + 1) / PERIOD_DAYS))
            earlier = periods_before(classified, as_of=earlier_end, count=count)
        periods = (*earlier, baseline, *after)
    return tuple(sorted((period for period in periods if not period.missing), key=lambda period: period.start))


@dataclass(frozen=True, slots=True)
class DiaryHistory:
    """One 28-day period of a diary, day by day, and the periods and sessions for the chart (``chart_periods``: from
    the first injection once treated). The pages are the chart's periods (``latest_period_start``), so each page is one
    bar: laid back from today before treatment, counted from the first injection once treated."""

    number: int
    """1 for the period holding today, 2 for the 28 days before it, and so on."""
    last_number: int
    """The oldest period holding a diary row (1 when the diary is empty), or the oldest that begins on or after
    0001-01-01 when that one would begin before the calendar (a row in its first days is then in no period)."""
    period: PeriodSummary
    rows: tuple[DiaryDayRow, ...]
    """Every day of the period up to today, newest first; days without a row are gaps."""
    running: bool
    """Whether the period runs past today (the period holding today, once treated): its counts are so far."""
    chart_periods: tuple[PeriodSummary, ...]
    first_injection: date | None
    """The first recorded session (the chart's periods are counted from it), None before treatment."""
    sessions: tuple[SessionMark, ...]
    next_treatment: NextTreatment | None
    """The patient's next treatment (``next_treatment_of``)."""
    recent: bool = False
    """Whether the period is running or ended less than 28 days ago: days the patient may still remember."""
    index: int | None = None
    """Once treated, the period's place as the clinic counts it (``treatment_periods``): 0 the baseline, k period k
    after the first injection (``WEEK24_PERIOD`` is week 24), None before the baseline or before treatment."""

    @property
    def gaps(self) -> int:
        """The days of the page up to today with no row."""
        return sum(1 for row in self.rows if row.entry is None)

    @property
    def is_week24(self) -> bool:
        return self.index == WEEK24_PERIOD


def _sessions_of(patient: Patient) -> tuple[SessionMark, ...]:
    sessions = InjectionSession.objects.filter(patient=patient, status__in=ACTIVE_STATUSES).order_by("date")
    return tuple(SessionMark(s.date, recorded=s.status == SessionStatus.RECORDED) for s in sessions)


def _first_injection(sessions: tuple[SessionMark, ...], *, today: date) -> date | None:
    """The first session recorded on or before ``today`` (the engine's day 0), else None."""
    return next((s.date for s in sessions if s.recorded and s.date <= today), None)


def next_treatment_of(patient: Patient, *, today: date) -> NextTreatment | None:
    """The patient's next treatment as the after-care sheet names it (``coverage.selectors.next_treatment``): the
    open booking, else once treated the engine's next due date after the last session, from when the clinic will
    book it (``DUE_SINCE`` once that day has passed: the patient is asked to contact the clinic). None before
    treatment with nothing booked, and, unless a session is booked all the same, when NICE TA260 suggests stopping
    (the worklist's "stop suggested": whether there is a next one is then for the clinician and the patient to
    decide) or a clinician has decided to stop (the worklist's "treatment stopped"): the portal promises none."""
    # coverage.selectors and clinic.selectors read diaries through this module, so they are imported when called.
    from onaboard.web.clinic.selectors import PathwayState, patient_pathway_state
    from onaboard.web.coverage.selectors import NextSession, next_treatment

    sessions = _sessions_of(patient)
    found = next_treatment(
        (s.date for s in sessions if s.recorded), (s.date for s in sessions if not s.recorded), today=today
    )
    if found is None or found.kind is NextSession.BOOKED:
        return found
    no_promise = (PathwayState.STOP_SUGGESTED, PathwayState.TREATMENT_STOPPED)
    if patient_pathway_state(patient, today).state in no_promise:
        return None
    return found


def next_treatment_read(*, user: Any, patient: Patient, today: date) -> NextTreatment | None:
    """``next_treatment_of`` for the portal's Today page; the read is audited."""
    found = next_treatment_of(patient, today=today)
    audit_record(
        user=user,
        action=Action.READ,
        object_type="patient",
        object_id=patient.external_id,
        patient_id=patient.external_id,
        detail="next treatment",
    )
    return found


def latest_period_start(*, today: date, first_injection: date | None) -> date:
    """The first day of the 28-day period holding ``today`` on the chart's grid (``chart_periods``): ``today`` and
    the 27 days before it before treatment; once treated, the period of the engine's grid counted from the first
    injection (its baseline, or period k of ``treatment_periods``) that holds today, which may run past today."""
    if first_injection is None:
        return today - timedelta(days=PERIOD_DAYS - 1)
    return first_injection + timedelta(days=PERIOD_DAYS * ((today - first_injection).days // PERIOD_DAYS))


def diary_history(*, user: Any, patient: Patient, today: date, number: int = 1) -> DiaryHistory:
    """Period ``number`` (clamped to the periods that exist) of the chart's grid (``latest_period_start``: laid back
    from ``today`` before treatment, counted from the first injection once treated, so each page is one of the
    chart's bars with the same counts), summarised by the engine, and the chart's periods (``chart_periods``, as on
    the clinician's page); audited."""
    diary = patient_diary(patient, until=today)
    classified = classify_days(diary.days)
    sessions = _sessions_of(patient)
    first_injection = _first_injection(sessions, today=today)
    latest = latest_period_start(today=today, first_injection=first_injection)
    first = diary.first_date
    last_number = -(-(latest - first).days // PERIOD_DAYS) + 1 if first is not None and first < latest else 1
    # The oldest period may not begin before the calendar does (a day in the first weeks of year 1 would have it).
    last_number = max(1, min(last_number, (latest - date.min).days // PERIOD_DAYS + 1))
    number = min(max(number, 1), last_number)
    start = latest - timedelta(days=PERIOD_DAYS * (number - 1))
    end = start + timedelta(days=PERIOD_DAYS - 1)
    (period,) = periods_before(classified, as_of=end, count=1)
    shown_to = min(end, today)  # the days of a running period still to come are not listed
    entries = {e.date: e for e in DiaryEntry.objects.filter(patient=patient, date__range=(period.start, shown_to))}
    classes = {c.date: c for c in classified if period.start <= c.date <= shown_to}
    rows = tuple(
        DiaryDayRow(day, entries.get(day), classes.get(day))
        for day in (shown_to - timedelta(days=i) for i in range((shown_to - period.start).days + 1))
    )
    audit_record(
        user=user,
        action=Action.READ,
        object_type="diary",
        object_id=patient.external_id,
        patient_id=patient.external_id,
        detail=f"history {period.span}",
    )
    return DiaryHistory(
        number=number,
        last_number=last_number,
        period=period,
        rows=rows,
        running=end > today,
        recent=end > today - timedelta(days=PERIOD_DAYS),
        index=None
        if first_injection is None or start < first_injection - timedelta(days=PERIOD_DAYS)
        else (start - first_injection).days // PERIOD_DAYS + 1,
        chart_periods=chart_periods(diary, first_injection=first_injection, today=today),
        first_injection=first_injection,
        sessions=sessions,
        next_treatment=next_treatment_of(patient, today=today),
    )


def saved_times(patient: Patient, *, start: date, end: date) -> dict[date, datetime]:
    """When each of the patient's diary rows from ``start`` to ``end`` was last saved, by day: the API's day
    ``version`` (``diary.services.loaded_token``'s part after the date)."""
    rows = DiaryEntry.objects.filter(patient=patient, date__range=(start, end)).values_list("date", "modified")
    return dict(rows)
