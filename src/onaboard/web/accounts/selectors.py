"""Reading a user's sign-in state: their authenticator (TOTP) device and whether this session has used it; and
which patient an account is the portal login of, for the audit trail."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from uuid import UUID

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


def portal_patient_ids(accounts: Iterable[Any]) -> dict[Any, UUID]:
    """The public id of the patient whose portal login each of ``accounts`` (users) is, by the account's key; an
    account linked to no patient's record is left out. One query, of the ids alone (no record is read): the audit
    trail links an event about a patient's login account (its password, Active, lockout, API tokens) to the patient,
    so the patient's own trail shows it."""
    from onaboard.web.patients.models import Patient  # patients depends on accounts, not the other way round

    keys = [account.pk for account in accounts if account is not None and account.pk is not None]
    if not keys:
        return {}
    return dict(Patient.objects.filter(user_id__in=keys).values_list("user_id", "external_id"))


def portal_patient_id(account: Any) -> UUID | None:
    """The public id of the patient whose portal login ``account`` is, if any (``portal_patient_ids``)."""
    return portal_patient_ids([account]).get(getattr(account, "pk", None))
