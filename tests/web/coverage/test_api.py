"""Coverage API operations: the same permissions as the pages, JSON shapes, PDFs, and the audit trail."""

from __future__ import annotations

import pytest

from onaboard.web.audit.models import Action, AuditEvent
from tests.pdfs import pdf_text

pytestmark = pytest.mark.django_db


def _url(patient, tail: str) -> str:
    return f"/api/patients/{patient.external_id}/{tail}"


def test_the_coverage_evaluation_lists_every_criterion_with_outcome_evidence_and_source(api_as, treated):
    """The JSON names the policy, stage and status, and each criterion's outcome, evidence, rule and source."""
    response = api_as("billing").get(_url(treated.patient, "coverage") + "?policy=nice-ta260&stage=continuation")
    assert response.status_code == 200
    body = response.json()
    assert body["policy_id"] == "nice-ta260"
    assert body["stage"] == "continuation"
    assert body["status"] in ("approvable", "not_approvable", "information_missing")
    assert body["criteria"]
    for criterion in body["criteria"]:
        assert criterion["outcome"] in ("met", "not_met", "missing_information")
        assert criterion["evidence"]
        assert criterion["source"]["citation"]
    assert AuditEvent.objects.filter(object_type="coverage", detail__startswith="nice-ta260 continuation").exists()


def test_an_unknown_policy_or_a_missing_one_is_a_422_naming_the_problem(api_as, eligible):
    """No policy (none in the insurance) and an unknown policy both answer 422 with the reason."""
    response = api_as("clinician").get(_url(eligible, "coverage"))
    assert response.status_code == 422
    assert "No coverage policy chosen" in response.json()["detail"][0]["msg"]
    response = api_as("clinician").get(_url(eligible, "coverage") + "?policy=nope")
    assert response.status_code == 422
    assert "'nope'" in response.json()["detail"][0]["msg"]


def test_the_cost_gives_exact_amounts_as_text_with_the_assumptions(api_as, treated):
    """Amounts are exact decimal text; the session, the year and each recorded session carry their assumptions."""
    response = api_as("billing").get(_url(treated.patient, "cost"))
    assert response.status_code == 200
    body = response.json()
    assert body["session"]["total"] == "1671.20"
    assert body["session"]["share"]["patient_pays"] == "0.00"
    assert body["year"]["sessions"] == 4
    assert body["year"]["share"]["patient_pays"] == "736.96"
    assert any(note.startswith("J0585 at $6.506 per unit") for note in body["session"]["assumptions"])
    assert len(body["recorded_sessions"]) == 3
    assert AuditEvent.objects.filter(object_type="cost", action=Action.READ).exists()


@pytest.mark.parametrize("kind", ["prior-auth", "continuation", "procedure"])
def test_billing_staff_fetch_the_letters_and_procedure_note_as_pdf(api_as, treated, kind):
    """Each document a claim needs comes back as a PDF attachment with its text, and the export is audited."""
    response = api_as("billing").get(_url(treated.patient, f"documents/{kind}"))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert treated.patient.record_number in pdf_text(response.content)
    assert AuditEvent.objects.filter(action=Action.EXPORT, detail__startswith=f"api {kind}").exists()


def test_the_after_care_sheet_is_for_clinical_staff_only(api_as, treated):
    """A nurse gets the patient summary of a chosen session; billing staff get 404."""
    session = treated.sessions[0]
    url = _url(treated.patient, "documents/patient-summary") + f"?session={session.external_id}"
    response = api_as("nurse").get(url)
    assert response.status_code == 200
    assert "What was done" in pdf_text(response.content)
    assert api_as("billing").get(url).status_code == 404


def test_an_unknown_session_is_a_422_and_an_unknown_document_a_422_from_validation(api_as, treated, world):
    """A session of nobody is refused with the reason; a document kind outside the four fails validation."""
    response = api_as("clinician").get(
        _url(treated.patient, "documents/procedure") + f"?session={world.own_patient.external_id}"
    )
    assert response.status_code == 422
    assert "No recorded session" in response.json()["detail"][0]["msg"]
    assert response.json()["detail"][0]["loc"] == ["query", "session"]
    assert api_as("clinician").get(_url(treated.patient, "documents/invoice")).status_code == 422


def test_an_unknown_policy_is_refused_at_policy_and_a_very_long_one_not_echoed(api_as, treated):
    """A document asked under no shipped policy is refused at ``policy`` (it said ``document``, no parameter of the
    operation); an id of 5,000 characters is refused by its length, not echoed back whole."""
    url = _url(treated.patient, "documents/continuation")
    response = api_as("clinician").get(url, {"policy": "nope"})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", "policy"]
    long = api_as("clinician").get(url, {"policy": "x" * 5000})
    assert long.status_code == 422
    assert len(long.content) < 2000


@pytest.mark.parametrize("tail", ["coverage?policy=nice-ta260", "cost", "documents/prior-auth"])
def test_patients_trainees_and_other_clinics_get_404(api_as, world, treated, tail):
    """A patient (even for their own record), a trainee, and staff of another clinic all get 404."""
    assert api_as("patient").get(_url(world.own_patient, tail)).status_code == 404
    assert api_as("trainee").get(_url(treated.patient, tail)).status_code == 404
    assert api_as("clinician").get(_url(world.other_clinic_patient, tail)).status_code == 404


def test_the_shipped_policies_are_listed(api_as):
    """The policy list names every shipped policy by id and title."""
    response = api_as("billing").get("/api/coverage/policies")
    assert response.status_code == 200
    ids = [policy["id"] for policy in response.json()]
    assert "nice-ta260" in ids
    assert "botox-label" in ids


def test_without_a_token_every_operation_is_401(client, treated):
    """Anonymous callers are refused before anything is read."""
    assert client.get(_url(treated.patient, "cost")).status_code == 401
