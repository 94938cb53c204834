"""The safety screen asks about pre-existing cardiovascular disease (a warning in the label's Warnings and
Precautions). Stored patients get no answer (null): the screen lists the question as not yet asked."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('patients', '0002_record_number_characters'),
    ]

    operations = [
        migrations.AddField(
            model_name='patient',
            name='cardiovascular_disease',
            field=models.BooleanField(blank=True, null=True, verbose_name='cardiovascular disease'),
        ),
    ]
