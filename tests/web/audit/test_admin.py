"""The audit trail's admin (audit/admin.py): read-only, and each clinic's administrator sees their clinic's trail
only."""

from __future__ import annotations

import datetime as dt
import io
import uuid

from django.urls import reverse

from onaboard.web.accounts.models import Role
from onaboard.web.audit.models import Action, AuditEvent
from onaboard.web.audit.services import audit_record
from onaboard.web.patients.models import SAFETY_FLAGS
from tests.web.factories import UserFactory
from tests.web.injections.conftest import record

DAY = dt.date(2026, 3, 2)
REASON = "Severe relapse; neurologist agreed."


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


def _probes(client, world):
    """Another clinic's clinician asks for this clinic's patient and for an id that is nobody's (404 both); returns
    the other clinic's administrator (a superuser of role admin), the patient and the id of nobody."""
    far = UserFactory(username="far.doctor", role=Role.CLINICIAN, clinic=world.other_clinic)
    far_admin = UserFactory(username="far.admin", role=Role.ADMIN, clinic=world.other_clinic)
    type(far_admin).objects.filter(pk=far_admin.pk).update(is_staff=True, is_superuser=True)
    patient, nobody = world.same_clinic_patient, uuid.uuid4()
    client.force_login(far)
    assert client.get(reverse("patients:detail", args=[patient.external_id])).status_code == 404
    assert client.get(reverse("patients:detail", args=[nobody])).status_code == 404
    return far_admin, patient, nobody


def test_a_refused_attempt_on_a_patient_is_in_both_clinics_trails(client, superuser, world):
    """Another clinic's clinician asking for this clinic's patient gets 404, and the refusal names the patient, so
    this clinic's administrator finds it in their trail, patient and all; the other clinic's administrator sees what
    their own clinician tried, without the patient. A refused id that is nobody's names no patient."""
    far_admin, patient, _nobody = _probes(client, world)
    refusals = AuditEvent.objects.filter(action=Action.DENIED, username="far.doctor").order_by("id")
    assert [event.patient_id for event in refusals] == [patient.external_id, None]

    def denied(user):
        client.force_login(user)
        response = client.get(reverse("admin:audit_auditevent_changelist"), {"action__exact": Action.DENIED})
        model_admin = response.context["cl"].model_admin
        return [(event.username, model_admin.patient(event)) for event in response.context["cl"].result_list]

    assert denied(superuser) == [("far.doctor", patient.external_id)]
    assert denied(far_admin) == [("far.doctor", None), ("far.doctor", None)]


def test_the_probers_clinic_cannot_tell_another_clinics_patient_from_nobody(client, world):
    """The prober's clinic's administrator is shown a refused id of another clinic's patient exactly as an id that is
    nobody's: the list, the event's page and a search by the id show it as often and name no patient, and a filter on
    the patient in the address is refused (it would answer "is this a patient?")."""
    far_admin, patient, nobody = _probes(client, world)
    client.force_login(far_admin)
    changelist = reverse("admin:audit_auditevent_changelist")
    listed = client.get(changelist, {"action__exact": Action.DENIED}).content.decode()
    assert listed.count(str(patient.external_id)) == listed.count(str(nobody)) > 0
    for wanted in (patient.external_id, nobody):
        event = AuditEvent.objects.get(action=Action.DENIED, object_id=str(wanted))
        page = client.get(reverse("admin:audit_auditevent_change", args=[event.pk])).content.decode()
        assert page.count(str(wanted)) == 2  # the id asked for and the address asked
    found = [
        client.get(changelist, {"q": str(wanted)}).context["cl"].result_count
        for wanted in (patient.external_id, nobody)
    ]
    assert found == [1, 1]
    for lookup in ({"patient_id": str(patient.external_id)}, {"patient_id__isnull": "False"}):
        assert client.get(changelist, lookup).status_code == 400


def test_an_administrator_reading_the_trail_is_not_shown_clinical_content(client, superuser, world):
    """An administrator (role admin, staff), who is shown no clinical notes, reads in the trail that a session's
    check was overridden, never the clinician's reason, on the list or the event's page."""
    patient = world.own_patient
    for flag in SAFETY_FLAGS:
        setattr(patient, flag, False)
    patient.other_toxin_asked = True
    patient.save()
    record(user=world.users["nurse"], patient=patient, date=DAY)
    record(user=world.users["clinician"], patient=patient, date=DAY + dt.timedelta(days=60), override_reason=REASON)
    event = AuditEvent.objects.get(object_type="injection_session_override")
    client.force_login(superuser)
    listed = client.get(reverse("admin:audit_auditevent_changelist"))
    page = client.get(reverse("admin:audit_auditevent_change", args=[event.pk]))
    assert (listed.status_code, page.status_code) == (200, 200)
    assert "overrode interval" in page.content.decode()
    assert [REASON in response.content.decode() for response in (listed, page)] == [False, False]


def test_failed_sign_ins_and_command_made_accounts_are_in_their_clinics_trail(client, superuser, world):
    """A failed sign-in under one of the clinic's names, and a token manage.py issued for one of its accounts, are
    events no user made: their clinic's administrator reads them (the operator alone did), another clinic's does
    not, and a failed sign-in under a name nobody has stays the operator's."""
    from django.core.management import call_command

    client.post(reverse("accounts:login"), {"username": "nurse", "password": "wrong"})
    client.post(reverse("accounts:login"), {"username": "no.such.person", "password": "wrong"})
    call_command("issue_api_token", "nurse", "ward tablet", stdout=io.StringIO(), stderr=io.StringIO())
    far_admin = UserFactory(
        username="far.admin", role=Role.ADMIN, clinic=world.other_clinic, is_staff=True, is_superuser=True
    )
    client.force_login(superuser)
    changelist = reverse("admin:audit_auditevent_changelist")
    failed = client.get(changelist, {"action__exact": Action.LOGIN_FAILED}).context["cl"].result_list
    assert [event.detail for event in failed] == ["nurse"]
    issued = client.get(changelist, {"object_type__exact": "api_token"}).context["cl"].result_list
    assert len(issued) == 1
    client.force_login(far_admin)
    assert not client.get(changelist, {"action__exact": Action.LOGIN_FAILED}).context["cl"].result_list


def test_an_event_naming_the_clinic_is_its_own_only_if_no_user_of_a_clinic_made_it(client, superuser, world):
    """An event naming this clinic (``AuditEvent.clinic``) is in its trail when the operator (of no clinic) made it,
    as when nobody did; one another clinic's user made is not, whatever clinic it names, and is in theirs."""
    operator = UserFactory(username="operator", role=Role.ADMIN, clinic=None, is_staff=True, is_superuser=True)
    far_admin = UserFactory(
        username="far.admin", role=Role.ADMIN, clinic=world.other_clinic, is_staff=True, is_superuser=True
    )
    for user, detail in ((operator, "by the operator"), (None, "by nobody"), (far_admin, "by another clinic's")):
        audit_record(
            user=user, action=Action.UPDATE, object_type="test", object_id="x", detail=detail, clinic_id=world.clinic.pk
        )
    assert _listed(client, superuser) == ["by nobody", "by the operator"]
    assert _listed(client, far_admin) == ["by another clinic's"]
