"""The FHIR answers' module: the media type and the OperationOutcome of a refusal, shared by the views and the
request-size middleware."""

from __future__ import annotations

import json

from onaboard.interop.fhir.read import Problem
from onaboard.web.interop.outcome import FHIR_JSON, operation_outcome, refusal


def test_an_operation_outcome_has_one_located_issue_per_problem():
    """Each problem is an error issue with its message, and its FHIRPath as the expression when it has one."""
    outcome = operation_outcome([Problem("Bundle.entry[0]", "wrong"), Problem("", "also wrong")])
    assert outcome == {
        "resourceType": "OperationOutcome",
        "issue": [
            {"severity": "error", "code": "invalid", "diagnostics": "wrong", "expression": ["Bundle.entry[0]"]},
            {"severity": "error", "code": "invalid", "diagnostics": "also wrong"},
        ],
    }


def test_a_refusal_is_a_fhir_json_operation_outcome_with_its_status():
    """A refusal answers its status with one unlocated issue of the code given, as application/fhir+json."""
    response = refusal(413, "too big", "too-long")
    assert response.status_code == 413
    assert response["Content-Type"] == FHIR_JSON
    assert json.loads(response.content) == {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": "error", "code": "too-long", "diagnostics": "too big"}],
    }
