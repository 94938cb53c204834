"""Every add, change and delete through Django's admin lands in the audit trail (audit/admin_trail.py)."""

from __future__ import annotations

from django.contrib.admin.models import CHANGE
from django.urls import reverse

from onaboard.web.accounts.models import ApiToken, Clinic
from onaboard.web.audit.admin_trail import admin_actions_audit
from onaboard.web.audit.models import Action, AuditEvent


def _admin(client, world):
    admin = world.users["admin"]
    admin.is_staff = admin.is_superuser = True
    admin.save()
    client.force_login(admin)
    return admin


def _operator(client, world):
    """The installation's operator: a superuser of no clinic, who adds, renames and deletes clinics."""
    admin = _admin(client, world)
    admin.clinic = None
    admin.save()
    return admin


def test_adding_through_the_admin_is_audited(client, world):
    """Adding a clinic in the admin records a create event by the admin, naming the clinic's public id."""
    _operator(client, world)
    response = client.post(
        reverse("admin:accounts_clinic_add"), {"name": "East Headache Clinic", "site_of_service": "office"}
    )
    assert response.status_code == 302
    clinic = Clinic.objects.get(name="East Headache Clinic")
    event = AuditEvent.objects.get(action=Action.CREATE, object_type="accounts.clinic")
    assert (event.username, event.object_id) == ("admin", str(clinic.external_id))
    assert event.detail == "admin: added accounts.clinic"


def test_changing_through_the_admin_names_the_fields_not_the_values(client, world):
    """A change event lists the changed field names and never the new values."""
    _operator(client, world)
    url = reverse("admin:accounts_clinic_change", args=[world.other_clinic.pk])
    site = world.other_clinic.site_of_service  # unchanged: the event names only the field that changed
    response = client.post(url, {"name": "Renamed Clinic", "site_of_service": site})
    assert response.status_code == 302
    event = AuditEvent.objects.get(action=Action.UPDATE, object_type="accounts.clinic")
    assert event.detail == "admin: changed accounts.clinic (Name)"
    assert "Renamed" not in event.detail


def test_bulk_deletes_through_the_admin_are_audited_one_event_per_object(client, world):
    """Deleting two clinics with the admin's bulk action records two delete events."""
    _operator(client, world)
    spare = [Clinic.objects.create(name=f"Spare {n}") for n in (1, 2)]
    response = client.post(
        reverse("admin:accounts_clinic_changelist"),
        {"action": "delete_selected", "_selected_action": [c.pk for c in spare], "post": "yes"},
    )
    assert response.status_code == 302
    events = AuditEvent.objects.filter(action=Action.DELETE, object_type="accounts.clinic")
    assert sorted(e.object_id for e in events) == sorted(str(c.external_id) for c in spare)


def test_admin_actions_on_tokens_are_audited_too(client, world):
    """The token admin's revoke action leaves both its own event and the admin's change event."""
    _admin(client, world)
    token, _raw = ApiToken.issue(world.users["clinician"], "script")
    client.post(reverse("admin:accounts_apitoken_changelist"), {"action": "revoke", "_selected_action": [token.pk]})
    assert AuditEvent.objects.filter(object_type="api_token", action=Action.UPDATE).count() == 1


def test_the_trail_is_searched_by_a_patients_id_exactly(client, world):
    """A patient's public id finds that patient's events (exactly, on the indexed column) and no one else's; the
    list offers a date filter rather than a date hierarchy, which read every event's day on a year's trail."""
    nurse = world.users["nurse"]
    for patient in (world.same_clinic_patient, world.own_patient):
        client.force_login(nurse)
        client.get(reverse("patients:detail", args=[patient.external_id]))
    _admin(client, world)
    url = reverse("admin:audit_auditevent_changelist")
    found = client.get(url, {"q": str(world.same_clinic_patient.external_id)})
    events = list(found.context["cl"].result_list)
    assert events
    assert {event.patient_id for event in events} == {world.same_clinic_patient.external_id}
    assert found.context["cl"].date_hierarchy is None
    assert client.get(url, {"at__gte": "2000-01-01 00:00:00+00:00"}).status_code == 200


def test_an_admin_change_to_a_patients_login_names_the_patient(world):
    """An account has no patient field, yet a change to a patient's portal login is in that patient's trail: the
    event names the patient whose login it is; in the same bulk, a staff account's event names no patient."""
    login, nurse = world.users["patient"], world.users["nurse"]
    admin_actions_audit(
        user_id=world.users["admin"].pk,
        objects=[login, nurse],
        action_flag=CHANGE,
        change_message=[{"changed": {"fields": ["Active"]}}],
    )
    events = AuditEvent.objects.filter(object_type="accounts.user")
    assert {event.object_id: event.patient_id for event in events} == {
        str(login.external_id): world.own_patient.external_id,
        str(nurse.external_id): None,
    }
