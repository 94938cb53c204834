"""The framework's error responses in the OpenAPI document (onaboard/web/common/errors.py)."""

from __future__ import annotations

import copy

from onaboard.web.common.errors import FRAMEWORK_ERRORS, document_framework_errors
from onaboard.web.config.api import api


def test_every_operation_lists_the_framework_errors_after_documenting():
    """After ``document_framework_errors`` every operation of the real API lists 400, 413, 422 and 429."""
    schema = document_framework_errors(copy.deepcopy(api.get_openapi_schema()))
    missing = [
        f"{method.upper()} {path}: {code}"
        for path, operations in schema["paths"].items()
        for method, operation in operations.items()
        for code in FRAMEWORK_ERRORS
        if str(code) not in {str(listed) for listed in operation["responses"]}
    ]
    assert missing == []


def test_an_operations_own_422_is_kept():
    """An operation that documents its own 422 (ProblemsOut) keeps it rather than getting the generic one."""
    original = api.get_openapi_schema()
    own = original["paths"]["/api/patients/{patient_id}/sessions"]["post"]["responses"][422]
    schema = document_framework_errors(copy.deepcopy(original))
    assert schema["paths"]["/api/patients/{patient_id}/sessions"]["post"]["responses"][422] == own


def test_a_body_that_is_not_json_is_the_documented_400(client, db):
    """The framework's 400 for a body that is not JSON has the documented ``detail`` string shape."""
    from onaboard.web.accounts.models import ApiToken, Role
    from tests.web.factories import PatientFactory, UserFactory

    nurse = UserFactory(role=Role.NURSE)
    patient = PatientFactory(clinic=nurse.clinic)
    _, token = ApiToken.issue(nurse, "errors")
    response = client.post(
        f"/api/patients/{patient.external_id}/sessions",
        "{not json",
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    assert response.status_code == 400
    assert isinstance(response.json()["detail"], str)
