"""The payer and member id of the insurance a request was made under (docs/policies.md, "Prior authorisation and a
change of payer"): a policy file is a template two employers' plans may share, so an approval covers a session only
while the insurance still names them. Each has a default in the database ('') so the previous code's inserts work
during a rolling upgrade (docs/deploy.md, "Upgrades"); a row saved before them is matched on its policy alone."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('coverage', '0004_prior_authorisation_db_defaults'),
    ]

    operations = [
        migrations.AddField(
            model_name='priorauthorisation',
            name='payer',
            field=models.CharField(blank=True, db_default='', default='', editable=False, max_length=200, verbose_name='payer'),
        ),
        migrations.AddField(
            model_name='priorauthorisation',
            name='member_id',
            field=models.CharField(blank=True, db_default='', default='', editable=False, max_length=64, verbose_name='member id'),
        ),
    ]
