"""Patient data in Django's admin is shown per the user's role and every read is audited (audit/admin_reads.py)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from onaboard.web.audit.models import Action, AuditEvent
from tests.web.factories import InjectionSessionFactory


def _reads(**filters):
    return AuditEvent.objects.filter(action=Action.READ, **filters)


def test_a_patient_search_records_a_read_of_each_patient_listed(client, superuser, world):
    """Searching patients by name in the admin records one read per patient the result lists (and only those),
    without the search words, as /api/patients records each patient it lists."""
    client.force_login(superuser)
    response = client.get(reverse("admin:patients_patient_changelist"), {"q": "Same"})
    assert response.status_code == 200
    assert world.same_clinic_patient.record_number in response.content.decode()
    (event,) = _reads(object_type="patients.patient")
    assert (event.username, event.patient_id) == ("admin", world.same_clinic_patient.external_id)
    assert event.object_id == str(world.same_clinic_patient.external_id)
    assert event.detail == "admin: listed"


def test_opening_a_patient_or_its_history_in_the_admin_records_a_read(client, superuser, world):
    """A patient's admin page and its history page each record a read of that patient."""
    patient = world.same_clinic_patient
    client.force_login(superuser)
    assert client.get(reverse("admin:patients_patient_change", args=[patient.pk])).status_code == 200
    assert client.get(reverse("admin:patients_patient_history", args=[patient.pk])).status_code == 200
    events = _reads(patient_id=patient.external_id).order_by("at", "pk")
    assert [e.detail for e in events] == ["admin: viewed", "admin: viewed history"]


def test_the_admin_reaches_only_the_patients_of_the_users_clinic(client, superuser, world):
    """Like the clinic's pages (patients_visible_to), the admin lists and opens only the patients of the user's own
    clinic: another clinic's patient is neither listed nor opened, and nothing of theirs is recorded as read."""
    far = world.other_clinic_patient
    InjectionSessionFactory(patient=far)
    client.force_login(superuser)
    listing = client.get(reverse("admin:patients_patient_changelist")).content.decode()
    assert world.same_clinic_patient.record_number in listing
    assert far.record_number not in listing
    sessions = client.get(reverse("admin:injections_injectionsession_changelist")).content.decode()
    assert far.record_number not in sessions
    opened = client.get(reverse("admin:patients_patient_change", args=[far.pk]))
    assert opened.status_code == 302
    assert not _reads(patient_id=far.external_id).exists()


def test_a_role_without_patient_capabilities_is_shown_no_patient_data(client, world):
    """A superuser whose role may see no patient (a trainee) is refused the patient and session lists."""
    trainee = world.users["trainee"]
    type(trainee).objects.filter(pk=trainee.pk).update(is_staff=True, is_superuser=True)
    client.force_login(trainee)
    assert client.get(reverse("admin:patients_patient_changelist")).status_code == 403
    assert client.get(reverse("admin:injections_injectionsession_changelist")).status_code == 403


def test_an_administrator_cannot_filter_patients_on_their_safety_answers(client, superuser):
    """A filter in the address on a field the admin does not show (a safety answer) is refused for a role without
    the clinical view, so it cannot sort patients by what it may not read."""
    client.force_login(superuser)
    url = reverse("admin:patients_patient_changelist")
    assert client.get(url, {"pregnant__exact": "1"}).status_code == 400
    assert client.get(url, {"family_name": "Same"}).status_code == 200


@pytest.mark.parametrize(("model_name", "field_name"), [("injectionsession", "patient"), ("sideeffect", "patient")])
def test_the_admins_autocomplete_does_not_search_patients(client, superuser, world, model_name, field_name):
    """The admin's autocomplete endpoint (which no onaboard admin form uses for patients) refuses to search
    patients, so it is no side door to their names around the audited list."""
    client.force_login(superuser)
    query = {"app_label": "injections", "model_name": model_name, "field_name": field_name, "term": "Same"}
    response = client.get(reverse("admin:autocomplete"), query)
    assert response.status_code == 403
    assert "Same" not in response.content.decode()
