"""The request context the audit trail records (audit/middleware.py): address and path, secrets cut."""

from __future__ import annotations

import datetime as dt

from django.test import Client
from django.urls import reverse
from django.utils import timezone

from onaboard.web.accounts.middleware import SEEN_AT_KEY
from onaboard.web.audit.logfilters import REDACTED_SECRET, redact
from onaboard.web.audit.models import Action, AuditEvent
from onaboard.web.interop.calendar import feed_create


def test_a_feed_fetch_is_audited_without_the_feeds_secret(world):
    """The trail (searchable by every administrator) keeps the feed's prefix, never the secret that opens it."""
    _feed, secret = feed_create(user=world.users["patient"], patient=world.own_patient)
    path = reverse("interop:feed", args=[secret])
    assert Client().get(path).status_code == 200
    (event,) = AuditEvent.objects.filter(object_type="calendar_feed", action=Action.READ)
    assert secret not in event.path
    assert event.path == f"/exchange/calendar/{secret[:8]}{REDACTED_SECRET}.ics"


def test_feed_secrets_are_cut_from_log_lines():
    """An access log line of a feed fetch keeps the prefix only."""
    line = redact('"GET /exchange/calendar/cal_AbCdEfGhIjKlMnOp-_qr.ics HTTP/1.1" 200')
    assert line == f'"GET /exchange/calendar/cal_AbCd{REDACTED_SECRET}.ics HTTP/1.1" 200'


def test_a_sign_out_for_idleness_is_audited_with_the_address_and_path(world, client):
    """The sign-out the idle limit forces records where it happened, like any other sign-out."""
    client.force_login(world.users["nurse"])
    session = client.session
    session[SEEN_AT_KEY] = (timezone.now() - dt.timedelta(days=2)).timestamp()
    session.save()
    client.get(reverse("clinic:worklist"), REMOTE_ADDR="203.0.113.9")
    event = AuditEvent.objects.filter(action=Action.LOGOUT).latest("id")
    assert (event.ip_address, event.path) == ("203.0.113.9", reverse("clinic:worklist"))


def test_behind_a_trusted_proxy_the_trail_names_the_client(world, client, settings):
    """The audit trail records the address the proxy forwarded for, not the proxy's own."""
    settings.ONABOARD_TRUSTED_PROXIES = frozenset({"10.0.0.10"})
    client.force_login(world.users["nurse"])
    page = reverse("patients:detail", args=[world.same_clinic_patient.external_id])
    client.get(page, REMOTE_ADDR="10.0.0.10", HTTP_X_FORWARDED_FOR="192.0.2.44")
    event = AuditEvent.objects.filter(action=Action.READ).latest("id")
    assert event.ip_address == "192.0.2.44"
