"""API inputs that schemathesis (tests/ops/api_fuzz.py) once turned into server errors: each is now a 4xx."""

from __future__ import annotations

import json
from datetime import date

from onaboard.clinical import preempt_plan
from onaboard.web.accounts.models import ApiToken, Role
from tests.web.factories import PatientFactory, UserFactory


def test_an_assessment_before_the_patients_birth_is_a_422_naming_as_of(client, db):
    """``as_of`` before the birth date is refused with the engine's reason on ``as_of``, not a server error."""
    clinician = UserFactory(role=Role.CLINICIAN)
    patient = PatientFactory(clinic=clinician.clinic, birth_date=date(1997, 8, 14))
    _, token = ApiToken.issue(clinician, "regression")
    response = client.get(
        f"/api/patients/{patient.external_id}/assessment",
        {"as_of": "1970-01-01"},
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    assert response.status_code == 422
    (problem,) = response.json()["detail"]
    assert problem["loc"] == ["query", "as_of"]
    assert "1997-08-14" in problem["msg"]


def test_a_session_dated_before_the_patients_birth_is_a_422_naming_the_date(client, db):
    """Recording a session on a date before the birth date is refused with the engine's reason on ``date``."""
    nurse = UserFactory(role=Role.NURSE)
    patient = PatientFactory(clinic=nurse.clinic, birth_date=date(1974, 8, 15))
    _, token = ApiToken.issue(nurse, "regression")
    plan = preempt_plan()
    body = {
        "date": "0165-06-16",
        "sites": [{"muscle": s.muscle.value, "side": s.side.value, "units": s.units} for s in plan.sites],
        "vial_units": 200,
        "product_lot": "C1234AB",
        "product_expiry": "0166-01-01",
    }
    response = client.post(
        f"/api/patients/{patient.external_id}/sessions",
        json.dumps(body),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    assert response.status_code == 422
    problems = response.json()["detail"]
    assert [p["loc"] for p in problems] == [["body", "date"]]
    assert "1974-08-15" in problems[0]["msg"]
