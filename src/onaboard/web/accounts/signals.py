"""Sign-ins and failed sign-ins go into the audit trail."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.dispatch import receiver

from onaboard.web.audit.models import Action
from onaboard.web.audit.services import audit_record


@receiver(user_logged_in)
def _logged_in(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    audit_record(user=user, action=Action.LOGIN, object_type="user", object_id=user.external_id)


@receiver(user_login_failed)
def _login_failed(sender: Any, credentials: dict[str, Any], request: Any = None, **kwargs: Any) -> None:
    audit_record(
        user=None, action=Action.LOGIN_FAILED, object_type="user", detail=str(credentials.get("username", ""))[:150]
    )
