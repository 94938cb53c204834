"""Staff pages: a patient's coverage and cost, insurance terms, prior authorisations, the clinic's prices, and the
four PDF documents.

Patients never see these pages (every id is "not found" for them). Billing staff and administrators see what a
claim or a prior-authorisation request needs: the criteria and their evidence, the cost, the letters and the
procedure note; the patient's after-care sheet is for clinical staff. Prices are set by billing staff and
administrators; everyone else on the staff may read them.
"""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from django.views.decorators.http import require_GET, require_http_methods

from onaboard.clinical import Stage
from onaboard.web.accounts.models import STAFF_ROLES, Role
from onaboard.web.audit.models import Action
from onaboard.web.audit.services import audit_patient_read, audit_record
from onaboard.web.common.conflicts import Change, merge_with_stored
from onaboard.web.common.pdf import pdf_response
from onaboard.web.coverage import selectors
from onaboard.web.coverage.documents import (
    DocumentKind,
    SessionNotFoundError,
    document_links,
    document_pdf,
    insured_policy_if_other,
)
from onaboard.web.coverage.forms import (
    DUPLICATE_OPEN_REQUEST,
    OPEN_COPY_OF_ANSWERED,
    ClinicPriceForm,
    PatientInsuranceForm,
    PriorAuthorisationForm,
)
from onaboard.web.coverage.models import AuthorisationStatus, PriceItem, PriorAuthorisation
from onaboard.web.coverage.selectors import CoverageUnavailableError
from onaboard.web.coverage.services import (
    AuthorisationConflictError,
    DuplicateRequestError,
    InsuranceConflictError,
    OpenCopyError,
    clinic_price_set,
    patient_insurance_save,
    prior_authorisation_save,
)
from onaboard.web.patients.access import Capability, can, staff_patient_for
from onaboard.web.patients.models import Patient

PRICE_EDITORS = frozenset({Role.BILLING, Role.ADMIN})
"""Who may set the clinic's prices: billing staff and administrators (clinicians and nurses read them)."""

AUTHORISATION_NOT_FOUND = gettext_noop("No such prior-authorisation request.")
APPROVAL_END_FROM_POLICY = gettext_noop(
    "The approval's end date, {day}, is the policy's approval length ({months} months), not the payer's answer: "
    "check it against the payer's letter."
)
APPROVAL_WITHOUT_END = gettext_noop(
    "This approval has no end date: {policy} sets no approval period for {stage} requests, so none could be "
    "filled in. It is shown in force with no end, and no renewal will fall due. Enter the last day from the payer's "
    "letter."
)
DOCUMENT_UNAVAILABLE_STATUS = 409
"""A document that cannot be written from the record as it stands (no session, no policy) is a conflict with the
record's state: a plain page with the reason, never a redirect, which a download link would save as a file."""


APPROVAL_END_UNCONFIRMED = gettext_noop(
    "The approval's end date, {day}, is the policy's approval length ({months} months, a length not confirmed in "
    "a source), not the payer's answer: check it against the payer's letter."
)


def staff_patient(user: object, external_id: uuid.UUID | str, need: Capability = Capability.VIEW_BILLING) -> Patient:
    """The patient for a staff page or API operation (``access.staff_patient_for``)."""
    return staff_patient_for(user, external_id, need=need)


def may_edit_prices(user: object) -> bool:
    return getattr(user, "role", None) in PRICE_EDITORS and getattr(user, "clinic_id", None) is not None


