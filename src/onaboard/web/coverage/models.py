"""The clinic's prices, each patient's insurance terms, and prior-authorisation requests.

Prices are never overwritten: setting a price adds a row with the date it takes effect, so the price in force on
any day (the day of a past session, say) can always be found again. Insurance terms are what the patient's plan
says as of a stated day. A prior-authorisation request is tracked from the request to the payer's answer; a request
awaiting the answer is what puts an eligible patient in the worklist's "awaiting approval" state.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from onaboard.clinical import RETREATMENT_INTERVAL_DAYS, Stage
from onaboard.web.accounts.models import Clinic
from onaboard.web.common.models import BaseModel
from onaboard.web.patients.models import Patient

SESSIONS_A_YEAR = 365 // RETREATMENT_INTERVAL_DAYS
"""Sessions planned in a year when the patient's insurance says nothing else: the whole 12-week intervals in a
year (BOTOX label: every 12 weeks), 4."""


class PriceItem(models.TextChoices):
    """What the clinic charges for one session (onaboard.clinical.cost.PriceList)."""

    DRUG_PER_UNIT = "drug_per_unit", _("onabotulinumtoxinA, per unit (HCPCS J0585)")
    ADMINISTRATION = "administration", _("administration (CPT 64615), per session")
    VISIT = "visit", _("office visit, per session")


class Currency(models.TextChoices):
    USD = "USD", "USD"
    GBP = "GBP", "GBP"
    EUR = "EUR", "EUR"


class ClinicPrice(BaseModel):
    """One price as set on one day; the latest row set on or before a day is the price in force that day."""

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="prices")
    item = models.CharField(_("item"), max_length=16, choices=PriceItem.choices)
    amount = models.DecimalField(_("price"), max_digits=10, decimal_places=3)
    currency = models.CharField(_("currency"), max_length=3, choices=Currency.choices, default=Currency.USD)
    set_on = models.DateField(_("in force from"))
    set_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        ordering = ("item", "-set_on", "-created")
        constraints = [models.CheckConstraint(condition=models.Q(amount__gte=0), name="clinic_price_not_negative")]

    def __str__(self) -> str:
        return f"{self.item} {self.amount} {self.currency} from {self.set_on}"


class PatientInsurance(BaseModel):
    """The patient's coverage: which policy applies and the benefit terms as of ``terms_as_of``.

    ``policy_id`` names a shipped coverage policy (onaboard.policies); ``out_of_pocket_remaining`` empty means no
    maximum is considered; ``savings_remaining`` is what a manufacturer's savings programme will still pay toward
    the patient's share this year.
    """

    patient = models.OneToOneField(Patient, on_delete=models.CASCADE, related_name="insurance")
    policy_id = models.CharField(_("coverage policy"), max_length=64)
    payer = models.CharField(_("payer"), max_length=200, blank=True)
    member_id = models.CharField(_("member id"), max_length=64, blank=True)
    deductible_remaining = models.DecimalField(_("deductible remaining"), max_digits=10, decimal_places=2, default=0)
    coinsurance_percent = models.DecimalField(_("coinsurance (%)"), max_digits=5, decimal_places=2, default=0)
    copay_per_session = models.DecimalField(_("copay per session"), max_digits=10, decimal_places=2, default=0)
    out_of_pocket_remaining = models.DecimalField(
        _("out-of-pocket maximum remaining"), max_digits=10, decimal_places=2, null=True, blank=True
    )
    savings_programme = models.CharField(_("savings programme"), max_length=100, blank=True)
    savings_remaining = models.DecimalField(
        _("savings programme: left this year"), max_digits=10, decimal_places=2, default=0
    )
    bill_discarded_units = models.BooleanField(_("payer pays discarded units (J0585-JW)"), default=True)
    sessions_per_year = models.PositiveSmallIntegerField(_("sessions planned in a year"), default=SESSIONS_A_YEAR)
    terms_as_of = models.DateField(_("terms checked on"))
    version = models.PositiveIntegerField(default=1)
    """Bumped on every save: the edit form carries the version it was loaded at (0 when there was no row yet), and a
    save over a newer one is refused (``coverage.services.InsuranceConflictError``)."""

    class Meta:
        verbose_name_plural = _("patient insurance")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(coinsurance_percent__gte=0, coinsurance_percent__lte=100),
                name="insurance_coinsurance_percent",
            )
        ]

    def __str__(self) -> str:
        return f"{self.patient_id} {self.policy_id}"


class AuthorisationStatus(models.TextChoices):
    REQUESTED = "requested", _("requested, awaiting the payer")
    APPROVED = "approved", _("approved")
    DENIED = "denied", _("denied")
    WITHDRAWN = "withdrawn", _("withdrawn")


STAGE_CHOICES = [(Stage.INITIAL.value, _("initial")), (Stage.CONTINUATION.value, _("continuation"))]

ICD10_CHRONIC_MIGRAINE: dict[str, Promise] = {
    "G43.709": _("Chronic migraine without aura, not intractable, without status migrainosus"),
    "G43.701": _("Chronic migraine without aura, not intractable, with status migrainosus"),
    "G43.719": _("Chronic migraine without aura, intractable, without status migrainosus"),
    "G43.711": _("Chronic migraine without aura, intractable, with status migrainosus"),
    "G43.E09": _("Chronic migraine with aura, not intractable, without status migrainosus"),
    "G43.E01": _("Chronic migraine with aura, not intractable, with status migrainosus"),
    "G43.E19": _("Chronic migraine with aura, intractable, without status migrainosus"),
    "G43.E11": _("Chronic migraine with aura, intractable, with status migrainosus"),
}
"""The billable ICD-10-CM chronic-migraine codes (clinical-facts 7.2; the G43.E family since FY2024). Which one
applies (aura, intractable, status migrainosus) is the clinician's coding decision; some payers list only G43.7-."""


