"""Record numbers take the characters the diary CSV contract allows in a patient id (validation only: no
column changes, and a stored number is not rewritten)."""

import django.core.validators
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('patients', '0001_initial'),
    ]

    operations = [
        migrations.AlterField(
            model_name='patient',
            name='record_number',
            field=models.CharField(max_length=32, validators=[django.core.validators.RegexValidator('\\A[A-Za-z0-9._-]+\\Z', 'Use letters A-Z, digits, dots, underscores and hyphens only: the record number names the patient in exported diary files (diary CSV contract).')], verbose_name='record number'),
        ),
    ]
