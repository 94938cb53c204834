"""The forms that add to a patient's record show the patient's name and record number (and, for a prior
authorisation, their insurance), so opening one is a read of the record, audited as every other patient page is
(patients/views.py, coverage/views.py, interop/views.py, injections/views.py)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from onaboard.web.audit.models import Action, AuditEvent

FORMS = [
    ("patients:other_toxin_new", "external_id", ""),
    ("patients:preventive_new", "external_id", ""),
    ("coverage:authorisation_new", "patient_id", ""),
    ("interop:patient", "external_id", ""),
    ("injections:report_side_effect", "", "?patient={patient}"),
    ("outcomes:patient_hit6", "patient_id", ""),
    ("outcomes:patient_midas", "patient_id", ""),
]


def _url(name: str, argument: str, query: str, patient) -> str:
    path = reverse(name, kwargs={argument: patient.external_id} if argument else {})
    return path + query.format(patient=patient.external_id)


@pytest.mark.parametrize(("name", "argument", "query"), FORMS)
def test_opening_a_form_on_a_patients_record_is_an_audited_read(client, world, name, argument, query):
    """A clinician opening the form (GET) leaves a READ event naming the patient, on that page's path."""
    patient = world.same_clinic_patient
    url = _url(name, argument, query, patient)
    client.force_login(world.users["clinician"])
    assert client.get(url).status_code == 200
    reads = AuditEvent.objects.filter(action=Action.READ, patient_id=patient.external_id, username="clinician")
    assert [event.path for event in reads] == [url.partition("?")[0]]


@pytest.mark.parametrize(("name", "argument", "query"), FORMS)
def test_a_form_sent_back_with_errors_is_an_audited_read_too(client, world, name, argument, query):
    """A form posted with nothing in it comes back with errors and the patient's name again: a second READ."""
    patient = world.same_clinic_patient
    url = _url(name, argument, query, patient)
    client.force_login(world.users["clinician"])
    data = {"action": "upload"} if name == "interop:patient" else {}
    assert client.post(url, data).status_code == 200
    assert AuditEvent.objects.filter(action=Action.READ, patient_id=patient.external_id).exists()
