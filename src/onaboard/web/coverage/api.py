"""API operations of the coverage app: a patient's coverage evaluation, cost, and the four PDF documents.

Same rules as the pages: staff only (a patient or trainee gets 404 for every id), the patient reached through
``patients.access``, billing staff allowed everything but the patient's after-care sheet; every read audited.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from ninja import Field, Query, Router, Schema

from onaboard.clinical import Stage
from onaboard.web.common.pdf import pdf_response
from onaboard.web.coverage import selectors
from onaboard.web.coverage.documents import DocumentKind, SessionNotFoundError, document_pdf
from onaboard.web.coverage.selectors import CoverageUnavailableError, UnknownPolicyError
from onaboard.web.coverage.serialize import cost_json, coverage_json
from onaboard.web.coverage.views import staff_patient
from onaboard.web.patients.api import PATIENT_ERRORS, caller, problems
from onaboard.web.patients.schemas import ProblemsOut

router = Router(tags=["coverage"])

ERRORS: dict[int, Any] = {**PATIENT_ERRORS, 422: ProblemsOut}


class PolicyOut(Schema):
    id: str
    title: str


class CoverageQuery(Schema):
    policy: str | None = None
    stage: Stage | None = None


POLICY_ID_MAX = 64
"""The longest policy id asked for: far past any shipped one's (file names), so a refusal never echoes pages."""


class DocumentQuery(Schema):
    session: UUID | None = None
    policy: str | None = Field(None, max_length=POLICY_ID_MAX)


@router.get("/coverage/policies", response={200: list[PolicyOut], 401: PATIENT_ERRORS[401]}, summary="Shipped policies")
def policy_list(request: HttpRequest) -> list[dict[str, str]]:
    """The coverage policies shipped with onaboard, by id and title."""
    return [{"id": policy_id, "title": title} for policy_id, title in selectors.policy_choices()]


@router.get(
    "/patients/{patient_id}/coverage",
    response={200: dict[str, Any], **ERRORS},
    summary="A patient's coverage evaluation against a policy",
)
def patient_coverage(request: HttpRequest, patient_id: UUID, query: Query[CoverageQuery]) -> Any:
    """Every criterion of the policy (``policy``, else the one in the patient's insurance) at ``stage`` (default:
    the stage due under that policy: continuation once its ``after_cycles`` sessions are recorded, else initial)
    with its outcome and evidence. 422 without a policy."""
    patient = staff_patient(caller(request), patient_id)
    try:
        view = selectors.coverage_evaluation(
            user=caller(request),
            patient=patient,
            today=timezone.localdate(),
            policy_id=query.policy,
            stage=query.stage.value if query.stage else None,
        )
    except CoverageUnavailableError as error:
        return problems([("policy", str(error))], where="query")
    return coverage_json(view, patient_id=str(patient.external_id))


@router.get("/patients/{patient_id}/cost", response={200: dict[str, Any], **ERRORS}, summary="A patient's cost")
def patient_cost(request: HttpRequest, patient_id: UUID) -> Any:
    """The next session and a year at the prices in force on the planned date with the patient's share, each figure
    with its assumptions; recorded sessions at the prices in force on their day. ``problem`` says why figures are
    missing; ``stopped_on`` is the day of a clinician's decision to stop, when treatment has stopped with nothing
    booked (the figures are then what a further session would cost, and no approval warning is given)."""
    patient = staff_patient(caller(request), patient_id)
    view = selectors.patient_cost(user=caller(request), patient=patient, today=timezone.localdate())
    return cost_json(view, patient_id=str(patient.external_id))


@router.get(
    "/patients/{patient_id}/documents/{kind}",
    response={200: None, **ERRORS},
    summary="One of the clinic's PDF documents",
    openapi_extra={"responses": {200: {"description": "The PDF", "content": {"application/pdf": {}}}}},
)
def patient_document(request: HttpRequest, patient_id: UUID, kind: DocumentKind, query: Query[DocumentQuery]) -> Any:
    """``prior-auth``, ``continuation``, ``procedure`` or ``patient-summary`` as a PDF (``session`` for the last
    two; default the latest recorded session). The patient summary needs the clinical view. The export is audited."""
    patient = staff_patient(caller(request), patient_id, kind.need)
    try:
        made = document_pdf(
            kind,
            user=caller(request),
            patient=patient,
            today=timezone.localdate(),
            session_id=query.session,
            policy_id=query.policy,
            channel="api",
        )
    except SessionNotFoundError as error:
        return problems([("session", str(error))], where="query")
    except UnknownPolicyError as error:
        return problems([("policy", str(error))], where="query")
    except CoverageUnavailableError as error:  # the record cannot give this document yet: no insurance, no prices
        return problems([("kind", str(error))], where="path")
    response: HttpResponse = pdf_response(made.pdf, made.filename)
    return response
