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
