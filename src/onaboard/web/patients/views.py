"""The patient pages for clinic staff: the clinician's page, the billing page, and editing the record.

Every view reaches the patient through ``access.patient_for`` with the capability it needs; a patient the user may
not see, or may not see this way, is "not found". Patients use the portal, not these pages.
"""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from onaboard.web.accounts.models import STAFF_ROLES
from onaboard.web.audit.services import audit_patient_read
from onaboard.web.clinic.selectors import PathwayState
from onaboard.web.common.conflicts import Change, merge_with_stored
from onaboard.web.injections.selectors import open_booking
from onaboard.web.patients.access import Capability, can, staff_patient_for
from onaboard.web.patients.forms import (
    OtherToxinTreatmentForm,
    PatientEditForm,
    PatientForm,
    PreventiveTrialForm,
    SafetyScreenForm,
)
from onaboard.web.patients.models import Patient
from onaboard.web.patients.selectors import patient_billing, patient_page, preventive_trial_of
from onaboard.web.patients.services import (
    PatientVersionConflictError,
    PreventiveTrialConflictError,
    other_toxin_treatment_create,
    patient_create,
    patient_update,
    preventive_trial_create,
    preventive_trial_update,
)

FIRST_BOOKING_STATES = frozenset(
    {PathwayState.DIARY_RUNNING, PathwayState.ELIGIBLE, PathwayState.AWAITING_APPROVAL, PathwayState.APPROVAL_DENIED}
)
"""The pathway states that offer "Book the first session": before treatment with no booking open (a booked first
session is ``BOOKED``), for a patient who may be treated once the diary or the payer allows. Not "not eligible"."""
NEXT_BOOKING_STATES = frozenset(
    {
        PathwayState.ON_TREATMENT,
        PathwayState.DUE,
        PathwayState.OVERDUE,
        PathwayState.WEEK24_DUE,
        PathwayState.STOP_SUGGESTED,
    }
)
"""The treated states that offer "Book the next session" when no booking is open (one cancelled, or none made): not
"treatment stopped", which a decision to continue lifts first (it books the next session itself)."""


def _staff_patient(request: HttpRequest, external_id: uuid.UUID, need: Capability) -> Patient:
    """The patient for a staff page (``access.staff_patient_for``)."""
    return staff_patient_for(request.user, external_id, need=need)


@login_required
@require_http_methods(["GET", "POST"])
def new(request: HttpRequest) -> HttpResponse:
    """Register a new patient of the user's clinic."""
    if request.user.role not in STAFF_ROLES or not can(request.user, Capability.EDIT_CLINICAL):
        raise PermissionDenied
    clinic = request.user.clinic
    if clinic is None:
        raise PermissionDenied
    form = PatientForm(request.POST or None, clinic=clinic)
    if request.method == "POST" and form.is_valid():
        try:
            patient = patient_create(user=request.user, clinic=clinic, data=form.changes())
        except ValidationError as refusal:  # the same record number saved at the same moment (a double click)
            for field, errors in refusal.message_dict.items():
                for error in errors:
                    form.add_error(field if field in form.fields else None, error)
        else:
            messages.success(request, _("Patient registered. Answer the safety screen before the first session."))
            return redirect("patients:detail", patient.external_id)
    return render(request, "patients/patient_new.html", {"form": form})


