"""Patients in Django's admin: administrators link a portal login or close the portal; the clinical record is edited
on the clinic's own pages (with optimistic locking and the audit trail), so it is read-only here. Nothing is deleted.
Only the user's own clinic's patients are listed, and every list and page is audited as a read (``PatientDataAdmin``).
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import F
from django.forms import ModelForm
from django.http import HttpRequest

from onaboard.web.audit.admin_reads import PatientDataAdmin
from onaboard.web.audit.models import Action
from onaboard.web.audit.services import audit_record
from onaboard.web.patients.models import Patient

ADMIN_EDITABLE = ("user", "portal_closed")


@admin.register(Patient)
class PatientAdmin(PatientDataAdmin):
    patient_field = ""
    list_display = ("record_number", "family_name", "given_name", "birth_date", "clinic", "user", "portal_closed")
    list_select_related = ("clinic", "user")  # nullable: the changelist's own select_related() skips it
    list_filter = ("clinic",)
    search_fields = ("record_number", "family_name", "given_name")
    fields = (
        "clinic",
        "record_number",
        "given_name",
        "family_name",
        "birth_date",
        "sex",
        "user",
        "portal_closed",
        "version",
    )
    raw_id_fields = ("user",)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        return tuple(name for name in self.fields if name not in ADMIN_EDITABLE)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: Patient, form: ModelForm, change: bool) -> None:
        super().save_model(request, obj, form, change)
        Patient.objects.filter(pk=obj.pk).update(version=F("version") + 1)
        audit_record(
            user=request.user,
            action=Action.UPDATE,
            object_type="patient",
            object_id=obj.external_id,
            patient_id=obj.external_id,
            detail="admin: changed " + (", ".join(form.changed_data) or "nothing"),
        )
