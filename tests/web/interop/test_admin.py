"""Calendar feeds in the admin (onaboard/web/interop/admin.py)."""

from __future__ import annotations

from django.test import Client
from django.urls import reverse

from onaboard.web.audit.models import Action, AuditEvent
from onaboard.web.interop.calendar import feed_create
from tests.web.factories import UserFactory


def test_an_administrator_revokes_a_leaked_feed_and_it_is_audited(client, world, charted, superuser):
    """The feeds are listed in the admin; its revoke action makes the address answer 404 and records who revoked
    it (there was no way for an administrator to stop a leaked feed)."""
    feed, raw = feed_create(user=world.users["patient"], patient=charted)
    address = reverse("interop:feed", args=[raw])
    assert Client().get(address).status_code == 200
    client.force_login(superuser)
    listing = client.get(reverse("admin:interop_calendarfeed_changelist"))
    assert feed.prefix in listing.content.decode()
    response = client.post(
        reverse("admin:interop_calendarfeed_changelist"), {"action": "revoke", "_selected_action": [feed.pk]}
    )
    assert response.status_code == 302
    assert Client().get(address).status_code == 404
    event = AuditEvent.objects.get(object_type="calendar_feed", action=Action.UPDATE)
    assert (event.username, event.detail) == ("admin", "revoked")


def test_feeds_cannot_be_added_or_deleted_in_the_admin(client, world, charted, superuser):
    """A feed's address is shown once where it is created, and a revoked feed stays listed for the audit trail."""
    feed, _raw = feed_create(user=world.users["patient"], patient=charted)
    client.force_login(superuser)
    assert client.get(reverse("admin:interop_calendarfeed_add")).status_code == 403
    assert client.get(reverse("admin:interop_calendarfeed_delete", args=[feed.pk])).status_code == 403


def test_clinic_wide_feeds_are_listed_to_their_own_clinics_administrator_only(client, world, superuser):
    """A clinic-wide feed (no patient) is listed to its owner's clinic's administrator; another clinic's is not
    listed, its page is not found and the revoke action cannot reach it."""
    ours, _ = feed_create(user=world.users["clinician"], patient=None)
    theirs, raw = feed_create(user=UserFactory(clinic=world.other_clinic), patient=None)
    client.force_login(superuser)
    changelist = reverse("admin:interop_calendarfeed_changelist")
    listing = client.get(changelist).content.decode()
    assert ours.prefix in listing
    assert theirs.prefix not in listing
    assert client.get(reverse("admin:interop_calendarfeed_change", args=[theirs.pk])).status_code in (302, 404)
    client.post(changelist, {"action": "revoke", "_selected_action": [theirs.pk]})
    theirs.refresh_from_db()
    assert theirs.revoked is None
    assert Client().get(reverse("interop:feed", args=[raw])).status_code == 200
