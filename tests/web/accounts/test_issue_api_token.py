"""``manage.py issue_api_token`` (onaboard/web/accounts/management/commands/issue_api_token.py)."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from onaboard.web.accounts.management.commands.issue_api_token import EMPTY_NAME, EXPIRES, NO_SUCH_USER
from onaboard.web.accounts.models import ApiToken
from onaboard.web.audit.models import AuditEvent


def test_the_command_prints_a_working_token_once(world):
    """The command prints the new token; it authenticates as the user and is audited."""
    out = StringIO()
    call_command("issue_api_token", "nurse", "ward tablet", stdout=out)
    raw = out.getvalue().strip()
    assert ApiToken.user_for(raw) == world.users["nurse"]
    assert ApiToken.objects.get().name == "ward tablet"
    assert AuditEvent.objects.filter(object_type="api_token").count() == 1


def test_the_command_says_when_the_token_expires_apart_from_the_token(world):
    """Standard output is the token alone (a script keeps it as it is); standard error says when it stops working,
    and the audit event names the expiry too."""
    out, err = StringIO(), StringIO()
    call_command("issue_api_token", "nurse", "ward tablet", stdout=out, stderr=err)
    token = ApiToken.objects.get()
    expires = timezone.localtime(token.expires).isoformat(timespec="minutes")
    assert out.getvalue().strip().startswith("onb_")
    assert err.getvalue().strip() == EXPIRES.format(expires=expires)
    assert f"expires {expires}" in AuditEvent.objects.get(object_type="api_token").detail


def test_an_unknown_user_is_refused(world):
    """A user name nobody has is an error and no token is made."""
    with pytest.raises(CommandError) as refused:
        call_command("issue_api_token", "ghost", "x", stdout=StringIO())
    assert str(refused.value) == NO_SUCH_USER.format(username="ghost")
    assert not ApiToken.objects.exists()


def test_a_blank_name_is_refused(world):
    """A token needs a name saying what it is for."""
    with pytest.raises(CommandError) as refused:
        call_command("issue_api_token", "nurse", "  ", stdout=StringIO())
    assert str(refused.value) == EMPTY_NAME


def test_a_name_longer_than_the_token_keeps_is_refused_saying_the_limit(world):
    """A 150-character name is refused naming its length and the limit (PostgreSQL answered with a traceback), and
    no token is issued."""
    from onaboard.web.accounts.management.commands.issue_api_token import LONG_NAME

    with pytest.raises(CommandError) as refused:
        call_command("issue_api_token", "nurse", "x" * 150, stdout=StringIO())
    assert str(refused.value) == LONG_NAME.format(length=150, limit=100)
    assert not ApiToken.objects.exists()
