"""Pages for injection sessions and side effects: parse, call one service or selector, render.

Every patient is reached through ``patients/access.py`` (directly or via ``session_for`` / ``side_effect_for``),
and every page that shows a patient's data writes a read to the audit trail.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from onaboard.clinical import (
    FOLLOW_THE_PAIN_DERIVED_LIMITS,
    FOLLOW_THE_PAIN_MAX_SITES,
    FOLLOW_THE_PAIN_MAX_TOTAL_SITES,
    RETREATMENT_INTERVAL_DAYS,
    UNITS_PER_SITE,
    Muscle,
    follow_the_pain_refusals,
)
from onaboard.web.accounts.models import Role
from onaboard.web.audit.services import audit_patient_read
from onaboard.web.coverage.selectors import session_claim_overrides
from onaboard.web.injections import selectors, services, sitemap
from onaboard.web.injections.forms import (
    RELATED_VALUES,
    AddSiteForm,
    BookingForm,
    CancelBookingForm,
    EnteredInErrorForm,
    FirstBookingForm,
    FollowThePainFormSet,
    SessionForm,
    SideEffectReportForm,
    SideEffectReviewForm,
    whole_number,
)
from onaboard.web.injections.models import (
    URGENT_SIDE_EFFECTS,
    InjectionSession,
    SessionStatus,
    SideEffectKind,
)
from onaboard.web.injections.recorded_checks import checks_at_recording
from onaboard.web.injections.selectors import SiteEntry
from onaboard.web.outcomes.selectors import stopped_decision
from onaboard.web.patients.access import Capability, can, own_patient, patient_for
from onaboard.web.patients.models import Patient

FTP_PREFIX = "ftp"
ADD_PREFIX = "add"
FTP_FIELDS = ("muscle", "side", "units", "view", "x", "y")
PATIENT_PAGE_NAMES = ("patients:detail", "patients:patient_detail")


def patient_page_url(patient: Patient) -> str | None:
    """The clinician's patient page, when the patients app provides one."""
    for name in PATIENT_PAGE_NAMES:
        try:
            return reverse(name, args=[patient.external_id])
        except NoReverseMatch:
            continue
    return None


# --- The session screen -------------------------------------------------------------------------------------------


def label_dose_context() -> dict[str, Any]:
    """The engine's dose numbers the session screens print: the label's units per site (the map marks other doses,
    and session_map.js gives each added site this many), the follow-the-pain sites each muscle may take (for
    occipitalis its derived limit, which recording may pass with a reason), and the extra sites in all with their
    units, and the engine's refusal past them (session_map.js says it)."""
    return {
        "units_per_site": UNITS_PER_SITE,
        "ftp_max_sites": {muscle.value: count for muscle, count in FOLLOW_THE_PAIN_MAX_SITES.items()},
        "ftp_max_total_sites": FOLLOW_THE_PAIN_MAX_TOTAL_SITES,
        "ftp_max_units": FOLLOW_THE_PAIN_MAX_TOTAL_SITES * UNITS_PER_SITE,
        "ftp_total_message": sitemap.follow_the_pain_total_message(),
    }


def derived_limit_message(muscle: Muscle | str) -> str:
    """What the session screen says once a muscle has more extra sites than its derived limit (occipitalis 2,
    ``FOLLOW_THE_PAIN_DERIVED_LIMITS``): recording it is allowed, as a departure from the label's dose that needs a
    reason for overriding (the summary's dose check gives the engine's words); empty for a stated limit."""
    if muscle not in FOLLOW_THE_PAIN_DERIVED_LIMITS:
        return ""
    return _(
        "More than %(limit)s extra %(muscle)s sites is a departure from the label's dose: that limit is derived "
        "from the %(cap)s U follow-the-pain cap, not stated in Blumenfeld 2010. Give a reason for overriding to "
        "record it."
    ) % {
        "limit": FOLLOW_THE_PAIN_MAX_SITES[Muscle(muscle)],
        "muscle": sitemap.MUSCLE_LABELS[Muscle(muscle)],
        "cap": FOLLOW_THE_PAIN_MAX_TOTAL_SITES * UNITS_PER_SITE,
    }


def _ftp_rows(data: QueryDict) -> list[dict[str, str]]:
    """The follow-the-pain rows in posted data, in order, skipping gaps left by rows removed in the browser."""
    try:
        total = min(int(data.get(f"{FTP_PREFIX}-TOTAL_FORMS", "0")), 50)
    except ValueError:
        total = 0
    rows = []
    for index in range(total):
        row = {name: data.get(f"{FTP_PREFIX}-{index}-{name}", "") for name in FTP_FIELDS}
        if row["muscle"]:
            rows.append(row)
    return rows


def _with_ftp_rows(data: QueryDict, rows: list[dict[str, str]]) -> QueryDict:
    """A copy of ``data`` whose follow-the-pain rows are ``rows``, numbered from 0."""
    copy = data.copy()
    for key in [key for key in copy if key.startswith(f"{FTP_PREFIX}-")]:
        del copy[key]
    for index, row in enumerate(rows):
        for name in FTP_FIELDS:
            copy[f"{FTP_PREFIX}-{index}-{name}"] = row.get(name, "")
    copy[f"{FTP_PREFIX}-TOTAL_FORMS"] = str(len(rows))
    copy[f"{FTP_PREFIX}-INITIAL_FORMS"] = "0"
    copy[f"{FTP_PREFIX}-MIN_NUM_FORMS"] = "0"
    copy[f"{FTP_PREFIX}-MAX_NUM_FORMS"] = "50"
    return copy


