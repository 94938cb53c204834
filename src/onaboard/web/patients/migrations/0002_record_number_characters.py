"""Record numbers take the characters the diary CSV contract allows in a patient id (validation only: no
column changes, and a stored number is not rewritten), and patients are ordered by name, then record number and
id, a total order (pages of a list never overlap)."""

import django.core.validators
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('patients', '0001_initial'),
    ]

    operations = [
        migrations.AlterModelOptions(
            name='patient',
            options={'ordering': ('family_name', 'given_name', 'record_number', 'pk')},
        ),
        migrations.AlterField(
            model_name='patient',
            name='record_number',
            field=models.CharField(max_length=32, validators=[django.core.validators.RegexValidator('\\A[A-Za-z0-9._-]{1,64}\\Z', 'Use letters A-Z, digits, dots, underscores and hyphens only: the record number names the patient in exported diary files (diary CSV contract).')], verbose_name='record number'),
        ),
    ]