class PriorAuthorisation(BaseModel):
    """One request to the payer and its answer. ``approved_until`` is the last day the approval covers: the
    payer's, or, when ``approved_until_from_policy``, filled from the policy's approval length because none was
    given (the pages say so: it is not the payer's answer).

    ``payer`` and ``member_id`` are the patient's insurance's when the request was recorded under the insurance's
    policy (``coverage.services.prior_authorisation_save``): a policy file is a template two employers' plans may
    share, so an approval covers a session only while the insurance still names that payer and member id
    (``coverage.selectors.requests_under``). Empty on a request recorded before they were kept, or under another
    policy than the insurance's: such a row is matched on its policy alone."""

    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="prior_authorisations")
    stage = models.CharField(_("request"), max_length=12, choices=STAGE_CHOICES, default=Stage.INITIAL.value)
    policy_id = models.CharField(_("coverage policy"), max_length=64)
    payer = models.CharField(_("payer"), max_length=200, blank=True, default="", db_default="", editable=False)
    member_id = models.CharField(_("member id"), max_length=64, blank=True, default="", db_default="", editable=False)
    diagnosis_code = models.CharField(
        _("diagnosis (ICD-10-CM)"), max_length=8, choices=list(ICD10_CHRONIC_MIGRAINE.items())
    )
    requested_on = models.DateField(_("requested on"))
    status = models.CharField(
        _("status"), max_length=10, choices=AuthorisationStatus.choices, default=AuthorisationStatus.REQUESTED
    )
    decided_on = models.DateField(_("answered on"), null=True, blank=True)
    approved_from = models.DateField(_("approved from"), null=True, blank=True)
    approved_until = models.DateField(_("approved until"), null=True, blank=True)
    approved_until_from_policy = models.BooleanField(
        _("end date filled from the policy's approval length"), default=False, db_default=False, editable=False
    )
    reference = models.CharField(_("payer's reference"), max_length=64, blank=True)
    medication_overuse_managed = models.BooleanField(
        _("medication overuse managed (clinician attests)"), null=True, blank=True
    )
    prescriber_attests_benefit = models.BooleanField(
        _("clinically meaningful benefit (prescriber attests)"), null=True, blank=True
    )
    note = models.TextField(_("note"), blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    version = models.PositiveIntegerField(default=1, db_default=1)
    """Bumped on every save: an edit form carries the version it was loaded at, and a save over a newer one is
    refused (``coverage.services.AuthorisationConflictError``)."""

    class Meta:
        ordering = ("-requested_on", "-created")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(approved_until__isnull=True)
                | models.Q(approved_from__isnull=True)
                | models.Q(approved_until__gte=models.F("approved_from")),
                name="prior_auth_until_after_from",
            )
        ]

    def __str__(self) -> str:
        return f"{self.patient_id} {self.stage} {self.status} {self.requested_on}"

    @property
    def covers_from(self) -> dt.date:
        """The first day an approval is read as covering: its start, else the day of the payer's answer, else the
        request's day (an approval recorded without dates). The pages and the session screen's reason name it."""
        return self.approved_from or self.decided_on or self.requested_on
