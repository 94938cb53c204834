"""Confidence intervals: Wilson score intervals for proportions and Student's t intervals for means."""

from __future__ import annotations

import re

import pytest

from onaboard.cohort.stats import (
    EVENTS_OVER_AT_RISK,
    MEAN_INTERVAL_MIN_N,
    T_DEGREES_OF_FREEDOM,
    T_PROBABILITY,
    Interval,
    cumulative_incidence,
    mean_interval,
    overlaps,
    stated_interval,
    t_quantile,
    wilson_interval,
)


@pytest.mark.parametrize(
    ("successes", "total", "low", "high"),
    [
        (0, 10, 0.0, 0.2775),
        (5, 10, 0.2366, 0.7634),
        (10, 10, 0.7225, 1.0),
        (81, 263, 0.2553, 0.3662),
    ],
)
def test_wilson_interval_matches_published_values(successes: int, total: int, low: float, high: float) -> None:
    """The 95 % Wilson interval equals the textbook values (Newcombe, Stat Med 1998, table I, to 4 places)."""
    interval = wilson_interval(successes, total)
    assert interval.estimate == pytest.approx(successes / total)
    assert interval.low == pytest.approx(low, abs=5e-5)
    assert interval.high == pytest.approx(high, abs=5e-5)


def test_a_proportion_without_a_denominator_has_no_interval() -> None:
    """0 of 0 has no estimate and no interval."""
    interval = wilson_interval(0, 0)
    assert (interval.estimate, interval.low, interval.high) == (None, None, None)


def test_impossible_counts_are_refused() -> None:
    """More successes than trials is an error."""
    with pytest.raises(ValueError, match="successes"):
        wilson_interval(3, 2)


def test_mean_interval_is_mean_plus_or_minus_t_standard_errors() -> None:
    """A mean of 10 with SD 2 over 16 values has the interval 10 +/- t(0.975, 15) * 0.5, t being 2.131."""
    interval = mean_interval(10.0, 2.0, 16)
    assert interval.low == pytest.approx(10 - 2.131450 * 0.5)
    assert interval.high == pytest.approx(10 + 2.131450 * 0.5)


def test_three_values_get_the_wide_interval_of_two_degrees_of_freedom() -> None:
    """Three values of SD 1 have the half-width 4.303 / sqrt(3), not the normal 1.96 / sqrt(3)."""
    interval = mean_interval(0.0, 1.0, 3)
    assert interval.high == pytest.approx(4.302653 / 3**0.5)


def test_two_values_get_a_mean_and_no_interval() -> None:
    """Two values give their mean and no interval: one degree of freedom makes it mean +/- 9 SD, wider than any
    possible range (the demo clinic's -9.0 days with -97.9 to 79.9 in a 28-day period)."""
    assert MEAN_INTERVAL_MIN_N == 3
    assert mean_interval(-9.0, 9.9, 2) == Interval(-9.0, None, None)


def test_an_interval_is_cut_at_the_possible_range() -> None:
    """A mean change of -9 days with SD 9.9 over 3 patients (t interval -33.6 to 15.6) is cut at -28 days, the most
    a 28-day period can lose; the other end is kept."""
    interval = mean_interval(-9.0, 9.9, 3, bounds=(-28.0, 28.0))
    assert interval.low == -28.0
    assert interval.high == pytest.approx(-9.0 + 4.302653 * 9.9 / 3**0.5)


def test_an_interval_inside_the_possible_range_is_not_changed() -> None:
    """Bounds the interval does not reach leave it as Student's t gives it."""
    assert mean_interval(10.0, 2.0, 16, bounds=(0.0, 28.0)) == mean_interval(10.0, 2.0, 16)


@pytest.mark.parametrize(
    ("df", "quantile"),
    [(1, 12.706205), (2, 4.302653), (3, 3.182446), (10, 2.228139), (30, 2.042272), (100, 1.983972)],
)
def test_t_quantile_matches_the_t_table(df: int, quantile: float) -> None:
    """Student's 0.975 quantile equals the t table's value to 6 places."""
    assert t_quantile(0.975, df) == pytest.approx(quantile, abs=1e-6)


