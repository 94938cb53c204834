"""Questionnaire responses (HIT-6, MIDAS) as scored by the engine."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from onaboard.web.common.models import BaseModel
from onaboard.web.patients.models import Patient


class Instrument(models.TextChoices):
    HIT6 = "hit6", "HIT-6"
    MIDAS = "midas", "MIDAS"


class QuestionnaireResponse(BaseModel):
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="questionnaires")
    instrument = models.CharField(max_length=8, choices=Instrument.choices)
    date = models.DateField(_("date"))
    answers = models.JSONField()
    total = models.PositiveIntegerField()
    category = models.CharField(max_length=32)
    """The HIT-6 impact band or the MIDAS grade, as the engine named it."""

    class Meta:
        ordering = ("patient", "-date")
        constraints = [
            models.UniqueConstraint(fields=("patient", "instrument", "date"), name="one_questionnaire_per_day")
        ]
