"""Admin views of training records. Certificates can be revoked here (the public page then says "Revoked");
everything else is read-only, changed through the training pages. An administrator of a clinic reaches the records
of their own clinic's trainees and live sessions only; the operator (an administrator of no clinic) reaches all
(``accounts.admin.clinic_scoped``)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from onaboard.web.accounts.admin import clinic_scoped
from onaboard.web.training.models import Certificate, Enrolment, LiveSession, SupervisedInjection


class ClinicScopedAdmin(admin.ModelAdmin):
    clinic_lookup = ""
    """The lookup from a row to its clinic's id."""

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return clinic_scoped(request, super().get_queryset(request), self.clinic_lookup)


class ReadOnlyAdmin(ClinicScopedAdmin):
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Certificate)
class CertificateAdmin(ClinicScopedAdmin):
    clinic_lookup = "trainee__clinic_id"
    list_display = ("holder_name", "issued_by", "issued_on", "code", "revoked")
    list_filter = ("revoked",)
    search_fields = ("holder_name", "issued_by", "code")
    fields = ("holder_name", "issued_by", "issued_on", "code", "revoked")
    readonly_fields = ("holder_name", "issued_by", "issued_on", "code")

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(LiveSession)
class LiveSessionAdmin(ReadOnlyAdmin):
    clinic_lookup = "clinic_id"
    list_display = ("title", "starts_at", "clinic", "trainer", "capacity", "cancelled")


@admin.register(Enrolment)
class EnrolmentAdmin(ReadOnlyAdmin):
    clinic_lookup = "session__clinic_id"
    list_display = ("session", "trainee", "status", "queued_at", "attended")
    list_filter = ("status",)


@admin.register(SupervisedInjection)
class SupervisedInjectionAdmin(ReadOnlyAdmin):
    clinic_lookup = "trainee__clinic_id"
    list_display = ("date", "trainee", "supervisor", "follow_the_pain")
