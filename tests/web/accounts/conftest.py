"""Helpers for the sign-in tests: a staff member with a confirmed authenticator, and its current codes."""

from __future__ import annotations

import time

import pytest
from django_otp.oath import TOTP, hotp
from django_otp.plugins.otp_totp.models import TOTPDevice

from onaboard.web.accounts.middleware import OtpRequiredMiddleware

OTP_MIDDLEWARE = f"{OtpRequiredMiddleware.__module__}.{OtpRequiredMiddleware.__name__}"


def totp_code(device: TOTPDevice, *, steps_ahead: int = 0) -> str:
    """The code the authenticator app shows now (or ``steps_ahead`` 30-second steps later, for a second code:
    django-otp refuses a code from a step it has already accepted)."""
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time() + steps_ahead * device.step
    return f"{totp.token():06d}"


def next_code(device: TOTPDevice) -> str:
    """A second code the device accepts after one it has accepted: the code of the step after the last one it
    accepted, in its own (drift-corrected) count of steps. A code worked out from the clock could fall outside its
    window when the first code was accepted across a 30-second boundary, which moves the device's drift."""
    device.refresh_from_db()
    return f"{hotp(device.bin_key, device.last_t + 1, digits=device.digits):06d}"


def wrong_code(device: TOTPDevice) -> str:
    """A 6-digit code that is none of the codes the device accepts now."""
    accepted = {totp_code(device, steps_ahead=step) for step in (-1, 0, 1)}
    return next(code for code in ("000000", "111111", "222222", "333333") if code not in accepted)


@pytest.fixture
def enrolled(world):
    """The clinician, with a confirmed authenticator."""
    clinician = world.users["clinician"]
    device = TOTPDevice.objects.create(user=clinician, name="Authenticator app", confirmed=True)
    return clinician, device


@pytest.fixture
def no_throttle(settings):
    """Wrong codes do not slow the next try (django-otp doubles a wait after each failure, from 1 s)."""
    settings.OTP_TOTP_THROTTLE_FACTOR = 0


@pytest.fixture
def otp_middleware(settings):
    """The code-required middleware in place (it belongs after django-otp's OTPMiddleware in settings)."""
    if OTP_MIDDLEWARE not in settings.MIDDLEWARE:
        middleware = list(settings.MIDDLEWARE)
        middleware.insert(middleware.index("django_otp.middleware.OTPMiddleware") + 1, OTP_MIDDLEWARE)
        settings.MIDDLEWARE = middleware
