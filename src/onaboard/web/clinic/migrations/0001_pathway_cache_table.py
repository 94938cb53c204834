"""The database cache table of the worklist's pathway lines (settings.CACHES["pathways"]), for databases migrated
before that cache existed; on a new database the accounts migration 0002 has created it already."""

from django.core.management import call_command
from django.db import migrations


def create_cache_tables(apps, schema_editor):
    """``createcachetable`` for every database cache in settings.CACHES (tables that exist already are skipped)."""
    call_command("createcachetable", database=schema_editor.connection.alias, verbosity=0)


class Migration(migrations.Migration):
    dependencies = [("accounts", "0002_rate_limit_cache_table")]

    operations = [migrations.RunPython(create_cache_tables, migrations.RunPython.noop, elidable=False)]
