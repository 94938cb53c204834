"""Forms for the session screen, booking, and side effects. They parse input; the rules are the engine's."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any, cast

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from onaboard.clinical import FIXED_SITES, FOLLOW_THE_PAIN_MAX_SITES, MAX_SESSION_UNITS, UNITS_PER_SITE, Side
from onaboard.web.accounts.models import User
from onaboard.web.diary.forms import FreeTextField
from onaboard.web.injections import sitemap
from onaboard.web.injections.models import (
    DESCRIPTION_MAX_LENGTH,
    ERROR_REASON_MAX_LENGTH,
    REVIEW_REASON_MAX_LENGTH,
    InjectionSession,
    Severity,
    SideEffectKind,
)
from onaboard.web.injections.selectors import SiteEntry
from onaboard.web.injections.services import (
    GRADE_NEEDED,
    INJECTOR_NOT_ALLOWED,
    error_reason_problem,
    side_effect_description_problem,
)

DATE_IN_FUTURE = _("This date is after today.")
CHOOSE_KIND = _("Choose what happened.")
ENTER_ONSET = _("Enter the day it started.")
ONSET_NOT_A_DATE = _("Enter the day it started as year-month-day, for example 2026-03-02.")
CHOOSE_SEVERITY = _("Choose how bad it is.")
CHOOSE_GRADE = _(GRADE_NEEDED)
CHOOSE_RELATED = _("Choose whether it is related to treatment.")
SITE_NOT_GIVEN_HELP = _(
    "Leave a site empty, or enter 0, if it was not given (for example the patient fainted): the totals, vials and "
    "discarded units follow what was given, and recording asks for a reason to override."
)
"""The site table's hint: a fixed site left empty or at 0 U is not given (``FixedSiteUnitsField``)."""

VIAL_CHOICES = [(100, _("100 U vial")), (200, _("200 U vial"))]
FTP_MUSCLE_CHOICES = [(muscle.value, sitemap.MUSCLE_LABELS[muscle]) for muscle in FOLLOW_THE_PAIN_MAX_SITES]
BILATERAL_CHOICES = [(side.value, sitemap.SIDE_LABELS[side]) for side in (Side.LEFT, Side.RIGHT)]
VIEW_CHOICES = [(view.value, view.value) for view in sitemap.View]


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs=attrs, format="%Y-%m-%d")


def fixed_site_keys() -> list[tuple[str, sitemap.MapSite]]:
    """Every fixed site in PREEMPT order with its form key: ``units_<muscle>-<side>-<n>``."""
    keys = []
    for muscle, sides in FIXED_SITES.items():
        seen: dict[Side, int] = {}
        for side in sides:
            seen[side] = seen.get(side, 0) + 1
            site = sitemap.map_site(
                key=sitemap.fixed_site_key(muscle, side, seen[side]),
                muscle=muscle,
                side=side,
                index=seen[side],
                units=UNITS_PER_SITE,
                follow_the_pain=False,
            )
            keys.append((f"units_{site.key}", site))
    return keys


def whole_number(value: object) -> int | None:
    """``value`` read as the form's whole-number fields read it on recording (" 5 ", "5.0"), or None when it is
    empty or not one: the live summary of an unfinished form must count what recording will store."""
    try:
        return forms.IntegerField(required=False).to_python(value)
    except forms.ValidationError:
        return None


class FixedSiteUnitsField(forms.IntegerField):
    """A fixed site's units: a whole number from 0; left empty it is 0, the engine's "not given" (a fixed site at
    0 U, ``InjectionSite``), so a session that left a site out (the patient fainted) can be recorded as given."""

    def to_python(self, value: Any) -> int:
        units = super().to_python(value)
        return 0 if units is None else units


def _units_field(label: str) -> forms.IntegerField:
    return FixedSiteUnitsField(
        label=label,
        required=False,
        min_value=0,
        max_value=MAX_SESSION_UNITS,
        initial=UNITS_PER_SITE,
        widget=forms.NumberInput(attrs={"inputmode": "numeric", "class": "units", "step": 1}),
    )


class InjectorField(forms.ModelChoiceField):
    """Who gave the injections, by name and role ("Dana Demo (Clinician)"), posted as the account's public id."""

    def label_from_instance(self, obj: Any) -> str:
        name = obj.get_full_name() or obj.username
        return f"{name} ({obj.get_role_display()})"


