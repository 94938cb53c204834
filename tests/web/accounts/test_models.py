"""Users and API tokens (onaboard/web/accounts/models.py), and how passwords are stored."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.contrib.auth.hashers import make_password
from django.db import connection
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone

from onaboard.clinical import SiteOfService as EngineSiteOfService
from onaboard.web.accounts.models import API_TOKEN_DAYS, LAST_USED_RESOLUTION, ApiToken, Clinic, SiteOfService
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


def test_a_token_expires_after_the_configured_days(world, settings):
    """A token is issued to expire ``ONABOARD_API_TOKEN_DAYS`` after it is issued (90 unless set); once that moment
    has passed it names nobody, so the API answers 401."""
    assert API_TOKEN_DAYS == 90
    before = timezone.now()
    token, raw = ApiToken.issue(world.users["clinician"], "reporting")
    assert before + timedelta(days=90) <= token.expires <= timezone.now() + timedelta(days=90)
    settings.ONABOARD_API_TOKEN_DAYS = 7
    short, _short_raw = ApiToken.issue(world.users["clinician"], "one week")
    assert abs(short.expires - short.created - timedelta(days=7)) < timedelta(seconds=5)
    ApiToken.objects.filter(pk=token.pk).update(expires=timezone.now() - timedelta(seconds=1))
    assert ApiToken.user_for(raw) is None
    assert Client(headers={"Authorization": f"Bearer {raw}"}).get("/api/patients").status_code == 401


@pytest.mark.django_db(transaction=True)
def test_migration_0005_gives_existing_tokens_an_expiry_from_their_issue():
    """Tokens issued before tokens expired get ``created`` + the configured days (90) from the migration: a token
    issued 100 days ago has expired, one issued yesterday works for 89 more days. The database is migrated forward
    to the latest migrations afterwards, so the tests after this one find the tables as they are."""
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    before, after = ("accounts", "0004_rate_limit_refunds"), ("accounts", "0005_api_token_expiry")
    executor = MigrationExecutor(connection)
    executor.migrate([before])
    try:
        apps = executor.loader.project_state([before]).apps
        user = apps.get_model("accounts", "User").objects.create(username="script-owner", role="clinician")
        old_token = apps.get_model("accounts", "ApiToken")
        now = timezone.now()
        for name, age in (("old", 100), ("new", 1)):
            made = old_token.objects.create(user=user, name=name, digest=name * 8, prefix=name)
            old_token.objects.filter(pk=made.pk).update(created=now - timedelta(days=age))
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate([after])
        new_token = executor.loader.project_state([after]).apps.get_model("accounts", "ApiToken")
        expiries = dict(new_token.objects.values_list("name", "expires"))
        assert expiries == {"old": now - timedelta(days=10), "new": now + timedelta(days=89)}
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())


def test_a_clinics_sites_of_service_are_the_engines():
    """The clinic's site-of-service choices are the values the coverage policies' ``[prior_authorisation]`` names."""
    assert list(SiteOfService.values) == [site.value for site in EngineSiteOfService]


@pytest.mark.django_db
def test_a_clinic_inserted_without_a_site_is_a_hospital_outpatient_department():
    """A clinic made without naming its site (a new one, and each row from before the field: the INSERT of the code
    before accounts 0007 does not name it) is a hospital outpatient department, so its Medicare patients are still
    asked for prior authorisation."""
    made = Clinic.objects.create(name="Made Today")
    assert made.site_of_service == SiteOfService.HOSPITAL_OUTPATIENT
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO accounts_clinic (external_id, created, modified, name) VALUES (%s, %s, %s, %s)",
            [uuid.uuid4().hex, timezone.now(), timezone.now(), "Inserted Before 0007"],
        )
    assert Clinic.objects.get(name="Inserted Before 0007").site_of_service == SiteOfService.HOSPITAL_OUTPATIENT
