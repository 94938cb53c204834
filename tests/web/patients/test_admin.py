"""Patients in Django's admin (onaboard/web/patients/admin.py)."""

from __future__ import annotations

import pytest
from django.contrib.admin.sites import site
from django.test import RequestFactory

from onaboard.web.audit.models import Action, AuditEvent
from onaboard.web.patients.models import Patient

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


def test_an_admin_change_bumps_the_version_and_is_audited(world):
    """Closing a portal in the admin bumps the record version (open forms become stale) and is audited."""
    admin = site._registry[Patient]
    request = RequestFactory().post("/")
    request.user = world.users["admin"]
    patient = world.own_patient
    form = admin.get_form(request, patient)(
        {"user": patient.user_id, "portal_closed_0": "2026-06-01", "portal_closed_1": "10:00"}, instance=patient
    )
    assert form.is_valid(), form.errors
    admin.save_model(request, form.save(commit=False), form, change=True)
    patient.refresh_from_db()
    assert patient.version == 2
    assert patient.portal_closed is not None
    assert AuditEvent.objects.get(action=Action.UPDATE).detail == "admin: changed portal_closed"
