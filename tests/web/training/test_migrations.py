"""Training migrations that change stored rows: each fills existing rows as the rule it introduces needs."""

from __future__ import annotations

import datetime as dt

import pytest

from onaboard.training.cases import CASE_VERSION
from tests.web.migrating import latest_migration, migrate_to

BEFORE = ("training", "0004_quiz_attempt_quiz_version")
AFTER = ("training", "0005_certificate_issued_by")


@pytest.mark.django_db(transaction=True)
def test_0005_names_each_existing_certificates_issuer_after_its_holders_clinic_and_reverses():
    """Certificates issued before ``issued_by`` existed get their holder's current clinic's name (empty without a
    clinic), the best record left of who issued them; migrating back drops the field again."""
    try:
        _check_0005()
    finally:
        migrate_to(latest_migration("training"))


def _check_0005() -> None:
    apps = migrate_to(BEFORE)
    clinic = apps.get_model("accounts", "Clinic").objects.create(name="North Headache Clinic")
    users = apps.get_model("accounts", "User").objects
    in_clinic = users.create(username="tam", clinic=clinic)
    without = users.create(username="sol", clinic=None)
    certificates = apps.get_model("training", "Certificate").objects
    certificates.create(trainee=in_clinic, holder_name="Tam", issued_on=dt.date(2026, 6, 1), code="AAAA-AAAA-AAAA")
    certificates.create(trainee=without, holder_name="Sol", issued_on=dt.date(2026, 6, 1), code="BBBB-BBBB-BBBB")

    apps = migrate_to(AFTER)
    issued_by = dict(apps.get_model("training", "Certificate").objects.values_list("code", "issued_by"))
    assert issued_by == {"AAAA-AAAA-AAAA": "North Headache Clinic", "BBBB-BBBB-BBBB": ""}

    apps = migrate_to(BEFORE)
    fields = {field.name for field in apps.get_model("training", "Certificate")._meta.get_fields()}
    assert "issued_by" not in fields
    assert apps.get_model("training", "Certificate").objects.count() == 2


@pytest.mark.django_db(transaction=True)
def test_0006_keeps_existing_case_attempts_on_the_draws_they_were_shown():
    """Case attempts made before ``case_version`` existed get version 1 (the patient they were shown is drawn again
    as it was); an attempt made after the migration gets the current version."""
    try:
        apps = migrate_to(("training", "0005_certificate_issued_by"))
        trainee = apps.get_model("accounts", "User").objects.create(username="kit")
        apps.get_model("training", "CaseAttempt").objects.create(trainee=trainee, seed=17)
        apps = migrate_to(("training", "0006_case_attempt_case_version"))
        attempts = apps.get_model("training", "CaseAttempt").objects
        assert list(attempts.values_list("seed", "case_version")) == [(17, 1)]
        attempts.create(trainee_id=trainee.pk, seed=18)
        assert attempts.get(seed=18).case_version == CASE_VERSION
    finally:
        migrate_to(latest_migration("training"))
