"""Patients in Django's admin (onaboard/web/patients/admin.py)."""

from __future__ import annotations

import pytest
from django.contrib.admin.sites import site
from django.test import RequestFactory
from django.urls import reverse
from django.utils.html import escape

from onaboard.web.accounts.models import ApiToken, Role
from onaboard.web.audit.models import Action, AuditEvent
from onaboard.web.patients.admin import NOT_A_PORTAL_LOGIN, PORTAL_CLOSED_HELP, portal_login_candidates
from onaboard.web.patients.models import Patient
from tests.web.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_the_admin_neither_adds_nor_deletes_patients_and_edits_only_the_portal(world):
    """Administrators cannot add or delete patients; only the portal login and its closing are editable."""
    admin = site._registry[Patient]
    request = RequestFactory().get("/")
    request.user = world.users["admin"]
    assert not admin.has_add_permission(request)
    assert not admin.has_delete_permission(request, world.own_patient)
    assert "given_name" in admin.get_readonly_fields(request, world.own_patient)
    assert "portal_closed" not in admin.get_readonly_fields(request, world.own_patient)


def _admin_form(world, patient, closed_on: str):
    """The patient's admin, a request by the clinic's administrator, and its form closing the portal on ``closed_on``
    at 10:00."""
    admin = site._registry[Patient]
    request = RequestFactory().post("/")
    request.user = world.users["admin"]
    form = admin.get_form(request, patient)(
        {"user": patient.user_id, "portal_closed_0": closed_on, "portal_closed_1": "10:00"}, instance=patient
    )
    return admin, request, form


def test_an_admin_change_bumps_the_version_and_is_audited(world):
    """Closing a portal in the admin bumps the record version (open forms become stale) and is audited."""
    admin, request, form = _admin_form(world, world.own_patient, "2026-06-01")
    patient = world.own_patient
    assert form.is_valid(), form.errors
    admin.save_model(request, form.save(commit=False), form, change=True)
    patient.refresh_from_db()
    assert patient.version == 2
    assert patient.portal_closed is not None
    assert AuditEvent.objects.get(action=Action.UPDATE).detail == (
        "admin: changed portal_closed; portal login patient made inactive, 0 API token(s) revoked"
    )


def test_an_admin_change_keeps_a_clinical_save_made_while_the_admin_page_was_open(world):
    """A clinical save (``patient_update``: a name, a safety answer) between the admin's read of the patient and its
    save survives the admin's save: the admin writes only the portal fields it edits, not every column as it read
    them."""
    admin, request, form = _admin_form(world, world.own_patient, "2026-06-01")
    patient = world.own_patient
    assert form.is_valid(), form.errors
    Patient.objects.filter(pk=patient.pk).update(given_name="Patricia", pregnant=True, version=2)
    admin.save_model(request, form.save(commit=False), form, change=True)
    stored = Patient.objects.get(pk=patient.pk)
    assert (stored.given_name, stored.pregnant, stored.version) == ("Patricia", True, 3)
    assert stored.portal_closed is not None


def test_closing_the_portal_in_the_admin_ends_the_login_and_its_tokens(client, world, superuser):
    """Setting Portal closed on the admin's page does what the patient's Close portal account does: the patient
    login is made inactive and its API tokens revoked (before, the login went on signing in and the tokens went on
    answering). Clearing it again leaves the login inactive until the administrator ticks Active on it."""
    patient = world.own_patient
    login = world.users["patient"]
    token, _secret = ApiToken.issue(login, "phone")
    client.force_login(superuser)
    url = reverse("admin:patients_patient_change", args=[patient.pk])
    assert escape(str(PORTAL_CLOSED_HELP)) in client.get(url).content.decode()  # the page says what the date does
    response = client.post(url, {"user": login.pk, "portal_closed_0": "2026-06-01", "portal_closed_1": "10:00"})
    assert response.status_code == 302
    login.refresh_from_db()
    token.refresh_from_db()
    assert not login.is_active
    assert token.revoked
    assert (
        "portal login patient made inactive, 1 API token(s) revoked"
        in AuditEvent.objects.get(action=Action.UPDATE, object_type="patient").detail
    )
    revocation = AuditEvent.objects.exclude(object_type="patient").get(object_id=str(token.external_id))
    assert revocation.user == superuser  # the token's revocation names who closed the portal
    response = client.post(url, {"user": login.pk, "portal_closed_0": "", "portal_closed_1": ""})
    assert response.status_code == 302
    patient.refresh_from_db()
    login.refresh_from_db()
    assert patient.portal_closed is None
    assert not login.is_active


