"""Sign-in state (onaboard/web/accounts/selectors.py)."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser
from django_otp.plugins.otp_totp.models import TOTPDevice

from onaboard.web.accounts.selectors import (
    otp_available_to,
    otp_device_confirmed,
    otp_device_unconfirmed,
    otp_verification_needed,
)


@pytest.mark.parametrize(
    ("role", "available"),
    [
        ("clinician", True),
        ("nurse", True),
        ("billing", True),
        ("admin", True),
        ("patient", False),
        ("trainee", False),
    ],
)
def test_two_step_sign_in_is_offered_to_staff(world, role, available):
    """Clinic staff may add a second step; patients and trainees are not offered it."""
    assert otp_available_to(world.users[role]) is available


def test_only_a_confirmed_device_counts(world):
    """An unfinished set-up is not the user's authenticator until confirmed."""
    nurse = world.users["nurse"]
    pending = TOTPDevice.objects.create(user=nurse, name="a", confirmed=False)
    assert otp_device_confirmed(nurse) is None
    assert otp_device_unconfirmed(nurse) == pending
    assert not otp_verification_needed(nurse)


def test_a_confirmed_device_needs_a_verified_session(world):
    """A user with a confirmed device needs the code until the session is verified."""
    nurse = world.users["nurse"]
    TOTPDevice.objects.create(user=nurse, name="a", confirmed=True)
    assert otp_verification_needed(nurse)
    nurse.is_verified = lambda: True
    assert not otp_verification_needed(nurse)


def test_nobody_signed_in_needs_no_code(db):
    """An anonymous visitor is never asked for a code (they are asked to sign in)."""
    assert not otp_verification_needed(AnonymousUser())
