"""Rate-limit counters in their own table, counted by one atomic upsert (ratelimit.py), in place of the database
cache table that migration 0002 created for them (dropped here where it exists; the cache entry is gone from
settings, so nothing would create it again)."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0002_rate_limit_cache_table'),
    ]

    operations = [
        migrations.CreateModel(
            name='RateLimitCounter',
            fields=[
                ('key', models.CharField(max_length=100, primary_key=True, serialize=False)),
                ('hits', models.PositiveIntegerField()),
                ('expires', models.DateTimeField(db_index=True)),
            ],
            options={
                'db_table': 'onaboard_rate_limit_counters',
            },
        ),
        migrations.RunSQL("DROP TABLE IF EXISTS onaboard_rate_limits", migrations.RunSQL.noop, elidable=True),
    ]
