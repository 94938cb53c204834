"""API operations of the training app: course progress, live sessions and enrolment, certificate verification.

The same permissions as the pages (``onaboard.web.training.access``); certificate verification is public, like its
page, and returns only the holder's name, the issuing clinic, the date and validity.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from uuid import UUID

from django.http import HttpRequest
from django.utils.translation import gettext, gettext_noop
from ninja import Router, Schema, Status

from onaboard.web.patients.api import AUTH_ERRORS, caller
from onaboard.web.patients.schemas import ErrorOut
from onaboard.web.training import selectors, services
from onaboard.web.training.access import is_learner

router = Router(tags=["training"])

LEARNERS_ONLY = gettext_noop("Training is for trainees and clinical staff.")
NO_SESSION = gettext_noop("No such live session.")


class ModuleProgressOut(Schema):
    id: str
    title: str
    level: str
    unlocked: bool
    passed: bool
    best_percent: int | None


class LiveSessionOut(Schema):
    id: UUID
    title: str
    starts_at: dt.datetime
    place: str
    link: str
    capacity: int
    enrolled: int
    waitlisted: int
    cancelled: bool


class EnrolmentOut(Schema):
    session: UUID
    status: str


class VerificationOut(Schema):
    valid: bool
    holder_name: str | None = None
    issued_by: str | None = None
    """The clinic that issued the certificate of training, named as it was at issue (``None``: no clinic)."""
    issued_on: dt.date | None = None


def _session_out(session: Any) -> dict[str, Any]:
    return {
        "id": session.external_id,
        "title": session.title,
        "starts_at": session.starts_at,
        "place": session.place,
        "link": session.link,
        "capacity": session.capacity,
        "enrolled": session.enrolled,
        "waitlisted": session.waitlisted,
        "cancelled": session.cancelled,
    }


@router.get(
    "/training/modules",
    response={200: list[ModuleProgressOut], **AUTH_ERRORS, 403: ErrorOut},
    summary="The course and the caller's progress",
)
def modules(request: HttpRequest) -> Any:
    """Every module in course order with the caller's progress; modules unlock in order."""
    user = caller(request)
    if not is_learner(user):
        return Status(403, {"detail": gettext(LEARNERS_ONLY)})
    return [
        {
            "id": item.module.id,
            "title": item.module.title,
            "level": item.module.level.value,
            "unlocked": item.unlocked,
            "passed": item.passed,
            "best_percent": item.best_percent,
        }
        for item in services.course_progress(user)
    ]


@router.get(
    "/training/sessions",
    response={200: list[LiveSessionOut], **AUTH_ERRORS, 403: ErrorOut},
    summary="Upcoming live sessions of the caller's clinic",
)
def sessions(request: HttpRequest) -> Any:
    user = caller(request)
    if not is_learner(user):
        return Status(403, {"detail": gettext(LEARNERS_ONLY)})
    return [_session_out(session) for session in selectors.upcoming_sessions(user)]


@router.post(
    "/training/sessions/{live_session_id}/enrolments",
    response={201: EnrolmentOut, **AUTH_ERRORS, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut},
    summary="Enrol in a live session (or join its waitlist)",
)
def enrol(request: HttpRequest, live_session_id: UUID) -> Any:
    """Enrol the caller; ``status`` is ``waitlisted`` when every place is taken. 409 when already on the list."""
    user = caller(request)
    if not is_learner(user):
        return Status(403, {"detail": gettext(LEARNERS_ONLY)})
    session = selectors.sessions_visible_to(user).filter(external_id=live_session_id).first()
    if session is None:
        return Status(404, {"detail": gettext(NO_SESSION)})
    try:
        enrolment = services.enrolment_create(session=session, trainee=user)
    except services.TrainingError as problem:
        return Status(409, {"detail": str(problem)})
    return Status(201, {"session": session.external_id, "status": enrolment.status})


@router.get(
    "/training/certificates/{code}",
    response={200: VerificationOut},
    auth=None,
    summary="Check a certificate's verification code (public)",
)
def verify(request: HttpRequest, code: str) -> Any:
    """Public: ``valid`` with the holder's name, the issuing clinic and the issue date of a certificate of training,
    or ``valid: false`` for an unknown or revoked code."""
    found = services.certificate_for_code(code)
    if found is None:
        return {"valid": False}
    return {
        "valid": not found.revoked,
        "holder_name": found.holder_name,
        "issued_by": found.issued_by or None,
        "issued_on": found.issued_on,
    }
