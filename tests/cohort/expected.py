"""The engine's answers for a cohort directory: every treated patient's assessments and outcomes, computed by
``onaboard.clinical`` from the same Parquet files the cohort rules read, in plain dicts the tests compare."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from onaboard.clinical import (
    DEFAULT_PERIODS,
    PERIOD_DAYS,
    WEEK24_PERIOD,
    Assessment,
    Outcomes,
    PatientDiary,
    PeriodSummary,
    assess,
    treatment_outcomes,
)
from onaboard.cohort.tables import patient_diaries

Results = dict[str, dict[str, Any]]
"""Per part (``first_injection``, ``baseline_period``, ``week24``, ``last_day``, ``outcomes``), per patient id, the
values compared."""

Cohort = tuple[dict[str, PatientDiary], dict[str, list[date]], dict[str, date | None]]
"""A cohort directory read for the engine: diaries, injection dates and birth dates by patient id."""


def _engine_period(period: PeriodSummary) -> dict[str, Any]:
    return {
        "index": period.index,
        "start": period.start,
        "end": period.end,
        "days_recorded": period.days_recorded,
        "complete": period.complete,
        "missing": period.missing,
        "headache_days": period.headache_days,
        "headache_days_4h": period.headache_days_4h,
        "migraine_days": period.migraine_days,
        **period.acute_medication_days.as_dict(),
        "overuse_class_days": period.overuse_class_days,
    }


def _engine_assessment(result: Assessment) -> dict[str, Any]:
    return {
        "as_of": result.as_of,
        "migraine_attacks": result.migraine_attacks,
        "chronic_migraine": result.chronic_migraine.verdict.value,
        "medication_overuse": result.medication_overuse.verdict.value,
        "classes": list(result.medication_overuse.classes),
        "label_criteria": result.label_criteria.verdict.value,
        "age_years": result.age_years,
        "periods": [_engine_period(period) for period in result.periods],
    }


def _tenths(value: Any) -> int | None:
    return None if value is None else int(value * 10)


def _engine_outcomes(result: Outcomes) -> dict[str, Any]:
    week24 = result.week24
    periods = [_engine_period(result.baseline)]
    for change in result.periods:
        periods.append(
            {
                **_engine_period(change.period),
                "change": change.change_headache_days,
                "percent_tenths": _tenths(change.percent_change_headache_days),
            }
        )
    periods[0] |= {"change": 0, "percent_tenths": None if result.baseline.headache_days == 0 else 0}
    return {
        "periods": periods,
        "week24_available": week24.available,
        "week24_headache_days": week24.headache_days,
        "week24_percent_tenths": _tenths(week24.percent_change),
        "responder_50": week24.responder_50,
        "responder_30": week24.responder_30,
        "onset_period": None if result.onset is None else result.onset.period.index,
        "week4_change": None if result.week4 is None else result.week4.change_headache_days,
        "reverted_to_episodic": result.nice_ta260.reverted_to_episodic,
        "nice_ta260": result.nice_ta260.verdict.value,
        "last_period": max((c.period.index for c in result.periods if c.period.days_recorded), default=0),
    }


def read_for_engine(directory: Path) -> Cohort:
    """The cohort's diaries, injection dates and birth dates, as the engine takes them."""
    diaries = {diary.patient_id: diary for diary in patient_diaries(pq.read_table(directory / "diary.parquet"))}
    injections: dict[str, list[date]] = {}
    for row in pq.read_table(directory / "sessions.parquet").to_pylist():
        injections.setdefault(row["patient_id"], []).append(row["session_date"])
    births = {row["patient_id"]: row["birth_date"] for row in pq.read_table(directory / "patients.parquet").to_pylist()}
    return diaries, injections, births


def engine_cohort_on_day(cohort: Cohort, as_of: date) -> Cohort:
    """The cohort as it stood at the end of ``as_of``, as the engine would have read it then: diary days and
    injections up to the day (the day included, as ``patient_diary(until=today)`` reads it), and only the patients
    injected by then."""
    diaries, injections, births = cohort
    cut = {
        patient_id: PatientDiary(patient_id, tuple(day for day in diary.days if day.date <= as_of))
        for patient_id, diary in diaries.items()
    }
    given = {patient_id: kept for patient_id, dates in injections.items() if (kept := [d for d in dates if d <= as_of])}
    return cut, given, births


def engine_outcomes(cohort: Cohort, *, as_of: date) -> dict[str, dict[str, Any]]:
    """Every treated patient's outcomes from ``treatment_outcomes(..., as_of=as_of)``: the periods that ended
    before ``as_of`` alone are judged."""
    diaries, injections, _ = cohort
    return {
        patient_id: _engine_outcomes(
            treatment_outcomes(diaries.get(patient_id, PatientDiary(patient_id, ())), injections=dates, as_of=as_of)
        )
        for patient_id, dates in injections.items()
    }


def engine_results(directory: Path) -> Results:
    """Every patient's assessments and outcomes computed by ``onaboard.clinical`` from the cohort's files."""
    diaries, injections, births = read_for_engine(directory)
    results: Results = {"first_injection": {}, "week24": {}, "last_day": {}, "outcomes": {}, "baseline_period": {}}
    for patient_id, dates in injections.items():
        diary = diaries.get(patient_id, PatientDiary(patient_id, ()))
        day0 = min(dates)
        birth = births.get(patient_id)
        for name, as_of in (
            ("first_injection", day0 - timedelta(days=1)),
            ("week24", day0 + timedelta(days=PERIOD_DAYS * WEEK24_PERIOD - 1)),
        ):
            result = assess(diary, as_of=as_of, periods=DEFAULT_PERIODS, birth_date=birth)
            results[name][patient_id] = _engine_assessment(result)
        baseline = assess(diary, as_of=day0 - timedelta(days=1), periods=1, birth_date=birth)
        results["baseline_period"][patient_id] = _engine_assessment(baseline)
        if diary.days:
            last = assess(diary, periods=DEFAULT_PERIODS, birth_date=birth)
            results["last_day"][patient_id] = _engine_assessment(last)
        results["outcomes"][patient_id] = _engine_outcomes(treatment_outcomes(diary, injections=dates))
    return results
