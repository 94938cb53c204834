"""Forms for the patient record: demographics, safety-screen answers, other toxin treatments, preventives tried.

Forms check what a person typed; the services save it. Error messages are module constants so tests assert them.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _

from onaboard.web.accounts.models import Clinic
from onaboard.web.common.conflicts import loaded_inputs, track_loaded_values
from onaboard.web.patients.models import (
    SAFETY_FLAGS,
    OtherToxinTreatment,
    Patient,
    PreventiveTrial,
)
from onaboard.web.patients.selectors import record_day_before_birth, record_number_taken
from onaboard.web.patients.services import (  # noqa: F401 (the messages of the services' rules, named here too)
    BIRTH_DATE_TOO_EARLY,
    DATE_IN_FUTURE,
    OLDEST_AGE_YEARS,
    RECORD_NUMBER_TAKEN,
    STOP_BEFORE_START,
    STOP_DATE_NEEDED,
    STOP_WHILE_ONGOING,
    UNITS_AT_LEAST_ONE,
    birth_date_problem,
    other_toxin_treatment_problems,
    preventive_trial_problems,
)

BIRTH_AFTER_RECORDS = _(
    "The record holds a diary day, session, questionnaire, side effect, preventive or other toxin treatment on "
    "%(date)s: the birth date cannot be after it."
)

LOADED_UNREADABLE = _("This form no longer matches the stored medicine: open it again from the patient's page.")

ANSWER_YES = "yes"
ANSWER_NO = "no"
ANSWER_NOT_ASKED = ""
ANSWER_CHOICES = [
    (ANSWER_YES, _("yes")),
    (ANSWER_NO, _("no")),
    (ANSWER_NOT_ASKED, _("not asked")),
]
_ANSWER_VALUE = {ANSWER_YES: True, ANSWER_NO: False, ANSWER_NOT_ASKED: None}


def answer_of(value: bool | None) -> str:
    """The radio value for a stored yes / no / not asked answer."""
    if value is None:
        return ANSWER_NOT_ASKED
    return ANSWER_YES if value else ANSWER_NO


class DateInput(forms.DateInput):
    """A native date picker; the value is ISO 8601 so the browser can read it."""

    input_type = "date"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs=attrs, format="%Y-%m-%d")


def _not_after_today(value: dt.date | None) -> dt.date | None:
    if value is not None and value > timezone.localdate():
        raise forms.ValidationError(DATE_IN_FUTURE, code="future")
    return value


def _version_field() -> forms.IntegerField:
    """The record version the form was loaded at, sent back so a save can detect a change made meanwhile."""
    return forms.IntegerField(widget=forms.HiddenInput, min_value=1)


class PatientForm(forms.ModelForm):
    """A new patient's demographics. Saving goes through the services, never ``form.save()``."""

    class Meta:
        model = Patient
        fields = ("given_name", "family_name", "birth_date", "sex", "record_number")
        widgets = {"birth_date": DateInput()}

    def __init__(self, *args: Any, clinic: Clinic, patient: Patient | None = None, **kwargs: Any) -> None:
        super().__init__(*args, instance=patient, **kwargs)
        self.clinic = clinic
        self.patient = patient
        for name in ("given_name", "family_name", "record_number"):
            self.fields[name].widget.attrs["autocomplete"] = "off"

    def clean_birth_date(self) -> dt.date | None:
        value = _not_after_today(self.cleaned_data.get("birth_date"))
        too_early = birth_date_problem(value, timezone.localdate())  # the rule every import and service applies
        if too_early is not None:
            raise forms.ValidationError(too_early, code="too_early")
        first = record_day_before_birth(self.patient, value) if self.patient is not None else None
        if first is not None:
            raise forms.ValidationError(BIRTH_AFTER_RECORDS, code="after_records", params={"date": first.isoformat()})
        return value

    def clean_record_number(self) -> str:
        value = self.cleaned_data["record_number"].strip()
        if record_number_taken(clinic=self.clinic, record_number=value, exclude=self.patient):
            raise forms.ValidationError(RECORD_NUMBER_TAKEN, code="taken")
        return value

    def changes(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in self.Meta.fields}

    def _get_validation_exclusions(self) -> set[str]:
        """A record number stored before numbers were held to the diary file's characters is not checked again
        while it stays as it is, so the rest of such a record can still be corrected."""
        excluded = super()._get_validation_exclusions()
        if self.patient is not None and self.cleaned_data.get("record_number") == self.patient.record_number:
            excluded.add("record_number")
        return excluded


class PatientEditForm(PatientForm):
    """The demographics of an existing patient, with the version the form was loaded at."""

    version = _version_field()

    def __init__(self, *args: Any, patient: Patient, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {"version": patient.version})
        super().__init__(*args, clinic=patient.clinic, patient=patient, **kwargs)
        track_loaded_values(self)


