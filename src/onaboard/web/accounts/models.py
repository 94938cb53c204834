"""Clinics, users and their roles, and API tokens."""

from __future__ import annotations

import hashlib
import re
import secrets
import uuid
from datetime import timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from onaboard.clinical import SiteOfService as EngineSiteOfService
from onaboard.web.common.models import BaseModel

if TYPE_CHECKING:
    from collections.abc import Mapping


class SiteOfService(models.TextChoices):
    """Where a clinic gives the injections: the engine's ``SiteOfService`` values, which a coverage policy's
    ``[prior_authorisation]`` lists (docs/policies.md)."""

    OFFICE = EngineSiteOfService.OFFICE.value, _("Physician's office")
    HOSPITAL_OUTPATIENT = EngineSiteOfService.HOSPITAL_OUTPATIENT.value, _("Hospital outpatient department")


class Clinic(BaseModel):
    """A headache clinic: staff see its patients and no other clinic's.

    ``site_of_service`` is where it gives the injections, which decides whether a payer asks for prior authorisation
    (``CoveragePolicy.asks_prior_authorisation_at``): Medicare asks in a hospital outpatient department only. A clinic
    made without one, and every clinic from before the field (accounts 0007, a database default), is a hospital
    outpatient department, so its Medicare patients are still asked for approvals until its administrator says it
    is a physician's office."""

    name = models.CharField(_("name"), max_length=200, unique=True)
    site_of_service = models.CharField(
        _("site of service"),
        max_length=24,
        choices=SiteOfService.choices,
        default=SiteOfService.HOSPITAL_OUTPATIENT,
        db_default=SiteOfService.HOSPITAL_OUTPATIENT,
        help_text=_(
            "Where the clinic gives the injections. Medicare asks for prior authorisation in a hospital outpatient "
            "department only, not in a physician's office; commercial payers ask in both. Clinics set up before this "
            "setting existed are hospital outpatient departments, so their Medicare patients are still asked for "
            "approvals."
        ),
    )

    def __str__(self) -> str:
        return self.name


class Role(models.TextChoices):
    CLINICIAN = "clinician", _("Clinician")
    NURSE = "nurse", _("Nurse")
    BILLING = "billing", _("Billing staff")
    PATIENT = "patient", _("Patient")
    TRAINEE = "trainee", _("Trainee")
    ADMIN = "admin", _("Administrator")


STAFF_ROLES = frozenset({Role.CLINICIAN, Role.NURSE, Role.BILLING, Role.ADMIN})
CLINICAL_ROLES = frozenset({Role.CLINICIAN, Role.NURSE})


class User(AbstractUser):
    """A person who signs in. ``role`` decides what they may do (see patients/access.py)."""

    external_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    role = models.CharField(_("role"), max_length=16, choices=Role.choices)
    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, null=True, blank=True, related_name="staff")
    failed_logins = models.PositiveIntegerField(default=0)
    locked_until = models.DateTimeField(null=True, blank=True)

    def is_locked(self) -> bool:
        return self.locked_until is not None and self.locked_until > timezone.now()

    @property
    def is_clinical(self) -> bool:
        return self.role in CLINICAL_ROLES

    @property
    def is_patient(self) -> bool:
        return self.role == Role.PATIENT


LAST_USED_RESOLUTION = timedelta(minutes=1)
"""How precisely a token's ``last_used`` is kept: the admin shows when a token was last used, not every call."""

API_TOKEN_DAYS = 90
"""How many days a token works after it is issued, unless settings.ONABOARD_API_TOKEN_DAYS says otherwise: a token
copied into a script and forgotten, or leaked with it, stops working on its own."""
BAD_TOKEN_DAYS = "ONABOARD_API_TOKEN_DAYS must be a whole number of days, at least 1, not {value!r}"  # noqa: S105

