import django.core.validators
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("training", "0008_quiz_attempt_quiz_version_4"),
    ]

    operations = [
        migrations.AlterField(
            model_name="livesession",
            name="duration_minutes",
            field=models.PositiveIntegerField(
                default=120,
                validators=[
                    django.core.validators.MinValueValidator(
                        15, message="A session lasts at least %(limit_value)s minutes."
                    ),
                    django.core.validators.MaxValueValidator(
                        1440,
                        message="A session lasts at most %(limit_value)s minutes (a day); schedule a longer course as several sessions.",
                    ),
                ],
                verbose_name="duration (minutes)",
            ),
        ),
    ]
