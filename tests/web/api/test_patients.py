"""Patient API operations (onaboard/web/patients/api.py)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from onaboard.web.audit.models import Action, AuditEvent
from onaboard.web.patients.access import NOT_FOUND
from tests.web.factories import PatientFactory


def test_staff_list_their_clinics_patients(world, api_as):
    """A nurse lists the clinic's patients by public id, with the total count; other clinics are absent."""
    body = api_as("nurse").get("/api/patients").json()
    ids = {item["id"] for item in body["items"]}
    assert ids == {str(world.own_patient.external_id), str(world.same_clinic_patient.external_id)}
    assert body["count"] == 2
    assert set(body["items"][0]) == {"id", "record_number", "given_name", "family_name", "birth_date", "sex", "clinic"}


def test_a_patient_lists_only_themselves(world, api_as):
    """A patient's list is their own record."""
    body = api_as("patient").get("/api/patients").json()
    assert [item["id"] for item in body["items"]] == [str(world.own_patient.external_id)]


def test_a_trainee_lists_nobody(world, api_as):
    """Trainees see no patient."""
    assert api_as("trainee").get("/api/patients").json() == {"count": 0, "items": []}


def test_the_list_pages_and_audits_each_patient_shown(world, api_as):
    """limit/offset page the list; each patient shown is audited as read."""
    for _ in range(3):
        PatientFactory(clinic=world.clinic)
    body = api_as("clinician").get("/api/patients?limit=2&offset=1").json()
    assert body["count"] == 5
    assert len(body["items"]) == 2
    read = {str(p) for p in AuditEvent.objects.filter(action=Action.READ).values_list("patient_id", flat=True)}
    assert read == {item["id"] for item in body["items"]}


def test_a_page_of_patients_is_audited_in_one_insert(world, api_as):
    """The list's audit events are written together: the same queries for 2 patients as for 22, each event
    carrying the reader, the patient and where the request came from."""
    client = api_as("clinician")
    client.get("/api/patients?limit=2")
    with CaptureQueriesContext(connection) as small:
        client.get("/api/patients?limit=2")
    PatientFactory.create_batch(20, clinic=world.clinic)
    with CaptureQueriesContext(connection) as large:
        body = client.get("/api/patients?limit=22").json()
    inserts = [
        query["sql"] for query in large.captured_queries if "INSERT INTO" in query["sql"] and "audit" in query["sql"]
    ]
    assert len(inserts) == 1
    assert len(large.captured_queries) == len(small.captured_queries)
    events = AuditEvent.objects.filter(detail="api list").order_by("-id")[:22]
    assert {str(event.patient_id) for event in events} == {item["id"] for item in body["items"]}
    assert {(event.username, event.role, event.path, event.object_type) for event in events} == {
        (world.users["clinician"].username, world.users["clinician"].role, "/api/patients", "patient")
    }


@pytest.mark.parametrize("limit", [0, 201])
def test_a_page_size_out_of_range_is_refused(world, api_as, limit):
    """limit must be 1-200."""
    assert api_as("clinician").get(f"/api/patients?limit={limit}").status_code == 422


def test_the_detail_is_audited(world, api_as):
    """Reading one patient returns the demographics and records the read."""
    patient = world.same_clinic_patient
    response = api_as("billing").get(f"/api/patients/{patient.external_id}")
    assert response.status_code == 200
    assert response.json()["family_name"] == "Same"
    assert AuditEvent.objects.get(action=Action.READ).patient_id == patient.external_id


@pytest.mark.parametrize(("role", "target"), [("patient", "same_clinic_patient"), ("nurse", "other_clinic_patient")])
def test_a_patient_out_of_reach_is_not_found(world, api_as, role, target):
    """Another patient's id (or another clinic's) is 404 and the refusal is audited."""
    patient = getattr(world, target)
    response = api_as(role).get(f"/api/patients/{patient.external_id}")
    assert response.status_code == 404
    assert response.json() == {"detail": NOT_FOUND}
    assert AuditEvent.objects.get(action=Action.DENIED).object_id == str(patient.external_id)


def test_a_non_uuid_id_is_refused_before_any_lookup(world, api_as):
    """Integer keys are not ids: /api/patients/1 is not an address."""
    assert api_as("clinician").get(f"/api/patients/{world.own_patient.pk}").status_code in {404, 422}


def test_an_offset_past_the_limit_is_422_not_a_database_error(api_as):
    """An offset larger than any page (found by schemathesis: PostgreSQL refused it as an out-of-range bigint) is a
    validation error naming the offset."""
    response = api_as("clinician").get("/api/patients?limit=10&offset=652121248493185794048")
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"][-1] == "offset"


def test_patients_sharing_a_name_are_paged_by_record_number_without_repeats(world, api_as):
    """Three patients with one name, registered out of record-number order, come one a page in record-number
    order: no page repeats or skips one of them."""
    for number in ("TWIN-C", "TWIN-A", "TWIN-B"):
        PatientFactory(clinic=world.clinic, record_number=number, family_name="Aaronson", given_name="Sam")
    client = api_as("clinician")
    pages = [client.get("/api/patients", {"limit": 1, "offset": offset}).json()["items"] for offset in range(3)]
    assert [page[0]["record_number"] for page in pages] == ["TWIN-A", "TWIN-B", "TWIN-C"]
