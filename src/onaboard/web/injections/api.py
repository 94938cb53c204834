"""Injection API operations: the PREEMPT plan, sessions (list, detail, record, move or cancel a booking, mark a
recorded one entered in error) and side effects (list, detail, report, review).

Recording goes through ``injections.services.injection_session_record``, the same service as the session screen,
so the plan, the retreatment interval, the cumulative dose, the safety screen and the dose per site are checked the same
way, an override needs a reason, and two people cannot record one session (the second gets 409).
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop
from ninja import Query, Router, Schema, Status

from onaboard.clinical import PlanError, RefusedError, preempt_plan
from onaboard.serialize import plan_json
from onaboard.web.accounts.models import Role, User
from onaboard.web.audit.models import Action
from onaboard.web.audit.services import audit_record
from onaboard.web.injections import selectors, services
from onaboard.web.injections.models import InjectionSession, SessionStatus, SideEffect
from onaboard.web.injections.schemas import (
    BookingIn,
    BookingOut,
    CancelIn,
    EnteredInErrorIn,
    InjectionSessionIn,
    InjectionSessionOut,
    PlanOut,
    SideEffectIn,
    SideEffectOut,
    SideEffectReviewIn,
)
from onaboard.web.patients.access import Capability, can
from onaboard.web.patients.api import (
    AUTH_ERRORS,
    PATIENT_ERRORS,
    WRITE_ERRORS,
    Place,
    api_patient,
    audit_read,
    caller,
)
from onaboard.web.patients.api import problems as problems_body
from onaboard.web.patients.schemas import ErrorOut, ProblemsOut

router = Router(tags=["injections"])

WRITE_CONFLICT_ERRORS: dict[int, Any] = {**WRITE_ERRORS, 409: ErrorOut}
BOOKING_NOT_THIS_PATIENTS = gettext_noop("That booking is not one of this patient's sessions.")
SUBMISSION_TAKEN = gettext_noop(
    "This submission key was already sent with other answers: that report is stored, and these answers were not "
    "saved. Send them with a new key to report this side effect too."
)

WEEKS = selectors.interval_weeks()
"""The engine's retreatment interval in weeks, as the operations' descriptions below name it."""
SESSION_RECORD_DESCRIPTION = (
    "Records the session (fulfilling `booking_id`, or the booking on that date, or the open booking) and books the "
    f"next one {WEEKS} weeks later (on today when that day has passed). Refused with 422 listing every problem: the "
    "plan against PREEMPT, an expired product, a date after today, and any failed check "
    f"({', '.join(f'`{code}`' for code in selectors.CheckCode)}) without `override_reason`, with the engine's reasons "
    "under `checks.<code>`; only a caller who may decide treatment (a clinician) may override "
    f"{', '.join(f'`{code}`' for code in sorted(selectors.CLINICIAN_OVERRIDES))}: anyone else is refused at "
    "`override_reason` with or without one. 409 when the session was already recorded, or `booking_id` names a "
    "booking recorded or cancelled meanwhile, or one whose version is not `version` (whatever the date: nothing is "
    "written). Recordings "
    "of one patient at the same moment are checked one after the other, each against the other's session. "
    "`injector` names who gave the injections when not the caller (422 at `injector` unless an active clinician or "
    "nurse of the patient's clinic)."
)
SESSION_BOOK_DESCRIPTION = (
    f"Today or later, and at most {services.BOOKING_HORIZON_YEARS} years after today (422 at `date` otherwise: a later "
    "date is a typing slip); 409 when the booking changed since `version` was read or is no longer a booking. A date "
    f"less than {WEEKS} weeks after the last recorded session is saved, with a `warnings` entry naming the earliest "
    "due date (recording on it will need an override reason). A booking moved while the latest treatment decision is "
    "to stop is saved too, with a `warnings` entry naming the stop (recording it will need a clinician's override "
    "reason)."
)


# --- Shaping rows -------------------------------------------------------------------------------------------------


def _session_out(session: InjectionSession, *, clinical: bool, team: bool = True) -> dict[str, Any]:
    """One session for the API: billing staff (``clinical`` false) get no clinical field; a patient (``team``
    false) gets the complications but not the checks, their override or the warnings stored with them: the care
    team's notes on its decision, which the patient's session page leaves out too."""
    plan = selectors.session_plan(session)
    return {
        "id": session.external_id,
        "patient_id": session.patient.external_id,
        "date": session.date,
        "status": session.status,
        "version": session.version,
        "vial_units": session.vial_units,
        "vials_used": session.vials_used,
        "total_units": session.total_units,
        "discarded_units": session.discarded_units,
        "product_lot": session.product_lot,
        "product_expiry": session.product_expiry,
        "sites": [
            {
                "muscle": site.muscle,
                "side": site.side,
                "units": site.units,
                "follow_the_pain": site.follow_the_pain,
                "view": site.view,
                "x": site.x,
                "y": site.y,
            }
            for site in selectors.session_sites(session)
        ],
        "plan": plan_json(plan) if plan is not None else None,
        "override_reason": session.override_reason if clinical and team else None,
        "overridden_checks": [c for c in session.overridden_checks.split(",") if c] if clinical and team else None,
        "check_reasons": session.check_reasons.splitlines() if clinical and team else None,
        "complications": session.complications if clinical else None,
        # a staff account's login name: the care team's (staff may name it when recording), not the patient's
        "injector": session.injector.username if session.injector and team else None,
        "entered_in_error": {
            "marked_by": session.error_marked_by.username if session.error_marked_by and team else None,
            "marked_at": session.error_marked_at,
            # the care team's note, as an override reason: it may name another patient ("was DEMO-0012")
            "reason": session.error_reason if clinical and team else None,
        }
        if session.status == SessionStatus.IN_ERROR
        else None,
    }


def _side_effect_out(side_effect: SideEffect) -> dict[str, Any]:
    session = side_effect.session
    return {
        "id": side_effect.external_id,
        "patient_id": side_effect.patient.external_id,
        "kind": side_effect.kind,
        "kind_label": str(side_effect.get_kind_display()),
        "urgent": side_effect.urgent,
        "description": side_effect.description,
        "onset": side_effect.onset,
        "severity": side_effect.severity,
        "session_id": session.external_id if session else None,
        "session_date": session.date if session else None,
        "clinician_grade": side_effect.clinician_grade or None,
        "related_to_treatment": side_effect.related_to_treatment,
        "reviewed_at": side_effect.reviewed_at,
        "modified": side_effect.modified,
    }


REVIEW_FIELDS = {"session": "session_id"}
"""The review service's field names that the API body spells otherwise."""


