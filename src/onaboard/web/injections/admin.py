"""Admin views of sessions and side effects: read-only, since clinical records are changed through the services
(which check the engine's rules and write the audit trail) and never deleted.

What is shown follows the user's role (``PatientDataAdmin``): a session's billing facts, the sites injected among
them (the units billed are the sites' units, as the session page and the API show billing staff), to anyone with
the billing or the clinical view; its override, checks and complications only with the clinical view; side effects
only with the clinical view. Every page and list of them is recorded in the audit trail as a read."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from onaboard.web.audit.admin_reads import PatientDataAdmin
from onaboard.web.injections.models import InjectionSession, InjectionSiteRecord, SideEffect
from onaboard.web.patients.access import Capability


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
class InjectionSessionAdmin(PatientDataAdmin, ReadOnlyAdmin):
    view_capabilities = (Capability.VIEW_CLINICAL, Capability.VIEW_BILLING)
    clinical_fields = ("override_reason", "overridden_checks", "check_reasons", "complications", "error_reason")
    list_display = ("date", "patient", "status", "total_units", "vials_used", "vial_units", "discarded_units")
    list_filter = ("status", "vial_units")
    search_fields = ("patient__record_number", "product_lot")
    date_hierarchy = "date"
    inlines = (SiteInline,)


@admin.register(SideEffect)
class SideEffectAdmin(PatientDataAdmin, ReadOnlyAdmin):
    view_capabilities = (Capability.VIEW_CLINICAL,)
    list_display = ("onset", "patient", "kind", "severity", "clinician_grade", "related_to_treatment", "session")
    list_select_related = ("patient", "session")  # nullable: the changelist's own select_related() skips it
    list_filter = ("kind", "severity", "clinician_grade")
    search_fields = ("patient__record_number",)
