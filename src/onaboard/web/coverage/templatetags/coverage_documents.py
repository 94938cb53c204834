"""``{% patient_documents %}``: the coverage link and the PDF downloads the signed-in user may have, for the patient
pages (the clinician's page and the billing page include it through patients/_documents.html)."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils import timezone

from onaboard.web.coverage.documents import DocumentKind
from onaboard.web.coverage.selectors import approval_state, sessions_recorded
from onaboard.web.patients.access import can

register = template.Library()


@register.inclusion_tag("coverage/_patient_documents.html", takes_context=True)
def patient_documents(context: template.Context, patient: Any) -> dict[str, Any]:
    """The letters for the patient, and the procedure note and after-care sheet of each recorded session."""
    user = context.get("user")
    kinds = [kind for kind in DocumentKind if can(user, kind.need)]
    today = timezone.localdate()
    return {
        "patient": patient,
        "letters": [kind for kind in kinds if not kind.per_session],
        "session_kinds": [kind for kind in kinds if kind.per_session],
        "sessions": sessions_recorded(patient),
        "approval": approval_state(patient, today),
    }
