"""Admin views of sessions and side effects: read-only, since clinical records are changed through the services
(which check the engine's rules and write the audit trail) and never deleted."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from onaboard.web.injections.models import InjectionSession, InjectionSiteRecord, SideEffect


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class SiteInline(admin.TabularInline):
    model = InjectionSiteRecord
    fields = ("muscle", "side", "units", "follow_the_pain", "view", "x", "y")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(InjectionSession)
class InjectionSessionAdmin(ReadOnlyAdmin):
    list_display = ("date", "patient", "status", "total_units", "vials_used", "vial_units", "discarded_units")
    list_filter = ("status", "vial_units")
    search_fields = ("patient__record_number", "product_lot")
    date_hierarchy = "date"
    inlines = (SiteInline,)


@admin.register(SideEffect)
class SideEffectAdmin(ReadOnlyAdmin):
    list_display = ("onset", "patient", "kind", "severity", "clinician_grade", "related_to_treatment", "session")
    list_filter = ("kind", "severity", "clinician_grade")
    search_fields = ("patient__record_number",)
