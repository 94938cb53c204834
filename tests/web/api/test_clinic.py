"""Worklist and pathway API operations (onaboard/web/clinic/api.py)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from onaboard.web.audit.models import Action, AuditEvent
from onaboard.web.clinic import api as clinic_api
from onaboard.web.clinic.selectors import ApprovalStatus
from onaboard.web.coverage.models import AuthorisationStatus, PatientInsurance, PriorAuthorisation
from onaboard.web.injections.models import SessionStatus
from tests.web.clinic.diaries import chronic_rows, store
from tests.web.factories import InjectionSessionFactory


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
    """A patient's pathway shows the clinician the state and the engine's reasons; the read is audited. (The
    patient's own id is not found to them: ``tests/web/test_access.py``.)"""
    body = api_as("clinician").get(f"/api/patients/{world.own_patient.external_id}/pathway").json()
    assert body["state"]
    assert body["summary"]
    assert AuditEvent.objects.filter(action=Action.READ, object_type="pathway").exists()


def test_the_pathway_of_another_clinic_is_not_found(world, api_as):
    """Another clinic's patient is 404."""
    assert api_as("nurse").get(f"/api/patients/{world.other_clinic_patient.external_id}/pathway").status_code == 404


def _approved(patient, *, start: dt.date, end: dt.date):
    """An initial request approved from ``start`` to ``end``, asked for ten days before ``start``."""
    return PriorAuthorisation.objects.create(
        patient=patient,
        policy_id="us-commercial-a",
        diagnosis_code="G43.709",
        requested_on=start - dt.timedelta(days=10),
        status=AuthorisationStatus.APPROVED,
        approved_from=start,
        approved_until=end,
    )


def test_each_worklist_row_says_where_its_approval_stands(world, api_as):
    """Each row keeps its keys and adds ``approval`` (status, label, day, last day of the approval in force): a treated
    patient whose continuation request awaits the payer is "pending" since the request, under a clinical state of
    its own; a patient with no request is "none"; ``approval_counts`` counts each status."""
    today = timezone.localdate()
    patient = world.same_clinic_patient
    InjectionSessionFactory(patient=patient, date=today - dt.timedelta(days=91), status=SessionStatus.RECORDED)
    _approved(patient, start=today - dt.timedelta(days=100), end=today + dt.timedelta(days=20))
    PriorAuthorisation.objects.create(
        patient=patient,
        policy_id="us-commercial-a",
        diagnosis_code="G43.709",
        stage="continuation",
        requested_on=today - dt.timedelta(days=3),
    )
    body = api_as("billing").get("/api/worklist").json()
    rows = {row["patient"]["id"]: row for group in body["groups"] for row in group["rows"]}
    same, own = rows[str(patient.external_id)], rows[str(world.own_patient.external_id)]
    assert set(same) == {
        "patient",
        "state",
        "summary",
        "last_session",
        "next_due",
        "booked_for",
        "missed_booking",
        "schedule_flag",
        "approval",
    }
    assert same["state"] == "due"
    assert same["approval"] == {
        "status": "pending",
        "label": "request pending",
        "date": (today - dt.timedelta(days=3)).isoformat(),
        "approved_until": (today + dt.timedelta(days=20)).isoformat(),
        "booking_uncovered": None,
        "needs_attention": True,
    }
    assert own["approval"] == {
        "status": "none",
        "label": "none",
        "date": None,
        "approved_until": None,
        "booking_uncovered": None,
        "needs_attention": False,
    }
    assert body["approval_counts"] == {**dict.fromkeys(ApprovalStatus.values, 0), "pending": 1, "none": 1}


def test_the_approval_filter_lists_the_approvals_needing_attention(world, api_as):
    """``approval=needs_attention`` lists the patients whose request is pending, renewal due, denied or ended (here
    an approval that ended yesterday) and not one in force; ``approval=in_force`` lists that one; an unknown
    filter is 422 at ``approval``."""
    today = timezone.localdate()
    _approved(world.same_clinic_patient, start=today - dt.timedelta(days=190), end=today - dt.timedelta(days=1))
    _approved(world.own_patient, start=today - dt.timedelta(days=5), end=today + dt.timedelta(days=170))
    client = api_as("billing")
    attention = client.get("/api/worklist", {"approval": "needs_attention"}).json()
    assert _ids(attention) == {str(world.same_clinic_patient.external_id)}
    row = attention["groups"][0]["rows"][0]
    assert (row["approval"]["status"], row["approval"]["date"]) == ("ended", (today - dt.timedelta(days=1)).isoformat())
    assert sum(attention["counts"].values()) == 1
    assert attention["total"] == 2
    in_force = client.get("/api/worklist", {"approval": "in_force"}).json()
    assert _ids(in_force) == {str(world.own_patient.external_id)}
    response = client.get("/api/worklist", {"approval": "nonsense"})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", "approval"]


def test_a_booking_no_approval_covers_is_named_and_needs_attention(world, api_as):
    """A patient whose approval is in force but ends before the session booked ahead has ``booking_uncovered``, the
    booked day, and needs attention, so ``approval=needs_attention`` lists them under the status "in_force"."""
    today = timezone.localdate()
    patient = world.same_clinic_patient
    PatientInsurance.objects.create(patient=patient, policy_id="us-commercial-a", terms_as_of=today)
    InjectionSessionFactory(patient=patient, date=today - dt.timedelta(days=60), status=SessionStatus.RECORDED)
    _approved(patient, start=today - dt.timedelta(days=70), end=today + dt.timedelta(days=40))
    booked = today + dt.timedelta(days=44)
    InjectionSessionFactory(patient=patient, date=booked, status=SessionStatus.BOOKED)
    attention = api_as("billing").get("/api/worklist", {"approval": "needs_attention"}).json()
    assert _ids(attention) == {str(patient.external_id)}
    approval = attention["groups"][0]["rows"][0]["approval"]
    assert (approval["status"], approval["booking_uncovered"], approval["needs_attention"]) == (
        "in_force",
        booked.isoformat(),
        True,
    )
    assert attention["needs_attention"] == 1
    assert attention["approval_counts"]["in_force"] == 1  # counted under its status, and as needing attention


def test_an_eligible_patient_whose_payer_asks_and_who_has_no_request_is_required_and_needs_attention(world, api_as):
    """An eligible patient under a payer that asks for prior authorisation, with no request, has the approval status
    ``required`` (no day), needing attention and listed by ``approval=needs_attention`` and ``approval=required``."""
    today = timezone.localdate()
    store(world.same_clinic_patient, chronic_rows(today=today), today=today)
    PatientInsurance.objects.create(patient=world.same_clinic_patient, policy_id="us-commercial-a", terms_as_of=today)
    client = api_as("billing")
    attention = client.get("/api/worklist", {"approval": "needs_attention"}).json()
    assert _ids(attention) == {str(world.same_clinic_patient.external_id)}
    assert attention["groups"][0]["rows"][0]["approval"] == {
        "status": "required",
        "label": "required, not requested",
        "date": None,
        "approved_until": None,
        "booking_uncovered": None,
        "needs_attention": True,
    }
    assert attention["approval_counts"]["required"] == 1
    assert _ids(client.get("/api/worklist", {"approval": "required"}).json()) == _ids(attention)


def test_the_openapi_document_names_the_approval_filter_and_row_field(schema):
    """The worklist operation documents its ``approval`` filter with every value it takes, and the row its
    ``approval`` object."""
    operation = schema["paths"]["/api/worklist"]["get"]
    parameter = next(each for each in operation["parameters"] if each["name"] == "approval")
    node = parameter["schema"]
    while "$ref" in node or "anyOf" in node:
        node = (
            schema["components"]["schemas"][node["$ref"].rsplit("/", 1)[-1]]
            if "$ref" in node
            else next(each for each in node["anyOf"] if each.get("type") != "null")
        )
    assert set(node["enum"]) == {"needs_attention", *ApprovalStatus.values}
    row = schema["components"]["schemas"]["WorklistRowOut"]
    assert "approval" in row["required"]
