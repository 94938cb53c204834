"""``{% patient_documents %}``: the coverage link and the PDF downloads the signed-in user may have, for the patient
pages (the clinician's page and the billing page include it through patients/_documents.html)."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils import timezone

from onaboard.web.coverage.documents import document_links
from onaboard.web.coverage.selectors import approval_quiet, approval_state, sessions_recorded

register = template.Library()


@register.inclusion_tag("coverage/_patient_documents.html", takes_context=True)
def patient_documents(context: template.Context, patient: Any) -> dict[str, Any]:
    """The letters for the patient (each with the reason it cannot be written yet, if so), and the procedure note
    and after-care sheet of each recorded session, below where the approvals stand. An ended approval, a denial or
    a renewal falling due raise no alarm when no approval is needed (``coverage.selectors.approval_quiet``, as on the
    coverage page)."""
    today = timezone.localdate()
    links = document_links(context.get("user"), patient, today=today)
    return {
        "quiet": approval_quiet(patient, today),
        "patient": patient,
        "letters": [link for link in links if not link.kind.per_session],
        "session_kinds": [link.kind for link in links if link.kind.per_session],
        "sessions": sessions_recorded(patient),
        "approval": approval_state(patient, today),
    }
