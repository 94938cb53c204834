"""Who may see whom, and do what: the one way to reach a patient's data.

Every view, API operation and selector that touches a patient goes through ``patient_for`` or
``patients_visible_to``; nothing else queries ``Patient.objects`` for a user. A patient the user may not see is
"not found" (404), never "forbidden", so ids reveal nothing. Each decision that refuses is audited.
"""

from __future__ import annotations

import uuid
from enum import StrEnum
from typing import Any

from django.db.models import QuerySet
from django.http import Http404
from django.utils.translation import gettext, gettext_noop

from onaboard.web.accounts.models import STAFF_ROLES, Role
from onaboard.web.audit.models import Action
from onaboard.web.audit.services import audit_record
from onaboard.web.patients.models import Patient


class Capability(StrEnum):
    """What a user may do with a patient they can see."""

    VIEW_DEMOGRAPHICS = "view_demographics"
    VIEW_CLINICAL = "view_clinical"
    """Diary, verdicts, safety screen, questionnaires, side effects, clinical notes."""
    EDIT_CLINICAL = "edit_clinical"
    """Patient record, safety answers, preventive history, grading side effects."""
    RECORD_SESSION = "record_session"
    """Book and record injection sessions."""
    VIEW_BILLING = "view_billing"
    """Sessions' products, units (with the sites they were given at), vials and codes: what a claim needs."""
    KEEP_DIARY = "keep_diary"
    """Enter and correct diary days, fill in questionnaires, report side effects."""
    DECIDE_TREATMENT = "decide_treatment"
    """Record the decision to continue or stop treatment, against NICE TA260's stopping rule or with it."""


ROLE_CAPABILITIES: dict[str, frozenset[Capability]] = {
    Role.CLINICIAN: frozenset(Capability),
    Role.NURSE: frozenset(Capability) - {Capability.DECIDE_TREATMENT},
    Role.ADMIN: frozenset({Capability.VIEW_DEMOGRAPHICS, Capability.VIEW_BILLING}),
    Role.BILLING: frozenset({Capability.VIEW_DEMOGRAPHICS, Capability.VIEW_BILLING}),
    Role.PATIENT: frozenset({Capability.VIEW_DEMOGRAPHICS, Capability.VIEW_CLINICAL, Capability.KEEP_DIARY}),
    Role.TRAINEE: frozenset(),
}
"""Clinicians and nurses do everything clinical (and may enter diary days on a patient's behalf), except that only
a clinician decides to continue or stop treatment: it is a prescribing decision (NICE TA260 leaves it to the patient
and their clinician), and a nurse's account does not say whether they prescribe, so nurses read the decisions but do
not record them. Billing staff and administrators see demographics and billing only; a patient sees and keeps their
own record; trainees work on synthetic cases and see no patient."""

NOT_FOUND = gettext_noop("No such patient.")


def capabilities(user: Any) -> frozenset[Capability]:
    if user is None or not user.is_authenticated or not user.is_active:
        return frozenset()
    return ROLE_CAPABILITIES.get(user.role, frozenset())


def can(user: Any, capability: Capability) -> bool:
    return capability in capabilities(user)


def roles_with(capability: Capability) -> frozenset[str]:
    """The roles whose users have ``capability`` (``ROLE_CAPABILITIES``): e.g. who may be named as a session's
    injector (``Capability.RECORD_SESSION``)."""
    return frozenset(role for role, granted in ROLE_CAPABILITIES.items() if capability in granted)


def patients_visible_to(user: Any) -> QuerySet[Patient]:
    """The patients this user may see at all: their clinic's for staff, their own record for a patient."""
    if not capabilities(user):
        return Patient.objects.none()
    if user.role == Role.PATIENT:
        return Patient.objects.filter(user=user, portal_closed__isnull=True)
    if user.clinic_id is None:
        return Patient.objects.none()
    return Patient.objects.filter(clinic_id=user.clinic_id)


def patient_for(user: Any, external_id: uuid.UUID | str, *, need: Capability) -> Patient:
    """The patient with this public id if the user may see them and has ``need``; otherwise 404.

    The refusal is audited with what was asked for, so probing shows up in the trail; where the id is a patient's
    (of any clinic), the event names that patient too, so the patient's own clinic finds the attempt in its trail
    (the answer is the same 404 either way: the prober learns nothing). The prober's clinic's administrator reads
    the attempt too, without the patient where it is another clinic's (``audit/admin.py``): their trail does not
    tell such an id from an id of nobody.
    """
    try:
        key = uuid.UUID(str(external_id))
    except ValueError:
        raise Http404(gettext(NOT_FOUND)) from None
    patient = patients_visible_to(user).filter(external_id=key).first() if can(user, need) else None
    if patient is None:
        refusal_audited(user, key, need=need)
        raise Http404(gettext(NOT_FOUND))
    return patient


def refusal_audited(user: Any, external_id: uuid.UUID | str, *, need: Capability, why: str = "") -> None:
    """Write the ``DENIED`` event of a refusal to reach the patient with this public id (``patient_for``'s, and the
    staff-only pages' and the clinician-only decision's): what was asked for (``need``, then ``why``), the id, and
    the patient where the id is one's. The caller answers (404, or 403 where the page says who may)."""
    try:
        key = uuid.UUID(str(external_id))
    except ValueError:
        return  # not an id at all: nothing was probed
    probed = Patient.objects.filter(external_id=key).values_list("external_id", flat=True).first()
    audit_record(
        user=user,
        action=Action.DENIED,
        object_type="patient",
        object_id=key,
        patient_id=probed,
        detail=f"{need.value} {why}".strip(),
    )


STAFF_ONLY = "staff only"
"""The audited ``why`` of a patient's (or trainee's) refusal on a staff page (``staff_patient_for``)."""


def staff_patient_for(user: Any, external_id: uuid.UUID | str, *, need: Capability) -> Patient:
    """``patient_for`` on a staff page or API operation: patients keep to their portal and trainees see no patient,
    so for them every id here is "not found", the refusal audited as ``patient_for`` audits its own."""
    if getattr(user, "role", None) not in STAFF_ROLES:
        refusal_audited(user, external_id, need=need, why=STAFF_ONLY)
        raise Http404(gettext(NOT_FOUND))
    return patient_for(user, external_id, need=need)


def own_patient(user: Any, *, need: Capability) -> Patient:
    """The signed-in patient's own record (the portal's pages say "mine", with no id in the address); 404 for
    anyone who is not a patient with an open portal account."""
    own = patients_visible_to(user).first() if getattr(user, "role", None) == Role.PATIENT else None
    if own is None:
        raise Http404(gettext(NOT_FOUND))
    return patient_for(user, own.external_id, need=need)
