"""Side-effect kinds for the boxed warning's signs of distant spread that had none (dysphonia, dysarthria, urinary
incontinence; asthenia joins generalised weakness in its label): a patient reporting one is told to seek care now
and the clinic sees it first. Choices only: no stored value changes."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('injections', '0006_side_effect_submission'),
    ]

    operations = [
        migrations.AlterField(
            model_name='sideeffect',
            name='kind',
            field=models.CharField(choices=[('neck_pain', 'neck pain'), ('neck_weakness', 'neck weakness or stiffness'), ('eyelid_ptosis', 'drooping eyelid'), ('brow_ptosis', 'drooping brow or facial weakness'), ('injection_site_pain', 'pain or bruising where injected'), ('headache_flare', 'headache or migraine flare'), ('myalgia', 'muscle aches'), ('muscle_spasm', 'muscle spasm'), ('hypersensitivity', 'allergic reaction'), ('dysphagia', 'trouble swallowing'), ('breathing_difficulty', 'trouble breathing'), ('diplopia', 'double vision'), ('generalised_weakness', 'weakness all over or loss of strength'), ('dysphonia', 'hoarseness or a change of voice'), ('dysarthria', 'trouble speaking'), ('urinary_incontinence', 'loss of bladder control'), ('other', 'something else')], max_length=24, verbose_name='what'),
        ),
    ]
