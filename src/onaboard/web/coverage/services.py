"""Changing the clinic's prices, a patient's insurance terms and prior-authorisation requests, each audited.

Every write happens inside one transaction with its audit event. Prices are only ever added (a new row with the day
it takes effect), so the history behind past figures is kept. Insurance terms and prior-authorisation requests are
edited by billing and clinical staff alike: a save states the version its form was loaded at and is refused when
someone saved in between, so neither silently undoes the other's change (a payer's approval, a member id).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext_lazy as _

from onaboard.clinical import Stage
from onaboard.web.accounts.models import Clinic
from onaboard.web.audit.models import Action
from onaboard.web.audit.services import audit_record
from onaboard.web.coverage.models import AuthorisationStatus, ClinicPrice, PatientInsurance, PriorAuthorisation
from onaboard.web.coverage.selectors import approval_end, approval_length, open_request_twin, policy_by_id
from onaboard.web.patients.access import Capability, can
from onaboard.web.patients.models import Patient

INSURANCE_FIELDS = (
    "policy_id",
    "payer",
    "member_id",
    "deductible_remaining",
    "coinsurance_percent",
    "copay_per_session",
    "out_of_pocket_remaining",
    "savings_programme",
    "savings_remaining",
    "bill_discarded_units",
    "sessions_per_year",
    "terms_as_of",
)
AUTHORISATION_FIELDS = (
    "stage",
    "policy_id",
    "diagnosis_code",
    "requested_on",
    "status",
    "decided_on",
    "approved_from",
    "approved_until",
    "reference",
    "medication_overuse_managed",
    "prescriber_attests_benefit",
    "note",
)
ATTESTATION_FIELDS = ("medication_overuse_managed", "prescriber_attests_benefit")
"""What the clinician attests on a request: set only by users with ``Capability.EDIT_CLINICAL`` (either can make a
request approvable on its own; billing staff record requests and answers but cannot attest to a clinical fact)."""


STALE_INSURANCE = _(
    "Someone else saved this patient's insurance while you were editing it. Nothing was saved: the form now holds "
    "what is stored with your own changes on top. Check the fields listed below, then save again."
)
STALE_AUTHORISATION = _(
    "Someone else saved this prior-authorisation request while you were editing it. Nothing was saved: the form "
    "now holds what is stored with your own changes on top. Check the fields listed below, then save again."
)
NO_INSURANCE_YET = 0
"""The version an insurance form carries when the patient had no insurance row as it was loaded."""


class InsuranceConflictError(Exception):
    """The patient's insurance changed (or was first recorded) since the form was loaded; ``current`` is the row as
    stored now."""

    def __init__(self, current: PatientInsurance) -> None:
        self.current = current
        super().__init__(str(STALE_INSURANCE))


class AuthorisationConflictError(Exception):
    """The prior-authorisation request changed since the form was loaded; ``current`` is the row as stored now."""

    def __init__(self, current: PriorAuthorisation) -> None:
        self.current = current
        super().__init__(str(STALE_AUTHORISATION))


class DuplicateRequestError(ValueError):
    """The request would be a second open request of the patient with the same stage, policy and request date
    (``coverage.selectors.open_request_twin``); ``args[0]`` is the open one. The form refuses it first; this
    catches two submissions arriving together."""


class OpenCopyError(ValueError):
    """The payer's answer (approved, denied) is being recorded on a request while a copy of it, the same stage,
    policy and request date, is still open (``coverage.selectors.open_request_twin``); ``args[0]`` is the copy. Left
    open, the copy would read as a request still awaiting the payer beside the answer: it is withdrawn first. The
    form refuses it first (``forms.OPEN_COPY_OF_ANSWERED``); this catches a copy recorded meanwhile."""


ANSWERS = (AuthorisationStatus.APPROVED, AuthorisationStatus.DENIED)
"""The statuses that record the payer's answer: one is refused while a copy of the request is still open
(``OpenCopyError``). Withdrawing is not an answer: it is how the copy is closed."""


def clinic_price_set(
    *, user: Any, clinic: Clinic, item: str, amount: Any, currency: str, set_on: Any, note: str = ""
) -> ClinicPrice:
    """Add a price in force from ``set_on``; earlier prices stay for the days before it."""
    with transaction.atomic():
        price = ClinicPrice.objects.create(
            clinic=clinic, item=item, amount=amount, currency=currency, set_on=set_on, set_by=user, note=note
        )
        audit_record(
            user=user,
            action=Action.CREATE,
            object_type="clinic_price",
            object_id=price.external_id,
            detail=f"{item} {amount} {currency} from {set_on}",
        )
    return price


def _changed(before: Mapping[str, Any], after: Mapping[str, Any]) -> str:
    return ", ".join(sorted(name for name in after if before.get(name) != after[name]))


def _stored_insurance(patient: Patient) -> PatientInsurance | None:
    """The patient's insurance row, locked until the transaction ends; None when there is none yet."""
    return PatientInsurance.objects.select_for_update().filter(patient=patient).first()


