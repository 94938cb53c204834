"""Template context shared by every page: the navigation the signed-in user may use, and the engine's numbers that
pages state in words."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from django.http import HttpRequest

from onaboard.clinical.assessment import DEFAULT_PERIODS
from onaboard.clinical.outcomes import RESPONDER_30_PERCENT, RESPONDER_50_PERCENT, WEEK24_PERIOD
from onaboard.clinical.periods import MIN_RECORDED_DAYS, PERIOD_DAYS

DAYS_PER_WEEK = 7


def navigation(request: HttpRequest) -> dict[str, object]:
    user = getattr(request, "user", None)
    role = getattr(user, "role", None) if user is not None and user.is_authenticated else None
    return {"nav_role": role}


RULE_NUMBERS: Mapping[str, int] = MappingProxyType(
    {
        "period_days": PERIOD_DAYS,
        "min_recorded_days": MIN_RECORDED_DAYS,
        "baseline_periods": DEFAULT_PERIODS,
        "week24_period": WEEK24_PERIOD,
        "week24_week": WEEK24_PERIOD * PERIOD_DAYS // DAYS_PER_WEEK,
        "responder_50": RESPONDER_50_PERCENT,
        "responder_30": RESPONDER_30_PERCENT,
    }
)
"""The engine's numbers that pages state in words ("12 of 28 days recorded", "Week 24 (period 6)", "50 %
responder"), so a template writes ``{{ rules.period_days }}`` and never retypes a rule's number."""


def rules(request: HttpRequest) -> dict[str, object]:
    """``rules``: ``RULE_NUMBERS`` on every page."""
    return {"rules": RULE_NUMBERS}
