"""The diary pages: today's diary, earlier days, the patient's history and chart, and staff entering a day.

Thin: reach the patient through patients/access.py, call one selector or service, render. The rules a day must
meet are the engine's; the form only shows what the engine says.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from urllib.parse import urlencode
from uuid import UUID

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from onaboard.web.accounts.models import Role
from onaboard.web.common.charts import headache_days_chart
from onaboard.web.common.words import plain_day
from onaboard.web.coverage.selectors import NextTreatment
from onaboard.web.diary.forms import DAY_IN_FUTURE, DiaryDayForm
from onaboard.web.diary.models import DiaryEntry
from onaboard.web.diary.selectors import diary_day_read, diary_history, next_treatment_read
from onaboard.web.diary.services import (
    DiaryEntryConflictError,
    DiaryEntryInvalidError,
    before_treatment_problem,
    diary_entry_problems,
    diary_entry_save,
    first_treatment_day,
    loaded_token,
)
from onaboard.web.patients.access import Capability, own_patient, patient_for
from onaboard.web.patients.models import Patient

SAVED = gettext_lazy("Saved: your diary for %(day)s.")
SAVED_FOR_PATIENT = gettext_lazy("Saved: the diary of %(name)s for %(day)s.")
DAY_TURNED = gettext_lazy(
    "Not saved: this page was opened as today's diary on %(opened)s, and today is now %(today)s. If these answers "
    "are for %(opened)s, save them again below; if they are for today, record them in today's diary."
)
"""A today's page left open past midnight: its day is no longer today, so what it posts is not taken for either day
(the patient says which day the answers are about)."""

DAY_CHANGED_ANSWERS_KEPT = gettext_lazy(
    "This day was saved by someone else, or from another page, since you opened it, so your answers are not saved "
    "yet. They are kept below; what the day holds now is shown here. Save to put your answers in its place, or "
    "leave this page to keep the day as it is."
)
"""A save over a change made since the page was opened (``DiaryEntryConflictError``): the answers typed come back
with the day as saved now, never thrown away and never written over it unseen."""

OPENED_AS_TODAY = "today"
"""What today's page posts as ``opened``: the day it posts was today when the page was opened."""


@dataclass(frozen=True, slots=True)
class ChangedSince:
    """The day as saved now, shown above answers refused for having been typed over an older version of it."""

    message: str
    entry: DiaryEntry | None


def _date_param(raw: str | None) -> date | None:
    try:
        return date.fromisoformat(raw) if raw else None
    except ValueError:
        return None


def _save_posted(
    request: HttpRequest, *, patient: Patient, day: date, date_editable: bool, today: date, refusal: str | None
) -> DiaryEntry | tuple[DiaryDayForm, ChangedSince | None]:
    """The day posted, saved through the engine; or, refused, the form to show again with every problem found and,
    when the day was changed since the page was opened, the day as saved now (``ChangedSince``)."""
    form = DiaryDayForm(request.POST, max_date=today)
    if refusal is not None:
        form.add_error(None, refusal)  # after the form's own checks (``errors`` runs them): all are shown
        return form, None
    valid = form.is_valid()
    fields = form.engine_fields()
    if not date_editable:
        fields["date"] = day.isoformat()
    if not valid:
        # Some answers the form refused itself: the diary's rules about the others are shown with them now, not one
        # save later (those judged against a refused answer are left out: ``forms.ENGINE_NEEDS``).
        form.add_engine_problems(diary_entry_problems(user=request.user, patient=patient, fields=fields, today=today))
        return form, None
    loaded = form.cleaned_data.get("loaded") or None  # a form without one (an old page) is not checked
    try:
        return diary_entry_save(user=request.user, patient=patient, fields=fields, today=today, loaded=loaded)
    except DiaryEntryInvalidError as invalid:
        form.add_engine_problems(invalid.problems)
        return form, None
    except DiaryEntryConflictError:
        # Never written over unseen, never thrown away: the answers come back with the day as saved now and its
        # token, so saving them again (once seen) replaces it (as the questionnaires' ``_answer_page`` does).
        changed_day = date.fromisoformat(fields["date"])
        current = diary_day_read(user=request.user, patient=patient, day=changed_day)
        data = request.POST.copy()
        data["loaded"] = loaded_token(changed_day, current)
        return DiaryDayForm(data, max_date=today), ChangedSince(str(DAY_CHANGED_ANSWERS_KEPT), current)


