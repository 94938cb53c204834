from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("training", "0007_quiz_attempt_quiz_version_3"),
    ]

    # Only the default changes: attempts already made keep the version they were drawn with (1, 2 or 3), so their
    # occipitalis follow-the-pain question is drawn again as it was asked ("may be added"); attempts from now on get
    # version 4, which asks how many sites a plan may add (a limit derived from the 40 U cap, not stated).
    operations = [
        migrations.AlterField(
            model_name="quizattempt",
            name="quiz_version",
            field=models.PositiveSmallIntegerField(default=4),
        ),
    ]
