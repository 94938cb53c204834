"""Confidence intervals for the cohort report: Wilson score intervals for proportions, Student's t ones for means,
and the Kaplan-Meier cumulative share with its interval for time to response.

Computed in Python from the counts, means and standard deviations the backend aggregated: a handful of numbers
per figure, never per-patient data. Every interval stays inside what is possible: Wilson's and the Kaplan-Meier
log-log interval inside 0..100 %, a mean's cut at the bounds its caller gives (``mean_interval``), and no mean
gets one from fewer than ``MEAN_INTERVAL_MIN_N`` values.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from statistics import NormalDist

__all__ = [
    "CONFIDENCE",
    "MEAN_INTERVAL_MIN_N",
    "Interval",
    "cumulative_incidence",
    "mean_interval",
    "overlaps",
    "stated_interval",
    "t_quantile",
    "wilson_interval",
]

CONFIDENCE = 0.95
"""Every interval in the report is a 95 % interval."""

_Z = NormalDist().inv_cdf(1 - (1 - CONFIDENCE) / 2)


@dataclass(frozen=True, slots=True)
class Interval:
    """A point estimate and its 95 % interval (all None when there is no data)."""

    estimate: float | None
    low: float | None
    high: float | None


def wilson_interval(successes: int, total: int) -> Interval:
    """The proportion ``successes / total`` and its 95 % Wilson score interval, as fractions (0..1).

    Wilson (J Am Stat Assoc 1927;22:209-212): unlike the Wald interval it stays inside 0..1 and keeps close to its
    nominal coverage for small counts and proportions near 0 or 1, as adverse-event rates are.
    """
    if total < 0 or not 0 <= successes <= total:
        raise ValueError(f"need 0 <= successes <= total (got {successes} of {total})")
    if total == 0:
        return Interval(None, None, None)
    p = successes / total
    z2 = _Z * _Z
    centre = (p + z2 / (2 * total)) / (1 + z2 / total)
    half = _Z * math.sqrt(p * (1 - p) / total + z2 / (4 * total * total)) / (1 + z2 / total)
    return Interval(p, max(0.0, centre - half), min(1.0, centre + half))


T_DEGREES_OF_FREEDOM = "need at least 1 degree of freedom (got {df})"
T_PROBABILITY = "need 0.5 <= probability < 1 (got {probability})"
EVENTS_OVER_AT_RISK = "need 0 <= events <= at risk (got {events} of {at_risk})"
BETA_NOT_CONVERGED = "incomplete beta fraction did not converge (a={a}, b={b}, x={x})"

_BETA_TINY = 1e-300
"""Lentz's guard against a zero denominator in the continued fraction."""
_BETA_EPSILON = 1e-15
_BETA_MAX_TERMS = 100_000
"""The continued fraction needs about sqrt(a) terms (Numerical Recipes 6.4); a = df / 2 of a million patients needs
well under a thousand."""
_BISECTION_STEPS = 200


def _beta_fraction(a: float, b: float, x: float) -> float:
    """The continued fraction of the incomplete beta function, by the modified Lentz method (Press et al.,
    Numerical Recipes, 3rd ed., 6.4, ``betacf``); converges fast for ``x < (a + 1) / (a + b + 2)``."""
    c, d = 1.0, 1.0 - (a + b) * x / (a + 1.0)
    d = 1.0 / (d if abs(d) > _BETA_TINY else _BETA_TINY)
    result = d
    for m in range(1, _BETA_MAX_TERMS):
        for numerator in (
            m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m)),
            -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1)),
        ):
            d = 1.0 + numerator * d
            d = 1.0 / (d if abs(d) > _BETA_TINY else _BETA_TINY)
            c = 1.0 + numerator / c
            c = c if abs(c) > _BETA_TINY else _BETA_TINY
            step = c * d
            result *= step
        if abs(step - 1.0) < _BETA_EPSILON:
            return result
    raise ArithmeticError(BETA_NOT_CONVERGED.format(a=a, b=b, x=x))