class SessionForm(forms.Form):
    """The session's date, product and vial, who injected, the units of each fixed site, and the reasons a recording
    may need. ``injectors`` are the "Injected by" choices (``selectors.injectors_for`` the patient); left out, or the
    field not posted, the injector is the user recording (``injection_session_record``'s default)."""

    date = forms.DateField(label=_("Session date"), widget=DateInput())
    vial_units = forms.TypedChoiceField(
        label=_("Vial size"), choices=VIAL_CHOICES, coerce=int, initial=200, widget=forms.RadioSelect
    )
    product_lot = forms.CharField(label=_("Product lot"), max_length=40, required=False)
    product_expiry = forms.DateField(
        label=_("Product expiry"),
        widget=DateInput(),
        required=False,
        help_text=_(
            "As printed on the vial. An expiry printed as a month and year runs to the last day of that month "
            "(USP <7> Labeling): for EXP 2027-09 enter 2027-09-30."
        ),
    )
    injector = InjectorField(
        label=_("Injected by"),
        queryset=None,
        to_field_name="external_id",
        required=False,
        empty_label=None,
        error_messages={"invalid_choice": _(INJECTOR_NOT_ALLOWED)},
        help_text=_("Who gave the injections, when not you: the procedure note and the after-care sheet name them."),
    )
    complications = forms.CharField(
        label=_("Complications during the session"),
        required=False,
        max_length=DESCRIPTION_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("For example a vasovagal episode or bleeding at a site. Leave empty if none."),
    )
    override_reason = forms.CharField(
        label=_("Reason for overriding a failed check"),
        required=False,
        max_length=DESCRIPTION_MAX_LENGTH,  # as the API's: a reason of 100,000 characters made a 19-page note
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Needed only when a check fails. It is stored with the session and in the audit trail."),
    )
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)
    site_table_help = SITE_NOT_GIVEN_HELP

    def __init__(self, *args: Any, today: dt.date, injectors: QuerySet[Any] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.today = today
        cast(InjectorField, self.fields["injector"]).queryset = (
            injectors if injectors is not None else User.objects.none()
        )
        self.fixed_sites = fixed_site_keys()
        for name, site in self.fixed_sites:
            place = sitemap.site_label(site.muscle, site.side, site.index, None, follow_the_pain=False)
            self.fields[name] = _units_field(_("Units, %(site)s") % {"site": place})

    def clean_date(self) -> dt.date:
        date = self.cleaned_data["date"]
        if date > self.today:
            raise forms.ValidationError(DATE_IN_FUTURE)
        return date

    def site_rows(self) -> list[tuple[sitemap.MapSite, forms.BoundField]]:
        return [(site, self[name]) for name, site in self.fixed_sites]

    def site_groups(self) -> list[dict[str, Any]]:
        """The fixed sites grouped by muscle and side, in PREEMPT order: one table row each."""
        groups: list[dict[str, Any]] = []
        for site, field in self.site_rows():
            if not groups or (groups[-1]["muscle"], groups[-1]["side"]) != (site.muscle, site.side):
                groups.append({"muscle": site.muscle, "side": site.side, "site": site, "fields": []})
            groups[-1]["fields"].append((site, field))
        return groups

    def raw_int(self, name: str) -> int | None:
        """The value typed in a field as a whole number, or None; used for the live summary of an unfinished form."""
        if not self.is_bound:
            value = self.fields[name].initial
            return value if isinstance(value, int) else None
        return whole_number(self.data.get(self.add_prefix(name), ""))

    def raw_date(self, name: str) -> dt.date | None:
        if not self.is_bound:
            value = self.initial.get(name, self.fields[name].initial)
            return value if isinstance(value, dt.date) else None
        try:
            return dt.date.fromisoformat(str(self.data.get(self.add_prefix(name), "")).strip())
        except ValueError:
            return None

    def fixed_units(self, name: str) -> int | None:
        """A fixed site's units as typed: 0 (not given) when left empty, None when not a whole number."""
        if self.is_bound and not str(self.data.get(self.add_prefix(name), "")).strip():
            return 0
        return self.raw_int(name)

    def fixed_entries(self) -> list[SiteEntry]:
        """The fixed sites as typed (0 where left empty: not given; units None where not a number)."""
        return [
            SiteEntry(
                site.muscle.value, site.side.value, self.fixed_units(name), False, site.view.value, site.x, site.y
            )
            for name, site in self.fixed_sites
        ]


class FollowThePainForm(forms.Form):
    """One extra site: the muscle and side (temporalis, occipitalis, trapezius), its units and where it was drawn."""

    muscle = forms.ChoiceField(label=_("Muscle"), choices=FTP_MUSCLE_CHOICES, widget=forms.HiddenInput)
    side = forms.ChoiceField(label=_("Side"), choices=BILATERAL_CHOICES, widget=forms.HiddenInput)
    units = forms.IntegerField(
        label=_("Units"),
        min_value=1,
        max_value=MAX_SESSION_UNITS,
        widget=forms.NumberInput(attrs={"inputmode": "numeric", "class": "units", "step": 1}),
    )
    view = forms.ChoiceField(choices=VIEW_CHOICES, required=False, widget=forms.HiddenInput)
    x = forms.IntegerField(min_value=0, max_value=sitemap.MAP_SIZE, required=False, widget=forms.HiddenInput)
    y = forms.IntegerField(min_value=0, max_value=sitemap.MAP_SIZE, required=False, widget=forms.HiddenInput)

    def clean(self) -> dict[str, Any]:
        """A point outside the muscle's area is dropped: the site is then drawn on its default spot."""
        data = super().clean()
        muscle, side = data.get("muscle", ""), data.get("side", "")
        if sitemap.clicked_point(muscle, side, data.get("view"), data.get("x"), data.get("y")) is None:
            region = sitemap.region_for(muscle, side)
            data["view"], data["x"], data["y"] = (region.view.value if region else None), None, None
        return data


FollowThePainFormSet = forms.formset_factory(FollowThePainForm, extra=0, max_num=50, absolute_max=50)


class AddSiteForm(forms.Form):
    """Adding a follow-the-pain site without the map: muscle and side."""

    muscle = forms.ChoiceField(label=_("Muscle"), choices=FTP_MUSCLE_CHOICES)
    side = forms.ChoiceField(label=_("Side"), choices=BILATERAL_CHOICES)


ENTER_BOOKING_DAY = _("Enter the day of the session.")
BOOKING_DAY_NOT_A_DATE = _("Enter the day of the session as year-month-day, for example 2026-03-02.")
BOOKING_DAY_ERRORS = {"required": ENTER_BOOKING_DAY, "invalid": BOOKING_DAY_NOT_A_DATE}


class BookingForm(forms.Form):
    date = forms.DateField(label=_("Date of the next session"), widget=DateInput(), error_messages=BOOKING_DAY_ERRORS)
    version = forms.IntegerField(widget=forms.HiddenInput)


class FirstBookingForm(forms.Form):
    """The day of a patient's first session, booked ahead, or once treated of the next one when none is booked
    (``injection_session_book_first``)."""

    date = forms.DateField(label=_("Date of the first session"), widget=DateInput(), error_messages=BOOKING_DAY_ERRORS)

    def __init__(self, *args: Any, treated: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if treated:
            self.fields["date"].label = _("Date of the next session")


class CancelBookingForm(forms.Form):
    """The confirmation to cancel a booking: only the version the page showed, so a booking moved meanwhile is not
    cancelled unseen."""

    version = forms.IntegerField(widget=forms.HiddenInput)


class EnteredInErrorForm(forms.Form):
    """Marking a recorded session entered in error: why (``services.error_reason_problem``, the service's own rule),
    and the version the page showed, so a session changed meanwhile is not marked unseen."""

    reason = FreeTextField(
        label=_("Why is this record wrong?"),
        help_text=_("For example: recorded for the wrong patient, on the wrong day, or with the wrong sites or dose."),
        required=False,  # the service's rule words the refusal (ERROR_REASON_NEEDED)
        widget=forms.Textarea(attrs={"rows": 3, "maxlength": ERROR_REASON_MAX_LENGTH}),
    )
    version = forms.IntegerField(widget=forms.HiddenInput)

    def clean_reason(self) -> str:
        reason = self.cleaned_data["reason"].strip()
        if (problem := error_reason_problem(reason)) is not None:
            raise forms.ValidationError(problem)
        return reason


class SideEffectReportForm(forms.Form):
    """The patient's report: what, since when, how bad, and anything else in their words."""

    kind = forms.ChoiceField(
        label=_("What happened?"),
        choices=SideEffectKind.choices,
        widget=forms.RadioSelect,
        error_messages={"required": CHOOSE_KIND, "invalid_choice": CHOOSE_KIND},
    )
    onset = forms.DateField(
        label=_("When did it start?"),
        widget=DateInput(),
        error_messages={"required": ENTER_ONSET, "invalid": ONSET_NOT_A_DATE},
    )
    severity = forms.ChoiceField(
        label=_("How bad is it?"),
        choices=Severity.choices,
        widget=forms.RadioSelect,
        error_messages={"required": CHOOSE_SEVERITY, "invalid_choice": CHOOSE_SEVERITY},
    )
    description = FreeTextField(
        label=_("Anything else we should know?"),
        required=False,
        max_length=DESCRIPTION_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Needed if you chose “Something else”: say here what happened. Otherwise optional."),
    )
    submission = forms.UUIDField(
        required=False,
        initial=uuid.uuid4,
        widget=forms.HiddenInput(attrs={"autocomplete": "off"}),
    )
    """This form's token, new each time it is opened: the same form sent twice stores one report
    (``services.side_effect_report``). autocomplete off keeps a browser from restoring an old token into a reopened
    form. A post without one (a page opened before the token existed) is stored as before."""

    def __init__(self, *args: Any, today: dt.date, own: bool = True, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.today = today
        self.fields["onset"].widget.attrs["max"] = today.isoformat()
        if not own:  # clinic staff reporting what the patient told them
            self.fields["kind"].label = _("What happened to the patient?")
            self.fields["severity"].label = _("How bad the patient says it is")
            self.fields["description"].label = _("Anything else the clinic should know?")

    def renew_submission(self) -> None:
        """Give the bound form a new token, for answers to be sent again as another report."""
        self.data = self.data.copy()
        self.data["submission"] = str(uuid.uuid4())

    def clean_onset(self) -> dt.date:
        onset = self.cleaned_data["onset"]
        if onset > self.today:
            raise forms.ValidationError(DATE_IN_FUTURE)
        return onset

    def clean(self) -> dict[str, Any]:
        """A report of "something else" needs a description: the service's rule, shown on the description field."""
        data = super().clean()
        kind, description = data.get("kind"), data.get("description")
        if not kind or description is None:  # already refused on its own field
            return data
        if (problem := side_effect_description_problem(kind=kind, description=description)) is not None:
            self.add_error("description", problem)
        return data


RELATED_CHOICES = [("yes", _("related to treatment")), ("no", _("not related")), ("unknown", _("not known"))]
RELATED_VALUES = {"yes": True, "no": False, "unknown": None}


class SideEffectReviewForm(forms.Form):
    """A clinician's grade, relatedness and the session the side effect is attributed to."""

    grade = forms.ChoiceField(
        label=_("Clinician's grade"),
        choices=Severity.choices,
        widget=forms.RadioSelect,
        error_messages={"required": CHOOSE_GRADE, "invalid_choice": CHOOSE_GRADE},
    )
    related = forms.ChoiceField(
        label=_("Relatedness"),
        choices=RELATED_CHOICES,
        widget=forms.RadioSelect,
        error_messages={"required": CHOOSE_RELATED, "invalid_choice": CHOOSE_RELATED},
    )
    session = forms.ModelChoiceField(
        label=_("Attributed to session"),
        queryset=InjectionSession.objects.none(),
        required=False,
        to_field_name="external_id",
        empty_label=_("no session"),
    )
    reason = FreeTextField(
        label=_("Reason for the change"),
        help_text=_(
            "Needed when this review lowers the grade of the one before, or no longer calls it related to treatment."
        ),
        required=False,
        max_length=REVIEW_REASON_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    seen = forms.CharField(widget=forms.HiddenInput, required=False)  # the side effect's `modified` when opened

    def __init__(self, *args: Any, sessions: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        session_field = self.fields["session"]
        session_field.queryset = sessions
        session_field.label_from_instance = lambda session: (
            _("session of %(date)s (%(units)s U)")
            % {
                "date": session.date.isoformat(),
                "units": session.total_units,
            }
        )
