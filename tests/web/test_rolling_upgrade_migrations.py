"""Migrations run while the previous version still serves (docs/deploy.md, "Upgrades"): a column added to, or made
NOT NULL on, an existing table has a default in the database (``db_default``), because the previous code inserts
rows without naming it. Django's ``default=`` alone is applied by the new code only and leaves none in the
database, so the old servers' inserts failed with a NOT NULL violation (a 500 on every API request and a failed
sign-in, through the rate-limit counters, during a rolling upgrade past accounts 0004)."""

from __future__ import annotations

import pytest
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.operations import AddField, AlterField
from django.db.migrations.state import ProjectState
from django.db.models import NOT_PROVIDED, Field

EXEMPT = {
    ("accounts", "0005_api_token_expiry", "apitoken", "expires"): (
        "no database default gives a token's expiry (its issue time plus ONABOARD_API_TOKEN_DAYS, read by the app); "
        "only manage.py issue_api_token inserts tokens, and docs/deploy.md says to issue them on an upgraded server"
    ),
    ("training", "0003_quiz_attempt_distinct_questions", "quizattempt", "distinct_questions"): (
        "shipped; the value the previous code meant depends on its version (training/models.py is not this "
        "change's to edit)"
    ),
    ("training", "0004_quiz_attempt_quiz_version", "quizattempt", "quiz_version"): (
        "shipped; the version the previous code drew with depends on that code (not one database default)"
    ),
    ("training", "0005_certificate_issued_by", "certificate", "issued_by"): (
        "shipped; training/models.py is not this change's to edit: give it db_default='' with its next migration"
    ),
    ("training", "0006_case_attempt_case_version", "caseattempt", "case_version"): (
        "shipped; the version the previous code drew with depends on that code (not one database default)"
    ),
}
"""Columns added NOT NULL without a database default before the rule was written, and why each stays so. A column
whose current field has ``db_default`` needs no entry: a later migration gave it one."""


def _has_db_default(field: Field) -> bool:
    return field.db_default is not NOT_PROVIDED


def _breaks_old_inserts(
    operation: AddField | AlterField, app: str, start: ProjectState, before: ProjectState | None = None
) -> bool:
    """Whether ``operation`` leaves a column the previous code's INSERT (which does not name it) cannot fill.
    ``start`` is the state before the operation's migration, ``before`` the state just before the operation (the
    same unless an earlier operation of the migration changed it)."""
    field = operation.field
    if field.many_to_many or field.null or _has_db_default(field):
        return False
    if (app, operation.model_name_lower) not in start.models:  # a table made in the same migration: not written yet
        return False
    if isinstance(operation, AddField):
        return True
    old = (before or start).models[(app, operation.model_name_lower)].fields.get(operation.name)
    return old is not None and (old.null or _has_db_default(old))


def _unfillable_columns() -> list[tuple[str, str, str, str]]:
    """Every (app, migration, model, field) of onaboard's migrations that the previous code could not insert into,
    whose field has no ``db_default`` today either."""
    loader = MigrationLoader(None, ignore_no_migrations=True)
    latest = loader.project_state()
    found = []
    for key, migration in sorted(loader.disk_migrations.items()):
        app, name = key
        if not migration.__module__.startswith("onaboard."):
            continue
        start = loader.project_state(key, at_end=False)
        before = start.clone()
        for operation in migration.operations:
            if isinstance(operation, AddField | AlterField) and _breaks_old_inserts(operation, app, start, before):
                now = latest.models[(app, operation.model_name_lower)].fields.get(operation.name)
                if now is None or not _has_db_default(now):
                    found.append((app, name, operation.model_name_lower, operation.name))
            operation.state_forwards(app, before)
    return found


def test_every_column_added_to_an_existing_table_has_a_database_default():
    """A NOT NULL column added to an existing table (or a nullable one made NOT NULL) has a db_default now, or an
    entry in EXEMPT saying why not, so the previous version's inserts keep working while it still serves."""
    unfillable = _unfillable_columns()
    assert [column for column in unfillable if column not in EXEMPT] == []


def test_every_exemption_is_still_needed():
    """An exemption whose column has since been given a db_default (or was never unfillable) is removed."""
    assert set(EXEMPT) <= set(_unfillable_columns())


def test_the_rule_catches_a_not_null_column_without_a_database_default():
    """The checker itself: PositiveIntegerField(default=0) added to an existing model is flagged, and the same
    field with db_default=0, or nullable, is not."""
    from django.db import models
    from django.db.migrations.state import ModelState

    before = ProjectState()
    before.add_model(ModelState("demo", "counter", [("id", models.AutoField(primary_key=True))]))

    def added(field: Field) -> bool:
        return _breaks_old_inserts(AddField("counter", "refunds", field), "demo", before)

    assert added(models.PositiveIntegerField(default=0))
    assert not added(models.PositiveIntegerField(default=0, db_default=0))
    assert not added(models.PositiveIntegerField(null=True))
    made_not_null = AlterField("counter", "refunds", models.DateTimeField())
    before.add_field("demo", "counter", "refunds", models.DateTimeField(null=True), preserve_default=True)
    assert _breaks_old_inserts(made_not_null, "demo", before)


@pytest.mark.django_db
def test_a_counter_inserted_without_refunds_gets_zero_from_the_database():
    """The previous code's INSERT of a rate-limit counter (no ``refunds`` column named) succeeds after migrating,
    with refunds 0, where it was a NOT NULL violation."""
    from django.db import connection
    from django.utils import timezone

    from onaboard.web.accounts.models import RateLimitCounter

    table = connection.ops.quote_name(RateLimitCounter._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {table} (key, hits, expires) VALUES (%s, %s, %s)", ["old", 1, timezone.now()])  # noqa: S608
    assert RateLimitCounter.objects.get(key="old").refunds == 0
