from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("training", "0005_certificate_issued_by"),
    ]

    # Case attempts already made were drawn with the version 1 draws: they get 1, so they are drawn (and their stored
    # decisions marked) as before; attempts from now on get the current version (2: the sex drawn first, a checklist
    # that fits it).
    operations = [
        migrations.AddField(
            model_name="caseattempt",
            name="case_version",
            field=models.PositiveSmallIntegerField(default=1),
        ),
        migrations.AlterField(
            model_name="caseattempt",
            name="case_version",
            field=models.PositiveSmallIntegerField(default=2),
        ),
    ]
