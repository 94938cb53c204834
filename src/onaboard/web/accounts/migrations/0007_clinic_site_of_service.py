"""A clinic's site of service (office or hospital outpatient department), which decides whether Medicare asks for
prior authorisation (only in a hospital outpatient department: Noridian JE, clinical-facts 6). Every existing clinic
becomes a hospital outpatient department, the database default, so its Medicare patients are still asked for
approvals as before, until its administrator says it is a physician's office; the default is in the database
(``db_default``) so the previous code's inserts during a rolling upgrade get it too (docs/deploy.md, "Upgrades")."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0006_rate_limit_refunds_db_default'),
    ]

    operations = [
        migrations.AddField(
            model_name='clinic',
            name='site_of_service',
            field=models.CharField(choices=[('office', "Physician's office"), ('hospital_outpatient', 'Hospital outpatient department')], db_default='hospital_outpatient', default='hospital_outpatient', help_text="Where the clinic gives the injections. Medicare asks for prior authorisation in a hospital outpatient department only, not in a physician's office; commercial payers ask in both. Clinics set up before this setting existed are hospital outpatient departments, so their Medicare patients are still asked for approvals.", max_length=24, verbose_name='site of service'),
        ),
    ]
