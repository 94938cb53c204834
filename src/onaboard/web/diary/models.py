"""Diary days as stored: one row per patient per calendar day, the fields of the diary CSV contract."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from onaboard.clinical import AcuteClass, Intensity
from onaboard.web.common.models import BaseModel
from onaboard.web.patients.models import Patient

INTENSITY_CHOICES = [(i.value, i.value) for i in Intensity]


class DiaryEntry(BaseModel):
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="diary_entries")
    date = models.DateField(_("date"))
    headache_hours = models.DecimalField(_("hours with headache"), max_digits=4, decimal_places=2)
    intensity = models.CharField(_("worst pain"), max_length=8, choices=INTENSITY_CHOICES, blank=True)
    unilateral = models.BooleanField(_("one-sided"), default=False)
    pulsating = models.BooleanField(_("throbbing"), default=False)
    worse_with_activity = models.BooleanField(_("worse with activity"), default=False)
    nausea = models.BooleanField(_("nausea"), default=False)
    vomiting = models.BooleanField(_("vomiting"), default=False)
    photophobia = models.BooleanField(_("sensitive to light"), default=False)
    phonophobia = models.BooleanField(_("sensitive to sound"), default=False)
    aura = models.BooleanField(_("aura"), default=False)
    acute_medication = models.CharField(_("acute medicines"), max_length=200, blank=True)
    """The classes taken, ``;``-separated in onaboard.clinical.AcuteClass order."""
    acute_relief = models.BooleanField(_("medicine helped"), default=False)
    believed_migraine = models.BooleanField(_("felt like a migraine"), default=False)
    notes = models.TextField(_("notes"), blank=True)

    class Meta:
        ordering = ("patient", "date")
        constraints = [models.UniqueConstraint(fields=("patient", "date"), name="one_diary_row_per_day")]
        # The worklist's fingerprint (count and latest change of each patient's rows up to today) reads this index
        # alone, not the table (clinic.selectors._fingerprint_keys).
        indexes = [models.Index(fields=("patient", "date", "modified"), name="diary_changes")]
        verbose_name_plural = _("diary entries")

    def __str__(self) -> str:
        return f"{self.patient_id} {self.date}"


ACUTE_CLASS_ORDER = tuple(c.value for c in AcuteClass)
