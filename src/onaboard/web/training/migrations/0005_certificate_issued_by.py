from django.db import migrations, models


def name_issuers(apps, schema_editor):
    """Certificates issued before ``issued_by`` name their holder's clinic as it is now: the verification page showed
    that clinic until now, and no record of the clinic at issue is left."""
    Certificate = apps.get_model("training", "Certificate")
    for certificate in Certificate.objects.select_related("trainee__clinic").filter(trainee__clinic__isnull=False):
        certificate.issued_by = certificate.trainee.clinic.name
        certificate.save(update_fields=["issued_by"])


class Migration(migrations.Migration):
    dependencies = [
        ("training", "0004_quiz_attempt_quiz_version"),
    ]

    # Backwards, the column is dropped (RemoveField) after a no-op: nothing is lost that the holder's clinic cannot
    # give again.
    operations = [
        migrations.AddField(
            model_name="certificate",
            name="issued_by",
            field=models.CharField(blank=True, max_length=200),
        ),
        migrations.RunPython(name_issuers, migrations.RunPython.noop),
    ]
