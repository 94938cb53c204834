"""Sign-ins, failed sign-ins and sign-outs (with why: by hand, or the session expired) go into the audit trail;
a sign-in also starts the session's clocks for ``SessionExpiryMiddleware`` and keeps the stored session (and cookie)
beyond its limits, so the middleware sees it expire and can say why."""

from __future__ import annotations

import time
from typing import Any

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from onaboard.web.accounts.middleware import SEEN_AT_KEY, SIGNED_IN_AT_KEY, session_stored_until
from onaboard.web.accounts.models import User
from onaboard.web.accounts.selectors import portal_patient_id
from onaboard.web.audit.models import Action
from onaboard.web.audit.services import audit_record


@receiver(user_logged_in)
def _logged_in(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    second_step = "password and one-time code" if getattr(user, "otp_device", None) is not None else "password"
    audit_record(user=user, action=Action.LOGIN, object_type="user", object_id=user.external_id, detail=second_step)
    session = getattr(request, "session", None)
    if session is not None:
        now = time.time()
        session[SIGNED_IN_AT_KEY] = now
        session[SEEN_AT_KEY] = now
        session.set_expiry(session_stored_until(user, now))


EXPIRY_DETAIL = {
    "idle": "session expired: idle longer than the limit",
    "absolute": "session expired: signed in longer than the limit",
}


@receiver(user_logged_out)
def _logged_out(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    if user is None:
        return
    reason = getattr(request, "session_expiry_reason", None)
    detail = EXPIRY_DETAIL.get(reason, "signed out") if reason else "signed out"
    audit_record(user=user, action=Action.LOGOUT, object_type="user", object_id=user.external_id, detail=detail)


UNKNOWN_USER_NAME = "unknown user name"
"""The detail of a failed sign-in under a name no account has, in place of the text typed: that may be a password
typed into the name field. Audit-trail wording, in English as the whole record is (``EXPIRY_DETAIL``)."""


@receiver(user_login_failed)
def _login_failed(sender: Any, credentials: dict[str, Any], request: Any = None, **kwargs: Any) -> None:
    """The account tried (by its name, never the password) and whether it is now locked (LockoutBackend counts
    failures); for a name no account has, ``UNKNOWN_USER_NAME`` instead of what was typed. A patient's portal login
    names the patient (``portal_patient_id``), so tries on it are in the patient's trail, as the admin's changes to
    it are."""
    username = str(credentials.get("username", ""))[:150]
    account = User.objects.filter(username=username).only("locked_until", "external_id", "clinic_id").first()
    locked = account is not None and account.is_locked()
    detail = f"{username} (account locked)" if locked else username
    if account is None:  # not a name at all, perhaps: a password typed into the name field
        detail = UNKNOWN_USER_NAME
    audit_record(
        user=None,
        action=Action.LOGIN_FAILED,
        object_type="user",
        object_id=account.external_id if account is not None else "",
        detail=detail,
        patient_id=portal_patient_id(account) if account is not None else None,
        clinic_id=account.clinic_id if account is not None else None,  # its administrator reads it
    )
