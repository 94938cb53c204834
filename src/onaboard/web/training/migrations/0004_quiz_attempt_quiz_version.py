from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('training', '0003_quiz_attempt_distinct_questions'),
    ]

    # Attempts already made were drawn with the version 1 generators: they get 1, so they are drawn (and their
    # stored answers marked) as before; attempts from now on get the current version (2).
    operations = [
        migrations.AddField(
            model_name='quizattempt',
            name='quiz_version',
            field=models.PositiveSmallIntegerField(default=1),
        ),
        migrations.AlterField(
            model_name='quizattempt',
            name='quiz_version',
            field=models.PositiveSmallIntegerField(default=2),
        ),
    ]
