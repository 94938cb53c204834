"""Changing sign-in state: setting up and removing the authenticator (TOTP) second step, checking its codes,
issuing and revoking API tokens (one, or all of a user's when their password changes or they are made inactive),
lifting a sign-in lockout, and closing a patient's portal account. Each change is recorded in the audit trail; one
about a patient's portal login names that patient too (``portal_patient_id``), so the patient's trail shows it."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_otp.plugins.otp_totp.models import TOTPDevice

from onaboard.web.accounts.models import ApiToken, Role, User
from onaboard.web.accounts.ratelimit import account_subject, rate_limit_clear
from onaboard.web.accounts.selectors import (
    otp_available_to,
    otp_device_confirmed,
    otp_device_unconfirmed,
    portal_patient_id,
)
from onaboard.web.audit.models import Action
from onaboard.web.audit.services import audit_record

OTP_DEVICE_NAME = "Authenticator app"

WRONG_CODE = _("That code did not match. Enter the 6-digit code your authenticator app shows now.")
THROTTLED = _("Too many wrong codes in a row. Wait a minute, then enter the newest code.")
NO_DEVICE = _("There is no authenticator to check the code against. Start again.")
STAFF_ONLY = _("Two-step sign-in is for clinic staff.")
ALREADY_ENROLLED = _("Two-step sign-in is already on for this account.")


class OtpCodeError(ValueError):
    """A one-time code was refused; ``message`` says why, for the form."""

    def __init__(self, message: object) -> None:
        self.message = message
        super().__init__(str(message))


def _check_code(*, user: Any, device: TOTPDevice | None, code: str, purpose: str) -> TOTPDevice:
    """The device if ``code`` is its current code; else the refusal is audited and ``OtpCodeError`` raised.

    Runs outside any transaction the caller opens, so the failure count and the audit event stay when it raises.
    """
    if device is None:
        raise OtpCodeError(NO_DEVICE)
    allowed, _details = device.verify_is_allowed()
    accepted = allowed and device.verify_token(code)
    if not accepted:
        audit_record(
            user=user,
            action=Action.LOGIN_FAILED,
            object_type="otp_device",
            object_id=device.persistent_id,
            detail=f"{purpose}: {'wrong one-time code' if allowed else 'one-time code refused while throttled'}",
        )
        raise OtpCodeError(WRONG_CODE if allowed else THROTTLED)
    return device


def otp_code_check(*, user: Any, code: str) -> TOTPDevice:
    """The second sign-in step: the user's confirmed authenticator if ``code`` is its current code.

    Wrong codes slow further tries down (django-otp's throttling doubles the wait after each failure).
    Raises ``OtpCodeError``; every refusal is audited.
    """
    return _check_code(user=user, device=otp_device_confirmed(user), code=code, purpose="sign-in")


def otp_device_enrol(*, user: User) -> TOTPDevice:
    """Start setting up an authenticator: a new unconfirmed TOTP device with a fresh secret.

    An earlier unfinished set-up is discarded, so only the secret on screen can be confirmed.
    """
    if not otp_available_to(user):
        raise PermissionError(str(STAFF_ONLY))
    if otp_device_confirmed(user) is not None:
        raise PermissionError(str(ALREADY_ENROLLED))
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user, confirmed=False).delete()
        device = TOTPDevice.objects.create(user=user, name=OTP_DEVICE_NAME, confirmed=False)
        audit_record(
            user=user,
            action=Action.CREATE,
            object_type="otp_device",
            object_id=device.persistent_id,
            detail="two-step sign-in set-up started",
        )
    return device


def otp_device_confirm(*, user: User, code: str) -> TOTPDevice:
    """Finish setting up: the first code from the app confirms the device, and from then on sign-in asks for one."""
    device = _check_code(user=user, device=otp_device_unconfirmed(user), code=code, purpose="set-up")
    with transaction.atomic():
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        audit_record(
            user=user,
            action=Action.UPDATE,
            object_type="otp_device",
            object_id=device.persistent_id,
            detail="two-step sign-in turned on",
        )
    return device


def otp_device_remove(*, user: User, code: str) -> None:
    """Turn two-step sign-in off; a current code is needed, so a session left open cannot do it alone."""
    device = _check_code(user=user, device=otp_device_confirmed(user), code=code, purpose="turning off")
    with transaction.atomic():
        audit_record(
            user=user,
            action=Action.DELETE,
            object_type="otp_device",
            object_id=device.persistent_id,
            detail="two-step sign-in turned off",
        )
        TOTPDevice.objects.filter(user=user).delete()


def api_token_issue(*, owner: User, name: str, issued_by: Any = None) -> tuple[ApiToken, str]:
    """A new API token acting as ``owner`` until it expires, and its secret, which is shown once and never stored."""
    with transaction.atomic():
        token, raw = ApiToken.issue(owner, name)
        audit_record(
            user=issued_by,
            action=Action.CREATE,
            object_type="api_token",
            object_id=token.external_id,
            patient_id=portal_patient_id(owner),
            detail=f"token {token.prefix}... {name!r} for {owner.username}, expires {expiry_text(token)}",
            clinic_id=owner.clinic_id,  # issued by manage.py (no user): the owner's clinic's administrator reads it
        )
    return token, raw


def expiry_text(token: ApiToken) -> str:
    """When ``token`` stops working, to the minute, in the clinic's time zone with its offset."""
    return timezone.localtime(token.expires).isoformat(timespec="minutes")


def api_token_revoke(*, token: ApiToken, revoked_by: Any, reason: str = "") -> bool:
    """Stop a token working at once; it stays listed (revoked) so the trail can name it. The revocation is audited
    with who did it, ``reason`` if given, and the patient whose portal login the token's owner is, if any; False,
    with nothing recorded, for a token already revoked."""
    with transaction.atomic():
        if not ApiToken.objects.filter(pk=token.pk, revoked=False).update(revoked=True):
            return False
        audit_record(
            user=revoked_by,
            action=Action.UPDATE,
            object_type="api_token",
            object_id=token.external_id,
            patient_id=portal_patient_id(token.user),
            detail=f"token {token.prefix}... {token.name!r} of {token.user.username} revoked"
            + (f": {reason}" if reason else ""),
            clinic_id=token.user.clinic_id,
        )
    return True


REVOKED_PASSWORD_CHANGED = "password changed by the user"  # noqa: S105 - a reason, not a secret
REVOKED_PASSWORD_SET = "password set in the admin"  # noqa: S105 - a reason, not a secret
REVOKED_INACTIVE = "account made inactive"
REVOKED_PORTAL_CLOSED = "portal account closed"


def api_tokens_revoke_all(*, user: User, revoked_by: Any, reason: str) -> int:
    """Revoke every live (unrevoked, unexpired) token of ``user``, each audited as ``api_token_revoke`` does, with
    ``reason``; how many were revoked. For what ends the credentials a token was got with: a password change (the
    old password, which may have leaked, could have been used to get one) and the account made inactive (else its
    tokens would work again the day it is made active again)."""
    live = ApiToken.objects.select_related("user").filter(user=user, revoked=False, expires__gt=timezone.now())
    with transaction.atomic():
        return sum(api_token_revoke(token=token, revoked_by=revoked_by, reason=reason) for token in live)


def account_lockout_lift(*, user: User, lifted_by: Any) -> int:
    """Let ``user`` sign in again now: the lockout (``locked_until``, the failure count) and the failed sign-ins
    counted for the account's name (the ``login_account`` rate limit, which otherwise refuses the right password
    until its window ends) are cleared; the number of counters cleared. The client addresses' own limits stay. The
    audit event names the patient whose portal login ``user`` is, if any, and, lifted by the operator (an
    administrator of no clinic), ``user``'s clinic, whose administrator then reads it (``AuditEvent.clinic``).
    """
    with transaction.atomic():
        User.objects.filter(pk=user.pk).update(failed_logins=0, locked_until=None)
        cleared = rate_limit_clear("login_account", account_subject(user.username))
        audit_record(
            user=lifted_by,
            action=Action.UPDATE,
            object_type="user",
            object_id=user.external_id,
            patient_id=portal_patient_id(user),
            detail=f"sign-in lockout of {user.username} lifted; {cleared} failed sign-in counter(s) cleared",
            clinic_id=user.clinic_id if getattr(lifted_by, "clinic_id", None) is None else None,
        )
    user.refresh_from_db(fields=["failed_logins", "locked_until"])
    return cleared


PORTAL_ALREADY_CLOSED = _("This portal account is already closed.")
NO_PORTAL_ACCOUNT = _("This patient has no portal account.")
NOT_A_PORTAL_ACCOUNT = _(
    "The login linked to this patient is not a patient account; nothing was closed. "
    "An administrator should unlink it in the admin."
)
CLOSED_BY_PATIENT = "the patient"
CLOSED_BY_STAFF = "staff on the patient's behalf"


def portal_login_end(user: Any, *, revoked_by: Any = None) -> int:
    """End a closed portal's access: the patient's login made inactive (open sessions end at their next request)
    and its live API tokens revoked (``api_tokens_revoke_all``, each revocation audited with ``revoked_by``);
    returns how many tokens were revoked. Only a patient-role account is touched (a staff login linked to the
    record by mistake would otherwise be locked out): for any other, nothing is done and 0 is returned. Called
    inside the caller's transaction, which audits the closing."""
    if user is None or user.role != Role.PATIENT:
        return 0
    User.objects.filter(pk=user.pk).update(is_active=False)
    return api_tokens_revoke_all(user=user, revoked_by=revoked_by, reason=REVOKED_PORTAL_CLOSED)


def portal_account_close(*, patient: Any, closed_by: Any) -> None:
    """Close a patient's portal account: the sign-in stops working, the clinical record stays.

    The record is kept as the law requires (clinical records are never deleted); what ends is access through the
    portal: the patient's user can no longer sign in (inactive, so open sessions end at their next request too),
    its API tokens are revoked, and the portal no longer shows the record (``patients_visible_to``). Done by the
    patient or by clinical staff on their behalf; audited either way, with who did it. Only a patient-role account
    is closed: a staff login linked to the record by mistake is refused (``NOT_A_PORTAL_ACCOUNT``), nothing changed.
    """
    from onaboard.web.patients.models import Patient  # patients depends on accounts, not the other way round

    user = patient.user
    if user is None:
        raise ValueError(str(NO_PORTAL_ACCOUNT))
    if user.role != Role.PATIENT:  # a staff login linked by mistake: closing would lock a staff member out
        raise ValueError(str(NOT_A_PORTAL_ACCOUNT))
    if patient.portal_closed is not None:
        raise ValueError(str(PORTAL_ALREADY_CLOSED))
    by_patient = getattr(closed_by, "pk", None) == user.pk
    with transaction.atomic():
        Patient.objects.filter(pk=patient.pk).update(portal_closed=timezone.now())
        revoked = portal_login_end(user, revoked_by=closed_by)
        audit_record(
            user=closed_by,
            action=Action.UPDATE,
            object_type="portal_account",
            object_id=user.external_id,
            patient_id=patient.external_id,
            detail=(
                f"portal account closed by {CLOSED_BY_PATIENT if by_patient else CLOSED_BY_STAFF}; "
                f"clinical record kept; {revoked} API token(s) revoked"
            ),
        )
    patient.refresh_from_db(fields=["portal_closed"])
