"""Forms of the training pages: they parse input; marks come from ``onaboard.training`` and the engine."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from onaboard.clinical import LabelCriteria, NiceTa260, SafetyVerdict
from onaboard.training.cases import ELIGIBILITY_CHOICES, SAFETY_CHOICES, WEEK24_CHOICES
from onaboard.web.training.models import EnrolmentStatus, LiveSession, SupervisedInjection
from onaboard.web.training.services import LIVE_SESSION_FIELDS, learner_label

PLACE_OR_LINK = _("Give a place, a link, or both.")
STARTS_IN_PAST = _("The session must start in the future.")
STARTS_AT_HELP = _("The clinic's time, {zone}.")
DATE_IN_FUTURE = _("This date is after today.")
DATE_BEFORE_SESSION = _("This date is before the session, held on {day}.")
NOT_ENROLLED = _("This trainee did not hold a place in this session.")
MARKED_ABSENT = _("This trainee is marked absent from this session.")
NOTES_IDENTIFIER = _(
    "These notes look like they carry a patient identifier (a record number such as MRN 12345, or a long run of "
    "digits). The log counts the trainee's practice, not patients: leave patient numbers and names out."
)
SESSION_NOTES_IDENTIFIER = _(
    "These notes look like they carry a patient identifier (a record number such as MRN 12345, or a long run of "
    "digits). Every learner of the clinic reads them: leave patient numbers and names out."
)

RECORD_NUMBER = re.compile(
    r"\b(?:(?:MRN|NHS|CHI|URN?|IHI)\s*(?:no\.?|number|#)?|(?:record|hospital|patient|chart)\s*(?:no\.?|number|id|#))"
    r"\s*[:#.]?\s*\d{3,}",
    re.IGNORECASE,
)
"""A record-number-like token: a record's name followed by three or more digits ("MRN 12345", "NHS no. 943...",
"hospital number: 4471"); "patient" only with "no", "number", "id" or "#" after it, so "patient 155 U" is a dose."""
LONG_NUMBER = re.compile(r"(?<!\d)(?:\d{6,}|\d{3}[ -]\d{3}[ -]\d{4})(?!\d)")
"""Six or more digits in a row, or an NHS-style 3-3-4 group: no count, dose or date in a note is that long (a date
2026-01-05 is broken by its dashes into short runs)."""

ELIGIBILITY_LABELS = {
    LabelCriteria.MET: _("met"),
    LabelCriteria.NOT_MET: _("not met"),
    LabelCriteria.INSUFFICIENT_DATA: _("insufficient data"),
}
SAFETY_LABELS = {
    SafetyVerdict.CONTRAINDICATED: _("contraindicated"),
    SafetyVerdict.CAUTION: _("caution"),
    SafetyVerdict.UNKNOWN: _("unknown"),
    SafetyVerdict.CLEAR: _("clear"),
}
WEEK24_LABELS = {
    NiceTa260.CONTINUE: _("continue"),
    NiceTa260.STOP: _("stop"),
    NiceTa260.NOT_YET_ASSESSABLE: _("not yet assessable"),
}


class DateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs=attrs, format="%Y-%m-%dT%H:%M")


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs=attrs, format="%Y-%m-%d")


def notes_without_identifier(notes: str, refusal: Any) -> str:
    """``notes`` unless they look like they carry a patient's record number (``RECORD_NUMBER``, ``LONG_NUMBER``),
    refused with ``refusal`` then; names are not looked for (no pattern tells a name from a word). Training notes
    are read by trainers and learners, who see no patient."""
    if RECORD_NUMBER.search(notes) or LONG_NUMBER.search(notes):
        raise forms.ValidationError(refusal)
    return notes


class LiveSessionForm(forms.ModelForm):
    link = forms.URLField(label=_("Link"), required=False, assume_scheme="https", max_length=200)
    capacity = forms.IntegerField(label=_("Places"), min_value=1)

    class Meta:
        model = LiveSession
        fields = LIVE_SESSION_FIELDS
        widgets = {"starts_at": DateTimeInput(), "notes": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["starts_at"].help_text = STARTS_AT_HELP.format(zone=timezone.get_current_timezone_name())

    def clean_notes(self) -> str:
        """The notes every learner of the clinic reads: refused like a supervised injection's when they look like
        they carry a patient's record number (``notes_without_identifier``)."""
        return notes_without_identifier(self.cleaned_data["notes"], SESSION_NOTES_IDENTIFIER)

    def clean_starts_at(self) -> Any:
        starts = self.cleaned_data["starts_at"]
        if starts <= timezone.now():
            raise forms.ValidationError(STARTS_IN_PAST)
        return starts

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if not data.get("place") and not data.get("link") and "link" not in self.errors:
            raise forms.ValidationError(PLACE_OR_LINK)
        return data