@login_required
def detail(request: HttpRequest, external_id: uuid.UUID) -> HttpResponse:
    """The clinician's page: pathway state, chart, every verdict with its reasons, safety screen, history.

    Staff without the clinical view (billing, administrators) are sent to the billing page of the same patient.
    """
    if not can(request.user, Capability.VIEW_CLINICAL):
        patient = _staff_patient(request, external_id, Capability.VIEW_BILLING)
        return redirect("patients:billing", patient.external_id)
    patient = _staff_patient(request, external_id, Capability.VIEW_CLINICAL)
    page = patient_page(user=request.user, patient=patient, today=timezone.localdate())
    booking = page.pathway.booked_for and open_booking(patient)
    can_record = can(request.user, Capability.RECORD_SESSION)
    context = {
        "page": page,
        "patient": patient,
        "can_edit": can(request.user, Capability.EDIT_CLINICAL),
        "can_record": can_record,
        "can_book_first": can_record and page.pathway.state in FIRST_BOOKING_STATES,
        "can_book_next": can_record and page.pathway.state in NEXT_BOOKING_STATES and page.pathway.booked_for is None,
        "can_keep_diary": can(request.user, Capability.KEEP_DIARY),
        "record_url": reverse("injections:session_record", args=[booking.external_id])
        if booking
        else reverse("injections:session_new", args=[patient.external_id]),
    }
    return render(request, "patients/patient_detail.html", context)


@login_required
def billing(request: HttpRequest, external_id: uuid.UUID) -> HttpResponse:
    """Demographics and the billing facts of each session: what a claim needs, nothing clinical."""
    patient = _staff_patient(request, external_id, Capability.VIEW_BILLING)
    page = patient_billing(user=request.user, patient=patient, today=timezone.localdate())
    return render(request, "patients/patient_billing.html", {"page": page, "patient": patient})


def _back_to(request: HttpRequest) -> str | None:
    """The page the form was opened from (``?next=``, e.g. the session screen asking the checklist again), if it is
    a page of this site; the form returns there once saved."""
    url = request.GET.get("next", "")
    if url and url_has_allowed_host_and_scheme(url, {request.get_host()}, require_https=request.is_secure()):
        return url
    return None


def _versioned_edit(
    request: HttpRequest,
    external_id: uuid.UUID,
    *,
    form_class: type,
    template: str,
    saved_message: str,
) -> HttpResponse:
    """GET shows the form at the stored version; POST saves through ``patient_update`` or explains the conflict, or
    the refusal of a record number another patient took since the form checked it (at its field). Saved, it returns
    to ``?next=`` if that is a page of this site (``_back_to``), else to the patient's page."""
    patient = _staff_patient(request, external_id, Capability.EDIT_CLINICAL)
    back_to = _back_to(request)
    conflict: tuple[Change, ...] | None = None
    if request.method == "POST":
        form = form_class(request.POST, patient=patient)
        if form.is_valid():
            try:
                patient_update(
                    user=request.user,
                    patient=patient,
                    data=form.changes(),
                    expected_version=form.cleaned_data["version"],
                )
            except PatientVersionConflictError as error:
                # What is stored now with this user's changes on top, shown again for a second, conscious save.
                merged = merge_with_stored(posted=form, stored=form_class(patient=error.current))
                conflict = merged.changes
                form = form_class(merged.data, patient=error.current)
                form.is_valid()
                form.add_error(None, str(error))
            except ValidationError as refusal:  # the record number taken by another patient since the form checked
                for field, errors in refusal.message_dict.items():
                    for message in errors:
                        form.add_error(field if field in form.fields else None, message)
            else:
                messages.success(request, saved_message)
                return redirect(back_to) if back_to else redirect("patients:detail", patient.external_id)
    else:
        form = form_class(patient=patient)
    form_name = template.rsplit("/", 1)[-1].removesuffix(".html")
    audit_patient_read(
        user=request.user,
        patient=patient,
        object_type="patient",
        object_id=patient.external_id,
        detail=f"edit form ({form_name})",
    )
    context = {"form": form, "patient": patient, "conflict": conflict, "back_to": back_to}
    return render(request, template, context)


@login_required
@require_http_methods(["GET", "POST"])
def edit(request: HttpRequest, external_id: uuid.UUID) -> HttpResponse:
    """Edit the patient's demographics."""
    return _versioned_edit(
        request,
        external_id,
        form_class=PatientEditForm,
        template="patients/patient_edit.html",
        saved_message=_("Patient record saved."),
    )


