"""Confidence intervals for the cohort report: Wilson score intervals for proportions, normal ones for means.

Computed in Python from the counts, means and standard deviations the backend aggregated: a handful of numbers
per figure, never per-patient data.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist

__all__ = ["CONFIDENCE", "Interval", "mean_interval", "wilson_interval"]

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


def mean_interval(mean: float | None, sd: float | None, n: int) -> Interval:
    """A mean and its 95 % normal interval ``mean +/- z sd / sqrt(n)`` (no interval for fewer than 2 values)."""
    if mean is None or n == 0:
        return Interval(None, None, None)
    if n < 2 or sd is None:
        return Interval(mean, None, None)
    half = _Z * sd / math.sqrt(n)
    return Interval(mean, mean - half, mean + half)
