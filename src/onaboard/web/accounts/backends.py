"""Sign-in with lockout: after LOGIN_FAILURE_LIMIT failures in a row an account is locked for a while."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.backends import ModelBackend
from django.db.models import F
from django.http import HttpRequest
from django.utils import timezone

from onaboard.web.accounts.models import User


class LockoutBackend(ModelBackend):
    """ModelBackend that counts failures and refuses a locked account even with the right password.

    Every attempt runs the password hasher once (an unknown name, a locked account and a wrong password alike), so
    how long a refusal takes tells nothing about which names exist or are locked.
    """

    def authenticate(
        self, request: HttpRequest | None, username: str | None = None, password: str | None = None, **kwargs: Any
    ) -> User | None:
        if username is None or password is None:
            return None
        user = User.objects.filter(username=username).first()
        if user is None:
            User().set_password(password)  # the same hashing as a real check, so timing does not reveal the name
            return None
        right = user.check_password(password)  # hashed even when locked: an early return would time as "exists"
        if user.is_locked():
            return None
        if right and self.user_can_authenticate(user):
            if user.failed_logins:
                User.objects.filter(pk=user.pk).update(failed_logins=0, locked_until=None)
            return user
        User.objects.filter(pk=user.pk).update(failed_logins=F("failed_logins") + 1)
        user.refresh_from_db(fields=["failed_logins"])
        if user.failed_logins >= settings.LOGIN_FAILURE_LIMIT:
            until = timezone.now() + timedelta(minutes=settings.LOGIN_LOCKOUT_MINUTES)
            User.objects.filter(pk=user.pk).update(locked_until=until, failed_logins=0)
        return None
