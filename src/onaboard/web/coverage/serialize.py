"""The coverage evaluation and the cost as JSON-ready dicts: one shape for the API and ``onaboard coverage --json``."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from onaboard.clinical import CostLine, PatientShare, SessionCost
from onaboard.web.coverage.selectors import CostView, CoverageView


def _money(amount: Decimal) -> str:
    """Amounts as exact decimal text (``"1008.43"``), never floats."""
    return str(amount)


def coverage_json(view: CoverageView, *, patient_id: str) -> dict[str, Any]:
    evaluation = view.evaluation
    return {
        "patient_id": patient_id,
        "policy_id": evaluation.policy_id,
        "policy_title": evaluation.policy_title,
        "stage": evaluation.stage.value,
        "today": evaluation.today.isoformat(),
        "status": evaluation.status.value,
        "summary": evaluation.summary,
        "approval_months": evaluation.approval_months,
        "notes": list(evaluation.notes),
        "assumptions": list(view.assumptions),
        "criteria": [
            {
                "key": criterion.key,
                "name": criterion.name,
                "outcome": criterion.outcome.value,
                "evidence": list(criterion.evidence),
                "rule": criterion.rule,
                "policy_text": criterion.policy_text,
                "source": {
                    "id": criterion.source.id,
                    "citation": criterion.source.citation,
                    "url": criterion.source.url,
                    "status": criterion.source.status.value,
                },
                "unconfirmed": list(criterion.unconfirmed),
            }
            for criterion in evaluation.criteria
        ],
    }


def _line(line: CostLine) -> dict[str, Any]:
    return {
        "kind": line.kind.value,
        "code": line.code,
        "quantity": line.quantity,
        "unit_price": _money(line.unit_price),
        "amount": _money(line.amount),
        "assumption": line.assumption,
    }


def _share(share: PatientShare | None) -> dict[str, Any] | None:
    if share is None:
        return None
    return {
        "deductible": _money(share.deductible),
        "coinsurance": _money(share.coinsurance),
        "copay": _money(share.copay),
        "before_savings": _money(share.before_savings),
        "savings_programme": _money(share.savings_programme),
        "patient_pays": _money(share.patient_pays),
        "insurer_pays": _money(share.insurer_pays),
        "assumptions": list(share.assumptions),
    }


def session_cost_json(cost: SessionCost) -> dict[str, Any]:
    return {
        "currency": cost.currency,
        "lines": [_line(line) for line in cost.lines],
        "total": _money(cost.total),
        "share": _share(cost.share),
        "assumptions": list(cost.assumptions),
    }


def cost_json(view: CostView, *, patient_id: str) -> dict[str, Any]:
    year = None
    if view.year is not None:
        year = {
            "sessions": view.sessions_per_year,
            "currency": view.year.currency,
            "total": _money(view.year.total),
            "share": _share(view.year.share),
            "assumptions": list(view.year.assumptions),
        }
    return {
        "patient_id": patient_id,
        "today": view.today.isoformat(),
        "planned_units": view.plan.total_units,
        "stopped_on": view.stopped_on.isoformat() if view.stopped_on is not None else None,
        "problem": view.problem or None,
        "assumptions": list(view.assumptions),
        "session": None if view.planned is None else session_cost_json(view.planned),
        "year": year,
        "recorded_sessions": [
            {
                "session_id": str(row.session.external_id),
                "date": row.session.date.isoformat(),
                "cost": None if row.cost is None else session_cost_json(row.cost),
                "problem": row.problem or None,
                "share_unknown": row.share_unknown or None,
            }
            for row in view.recorded
        ],
    }
