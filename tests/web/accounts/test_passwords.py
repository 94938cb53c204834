"""Password rules and storage (settings AUTH_PASSWORD_VALIDATORS and PASSWORD_HASHERS)."""

from __future__ import annotations

import pytest
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.test import override_settings

from onaboard.web.accounts.models import User
from onaboard.web.config.settings import base


@pytest.mark.parametrize(
    ("password", "rule"),
    [
        ("Sh0rt-pw", "too short. It must contain at least 10 characters"),
        ("password123", "too common"),
        ("4815162342108", "entirely numeric"),
        ("robin.ashdown1", "too similar to the username"),
    ],
)
def test_weak_passwords_are_refused_with_the_rule_named(password, rule):
    """Passwords under 10 characters, common, all digits or like the user's name are refused, saying why."""
    user = User(username="robin.ashdown", first_name="Robin", last_name="Ashdown")
    with pytest.raises(ValidationError) as refused:
        validate_password(password, user)
    assert any(rule in message for message in refused.value.messages), refused.value.messages


def test_a_long_uncommon_password_is_accepted():
    """A passphrase of four words passes every rule."""
    validate_password("copper kettle morning fjord", User(username="robin.ashdown"))


@override_settings(PASSWORD_HASHERS=base.PASSWORD_HASHERS)
def test_passwords_are_stored_with_argon2():
    """New passwords are hashed with Argon2 (PBKDF2 only reads older hashes)."""
    user = User(username="someone")
    user.set_password("copper kettle morning fjord")
    assert user.password.startswith("argon2$")
    assert user.check_password("copper kettle morning fjord")
