"""Users and API tokens in the admin (onaboard/web/accounts/admin.py)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from onaboard.web.accounts.models import ApiToken
from onaboard.web.audit.models import Action, AuditEvent


def test_the_admin_sign_in_hands_over_to_onaboards(client):
    """The admin's own sign-in page sends you to onaboard's (lockout and one-time code apply there)."""
    response = client.get(reverse("admin:login") + "?next=/admin/accounts/")
    assert response.status_code == 302
    assert response.url == reverse("accounts:login") + "?next=/admin/accounts/"


def test_tokens_are_revoked_from_the_admin_and_audited(client, world, superuser):
    """The admin's revoke action stops the selected tokens and records who revoked them."""
    token, raw = ApiToken.issue(world.users["clinician"], "reporting")
    client.force_login(superuser)
    response = client.post(
        reverse("admin:accounts_apitoken_changelist"), {"action": "revoke", "_selected_action": [token.pk]}
    )
    assert response.status_code == 302
    assert ApiToken.user_for(raw) is None
    assert AuditEvent.objects.get(object_type="api_token", action=Action.UPDATE).username == "admin"


def test_tokens_cannot_be_added_or_deleted_in_the_admin(client, world, superuser):
    """Tokens are issued by the command (the secret is shown once) and stay listed once revoked."""
    token, _raw = ApiToken.issue(world.users["clinician"], "reporting")
    client.force_login(superuser)
    assert client.get(reverse("admin:accounts_apitoken_add")).status_code == 403
    assert client.get(reverse("admin:accounts_apitoken_delete", args=[token.pk])).status_code == 403


def test_an_account_is_deactivated_never_deleted(client, world, superuser):
    """The admin offers no delete for people, and deleting an account that appears in the audit trail is refused:
    its events would lose their link to it (the trail is append-only)."""
    from django.db.models import ProtectedError

    nurse = world.users["nurse"]
    client.force_login(nurse)
    client.get(reverse("patients:detail", args=[world.same_clinic_patient.external_id]))
    client.force_login(superuser)
    assert client.get(reverse("admin:accounts_user_delete", args=[nurse.pk])).status_code == 403
    events = list(AuditEvent.objects.filter(username="nurse").values_list("id", "user_id"))
    assert events
    with pytest.raises(ProtectedError):
        nurse.delete()
    assert list(AuditEvent.objects.filter(username="nurse").values_list("id", "user_id")) == events
