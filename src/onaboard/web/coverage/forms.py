"""Forms for prices, insurance terms and prior-authorisation requests. They parse and check input; nothing more."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.text import capfirst, get_text_list
from django.utils.translation import gettext_lazy as _

from onaboard.clinical import RETREATMENT_INTERVAL_DAYS
from onaboard.web.common.conflicts import track_loaded_values
from onaboard.web.coverage.models import (
    AuthorisationStatus,
    ClinicPrice,
    PatientInsurance,
    PriceItem,
    PriorAuthorisation,
)
from onaboard.web.coverage.selectors import add_months, open_request_twin, policy_choices, price_in_force
from onaboard.web.coverage.services import (
    ANSWERS,
    ATTESTATION_FIELDS,
    AUTHORISATION_FIELDS,
    INSURANCE_FIELDS,
    NO_INSURANCE_YET,
)
from onaboard.web.patients.services import DATE_BEFORE_BIRTH

MAX_SESSIONS_PER_YEAR = 1 + 364 // RETREATMENT_INTERVAL_DAYS
"""Sessions 84 days apart (BOTOX label: every 12 weeks) that fit in one year: days 0, 84, 168, 252 and 336."""

DECISION_NEEDS_DATE = _("Give the day the payer answered.")
APPROVAL_NEEDS_START = _("Give the first day the approval covers.")
UNTIL_BEFORE_FROM = _("The approval cannot end before it starts.")
DECIDED_BEFORE_REQUESTED = _("The payer cannot answer before the request was sent: give a day on or after it.")
APPROVAL_DATES_NEED_APPROVED = _(
    "Only an approved request has approval dates: clear this, or set the status to approved."
)
CURRENCY_DIFFERS = _(
    "The clinic's other prices in force from %(day)s are in %(currencies)s (%(items)s): set this price in the same "
    "currency, or a patient's cost cannot be worked out. To change the clinic's currency, set every item's price in "
    "the new currency from a day after today."
)
CURRENCY_CHANGE_PENDING = _(
    "Saved. A patient's cost from %(day)s cannot be worked out until the other items are priced in %(currency)s from "
    "that day too (still in %(currencies)s: %(items)s)."
)
TOO_MANY_SESSIONS = _("At most %(max)d sessions fit in a year at the 12-week interval.")
POLICY_LABEL = _("Coverage policy")
REQUIRED_STAGE = _("Choose whether this is the initial request or a continuation.")
REQUIRED_POLICY = _("Choose the coverage policy.")
NO_POLICY_CHOSEN = _("— choose the payer's policy —")
"""The empty first choice of a policy list: no shipped policy is preselected (the first in file-name order is a
consensus statement, not a payer's policy), so a form saved without a choice is refused with ``REQUIRED_POLICY``."""
REQUIRED_DIAGNOSIS = _("Choose the diagnosis (ICD-10-CM code).")
REQUIRED_REQUESTED_ON = _("Give the day the request was sent.")
REQUIRED_STATUS = _("Choose the request's status.")
NOT_A_DATE = _("Give the day as a date, such as 2026-01-31.")
DUPLICATE_OPEN_REQUEST = _(
    "A request of this patient with the same stage, policy and request date is already awaiting the payer: update "
    "that one instead of recording it again."
)
OPEN_COPY_OF_ANSWERED = _(
    "A copy of this request (the same stage, policy and request date) is still awaiting the payer. Withdraw that copy "
    "first (update it and set its status to withdrawn), then record the payer's answer here: left open, the copy "
    "would read as a further request awaiting the payer."
)
ATTESTATION_CLINICAL_ONLY = _("The clinician attests to this: only clinical staff can set it.")
MAX_YEARS_AFTER_REQUEST = 3
"""How far after the request an answer or approval date may lie, and a price after today: a bound against a
mistyped year (9999), not a payer's rule (the shipped policies approve for 6 or 12 months at a time)."""
DATE_TOO_LATE = _(
    "%(field)s cannot be more than %(years)d years after the request was sent: give a day on or before %(latest)s "
    "(check the year)."
)
DATE_AFTER_TODAY = _("%(field)s cannot be after today: give a day on or before %(today)s.")
"""For a day something already happened on: the request was sent, the payer answered, the insurance terms were
checked. A request dated 18 months ahead was saved, and terms checked on 9026-12-01 were; only an approval's dates
may lie ahead (an approval starting next month)."""
MAX_YEARS_BEFORE_TODAY = 10
"""How long before today a request, answer or approval date, a price or the check of insurance terms may lie: a
bound against a mistyped year (0001, or 0026 for 2026), not a payer's rule (the shipped policies approve for 6 or 12
months at a time, so a request more than ten years old has long been replaced). An approval may still start before
its request (a payer's retroactive approval)."""
PRICE_TOO_LATE = _(
    "%(field)s cannot be more than %(years)d years after today: give a day on or before %(latest)s (check the year)."
)
DATE_TOO_EARLY = _(
    "%(field)s cannot be more than %(years)d years before today: give a day on or after %(earliest)s (check the year)."
)


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs=attrs, format="%Y-%m-%d")


