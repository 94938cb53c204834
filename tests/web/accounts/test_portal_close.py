"""Closing a patient's portal account: access ends, the record stays, and it is audited (accounts/services.py,
views.py)."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils.html import escape

from onaboard.web.accounts.forms import CLOSE_NOT_CONFIRMED
from onaboard.web.accounts.models import ApiToken
from onaboard.web.accounts.services import NOT_A_PORTAL_ACCOUNT, PORTAL_ALREADY_CLOSED, portal_account_close
from onaboard.web.audit.models import Action, AuditEvent
from onaboard.web.patients.models import Patient
from tests.web.factories import PASSWORD

CLOSE = reverse("accounts:portal_close")
LOGIN = reverse("accounts:login")


def _staff_close(patient):
    return reverse("accounts:patient_portal_close", kwargs={"external_id": patient.external_id})


def test_the_patient_sees_a_confirmation_step_first(client, world):
    """The page explains what closing does; without the tick nothing is closed and the error says why."""
    client.force_login(world.users["patient"])
    page = client.get(CLOSE).content.decode()
    assert "Close my portal account" in page
    assert "stay in your clinical record" in page
    response = client.post(CLOSE, {})
    assert response.status_code == 200
    assert str(CLOSE_NOT_CONFIRMED) in response.content.decode()
    world.own_patient.refresh_from_db()
    assert world.own_patient.portal_closed is None


def test_the_patients_own_close_page_is_an_audited_read(client, world):
    """The patient's own close page names them: showing it (and again after a post without the tick) writes a READ
    event by the patient naming their record, as the staff's close page and every other portal page do (it wrote
    none)."""
    client.force_login(world.users["patient"])
    patient = world.own_patient
    assert client.get(CLOSE).status_code == 200
    assert client.post(CLOSE, {}).status_code == 200
    reads = AuditEvent.objects.filter(action=Action.READ).order_by("id")
    assert [(e.object_type, e.object_id, e.patient_id, e.username) for e in reads] == [
        ("patient", str(patient.external_id), patient.external_id, "patient")
    ] * 2


def test_a_patient_closes_their_account_and_can_no_longer_sign_in(client, world):
    """After confirming, the patient is signed out, cannot sign in again, the record stays, and it is audited."""
    patient_user = world.users["patient"]
    _token, raw = ApiToken.issue(patient_user, "phone")
    client.post(LOGIN, {"username": "patient", "password": PASSWORD})
    response = client.post(CLOSE, {"confirm": "on"})
    assert response.status_code == 302
    assert response.url == LOGIN
    assert "_auth_user_id" not in client.session
    record = Patient.objects.get(pk=world.own_patient.pk)
    assert record.portal_closed is not None
    assert record.given_name == "Pat"
    assert client.post(LOGIN, {"username": "patient", "password": PASSWORD}).status_code == 200
    assert client.get("/api/patients", HTTP_AUTHORIZATION=f"Bearer {raw}").status_code == 401
    event = AuditEvent.objects.get(object_type="portal_account")
    assert event.action == Action.UPDATE
    assert event.username == "patient"
    assert event.patient_id == world.own_patient.external_id
    assert event.detail == "portal account closed by the patient; clinical record kept; 1 API token(s) revoked"


def test_an_open_session_on_another_device_ends_too(client, world):
    """A phone still signed in loses access at its next request once the account is closed elsewhere."""
    client.force_login(world.users["patient"])
    portal_account_close(patient=world.own_patient, closed_by=world.users["clinician"])
    assert client.get(reverse("diary:today")).status_code == 302


def test_a_clinician_closes_the_account_on_the_patients_behalf(client, world):
    """Clinical staff can close it from the patient's record; the audit names them and the patient."""
    client.force_login(world.users["clinician"])
    patient = world.own_patient
    assert "Close the patient" in client.get(_staff_close(patient)).content.decode()
    response = client.post(_staff_close(patient), {"confirm": "on"})
    assert response.status_code == 302
    event = AuditEvent.objects.get(object_type="portal_account")
    assert (event.username, event.patient_id) == ("clinician", patient.external_id)
    assert "staff on the patient's behalf" in event.detail
    again = client.post(_staff_close(patient), {"confirm": "on"})
    assert str(PORTAL_ALREADY_CLOSED) in again.content.decode()


