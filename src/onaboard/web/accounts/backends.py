"""Sign-in with lockout: after LOGIN_FAILURE_LIMIT failures in a row an account is locked for a while."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.backends import ModelBackend
from django.db import transaction
from django.db.models import F, Q
from django.http import HttpRequest
from django.utils import timezone

from onaboard.web.accounts.models import User


def _unlocked(pk: int) -> Any:
    """The account ``pk`` if it is not locked now."""
    return User.objects.filter(Q(locked_until__isnull=True) | Q(locked_until__lte=timezone.now()), pk=pk)


def _failure_reserve(pk: int) -> int | None:
    """Count a try as a failure before its password is checked: the account's failures in a row, this try
    included, or None when the account is locked (a try while locked is not counted). One UPDATE and the read of
    its result in one transaction, which holds the row (PostgreSQL) or the database (SQLite) until the count is
    read, so simultaneous tries get 1, 2, 3, ... and never the same count."""
    with transaction.atomic():
        if not _unlocked(pk).update(failed_logins=F("failed_logins") + 1):
            return None
        return User.objects.filter(pk=pk).values_list("failed_logins", flat=True).get()


def _lock(pk: int) -> None:
    """Lock the account for LOGIN_LOCKOUT_MINUTES and start its count again, if its failures in a row still reach
    the limit: a right password checked meanwhile cleared them (and a lock already running stays as it is)."""
    until = timezone.now() + timedelta(minutes=settings.LOGIN_LOCKOUT_MINUTES)
    _unlocked(pk).filter(failed_logins__gte=settings.LOGIN_FAILURE_LIMIT).update(locked_until=until, failed_logins=0)


class LockoutBackend(ModelBackend):
    """ModelBackend that counts failures and refuses a locked account even with the right password.

    A try is counted as a failure before its password is checked (``_failure_reserve``), and the right password
    clears the count: so of a burst of simultaneous tries only the first LOGIN_FAILURE_LIMIT are checked, the rest
    are refused (and lock the account) as tries on a locked account are. The try that makes the limit locks the
    account when it fails. Every attempt runs the password hasher once (an unknown name, a locked account and a
    wrong password alike), so how long a refusal takes tells nothing about which names exist or are locked.
    """

    def authenticate(
        self, request: HttpRequest | None, username: str | None = None, password: str | None = None, **kwargs: Any
    ) -> User | None:
        if username is None or password is None:
            return None
        user = User.objects.filter(username=username).first()
        failures = None if user is None else _failure_reserve(user.pk)
        if user is None or failures is None or failures > settings.LOGIN_FAILURE_LIMIT:
            if user is not None and failures is not None:  # beyond the limit: the try that makes it is still out
                _lock(user.pk)
            User().set_password(password)  # the same hashing as a real check, so timing tells nothing
            return None
        if user.check_password(password) and self.user_can_authenticate(user):
            User.objects.filter(pk=user.pk).update(failed_logins=0, locked_until=None)
            user.failed_logins, user.locked_until = 0, None
            return user
        if failures >= settings.LOGIN_FAILURE_LIMIT:
            _lock(user.pk)
        return None