def _ftp_entries(rows: list[dict[str, str]]) -> list[SiteEntry]:
    return [
        SiteEntry(
            row["muscle"],
            row["side"],
            whole_number(row["units"]),
            True,
            row["view"] or None,
            whole_number(row["x"]),
            whole_number(row["y"]),
        )
        for row in rows
    ]


def _ftp_map_site(key: str, entry: SiteEntry, number: int) -> sitemap.MapSite | None:
    region = sitemap.region_for(entry.muscle, entry.side)
    if region is None:
        return None
    point = None
    if entry.x is not None and entry.y is not None and entry.view == region.view and region.contains(entry.x, entry.y):
        point = sitemap.MapPoint(region.view, entry.x, entry.y)
    return sitemap.map_site(
        key=key,
        muscle=entry.muscle,
        side=entry.side,
        index=number,
        units=entry.units,
        follow_the_pain=True,
        point=point,
    )


@dataclass(frozen=True, slots=True)
class SummaryEntry:
    """One field's errors in the error summary (common/_error_summary.html reads a bound field's ``errors``,
    ``is_hidden``, ``id_for_label`` and ``auto_id``): each error leads with the field's name, since on this screen
    "Enter a whole number." alone does not say which of 40 boxes it is about."""

    errors: list[str]
    id_for_label: str
    is_hidden: bool = False

    @property
    def auto_id(self) -> str:
        return self.id_for_label


class ErrorSummary:
    """What common/_error_summary.html lists for a refused recording, in the page's order: the session form's
    fields, the fixed sites, the plan's refusal (linked to the sites table), the follow-the-pain rows, the notes."""

    def __init__(self, non_field: list[str], entries: list[SummaryEntry]) -> None:
        self._non_field = non_field
        self._entries = [entry for entry in entries if entry.errors]

    @property
    def errors(self) -> bool:
        return bool(self._non_field or self._entries)

    def non_field_errors(self) -> list[str]:
        return self._non_field

    def __iter__(self) -> Iterator[SummaryEntry]:
        return iter(self._entries)


def _named_errors(name: str, errors: list[str]) -> list[str]:
    return [_("%(field)s: %(error)s") % {"field": name, "error": error} for error in errors]


def _summary_entry(field: Any, name: str | None = None) -> SummaryEntry:
    """A bound field's entry; a group of radio buttons links to its first choice."""
    target = field.id_for_label or f"{field.auto_id}_0"
    return SummaryEntry(_named_errors(name or str(field.label), list(field.errors)), target, field.is_hidden)


def _ftp_place(entry: SiteEntry, number: int) -> str:
    """An extra site's name ("trapezius left, extra site 1"); a row posted with no area of its own is named as one."""
    if sitemap.region_for(entry.muscle, entry.side) is None:
        return _("follow-the-pain site %(index)s") % {"index": number}
    return sitemap.site_label(entry.muscle, entry.side, number, None, follow_the_pain=True)