def test_an_admin_save_of_a_closed_portal_does_not_touch_the_login_again(world):
    """Saving a patient whose portal was already closed (another field changed, or nothing) revokes nothing and
    leaves the login as the administrator left it: only the change from open to closed ends the login."""
    admin = site._registry[Patient]
    request = RequestFactory().post("/")
    request.user = world.users["admin"]
    patient = world.own_patient
    Patient.objects.filter(pk=patient.pk).update(portal_closed="2026-06-01T10:00:00Z")
    patient.refresh_from_db()
    login = world.users["patient"]
    token, _secret = ApiToken.issue(login, "phone")
    form = admin.get_form(request, patient)(
        {"user": patient.user_id, "portal_closed_0": "2026-06-01", "portal_closed_1": "10:00"}, instance=patient
    )
    assert form.is_valid(), form.errors
    admin.save_model(request, form.save(commit=False), form, change=True)
    login.refresh_from_db()
    token.refresh_from_db()
    assert login.is_active
    assert not token.revoked


def _portal_form(world, patient, user):
    """The admin's form for ``patient`` with ``user`` chosen as its portal login (None: the field left empty)."""
    admin = site._registry[Patient]
    request = RequestFactory().post("/")
    request.user = world.users["admin"]
    return admin.get_form(request, patient)({"user": user.pk if user else ""}, instance=patient)


def test_only_an_unlinked_patient_account_of_the_clinic_can_be_a_portal_login(world):
    """A new patient account of the patient's clinic is accepted as its portal login; a staff account, another
    clinic's patient account and a patient account already linked to another patient are refused, with the rule."""
    patient = world.same_clinic_patient
    fresh = UserFactory(username="sam", role=Role.PATIENT, clinic=world.clinic)
    assert _portal_form(world, patient, fresh).is_valid()
    far = UserFactory(username="far", role=Role.PATIENT, clinic=world.other_clinic)
    for refused in (world.users["billing"], world.users["clinician"], far, world.users["patient"]):
        form = _portal_form(world, patient, refused)
        assert not form.is_valid(), refused.username
        assert form.errors["user"] == [str(NOT_A_PORTAL_LOGIN)]


def test_the_portal_login_choice_lists_only_the_candidates(world):
    """The user choice offers the clinic's patient accounts no other patient uses, and nobody else."""
    fresh = UserFactory(username="sam", role=Role.PATIENT, clinic=world.clinic)
    UserFactory(username="far", role=Role.PATIENT, clinic=world.other_clinic)
    form = _portal_form(world, world.same_clinic_patient, None)
    assert list(form.fields["user"].queryset) == [fresh]
    assert list(form.fields["user"].queryset) == list(portal_login_candidates(world.same_clinic_patient))
    own = _portal_form(world, world.own_patient, None)
    assert list(own.fields["user"].queryset) == [world.users["patient"], fresh]


def test_a_staff_login_linked_before_is_shown_and_refused_until_unlinked(world):
    """A staff login linked before the rule is shown as the current choice, and saving refuses it until the
    field is emptied (it is not unlinked without the administrator seeing it)."""
    patient = world.same_clinic_patient
    Patient.objects.filter(pk=patient.pk).update(user=world.users["billing"])
    patient.refresh_from_db()
    assert world.users["billing"] in _portal_form(world, patient, None).fields["user"].queryset
    form = _portal_form(world, patient, world.users["billing"])
    assert not form.is_valid()
    assert form.errors["user"] == [str(NOT_A_PORTAL_LOGIN)]
    assert _portal_form(world, patient, None).is_valid()


def test_the_admin_change_page_refuses_a_staff_login_as_portal_login(client, world, superuser):
    """Through the admin's page, choosing a staff account as the portal login is refused and nothing is saved."""
    patient = world.same_clinic_patient
    client.force_login(superuser)
    url = reverse("admin:patients_patient_change", args=[patient.pk])
    response = client.post(url, {"user": world.users["billing"].pk, "portal_closed_0": "", "portal_closed_1": ""})
    assert response.status_code == 200
    assert escape(str(NOT_A_PORTAL_LOGIN)) in response.content.decode()
    patient.refresh_from_db()
    assert patient.user is None


def test_a_clinics_administrator_is_not_offered_other_clinics_names(client, world, superuser):
    """The patients list of an administrator of a clinic has no clinic filter (it would name every clinic of the
    installation); the operator, of no clinic, keeps it."""
    client.force_login(superuser)
    url = reverse("admin:patients_patient_changelist")
    assert world.other_clinic.name not in client.get(url).content.decode()
    type(superuser).objects.filter(pk=superuser.pk).update(clinic=None)
    assert world.other_clinic.name in client.get(url).content.decode()


def test_a_portal_closed_date_after_now_is_refused(world):
    """A later date closed the portal at once all the same, and listed the later day: it is refused, saying so."""
    from onaboard.web.patients.admin import PORTAL_CLOSED_IN_FUTURE

    _admin, _request, form = _admin_form(world, world.own_patient, "2099-01-01")
    assert form.errors["portal_closed"] == [str(PORTAL_CLOSED_IN_FUTURE)]


def test_the_portal_login_field_offers_no_add_or_change_of_an_account(client, world, superuser):
    """No "+" beside the portal login: Users' add form there made accounts without the Patient role."""
    client.force_login(superuser)
    page = client.get(reverse("admin:patients_patient_change", args=[world.own_patient.pk])).content.decode()
    assert 'id="add_id_user"' not in page
    assert 'id="change_id_user"' not in page