def test_t_quantile_tends_to_the_normal_one() -> None:
    """With a million degrees of freedom the 0.975 quantile is the normal 1.959964; other levels work too."""
    assert t_quantile(0.975, 1_000_000) == pytest.approx(1.959964, abs=1e-5)
    assert t_quantile(0.995, 5) == pytest.approx(4.032143, abs=1e-6)
    assert t_quantile(0.5, 3) == pytest.approx(0.0, abs=1e-9)


def test_t_quantile_refuses_what_has_no_quantile() -> None:
    """No degrees of freedom, or a probability outside 0.5..1, is an error."""
    with pytest.raises(ValueError, match=f"^{re.escape(T_DEGREES_OF_FREEDOM.format(df=0))}$"):
        t_quantile(0.975, 0)
    with pytest.raises(ValueError, match=f"^{re.escape(T_PROBABILITY.format(probability=1.0))}$"):
        t_quantile(1.0, 3)


def test_a_single_value_has_a_mean_but_no_interval() -> None:
    """One value gives its mean and no interval; no values give nothing."""
    assert mean_interval(3.0, None, 1).estimate == 3.0
    assert mean_interval(3.0, None, 1).low is None
    assert mean_interval(None, None, 0).estimate is None


def test_cumulative_incidence_is_one_minus_the_kaplan_meier_survival() -> None:
    """10 at risk with 2 events, then 8 with none, then 6 with 3: 20 %, 20 %, 60 % (1 - 0.8 x 0.5), each with the
    log-log Greenwood interval (for the first: 0.8 ** exp(+/-1.96 sqrt(2 / 80) / -ln 0.8), 5.41 % to 59.13 %)."""
    shares = cumulative_incidence([(10, 2), (8, 0), (6, 3)])
    assert [share.estimate for share in shares] == pytest.approx([0.2, 0.2, 0.6])
    assert (shares[0].low, shares[0].high) == pytest.approx((0.054127, 0.591309), abs=1e-6)
    assert shares[1] == shares[0]
    assert shares[2].low < 0.6 < shares[2].high


def test_cumulative_incidence_has_no_interval_at_0_or_100_percent() -> None:
    """No event yet (0 %) or every patient at risk with the event (100 %) has an estimate and no interval."""
    assert cumulative_incidence([(5, 0), (5, 5)]) == [Interval(0.0, None, None), Interval(1.0, None, None)]


def test_cumulative_incidence_refuses_more_events_than_patients_at_risk() -> None:
    """More events than patients at risk is an error naming both."""
    with pytest.raises(ValueError, match=f"^{re.escape(EVENTS_OVER_AT_RISK.format(events=3, at_risk=2))}$"):
        cumulative_incidence([(2, 3)])


def test_a_published_figure_stands_for_the_values_its_printed_digits_allow() -> None:
    """The label's whole 2 % stands for 1.5-2.5 %, PREEMPT's -8.4 days for -8.45 to -8.35; a whole number is never
    widened past half a unit (10 is 9.5-10.5)."""
    assert stated_interval(2.0) == (1.5, 2.5)
    assert stated_interval(10.0) == (9.5, 10.5)
    assert stated_interval(-8.4) == pytest.approx((-8.45, -8.35))
    assert stated_interval(44.8) == pytest.approx((44.75, 44.85))


def test_an_interval_overlapping_the_stated_figure_holds_it() -> None:
    """An interval from 2.03 holds the label's 2 (1.5-2.5); one from 2.6 does not; without an interval, no verdict."""
    assert overlaps(2.03, 3.4, stated_interval(2.0)) is True
    assert overlaps(2.6, 3.4, stated_interval(2.0)) is False
    assert overlaps(None, 3.4, stated_interval(2.0)) is None
