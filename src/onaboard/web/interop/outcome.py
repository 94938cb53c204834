"""FHIR answers: the media type and the OperationOutcome every refusal under /fhir is, written once for the FHIR
views and for the request-size middleware (a Bundle over the limit is refused before any view reads it)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from django.http import HttpResponse
from fhir.resources.R4B.operationoutcome import OperationOutcome

from onaboard.interop.fhir.read import Problem

FHIR_JSON = "application/fhir+json; charset=utf-8"


def fhir_response(document: dict[str, Any], status: int = 200) -> HttpResponse:
    """``document`` as an ``application/fhir+json`` answer."""
    return HttpResponse(json.dumps(document, ensure_ascii=False), status=status, content_type=FHIR_JSON)


def operation_outcome(problems: Sequence[Problem], *, code: str = "invalid") -> dict[str, Any]:
    """An OperationOutcome with one error issue per problem, located by its FHIRPath expression."""
    issues = []
    for problem in problems:
        issue: dict[str, Any] = {"severity": "error", "code": code, "diagnostics": problem.message}
        if problem.expression:
            issue["expression"] = [problem.expression]
        issues.append(issue)
    outcome = {"resourceType": "OperationOutcome", "issue": issues}
    OperationOutcome.model_validate(outcome)
    return outcome


def refusal(status: int, message: str, code: str) -> HttpResponse:
    """An OperationOutcome of one error issue, located nowhere in particular, answered with ``status``."""
    return fhir_response(operation_outcome([Problem("", message)], code=code), status)