class ClinicPriceForm(forms.ModelForm):
    """A price for one item from one day. ``clinic`` is the clinic whose price list it joins: a price in another
    currency than the clinic's other prices in force while it is would make every patient's cost unknown
    (``coverage.selectors.price_list`` refuses a list in more than one currency), so it is refused here, naming the
    prices it would clash with."""

    class Meta:
        model = ClinicPrice
        fields = ("item", "amount", "currency", "set_on", "note")
        widgets = {"set_on": DateInput()}

    def __init__(self, *args: Any, clinic: Any = None, today: dt.date | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.clinic = clinic
        self.today = today or timezone.localdate()
        self.currency_warning = ""
        """Set by ``clean`` for a price from a day after today in another currency than the others: the first step
        of a change of currency, saved, with what is left to do (the view shows it)."""

    def clean_amount(self) -> Any:
        amount = self.cleaned_data["amount"]
        if amount is not None and amount < 0:
            raise forms.ValidationError(_("A price cannot be negative."))
        return amount

    def clean_set_on(self) -> Any:
        """Refuse a day more than ``MAX_YEARS_BEFORE_TODAY`` years before today or ``MAX_YEARS_AFTER_REQUEST`` after
        it, the bounds of a prior-authorisation request's dates: a mistyped year (0001, 9999) was saved and listed,
        and a price from 9999 can never be corrected by a later one."""
        day = self.cleaned_data["set_on"]
        if day is None:
            return day
        label = self.fields["set_on"].label
        latest = add_months(self.today, 12 * MAX_YEARS_AFTER_REQUEST)
        if too_early := _too_early(label, day, self.today):
            raise forms.ValidationError(too_early)
        if day > latest:
            raise forms.ValidationError(
                PRICE_TOO_LATE % {"field": label, "years": MAX_YEARS_AFTER_REQUEST, "latest": latest.isoformat()}
            )
        return day

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        item, currency, set_on = data.get("item"), data.get("currency"), data.get("set_on")
        if self.clinic is None or not (item and currency and set_on):
            return data
        clashes = [price for price in self._others_in_force(item, set_on) if price.currency != currency]
        if not clashes:
            return data
        words = {
            "day": set_on.isoformat(),
            "currency": currency,
            "currencies": get_text_list(sorted({price.currency for price in clashes}), _("and")),
            "items": "; ".join(
                f"{PriceItem(price.item).label}: {_amount(price.amount)} {price.currency}" for price in clashes
            ),
        }
        if set_on > self.today:  # no cost is worked out on that day yet: the clinic may price every item anew
            self.currency_warning = str(CURRENCY_CHANGE_PENDING % words)
        else:
            self.add_error("currency", CURRENCY_DIFFERS % words)
        return data

    def _others_in_force(self, item: str, set_on: dt.date) -> list[ClinicPrice]:
        """The other items' prices in force while this one would be: on ``set_on`` and on each later day another
        item's price changes, up to the day a later price for this item replaces this one, the price in force that
        day (``price_in_force``: a price superseded on its own day, a correction entered after it, was never in
        force and clashes with nothing). Each price once, in the order the days come."""
        replaced = (
            ClinicPrice.objects.filter(clinic=self.clinic, item=item, set_on__gt=set_on)
            .order_by("set_on")
            .values_list("set_on", flat=True)
            .first()
        )
        others = [other for other in PriceItem.values if other != item]
        changes = ClinicPrice.objects.filter(clinic=self.clinic, item__in=others, set_on__gt=set_on)
        if replaced is not None:
            changes = changes.filter(set_on__lt=replaced)
        days = [set_on, *sorted(set(changes.values_list("set_on", flat=True)))]
        found: dict[int, ClinicPrice] = {}
        for day in days:
            for other in others:
                current = price_in_force(self.clinic, other, day)
                if current is not None:
                    found.setdefault(current.pk, current)
        return list(found.values())


def _too_early(label: Any, day: dt.date, today: dt.date) -> str | None:
    """``DATE_TOO_EARLY`` naming the field ``label`` when ``day`` is more than ``MAX_YEARS_BEFORE_TODAY`` years before
    ``today`` (a year typed as 0001, or 0026 for 2026), else None: the lower bound of every date the forms take."""
    earliest = add_months(today, -12 * MAX_YEARS_BEFORE_TODAY)
    if day >= earliest:
        return None
    return str(DATE_TOO_EARLY % {"field": label, "years": MAX_YEARS_BEFORE_TODAY, "earliest": earliest.isoformat()})


def _after_today(label: Any, day: dt.date, today: dt.date) -> str | None:
    """``DATE_AFTER_TODAY`` naming the field ``label`` when ``day`` is after ``today``, else None."""
    if day <= today:
        return None
    return str(DATE_AFTER_TODAY % {"field": label, "today": today.isoformat()})


def _amount(amount: Decimal) -> str:
    """A price as the clinic reads it: at least two decimals, more only where the price has them (250.00, 6.506)."""
    return str(max(amount.normalize(), amount.quantize(Decimal("0.01")), key=lambda value: -value.as_tuple().exponent))


def _version_field(lowest: int) -> forms.IntegerField:
    """The row version the form was loaded at, sent back so a save can detect a change made meanwhile."""
    return forms.IntegerField(widget=forms.HiddenInput, min_value=lowest)


class PatientInsuranceForm(forms.ModelForm):
    """The patient's insurance terms, with the version of the row the form was loaded at (``NO_INSURANCE_YET`` when
    there was none): ``coverage.services.patient_insurance_save`` refuses a save over a newer one. ``today``: the
    clinic's day (default ``timezone.localdate()``), the latest day the terms can have been checked on."""

    policy_id = forms.ChoiceField(label=POLICY_LABEL, choices=(), error_messages={"required": REQUIRED_POLICY})
    version = _version_field(NO_INSURANCE_YET)

    class Meta:
        model = PatientInsurance
        fields = INSURANCE_FIELDS  # what coverage.services.patient_insurance_save stores
        widgets = {"terms_as_of": DateInput()}

    def __init__(self, *args: Any, today: dt.date | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.today = today or timezone.localdate()
        self.fields["version"].initial = self.instance.version if self.instance.pk else NO_INSURANCE_YET
        self.fields["policy_id"].choices = [("", NO_POLICY_CHOSEN), *policy_choices()]
        track_loaded_values(self)  # what the user loaded: a refused save is merged with the row stored now
        for name in ("deductible_remaining", "copay_per_session", "savings_remaining", "out_of_pocket_remaining"):
            self.fields[name].min_value = 0
            self.fields[name].validators.append(_not_negative)
        self.fields["coinsurance_percent"].validators.append(_percent)

    def clean_sessions_per_year(self) -> int:
        sessions = self.cleaned_data["sessions_per_year"]
        if not 1 <= sessions <= MAX_SESSIONS_PER_YEAR:
            raise forms.ValidationError(TOO_MANY_SESSIONS % {"max": MAX_SESSIONS_PER_YEAR})
        return sessions

    def clean_terms_as_of(self) -> Any:
        """Refuse a day after today (terms cannot have been checked yet) or more than ``MAX_YEARS_BEFORE_TODAY`` years
        before it: the cost applies the terms to the sessions on or after this day, so terms checked on 0026-12-01
        (for 2026) took a September 2026 session off them and the deductible applied fell from $400 to $0, and
        9026-12-01, 0001-01-01 and 9999-12-31 were saved."""
        day = self.cleaned_data["terms_as_of"]
        if day is None:
            return day
        label = self.fields["terms_as_of"].label
        refusal = _too_early(label, day, self.today) or _after_today(label, day, self.today)
        if refusal:
            raise forms.ValidationError(refusal)
        return day


def _not_negative(value: Any) -> None:
    if value is not None and value < 0:
        raise forms.ValidationError(_("Cannot be negative."))


def _percent(value: Any) -> None:
    if value is not None and not 0 <= value <= 100:
        raise forms.ValidationError(_("A percentage from 0 to 100."))


class PriorAuthorisationForm(forms.ModelForm):
    """A prior-authorisation request; editing one, the form carries the version of the row it was loaded at, and
    ``coverage.services.prior_authorisation_save`` refuses a save over a newer one. The request and the payer's
    answer are dated on or before today; an approval may start and end after it."""

    version = _version_field(1)
    policy_id = forms.ChoiceField(label=POLICY_LABEL, choices=(), error_messages={"required": REQUIRED_POLICY})
    medication_overuse_managed = forms.NullBooleanField(
        label=capfirst(PriorAuthorisation._meta.get_field("medication_overuse_managed").verbose_name),
        widget=forms.NullBooleanSelect(),
        required=False,
    )
    prescriber_attests_benefit = forms.NullBooleanField(
        label=capfirst(PriorAuthorisation._meta.get_field("prescriber_attests_benefit").verbose_name),
        widget=forms.NullBooleanSelect(),
        required=False,
    )

    class Meta:
        model = PriorAuthorisation
        fields = AUTHORISATION_FIELDS  # what coverage.services.prior_authorisation_save stores
        widgets = {
            "requested_on": DateInput(),
            "decided_on": DateInput(),
            "approved_from": DateInput(),
            "approved_until": DateInput(),
            "note": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(
        self, *args: Any, may_attest: bool = False, patient: Any = None, today: dt.date | None = None, **kwargs: Any
    ) -> None:
        """``may_attest``: whether the user may set the clinician's attestations (``ATTESTATION_FIELDS``), which
        alone can make a request approvable; for anyone else they are shown, not editable, and keep their value.
        ``patient``: whose request this is, to refuse a duplicate of an open one (``DUPLICATE_OPEN_REQUEST``), and the
        payer's answer to a request while such a copy of it is open (``OPEN_COPY_OF_ANSWERED``).
        ``today``: the clinic's day (default ``timezone.localdate()``), the dates' bound (``_dates_in_bounds``)."""
        super().__init__(*args, **kwargs)
        self.patient = patient
        self.today = today or timezone.localdate()
        if self.instance.pk is None:  # a new request: no row to be stale against
            del self.fields["version"]
        else:
            self.fields["version"].initial = self.instance.version
            track_loaded_values(self)  # what the user loaded: a refused save is merged with the row stored now
        self.fields["policy_id"].choices = [("", NO_POLICY_CHOSEN), *policy_choices()]
        # the code the claim and the letters carry, then its words: the clerk chooses a code, not a description
        self.fields["diagnosis_code"].choices = [
            (code, f"{code} \N{EM DASH} {label}" if code else label)
            for code, label in self.fields["diagnosis_code"].choices
        ]
        for name in ATTESTATION_FIELDS:
            self.fields[name].widget.choices = [("unknown", _("not stated")), ("true", _("yes")), ("false", _("no"))]
            if not may_attest:
                self.fields[name].disabled = True
                self.fields[name].help_text = ATTESTATION_CLINICAL_ONLY
        self.fields["approved_until"].help_text = _(
            "Leave empty to use the policy's approval period, where it sets one; the pages then say the end date is "
            "the policy's, not the payer's answer. A policy without one leaves the approval with no end date."
        )
        for name, message in (
            ("stage", REQUIRED_STAGE),
            ("diagnosis_code", REQUIRED_DIAGNOSIS),
            ("requested_on", REQUIRED_REQUESTED_ON),
            ("status", REQUIRED_STATUS),
        ):
            self.fields[name].error_messages["required"] = message
        for name in ("requested_on", "decided_on", "approved_from", "approved_until"):
            self.fields[name].error_messages["invalid"] = NOT_A_DATE

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        status = data.get("status")
        decided: dt.date | None = data.get("decided_on")
        if status in (AuthorisationStatus.APPROVED, AuthorisationStatus.DENIED) and decided is None:
            self.add_error("decided_on", DECISION_NEEDS_DATE)
        if status == AuthorisationStatus.APPROVED and data.get("approved_from") is None:
            self.add_error("approved_from", APPROVAL_NEEDS_START)
        requested: dt.date | None = data.get("requested_on")
        # a request dated after today is refused on its own field: "answer on or after it" would ask for a future day
        if decided is not None and requested is not None and decided < requested <= self.today:
            self.add_error("decided_on", DECIDED_BEFORE_REQUESTED)
        if not self._dates_in_bounds(data, requested):
            return data
        if self.is_duplicate(data):
            self.add_error(None, DUPLICATE_OPEN_REQUEST)
        elif self.answers_open_copy(data):
            self.add_error(None, OPEN_COPY_OF_ANSWERED)
        start, end = data.get("approved_from"), data.get("approved_until")
        if status is not None and status != AuthorisationStatus.APPROVED:
            for name in ("approved_from", "approved_until"):
                if data.get(name) is not None:
                    self.add_error(name, APPROVAL_DATES_NEED_APPROVED)
            return data
        if start and end and end < start:
            self.add_error("approved_until", UNTIL_BEFORE_FROM)
        return data

    def is_duplicate(self, data: dict[str, Any]) -> bool:
        """Whether ``data`` records an open request another open request of the patient already is (same stage,
        policy and request date): ``coverage.selectors.open_request_twin``."""
        return data.get("status") == AuthorisationStatus.REQUESTED and self._open_twin(data)

    def answers_open_copy(self, data: dict[str, Any]) -> bool:
        """Whether ``data`` records the payer's answer (approved, denied: ``coverage.services.ANSWERS``) to a request
        of which an open copy (same stage, policy and request date) is stored: ``coverage.services.OpenCopyError``.
        Left open, the copy of an approved request read as its renewal and held off the renewal reminder."""
        return data.get("status") in ANSWERS and self._open_twin(data)

    def _open_twin(self, data: dict[str, Any]) -> bool:
        """Whether another request of the patient with ``data``'s stage, policy and request date awaits the payer."""
        if self.patient is None or not (data.get("stage") and data.get("policy_id") and data.get("requested_on")):
            return False
        twin = open_request_twin(
            self.patient,
            stage=data["stage"],
            policy_id=data["policy_id"],
            requested_on=data["requested_on"],
            exclude=self.instance.pk,
        )
        return twin is not None

    def _dates_in_bounds(self, data: dict[str, Any], requested: dt.date | None) -> bool:
        """Refuse, each on its field, a date before the patient's birth date (``Patient.predates_birth``) or more
        than ``MAX_YEARS_BEFORE_TODAY`` years before today (a year typed as 0001 or 0026 was saved and listed), a
        request or answer dated after today (``DATE_AFTER_TODAY``: a request was dated 18 months ahead, an answer not
        yet received had a date), and an approval date more than ``MAX_YEARS_AFTER_REQUEST`` years after the request
        (a year such as 9999 broke every page that works out the day after an approval ends); an approval may start
        after today. False when a date was refused."""
        refused = False
        for name in ("requested_on", "decided_on", "approved_from", "approved_until"):
            day = data.get(name)
            if day is None or name in self.errors:  # not given, or already refused (an answer before the request)
                continue
            label = self.fields[name].label
            if self.patient is not None and self.patient.predates_birth(day):
                refusal = str(DATE_BEFORE_BIRTH % {"birth": self.patient.birth_date.isoformat()})
            else:
                refusal = _too_early(label, day, self.today)
            if refusal is None and name in ("requested_on", "decided_on"):
                refusal = _after_today(label, day, self.today)
            if refusal is not None:
                self.add_error(name, refusal)
                refused = True
        if requested is None or "requested_on" in self.errors:  # no request date to measure the others from
            return not refused
        years = MAX_YEARS_AFTER_REQUEST
        latest = add_months(requested, 12 * years)
        for name in ("decided_on", "approved_from", "approved_until"):
            day = data.get(name)
            if day is not None and name not in self.errors and day > latest:
                words = {"field": self.fields[name].label, "years": years, "latest": latest.isoformat()}
                self.add_error(name, DATE_TOO_LATE % words)
                refused = True
        return not refused