class SessionScreen:
    """The forms of the recording screen and what the map and the live summary show for them."""

    def __init__(
        self, *, patient: Patient, booking: InjectionSession | None, data: QueryDict | None, user: Any
    ) -> None:
        self.patient = patient
        self.booking = booking
        self.today = timezone.localdate()
        initial = {
            "date": self.today,
            "vial_units": 200,
            "version": booking.version if booking else None,
            "injector": user.external_id,  # the one recording, unless they chart for someone else
        }
        injectors = selectors.injectors_for(patient)
        self.form = SessionForm(data, initial=initial, today=self.today, injectors=injectors)
        self.formset = FollowThePainFormSet(data, prefix=FTP_PREFIX)
        self.add_form = AddSiteForm(
            data if data is not None and data.get("action") == "add_site" else None, prefix=ADD_PREFIX
        )
        self.rows = _ftp_rows(data) if data is not None else []
        self.site_errors: list[str] = []
        self.show_errors = False
        self.added_key: str | None = None
        """The follow-the-pain row "Add site" just added (without JavaScript): its units field has the focus."""

    @property
    def override_given(self) -> bool:
        """Whether an override reason is typed: the checks then say the failed ones will be recorded as overridden
        with it, not that recording is blocked (the service still judges the reason when recording)."""
        return bool(self.form.data.get("override_reason", "").strip()) if self.form.is_bound else False

    # Entries as typed, for the map and the live summary (the record action uses the cleaned values).
    def entries(self) -> list[SiteEntry]:
        return [*self.form.fixed_entries(), *_ftp_entries(self.rows)]

    def ftp_rows(self) -> list[dict[str, Any]]:
        """Each bound follow-the-pain form with its map site and the name it is linked by."""
        numbered: Counter[tuple[str, str]] = Counter()
        shown = []
        for index, form in enumerate(self.formset.forms):
            if not form.data.get(f"{form.prefix}-muscle"):
                continue
            entry = _ftp_entries([{name: form.data.get(f"{form.prefix}-{name}", "") for name in FTP_FIELDS}])[0]
            numbered[entry.muscle, entry.side] += 1
            number = numbered[entry.muscle, entry.side]
            site = _ftp_map_site(f"{FTP_PREFIX}-{index}", entry, number)
            key = f"{FTP_PREFIX}-{index}"
            if key == self.added_key:
                form.fields["units"].widget.attrs["autofocus"] = True
            shown.append({"form": form, "site": site, "key": key, "index": index, "entry": entry, "number": number})
        return shown

    def unreadable_sites(self) -> list[str]:
        """The sites whose units, as typed, are not a whole number ("2.5", an extra site left empty): the engine's
        plan leaves them out, so the live summary names them beside totals that do not count them."""
        if not self.form.is_bound:
            return []
        fixed = [
            sitemap.site_label(site.muscle, site.side, site.index, None, follow_the_pain=False)
            for name, site in self.form.fixed_sites
            if self.form.fixed_units(name) is None
        ]
        extra = [_ftp_place(row["entry"], row["number"]) for row in self.ftp_rows() if row["entry"].units is None]
        return fixed + extra

    def error_summary(self) -> ErrorSummary:
        """Every error of a refused recording, for common/_error_summary.html."""
        form = self.form
        first = [form[name] for name in ("date", "product_lot", "product_expiry", "injector", "vial_units", "version")]
        entries = [_summary_entry(field) for field in first]
        entries += [_summary_entry(form[name]) for name, _site in form.fixed_sites]
        entries.append(SummaryEntry(list(self.site_errors), "site-table"))
        non_field = [*form.non_field_errors(), *self.formset.non_form_errors()]
        for row in self.ftp_rows():
            place = _ftp_place(row["entry"], row["number"])
            row_form = row["form"]
            entries.append(_summary_entry(row_form["units"], _("Units, %(site)s") % {"site": place}))
            hidden = [error for name in ("muscle", "side", "view", "x", "y") for error in row_form[name].errors]
            non_field += _named_errors(place, [*row_form.non_field_errors(), *hidden])
        entries += [_summary_entry(form[name]) for name in ("complications", "override_reason")]
        return ErrorSummary(non_field, entries)

    def map_sites(self) -> list[sitemap.MapSite]:
        fixed = [
            sitemap.map_site(
                key=site.key,
                muscle=site.muscle,
                side=site.side,
                index=site.index,
                units=self.form.fixed_units(name),
                follow_the_pain=False,
            )
            for name, site in self.form.fixed_sites
        ]
        return fixed + [row["site"] for row in self.ftp_rows() if row["site"] is not None]

    def checks(self) -> selectors.SessionChecks:
        """The checks as recording would run them; a booking no longer booked (recorded meanwhile) is history, not
        the session being recorded, so it is not left out."""
        still_booked = self.booking is not None and self.booking.status == SessionStatus.BOOKED
        open_booking = self.booking if still_booked else None
        return selectors.session_checks(
            patient=self.patient,
            date=self.form.raw_date("date"),
            sites=self.entries(),
            vial_units=self.form.raw_int("vial_units"),
            exclude=open_booking,
        )

    def ftp_counts(self) -> Counter[Muscle]:
        """The follow-the-pain rows per muscle, as posted."""
        return Counter(Muscle(row["muscle"]) for row in self.rows if row["muscle"] in FOLLOW_THE_PAIN_MAX_SITES)

    def add_site(self) -> QueryDict | None:
        """Posted data with one more follow-the-pain row, or None (with the engine's reason on the add form).

        The limits are recording's (``follow_the_pain_refusals``: temporalis 2, trapezius 4, 8 extra sites in all),
        not the planner's: occipitalis past its derived limit of 2 is added, and the screen says it needs a reason
        for overriding (``ftp_departures``)."""
        if not self.add_form.is_valid():
            return None
        muscle, side = self.add_form.cleaned_data["muscle"], self.add_form.cleaned_data["side"]
        counts = self.ftp_counts()
        counts[Muscle(muscle)] += 1
        refused = [problem for place, problem in follow_the_pain_refusals(counts) if place in (muscle, None)]
        if refused:
            for problem in refused:
                self.add_form.add_error(None, problem)
            return None
        same_side = sum(1 for row in self.rows if row["muscle"] == muscle and row["side"] == side)
        point = sitemap.follow_the_pain_default(muscle, side, same_side + 1)
        row = {"muscle": muscle, "side": side, "units": str(UNITS_PER_SITE), "view": point.view.value, "x": "", "y": ""}
        return _with_ftp_rows(self.form.data, [*self.rows, row])

    def without_row(self, index: str) -> QueryDict:
        kept = [
            {name: self.form.data.get(f"{FTP_PREFIX}-{i}-{name}", "") for name in FTP_FIELDS}
            for i in range(len(self.formset.forms))
            if str(i) != index and self.form.data.get(f"{FTP_PREFIX}-{i}-muscle")
        ]
        return _with_ftp_rows(self.form.data, kept)

    def ftp_departures(self) -> list[str]:
        """The note for each muscle with more extra sites than its derived limit (``derived_limit_message``)."""
        counts = self.ftp_counts()
        return [
            derived_limit_message(muscle)
            for muscle in sorted(FOLLOW_THE_PAIN_DERIVED_LIMITS, key=list(Muscle).index)
            if counts[muscle] > FOLLOW_THE_PAIN_MAX_SITES[muscle]
        ]

    def cleaned_entries(self) -> list[SiteEntry]:
        fixed = [
            SiteEntry(
                site.muscle.value, site.side.value, self.form.cleaned_data[name], False, site.view.value, site.x, site.y
            )
            for name, site in self.form.fixed_sites
        ]
        extra = [
            SiteEntry(data["muscle"], data["side"], data["units"], True, data.get("view"), data.get("x"), data.get("y"))
            for data in self.formset.cleaned_data
            if data
        ]
        return fixed + extra

    def apply_refusal(self, error: services.SessionRefusedError) -> None:
        for field, message in error.problems:
            if field == "sites":
                self.site_errors.append(message)
            elif field in self.form.fields:
                self.form.add_error(field, message)
            else:
                self.form.add_error(None, message)

    def context(self) -> dict[str, Any]:
        checks = self.checks()
        return {
            "patient": self.patient,
            "booking": self.booking,
            "screen": self,
            "form": self.form,
            "formset": self.formset,
            "add_form": self.add_form,
            "ftp_rows": self.ftp_rows(),
            "map_sites": self.map_sites(),
            "regions": [
                {
                    "region": region,
                    "defaults": " ".join(f"{x},{y}" for x, y in region.defaults),
                    "limit_message": sitemap.follow_the_pain_limit_message(region.muscle),
                    "derived_message": derived_limit_message(region.muscle),
                }
                for region in sitemap.FOLLOW_THE_PAIN_REGIONS
            ],
            "ftp_departures": self.ftp_departures(),
            "checks": checks,
            "override_given": self.override_given,
            "unreadable": self.unreadable_sites(),
            "error_summary": self.error_summary() if self.show_errors else None,
            "show_errors": self.show_errors,
            "site_errors": self.site_errors,
            "patient_url": patient_page_url(self.patient),
            "age": selectors.patient_safety_screen(self.patient, on=self.today).age_years,
            **label_dose_context(),
        }