@pytest.mark.parametrize("role", ["billing", "admin", "trainee"])
def test_non_clinical_staff_cannot_close_an_account(client, world, role):
    """Billing staff, administrators (in the app) and trainees get 404 and nothing changes."""
    client.force_login(world.users[role])
    assert client.post(_staff_close(world.own_patient), {"confirm": "on"}).status_code == 404
    world.own_patient.refresh_from_db()
    assert world.own_patient.portal_closed is None


def test_staff_cannot_close_another_clinics_patient(client, world):
    """A patient of another clinic is not found."""
    client.force_login(world.users["clinician"])
    assert client.post(_staff_close(world.other_clinic_patient), {"confirm": "on"}).status_code == 404


def test_staff_have_no_own_portal_to_close(client, world):
    """The patient's own close page is 404 for staff."""
    client.force_login(world.users["nurse"])
    assert client.get(CLOSE).status_code == 404


def test_a_staff_login_linked_to_a_record_is_not_closed(client, world):
    """Closing the portal of a record whose linked login is a staff account is refused with the reason; the staff
    member can still sign in and nothing is recorded as closed."""
    billing = world.users["billing"]
    patient = world.same_clinic_patient
    Patient.objects.filter(pk=patient.pk).update(user=billing)
    patient.refresh_from_db()
    with pytest.raises(ValueError, match="not a patient account"):
        portal_account_close(patient=patient, closed_by=world.users["clinician"])
    client.force_login(world.users["clinician"])
    response = client.post(_staff_close(patient), {"confirm": "on"})
    assert response.status_code == 200
    assert escape(str(NOT_A_PORTAL_ACCOUNT)) in response.content.decode()
    patient.refresh_from_db()
    billing.refresh_from_db()
    assert (patient.portal_closed, billing.is_active) == (None, True)
    assert not AuditEvent.objects.filter(object_type="portal_account").exists()
    client.logout()
    assert client.post(LOGIN, {"username": "billing", "password": PASSWORD}).status_code == 302


def test_a_reopened_portal_login_has_no_token_of_before(client, world):
    """Closing the portal revokes the login's tokens (each audited with who closed it); making the login active
    again does not bring them back."""
    patient_user = world.users["patient"]
    _token, raw = ApiToken.issue(patient_user, "phone")
    portal_account_close(patient=world.own_patient, closed_by=world.users["clinician"])
    type(patient_user).objects.filter(pk=patient_user.pk).update(is_active=True)
    assert client.get("/api/patients", HTTP_AUTHORIZATION=f"Bearer {raw}").status_code == 401
    event = AuditEvent.objects.get(object_type="api_token")
    assert (event.username, event.detail.endswith("revoked: portal account closed")) == ("clinician", True)


def test_the_staff_close_page_is_an_audited_read_of_the_patient(client, world):
    """The staff close page names the patient's record number, so showing it, and showing it again after a post
    without the tick, each write a read of that patient by the staff member; the close itself shows no page and
    writes no read."""
    patient = world.own_patient
    client.force_login(world.users["nurse"])
    page = client.get(_staff_close(patient)).content.decode()
    assert patient.record_number in page
    assert client.post(_staff_close(patient), {}).status_code == 200
    assert client.post(_staff_close(patient), {"confirm": "on"}).status_code == 302
    reads = AuditEvent.objects.filter(action=Action.READ).order_by("pk")
    assert [(e.username, e.object_type, e.object_id, e.patient_id, e.detail) for e in reads] == [
        ("nurse", "patient", str(patient.external_id), patient.external_id, "portal account close form"),
    ] * 2
