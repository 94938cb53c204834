"""Admin view of clinicians' decisions to continue or stop treatment: read-only, since a decision is recorded through
``services.treatment_decision_record`` (which reads the engine's verdict and writes the audit trail) and never
changed or deleted. Clinical: shown only with the clinical view, every read audited (``PatientDataAdmin``)."""

from __future__ import annotations

from django.contrib import admin

from onaboard.web.audit.admin_reads import PatientDataAdmin
from onaboard.web.injections.admin import ReadOnlyAdmin
from onaboard.web.outcomes.models import TreatmentDecision
from onaboard.web.patients.access import Capability


@admin.register(TreatmentDecision)
class TreatmentDecisionAdmin(PatientDataAdmin, ReadOnlyAdmin):
    view_capabilities = (Capability.VIEW_CLINICAL,)
    list_display = ("decided_on", "patient", "decision", "decided_by", "nice_verdict")
    list_select_related = ("patient", "decided_by")
    list_filter = ("decision", "nice_verdict")
    search_fields = ("patient__record_number",)
    date_hierarchy = "decided_on"
