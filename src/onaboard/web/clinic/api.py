"""Clinic API operations: the staff worklist and one patient's pathway state (``clinic.selectors``)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop
from ninja import Field, Query, Router, Schema, Status

from onaboard.web.accounts.models import STAFF_ROLES
from onaboard.web.clinic.schemas import PathwayOut, WorklistOut
from onaboard.web.clinic.selectors import (
    SEARCH_MAX_LENGTH,
    SEARCH_MAX_WORDS,
    ApprovalFilter,
    ApprovalLine,
    PathwayState,
    patient_pathway_state,
    worklist,
)
from onaboard.web.common.schema_types import FreeText
from onaboard.web.patients.access import Capability, staff_patient_for
from onaboard.web.patients.api import AUTH_ERRORS, PATIENT_ERRORS, audit_read, caller
from onaboard.web.patients.models import Patient
from onaboard.web.patients.schemas import ErrorOut

router = Router(tags=["clinic"])

STAFF_ONLY = gettext_noop("The worklist is for clinic staff.")


class WorklistQuery(Schema):
    q: FreeText = Field(
        "",
        max_length=SEARCH_MAX_LENGTH,
        description=f"Name or record number, up to {SEARCH_MAX_LENGTH} characters; each of the first "
        f"{SEARCH_MAX_WORDS} words must appear.",
    )
    state: PathwayState | None = None
    approval: ApprovalFilter | None = Field(
        None,
        description="An approval status (rows' approval.status), or needs_attention: required, pending, "
        "renewal_due, denied or ended, or a booking no approval covers (approval.booking_uncovered).",
    )


def _approval(line: ApprovalLine) -> dict[str, Any]:
    return {
        "status": line.status.value,
        "label": line.label,
        "date": line.date,
        "approved_until": line.approved_until,
        "booking_uncovered": line.booking_uncovered,
        "needs_attention": line.needs_attention,
    }


def _patient_ref(patient: Patient) -> dict[str, Any]:
    return {
        "id": patient.external_id,
        "record_number": patient.record_number,
        "given_name": patient.given_name,
        "family_name": patient.family_name,
    }


@router.get("/worklist", response={200: WorklistOut, **AUTH_ERRORS, 403: ErrorOut}, summary="The staff worklist")
def worklist_detail(request: HttpRequest, query: Query[WorklistQuery]) -> Any:
    """The caller's clinic's patients by pathway state (the worklist page), each with where their prior
    authorisation stands, searched by name or record number (``q``) and filtered by ``state`` and by ``approval``,
    and the side effects awaiting a clinician's review, urgent ones first. Billing staff and administrators get
    states, approvals and dates without the clinical summary, and no side effects. 403 for patients and
    trainees."""
    user = caller(request)
    if user.role not in STAFF_ROLES:
        return Status(403, {"detail": gettext(STAFF_ONLY)})
    listing = worklist(
        user=user,
        today=timezone.localdate(),
        query=query.q,
        state=query.state.value if query.state else "",
        approval=query.approval.value if query.approval else "",
    )
    return {
        "groups": [
            {
                "state": group.state.value,
                "label": group.label,
                "rows": [
                    {
                        "patient": _patient_ref(row.patient),
                        "state": row.state.value,
                        "summary": row.summary,
                        "last_session": row.last_session,
                        "next_due": row.next_due,
                        "booked_for": row.booked_for,
                        "approval": _approval(row.approval),
                        "missed_booking": row.missed_booking,
                        "schedule_flag": row.flag.value if row.flag is not None else None,
                    }
                    for row in group.rows
                ],
            }
            for group in listing.groups
        ],
        "counts": {state.value: count for state, count in listing.counts},
        "approval_counts": {status.value: count for status, count in listing.approval_counts},
        "needs_attention": listing.needs_attention,
        "total": listing.total,
        "side_effects_to_review": [
            {
                "id": effect.external_id,
                "patient": _patient_ref(effect.patient),
                "kind": effect.kind,
                "kind_label": str(effect.get_kind_display()),
                "urgent": effect.urgent,
                "severity": effect.severity,
                "onset": effect.onset,
                "reported_at": effect.created,
            }
            for effect in listing.side_effects
        ],
        "side_effects_to_review_total": listing.side_effects_total,
    }


@router.get(
    "/patients/{patient_id}/pathway",
    response={200: PathwayOut, **PATIENT_ERRORS},
    summary="Where a patient stands on the pathway",
)
def pathway_detail(request: HttpRequest, patient_id: UUID) -> Any:
    """The pathway state today with the engine's reasons (the worklist's state and the patient page's summary).
    Staff only, as the worklist and the patient page are: a patient's own id is "not found" to them (their portal
    never shows "stop suggested" before their clinician has decided, nor a clinician's stop reason)."""
    patient = staff_patient_for(caller(request), patient_id, need=Capability.VIEW_CLINICAL)
    pathway = patient_pathway_state(patient, timezone.localdate())
    audit_read(request, patient, "pathway", pathway.state.value)
    return {
        "state": pathway.state.value,
        "label": pathway.label,
        "summary": pathway.summary,
        "reasons": list(pathway.reasons),
        "first_session": pathway.first_session,
        "last_session": pathway.last_session,
        "next_due": pathway.next_due,
        "booked_for": pathway.booked_for,
        "missed_booking": pathway.missed_booking,
        "schedule_flag": pathway.flag.value if pathway.flag is not None else None,
    }