def _day_page(
    request: HttpRequest,
    *,
    patient: Patient,
    day: date,
    date_editable: bool,
    url_for_day: Callable[[date], str],
    on_behalf: bool,
    action_url: str | None = None,
    next_treatment: NextTreatment | None = None,
    refusal: str | None = None,
) -> HttpResponse:
    """GET shows the day (its stored row, or blank; a day still to come, only a notice that it has not happened);
    POST saves it through the engine, then redirects to it. The form posts to ``action_url`` (this address).
    ``next_treatment`` is named above the day (the portal's Today page). ``refusal``: why a POST is not saved at all
    (the answers come back with it, as for a refusal of the engine's)."""
    today = timezone.localdate()
    not_yet = None
    changed_since = None
    if request.method == "POST":
        posted = _save_posted(
            request, patient=patient, day=day, date_editable=date_editable, today=today, refusal=refusal
        )
        if isinstance(posted, DiaryEntry):
            if on_behalf:
                text = str(SAVED_FOR_PATIENT) % {"name": patient.display_name, "day": plain_day(posted.date)}
            else:
                text = str(SAVED) % {"day": plain_day(posted.date)}
            messages.success(request, text)
            return redirect(url_for_day(posted.date))
        form, changed_since = posted
        saved = False
        # A refused save changes nothing: say whether the day keeps an earlier record or has none yet.
        refused_day = _date_param(request.POST.get("date")) if date_editable else day
        if refused_day is None or refused_day > today:
            kept = None
        else:
            kept = diary_day_read(user=request.user, patient=patient, day=refused_day) is not None
    elif day > today:
        # A day still to come has nothing to record: say so, rather than a form refused only once filled in. The
        # day picker stays (its form, unbound), so another day can be chosen from here.
        form = DiaryDayForm(initial={"date": day.isoformat()}, max_date=today)
        saved = False
        kept = None
        refused_day = None
        not_yet = str(DAY_IN_FUTURE) % {"day": plain_day(day)}
    else:
        entry = diary_day_read(user=request.user, patient=patient, day=day)
        form = DiaryDayForm(initial=DiaryDayForm.initial_for(entry, day), max_date=today)
        saved = entry is not None
        kept = False
        refused_day = None
    # A patient's day before their first treatment is shown as it is, not as a form to change (the service refuses it).
    closed = None if not_yet else before_treatment_problem(request.user, patient, refused_day or day)
    # Staff may still change it: they are told it is the baseline, which the response is judged against.
    first = first_treatment_day(patient) if on_behalf else None
    baseline_of = first if first is not None and day < first else None
    # The calendar's first day has no day before (a typed URL may ask for it); a day still to come links to today.
    previous_day = day - timedelta(days=1) if date.min < day <= today else None
    next_day = day + timedelta(days=1) if day < today else None
    return render(
        request,
        "diary/diary_entry_edit.html",
        {
            "form": form,
            "patient": patient,
            "day": day,
            "today": today,
            "is_today": day == today,
            "saved": saved,
            "kept": kept,
            "refused_day": refused_day,
            "date_editable": date_editable,
            "on_behalf": on_behalf,
            "not_yet": not_yet,
            "closed": closed,
            "baseline_of": baseline_of,
            "today_url": url_for_day(today),
            "action_url": action_url or request.path,
            "previous_url": url_for_day(previous_day) if previous_day else None,
            "next_url": url_for_day(next_day) if next_day else None,
            "next_treatment": next_treatment,
            "day_turned": refusal is not None,
            "opened_as_today": OPENED_AS_TODAY,
            "changed_since": changed_since,
        },
    )


def _day_turned(request: HttpRequest, day: date, today: date) -> str | None:
    """``DAY_TURNED`` when ``request`` posts ``day`` from a page opened as today's (``opened``) and ``day`` is no
    longer today (left open overnight): the answers may be the new day's, not the day the page shows. Nothing is
    saved then; the page comes back as ``day``'s, to save it from there. Else None."""
    if request.method != "POST" or request.POST.get("opened") != OPENED_AS_TODAY or day >= today:
        return None
    return str(DAY_TURNED) % {"opened": plain_day(day), "today": plain_day(today)}


