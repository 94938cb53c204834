"""Patients for the coverage tests, built with the real engine: diaries of 28-day periods run through ``assess`` and
``treatment_outcomes``, prior preventive trials, and the ``CoverageEvidence`` that carries them.

A ``Period`` describes one 28-day period by its counts; the days that realise it are known by hand: migraine days
first (6 hours with migraine features: a headache day, a 4-hour day, a migraine day and an ICHD-3 1.3 B attack;
3 hours when ``short_migraine``: a migraine day but neither a 4-hour day nor an attack), then plain 4-hour headache
days, then 2-hour headache days, then headache-free days, up to ``recorded`` rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from onaboard.clinical.assessment import assess
from onaboard.clinical.coverage import CoverageEvidence, PreventiveClass, PreventiveTrial, StopReason
from onaboard.clinical.diary import DiaryDay, PatientDiary
from onaboard.clinical.outcomes import treatment_outcomes
from onaboard.clinical.periods import PERIOD_DAYS
from tests.clinical.factories import diary, make_day, migraine_day, span

TODAY = date(2026, 11, 28)
"""The request date of every evaluation."""

AS_OF = date(2026, 11, 27)
"""The baseline assessment date: period 1 is 2026-10-31..2026-11-27."""

BIRTH = date(1980, 5, 17)
"""A 46-year-old on TODAY."""

PLANNED = date(2026, 12, 1)
"""The planned first session."""

DAY0 = date(2026, 5, 18)
"""The first injection of a treated patient; period 6 (week 24) ends 2026-11-01."""

CYCLE_DAYS = 84


@dataclass(frozen=True)
class Period:
    """Counts for one 28-day period (see the module docstring for the days that realise them)."""

    headache: int = 20
    migraine: int = 12
    headache_4h: int | None = None
    short_migraine: bool = False
    triptan_days: int = 0
    recorded: int = PERIOD_DAYS
    hours: int = 6


MODEL = Period()
"""20 headache days, all lasting 4 hours or more, 12 of them migraine days: chronic migraine by ICHD-3 and the label."""

NO_ATTACKS = Period(headache=27, migraine=12, headache_4h=15, short_migraine=True)
"""Headache, migraine and 4-hour day counts above every shipped threshold, but no migraine attack (ICHD-3 1.3 B)."""


def period_rows(start: date, period: Period) -> list[DiaryDay]:
    """The diary days realising ``period`` from ``start``."""
    headache_4h = period.headache if period.headache_4h is None else period.headache_4h
    migraine_4h = 0 if period.short_migraine else period.migraine
    plain_4h = headache_4h - migraine_4h
    assert 0 <= plain_4h <= period.headache - period.migraine
    assert period.triptan_days <= period.headache <= period.recorded <= PERIOD_DAYS
    rows = []
    for index, day in enumerate(span(start, period.recorded)):
        fields: dict[str, Any] = {"acute_medication": ["triptan"]} if index < period.triptan_days else {}
        if index < period.migraine:
            rows.append(migraine_day(day, 3 if period.short_migraine else period.hours, **fields))
        elif index < period.migraine + plain_4h:
            rows.append(make_day(day, period.hours, **fields))
        elif index < period.headache:
            rows.append(make_day(day, 2, **fields))
        else:
            rows.append(make_day(day, 0))
    return rows


def baseline_diary(periods: Sequence[Period]) -> PatientDiary:
    """A diary of ``periods`` laid backwards from AS_OF: the first is period 1, the most recent."""
    days = []
    for index, period in enumerate(periods, start=1):
        days += period_rows(AS_OF - timedelta(days=PERIOD_DAYS * index - 1), period)
    return diary(days)


def trial(drug: str, drug_class: PreventiveClass, dose: str, start: date, days: int, reason: StopReason):
    """A trial of ``days`` days from ``start``: its stop date is the last day taken, counted in its length."""
    return PreventiveTrial(drug, drug_class, dose, start, start + timedelta(days=days - 1), reason)


def model_trials(days: int = 90) -> tuple[PreventiveTrial, ...]:
    """Four ineffective trials of ``days`` days, one after another, each of a different class."""
    plan = [
        ("topiramate", PreventiveClass.ANTICONVULSANT, "100 mg"),
        ("propranolol", PreventiveClass.BETA_BLOCKER, "80 mg"),
        ("amitriptyline", PreventiveClass.TRICYCLIC_ANTIDEPRESSANT, "25 mg"),
        ("erenumab", PreventiveClass.CGRP_MAB, "140 mg"),
    ]
    start = date(2024, 1, 8)
    trials = []
    for drug, drug_class, dose in plan:
        trials.append(trial(drug, drug_class, dose, start, days, StopReason.INEFFECTIVE))
        start += timedelta(days=days + 14)
    return tuple(trials)


INTRACTABLE_CODE = "G43.719"
"""Chronic migraine without aura, intractable, without status migrainosus (ICD-10-CM)."""

NOT_INTRACTABLE_CODE = "G43.709"
"""Chronic migraine without aura, not intractable, without status migrainosus (ICD-10-CM)."""


def initial_evidence(
    periods: Sequence[Period] = (MODEL, MODEL, MODEL), *, birth_date: date | None = BIRTH, **fields: Any
) -> CoverageEvidence:
    """A patient asking for a first approval: the baseline diary assessed on AS_OF, four failed preventives, no CGRP
    antibody, 155 U planned on PLANNED, no previous session, and the request coded as intractable chronic migraine
    (``INTRACTABLE_CODE``); ``fields`` override any evidence field."""
    assessment = assess(baseline_diary(periods), as_of=AS_OF, periods=len(periods), birth_date=birth_date)
    evidence = CoverageEvidence(
        birth_date=birth_date,
        assessment=assessment,
        preventive_trials=model_trials(),
        current_cgrp_mab=(),
        planned_units=155,
        planned_date=PLANNED,
        diagnosis_code=INTRACTABLE_CODE,
    )
    return replace(evidence, **fields)


RESPONDER = (Period(16, 10),) * 5 + (Period(10, 6),)
"""Periods 1-6 after the first injection: 16 headache days, then 10 (6 migraine days) at week 24."""

NON_RESPONDER = (Period(16, 10),) * 5 + (Period(19, 12, hours=10),)
"""Periods 1-6: 19 headache days (12 migraine days, 10 hours each) at week 24."""

BASELINE = Period(hours=10)
"""The baseline of a treated patient: 20 headache days of 10 hours (200 hours), 12 migraine days."""


def treated_diary(after: Sequence[Period], baseline: Period = BASELINE) -> PatientDiary:
    """The baseline (days -28..-1) and periods 1..len(after) from DAY0."""
    days = period_rows(DAY0 - timedelta(days=PERIOD_DAYS), baseline)
    for index, period in enumerate(after, start=1):
        days += period_rows(DAY0 + timedelta(days=PERIOD_DAYS * (index - 1)), period)
    return diary(days)


def headache_hours(patient: PatientDiary, periods: int) -> dict[int, Decimal]:
    """Hours of headache per period from the diary itself: 0 = the baseline, k = period k."""
    hours = {}
    for index in range(periods + 1):
        start = DAY0 + timedelta(days=PERIOD_DAYS * (index - 1))
        end = start + timedelta(days=PERIOD_DAYS - 1)
        hours[index] = sum((day.headache_hours for day in patient.days if start <= day.date <= end), Decimal(0))
    return hours


def continuation_evidence(
    after: Sequence[Period] = RESPONDER,
    *,
    cycles: int = 2,
    baseline: Period = BASELINE,
    **fields: Any,
) -> CoverageEvidence:
    """A treated patient asking to continue: ``cycles`` sessions 84 days apart from DAY0, the outcomes of the diary,
    its headache hours, the prescriber's report of benefit, 155 U planned 84 days after the last session."""
    patient = treated_diary(after, baseline)
    injections = [DAY0 + timedelta(days=CYCLE_DAYS * index) for index in range(cycles)]
    evidence = CoverageEvidence(
        birth_date=BIRTH,
        outcomes=treatment_outcomes(patient, injections=injections),
        current_cgrp_mab=(),
        planned_units=155,
        planned_date=injections[-1] + timedelta(days=CYCLE_DAYS),
        headache_hours=headache_hours(patient, len(after)),
        prescriber_attests_benefit=True,
    )
    return replace(evidence, **fields)
