"""Every add, change and delete through Django's admin lands in the audit trail (audit/admin_trail.py)."""

from __future__ import annotations

from django.contrib.admin.models import CHANGE
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from onaboard.web.accounts.models import ApiToken, Clinic, Role
from onaboard.web.audit.admin_trail import admin_actions_audit
from onaboard.web.audit.models import Action, AuditEvent
from tests.web.accounts.test_admin import _change_form_data
from tests.web.factories import UserFactory


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


# --- The operator's changes are in the clinic's trail ---------------------------------------------------------------


def _administrators(world):
    """The operator (a superuser of no clinic), this clinic's administrator and the other clinic's (superusers of
    their clinic, as ``manage.py create_clinic_admin`` makes them)."""
    operator = UserFactory(username="operator", role=Role.ADMIN, clinic=None, is_staff=True, is_superuser=True)
    north = world.users["admin"]
    type(north).objects.filter(pk=north.pk).update(is_staff=True, is_superuser=True)
    north.refresh_from_db()
    south = UserFactory(
        username="south.admin", role=Role.ADMIN, clinic=world.other_clinic, is_staff=True, is_superuser=True
    )
    return operator, north, south


def _trail_of(client, administrator, **filters):
    """The details of the events ``administrator``'s audit trail lists (``filters`` as the list's address takes)."""
    client.force_login(administrator)
    response = client.get(reverse("admin:audit_auditevent_changelist"), filters)
    assert response.status_code == 200
    return [event.detail for event in response.context["cl"].result_list]


def test_the_operators_change_to_a_clinics_account_is_in_that_clinics_trail(client, world):
    """The operator unticking Active on this clinic's nurse in the admin writes an event this clinic's administrator
    reads in their trail (it names the nurse's clinic, the operator having none); the other clinic's administrator
    does not read it."""
    operator, north, south = _administrators(world)
    nurse = world.users["nurse"]
    client.force_login(operator)
    url = reverse("admin:accounts_user_change", args=[nurse.pk])
    data = _change_form_data(client.get(url))
    data.pop("is_active")
    assert client.post(url, data).status_code == 302
    event = AuditEvent.objects.get(object_type="accounts.user", action=Action.UPDATE)
    assert (event.username, event.clinic_id, event.object_id) == ("operator", world.clinic.pk, str(nurse.external_id))
    assert _trail_of(client, north, object_type__exact="accounts.user") == ["admin: changed accounts.user (Active)"]
    assert _trail_of(client, south, object_type__exact="accounts.user") == []


def test_the_operators_change_to_a_clinics_entry_token_and_authenticator_name_the_clinic(client, world):
    """The operator renaming this clinic, and the admin's events on a token and an authenticator of its accounts,
    are in this clinic's trail and not the other's; a clinic the operator adds (no accounts yet, so nobody to read
    it) names no clinic, so it can still be deleted: an event naming a clinic keeps it (PROTECT)."""
    operator, north, south = _administrators(world)
    client.force_login(operator)
    site = world.clinic.site_of_service
    url = reverse("admin:accounts_clinic_change", args=[world.clinic.pk])
    assert client.post(url, {"name": "Renamed North", "site_of_service": site}).status_code == 302
    token, _raw = ApiToken.issue(world.users["clinician"], "script")
    device = TOTPDevice.objects.create(user=world.users["nurse"], name="Nurse phone", confirmed=True)
    admin_actions_audit(
        user_id=operator.pk,
        objects=[token, device],
        action_flag=CHANGE,
        change_message=[{"changed": {"fields": ["Name"]}}],
    )
    expected = [
        "admin: changed accounts.apitoken (Name)",
        "admin: changed accounts.clinic (Name)",
        "admin: changed otp_totp.totpdevice (Name)",
    ]
    assert sorted(_trail_of(client, north, action__exact=Action.UPDATE)) == expected
    assert _trail_of(client, south, action__exact=Action.UPDATE) == []
    client.force_login(operator)
    add = reverse("admin:accounts_clinic_add")
    assert client.post(add, {"name": "Mistaken Clinic", "site_of_service": site}).status_code == 302
    mistaken = Clinic.objects.get(name="Mistaken Clinic")
    assert AuditEvent.objects.get(action=Action.CREATE, object_type="accounts.clinic").clinic_id is None
    delete = reverse("admin:accounts_clinic_delete", args=[mistaken.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 302
    assert not Clinic.objects.filter(pk=mistaken.pk).exists()
