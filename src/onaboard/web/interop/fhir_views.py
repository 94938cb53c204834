"""The FHIR endpoints under /fhir/: the CapabilityStatement, ``Patient/{id}/$everything`` and a transaction Bundle.

Authentication is the API's (config/api.py): ``Authorization: Bearer <token>`` or the signed-in session (its CSRF
token checked on POST). Permissions are the pages': ``$everything`` needs the clinical view of a patient the caller
may see (404 otherwise, audited by patients/access.py); a transaction needs the right to edit clinical records and
imports into the caller's clinic, all or nothing. Every answer is ``application/fhir+json``; every refusal is an
OperationOutcome whose issues name the place (FHIRPath) of each problem.
"""

from __future__ import annotations

import json
from typing import Any
from uuid import UUID

from django.http import Http404, HttpRequest, HttpResponse
from django.middleware.csrf import CsrfViewMiddleware
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST
from fhir.resources.R4B.capabilitystatement import CapabilityStatement

import onaboard
from onaboard.interop.fhir.read import (
    NESTED_TOO_DEEPLY,
    NOT_JSON,
    TRANSACTION_TYPES,
    BundleInvalidError,
    read_bundle,
)
from onaboard.web.accounts.middleware import bearer_lookup, token_well_formed
from onaboard.web.accounts.models import ApiToken, bearer_challenge
from onaboard.web.accounts.selectors import otp_verification_needed
from onaboard.web.interop.outcome import fhir_response, operation_outcome
from onaboard.web.interop.outcome import refusal as _refuse
from onaboard.web.interop.selectors import patients_export
from onaboard.web.interop.services import entry_places, entry_statuses, fhir_records_import
from onaboard.web.patients.access import Capability, can, patient_for

FHIR_VERSION = "4.3.0"
"""R4B, the release ``fhir.resources.R4B`` implements."""

NOT_AUTHENTICATED = gettext_noop("authentication required: Authorization: Bearer <token>, or sign in")
NOT_ALLOWED = gettext_noop("you may not import clinical records")
NO_CLINIC = gettext_noop("your account belongs to no clinic, so there is nowhere to import into")
NOT_FOUND = gettext_noop("no such patient")
NOTHING_TO_IMPORT = gettext_noop("nothing to import")
CSRF_FAILED = gettext_noop("the CSRF check failed: send the X-CSRFToken header with a session, or use a Bearer token")

SUPPORTED = (
    "Patient",
    "Condition",
    "Observation",
    "QuestionnaireResponse",
    "MedicationAdministration",
    "Procedure",
    "Appointment",
    "CarePlan",
    "AdverseEvent",
    "MedicationStatement",
)


def _caller(request: HttpRequest) -> tuple[Any, bool]:
    """(user, by_session): the Bearer token's user, else the signed-in (and code-verified) session's user. The
    rate-limit middleware has looked the token up already (``bearer_lookup``): its finding is used, so a request
    costs one lookup, and a token of a shape no token has is never looked up."""
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("bearer "):
        token = header[7:].strip()
        found = bearer_lookup(request, token)
        if found is not None:
            return found.user, False
        return (ApiToken.user_for(token) if token_well_formed(token) else None), False
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated and not otp_verification_needed(user):
        return user, True
    return None, False


def _not_authenticated(request: HttpRequest) -> HttpResponse:
    """The 401 OperationOutcome, with the ``WWW-Authenticate`` challenge HTTP requires of a 401 (as the API's)."""
    response = _refuse(401, gettext(NOT_AUTHENTICATED), "login")
    response["WWW-Authenticate"] = bearer_challenge(request.headers)
    return response


@require_GET
def metadata(request: HttpRequest) -> HttpResponse:
    """The CapabilityStatement: what this server does (public, like every FHIR server's)."""
    statement = {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": timezone.localdate().isoformat(),  # the clinic's day, the app's "today"
        "publisher": "onaboard",
        "kind": "instance",
        "software": {"name": "onaboard", "version": onaboard.__version__},
        "implementation": {"description": "onaboard clinic", "url": request.build_absolute_uri("/fhir/")},
        "fhirVersion": FHIR_VERSION,
        "format": ["application/fhir+json"],
        "rest": [
            {
                "mode": "server",
                "documentation": "Resources are exchanged in Bundles; see docs/fhir.md for the codes and extensions.",
                "security": {"description": "Authorization: Bearer <token> (manage.py issue_api_token), or a session."},
                "resource": [
                    {
                        "type": name,
                        **(
                            {
                                "operation": [
                                    {
                                        "name": "everything",
                                        "definition": "http://hl7.org/fhir/OperationDefinition/Patient-everything",
                                    }
                                ]
                            }
                            if name == "Patient"
                            else {}
                        ),
                    }
                    for name in SUPPORTED
                ],
                "interaction": [{"code": "transaction"}],
            }
        ],
    }
    CapabilityStatement.model_validate(statement)
    return fhir_response(statement)


@require_GET
def patient_everything(request: HttpRequest, patient_id: UUID) -> HttpResponse:
    """Everything onaboard holds about one patient, as a searchset Bundle; the export is audited."""
    user, _ = _caller(request)
    if user is None:
        return _not_authenticated(request)
    try:
        patient = patient_for(user, patient_id, need=Capability.VIEW_CLINICAL)
    except Http404:
        return _refuse(404, gettext(NOT_FOUND), "not-found")
    return fhir_response(patients_export(user=user, patients=[patient], kind="searchset", how="fhir $everything"))


@csrf_exempt
@require_POST
def transaction(request: HttpRequest) -> HttpResponse:
    """Import a transaction Bundle into the caller's clinic: every entry, or (with an OperationOutcome) none."""
    user, by_session = _caller(request)
    if user is None:
        return _not_authenticated(request)
    if by_session and CsrfViewMiddleware(lambda r: HttpResponse()).process_view(request, None, (), {}) is not None:
        return _refuse(403, gettext(CSRF_FAILED), "security")
    if not can(user, Capability.EDIT_CLINICAL):
        return _refuse(403, gettext(NOT_ALLOWED), "forbidden")
    if user.clinic_id is None:
        return _refuse(403, gettext(NO_CLINIC), "forbidden")
    try:
        document = json.loads(request.body)
    except (ValueError, UnicodeDecodeError) as error:
        return _refuse(400, NOT_JSON.format(detail=error), "structure")
    except RecursionError:  # arrays or objects nested past the interpreter's recursion limit
        return _refuse(400, NESTED_TOO_DEEPLY, "structure")
    today = timezone.localdate()
    try:
        records = read_bundle(document, today=today, types=TRANSACTION_TYPES)
        summary = fhir_records_import(
            user=user,
            clinic=user.clinic,
            records=records,
            source="FHIR transaction",
            places=entry_places(document),
            today=today,
        )
    except BundleInvalidError as refused:
        return fhir_response(operation_outcome(refused.problems), 422)
    outcome = {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": "information", "code": "informational", "diagnostics": line} for line in summary.lines()]
        or [{"severity": "information", "code": "informational", "diagnostics": gettext(NOTHING_TO_IMPORT)}],
    }
    statuses = entry_statuses(document, summary) or ["200 OK"]  # an empty Bundle: one entry for the outcome
    entries = [
        {"response": {"status": status, **({"outcome": outcome} if index == 0 else {})}}
        for index, status in enumerate(statuses)
    ]
    return fhir_response({"resourceType": "Bundle", "type": "transaction-response", "entry": entries})