def _refused(
    error: services.SessionRefusedError | services.SideEffectRefusedError, *, names: dict[str, str] | None = None
) -> Status[dict[str, Any]]:
    """422 naming each problem's body field (``names`` maps a service's field to the API's spelling)."""
    names = names or {}
    pairs: list[tuple[str, object]] = [
        (names.get(field, field) or "__all__", message) for field, message in error.problems
    ]
    if isinstance(error, services.SessionChecksFailedError | services.SessionChecksChangedError):
        pairs.extend((f"checks.{check.code}", reason) for check in error.checks for reason in check.reasons)
    return problems_body(pairs)


# --- The plan -----------------------------------------------------------------------------------------------------


class PlanQuery(Schema):
    vial_units: int = 200
    temporalis: int = 0
    occipitalis: int = 0
    trapezius: int = 0


@router.get("/plan", response={200: PlanOut, **AUTH_ERRORS, 422: ProblemsOut}, summary="The PREEMPT plan")
def plan_detail(request: HttpRequest, query: Query[PlanQuery]) -> Any:
    """The 31 fixed PREEMPT sites (155 U) plus follow-the-pain sites per muscle (temporalis up to 2, occipitalis up
    to 2, trapezius up to 4; 195 U at most), from a 100 U or 200 U vial. The same JSON as ``onaboard plan``.
    No patient data: any signed-in caller may ask."""
    extra = {"temporalis": query.temporalis, "occipitalis": query.occipitalis, "trapezius": query.trapezius}
    try:
        plan = preempt_plan(follow_the_pain={m: n for m, n in extra.items() if n}, vial_units=query.vial_units)
    except PlanError as error:
        return problems_body(_plan_problem_places(error, query, extra))
    return plan_json(plan)


