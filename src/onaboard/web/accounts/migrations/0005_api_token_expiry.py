"""API tokens expire (``ApiToken.expires``). A token issued before gets the expiry it would have had if issued now:
its issue time (``created``) plus ``ONABOARD_API_TOKEN_DAYS`` days (90 unless set), so one issued longer ago than
that stops working when this migration runs; its owner asks for a new one (``manage.py issue_api_token``)."""

from datetime import timedelta

from django.conf import settings
from django.db import migrations, models
from django.db.models import F

DEFAULT_DAYS = 90
"""``models.API_TOKEN_DAYS`` when this migration was written (written out: a migration does not follow later code)."""


def _expiry_from_issue(apps, schema_editor):
    token = apps.get_model("accounts", "ApiToken")
    days = getattr(settings, "ONABOARD_API_TOKEN_DAYS", DEFAULT_DAYS)
    token.objects.using(schema_editor.connection.alias).update(expires=F("created") + timedelta(days=days))


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0004_rate_limit_refunds'),
    ]

    operations = [
        migrations.AddField(
            model_name='apitoken',
            name='expires',
            field=models.DateTimeField(editable=False, null=True),
        ),
        migrations.RunPython(_expiry_from_issue, migrations.RunPython.noop),
        migrations.AlterField(
            model_name='apitoken',
            name='expires',
            field=models.DateTimeField(editable=False),
        ),
    ]