class SupervisedInjectionForm(forms.ModelForm):
    class Meta:
        model = SupervisedInjection
        fields = ("trainee", "date", "session", "follow_the_pain", "notes")
        widgets = {"date": DateInput(), "notes": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args: Any, trainees: Any, sessions: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["trainee"].queryset = trainees
        self.fields["trainee"].label_from_instance = learner_label
        self.fields["session"].queryset = sessions
        self.fields["session"].label_from_instance = session_label
        self.fields["session"].required = False
        self.fields["date"].initial = timezone.localdate()

    def clean_date(self) -> Any:
        day = self.cleaned_data["date"]
        if day > timezone.localdate():
            raise forms.ValidationError(DATE_IN_FUTURE)
        return day

    def clean(self) -> dict[str, Any]:
        """A supervised injection logged against a session happened at it: on or after the session's day, and the
        trainee held a place in it (enrolled, not waitlisted or cancelled) and is not marked absent."""
        cleaned = super().clean()
        session, trainee, day = cleaned.get("session"), cleaned.get("trainee"), cleaned.get("date")
        if session is None:
            return cleaned
        held_on = timezone.localtime(session.starts_at).date()
        if day is not None and day < held_on:
            self.add_error("date", DATE_BEFORE_SESSION.format(day=date_format(held_on, "j M Y")))
        if trainee is not None:
            place = session.enrolments.filter(trainee=trainee, status=EnrolmentStatus.ENROLLED).first()
            if place is None:
                self.add_error("session", NOT_ENROLLED)
            elif place.attended is False:
                self.add_error("session", MARKED_ABSENT)
        return cleaned

    def clean_notes(self) -> str:
        return notes_without_identifier(self.cleaned_data["notes"], NOTES_IDENTIFIER)


class CaseFirstVisitForm(forms.Form):
    eligibility = forms.ChoiceField(
        label=_("Does the patient meet the BOTOX label's chronic-migraine criteria?"),
        choices=[(key, ELIGIBILITY_LABELS[key]) for key in ELIGIBILITY_CHOICES],
        widget=forms.RadioSelect,
    )
    safety = forms.ChoiceField(
        label=_("What is the safety screen's verdict?"),
        choices=[(key, SAFETY_LABELS[key]) for key in SAFETY_CHOICES],
        widget=forms.RadioSelect,
    )
    # The plan is worked out whatever the decisions above, so it is worded as planned, not as given.
    total_units = forms.IntegerField(label=_("Units planned"), min_value=0, max_value=1000)
    vials = forms.IntegerField(label=_("Vials to open"), min_value=0, max_value=20)
    discarded_units = forms.IntegerField(label=_("Units to discard"), min_value=0, max_value=1000)


class CaseWeek24Form(forms.Form):
    week24 = forms.ChoiceField(
        label=_("At the week-24 review, what do the NICE TA260 stopping rules say?"),
        choices=[(key, WEEK24_LABELS[key]) for key in WEEK24_CHOICES],
        widget=forms.RadioSelect,
    )


def session_label(session: LiveSession) -> str:
    """A session as the log's dropdown names it: its title and day ("PREEMPT workshop, 5 Jan 2026")."""
    return f"{session.title}, {date_format(timezone.localtime(session.starts_at), 'j M Y')}"
