"""Calendar feeds: secret, revocable addresses a calendar app subscribes to (it cannot sign in).

A feed belongs to the user who created it and shows either one patient's booked sessions or every booked session
of that user's clinic (the clinician's feed). Only the SHA-256 digest of the secret is stored; the address is shown
once, on creation. Every fetch re-checks that the owner is active and may still see the patient, and is audited.
"""

from __future__ import annotations

import hashlib
import secrets

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from onaboard.web.common.models import BaseModel
from onaboard.web.patients.models import Patient

FEED_PREFIX = "cal_"


def feed_digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


class CalendarFeed(BaseModel):
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="calendar_feeds")
    patient = models.ForeignKey(Patient, null=True, blank=True, on_delete=models.CASCADE, related_name="calendar_feeds")
    """The patient whose sessions the feed shows; empty for a clinician's feed of the whole clinic."""
    digest = models.CharField(max_length=64, unique=True, editable=False)
    prefix = models.CharField(max_length=8, editable=False)
    last_used = models.DateTimeField(null=True, blank=True)
    revoked = models.DateTimeField(_("revoked"), null=True, blank=True)

    class Meta:
        ordering = ("-created",)

    @staticmethod
    def new_secret() -> str:
        return FEED_PREFIX + secrets.token_urlsafe(32)
