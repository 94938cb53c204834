"""A patient's record: demographics, the safety-screen answers, other toxin treatments and prior preventives.

Clinical records are never hard-deleted. ``version`` guards against two people saving over each other.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from onaboard.clinical.diary import PATIENT_ID_PATTERN
from onaboard.interop.tables import TEXT_LIMITS
from onaboard.web.accounts.models import Clinic
from onaboard.web.common.models import BaseModel

SAFETY_FLAGS: tuple[str, ...] = (
    "injection_site_infection",
    "hypersensitivity_to_botulinum_toxin",
    "neuromuscular_junction_disorder",
    "motor_neuropathy_or_als",
    "dysphagia",
    "breathing_problems",
    "cardiovascular_disease",
    "aminoglycoside_or_nmj_drug",
    "anticholinergic_drug",
    "muscle_relaxant",
    "pregnant",
    "breastfeeding",
)
"""The safety-screen questions (onaboard.clinical.SafetyInput); each is yes, no or not asked (null)."""


RECORD_NUMBER_CHARACTERS = _(
    "Use letters A-Z, digits, dots, underscores and hyphens only: the record number names the patient in exported "
    "diary files (diary CSV contract)."
)


class Sex(models.TextChoices):
    FEMALE = "female", _("female")
    MALE = "male", _("male")
    OTHER = "other", _("other")
    UNKNOWN = "unknown", _("unknown")


class Patient(BaseModel):
    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="patients")
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="patient"
    )
    record_number = models.CharField(
        _("record number"),
        max_length=32,
        validators=[RegexValidator(rf"\A{PATIENT_ID_PATTERN}\Z", RECORD_NUMBER_CHARACTERS)],  # the diary's patient id
    )
    given_name = models.CharField(_("given name"), max_length=100)
    family_name = models.CharField(_("family name"), max_length=100)
    birth_date = models.DateField(_("birth date"))
    sex = models.CharField(_("sex"), max_length=8, choices=Sex.choices, default=Sex.UNKNOWN)
    version = models.PositiveIntegerField(default=1)
    portal_closed = models.DateTimeField(null=True, blank=True)

    injection_site_infection = models.BooleanField(_("infection at the injection sites"), null=True, blank=True)
    hypersensitivity_to_botulinum_toxin = models.BooleanField(
        _("hypersensitivity to any botulinum toxin product or any component of the formulation"), null=True, blank=True
    )
    neuromuscular_junction_disorder = models.BooleanField(
        _("neuromuscular junction disorder (myasthenia gravis, Lambert-Eaton)"), null=True, blank=True
    )
    motor_neuropathy_or_als = models.BooleanField(_("peripheral motor neuropathy or ALS"), null=True, blank=True)
    dysphagia = models.BooleanField(_("swallowing problems"), null=True, blank=True)
    breathing_problems = models.BooleanField(_("breathing problems"), null=True, blank=True)
    cardiovascular_disease = models.BooleanField(_("cardiovascular disease"), null=True, blank=True)
    aminoglycoside_or_nmj_drug = models.BooleanField(
        _("aminoglycoside or other drug interfering with neuromuscular transmission"), null=True, blank=True
    )
    anticholinergic_drug = models.BooleanField(_("anticholinergic drug"), null=True, blank=True)
    muscle_relaxant = models.BooleanField(_("muscle relaxant"), null=True, blank=True)
    pregnant = models.BooleanField(_("pregnant"), null=True, blank=True)
    breastfeeding = models.BooleanField(_("breastfeeding"), null=True, blank=True)
    other_toxin_asked = models.BooleanField(_("asked about other botulinum toxin treatments"), default=False)
    safety_answered_on = models.DateField(_("safety checklist answered on"), null=True, blank=True)
    safety_answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("safety checklist answered by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    """The clinic's day the checklist answers were last saved, and who saved them (``patient_update``); ``None``:
    not known (answered before these were recorded, or an import changed an answer about the day of injection). The
    screen counts the answers about the day of injection only on that day (``onaboard.clinical.PER_VISIT_ITEMS``)."""

    class Meta:
        ordering = ("family_name", "given_name", "record_number", "pk")  # a total order: pages never overlap
        constraints = [
            models.UniqueConstraint(fields=("clinic", "record_number"), name="unique_record_number_per_clinic")
        ]

    def __str__(self) -> str:
        return f"{self.family_name}, {self.given_name} ({self.record_number})"

    @property
    def display_name(self) -> str:
        return f"{self.given_name} {self.family_name}"

    @property
    def safety_unanswered(self) -> bool:
        """No safety question answered yet (each of ``SAFETY_FLAGS`` not asked, other toxins not asked): a new
        patient's checklist, which the patient page says is not answered yet."""
        return not self.other_toxin_asked and all(getattr(self, flag) is None for flag in SAFETY_FLAGS)

    def predates_birth(self, day: dt.date | None) -> bool:
        """Whether ``day`` comes before the birth date (none known, or no day: never): the one rule by which a
        diary day, a session, a questionnaire or a side effect's onset is refused as a mistyped year, and which
        keeps the birth date before every day of the record."""
        return day is not None and self.birth_date is not None and day < self.birth_date


class OtherToxinTreatment(BaseModel):
    """A botulinum toxin treatment outside the chronic-migraine cycles (any product or indication)."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="other_toxin_treatments")
    date = models.DateField(_("date"))
    product = models.CharField(_("product"), max_length=100)
    units = models.PositiveIntegerField(_("units"))
    indication = models.CharField(_("indication"), max_length=200, blank=True)

    class Meta:
        ordering = ("-date",)


class StopReason(models.TextChoices):
    INEFFECTIVE = "ineffective", _("ineffective")
    NOT_TOLERATED = "not_tolerated", _("not tolerated")
    CONTRAINDICATED = "contraindicated", _("contraindicated")
    ONGOING = "ongoing", _("still taking")
    OTHER = "other", _("other")


class PreventiveClass(models.TextChoices):
    BETA_BLOCKER = "beta_blocker", _("beta blocker")
    ANTICONVULSANT = "anticonvulsant", _("anticonvulsant")
    TRICYCLIC = "tricyclic_antidepressant", _("tricyclic antidepressant")
    SNRI = "snri", _("SNRI")
    CALCIUM_CHANNEL_BLOCKER = "calcium_channel_blocker", _("calcium channel blocker")
    ARB_ACE = "angiotensin", _("ARB / ACE inhibitor")
    CGRP_MAB = "cgrp_monoclonal_antibody", _("CGRP monoclonal antibody")
    GEPANT = "gepant", _("gepant (preventive)")
    OTHER = "other", _("other")


class PreventiveTrial(BaseModel):
    """A preventive medicine tried before: payers ask which failed, for how long and why it stopped."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="preventive_trials")
    drug = models.CharField(_("drug"), max_length=TEXT_LIMITS["drug"])
    drug_class = models.CharField(_("class"), max_length=32, choices=PreventiveClass.choices)
    dose = models.CharField(_("dose"), max_length=TEXT_LIMITS["dose"], blank=True)
    start = models.DateField(_("start"))
    stop = models.DateField(_("stop"), null=True, blank=True)
    stop_reason = models.CharField(_("why stopped"), max_length=20, choices=StopReason.choices)

    class Meta:
        ordering = ("-start",)
        constraints = [
            models.CheckConstraint(
                condition=models.Q(stop__isnull=True) | models.Q(stop__gte=models.F("start")),
                name="preventive_stop_after_start",
            )
        ]
