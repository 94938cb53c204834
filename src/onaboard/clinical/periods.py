"""28-day periods: laid backwards from an assessment date, or forwards from the first injection.

PREEMPT counted "a month" as a 28-day period (Dodick et al., Headache 2010;50:921-936: 28-day baseline, outcomes
per 28-day period, primary endpoint the period ending at week 24), and so does the diary contract
(shared/spec/diary-csv.md, "Periods"). Counts are never pro-rated: a period with too few recorded days is
*incomplete* and verdicts say so instead of guessing.
"""

from __future__ import annotations

import calendar
from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from onaboard.clinical.days import DayClass
from onaboard.clinical.diary import AcuteClass

__all__ = [
    "MIN_RECORDED_DAYS",
    "OVERUSE_CLASSES",
    "PERIOD_DAYS",
    "AcuteDays",
    "PeriodSummary",
    "months_before",
    "periods_before",
    "summarise_period",
    "treatment_periods",
]

PERIOD_DAYS = 28
"""Days in one period: PREEMPT's 28-day "month" (Dodick et al. 2010)."""

MIN_RECORDED_DAYS = 20
"""A period is complete when at least 20 of its 28 days have a diary row (diary contract, "Periods")."""

OVERUSE_CLASSES: tuple[AcuteClass, ...] = (
    AcuteClass.TRIPTAN,
    AcuteClass.ERGOT,
    AcuteClass.SIMPLE_ANALGESIC,
    AcuteClass.COMBINATION_ANALGESIC,
    AcuteClass.OPIOID,
)
"""The acute-medication classes ICHD-3 8.2 counts (8.2.1-8.2.5); gepants, ditans and others are not counted."""


@dataclass(frozen=True, slots=True)
class AcuteDays:
    """Days in a period on which each acute-medication class was taken; ``any`` counts days with any class."""

    triptan: int = 0
    ergot: int = 0
    simple_analgesic: int = 0
    combination_analgesic: int = 0
    opioid: int = 0
    gepant: int = 0
    ditan: int = 0
    other: int = 0
    any: int = 0

    def of(self, acute_class: AcuteClass) -> int:
        """Days on which this class was taken."""
        return int(getattr(self, acute_class.value))

    def as_dict(self) -> dict[str, int]:
        """The eight classes in contract order, then ``any``."""
        return {**{cls.value: self.of(cls) for cls in AcuteClass}, "any": self.any}


@dataclass(frozen=True, slots=True)
class PeriodSummary:
    """Counts for one 28-day period.

    ``index`` is 1 for the most recent period before an assessment date, or k for the k-th period after the first
    injection (0 for the baseline). ``missing`` means the period ends before the patient's first diary row.
    ``overuse_class_days`` counts days with at least one of the five classes ICHD-3 8.2 counts (for 8.2.6).
    """

    index: int
    start: date
    end: date
    days_recorded: int
    headache_days: int
    headache_days_4h: int
    migraine_days: int
    acute_medication_days: AcuteDays
    overuse_class_days: int
    missing: bool

    @property
    def complete(self) -> bool:
        """At least 20 of 28 days recorded (diary contract)."""
        return self.days_recorded >= MIN_RECORDED_DAYS

    @property
    def span(self) -> str:
        """``start..end`` as people read it in a reason."""
        return f"{self.start.isoformat()}..{self.end.isoformat()}"

    @property
    def label(self) -> str:
        """``period 2 (2026-01-05..2026-02-01)`` or ``baseline (…)``: how reasons name the period."""
        name = "baseline" if self.index == 0 else f"period {self.index}"
        return f"{name} ({self.span})"


def summarise_period(
    days: Sequence[DayClass], *, index: int, start: date, first_recorded: date | None
) -> PeriodSummary:
    """Count one period from the classified days that fall inside it (the caller slices them)."""
    end = start + timedelta(days=PERIOD_DAYS - 1)
    per_class = dict.fromkeys(AcuteClass, 0)
    headache = headache_4h = migraine = any_acute = overuse_days = 0
    for day in days:
        headache += day.headache
        headache_4h += day.headache_4h
        migraine += bool(day.migraine_routes)
        if day.acute_medication:
            any_acute += 1
            for acute_class in day.acute_medication:
                per_class[acute_class] += 1
            overuse_days += any(cls in day.acute_medication for cls in OVERUSE_CLASSES)
    return PeriodSummary(
        index=index,
        start=start,
        end=end,
        days_recorded=len(days),
        headache_days=headache,
        headache_days_4h=headache_4h,
        migraine_days=migraine,
        acute_medication_days=AcuteDays(**{cls.value: n for cls, n in per_class.items()}, any=any_acute),
        overuse_class_days=overuse_days,
        missing=first_recorded is None or end < first_recorded,
    )


class _Window:
    """Classified days in date order, sliced by date range in O(log n)."""

    def __init__(self, days: Sequence[DayClass]) -> None:
        self.days = days
        self.dates = [day.date for day in days]
        self.first = self.dates[0] if self.dates else None

    def period(self, *, index: int, start: date) -> PeriodSummary:
        end = start + timedelta(days=PERIOD_DAYS - 1)
        inside = self.days[bisect_left(self.dates, start) : bisect_right(self.dates, end)]
        return summarise_period(inside, index=index, start=start, first_recorded=self.first)


def periods_before(days: Sequence[DayClass], *, as_of: date, count: int) -> tuple[PeriodSummary, ...]:
    """The ``count`` periods ending on ``as_of`` (inclusive), index 1 the most recent (diary contract).

    Period 1 is ``as_of-27 .. as_of``, period 2 the 28 days before it, and so on. ``days`` must be in date
    order; days after ``as_of`` fall outside every period.
    """
    if count < 1:
        raise ValueError(f"count must be at least 1 (got {count})")
    window = _Window(days)
    first_start = as_of - timedelta(days=PERIOD_DAYS - 1)
    return tuple(
        window.period(index=i, start=first_start - timedelta(days=PERIOD_DAYS * (i - 1))) for i in range(1, count + 1)
    )


def treatment_periods(days: Sequence[DayClass], *, day0: date) -> tuple[PeriodSummary, tuple[PeriodSummary, ...]]:
    """The baseline (days -28..-1) and periods 1..K after the first injection (day 0).

    Period k covers days 28(k-1) .. 28k-1 (diary contract, "Periods"); K is the last period holding a diary
    row (it may be incomplete). Week 24 is period 6 (days 140..167), as in PREEMPT.
    """
    window = _Window(days)
    baseline = window.period(index=0, start=day0 - timedelta(days=PERIOD_DAYS))
    last = window.dates[-1] if window.dates else None
    count = (last - day0).days // PERIOD_DAYS + 1 if last is not None and last >= day0 else 0
    after = tuple(
        window.period(index=k, start=day0 + timedelta(days=PERIOD_DAYS * (k - 1))) for k in range(1, count + 1)
    )
    return baseline, after


def months_before(day: date, months: int) -> date:
    """The same day ``months`` calendar months earlier, clamped to the end of a shorter month (2026-05-31 and 3
    give 2026-02-28): the label's 3-month dose interval (``cycles.cumulative_window``) and MIDAS's 3-month recall
    (``prom.recall_first_day``)."""
    index = day.year * 12 + (day.month - 1) - months
    year, month_zero = divmod(index, 12)
    last_day = calendar.monthrange(year, month_zero + 1)[1]
    return date(year, month_zero + 1, min(day.day, last_day))
