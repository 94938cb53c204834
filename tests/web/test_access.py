"""Who may see whom (onaboard/web/patients/access.py)."""

from __future__ import annotations

import pytest
from django.http import Http404

from onaboard.web.audit.models import Action, AuditEvent
from onaboard.web.patients.access import Capability, own_patient, patient_for, patients_visible_to


def test_staff_see_their_clinics_patients_only(world):
    """A clinician sees every patient of their clinic and none of another clinic."""
    visible = set(patients_visible_to(world.users["clinician"]))
    assert visible == {world.own_patient, world.same_clinic_patient}


def test_a_patient_sees_only_their_own_record(world):
    """A patient's visible set is exactly their own record."""
    assert list(patients_visible_to(world.users["patient"])) == [world.own_patient]


def test_a_trainee_sees_no_patient(world):
    """Trainees work on synthetic cases and see no patient."""
    assert not patients_visible_to(world.users["trainee"]).exists()


@pytest.mark.parametrize("target", ["same_clinic_patient", "other_clinic_patient"])
def test_a_patient_cannot_reach_another_record_by_id(world, target):
    """Asking for another patient's id is 'not found' and the refusal is audited."""
    other = getattr(world, target)
    with pytest.raises(Http404):
        patient_for(world.users["patient"], other.external_id, need=Capability.VIEW_CLINICAL)
    denied = AuditEvent.objects.get(action=Action.DENIED)
    assert denied.object_id == str(other.external_id)


def test_billing_staff_cannot_open_clinical_data(world):
    """Billing staff see demographics and billing but not the clinical record."""
    billing = world.users["billing"]
    assert patient_for(billing, world.same_clinic_patient.external_id, need=Capability.VIEW_BILLING)
    with pytest.raises(Http404):
        patient_for(billing, world.same_clinic_patient.external_id, need=Capability.VIEW_CLINICAL)


def test_a_malformed_id_is_not_found(world):
    """A public id that is not a UUID is simply not found."""
    with pytest.raises(Http404):
        patient_for(world.users["clinician"], "42", need=Capability.VIEW_DEMOGRAPHICS)


def test_the_portal_record_is_the_patients_own_and_staff_have_none(world):
    """own_patient gives a patient their own record; a clinician has no portal record (404)."""
    assert own_patient(world.users["patient"], need=Capability.KEEP_DIARY) == world.own_patient
    with pytest.raises(Http404):
        own_patient(world.users["clinician"], need=Capability.KEEP_DIARY)


@pytest.mark.parametrize(
    ("role", "address", "method", "status"),
    [
        ("patient", "/patients/{id}/", "get", 404),
        ("trainee", "/patients/{id}/", "get", 404),
        ("patient", "/coverage/patients/{id}/documents/prior-auth.pdf", "get", 404),
        ("patient", "/outcomes/patients/{id}/treatment/", "get", 404),
        ("nurse", "/outcomes/patients/{id}/treatment/decide/", "post", 403),
        ("billing", "/outcomes/patients/{id}/treatment/decide/", "post", 403),
    ],
)
def test_a_refusal_on_a_staff_page_is_audited_as_every_refusal(client, world, role, address, method, status):
    """A patient or trainee probing a staff page, a nurse or billing clerk trying to record the clinician's
    decision: refused as before, and the refusal is in the trail naming the patient (as ``patient_for``'s are)."""
    client.force_login(world.users[role])
    target = world.same_clinic_patient
    response = getattr(client, method)(address.format(id=target.external_id))
    assert response.status_code == status
    denied = AuditEvent.objects.get(action=Action.DENIED)
    assert (denied.user, denied.object_id, str(denied.patient_id)) == (
        world.users[role],
        str(target.external_id),
        str(target.external_id),
    )


def test_a_patient_asking_the_api_for_their_own_pathway_is_refused_and_audited(world):
    """The pathway state is the staff's worklist ("stop suggested" before the clinician has decided, a clinician's
    stop reason): a patient's own id is "not found" there, and the refusal is audited."""
    from django.test import Client

    from onaboard.web.accounts.models import ApiToken

    _token, raw = ApiToken.issue(world.users["patient"], "test")
    client = Client(headers={"Authorization": f"Bearer {raw}"})
    response = client.get(f"/api/patients/{world.own_patient.external_id}/pathway")
    assert response.status_code == 404
    assert AuditEvent.objects.get(action=Action.DENIED).detail == "view_clinical staff only"
