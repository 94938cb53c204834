"""A side effect keeps the token of the report form that sent it, unique per patient, so the same form sent twice
(a double tap on "Send to the clinic" over a slow network) stores one report. Reports stored before have none, and
any number may have none (the API, imports)."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('injections', '0005_site_map_spots_moved'),
    ]

    operations = [
        migrations.AddField(
            model_name='sideeffect',
            name='submission',
            field=models.UUIDField(blank=True, editable=False, null=True),
        ),
        migrations.AddConstraint(
            model_name='sideeffect',
            constraint=models.UniqueConstraint(condition=models.Q(('submission__isnull', False)), fields=('patient', 'submission'), name='one_side_effect_per_submission'),
        ),
    ]
