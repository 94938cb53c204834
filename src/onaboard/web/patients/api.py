"""Patient API operations, and the plumbing every patient-scoped operation shares.

Each operation reaches the patient through patients/access.py (``patient_for``: 404 when the caller may not see the
patient or lacks the capability, the refusal audited) and records what it read or changed in the audit trail.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from uuid import UUID

from django.http import HttpRequest
from ninja import Field as NinjaField
from ninja import Query, Router, Schema, Status

from onaboard.web.audit.models import Action
from onaboard.web.audit.services import AuditEntry, audit_record, audit_records
from onaboard.web.patients.access import Capability, patient_for, patients_visible_to
from onaboard.web.patients.models import Patient
from onaboard.web.patients.schemas import ErrorOut, PatientOut, PatientPageOut, ProblemsOut

router = Router(tags=["patients"])

AUTH_ERRORS: dict[int, Any] = {401: ErrorOut}
"""Every operation: 401 without a valid token or signed-in (and, if set up, code-verified) session."""
PATIENT_ERRORS: dict[int, Any] = {401: ErrorOut, 404: ErrorOut}
"""Patient-scoped operations: 404 also when the patient exists but the caller may not see it or do this."""
WRITE_ERRORS: dict[int, Any] = {**PATIENT_ERRORS, 422: ProblemsOut}

MAX_PAGE = 200


def caller(request: HttpRequest) -> Any:
    """The authenticated user (from the bearer token or the session)."""
    return request.auth  # type: ignore[attr-defined]


def api_patient(request: HttpRequest, patient_id: UUID, need: Capability) -> Patient:
    """The patient if the caller may see them and has ``need``; otherwise Http404 (ninja answers 404)."""
    return patient_for(caller(request), patient_id, need=need)


def audit_read(request: HttpRequest, patient: Patient, object_type: str, detail: str = "") -> None:
    """Record that the caller read this part of the patient's record through the API."""
    audit_record(
        user=caller(request),
        action=Action.READ,
        object_type=object_type,
        object_id=patient.external_id,
        patient_id=patient.external_id,
        detail=f"api {detail}".strip(),
    )


Place = tuple[str | int, ...]
"""Where a problem is: ``("path", "day")``, ``("query", "vial_units")``, ``("body", "answers", "q2")``."""


def problems(pairs: Iterable[tuple[str | Place, object]], *, where: str = "body") -> Status[dict[str, Any]]:
    """422 listing ``(field, message)`` pairs, in django-ninja's validation shape so every 422 reads the same.

    A field given by name is under ``where`` (``"body"``, ``"query"`` or ``"path"``); one given as a ``Place``
    is that place as it stands. Either way ``loc[0]`` says where and ``loc[-1]`` names the parameter or field."""
    detail = [
        {"loc": list(field) if isinstance(field, tuple) else [where, field], "msg": str(message), "type": "value_error"}
        for field, message in pairs
    ]
    return Status(422, {"detail": detail})


MAX_OFFSET = 10_000_000
"""The largest offset asked for: far past any clinic's patients, and far inside the database's 64-bit integers (a
larger offset reached PostgreSQL as an out-of-range bigint)."""


class PatientListQuery(Schema):
    limit: int = NinjaField(50, ge=1, le=MAX_PAGE)
    offset: int = NinjaField(0, ge=0, le=MAX_OFFSET)


@router.get("/patients", response={200: PatientPageOut, **AUTH_ERRORS}, summary="Patients visible to the caller")
def patient_list(request: HttpRequest, query: Query[PatientListQuery]) -> dict[str, Any]:
    """Staff see their clinic's patients; a patient sees their own record; trainees see none.

    Ordered by family name, given name, then record number (unique in a clinic) and id, so that pages neither repeat
    nor skip patients who share a name. Each patient on the page is recorded in the audit trail as read.
    """
    visible = patients_visible_to(caller(request)).select_related("clinic")  # Patient's total order (its Meta)
    page = list(visible[query.offset : query.offset + query.limit])
    audit_records(
        user=caller(request),
        entries=(
            AuditEntry.for_patient(patient, action=Action.READ, object_type="patient", detail="api list")
            for patient in page
        ),
    )
    return {"count": visible.count(), "items": page}


@router.get(
    "/patients/{patient_id}", response={200: PatientOut, **PATIENT_ERRORS}, summary="One patient's demographics"
)
def patient_detail(request: HttpRequest, patient_id: UUID) -> Patient:
    """Demographics of one patient the caller may see (404 otherwise); the read is audited."""
    patient = api_patient(request, patient_id, Capability.VIEW_DEMOGRAPHICS)
    audit_read(request, patient, "patient")
    return patient
