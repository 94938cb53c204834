"""Writing the audit trail. Every service and selector that touches a patient's data calls ``audit_record``."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from onaboard.web.audit.middleware import REQUEST_CONTEXT
from onaboard.web.audit.models import Action, AuditEvent


def audit_record(
    *,
    user: Any,
    action: Action,
    object_type: str,
    object_id: object = "",
    patient_id: UUID | None = None,
    detail: str = "",
) -> AuditEvent:
    """Append one event; the request's address and path are taken from the current request, if any."""
    ip_address, path = REQUEST_CONTEXT.get()
    authenticated = user is not None and getattr(user, "is_authenticated", False)
    return AuditEvent.objects.create(
        user=user if authenticated else None,
        username=getattr(user, "username", "") if authenticated else "",
        role=getattr(user, "role", "") if authenticated else "",
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        patient_id=patient_id,
        ip_address=ip_address,
        path=path,
        detail=detail[:400],
    )
