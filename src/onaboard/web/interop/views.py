"""The exchange pages (/exchange/): a patient's FHIR and CSV downloads, the diary CSV upload with its row-by-row
error report, calendar feeds, and the portal's "my data" page where a patient downloads everything held about them.

Thin: reach the patient through patients/access.py, call one selector or service, render. Every download and
upload is audited by the selector or service it calls; the staff exchange page, which names the patient, is audited
as a read of the record as every patient page is.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_safe

from onaboard.interop.fhir import bundle_json
from onaboard.web.accounts.models import Role
from onaboard.web.audit.services import audit_patient_read
from onaboard.web.injections.services import BOOKING_HORIZON_YEARS
from onaboard.web.interop.calendar import (
    FEED_PAST_DAYS,
    feed_calendar,
    feed_calendar_size,
    feed_create,
    feed_for,
    feed_revoke,
    feeds_of,
)
from onaboard.web.interop.forms import DiaryUploadForm
from onaboard.web.interop.models import CalendarFeed
from onaboard.web.interop.outcome import FHIR_JSON
from onaboard.web.interop.selectors import diary_csv_export, patients_export, table_csv_export
from onaboard.web.interop.services import DiaryCsvInvalidError, ImportSummary, diary_csv_import, table_csv_import
from onaboard.web.patients.access import Capability, can, own_patient, patient_for, staff_patient_for
from onaboard.web.patients.models import Patient

OWN_DOWNLOAD = "patient's own download"
"""The audit detail of a patient's download of their own record."""
UPLOAD_NEEDS: dict[str, Capability] = {
    "diary": Capability.KEEP_DIARY,
    "preventives": Capability.EDIT_CLINICAL,
    "sessions": Capability.RECORD_SESSION,
}
"""What each kind of CSV upload needs: the same capability as entering those rows by hand."""


class _CheckOnly(Exception):  # noqa: N818 - not an error: unwinds the transaction of a check-only upload
    def __init__(self, summary: ImportSummary) -> None:
        self.summary = summary