class SafetyScreenForm(forms.Form):
    """Each safety-screen question answered yes, no or not asked, and whether other toxins were asked about."""

    version = _version_field()
    other_toxin_asked = forms.TypedChoiceField(
        # The answer is whether the question was asked, not whether the patient had a treatment (each one is recorded
        # with its units under "Other botulinum toxin treatments", where the cumulative-dose check reads it): worded
        # so that "yes" cannot be read as "the patient had one".
        label=_("Other botulinum toxin treatments in the last 3 months: asked?"),
        choices=[
            (ANSWER_YES, _("asked (record each treatment given, with its units, on the patient's page)")),
            (ANSWER_NO, _("not asked yet")),
        ],
        coerce=lambda value: value == ANSWER_YES,
        widget=forms.RadioSelect,
        help_text=_(
            "Ask about botulinum toxin for any other reason (cosmetic, spasticity, bladder …) in the last 3 months. "
            "A treatment given counts toward the cumulative-dose check only once it is recorded with its units under "
            '"Other botulinum toxin treatments".'
        ),
    )

    def __init__(self, *args: Any, patient: Patient, **kwargs: Any) -> None:
        initial = {flag: answer_of(getattr(patient, flag)) for flag in SAFETY_FLAGS}
        initial["other_toxin_asked"] = ANSWER_YES if patient.other_toxin_asked else ANSWER_NO
        initial["version"] = patient.version
        kwargs.setdefault("initial", initial)
        super().__init__(*args, **kwargs)
        self.patient = patient
        questions = {
            flag: forms.TypedChoiceField(
                label=Patient._meta.get_field(flag).verbose_name,
                choices=ANSWER_CHOICES,
                coerce=_ANSWER_VALUE.__getitem__,
                empty_value=None,
                required=False,
                widget=forms.RadioSelect,
            )
            for flag in SAFETY_FLAGS
        }
        # The questions first, in the engine's checklist order; the other-toxin question and the version after.
        self.fields = {**questions, **self.fields}
        track_loaded_values(self)

    def loaded_inputs(self) -> SafeString:
        """The answers as loaded, as hidden inputs: the page draws each question's radios itself."""
        return loaded_inputs(self)

    def changes(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in (*SAFETY_FLAGS, "other_toxin_asked")}


class OtherToxinTreatmentForm(forms.ModelForm):
    """A botulinum toxin treatment outside the chronic-migraine cycles."""

    class Meta:
        model = OtherToxinTreatment
        fields = ("date", "product", "units", "indication")
        widgets = {"date": DateInput()}
        help_texts = {
            "product": _("As written on the vial, e.g. Dysport, Xeomin, BOTOX Cosmetic."),
            "indication": _("What it treated, e.g. glabellar lines, cervical dystonia."),
        }

    def __init__(self, *args: Any, patient: Patient | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.patient = patient

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        for name, message in other_toxin_treatment_problems(
            patient=self.patient, date=cleaned.get("date"), units=cleaned.get("units"), today=timezone.localdate()
        ):
            self.add_error(name, message)
        return cleaned


class PreventiveTrialForm(forms.ModelForm):
    """A preventive medicine tried: drug, class, dose, start, stop and why it stopped."""

    class Meta:
        model = PreventiveTrial
        fields = ("drug", "drug_class", "dose", "start", "stop", "stop_reason")
        widgets = {"start": DateInput(), "stop": DateInput()}
        help_texts = {
            "dose": _("e.g. 100 mg twice daily"),
            "stop": _(
                "The last day the patient took it: the trial's length counts the start and the stop day both (1 to "
                "30 June is 30 days). Leave empty while the patient still takes it."
            ),
        }

    loaded = forms.CharField(widget=forms.HiddenInput, required=False)
    """When an edit form was shown: the row's ``modified`` time, so a save over someone else's is refused. It is
    carried as an aware ISO 8601 string (UTC offset included): a naive local time read back in the clinic's time
    zone is ambiguous in the hour the clocks go back, and a row saved then could never be saved again."""

    def __init__(self, *args: Any, patient: Patient | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.patient = patient
        if self.instance.pk is not None:
            self.fields["loaded"].initial = self.instance.modified.isoformat()
            track_loaded_values(self)

    def clean_loaded(self) -> dt.datetime | None:
        """The ``loaded`` time as an aware datetime; none on a new medicine. A token that is not an aware ISO time
        (a form from before this check, or one tampered with) is refused at the top of the form."""
        text = self.cleaned_data.get("loaded") or ""
        if not text:
            return None
        try:
            loaded = dt.datetime.fromisoformat(text)
        except ValueError:
            loaded = None
        if loaded is None or timezone.is_naive(loaded):
            self.add_error(None, LOADED_UNREADABLE)
            return None
        return loaded

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        for name, message in preventive_trial_problems(
            patient=self.patient,
            start=cleaned.get("start"),
            stop=cleaned.get("stop"),
            stop_reason=cleaned.get("stop_reason"),
            today=timezone.localdate(),
        ):
            self.add_error(name, message)
        return cleaned

    def data_for_service(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in self.Meta.fields}
