"""``manage.py issue_api_token USERNAME NAME``: a new API token acting as USERNAME, printed once on standard output
(alone, so a script can keep it as it is); when it expires goes to standard error."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from onaboard.web.accounts.models import ApiToken, User
from onaboard.web.accounts.services import api_token_issue, expiry_text

NO_SUCH_USER = "no active user named {username!r}"
EMPTY_NAME = "the token needs a name (what it is for), e.g. 'clinic reporting script'"
LONG_NAME = "the token's name is {length} characters long; at most {limit} fit"
EXPIRES = "The token works until {expires}; issue a new one before then."


class Command(BaseCommand):
    help = (
        "Issue an API token for USERNAME, called NAME. The token is printed once on standard output: only its "
        "SHA-256 digest is stored, so it cannot be shown again. Send it as 'Authorization: Bearer <token>'. "
        "It expires after ONABOARD_API_TOKEN_DAYS days (90 unless set; the date goes to standard error) and is "
        "revoked when its user's password changes or the user is made inactive. Revoke it in the admin (API tokens)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username", help="the user the token acts as (its permissions are theirs)")
        parser.add_argument("name", help="what the token is for, shown in the admin")

    def handle(self, *args: Any, username: str, name: str, **options: Any) -> None:
        if not name.strip():
            raise CommandError(EMPTY_NAME)
        limit = ApiToken._meta.get_field("name").max_length
        if len(name.strip()) > limit:
            raise CommandError(LONG_NAME.format(length=len(name.strip()), limit=limit))
        owner = User.objects.filter(username=username, is_active=True).first()
        if owner is None:
            raise CommandError(NO_SUCH_USER.format(username=username))
        token, raw = api_token_issue(owner=owner, name=name.strip())
        self.stdout.write(raw)
        self.stderr.write(EXPIRES.format(expires=expiry_text(token)))
