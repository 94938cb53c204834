"""Admin views of training records. Certificates can be revoked here (the public page then says "Revoked");
everything else is read-only, changed through the training pages."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from onaboard.web.training.models import Certificate, Enrolment, LiveSession, SupervisedInjection


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Certificate)
class CertificateAdmin(admin.ModelAdmin):
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
    list_display = ("title", "starts_at", "clinic", "trainer", "capacity", "cancelled")


@admin.register(Enrolment)
class EnrolmentAdmin(ReadOnlyAdmin):
    list_display = ("session", "trainee", "status", "queued_at", "attended")
    list_filter = ("status",)


@admin.register(SupervisedInjection)
class SupervisedInjectionAdmin(ReadOnlyAdmin):
    list_display = ("date", "trainee", "supervisor", "follow_the_pain")
