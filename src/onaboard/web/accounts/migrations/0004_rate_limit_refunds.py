"""Rate-limit counters keep the tries given back (``refunds``): a try is counted before it is checked and given
back when it turns out not to count, so the count against the limit is ``hits - refunds`` (ratelimit.py)."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0003_rate_limit_counters'),
    ]

    operations = [
        migrations.AddField(
            model_name='ratelimitcounter',
            name='refunds',
            field=models.PositiveIntegerField(default=0),
        ),
    ]