@login_required
@require_http_methods(["GET", "POST"])
def safety_edit(request: HttpRequest, external_id: uuid.UUID) -> HttpResponse:
    """Answer the safety-screen questions: yes, no or not asked."""
    return _versioned_edit(
        request,
        external_id,
        form_class=SafetyScreenForm,
        template="patients/patient_safety_edit.html",
        saved_message=_("Safety screen answers saved."),
    )


def _audit_new_form(request: HttpRequest, patient: Patient, form_name: str) -> None:
    """A form adding to the record shows the patient's name and record number: a read, as an edit form is."""
    audit_patient_read(
        user=request.user,
        patient=patient,
        object_type="patient",
        object_id=patient.external_id,
        detail=f"new form ({form_name})",
    )


@login_required
@require_http_methods(["GET", "POST"])
def other_toxin_new(request: HttpRequest, external_id: uuid.UUID) -> HttpResponse:
    """Record a botulinum toxin treatment given outside the chronic-migraine cycles."""
    patient = _staff_patient(request, external_id, Capability.EDIT_CLINICAL)
    form = OtherToxinTreatmentForm(request.POST or None, patient=patient)
    if request.method == "POST" and form.is_valid():
        other_toxin_treatment_create(user=request.user, patient=patient, data=form.cleaned_data)
        messages.success(request, _("Other botulinum toxin treatment recorded."))
        return redirect("patients:detail", patient.external_id)
    _audit_new_form(request, patient, "other_toxin_treatment_new")
    return render(request, "patients/other_toxin_treatment_new.html", {"form": form, "patient": patient})


@login_required
@require_http_methods(["GET", "POST"])
def preventive_new(request: HttpRequest, external_id: uuid.UUID) -> HttpResponse:
    """Add a preventive medicine the patient tried."""
    patient = _staff_patient(request, external_id, Capability.EDIT_CLINICAL)
    form = PreventiveTrialForm(request.POST or None, patient=patient)
    if request.method == "POST" and form.is_valid():
        preventive_trial_create(user=request.user, patient=patient, data=form.data_for_service())
        messages.success(request, _("Preventive medicine added."))
        return redirect("patients:detail", patient.external_id)
    _audit_new_form(request, patient, "preventive_trial_form")
    context = {"form": form, "patient": patient, "trial": None}
    return render(request, "patients/preventive_trial_form.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def preventive_edit(request: HttpRequest, external_id: uuid.UUID, trial_id: uuid.UUID) -> HttpResponse:
    """Correct a preventive medicine on the record."""
    patient = _staff_patient(request, external_id, Capability.EDIT_CLINICAL)
    trial = preventive_trial_of(patient, trial_id, user=request.user, need=Capability.EDIT_CLINICAL)
    form = PreventiveTrialForm(request.POST or None, instance=trial, patient=patient)
    conflict: tuple[Change, ...] | None = None
    if request.method == "POST" and form.is_valid():
        try:
            preventive_trial_update(
                user=request.user, trial=trial, data=form.data_for_service(), loaded=form.cleaned_data["loaded"]
            )
        except PreventiveTrialConflictError as error:
            stored = error.current
            # What is stored now with this user's changes on top, shown again for a second, conscious save.
            merged = merge_with_stored(posted=form, stored=PreventiveTrialForm(instance=stored, patient=patient))
            conflict = merged.changes
            form = PreventiveTrialForm(merged.data, instance=stored, patient=patient)
            form.is_valid()
            form.add_error(None, str(error))
        else:
            messages.success(request, _("Preventive medicine saved."))
            return redirect("patients:detail", patient.external_id)
    audit_patient_read(
        user=request.user,
        patient=patient,
        object_type="preventive_trial",
        object_id=trial.external_id,
        detail="edit form (preventive_trial_form)",
    )
    context = {"form": form, "patient": patient, "trial": trial, "conflict": conflict}
    return render(request, "patients/preventive_trial_form.html", context)
