from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("training", "0006_case_attempt_case_version"),
    ]

    # Only the default changes: attempts already made keep the version they were drawn with (1 or 2), so their
    # medication-overuse questions are drawn again without the headache days they were not shown; attempts from now
    # on get version 3.
    operations = [
        migrations.AlterField(
            model_name="quizattempt",
            name="quiz_version",
            field=models.PositiveSmallIntegerField(default=3),
        ),
    ]