def recorded_message(
    session: InjectionSession, booked: InjectionSession | None, *, booked_before: InjectionSession | None
) -> str:
    """What the screen says after recording, with the open booking now (``booked``) and before (``booked_before``).

    A booking this recording made is ``RETREATMENT_INTERVAL_DAYS`` after it (named in weeks, ``interval_weeks``), or
    today when that day has passed (a session entered late), for staff to move to the day agreed; a booking that was
    there before stays, whatever its day (an earlier session entered late, a booking moved to an agreed day)."""
    if booked is None:
        return _("Session recorded.")
    date = booked.date.isoformat()
    if booked_before is not None and booked_before.pk == booked.pk:
        return _("Session recorded. The next session stays booked for %(date)s.") % {"date": date}
    weeks = selectors.interval_weeks()
    if (booked.date - session.date).days == RETREATMENT_INTERVAL_DAYS:
        return _("Session recorded. Next session booked for %(date)s (%(weeks)s weeks later).") % {
            "date": date,
            "weeks": weeks,
        }
    return _(
        "Session recorded. Next session booked for %(date)s: the %(weeks)s-week date had passed. Move it to the day "
        "agreed with the patient."
    ) % {"date": date, "weeks": weeks}


def _session_screen(request: HttpRequest, patient: Patient, booking: InjectionSession | None) -> HttpResponse:
    if request.method == "GET":
        screen = SessionScreen(patient=patient, booking=booking, data=None, user=request.user)
        audit_patient_read(
            user=request.user,
            patient=patient,
            object_type="injection_session_screen",
            object_id=booking.external_id if booking else "",
        )
        return render(request, "injections/session_record.html", _screen_context(request, screen))

    action = request.POST.get("action", "preview")
    screen = SessionScreen(patient=patient, booking=booking, data=request.POST, user=request.user)
    if request.htmx and action == "preview":
        context = {
            "checks": screen.checks(),
            "unreadable": screen.unreadable_sites(),
            "override_given": screen.override_given,
            "may_decide": can(request.user, Capability.DECIDE_TREATMENT),
        }
        return render(request, "injections/_session_checks.html", context)
    if "remove" in request.POST:
        screen = SessionScreen(
            patient=patient, booking=booking, data=screen.without_row(request.POST["remove"]), user=request.user
        )
    elif action == "add_site":
        added = screen.add_site()
        if added is not None:
            screen = SessionScreen(patient=patient, booking=booking, data=added, user=request.user)
            screen.added_key = f"{FTP_PREFIX}-{len(screen.rows) - 1}"
    elif action == "record":
        screen.show_errors = True
        if screen.form.is_valid() and screen.formset.is_valid():
            data = screen.form.cleaned_data
            booked_before = selectors.open_booking(patient)
            try:
                session = services.injection_session_record(
                    user=request.user,
                    patient=patient,
                    date=data["date"],
                    sites=screen.cleaned_entries(),
                    vial_units=data["vial_units"],
                    lot=data["product_lot"],
                    expiry=data["product_expiry"],
                    override_reason=data["override_reason"],
                    expected_version=data["version"] if booking else None,
                    booking=booking,
                    complications=data["complications"],
                    today=screen.today,
                    checks_shown=request.POST.get("checks_shown"),  # None from a screen without it
                    injector=data["injector"],  # None when not posted: the user recording
                )
            except services.SessionRefusedError as error:
                screen.apply_refusal(error)
            else:
                booked = selectors.open_booking(patient)
                messages.success(request, recorded_message(session, booked, booked_before=booked_before))
                if booked is not None and (booked_before is None or booked_before.pk != booked.pk):
                    for warning in services.booking_warnings(patient=patient, date=booked.date):
                        messages.warning(request, warning)
                return redirect("injections:session_detail", session_id=session.external_id)
    return render(request, "injections/session_record.html", _screen_context(request, screen))


