"""``manage.py issue_api_token USERNAME NAME``: a new API token acting as USERNAME, printed once."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from onaboard.web.accounts.models import User
from onaboard.web.accounts.services import api_token_issue

NO_SUCH_USER = "no active user named {username!r}"
EMPTY_NAME = "the token needs a name (what it is for), e.g. 'clinic reporting script'"


class Command(BaseCommand):
    help = (
        "Issue an API token for USERNAME, called NAME. The token is printed once on standard output: only its "
        "SHA-256 digest is stored, so it cannot be shown again. Send it as 'Authorization: Bearer <token>'. "
        "Revoke it in the admin (API tokens)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username", help="the user the token acts as (its permissions are theirs)")
        parser.add_argument("name", help="what the token is for, shown in the admin")

    def handle(self, *args: Any, username: str, name: str, **options: Any) -> None:
        if not name.strip():
            raise CommandError(EMPTY_NAME)
        owner = User.objects.filter(username=username, is_active=True).first()
        if owner is None:
            raise CommandError(NO_SUCH_USER.format(username=username))
        _token, raw = api_token_issue(owner=owner, name=name.strip())
        self.stdout.write(raw)