def _plan_problem_places(error: PlanError, query: PlanQuery, extra: dict[str, int]) -> list[tuple[Place, str]]:
    """Each of the engine's plan problems at the query parameter it is about: the engine is asked again about each
    parameter alone (only when it refused the plan), and a problem it then says is that parameter's (one it says
    of no parameter alone is at the query as a whole)."""
    asked: dict[str, dict[str, Any]] = {"vial_units": {"vial_units": query.vial_units}}
    asked.update({muscle: {"follow_the_pain": {muscle: count}} for muscle, count in extra.items() if count})
    place: dict[str, str] = {}
    for parameter, alone in asked.items():
        try:
            preempt_plan(**alone)
        except PlanError as refused:
            for problem in refused.problems:
                place.setdefault(problem, parameter)
    return [(("query", place[problem]) if problem in place else ("query",), problem) for problem in error.problems]


# --- Sessions -----------------------------------------------------------------------------------------------------


@router.get(
    "/patients/{patient_id}/sessions",
    response={200: list[InjectionSessionOut], **PATIENT_ERRORS},
    summary="A patient's booked and recorded sessions",
)
def session_list(request: HttpRequest, patient_id: UUID) -> Any:
    """Latest first; cancelled sessions are left out. Billing staff get the billing fields only."""
    user = caller(request)
    patient = api_patient(request, patient_id, selectors.session_view_capability(user))
    clinical = can(user, Capability.VIEW_CLINICAL)
    sessions = selectors.sessions_for(patient).select_related("patient").prefetch_related("sites")
    audit_read(request, patient, "injection_session", "list" if clinical else "list, billing view")
    team = user.role != Role.PATIENT
    return [_session_out(session, clinical=clinical, team=team) for session in sessions]


@router.get("/sessions/{session_id}", response={200: InjectionSessionOut, **PATIENT_ERRORS}, summary="One session")
def session_detail(request: HttpRequest, session_id: UUID) -> Any:
    """A session with its sites and the engine's plan of them; billing staff get the billing fields only."""
    user = caller(request)
    session = selectors.session_for(user, session_id, need=selectors.session_view_capability(user))
    clinical = can(user, Capability.VIEW_CLINICAL)
    audit_record(
        user=user,
        action=Action.READ,
        object_type="injection_session",
        object_id=session.external_id,
        patient_id=session.patient.external_id,
        detail="api" if clinical else "api, billing view",
    )
    return _session_out(session, clinical=clinical, team=user.role != Role.PATIENT)


@router.post(
    "/patients/{patient_id}/sessions",
    response={201: InjectionSessionOut, **WRITE_CONFLICT_ERRORS},
    summary="Record an injection session",
    description=SESSION_RECORD_DESCRIPTION,
)
def session_record(request: HttpRequest, patient_id: UUID, payload: InjectionSessionIn) -> Any:
    """Record a session through ``services.injection_session_record`` (the API docs: ``SESSION_RECORD_DESCRIPTION``,
    built from the engine's interval)."""
    user = caller(request)
    patient = api_patient(request, patient_id, Capability.RECORD_SESSION)
    booking = None
    if payload.booking_id is not None:
        booking = selectors.session_for(user, payload.booking_id, need=Capability.RECORD_SESSION)
        if booking.patient_id != patient.pk:
            return problems_body([("booking_id", gettext(BOOKING_NOT_THIS_PATIENTS))])
    sites = [selectors.SiteEntry(s.muscle, s.side, s.units, s.follow_the_pain, s.view, s.x, s.y) for s in payload.sites]
    injector = None
    if payload.injector is not None:  # one rule for any name not allowed, unknown or another clinic's: nothing told
        injector = User.objects.filter(username=payload.injector).first()
        if injector is None:
            return problems_body([("injector", gettext(services.INJECTOR_NOT_ALLOWED))])
    try:
        session = services.injection_session_record(
            user=user,
            patient=patient,
            date=payload.date,
            sites=sites,
            vial_units=payload.vial_units,
            lot=payload.product_lot,
            expiry=payload.product_expiry,
            override_reason=payload.override_reason,
            expected_version=payload.version,
            booking=booking,
            complications=payload.complications,
            today=timezone.localdate(),
            codes_shown=None if payload.overridden_checks is None else [str(c) for c in payload.overridden_checks],
            injector=injector,
        )
    except services.SessionConflictError as error:
        return Status(409, {"detail": error.messages[0]})
    except services.SessionRefusedError as error:
        return _refused(error)
    except RefusedError as error:  # e.g. a date before the patient's birth: the engine's safety screen says why
        return problems_body(("date", problem) for problem in error.problems)
    return Status(201, _session_out(session, clinical=True))


