"""Reading a user's sign-in state: their authenticator (TOTP) device and whether this session has used it."""

from __future__ import annotations

from typing import Any

from django_otp.plugins.otp_totp.models import TOTPDevice

from onaboard.web.accounts.models import STAFF_ROLES


def otp_available_to(user: Any) -> bool:
    """Staff (clinicians, nurses, billing staff, administrators) may add a second sign-in step."""
    return user is not None and user.is_authenticated and user.role in STAFF_ROLES


def otp_device_confirmed(user: Any) -> TOTPDevice | None:
    """The user's confirmed authenticator, if they have set one up."""
    if user is None or user.pk is None:
        return None
    return TOTPDevice.objects.filter(user=user, confirmed=True).order_by("id").first()


def otp_device_unconfirmed(user: Any) -> TOTPDevice | None:
    """The authenticator being set up: its secret is shown until the first code confirms it."""
    return TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-id").first()


def otp_session_verified(user: Any) -> bool:
    """Whether this session's user entered a one-time code (django-otp's middleware sets ``is_verified``)."""
    is_verified = getattr(user, "is_verified", None)
    return bool(is_verified is not None and is_verified())


def otp_verification_needed(user: Any) -> bool:
    """A signed-in user with a confirmed authenticator whose session has not yet been verified by a code."""
    if user is None or not user.is_authenticated or otp_session_verified(user):
        return False
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()