def patient_insurance_save(
    *, user: Any, patient: Patient, data: Mapping[str, Any], expected_version: int | None = None
) -> PatientInsurance:
    """Create or update the patient's insurance terms from cleaned form data; the version is bumped on every update.

    ``expected_version`` is the row's version when the form was loaded (``NO_INSURANCE_YET`` when there was no row):
    if the row stored now is at another one, nothing is saved and ``InsuranceConflictError`` carries it. None saves
    whatever is stored. The patient's row is locked first, so saves arriving together (two first saves when there is
    no insurance row to lock yet) are served one after the other: one creates the row, the others find it."""
    values = {name: data[name] for name in INSURANCE_FIELDS if name in data}
    policy_by_id(values.get("policy_id") or "")  # named explicitly: no policy is assumed
    with transaction.atomic():
        Patient.objects.select_for_update().filter(pk=patient.pk).first()
        insurance = _stored_insurance(patient)
        created = False
        if insurance is None:
            try:
                with transaction.atomic():  # a savepoint: a row created meanwhile (without the lock) is read below
                    insurance = PatientInsurance.objects.create(patient=patient, **values)
                created = True
            except IntegrityError:
                insurance = PatientInsurance.objects.select_for_update().filter(patient=patient).first()
                if insurance is None:
                    raise
        if created:
            action, detail = Action.CREATE, "insurance"
        else:
            if expected_version is not None and insurance.version != expected_version:
                raise InsuranceConflictError(insurance)
            before = {name: getattr(insurance, name) for name in values}
            for name, value in values.items():
                setattr(insurance, name, value)
            insurance.version += 1
            insurance.save()
            action, detail = Action.UPDATE, f"insurance: {_changed(before, values)}"
        audit_record(
            user=user,
            action=action,
            object_type="insurance",
            object_id=insurance.external_id,
            patient_id=patient.external_id,
            detail=detail,
        )
    return insurance


def _fill_approval_end(values: dict[str, Any], authorisation: PriorAuthorisation | None) -> None:
    """An approval without an end date lasts the policy's approval period for the stage, when the policy sets one;
    ``approved_until_from_policy`` records that the date is the policy's, not the payer's answer. An end date kept
    as it was filled stays marked; one the user gives or changes is the payer's. A filled end date left as it was
    while its start, policy or stage changed is filled again from them (it was worked out from the old ones)."""
    stored = None
    if authorisation is not None and authorisation.pk is not None:  # the row as saved (a form has changed the object)
        stored = (
            PriorAuthorisation.objects.filter(pk=authorisation.pk)
            .values("approved_from", "approved_until", "approved_until_from_policy", "policy_id", "stage")
            .first()
        )
    filled_before = (
        stored is not None
        and stored["approved_until_from_policy"]
        and values.get("approved_until") == stored["approved_until"]
    )
    if filled_before and any(
        values.get(name, stored[name]) != stored[name] for name in ("approved_from", "policy_id", "stage")
    ):
        values["approved_until"] = None
    kept = filled_before and values.get("approved_until") is not None
    values["approved_until_from_policy"] = bool(kept and values.get("status") == AuthorisationStatus.APPROVED)
    if values.get("status") != AuthorisationStatus.APPROVED or values.get("approved_until"):
        return
    start = values.get("approved_from")
    if start is None:
        return
    months, _unconfirmed = approval_length(values["policy_id"], Stage(values.get("stage") or Stage.INITIAL))
    if months:
        values["approved_until"] = approval_end(start, months)
        values["approved_until_from_policy"] = True