@router.put(
    "/sessions/{session_id}/booking",
    response={200: BookingOut, **WRITE_CONFLICT_ERRORS},
    summary="Move a booked session to another date",
    description=SESSION_BOOK_DESCRIPTION,
)
def session_book(request: HttpRequest, session_id: UUID, payload: BookingIn) -> Any:
    """Move a booking through ``services.injection_session_book`` (the API docs: ``SESSION_BOOK_DESCRIPTION``, built
    from the engine's interval)."""
    user = caller(request)
    session = selectors.session_for(user, session_id, need=Capability.RECORD_SESSION)
    try:
        moved = services.injection_session_book(
            user=user, session=session, date=payload.date, expected_version=payload.version, today=timezone.localdate()
        )
    except services.SessionConflictError as error:
        return Status(409, {"detail": error.messages[0]})
    except services.SessionRefusedError as error:
        return _refused(error)
    warnings = services.booking_warnings(patient=moved.patient, date=moved.date)
    return {**_session_out(moved, clinical=True), "warnings": list(warnings)}


@router.post(
    "/sessions/{session_id}/cancel",
    response={200: InjectionSessionOut, **WRITE_CONFLICT_ERRORS},
    summary="Cancel a booked session",
)
def session_cancel(request: HttpRequest, session_id: UUID, payload: CancelIn) -> Any:
    """The booking's status becomes ``cancelled`` (the row is kept; the calendar feed shows the event cancelled);
    audited. 409 when it is not a booking any more (recorded or already cancelled) or changed since ``version`` was
    read."""
    user = caller(request)
    session = selectors.session_for(user, session_id, need=Capability.RECORD_SESSION)
    try:
        cancelled = services.injection_session_cancel(user=user, session=session, expected_version=payload.version)
    except services.SessionConflictError as error:
        return Status(409, {"detail": error.messages[0]})
    return _session_out(cancelled, clinical=True)


@router.post(
    "/sessions/{session_id}/entered-in-error",
    response={200: InjectionSessionOut, **WRITE_CONFLICT_ERRORS},
    summary="Mark a recorded session entered in error",
)
def session_in_error(request: HttpRequest, session_id: UUID, payload: EnteredInErrorIn) -> Any:
    """The session's status becomes ``in_error``: the row and its sites are kept as recorded, with who marked it,
    when and ``reason``, and it counts nowhere from then on (the interval, the cumulative dose, the outcomes,
    billing, the exports). Its side effects follow the latest other session recorded on or before their onset.
    Only a clinician (422 otherwise); 422 at ``reason`` without one, and when a side effect would then follow no
    session; 409 when it is not a recorded session (booked, cancelled or already marked) or changed since
    ``version`` was read. Audited."""
    user = caller(request)
    session = selectors.session_for(user, session_id, need=Capability.RECORD_SESSION)
    try:
        marked, _moved = services.injection_session_mark_in_error(
            user=user, session=session, reason=payload.reason, expected_version=payload.version
        )
    except services.SessionConflictError as error:
        return Status(409, {"detail": error.messages[0]})
    except services.SessionRefusedError as error:
        return _refused(error)
    return _session_out(marked, clinical=True)


# --- Side effects -------------------------------------------------------------------------------------------------


