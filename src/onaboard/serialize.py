"""JSON shapes of the engine's results, as the command's contract fixes them (shared/spec/cli.md).

The command line, and later the API and exports, call these so one result has one JSON form. Keys the contract
names are always present; a few more are added where a clinician or a program needs them (the contract allows
added keys, never removed ones).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from onaboard.clinical.assessment import Assessment
from onaboard.clinical.cycles import IntervalCheck, ScheduleStatus
from onaboard.clinical.outcomes import Outcomes, PeriodChange, Week24
from onaboard.clinical.periods import PeriodSummary
from onaboard.clinical.preempt import InjectionPlan
from onaboard.clinical.prom import Hit6Result, MidasResult
from onaboard.clinical.verdicts import Verdict

__all__ = [
    "assessment_json",
    "hit6_json",
    "interval_json",
    "midas_json",
    "outcomes_json",
    "period_json",
    "plan_json",
    "schedule_json",
    "verdict_json",
]

Json = dict[str, Any]


def _iso(day: date | None) -> str | None:
    return None if day is None else day.isoformat()


def _number(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


def period_json(period: PeriodSummary) -> Json:
    """PERIOD: counts for one 28-day period."""
    return {
        "index": period.index,
        "start": period.start.isoformat(),
        "end": period.end.isoformat(),
        "days_recorded": period.days_recorded,
        "complete": period.complete,
        "missing": period.missing,
        "headache_days": period.headache_days,
        "headache_days_4h": period.headache_days_4h,
        "migraine_days": period.migraine_days,
        "acute_medication_days": period.acute_medication_days.as_dict(),
    }


def verdict_json(verdict: Verdict[Any], *, with_classes: bool = False) -> Json:
    """``{"verdict", "reasons"}`` (and ``classes`` for medication overuse)."""
    shaped: Json = {"verdict": verdict.verdict.value}
    if with_classes:
        shaped["classes"] = list(verdict.classes)
    shaped["reasons"] = list(verdict.reasons)
    return shaped


def assessment_json(assessment: Assessment) -> Json:
    """PATIENT of ``onaboard assess``."""
    return {
        "patient_id": assessment.patient_id,
        "as_of": assessment.as_of.isoformat(),
        "age_years": assessment.age_years,
        "periods": [period_json(period) for period in assessment.periods],
        "migraine_attacks": assessment.migraine_attacks,
        "chronic_migraine": verdict_json(assessment.chronic_migraine),
        "medication_overuse": verdict_json(assessment.medication_overuse, with_classes=True),
        "label_criteria": verdict_json(assessment.label_criteria),
    }


def period_change_json(change: PeriodChange) -> Json:
    """One period after treatment with its change against the baseline."""
    return {
        **period_json(change.period),
        "change_headache_days": change.change_headache_days,
        "percent_change_headache_days": _number(change.percent_change_headache_days),
    }


def _week24_json(week24: Week24) -> Json:
    return {
        "available": week24.available,
        "headache_days": week24.headache_days,
        "percent_change": _number(week24.percent_change),
        "responder_50": week24.responder_50,
        "responder_30": week24.responder_30,
    }


def outcomes_json(outcomes: Outcomes) -> Json:
    """One patient of ``onaboard outcomes``."""
    return {
        "patient_id": outcomes.patient_id,
        "first_injection": outcomes.first_injection.isoformat(),
        "injections": [day.isoformat() for day in outcomes.injections],
        "baseline": period_json(outcomes.baseline),
        "periods": [period_change_json(change) for change in outcomes.periods],
        "week4": None if outcomes.week4 is None else period_change_json(outcomes.week4),
        "onset_period": None if outcomes.onset is None else outcomes.onset.period.index,
        "week24": _week24_json(outcomes.week24),
        "nice_ta260": {
            "verdict": outcomes.nice_ta260.verdict.value,
            "reasons": list(outcomes.nice_ta260.reasons),
            "reverted_to_episodic": outcomes.nice_ta260.reverted_to_episodic,
        },
    }


def plan_json(plan: InjectionPlan) -> Json:
    """``onaboard plan``: sites, totals, per-muscle doses, reconstitution, vials and wastage."""
    reconstitution = plan.reconstitution
    return {
        "sites": [
            {
                "muscle": site.muscle.value,
                "side": site.side.value,
                "units": site.units,
                "volume_ml": float(site.volume_ml),
                "follow_the_pain": site.follow_the_pain,
            }
            for site in plan.sites
        ],
        "total_units": plan.total_units,
        "site_count": plan.site_count,
        "by_muscle": {
            muscle.value: {"sites": dose.sites, "units": dose.units} for muscle, dose in plan.by_muscle.items()
        },
        "reconstitution": {
            "vial_units": reconstitution.vial_units,
            "saline_ml": float(reconstitution.saline_ml),
            "units_per_0_1_ml": reconstitution.units_per_0_1_ml,
        },
        "vials": plan.vials,
        "discarded_units": plan.discarded_units,
        "billing_modifier": plan.billing_modifier.value,
        "billing": [
            {"code": line.code, "modifier": line.modifier.value if line.modifier else None, "units": line.units}
            for line in plan.billing_lines
        ],
    }


def schedule_json(status: ScheduleStatus, *, today: date) -> Json:
    """``onaboard schedule``: where the patient stands against the 12-week cycle."""
    return {
        "today": today.isoformat(),
        "status": status.status.value,
        "cycle_number": status.cycle_number,
        "last_session": _iso(status.last_session),
        "next_due": _iso(status.next_due),
        "earliest_allowed": _iso(status.earliest_allowed),
        "due_until": _iso(status.due_until),
        "days_overdue": status.days_overdue,
        "reasons": list(status.reasons),
    }


def interval_json(check: IntervalCheck) -> Json:
    """A proposed session date checked against the 12-week rule."""
    return {
        "date": check.proposed.isoformat(),
        "allowed": check.allowed,
        "previous_session": _iso(check.previous_session),
        "days_since_previous": check.days_since_previous,
        "earliest_allowed": _iso(check.earliest_allowed),
        "reason": check.reason,
    }


def hit6_json(result: Hit6Result) -> Json:
    """``onaboard score hit6``."""
    return {
        "instrument": "HIT-6",
        "answers": [answer.value for answer in result.answers],
        "total": result.total,
        "impact": result.impact.value,
        "reason": result.reason,
    }


def midas_json(result: MidasResult) -> Json:
    """``onaboard score midas``."""
    return {
        "instrument": "MIDAS",
        "answers": {"q1": result.q1, "q2": result.q2, "q3": result.q3, "q4": result.q4, "q5": result.q5},
        "headache_days": result.headache_days,
        "pain": result.pain,
        "total": result.total,
        "grade": result.grade.value,
        "reason": result.reason,
    }