def _regularized_beta(a: float, b: float, x: float) -> float:
    """The regularized incomplete beta function I_x(a, b) (Numerical Recipes 6.4, ``betai``)."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    log_front = math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x)
    if x < (a + 1.0) / (a + b + 2.0):
        return math.exp(log_front) * _beta_fraction(a, b, x) / a
    return 1.0 - math.exp(log_front) * _beta_fraction(b, a, 1.0 - x) / b


def _t_upper_tail(t: float, df: int) -> float:
    """P(T > t) for Student's t with ``df`` degrees of freedom and t >= 0: I_{df / (df + t^2)}(df / 2, 1 / 2) / 2
    (Abramowitz and Stegun 26.7.1 with 26.5.27)."""
    return _regularized_beta(df / 2.0, 0.5, df / (df + t * t)) / 2.0


def t_quantile(probability: float, df: int) -> float:
    """The ``probability`` quantile of Student's t distribution with ``df`` degrees of freedom (0.5 <= probability
    < 1), found by bisection on the distribution function computed from the regularized incomplete beta function.

    For 0.975: 12.706 at 1 degree of freedom, 4.303 at 2, 2.228 at 10, 2.042 at 30, and 1.960 in the limit (any
    table of t); scipy is not a dependency, and a handful of quantiles per report cost nothing.
    """
    if df < 1:
        raise ValueError(T_DEGREES_OF_FREEDOM.format(df=df))
    if not 0.5 <= probability < 1:
        raise ValueError(T_PROBABILITY.format(probability=probability))
    tail = 1.0 - probability
    low, high = 0.0, 1.0
    while _t_upper_tail(high, df) > tail:
        low, high = high, 2 * high
    for _ in range(_BISECTION_STEPS):
        middle = (low + high) / 2
        if middle in (low, high):
            break
        if _t_upper_tail(middle, df) > tail:
            low = middle
        else:
            high = middle
    return (low + high) / 2


MEAN_INTERVAL_MIN_N = 3
"""The fewest values a mean gets an interval for. With 2 the t interval has one degree of freedom (t = 12.706): it
is mean +/- 9 standard deviations, longer than any possible range for a handful of headache-day counts (period 5
of the demo clinic: -9.0, -97.9 to 79.9 days in 28), and a standard deviation from two values says nothing about
the spread it stands for. From 3 values (t = 4.303) the interval is shown, cut at the possible range."""


def mean_interval(
    mean: float | None, sd: float | None, n: int, *, bounds: tuple[float, float] | None = None
) -> Interval:
    """A mean and its 95 % interval ``mean +/- t sd / sqrt(n)``, t being Student's 0.975 quantile with n - 1
    degrees of freedom (a clinic's handful of patients gets the wider interval it needs; 1.96 in the limit).

    No interval for fewer than ``MEAN_INTERVAL_MIN_N`` values. ``bounds`` is the range the mean cannot leave (a
    change in headache days over a 28-day period lies in -28..+28): an interval end beyond it is cut there. The
    true mean lies inside the bounds, so the cut interval holds it whenever the uncut one did (the same 95 %
    coverage) and claims nothing impossible; an end on a bound says the data cannot narrow it on that side.
    """
    if mean is None or n == 0:
        return Interval(None, None, None)
    if n < MEAN_INTERVAL_MIN_N or sd is None:
        return Interval(mean, None, None)
    half = t_quantile(1 - (1 - CONFIDENCE) / 2, n - 1) * sd / math.sqrt(n)
    low, high = mean - half, mean + half
    if bounds is not None:
        low, high = max(low, bounds[0]), min(high, bounds[1])
    return Interval(mean, low, high)


def cumulative_incidence(steps: Sequence[tuple[int, int]]) -> list[Interval]:
    """The Kaplan-Meier cumulative share with the event after each step, as fractions (0..1) with 95 % intervals.

    ``steps`` holds, per time in order, the patients at risk (followed up to that time without the event) and the
    events then. The share is 1 - S, S = prod (1 - d / n) (Kaplan and Meier, J Am Stat Assoc 1958;53:457-481), so
    patients followed for a shorter time count for as long as they were followed instead of as patients without
    the event. The interval is the log-log one on Greenwood's variance (Kalbfleisch and Prentice, The Statistical
    Analysis of Failure Time Data, 2nd ed., 4.3), which stays inside 0..1; none while S is 1 or 0 (no event yet,
    or everyone at risk had it), where that interval is not defined.
    """
    survival, greenwood, result = 1.0, 0.0, []
    for at_risk, events in steps:
        if not 0 <= events <= at_risk:
            raise ValueError(EVENTS_OVER_AT_RISK.format(events=events, at_risk=at_risk))
        if at_risk:
            survival *= 1 - events / at_risk
            greenwood += events / (at_risk * (at_risk - events)) if events < at_risk else math.inf
        if 0.0 < survival < 1.0:
            log_survival = math.log(survival)
            width = _Z * math.sqrt(greenwood) / abs(log_survival)
            low, high = 1 - survival ** math.exp(-width), 1 - survival ** math.exp(width)
            result.append(Interval(1 - survival, low, high))
        else:
            result.append(Interval(1 - survival, None, None))
    return result


def stated_interval(value: float) -> tuple[float, float]:
    """The values a published figure stands for at the precision it is printed with: plus or minus half its last
    digit. The label's whole percentages (``2``) stand for 1.5 to 2.5, PREEMPT's ``-8.4`` days for -8.45 to -8.35;
    a figure is never taken as more precise than a whole number (``10`` is 9.5 to 10.5, not 5 to 15).

    The digits are the figure's shortest decimal text (``repr``), so ``2.0`` read from a file as a float is the
    label's ``2``."""
    exponent = Decimal(repr(float(value))).normalize().as_tuple().exponent
    half = 5 * 10.0 ** (min(int(exponent), 0) - 1)
    return value - half, value + half


def overlaps(low: float | None, high: float | None, published: tuple[float, float]) -> bool | None:
    """Whether the interval ``low..high`` and the published figure's ``published`` (``stated_interval``, or a
    range's ends widened the same way) have a value in common; None without an interval."""
    if low is None or high is None:
        return None
    return published[0] <= high and low <= published[1]
