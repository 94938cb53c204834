"""28-day periods (shared/spec/diary-csv.md "Periods")."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given

from onaboard.clinical.days import classify_days
from onaboard.clinical.periods import periods_before, treatment_periods
from tests.clinical.factories import make_day, period_days, span
from tests.clinical.strategies import patient_days

AS_OF = date(2026, 3, 1)


def test_periods_are_laid_back_from_as_of_inclusive():
    """Period 1 is as_of-27..as_of, period 2 the 28 days before it, and so on."""
    days = classify_days([make_day(d, 0) for d in span(date(2025, 12, 1), 91)])
    p1, p2, p3 = periods_before(days, as_of=AS_OF, count=3)
    assert (p1.index, p1.start, p1.end) == (1, date(2026, 2, 2), date(2026, 3, 1))
    assert (p2.start, p2.end) == (date(2026, 1, 5), date(2026, 2, 1))
    assert (p3.start, p3.end) == (date(2025, 12, 8), date(2026, 1, 4))
    assert p2.label == "period 2 (2026-01-05..2026-02-01)"


@pytest.mark.parametrize(("recorded", "complete"), [(19, False), (20, True), (28, True)])
def test_a_period_is_complete_from_20_recorded_days(recorded, complete):
    """At least 20 of 28 days with a row make a period complete; 19 do not."""
    start = AS_OF - timedelta(days=27)
    (period,) = periods_before(classify_days(period_days(start, recorded=recorded)), as_of=AS_OF, count=1)
    assert period.days_recorded == recorded
    assert period.complete is complete


def test_a_period_ending_before_the_first_row_is_missing():
    """A period that ends before the first diary row is missing; one that only starts before it is not."""
    days = classify_days([make_day(d, 1) for d in span(date(2026, 1, 20), 41)])
    p1, p2, p3 = periods_before(days, as_of=AS_OF, count=3)
    assert not p1.missing
    assert not p2.missing
    assert p3.missing
    assert (p2.days_recorded, p2.complete) == (13, False)


def test_counts_per_period():
    """Headache, 4-hour, migraine and acute-medication days are counted per period."""
    start = AS_OF - timedelta(days=27)
    days = period_days(start, headache=20, migraine=9, hours=5, acute_medication=["triptan", "gepant"])
    days[-1] = make_day(days[-1].date, 2, acute_medication=["simple_analgesic"])
    (period,) = periods_before(classify_days(days), as_of=AS_OF, count=1)
    assert (period.headache_days, period.headache_days_4h, period.migraine_days) == (21, 20, 9)
    acute = period.acute_medication_days.as_dict()
    assert acute == {
        "triptan": 20, "ergot": 0, "simple_analgesic": 1, "combination_analgesic": 0, "opioid": 0,
        "gepant": 20, "ditan": 0, "other": 0, "any": 21,
    }  # fmt: skip
    assert period.overuse_class_days == 21


def test_treatment_periods_start_on_day_0_with_the_baseline_before():
    """The baseline is days -28..-1; period k is days 28(k-1)..28k-1; K is the last period holding a row."""
    day0 = date(2026, 1, 1)
    days = classify_days([make_day(d, 1) for d in span(day0 - timedelta(days=28), 28 + 57)])
    baseline, after = treatment_periods(days, day0=day0)
    assert (baseline.index, baseline.start, baseline.end) == (0, date(2025, 12, 4), date(2025, 12, 31))
    assert baseline.label == "baseline (2025-12-04..2025-12-31)"
    assert [(p.index, p.start, p.end) for p in after] == [
        (1, date(2026, 1, 1), date(2026, 1, 28)),
        (2, date(2026, 1, 29), date(2026, 2, 25)),
        (3, date(2026, 2, 26), date(2026, 3, 25)),
    ]
    assert after[-1].days_recorded == 1


def test_no_rows_after_day_0_means_no_periods():
    """With no diary row on or after the first injection there is no period after treatment."""
    days = classify_days([make_day(d, 1) for d in span(date(2025, 12, 1), 10)])
    _, after = treatment_periods(days, day0=date(2026, 1, 1))
    assert after == ()


@given(patient_days(max_days=150))
def test_periods_never_count_more_than_they_hold(days):
    """In any period: migraine <= headache <= recorded <= 28 and 4-hour days <= headache days."""
    classified = classify_days(days)
    as_of = days[-1].date if days else date(2026, 1, 1)
    for period in periods_before(classified, as_of=as_of, count=5):
        assert period.migraine_days <= period.headache_days <= period.days_recorded <= 28
        assert period.headache_days_4h <= period.headache_days
        assert period.acute_medication_days.any <= period.days_recorded