def _screen_context(request: HttpRequest, screen: SessionScreen) -> dict[str, Any]:
    """The session screen's context, and whether its user may override the checks only a clinician may
    (``selectors.CLINICIAN_OVERRIDES``): a nurse is told before writing a reason the recording would refuse."""
    return {**screen.context(), "may_decide": can(request.user, Capability.DECIDE_TREATMENT)}


@login_required
@require_http_methods(["GET", "POST"])
def session_new(request: HttpRequest, patient_id: uuid.UUID) -> HttpResponse:
    """Record a session for a patient; an open booking is recorded on its own screen, so it is fulfilled."""
    patient = patient_for(request.user, patient_id, need=Capability.RECORD_SESSION)
    booking = selectors.open_booking(patient)
    if booking is not None and request.method == "GET":
        return redirect("injections:session_record", session_id=booking.external_id)
    return _session_screen(request, patient, booking)


@login_required
@require_http_methods(["GET", "POST"])
def session_record(request: HttpRequest, session_id: uuid.UUID) -> HttpResponse:
    """Record a booked session."""
    session = selectors.session_for(request.user, session_id, need=Capability.RECORD_SESSION)
    if session.status != SessionStatus.BOOKED:  # recorded or cancelled, maybe while a screen was open on it
        gone = services.booking_gone_message(session)
        if request.method == "POST" and request.htmx and request.POST.get("action", "preview") == "preview":
            # the screen's live totals: say it where the totals go (a redirect would paste a whole page there)
            return HttpResponse(format_html('<div class="verdict bad" role="alert">{}</div>', gone))
        (messages.info if request.method == "GET" else messages.error)(request, gone)
        return redirect("injections:session_detail", session_id=session.external_id)
    return _session_screen(request, session.patient, session)


# --- A recorded or booked session -----------------------------------------------------------------------------------


