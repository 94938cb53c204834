"""Sign-in with lockout (onaboard/web/accounts/backends.py)."""

from __future__ import annotations

from datetime import timedelta
from unittest.mock import patch

import pytest
from django.conf import settings
from django.contrib.auth import base_user
from django.utils import timezone

from onaboard.web.accounts.backends import LockoutBackend
from tests.web.factories import PASSWORD

WRONG = "not the password"


@pytest.fixture
def nurse(world):
    return world.users["nurse"]


def _fail(nurse, times: int) -> None:
    for _ in range(times):
        assert LockoutBackend().authenticate(None, username=nurse.username, password=WRONG) is None


def test_the_right_password_signs_in(nurse):
    """The right password returns the user."""
    assert LockoutBackend().authenticate(None, username=nurse.username, password=PASSWORD) == nurse


def test_failures_are_counted_until_the_limit(nurse):
    """Each wrong password adds one to the count; below the limit the account is not locked."""
    _fail(nurse, settings.LOGIN_FAILURE_LIMIT - 1)
    nurse.refresh_from_db()
    assert nurse.failed_logins == settings.LOGIN_FAILURE_LIMIT - 1
    assert not nurse.is_locked()


def test_a_success_resets_the_count(nurse):
    """A right password before the limit clears the failures, so they do not add up over days."""
    _fail(nurse, settings.LOGIN_FAILURE_LIMIT - 1)
    assert LockoutBackend().authenticate(None, username=nurse.username, password=PASSWORD) == nurse
    nurse.refresh_from_db()
    assert nurse.failed_logins == 0


def test_the_limit_locks_the_account_for_the_lockout_time(nurse):
    """LOGIN_FAILURE_LIMIT failures in a row lock the account for LOGIN_LOCKOUT_MINUTES."""
    before = timezone.now()
    _fail(nurse, settings.LOGIN_FAILURE_LIMIT)
    nurse.refresh_from_db()
    assert nurse.is_locked()
    expected = before + timedelta(minutes=settings.LOGIN_LOCKOUT_MINUTES)
    assert abs(nurse.locked_until - expected) < timedelta(seconds=30)


def test_the_right_password_is_refused_while_locked(nurse):
    """A locked account cannot sign in even with the right password."""
    _fail(nurse, settings.LOGIN_FAILURE_LIMIT)
    assert LockoutBackend().authenticate(None, username=nurse.username, password=PASSWORD) is None


def test_the_right_password_is_accepted_after_the_lock_expires(nurse):
    """Once the lock time has passed, the right password signs in again."""
    _fail(nurse, settings.LOGIN_FAILURE_LIMIT)
    nurse.refresh_from_db()
    type(nurse).objects.filter(pk=nurse.pk).update(locked_until=timezone.now() - timedelta(seconds=1))
    assert LockoutBackend().authenticate(None, username=nurse.username, password=PASSWORD) == nurse


def test_an_unknown_name_is_refused(world):
    """A user name nobody has is refused like a wrong password."""
    assert LockoutBackend().authenticate(None, username="nobody", password=PASSWORD) is None


def test_an_inactive_user_is_refused(nurse):
    """A deactivated account cannot sign in with its right password."""
    type(nurse).objects.filter(pk=nurse.pk).update(is_active=False)
    assert LockoutBackend().authenticate(None, username=nurse.username, password=PASSWORD) is None


def _hasher_runs(username: str, password: str) -> int:
    """How many passwords one sign-in attempt hashed (``make_password``) or checked (``check_password``), the two
    calls by which a user runs the password hasher."""
    with (
        patch.object(base_user, "make_password", side_effect=base_user.make_password) as make,
        patch.object(base_user, "check_password", side_effect=base_user.check_password) as check,
    ):
        assert LockoutBackend().authenticate(None, username=username, password=password) is None
    return make.call_count + check.call_count


def test_a_locked_account_costs_the_same_hashing_as_an_unknown_or_unlocked_one(nurse):
    """A refused sign-in runs the password hasher once whether the name is unknown, its account unlocked or locked
    (returning early for a locked account skipped the hash, so its speed told that the name exists)."""
    unlocked = _hasher_runs(nurse.username, WRONG)
    unknown = _hasher_runs("nobody", WRONG)
    _fail(nurse, settings.LOGIN_FAILURE_LIMIT)
    locked = _hasher_runs(nurse.username, PASSWORD)
    assert (unknown, unlocked, locked) == (1, 1, 1)


def test_a_try_beyond_the_failures_under_way_is_refused_unchecked_and_locks(nurse):
    """A try that finds LOGIN_FAILURE_LIMIT tries already counted (still being checked, or never answered) is
    refused without its password being checked, even the right one, and locks the account: so the count cannot
    stay above the limit with no lock."""
    type(nurse).objects.filter(pk=nurse.pk).update(failed_logins=settings.LOGIN_FAILURE_LIMIT)
    with patch.object(base_user, "check_password", side_effect=base_user.check_password) as check:
        assert LockoutBackend().authenticate(None, username=nurse.username, password=PASSWORD) is None
    assert check.call_count == 0
    nurse.refresh_from_db()
    assert nurse.is_locked()
    assert nurse.failed_logins == 0


def test_the_failure_that_makes_the_limit_does_not_lock_after_a_success_meanwhile(nurse):
    """The try counted as the last failure before the limit locks the account when its password is wrong, unless
    the right password was checked while it was being checked (which cleared the failures): a sign-in by the owner
    is not followed by a lock from a guess that started before it."""
    type(nurse).objects.filter(pk=nurse.pk).update(failed_logins=settings.LOGIN_FAILURE_LIMIT - 1)

    def owner_signs_in_meanwhile(password, encoded, setter=None):
        type(nurse).objects.filter(pk=nurse.pk).update(failed_logins=0, locked_until=None)
        return base_user_check(password, encoded, setter)

    base_user_check = base_user.check_password
    with patch.object(base_user, "check_password", side_effect=owner_signs_in_meanwhile):
        assert LockoutBackend().authenticate(None, username=nurse.username, password=WRONG) is None
    nurse.refresh_from_db()
    assert not nurse.is_locked()


def test_the_lock_comes_from_the_count_not_from_the_row_read_before(nurse):
    """Another process locking the account between this try's reading of the account and its count: the try is
    refused unchecked (the count is one UPDATE on unlocked accounts only), not checked against the row it read."""
    real_filter = type(nurse).objects.filter
    read = []

    def filter_then_lock(*args, **kwargs):
        queryset = real_filter(*args, **kwargs)
        if kwargs == {"username": nurse.username} and not read:
            read.append(queryset.first())
            real_filter(pk=nurse.pk).update(locked_until=timezone.now() + timedelta(minutes=5))
        return queryset

    with (
        patch.object(type(nurse).objects, "filter", side_effect=filter_then_lock),
        patch.object(base_user, "check_password", side_effect=base_user.check_password) as check,
    ):
        assert LockoutBackend().authenticate(None, username=nurse.username, password=PASSWORD) is None
    assert len(read) == 1
    assert not read[0].is_locked()  # what the try read: unlocked
    assert check.call_count == 0
