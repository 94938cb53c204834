"""``approved_until_from_policy`` (0002) and ``version`` (0003) get defaults in the database (false, 1): they were
added NOT NULL with Django's defaults only, so a server still running the previous code during a rolling upgrade
failed to record a prior authorisation. docs/deploy.md, "Upgrades"; tests/web/test_rolling_upgrade_migrations.py."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('coverage', '0003_prior_authorisation_version'),
    ]

    operations = [
        migrations.AlterField(
            model_name='priorauthorisation',
            name='approved_until_from_policy',
            field=models.BooleanField(db_default=False, default=False, editable=False, verbose_name="end date filled from the policy's approval length"),
        ),
        migrations.AlterField(
            model_name='priorauthorisation',
            name='version',
            field=models.PositiveIntegerField(db_default=1, default=1),
        ),
    ]