TOKEN_PREFIX = "onb_"  # noqa: S105 - not a secret: the public start of every token
"""How every token ``ApiToken.issue`` makes begins."""
TOKEN_SHAPE = re.compile(re.escape(TOKEN_PREFIX) + r"[A-Za-z0-9_-]{43}")
"""What ``ApiToken.issue`` makes: ``TOKEN_PREFIX`` and ``secrets.token_urlsafe(32)``, 43 URL-safe characters. A token
of any other shape cannot be live, so it is refused without a lookup (accounts/middleware.py; tests hold issued
tokens to it)."""

BEARER_CHALLENGE = 'Bearer realm="onaboard"'
"""The ``WWW-Authenticate`` challenge of a 401 from the API or the FHIR endpoints (RFC 6750): send a bearer token."""
INVALID_TOKEN_CHALLENGE = BEARER_CHALLENGE + ', error="invalid_token"'
"""The challenge when a bearer token was sent and refused (unknown, revoked, expired, or its user inactive)."""


def bearer_challenge(headers: Mapping[str, str]) -> str:
    """The ``WWW-Authenticate`` value of a 401 to a request with these headers: ``INVALID_TOKEN_CHALLENGE`` when it
    sent a bearer token, else ``BEARER_CHALLENGE``."""
    sent_token = headers.get("Authorization", "").partition(" ")[0].lower() == "bearer"
    return INVALID_TOKEN_CHALLENGE if sent_token else BEARER_CHALLENGE


def api_token_lifetime() -> timedelta:
    """How long a token issued now works: ``ONABOARD_API_TOKEN_DAYS`` days (``API_TOKEN_DAYS`` unless set)."""
    days = getattr(settings, "ONABOARD_API_TOKEN_DAYS", API_TOKEN_DAYS)
    if isinstance(days, bool) or not isinstance(days, int) or days < 1:
        raise ValueError(BAD_TOKEN_DAYS.format(value=days))
    return timedelta(days=days)


def _digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


class ApiToken(BaseModel):
    """A bearer token for API clients, acting as its user until it expires or is revoked. Only its SHA-256 digest
    is stored. Changing the user's password or making the user inactive revokes it (services.py)."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100)
    digest = models.CharField(max_length=64, unique=True, editable=False)
    prefix = models.CharField(max_length=8, editable=False)
    last_used = models.DateTimeField(null=True, blank=True)
    expires = models.DateTimeField(editable=False)
    revoked = models.BooleanField(default=False)

    @classmethod
    def issue(cls, user: User, name: str) -> tuple[ApiToken, str]:
        """A new token, expiring ``api_token_lifetime()`` from now, and its secret, shown once."""
        secret = secrets.token_urlsafe(32)
        raw = TOKEN_PREFIX + secret
        expires = timezone.now() + api_token_lifetime()
        token = cls.objects.create(user=user, name=name, digest=_digest(raw), prefix=secret[:8], expires=expires)
        return token, raw

    @classmethod
    def user_for(cls, raw: str) -> User | None:
        """The active user of an unrevoked, unexpired token, or None. ``last_used`` is written at most once a
        ``LAST_USED_RESOLUTION``: a client calling many times a second does not write the row on every call."""
        now = timezone.now()
        live = cls.objects.select_related("user").filter(digest=_digest(raw), revoked=False, expires__gt=now)
        token = live.first()
        if token is None or not token.user.is_active:
            return None
        if token.last_used is None or now - token.last_used >= LAST_USED_RESOLUTION:
            cls.objects.filter(pk=token.pk).update(last_used=now)
        return token.user


class RateLimitCounter(models.Model):
    """Events counted in one fixed window for one limit and subject (ratelimit.py). ``key`` names the limit, a
    digest of the subject and the window's number; the row is spent once ``expires`` (the window's end) is past.
    ``hits`` are the events counted, ``refunds`` those given back (tries that turned out not to count): the count
    against the limit is ``hits - refunds``."""

    key = models.CharField(max_length=100, primary_key=True)
    hits = models.PositiveIntegerField()
    refunds = models.PositiveIntegerField(default=0, db_default=0)
    expires = models.DateTimeField(db_index=True)

    class Meta:
        db_table = "onaboard_rate_limit_counters"

    def __str__(self) -> str:
        return f"{self.key}: {self.hits - self.refunds}"
