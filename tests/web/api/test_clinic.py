"""Worklist and pathway API operations (onaboard/web/clinic/api.py)."""

from __future__ import annotations

import pytest

from onaboard.web.audit.models import Action, AuditEvent
from onaboard.web.clinic import api as clinic_api


def _ids(body):
    return {row["patient"]["id"] for group in body["groups"] for row in group["rows"]}


def test_the_worklist_lists_the_clinics_patients_by_state(world, api_as):
    """A nurse's worklist holds the clinic's patients, grouped by state, with counts; it is audited."""
    body = api_as("nurse").get("/api/worklist").json()
    assert _ids(body) == {str(world.own_patient.external_id), str(world.same_clinic_patient.external_id)}
    assert body["total"] == 2
    assert sum(body["counts"].values()) == 2
    assert AuditEvent.objects.filter(action=Action.READ, object_type="worklist").exists()


def test_billing_staff_get_no_clinical_summary(world, api_as):
    """Billing staff see states and dates but no clinical summary."""
    body = api_as("billing").get("/api/worklist").json()
    assert {row["summary"] for group in body["groups"] for row in group["rows"]} == {None}


def test_the_worklist_searches_by_name(world, api_as):
    """q narrows the list to matching names."""
    body = api_as("clinician").get("/api/worklist", {"q": "Same"}).json()
    assert _ids(body) == {str(world.same_clinic_patient.external_id)}


@pytest.mark.parametrize("role", ["patient", "trainee"])
def test_the_worklist_is_for_staff(world, api_as, role):
    """Patients and trainees get 403."""
    response = api_as(role).get("/api/worklist")
    assert response.status_code == 403
    assert response.json() == {"detail": clinic_api.STAFF_ONLY}


def test_the_pathway_state_comes_with_its_reasons(world, api_as):
    """A patient's pathway shows the state and the engine's reasons; the read is audited."""
    body = api_as("patient").get(f"/api/patients/{world.own_patient.external_id}/pathway").json()
    assert body["state"]
    assert body["summary"]
    assert AuditEvent.objects.filter(action=Action.READ, object_type="pathway").exists()


def test_the_pathway_of_another_clinic_is_not_found(world, api_as):
    """Another clinic's patient is 404."""
    assert api_as("nurse").get(f"/api/patients/{world.other_clinic_patient.external_id}/pathway").status_code == 404