def _download(content: str, *, filename: str, content_type: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response


def _fhir_download(user: Any, patient: Patient, how: str) -> HttpResponse:
    document = patients_export(user=user, patients=[patient], how=how)
    return _download(
        bundle_json(document),
        filename=f"{patient.record_number}-fhir.json",
        content_type=FHIR_JSON,
    )


def _csv_download(user: Any, patient: Patient, how: str, kind: str = "diary") -> HttpResponse:
    if kind == "diary":
        text, _days = diary_csv_export(user=user, patient=patient, how=how)
    else:
        text = table_csv_export(user=user, patient=patient, kind=kind, how=how)
    return _download(text, filename=f"{patient.record_number}-{kind}.csv", content_type="text/csv; charset=utf-8")


def _feed_url(request: HttpRequest, secret: str) -> str:
    return request.build_absolute_uri(reverse("interop:feed", args=[secret]))


def _feed_action(request: HttpRequest, patient: Patient | None) -> str | None:
    """Create or revoke one of the user's feeds (POST ``action``); the new feed's address, shown once."""
    action = request.POST.get("action")
    if action == "feed_create":
        _feed, secret = feed_create(user=request.user, patient=patient)
        messages.success(request, _("Calendar feed created. Copy its address now: it is shown only once."))
        return _feed_url(request, secret)
    if action == "feed_revoke":
        try:
            feed = CalendarFeed.objects.get(
                external_id=UUID(request.POST.get("feed", "")), owner=request.user, patient=patient
            )
        except (ValueError, CalendarFeed.DoesNotExist):
            raise Http404(_("No such calendar feed.")) from None
        feed_revoke(user=request.user, feed=feed)
        messages.success(request, _("Calendar feed revoked: its address no longer works."))
    return None


# --- Staff: one patient ------------------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def patient_exchange(request: HttpRequest, external_id: UUID) -> HttpResponse:
    """Downloads, the diary CSV upload (every problem listed by line and column; nothing saved unless the whole
    file is valid) and the patient's calendar feeds. A staff page (``staff_patient_for``): a patient's own data is
    on the portal's "my data" (``my_data``), in their words, never on the staff's import page."""
    patient = staff_patient_for(request.user, external_id, need=Capability.VIEW_CLINICAL)
    kinds = [kind for kind, need in UPLOAD_NEEDS.items() if can(request.user, need)]
    may_upload = bool(kinds)
    form = DiaryUploadForm(kinds=kinds)
    problems: tuple[Any, ...] = ()
    summary: ImportSummary | None = None
    checked_only = False
    new_feed = None
    if request.method == "POST" and request.POST.get("action") == "upload":
        if not may_upload:
            raise Http404
        form = DiaryUploadForm(request.POST, request.FILES, kinds=kinds)
        if form.is_valid():
            upload = form.cleaned_data["file"]
            checked_only = form.cleaned_data["check_only"]
            try:
                with transaction.atomic():
                    kind = form.cleaned_data["kind"]
                    if kind == "diary":
                        summary = diary_csv_import(
                            user=request.user,
                            clinic=patient.clinic,
                            source=upload.read(),
                            today=timezone.localdate(),
                            patient=patient,
                            filename=f"upload {upload.name}",
                        )
                    else:
                        summary = table_csv_import(
                            user=request.user,
                            clinic=patient.clinic,
                            kind=kind,
                            source=upload.read(),
                            today=timezone.localdate(),
                            patient=patient,
                        )
                    if checked_only:
                        raise _CheckOnly(summary)
            except _CheckOnly as check:
                summary = check.summary
            except DiaryCsvInvalidError as refused:
                problems = refused.problems
    elif request.method == "POST":
        new_feed = _feed_action(request, patient)
        if new_feed is None:
            return redirect("interop:patient", external_id=patient.external_id)
    audit_patient_read(
        user=request.user,
        patient=patient,
        object_type="patient",
        object_id=patient.external_id,
        detail="exchange page",
    )
    return render(
        request,
        "interop/patient_exchange.html",
        {
            "patient": patient,
            "form": form,
            "may_upload": may_upload,
            "problems": problems,
            "summary": summary,
            "checked_only": checked_only,
            "feeds": feeds_of(request.user, patient),
            "new_feed": new_feed,
        },
    )


@login_required
@require_GET
def patient_fhir(request: HttpRequest, external_id: UUID) -> HttpResponse:
    patient = patient_for(request.user, external_id, need=Capability.VIEW_CLINICAL)
    return _fhir_download(request.user, patient, _download_how(request.user))


@login_required
@require_GET
def patient_csv(request: HttpRequest, external_id: UUID, kind: str = "diary") -> HttpResponse:
    patient = patient_for(request.user, external_id, need=Capability.VIEW_CLINICAL)
    return _csv_download(request.user, patient, _download_how(request.user), kind)


def _download_how(user: Any) -> str:
    """Where a download by the record's address went, for its audit event: the patient's own (they may use their
    record's address as well as the portal's) or a member of staff's."""
    return OWN_DOWNLOAD if getattr(user, "role", None) == Role.PATIENT else "web download"


# --- The patient's own data --------------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def my_data(request: HttpRequest) -> HttpResponse:
    """The portal's "my data": download everything held about me (FHIR and CSV) and my calendar feed. The page
    names the patient and lists their feeds, so showing it is an audited read, as the staff exchange page's is."""
    patient = own_patient(request.user, need=Capability.VIEW_CLINICAL)
    new_feed = _feed_action(request, patient) if request.method == "POST" else None
    if request.method == "POST" and new_feed is None:
        return redirect("interop:my_data")
    audit_patient_read(
        user=request.user,
        patient=patient,
        object_type="patient",
        object_id=patient.external_id,
        detail="own exchange page (my data)",
    )
    return render(
        request,
        "interop/my_data.html",
        {"patient": patient, "feeds": feeds_of(request.user, patient), "new_feed": new_feed},
    )


@login_required
@require_GET
def my_fhir(request: HttpRequest) -> HttpResponse:
    patient = own_patient(request.user, need=Capability.VIEW_CLINICAL)
    return _fhir_download(request.user, patient, OWN_DOWNLOAD)


@login_required
@require_GET
def my_csv(request: HttpRequest, kind: str = "diary") -> HttpResponse:
    patient = own_patient(request.user, need=Capability.VIEW_CLINICAL)
    return _csv_download(request.user, patient, OWN_DOWNLOAD, kind)


# --- Calendar ----------------------------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def clinician_calendar(request: HttpRequest) -> HttpResponse:
    """The signed-in clinician's or nurse's feeds of every booked session of their clinic."""
    if not can(request.user, Capability.RECORD_SESSION):
        raise Http404
    new_feed = _feed_action(request, None) if request.method == "POST" else None
    if request.method == "POST" and new_feed is None:
        return redirect("interop:calendar")
    return render(
        request,
        "interop/calendar_feeds.html",
        {
            "feeds": feeds_of(request.user, None),
            "new_feed": new_feed,
            "past_days": FEED_PAST_DAYS,
            "horizon_years": BOOKING_HORIZON_YEARS,
        },
    )


@require_safe
def feed(request: HttpRequest, secret: str) -> HttpResponse:
    """The iCalendar feed behind a secret address (no sign-in: calendar apps cannot); 404 once revoked. A HEAD
    request (a calendar app checking the address) gets the GET's headers and no content, so nothing is audited."""
    found = feed_for(secret)
    if found is None:
        raise Http404
    if request.method == "HEAD":
        response = HttpResponse(content_type="text/calendar; charset=utf-8")
        response["Content-Length"] = str(feed_calendar_size(found))
    else:
        response = HttpResponse(feed_calendar(found), content_type="text/calendar; charset=utf-8")
    response["Cache-Control"] = "private, no-store"
    return response
