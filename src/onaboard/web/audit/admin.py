"""Admins read the audit trail, their own clinic's only; nobody edits it.

A refused attempt on another clinic's patient is in the trail of the prober's clinic too, but without the patient:
there it reads exactly as an attempt on an id that is nobody's (``AuditEventAdmin.patient``), or the trail would
answer "is this id a patient somewhere?" for whoever probes and then reads it.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib import admin
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.db.models.constants import LOOKUP_SEP
from django.http import HttpRequest

from onaboard.web.audit.models import Action, AuditEvent
from onaboard.web.patients.models import Patient


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ("at", "username", "role", "action", "object_type", "object_id", "patient", "ip_address")
    fields = (
        "user",
        "username",
        "role",
        "action",
        "object_type",
        "object_id",
        "patient",
        "ip_address",
        "path",
        "detail",
    )
    readonly_fields = ("patient",)
    list_filter = (("at", admin.DateFieldListFilter), "action", "role", "object_type")
    search_fields = ("username", "object_id", "path")
    show_full_result_count = False
    # No date_hierarchy: its SELECT DISTINCT of every event's day took 4.4 s on a year's trail (1 M rows); the
    # date filter above is a range on the indexed column.

    def get_queryset(self, request: HttpRequest) -> QuerySet[AuditEvent]:
        """The events of the user's own clinic: an event about a patient by the patient's clinic, any other by the
        clinic of the user who acted. A refused attempt on a patient is both clinics' concern, so it is shown to
        the patient's clinic and to the clinic of the user who tried (who typed the id they are shown). An event no
        user of a clinic made (a failed sign-in, an account or token ``manage.py`` made; the operator's change to
        an account, token or authenticator of the clinic or to its entry, a lockout lifted or a token revoked by
        the operator) is shown to the clinic it is about (``AuditEvent.clinic``); an event by another clinic's user
        never is, whatever clinic it names. An administrator of no clinic (the operator) sees the whole trail,
        events about no clinic (a failed sign-in under an unknown name, a system job) only that one."""
        queryset = super().get_queryset(request)
        clinic = getattr(request.user, "clinic_id", None)
        if clinic is None:
            return queryset if request.user.is_superuser else queryset.none()
        patients = Patient.objects.filter(clinic_id=clinic).values("external_id")  # ids only: no record is read
        own = Patient.objects.filter(clinic_id=clinic, external_id=OuterRef("patient_id"))
        return queryset.filter(
            Q(patient_id__isnull=False, patient_id__in=patients)
            | Q(patient_id__isnull=True, user__clinic_id=clinic)
            | (Q(patient_id__isnull=True, clinic_id=clinic) & (Q(user__isnull=True) | Q(user__clinic_id__isnull=True)))
            | Q(action=Action.DENIED, user__clinic_id=clinic)
        ).annotate(patient_of_clinic=Exists(own))

    @admin.display(description="patient id")
    def patient(self, event: AuditEvent) -> uuid.UUID | None:
        """The event's patient, shown to an administrator of that patient's clinic and to the operator; a refused
        attempt on another clinic's patient shows none (not sortable either: the order would tell)."""
        return event.patient_id if getattr(event, "patient_of_clinic", True) else None

    def lookup_allowed(self, lookup: str, value: str, request: HttpRequest | None = None) -> bool:
        """A filter on the patient in the address is the operator's only: for a clinic's administrator it would tell
        a refused id of another clinic's patient from an id of nobody. They search by the id instead."""
        clinic = getattr(getattr(request, "user", None), "clinic_id", None)
        if lookup.split(LOOKUP_SEP, maxsplit=1)[0] == "patient_id" and clinic is not None:
            return False
        return super().lookup_allowed(lookup, value, request)

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[AuditEvent], search_term: str
    ) -> tuple[QuerySet[AuditEvent], bool]:
        """A UUID (a patient's or a record's public id) is matched exactly, on the indexed ``patient_id`` and on
        ``object_id``; other text by the search fields. A trail is searched by patient far more than anything."""
        try:
            wanted = uuid.UUID(search_term.strip())
        except ValueError:
            return super().get_search_results(request, queryset, search_term)
        by_patient = Q(patient_id=wanted)
        if getattr(request.user, "clinic_id", None) is not None:
            by_patient &= Q(patient_of_clinic=True)  # not another clinic's patient a refused attempt named
        return queryset.filter(by_patient | Q(object_id=str(wanted))), False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
