"""Users and API tokens (onaboard/web/accounts/models.py), and how passwords are stored."""

from __future__ import annotations

from datetime import timedelta

from django.contrib.auth.hashers import make_password
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone

from onaboard.web.accounts.models import LAST_USED_RESOLUTION, ApiToken
from onaboard.web.config.settings import base
from tests.web.factories import PASSWORD

REAL_HASHERS = base.PASSWORD_HASHERS
"""The project's hashers, Argon2 first (the test settings swap in MD5 for speed)."""


@override_settings(PASSWORD_HASHERS=REAL_HASHERS)
def test_a_new_password_is_stored_with_argon2(world):
    """With the project's own settings a password is stored as an Argon2 hash, never in the clear."""
    nurse = world.users["nurse"]
    nurse.set_password("a long new passphrase")
    nurse.save()
    nurse.refresh_from_db()
    assert nurse.password.startswith("argon2$argon2id$")
    assert "a long new passphrase" not in nurse.password
    assert nurse.check_password("a long new passphrase")


@override_settings(PASSWORD_HASHERS=REAL_HASHERS)
def test_an_older_hash_is_upgraded_to_argon2_at_sign_in(world):
    """A password stored with an older hasher is re-stored with Argon2 when its owner signs in."""
    nurse = world.users["nurse"]
    type(nurse).objects.filter(pk=nurse.pk).update(password=make_password(PASSWORD, hasher="pbkdf2_sha256"))
    response = Client().post(reverse("accounts:login"), {"username": nurse.username, "password": PASSWORD})
    assert response.status_code == 302
    nurse.refresh_from_db()
    assert nurse.password.startswith("argon2$")


def test_a_token_is_stored_as_a_digest_only(world):
    """Issuing a token returns its secret once; the database keeps only its SHA-256 digest and a short prefix."""
    token, raw = ApiToken.issue(world.users["clinician"], "reporting")
    assert raw.startswith("onb_")
    assert raw not in token.digest
    assert len(token.digest) == 64
    assert raw[4:12] == token.prefix


def test_a_token_finds_its_user_until_revoked(world):
    """A live token names its user and notes when it was used; a revoked one names nobody."""
    token, raw = ApiToken.issue(world.users["clinician"], "reporting")
    assert ApiToken.user_for(raw) == world.users["clinician"]
    token.refresh_from_db()
    assert token.last_used is not None
    ApiToken.objects.filter(pk=token.pk).update(revoked=True)
    assert ApiToken.user_for(raw) is None


def test_a_token_of_an_inactive_user_names_nobody(world):
    """Deactivating a user stops their tokens at once."""
    clinician = world.users["clinician"]
    _token, raw = ApiToken.issue(clinician, "reporting")
    type(clinician).objects.filter(pk=clinician.pk).update(is_active=False)
    assert ApiToken.user_for(raw) is None


def test_a_token_used_again_within_a_minute_is_not_written_again(world, django_assert_num_queries):
    """A token used less than ``LAST_USED_RESOLUTION`` ago is looked up without writing its row again; once that
    long has passed, the next use records the time."""
    token, raw = ApiToken.issue(world.users["clinician"], "reporting")
    recently = timezone.now() - LAST_USED_RESOLUTION + timedelta(seconds=5)
    ApiToken.objects.filter(pk=token.pk).update(last_used=recently)
    with django_assert_num_queries(1):
        assert ApiToken.user_for(raw) == world.users["clinician"]
    token.refresh_from_db()
    assert token.last_used == recently
    earlier = timezone.now() - LAST_USED_RESOLUTION - timedelta(seconds=5)
    ApiToken.objects.filter(pk=token.pk).update(last_used=earlier)
    with django_assert_num_queries(2):
        assert ApiToken.user_for(raw) == world.users["clinician"]
    token.refresh_from_db()
    assert token.last_used > earlier + LAST_USED_RESOLUTION
