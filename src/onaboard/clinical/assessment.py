"""A patient's eligibility assessment: the periods before a date and the three verdicts over them.

This composes the rules of days.py, periods.py and verdicts.py in the order shared/spec/cli.md (``assess``)
gives; it adds no rule of its own.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from datetime import date, timedelta

from onaboard.clinical.days import classify_days
from onaboard.clinical.diary import PatientDiary
from onaboard.clinical.periods import PeriodSummary, periods_before
from onaboard.clinical.safety import age_in_years
from onaboard.clinical.verdicts import (
    CONDITION_PERIODS,
    ChronicMigraine,
    LabelCriteria,
    MedicationOveruse,
    Verdict,
    chronic_migraine_verdict,
    label_criteria_verdict,
    medication_overuse_verdict,
)

__all__ = ["DEFAULT_PERIODS", "Assessment", "assess", "eligibility_day"]

DEFAULT_PERIODS = CONDITION_PERIODS
"""The periods ``assess`` judges unless asked for another number: ICHD-3 1.3's "for more than 3 months" as the
verdicts read it (``verdicts.CONDITION_PERIODS``, three complete 28-day periods; shared/spec/cli.md)."""


def eligibility_day(*, first_session: date | None, today: date, birth_date: date | None = None) -> date:
    """The day a patient's eligibility is assessed on: ``today`` before treatment; after it, the day before the
    first session (what the decision to treat rested on), but never before ``birth_date``, which ``assess``
    refuses (a first session on the birth date: the record allows that day, so it is assessed on it)."""
    if first_session is None:
        return today
    day = first_session - timedelta(days=1)
    return max(day, birth_date) if birth_date is not None else day


@dataclass(frozen=True, slots=True)
class Assessment:
    """Eligibility of one patient on ``as_of``: periods (index 1 the most recent) and verdicts with reasons."""

    patient_id: str
    as_of: date
    age_years: int | None
    """The age on the day it is judged on: ``assess``'s ``age_on``, else ``as_of``."""
    periods: tuple[PeriodSummary, ...]
    migraine_attacks: int
    chronic_migraine: Verdict[ChronicMigraine]
    medication_overuse: Verdict[MedicationOveruse]
    label_criteria: Verdict[LabelCriteria]


def assess(
    diary: PatientDiary,
    *,
    as_of: date | None = None,
    periods: int = DEFAULT_PERIODS,
    birth_date: date | None = None,
    age_on: date | None = None,
) -> Assessment:
    """Judge one patient on ``as_of`` (default: their last diary date); rows after ``as_of`` are left out.

    ``migraine_attacks`` counts ICHD-3 1.3 B attack days over the whole diary up to ``as_of``. The age (the label's
    "adult patients") is judged on ``age_on`` when given, else on ``as_of``: a treated patient's diary is judged up
    to the day before the first session (``eligibility_day``), but their age on the day they were treated, so a
    patient first treated on their 18th birthday is not called 17 by the label while the safety screen of that
    very session says 18.
    """
    if periods < 1:
        raise ValueError(f"periods must be at least 1 (got {periods})")
    if as_of is None:
        if not diary.days:
            raise ValueError(f"patient {diary.patient_id} has no diary rows and no assessment date was given")
        as_of = diary.days[-1].date
    upto = diary.days[: bisect_right([day.date for day in diary.days], as_of)]
    classified = classify_days(upto)
    summaries = periods_before(classified, as_of=as_of, count=periods)
    attacks = sum(day.attack for day in classified)
    age_day = age_on or as_of
    age = age_in_years(birth_date, age_day) if birth_date is not None else None
    chronic = chronic_migraine_verdict(summaries, attacks=attacks)
    return Assessment(
        patient_id=diary.patient_id,
        as_of=as_of,
        age_years=age,
        periods=summaries,
        migraine_attacks=attacks,
        chronic_migraine=chronic,
        medication_overuse=medication_overuse_verdict(summaries),
        label_criteria=label_criteria_verdict(summaries, chronic_migraine=chronic, age_years=age, as_of=age_day),
    )
