"""Confidence intervals: Wilson score intervals for proportions and normal intervals for means."""

from __future__ import annotations

import pytest

from onaboard.cohort.stats import mean_interval, wilson_interval


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


def test_mean_interval_is_mean_plus_or_minus_z_standard_errors() -> None:
    """A mean of 10 with SD 2 over 16 values has the interval 10 +/- 1.96 * 0.5."""
    interval = mean_interval(10.0, 2.0, 16)
    assert interval.low == pytest.approx(10 - 1.959964 * 0.5)
    assert interval.high == pytest.approx(10 + 1.959964 * 0.5)


def test_a_single_value_has_a_mean_but_no_interval() -> None:
    """One value gives its mean and no interval; no values give nothing."""
    assert mean_interval(3.0, None, 1).estimate == 3.0
    assert mean_interval(3.0, None, 1).low is None
    assert mean_interval(None, None, 0).estimate is None
