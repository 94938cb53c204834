"""``manage.py issue_api_token`` (onaboard/web/accounts/management/commands/issue_api_token.py)."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from onaboard.web.accounts.management.commands.issue_api_token import EMPTY_NAME, NO_SUCH_USER
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
