"""The database cache table that held rate-limit counters where settings used the database cache (production).
Migration 0003 gave the counters their own table and drops this one; the step still runs ``createcachetable`` for
the database caches settings name today (the worklist's pathway lines)."""

from django.core.management import call_command
from django.db import migrations


def create_cache_tables(apps, schema_editor):
    """``createcachetable`` for every database cache in settings.CACHES (it skips tables that exist already)."""
    call_command("createcachetable", database=schema_editor.connection.alias, verbosity=0)


class Migration(migrations.Migration):
    dependencies = [("accounts", "0001_initial")]

    operations = [migrations.RunPython(create_cache_tables, migrations.RunPython.noop, elidable=False)]