@login_required
def session_detail(request: HttpRequest, session_id: uuid.UUID) -> HttpResponse:
    """The session as recorded; billing staff see product, units, vials and codes but no clinical notes."""
    session = selectors.session_for(request.user, session_id, need=selectors.session_view_capability(request.user))
    patient = session.patient
    clinical = can(request.user, Capability.VIEW_CLINICAL)
    staff = request.user.role != Role.PATIENT
    audit_patient_read(
        user=request.user,
        patient=patient,
        object_type="injection_session",
        object_id=session.external_id,
        detail="" if clinical else "billing view",
    )
    today = timezone.localdate()
    booking = selectors.open_booking(patient)
    held = selectors.booking_held(session if session.status == SessionStatus.BOOKED else booking, today=today)
    plan = selectors.session_plan(session)
    # the fixed sites not given are drawn hollow and listed in the table as "not given": the procedure note's rule
    map_sites, not_given = selectors.session_sites_shown(session, plan)
    context = {
        "session": session,
        "patient": patient,
        "clinical": clinical,
        "staff": staff,
        "can_record": can(request.user, Capability.RECORD_SESSION),
        "may_decide": can(request.user, Capability.DECIDE_TREATMENT),
        "plan": plan,
        "map_sites": map_sites,
        "not_given": not_given,
        "not_given_places": [site.place for site in not_given],
        "site_groups": sitemap.group_sites([*map_sites, *not_given]),
        # the checks and the override reason are the care team's notes on their decision, not the patient's
        "overridden": selectors.check_titles(session.overridden_checks) if clinical and staff else [],
        "checks_at_recording": checks_at_recording(session) if clinical and staff else [],
        # billing staff see the overrides a claim turns on (12-week interval, prior authorisation) by title and the
        # record's figures, never the reason typed for overriding (coverage.selectors.session_claim_overrides)
        "claim_overrides": session_claim_overrides(session) if staff and not clinical else [],
        "side_effects": selectors.side_effects_for(patient).filter(session=session) if clinical else [],
        "booking": booking,
        "held": held,
        "booking_approval": services.booking_approval_warning(patient=patient, date=held.date)
        if held is not None and staff
        else None,
        "schedule": selectors.patient_schedule(patient, today=today),
        "stopped": stopped_decision(patient, today),
        "interval_weeks": selectors.interval_weeks(),
        "patient_url": patient_page_url(patient) if staff else None,
        **label_dose_context(),
    }
    return render(request, "injections/session_detail.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def session_book(request: HttpRequest, session_id: uuid.UUID) -> HttpResponse:
    """Change the date of a booked session."""
    session = selectors.session_for(request.user, session_id, need=Capability.RECORD_SESSION)
    if session.status != SessionStatus.BOOKED:
        messages.info(request, _("Only a booked session can be moved."))
        return redirect("injections:session_detail", session_id=session.external_id)
    today = timezone.localdate()
    if request.method == "POST":
        form = BookingForm(request.POST)
        if form.is_valid():
            try:
                services.injection_session_book(
                    user=request.user,
                    session=session,
                    date=form.cleaned_data["date"],
                    expected_version=form.cleaned_data["version"],
                    today=today,
                )
            except services.SessionRefusedError as error:
                for field, message in error.problems:
                    form.add_error(field if field in form.fields else None, message)
            else:
                moved = form.cleaned_data["date"]
                messages.success(request, _("Next session booked for %(date)s.") % {"date": moved.isoformat()})
                for warning in services.booking_warnings(patient=session.patient, date=moved):
                    messages.warning(request, warning)
                return redirect("injections:session_detail", session_id=session.external_id)
    else:
        form = BookingForm(initial={"date": session.date, "version": session.version})
        audit_patient_read(
            user=request.user,
            patient=session.patient,
            object_type="injection_session",
            object_id=session.external_id,
            detail="booking form",
        )
    context = {
        "session": session,
        "patient": session.patient,
        "form": form,
        "schedule": selectors.patient_schedule(session.patient, today=today),
        "stopped": stopped_decision(session.patient, today),
        "held": selectors.booking_held(session, today=today),
        "interval_weeks": selectors.interval_weeks(),
    }
    return render(request, "injections/session_book.html", context)


def _first_booking_refused(request: HttpRequest, patient: Patient, message: str) -> HttpResponse:
    """Back to the open booking's page (moved there) or to the patient's page, saying why nothing was booked."""
    booking = selectors.open_booking(patient)
    if booking is not None:
        messages.info(request, message)
        return redirect("injections:session_detail", session_id=booking.external_id)
    messages.error(request, message)
    return redirect(patient_page_url(patient) or reverse("injections:session_new", args=[patient.external_id]))


@login_required
@require_http_methods(["GET", "POST"])
def first_session_book(request: HttpRequest, patient_id: uuid.UUID) -> HttpResponse:
    """Book a patient's session when none is open: the first, ahead, or once treated the next (a booking cancelled,
    or none made); the same form sent twice lands on the one booking it made."""
    patient = patient_for(request.user, patient_id, need=Capability.RECORD_SESSION)
    today = timezone.localdate()
    treated = selectors.recorded_sessions(patient).exists()
    stopped = stopped_decision(patient, today) if treated else None
    if request.method == "GET":
        booking = selectors.open_booking(patient)
        if booking is not None:
            return _first_booking_refused(
                request, patient, _(services.FIRST_BOOKING_OPEN).format(date=booking.date.isoformat())
            )
        if stopped is not None:
            return _first_booking_refused(
                request, patient, _(services.NO_BOOKING_AFTER_STOP).format(date=stopped.decided_on.isoformat())
            )
    form = FirstBookingForm(request.POST or None, treated=treated)
    if request.method == "POST" and form.is_valid():
        day = form.cleaned_data["date"]
        try:
            booking = services.injection_session_book_first(user=request.user, patient=patient, date=day, today=today)
        except services.SessionConflictError as error:
            return _first_booking_refused(request, patient, error.messages[0])
        except services.SessionRefusedError as error:
            for field, message in error.problems:
                form.add_error(field if field in form.fields else None, message)
        else:
            booked = _("Next session booked for %(date)s.") if treated else _("First session booked for %(date)s.")
            messages.success(request, booked % {"date": booking.date.isoformat()})
            for warning in services.booking_warnings(patient=patient, date=booking.date):
                messages.warning(request, warning)
            return redirect("injections:session_detail", session_id=booking.external_id)
    if request.method == "GET":
        audit_patient_read(
            user=request.user,
            patient=patient,
            object_type="patient",
            object_id=patient.external_id,
            detail="first booking form",
        )
    context = {
        "patient": patient,
        "form": form,
        "patient_url": patient_page_url(patient),
        "treated": treated,
        "schedule": selectors.patient_schedule(patient, today=today) if treated else None,
        "interval_weeks": selectors.interval_weeks(),
    }
    return render(request, "injections/first_session_book.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def session_cancel(request: HttpRequest, session_id: uuid.UUID) -> HttpResponse:
    """Cancel a booked session: a confirmation page naming the date, then a POST that cancels it (version checked)."""
    session = selectors.session_for(request.user, session_id, need=Capability.RECORD_SESSION)
    if session.status != SessionStatus.BOOKED:
        messages.info(request, _(services.CANCEL_NOT_OPEN).format(status=session.get_status_display()))
        return redirect("injections:session_detail", session_id=session.external_id)
    form = CancelBookingForm(request.POST or None, initial={"version": session.version})
    if request.method == "POST" and form.is_valid():
        try:
            services.injection_session_cancel(
                user=request.user, session=session, expected_version=form.cleaned_data["version"]
            )
        except services.SessionRefusedError as error:
            for message in error.messages:
                messages.error(request, message)
        else:
            messages.success(request, _("The booking for %(date)s is cancelled.") % {"date": session.date.isoformat()})
        return redirect("injections:session_detail", session_id=session.external_id)
    audit_patient_read(
        user=request.user,
        patient=session.patient,
        object_type="injection_session",
        object_id=session.external_id,
        detail="cancel form",
    )
    context = {"session": session, "patient": session.patient, "form": form}
    return render(request, "injections/session_cancel.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def session_in_error(request: HttpRequest, session_id: uuid.UUID) -> HttpResponse:
    """Mark a recorded session entered in error: a page naming what it takes out of the treatment history and asking
    why, then a POST that marks it (``services.injection_session_mark_in_error``, version checked). Clinicians only;
    a nurse who opens it is told so and shown no form."""
    session = selectors.session_for(request.user, session_id, need=Capability.RECORD_SESSION)
    if session.status != SessionStatus.RECORDED:
        messages.info(request, _(services.ERROR_NOT_RECORDED).format(status=session.get_status_display()))
        return redirect("injections:session_detail", session_id=session.external_id)
    may_decide = can(request.user, Capability.DECIDE_TREATMENT)
    form = EnteredInErrorForm(request.POST or None, initial={"version": session.version})
    if request.method == "POST" and may_decide and form.is_valid():
        try:
            marked, moved = services.injection_session_mark_in_error(
                user=request.user,
                session=session,
                reason=form.cleaned_data["reason"],
                expected_version=form.cleaned_data["version"],
            )
        except services.SessionConflictError as error:
            for message in error.messages:
                messages.error(request, message)
            return redirect("injections:session_detail", session_id=session.external_id)
        except services.SessionRefusedError as error:
            for field, message in error.problems:
                form.add_error(field if field in form.fields else None, message)
        else:
            messages.success(
                request,
                _("The session of %(date)s is marked entered in error: it no longer counts in the treatment history.")
                % {"date": marked.date.isoformat()},
            )
            for effect in moved:
                if effect.session is not None:
                    text = _("The side effect from %(onset)s now follows the session of %(date)s; review it again.")
                    values = {"onset": effect.onset.isoformat(), "date": effect.session.date.isoformat()}
                else:
                    text = _("The side effect from %(onset)s now follows no session; review it again.")
                    values = {"onset": effect.onset.isoformat()}
                messages.info(request, text % values)
            return redirect("injections:session_detail", session_id=session.external_id)
    audit_patient_read(
        user=request.user,
        patient=session.patient,
        object_type="injection_session",
        object_id=session.external_id,
        detail="entered-in-error form",
    )
    moves = selectors.side_effects_moved(session)
    context = {
        "session": session,
        "patient": session.patient,
        "form": form,
        "may_decide": may_decide,
        "clinician_only": _(services.ERROR_CLINICIAN_ONLY),
        "moves": moves,
        "booking": selectors.open_booking(session.patient),
        "patient_url": patient_page_url(session.patient),
    }
    return render(request, "injections/session_in_error.html", context)


# --- Side effects ---------------------------------------------------------------------------------------------------


def _reporting_patient(request: HttpRequest) -> Patient:
    """A patient reports for themselves; clinic staff who keep diaries report for ``?patient=<id>``."""
    if request.user.role == Role.PATIENT:
        return own_patient(request.user, need=Capability.KEEP_DIARY)
    return patient_for(request.user, request.GET.get("patient", ""), need=Capability.KEEP_DIARY)


def _own_reports(request: HttpRequest) -> list[Any]:
    """The signed-in patient's side effects, for their report page (latest onset first): what, since when, when
    reported and whether the clinic has reviewed it; each opens its own page. The list is a read of the record,
    audited."""
    own = own_patient(request.user, need=Capability.VIEW_CLINICAL)  # their own record, with the right to read it
    reports = list(selectors.side_effects_for(own))
    if reports:
        audit_patient_read(
            user=request.user, patient=own, object_type="side_effect", object_id="", detail="own reports list"
        )
    return reports


@login_required
@require_http_methods(["GET", "POST"])
def report_side_effect(request: HttpRequest) -> HttpResponse:
    """The patient's phone form: what, since when, how bad; urgent kinds say to seek care now. The form carries a
    token, so sending it twice stores one report and both posts land on it. The form is there from the day of the
    first session, recorded or booked (``services.side_effect_first_session``: a patient treated this morning
    reports before the clinic has recorded the session); before it the page says the form is for side effects after
    one, in the form's place (``services.NO_SESSION_YET``), under the urgent signs. A patient's page lists their
    reports below, to find one again and see whether the clinic has reviewed it."""
    patient = _reporting_patient(request)
    today = timezone.localdate()
    if request.method == "POST":
        form = SideEffectReportForm(request.POST, today=today, own=request.user.role == Role.PATIENT)
        if form.is_valid():
            data = form.cleaned_data
            try:
                side_effect = services.side_effect_report(
                    user=request.user,
                    patient=patient,
                    kind=data["kind"],
                    onset=data["onset"],
                    severity=data["severity"],
                    description=data["description"],
                    today=today,
                    submission=data["submission"],
                    answers_once=True,
                )
            except services.SideEffectAlreadySentError as error:  # changed after sending: send again as another
                form.renew_submission()
                for _field, message in error.problems:
                    form.add_error(None, message)
            except services.SideEffectRefusedError as error:
                for field, message in error.problems:
                    form.add_error(field if field in form.fields else None, message)
            else:  # the first post and the same form sent again land on the same report
                return redirect("injections:side_effect_detail", side_effect_id=side_effect.external_id)
    else:
        form = SideEffectReportForm(initial={"onset": today}, today=today, own=request.user.role == Role.PATIENT)
    if request.user.role != Role.PATIENT:  # staff reporting for ?patient= are shown the patient's name
        audit_patient_read(
            user=request.user,
            patient=patient,
            object_type="patient",
            object_id=patient.external_id,
            detail="new form (side effect report)",
        )
    own = request.user.role == Role.PATIENT
    treated = services.side_effect_first_session(patient, today=today) is not None
    context = {
        "form": form,
        "patient": patient,
        "own": own,
        # the form is for side effects after a session (recorded, or booked for today or earlier): without one, the
        # page says so in its place and the urgent advice blames no medicine (as side_effect_detail.html)
        "treated": treated,
        "reports": _own_reports(request) if own else [],
        "no_session": _(services.NO_SESSION_YET) if own else _(services.NO_SESSION_YET_STAFF),
        "urgent_kinds": [
            *(kind.label for kind in SideEffectKind if kind in URGENT_SIDE_EFFECTS),
        ],
        "urgent_values": sorted(URGENT_SIDE_EFFECTS),
    }
    return render(request, "injections/side_effect_report.html", context)


def _unlinked_session(side_effect: Any) -> dict[str, Any]:
    """What the side effect's page says in place of a session it follows when it has none: ``booked_session``, the
    patient's booking dated on or before the onset and after the latest recorded session before it, not recorded
    yet (``selectors.side_effect_booking``: reported on the day of treatment, before the clinic recorded it, the
    first session or a later one: "the session of ..., not recorded yet"); else ``unlinked``, a recorded session
    on or before the onset it is not attributed to (a review left it with none, or its own was entered in error: a
    clinician links it on review); neither, no session before it. ``after_treatment``: the urgent advice may name
    the medicine."""
    if side_effect.session is not None:
        return {"after_treatment": True, "booked_session": None, "unlinked": False}
    booked = selectors.side_effect_booking(side_effect.patient, side_effect.onset)
    unlinked = booked is None and selectors.session_before(side_effect.patient, side_effect.onset) is not None
    return {"after_treatment": unlinked or booked is not None, "booked_session": booked, "unlinked": unlinked}


@login_required
def side_effect_detail(request: HttpRequest, side_effect_id: uuid.UUID) -> HttpResponse:
    """A reported side effect: what the patient said, the session it follows, and the urgent advice when needed."""
    side_effect = selectors.side_effect_for(request.user, side_effect_id, need=Capability.VIEW_CLINICAL)
    audit_patient_read(
        user=request.user,
        patient=side_effect.patient,
        object_type="side_effect",
        object_id=side_effect.external_id,
    )
    context = {
        "side_effect": side_effect,
        "patient": side_effect.patient,
        "own": request.user.role == Role.PATIENT,
        **_unlinked_session(side_effect),
        "can_review": can(request.user, Capability.EDIT_CLINICAL),
        # who graded it how, and why a grade changed: the care team's notes, not the patient's
        "reviews": selectors.side_effect_reviews(side_effect) if request.user.role != Role.PATIENT else [],
    }
    return render(request, "injections/side_effect_detail.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def side_effect_review(request: HttpRequest, side_effect_id: uuid.UUID) -> HttpResponse:
    """A clinician grades a side effect, judges relatedness and confirms or changes the session it follows."""
    side_effect = selectors.side_effect_for(request.user, side_effect_id, need=Capability.EDIT_CLINICAL)
    patient = side_effect.patient
    sessions = selectors.recorded_sessions(patient).filter(date__lte=side_effect.onset).order_by("-date")
    if request.method == "POST":
        form = SideEffectReviewForm(request.POST, sessions=sessions)
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.side_effect_review(
                    user=request.user,
                    side_effect=side_effect,
                    grade=data["grade"],
                    related_to_treatment=RELATED_VALUES[data["related"]],
                    session=data["session"],
                    seen=data["seen"] or None,
                    reason=data["reason"],
                )
            except services.SideEffectRefusedError as error:
                for field, message in error.problems:
                    form.add_error(field if field in form.fields else None, message)
            else:
                messages.success(request, _("Review saved."))
                return redirect("injections:side_effect_review", side_effect_id=side_effect.external_id)
    else:
        related = {True: "yes", False: "no"}.get(side_effect.related_to_treatment, "unknown")
        form = SideEffectReviewForm(
            initial={  # no grade until a clinician gives one: the patient's severity is shown beside it, not chosen
                "grade": side_effect.clinician_grade or None,
                "related": related,
                "session": side_effect.session.external_id if side_effect.session else None,
                "seen": side_effect.modified.isoformat(),
            },
            sessions=sessions,
        )
        audit_patient_read(
            user=request.user,
            patient=patient,
            object_type="side_effect",
            object_id=side_effect.external_id,
            detail="review form",
        )
    context = {
        "side_effect": side_effect,
        "patient": patient,
        "form": form,
        "patient_url": patient_page_url(patient),
        "reviews": selectors.side_effect_reviews(side_effect),
    }
    return render(request, "injections/side_effect_review.html", context)
