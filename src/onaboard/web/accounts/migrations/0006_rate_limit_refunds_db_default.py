"""``refunds`` gets a default in the database (0): 0004 added it NOT NULL with Django's default only, so a server
still running the code from before 0004 during a rolling upgrade inserted counters without it and failed (a 500 on
every API request, a failed sign-in). docs/deploy.md, "Upgrades"; tests/web/test_rolling_upgrade_migrations.py."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0005_api_token_expiry'),
    ]

    operations = [
        migrations.AlterField(
            model_name='ratelimitcounter',
            name='refunds',
            field=models.PositiveIntegerField(db_default=0, default=0),
        ),
    ]
