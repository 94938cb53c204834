"""Writing the audit trail. Every service and selector that touches a patient's data calls ``audit_record``, or
``audit_records`` when one request touches many records (a page of patients, a clinic's export, an admin bulk
action): the same events, written by one bulk insert (split into batches only where the database limits a
statement's parameters, as SQLite does)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from onaboard.web.audit.middleware import REQUEST_CONTEXT
from onaboard.web.audit.models import Action, AuditEvent


@dataclass(frozen=True, slots=True, kw_only=True)
class AuditEntry:
    """One event of ``audit_records``: what was done to which record (the user and request are shared).

    ``detail`` names the action and non-clinical facts only (field names, check codes, dates, counts), never the
    record's clinical content: an administrator reads it (``AuditEvent`` says what it may hold). ``clinic_id`` names
    the clinic an event by no user of a clinic (the operator, a failed sign-in) is about (``AuditEvent.clinic``)."""

    action: Action
    object_type: str
    object_id: object = ""
    patient_id: UUID | None = None
    detail: str = ""
    clinic_id: int | None = None

    @classmethod
    def for_patient(cls, patient: Any, *, action: Action, object_type: str, detail: str = "") -> AuditEntry:
        """An event about a patient's record as a whole: their public id is both the object and the patient."""
        return cls(
            action=action,
            object_type=object_type,
            object_id=patient.external_id,
            patient_id=patient.external_id,
            detail=detail,
        )


def _event(user: Any, entry: AuditEntry, ip_address: str | None, path: str) -> AuditEvent:
    authenticated = user is not None and getattr(user, "is_authenticated", False)
    return AuditEvent(
        clinic_id=entry.clinic_id,
        user=user if authenticated else None,
        username=getattr(user, "username", "") if authenticated else "",
        role=getattr(user, "role", "") if authenticated else "",
        action=entry.action,
        object_type=entry.object_type,
        object_id=str(entry.object_id),
        patient_id=entry.patient_id,
        ip_address=ip_address,
        path=path,
        detail=entry.detail[:400],
    )


def audit_record(
    *,
    user: Any,
    action: Action,
    object_type: str,
    object_id: object = "",
    patient_id: UUID | None = None,
    detail: str = "",
    clinic_id: int | None = None,
) -> AuditEvent:
    """Append one event; the request's address and path are taken from the current request, if any. ``clinic_id``
    names the clinic an event without a user of a clinic is about (``AuditEvent.clinic``)."""
    entry = AuditEntry(
        action=action,
        object_type=object_type,
        object_id=object_id,
        patient_id=patient_id,
        detail=detail,
        clinic_id=clinic_id,
    )
    event = _event(user, entry, *REQUEST_CONTEXT.get())
    event.save()
    return event


def audit_patient_read(*, user: Any, patient: Any, object_type: str, object_id: object, detail: str = "") -> AuditEvent:
    """A read of one part of ``patient``'s record (a page, a form showing stored values, a document)."""
    return audit_record(
        user=user,
        action=Action.READ,
        object_type=object_type,
        object_id=object_id,
        patient_id=patient.external_id,
        detail=detail,
    )


def audit_records(*, user: Any, entries: Iterable[AuditEntry]) -> list[AuditEvent]:
    """Append one event per entry, all by ``user`` in the current request, in one bulk insert (entries' order)."""
    context = REQUEST_CONTEXT.get()
    return AuditEvent.objects.bulk_create([_event(user, entry, *context) for entry in entries])