def _own_day_url(day: date) -> str:
    if day == timezone.localdate():
        return reverse("diary:today")
    return reverse("diary:edit", kwargs={"day": day})


@login_required
@require_http_methods(["GET", "POST"])
def today(request: HttpRequest) -> HttpResponse:
    """Today's diary (or the day in ``?date=``, which the date picker asks for), today's with the patient's next
    treatment; staff land on their own pages."""
    if request.user.role != Role.PATIENT:
        return redirect("clinic:home")
    patient = own_patient(request.user, need=Capability.KEEP_DIARY)
    today_date = timezone.localdate()
    day = _date_param(request.GET.get("date")) or today_date
    # A save is for the day posted (the picker may have changed it), so a refused one comes back as that day's page.
    posted = _date_param(request.POST.get("date")) if request.method == "POST" else None
    if posted is not None and posted <= today_date:
        day = posted
    refusal = _day_turned(request, posted, today_date) if posted is not None else None
    action_url = reverse("diary:today")
    if day != today_date:
        action_url += "?" + urlencode({"date": day.isoformat()})
    next_treatment = None
    if request.method == "GET" and day == today_date:
        next_treatment = next_treatment_read(user=request.user, patient=patient, today=today_date)
    return _day_page(
        request,
        patient=patient,
        day=day,
        date_editable=True,
        url_for_day=_own_day_url,
        on_behalf=False,
        action_url=action_url,
        next_treatment=next_treatment,
        refusal=refusal,
    )


@login_required
@require_http_methods(["GET", "POST"])
def edit(request: HttpRequest, day: date) -> HttpResponse:
    """One earlier day of the patient's own diary, to fix or fill in. Today's day here is today's page, the
    after-midnight check included: opened as today and saved once the day has turned, it saves nothing."""
    patient = own_patient(request.user, need=Capability.KEEP_DIARY)
    return _day_page(
        request,
        patient=patient,
        day=day,
        date_editable=False,
        url_for_day=_own_day_url,
        on_behalf=False,
        refusal=_day_turned(request, day, timezone.localdate()),
    )


@login_required
@require_http_methods(["GET", "POST"])
def patient_day(request: HttpRequest, patient_id: UUID, day: date) -> HttpResponse:
    """Clinic staff who keep diaries (clinicians, nurses) enter or fix a day for a patient of their clinic."""
    patient = patient_for(request.user, patient_id, need=Capability.KEEP_DIARY)
    if request.method == "GET" and (other := _date_param(request.GET.get("go"))) is not None and other != day:
        return redirect("diary:patient_day", patient_id=patient.external_id, day=other)

    def url_for_day(value: date) -> str:
        return reverse("diary:patient_day", kwargs={"patient_id": patient.external_id, "day": value})

    on_behalf = request.user.role != Role.PATIENT
    # a patient on their own record's address is on today's page as on the portal's (the after-midnight check)
    refusal = None if on_behalf else _day_turned(request, day, timezone.localdate())
    return _day_page(
        request,
        patient=patient,
        day=day,
        date_editable=False,
        url_for_day=url_for_day,
        on_behalf=on_behalf,
        refusal=refusal,
    )


@login_required
@require_http_methods(["GET"])
def history(request: HttpRequest) -> HttpResponse:
    """The patient's recorded days, one 28-day period a page (newest first), with gaps shown, and "my chart"."""
    patient = own_patient(request.user, need=Capability.VIEW_CLINICAL)
    try:
        number = int(request.GET.get("period", "1"))
    except ValueError:
        number = 1
    today = timezone.localdate()
    found = diary_history(user=request.user, patient=patient, today=today, number=number)
    chart = headache_days_chart(
        found.chart_periods,
        found.sessions,
        title=_("Headache days in each 28-day period"),
        html_id="my-chart",
        today=today,
    )
    # the days before the first treatment are shown, not offered to change or add (before_treatment_problem)
    kept_before = first_treatment_day(patient)
    # today's row opens today's page (``diary:today``), as "Record today" does
    context = {"history": found, "chart": chart, "patient": patient, "kept_before": kept_before, "today": today}
    return render(request, "diary/diary_entry_list.html", context)