def insured_as(patient: Patient, policy_id: str) -> dict[str, str]:
    """The payer and member id a new request under ``policy_id`` is made to: the patient's insurance's when it is
    under that policy (``coverage.selectors.made_under`` matches the request's approval to them), else none, for a
    request under another policy than the insurance's names another payer, whose name is not recorded (the row is
    then matched on its policy alone)."""
    insurance = PatientInsurance.objects.filter(patient=patient).first()
    if insurance is None or insurance.policy_id != policy_id:
        return {"payer": "", "member_id": ""}
    return {"payer": insurance.payer.strip(), "member_id": insurance.member_id.strip()}


def prior_authorisation_save(
    *,
    user: Any,
    patient: Patient,
    data: Mapping[str, Any],
    authorisation: PriorAuthorisation | None = None,
    expected_version: int | None = None,
) -> PriorAuthorisation:
    """Record a new request or the payer's answer to one; the change is audited (with who changed the clinician's
    attestations). The attestations (``ATTESTATION_FIELDS``) are taken from ``data`` only when ``user`` may edit
    clinical data; otherwise they keep their stored value (none on a new request). A new request keeps the payer and
    member id of the insurance it is made under (``insured_as``); an answer or correction leaves them as they were
    (the answer is the payer's the request was sent to, whatever the insurance says now).

    A request awaiting the payer that copies another open one (same stage, policy and request date) is refused
    (``DuplicateRequestError``), and so is the payer's answer to a request while such a copy is still open
    (``OpenCopyError``: left open, the copy would read as a further request awaiting the payer).

    Updating ``authorisation``: ``expected_version`` is its version when the form was loaded; if the row stored now
    is at another one, nothing is saved and ``AuthorisationConflictError`` carries it (a stale form would otherwise
    put back the status, dates and reference the payer's answer replaced). None saves whatever is stored. The saved
    row is returned, its version bumped."""
    values = {name: data[name] for name in AUTHORISATION_FIELDS if name in data}
    if not can(user, Capability.EDIT_CLINICAL):
        for name in ATTESTATION_FIELDS:
            values.pop(name, None)
    policy_by_id(values.get("policy_id") or "")  # named explicitly: no policy is assumed
    with transaction.atomic():
        if values.get("status") in (AuthorisationStatus.REQUESTED, *ANSWERS):
            # The patient's row locked: two submissions of one form at once cannot both pass the check, nor a copy
            # be recorded while its original's answer is.
            Patient.objects.select_for_update().filter(pk=patient.pk).first()
        stored = None
        if authorisation is not None:
            stored = PriorAuthorisation.objects.select_for_update().get(pk=authorisation.pk)
            if expected_version is not None and stored.version != expected_version:
                raise AuthorisationConflictError(stored)
        _fill_approval_end(values, stored)
        if values.get("status") in (AuthorisationStatus.REQUESTED, *ANSWERS):
            twin = open_request_twin(
                patient,
                stage=values.get("stage") or Stage.INITIAL.value,
                policy_id=values["policy_id"],
                requested_on=values["requested_on"],
                exclude=None if authorisation is None else authorisation.pk,
            )
            if twin is not None and values["status"] == AuthorisationStatus.REQUESTED:
                raise DuplicateRequestError(twin)
            if twin is not None:
                raise OpenCopyError(twin)
        if stored is None:
            values.update(insured_as(patient, values["policy_id"]))
            authorisation = PriorAuthorisation.objects.create(patient=patient, recorded_by=user, **values)
            action, detail = Action.CREATE, f"prior authorisation {authorisation.stage} {authorisation.status}"
            attested = [name for name in ATTESTATION_FIELDS if values.get(name) is not None]
            if attested:  # who attested is the audited user
                detail += f", attested: {', '.join(attested)}"
        else:
            authorisation = stored  # the row as stored, not the form's instance (the form has changed that one)
            before = {name: getattr(authorisation, name) for name in values}
            for name, value in values.items():
                setattr(authorisation, name, value)
            authorisation.version += 1
            authorisation.save()
            action = Action.UPDATE
            detail = f"prior authorisation {authorisation.status}: {_changed(before, values)}"
        audit_record(
            user=user,
            action=action,
            object_type="prior_authorisation",
            object_id=authorisation.external_id,
            patient_id=patient.external_id,
            detail=detail,
        )
    return authorisation
