"""The audit trail's admin (audit/admin.py): read-only, and each clinic's administrator sees their clinic's trail
only."""

from __future__ import annotations

from django.urls import reverse

from onaboard.web.accounts.models import Role
from onaboard.web.audit.models import Action, AuditEvent
from onaboard.web.audit.services import audit_record
from tests.web.factories import UserFactory


def _trail(world):
    """One event about a patient of each clinic, one by a user of each clinic about no patient, one of neither."""
    far_nurse = UserFactory(username="far.nurse", role=Role.NURSE, clinic=world.other_clinic)
    for user, patient, detail in (
        (world.users["nurse"], world.same_clinic_patient, "own patient"),
        (far_nurse, world.other_clinic_patient, "other clinic's patient"),
        (world.users["nurse"], None, "own clinic's user"),
        (far_nurse, None, "other clinic's user"),
        (None, None, "nobody's"),
    ):
        audit_record(
            user=user,
            action=Action.READ,
            object_type="test",
            object_id="x",
            patient_id=patient.external_id if patient is not None else None,
            detail=detail,
        )


def _listed(client, user):
    client.force_login(user)
    response = client.get(reverse("admin:audit_auditevent_changelist"), {"object_type": "test"})
    assert response.status_code == 200
    return sorted(event.detail for event in response.context["cl"].result_list)


def test_a_clinics_administrator_sees_only_their_clinics_trail(client, superuser, world):
    """A superuser of a clinic is listed the events about their clinic's patients and by their clinic's users,
    never another clinic's or one of no clinic; an operator of no clinic is listed every event."""
    _trail(world)
    assert _listed(client, superuser) == ["own clinic's user", "own patient"]
    type(superuser).objects.filter(pk=superuser.pk).update(clinic=None)
    superuser.refresh_from_db()
    assert _listed(client, superuser) == sorted(
        ["own patient", "other clinic's patient", "own clinic's user", "other clinic's user", "nobody's"]
    )


def test_another_clinics_event_cannot_be_opened(client, superuser, world):
    """An event of another clinic is not found by its address either (the list is not the only way in)."""
    _trail(world)
    client.force_login(superuser)
    other = AuditEvent.objects.get(detail="other clinic's patient")
    mine = AuditEvent.objects.get(detail="own patient")
    assert client.get(reverse("admin:audit_auditevent_change", args=[mine.pk])).status_code == 200
    assert client.get(reverse("admin:audit_auditevent_change", args=[other.pk])).status_code == 302


def test_a_refused_attempt_on_a_patient_is_in_both_clinics_trails(client, superuser, world):
    """Another clinic's clinician asking for this clinic's patient gets 404, and the refusal names the patient, so
    this clinic's administrator finds it in their trail; the other clinic's administrator still sees what their own
    clinician tried. A refused id that is nobody's names no patient."""
    import uuid

    far = UserFactory(username="far.doctor", role=Role.CLINICIAN, clinic=world.other_clinic)
    far_admin = UserFactory(username="far.admin", role=Role.ADMIN, clinic=world.other_clinic)
    type(far_admin).objects.filter(pk=far_admin.pk).update(is_staff=True, is_superuser=True)
    patient = world.same_clinic_patient
    client.force_login(far)
    assert client.get(reverse("patients:detail", args=[patient.external_id])).status_code == 404
    assert client.get(reverse("patients:detail", args=[uuid.uuid4()])).status_code == 404
    refusals = AuditEvent.objects.filter(action=Action.DENIED, username="far.doctor").order_by("id")
    assert [event.patient_id for event in refusals] == [patient.external_id, None]

    def denied(user):
        client.force_login(user)
        response = client.get(reverse("admin:audit_auditevent_changelist"), {"action__exact": Action.DENIED})
        return [(event.username, event.patient_id) for event in response.context["cl"].result_list]

    assert denied(superuser) == [("far.doctor", patient.external_id)]
    assert sorted(denied(far_admin), key=str) == sorted(
        [("far.doctor", patient.external_id), ("far.doctor", None)], key=str
    )