@router.get(
    "/patients/{patient_id}/side-effects",
    response={200: list[SideEffectOut], **PATIENT_ERRORS},
    summary="A patient's side effects",
)
def side_effect_list(request: HttpRequest, patient_id: UUID) -> Any:
    """Latest onset first, each with the session it is attributed to and the clinician's review, if any."""
    patient = api_patient(request, patient_id, Capability.VIEW_CLINICAL)
    side_effects = selectors.side_effects_for(patient).select_related("patient")
    audit_read(request, patient, "side_effect", "list")
    return [_side_effect_out(side_effect) for side_effect in side_effects]


@router.get(
    "/side-effects/{side_effect_id}", response={200: SideEffectOut, **PATIENT_ERRORS}, summary="One side effect"
)
def side_effect_detail(request: HttpRequest, side_effect_id: UUID) -> Any:
    """What was reported, the session it is attributed to, and the clinician's review, if any."""
    user = caller(request)
    side_effect = selectors.side_effect_for(user, side_effect_id, need=Capability.VIEW_CLINICAL)
    audit_record(
        user=user,
        action=Action.READ,
        object_type="side_effect",
        object_id=side_effect.external_id,
        patient_id=side_effect.patient.external_id,
        detail="api",
    )
    return _side_effect_out(side_effect)


@router.post(
    "/patients/{patient_id}/side-effects",
    response={201: SideEffectOut, **WRITE_CONFLICT_ERRORS},
    summary="Report a side effect",
)
def side_effect_report(request: HttpRequest, patient_id: UUID, payload: SideEffectIn) -> Any:
    """A patient reports their own; clinic staff may report on a patient's behalf. It is attributed to the latest
    recorded session on or before its onset, for a clinician to confirm. A kind of ``other`` needs a ``description``
    (422 at that field without one); an ``onset`` after today or before the patient's birth date is refused with 422
    at ``onset``; so is an ``onset`` before the patient's first recorded session (a symptom before any treatment is
    not a side effect of it), and a report for a patient with no recorded session at all is refused with 422 for the
    whole body. ``urgent`` in the answer means an allergic reaction or possible distant spread
    of toxin effect: the patient should seek care now. With a ``submission`` key a retry stores nothing more and is
    answered the first report; the key with other answers is 409."""
    patient = api_patient(request, patient_id, Capability.KEEP_DIARY)
    try:
        side_effect = services.side_effect_report(
            user=caller(request),
            patient=patient,
            kind=payload.kind,
            onset=payload.onset,
            severity=payload.severity,
            description=payload.description,
            today=timezone.localdate(),
            submission=payload.submission,
        )
    except services.SideEffectAlreadySentError:
        return Status(409, {"detail": gettext(SUBMISSION_TAKEN)})
    except services.SideEffectRefusedError as error:
        return _refused(error)
    return Status(201, _side_effect_out(side_effect))


@router.post(
    "/side-effects/{side_effect_id}/review",
    response={200: SideEffectOut, **WRITE_CONFLICT_ERRORS},
    summary="Grade a side effect and attribute it",
)
def side_effect_review(request: HttpRequest, side_effect_id: UUID, payload: SideEffectReviewIn) -> Any:
    """A clinician's grade (required: never taken from the patient's severity), whether it is related to treatment,
    and the recorded session it follows; 409 when the side effect changed since ``modified`` was read."""
    user = caller(request)
    side_effect = selectors.side_effect_for(user, side_effect_id, need=Capability.EDIT_CLINICAL)
    session = side_effect.session if "session_id" not in payload.model_fields_set else None  # left out: kept
    if payload.session_id is not None:
        session = selectors.recorded_sessions(side_effect.patient).filter(external_id=payload.session_id).first()
        if session is None:
            return problems_body([("session_id", services.SESSION_NOT_THE_PATIENTS)])
    try:
        reviewed = services.side_effect_review(
            user=user,
            side_effect=side_effect,
            grade=payload.grade,
            related_to_treatment=payload.related_to_treatment,
            session=session,
            seen=payload.modified,
            reason=payload.reason,
        )
    except services.SideEffectConflictError as error:
        return Status(409, {"detail": error.problems[0][1]})
    except services.SideEffectRefusedError as error:
        return _refused(error, names=REVIEW_FIELDS)
    return _side_effect_out(reviewed)