@login_required
@require_GET
def patient_coverage(request: HttpRequest, patient_id: uuid.UUID) -> HttpResponse:
    """The patient against a chosen policy (every criterion with its evidence), the cost, insurance, approvals."""
    patient = staff_patient(request.user, patient_id)
    today = timezone.localdate()
    insurance = selectors.insurance_of(patient)
    policy_id = request.GET.get("policy") or (insurance.policy_id if insurance else "")
    stage = request.GET.get("stage") or ""
    if stage not in Stage._value2member_map_:
        stage = ""
    coverage = None
    problem = ""
    if policy_id:
        try:
            coverage = selectors.coverage_evaluation(
                user=request.user, patient=patient, today=today, policy_id=policy_id, stage=stage or None
            )
        except CoverageUnavailableError as error:
            problem = str(error)
    else:
        problem = _("Choose a coverage policy, or record the patient's insurance.")
    cost = selectors.patient_cost(user=request.user, patient=patient, today=today)
    context = {
        "patient": patient,
        "today": today,
        "insurance": insurance,
        "policies": selectors.policy_choices(),
        "policy_id": policy_id,
        "stage": stage or (coverage.evaluation.stage.value if coverage else ""),
        "coverage": coverage,
        "problem": problem,
        "cost": cost,
        "approval": selectors.approval_state(patient, today),
        "approval_need": selectors.approval_on(patient, today),
        "stopped": selectors.treatment_stopped(patient, today),
        "quiet": selectors.approval_quiet(patient, today),
        "authorisations": selectors.prior_authorisations(patient),
        "labels": selectors.status_labels(),
        "tones": selectors.OUTCOME_TONES,
        "can_clinical": can(request.user, Capability.VIEW_CLINICAL),
        "documents": document_links(request.user, patient, today=today, policy_id=policy_id or None),
        "insured_policy": insured_policy_if_other(patient, policy_id or None),
    }
    return render(request, "coverage/patient_coverage.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def insurance_edit(request: HttpRequest, patient_id: uuid.UUID) -> HttpResponse:
    """The patient's insurance: which policy applies and the benefit terms behind the patient's share. A save over
    one made since the form was loaded is refused, listing what is stored now (``InsuranceConflictError``)."""
    patient = staff_patient(request.user, patient_id)
    insurance = selectors.insurance_of(patient)
    initial = {} if insurance else {"terms_as_of": timezone.localdate()}
    form = PatientInsuranceForm(request.POST or None, instance=insurance, initial=initial)
    conflict: tuple[Change, ...] | None = None
    if request.method == "POST" and form.is_valid():
        try:
            patient_insurance_save(
                user=request.user,
                patient=patient,
                data=form.cleaned_data,
                expected_version=form.cleaned_data["version"],
            )
        except InsuranceConflictError as error:
            insurance = error.current
            # What is stored now with this user's changes on top, shown again for a second, conscious save.
            merged = merge_with_stored(posted=form, stored=PatientInsuranceForm(instance=insurance))
            conflict = merged.changes
            form = PatientInsuranceForm(merged.data, instance=insurance)
            form.is_valid()
            form.add_error(None, str(error))
        else:
            messages.success(request, _("Insurance saved."))
            return redirect("coverage:patient", patient.external_id)
    if insurance is not None:
        audit_patient_read(
            user=request.user,
            patient=patient,
            object_type="insurance",
            object_id=insurance.external_id,
            detail="edit form",
        )
    return render(request, "coverage/insurance_edit.html", {"patient": patient, "form": form, "conflict": conflict})


def _warn_of_policy_end(request: HttpRequest, authorisation: PriorAuthorisation) -> None:
    """Say that an approval's end date was taken from the policy's approval length, not the payer's answer, and
    whether that length is confirmed in a source; or, for an approval saved with no end at all (the policy sets no
    length to fill it from), that it will be shown in force with no end and no renewal will fall due."""
    if authorisation.status == AuthorisationStatus.APPROVED and authorisation.approved_until is None:
        words = {"policy": selectors.policy_title(authorisation.policy_id), "stage": authorisation.get_stage_display()}
        messages.warning(request, _(APPROVAL_WITHOUT_END).format(**words))
        return
    if not authorisation.approved_until_from_policy or authorisation.approved_until is None:
        return
    months, unconfirmed = selectors.approval_length(authorisation.policy_id, authorisation.stage)
    text = _(APPROVAL_END_UNCONFIRMED) if unconfirmed else _(APPROVAL_END_FROM_POLICY)
    messages.warning(request, text.format(day=date_format(authorisation.approved_until, "j M Y"), months=months))


@login_required
@require_http_methods(["GET", "POST"])
def authorisation_new(request: HttpRequest, patient_id: uuid.UUID) -> HttpResponse:
    """Record a prior-authorisation request sent to the payer."""
    patient = staff_patient(request.user, patient_id)
    insurance = selectors.insurance_of(patient)
    today = timezone.localdate()
    stage = selectors.request_stage_due(patient, today, insurance)
    initial = {"requested_on": today, "stage": stage.value, "policy_id": insurance.policy_id if insurance else ""}
    form = PriorAuthorisationForm(
        request.POST or None,
        initial=initial,
        may_attest=can(request.user, Capability.EDIT_CLINICAL),
        patient=patient,
    )
    if request.method == "POST" and form.is_valid():
        try:
            saved = prior_authorisation_save(user=request.user, patient=patient, data=form.cleaned_data)
        except DuplicateRequestError:  # the same form submitted twice at once: the form's check came too early
            form.add_error(None, DUPLICATE_OPEN_REQUEST)
        except OpenCopyError:  # an answer recorded as a new row while a copy of the request is open
            form.add_error(None, OPEN_COPY_OF_ANSWERED)
        else:
            messages.success(request, _("Prior-authorisation request recorded."))
            _warn_of_policy_end(request, saved)
            return redirect("coverage:patient", patient.external_id)
    audit_patient_read(  # the form shows the patient's name, record number and insurance policy
        user=request.user,
        patient=patient,
        object_type="patient",
        object_id=patient.external_id,
        detail="new form (prior authorisation)",
    )
    return render(
        request, "coverage/authorisation_form.html", {"patient": patient, "form": form, "authorisation": None}
    )


@login_required
@require_http_methods(["GET", "POST"])
def authorisation_edit(request: HttpRequest, patient_id: uuid.UUID, authorisation_id: uuid.UUID) -> HttpResponse:
    """Record the payer's answer (or a correction) to a request. A save over one made since the form was loaded is
    refused, listing what is stored now (``AuthorisationConflictError``): a stale form would undo a payer's answer."""
    patient = staff_patient(request.user, patient_id)
    found = PriorAuthorisation.objects.select_related("patient").filter(external_id=authorisation_id).first()
    if found is None or found.patient_id != patient.pk:
        # Audited as a refused session or side-effect id is (``injections.selectors._reached_or_not_found``): what
        # was asked for, with the patient whose request it is where it is one's; the 404 is the same either way.
        audit_record(
            user=request.user,
            action=Action.DENIED,
            object_type="prior_authorisation",
            object_id=authorisation_id,
            patient_id=found.patient.external_id if found is not None else None,
            detail=Capability.VIEW_BILLING.value,
        )
        raise Http404(_(AUTHORISATION_NOT_FOUND))
    authorisation = found
    may_attest = can(request.user, Capability.EDIT_CLINICAL)
    form = PriorAuthorisationForm(request.POST or None, instance=authorisation, may_attest=may_attest, patient=patient)
    conflict: tuple[Change, ...] | None = None
    if request.method == "POST" and form.is_valid():
        try:
            saved = prior_authorisation_save(
                user=request.user,
                patient=patient,
                data=form.cleaned_data,
                authorisation=authorisation,
                expected_version=form.cleaned_data["version"],
            )
        except AuthorisationConflictError as error:
            authorisation = error.current
            # What is stored now with this user's changes on top, shown again for a second, conscious save.
            stored = PriorAuthorisationForm(instance=authorisation, may_attest=may_attest, patient=patient)
            conflict = (merged := merge_with_stored(posted=form, stored=stored)).changes
            form = PriorAuthorisationForm(merged.data, instance=authorisation, may_attest=may_attest, patient=patient)
            form.is_valid()
            form.add_error(None, str(error))
        except DuplicateRequestError:
            form.add_error(None, DUPLICATE_OPEN_REQUEST)
        except OpenCopyError:  # a copy recorded between the form's check and the save
            form.add_error(None, OPEN_COPY_OF_ANSWERED)
        else:
            messages.success(request, _("Prior-authorisation request updated."))
            _warn_of_policy_end(request, saved)
            return redirect("coverage:patient", patient.external_id)
    audit_patient_read(
        user=request.user,
        patient=patient,
        object_type="prior_authorisation",
        object_id=authorisation.external_id,
        detail="edit form",
    )
    return render(
        request,
        "coverage/authorisation_form.html",
        {"patient": patient, "form": form, "authorisation": authorisation, "conflict": conflict},
    )


@login_required
@require_http_methods(["GET", "POST"])
def prices(request: HttpRequest) -> HttpResponse:
    """The clinic's prices: those in force today and every price ever set; billing and administrators add one."""
    user = request.user
    if user.role not in STAFF_ROLES or user.clinic_id is None:
        raise PermissionDenied
    editor = may_edit_prices(user)
    if request.method == "POST" and not editor:
        raise PermissionDenied
    today = timezone.localdate()
    form = ClinicPriceForm(request.POST or None, initial={"set_on": today}, clinic=user.clinic) if editor else None
    if request.method == "POST" and form is not None and form.is_valid():
        data = form.cleaned_data
        clinic_price_set(
            user=user,
            clinic=user.clinic,
            item=data["item"],
            amount=data["amount"],
            currency=data["currency"],
            set_on=data["set_on"],
            note=data["note"],
        )
        if form.currency_warning:
            messages.warning(request, form.currency_warning)
        else:
            messages.success(request, _("Price saved."))
        return redirect("coverage:prices")
    audit_record(user=user, action=Action.READ, object_type="clinic_price", detail="price list")
    in_force = [(PriceItem(item).label, selectors.price_in_force(user.clinic, item, today)) for item in PriceItem]
    history = [(PriceItem(item).label, rows) for item, rows in selectors.price_history(user.clinic).items()]
    return render(
        request,
        "coverage/prices.html",
        {"form": form, "in_force": in_force, "history": history, "today": today, "editor": editor},
    )


@login_required
@require_GET
def document(request: HttpRequest, patient_id: uuid.UUID, kind: str) -> HttpResponse:
    """One of the four documents as a PDF download (``?session=`` for the procedure note and patient summary); one
    that cannot be written answers 409 with the reason (``DOCUMENT_UNAVAILABLE_STATUS``), a ``?session=`` naming no
    recorded session of the patient 404 (a missing resource)."""
    try:
        document_kind = DocumentKind(kind)
    except ValueError:
        raise Http404(_("No such document.")) from None
    patient = staff_patient(request.user, patient_id, document_kind.need)
    try:
        made = document_pdf(
            document_kind,
            user=request.user,
            patient=patient,
            today=timezone.localdate(),
            session_id=request.GET.get("session") or None,
            policy_id=request.GET.get("policy") or None,
        )
    except SessionNotFoundError as error:
        raise Http404(str(error)) from None
    except CoverageUnavailableError as error:
        return render(
            request,
            "coverage/document_unavailable.html",
            {"patient": patient, "kind": document_kind, "problem": str(error)},
            status=DOCUMENT_UNAVAILABLE_STATUS,
        )
    return pdf_response(made.pdf, made.filename)
