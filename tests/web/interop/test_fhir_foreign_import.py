"""Another system's Bundle posted to /fhir (onaboard/interop/fhir/read.py through the transaction endpoint): the
patient's current name is the one stored, another system's Condition is refused rather than dropped, and a
patient's FHIR download is written compact so it can be posted back."""

from __future__ import annotations

import json

from django.test import Client
from django.urls import reverse

from onaboard.interop.fhir import codes as fhir_codes
from onaboard.interop.fhir import read as fhir_read
from onaboard.web.diary.models import DiaryEntry
from onaboard.web.patients.models import Patient

ELSEWHERE_ID = "0d6c2b1e-0000-4000-8000-0000000000a1"
"""The Patient's id in another system (not the stored patient's public id)."""
NAMES = [
    {"use": "old", "family": "Maiden", "given": ["Mary"]},
    {"use": "official", "family": "Jones", "given": ["Mary", "Ann"]},
]


def _post(client: Client, document: dict):
    return client.post("/fhir/", data=json.dumps(document), content_type="application/fhir+json")


def _patient_entry(record_number: str, birth_date: str) -> dict:
    resource = {
        "resourceType": "Patient",
        "id": ELSEWHERE_ID,
        "identifier": [{"system": fhir_codes.RECORD_NUMBER, "value": record_number}],
        "name": NAMES,
        "birthDate": birth_date,
    }
    return {"fullUrl": f"urn:uuid:{ELSEWHERE_ID}", "resource": resource, "request": {"method": "PUT", "url": "x"}}


def _transaction(*entries: dict) -> dict:
    return {"resourceType": "Bundle", "type": "transaction", "entry": list(entries)}


def test_a_new_patient_is_stored_under_the_official_name_with_every_given_name(world, fhir_as):
    """Another system's Patient with an old maiden name first and the official name second is stored as
    "Mary Ann" "Jones" (it was created as "Mary Maiden")."""
    response = _post(fhir_as("nurse"), _transaction(_patient_entry("ELSE-0001", "1980-02-03")))
    assert response.status_code == 200, response.content
    stored = Patient.objects.get(clinic=world.clinic, record_number="ELSE-0001")
    assert (stored.given_name, stored.family_name) == ("Mary Ann", "Jones")


def test_another_systems_bundle_of_a_patient_with_two_given_names_updates_the_record(world, charted, fhir_as):
    """The stored "Mary Ann Jones", given by another system as given ["Mary", "Ann"], is the same person: the
    Bundle is imported (it was refused as another person, the first given name only compared)."""
    Patient.objects.filter(pk=charted.pk).update(given_name="Mary Ann", family_name="Jones")
    entry = _patient_entry(charted.record_number, charted.birth_date.isoformat())
    response = _post(fhir_as("nurse"), _transaction(entry))
    assert response.status_code == 200, response.content
    stored = Patient.objects.get(pk=charted.pk)
    assert (stored.given_name, stored.family_name) == ("Mary Ann", "Jones")


def test_a_hypertension_condition_from_another_system_is_refused_at_its_entry(world, charted, fhir_as):
    """A Bundle holding a SNOMED CT hypertension Condition is refused (422) at that entry's code, and nothing of
    it is stored: it was skipped while the entry answered 200 OK."""
    entry = _patient_entry(charted.record_number, charted.birth_date.isoformat())
    condition = {
        "resourceType": "Condition",
        "id": "0d6c2b1e-0000-4000-8000-0000000000a2",
        "code": {"coding": [{"system": fhir_codes.SNOMED, "code": "38341003", "display": "Hypertensive disorder"}]},
        "subject": {"reference": f"urn:uuid:{ELSEWHERE_ID}"},
    }
    day = {
        "resourceType": "Observation",
        "id": "0d6c2b1e-0000-4000-8000-0000000000a3",
        "status": "final",
        "code": {"coding": [{"system": fhir_codes.DIARY, "code": "diary-day"}]},
        "subject": {"reference": f"urn:uuid:{ELSEWHERE_ID}"},
        "effectiveDateTime": "2020-01-01",
        "component": [
            {
                "code": {"coding": [{"system": fhir_codes.DIARY, "code": "headache_hours"}]},
                "valueQuantity": {"value": 0, **fhir_codes.HOURS},
            }
        ],
    }
    entries = [entry, *({"resource": r, "request": {"method": "PUT", "url": "x"}} for r in (condition, day))]
    before = DiaryEntry.objects.count()
    response = _post(fhir_as("nurse"), _transaction(*entries))
    assert response.status_code == 422, response.content
    message = fhir_read.NOT_DERIVED.format(
        resource_type="Condition", found=f"{fhir_codes.SNOMED}|38341003", own=fhir_read.OWN_DERIVED["Condition"]
    )
    assert [(i["expression"], i["diagnostics"]) for i in response.json()["issue"]] == [
        (["Bundle.entry[1].resource.code"], message)
    ]
    assert DiaryEntry.objects.count() == before


def test_a_patients_fhir_downloads_are_compact_json_that_posts_back(world, charted, fhir_as, client):
    """The staff download and the patient's own are written without indentation (indented, a diary of some
    3,200 days passed the 10 MiB a /fhir POST takes); the staff download posts back unchanged."""
    client.force_login(world.users["clinician"])
    staff = client.get(reverse("interop:patient_fhir", args=[charted.external_id])).content.decode()
    client.force_login(world.users["patient"])
    own = client.get(reverse("interop:my_fhir")).content.decode()
    for text in (staff, own):
        assert text == json.dumps(json.loads(text), ensure_ascii=False, separators=(",", ":"))
    response = _post(fhir_as("nurse"), json.loads(staff))
    assert response.status_code == 200, response.content


def test_another_systems_patient_born_over_120_years_ago_is_refused_at_the_birth_date(world, fhir_as):
    """A Patient whose birthDate is more than 120 years ago (a mistyped year the details form refuses) is refused
    (422) at its birthDate in the form's words, and no patient is stored: it was stored, and every later save of
    the details form was refused."""
    from onaboard.web.patients.services import BIRTH_DATE_TOO_EARLY

    response = _post(fhir_as("nurse"), _transaction(_patient_entry("ELSE-0001", "1890-05-01")))
    assert response.status_code == 422, response.content
    (issue,) = response.json()["issue"]
    assert issue["expression"][0].endswith(".birthDate")
    assert issue["diagnostics"] == f"patient ELSE-0001: {BIRTH_DATE_TOO_EARLY}"
    assert not Patient.objects.filter(clinic=world.clinic, record_number="ELSE-0001").exists()
