"""Demo insurance data for the demo clinic: the clinic's prices, each candidate patient's insurance and approvals.

Called by the demo loader (``onaboard.web.clinic.demo.demo_clinic_load``) once the demo patients exist, inside its
transaction. Idempotent: the demo patients' insurance and requests are replaced, and prices are added only to a
clinic that has none.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from onaboard.clinical import Stage
from onaboard.web.accounts.models import Clinic, Role, User
from onaboard.web.clinic.demo import APPROVAL_DENIED_DAYS_AGO, PATIENTS, DemoPatient
from onaboard.web.coverage.models import (
    AuthorisationStatus,
    ClinicPrice,
    PatientInsurance,
    PriceItem,
    PriorAuthorisation,
)
from onaboard.web.coverage.selectors import approval_end, policy_by_id
from onaboard.web.coverage.services import insured_as
from onaboard.web.patients.models import Patient

DRUG_PRICES = ((365, Decimal("6.512")), (60, Decimal("6.506")))
"""(days before today the price took effect, price per unit): the J0585 Medicare Part B payment limits of Q2 and
Q3 2026 (clinical-facts 7.3), used as the demo clinic's own price list. The prices are dated back from the day the
demo is loaded, so their notes name the quarter of that date (``drug_price_note``), not the quarter the figure was
published for, which would contradict the date beside it."""

DRUG_PRICE_NOTE = "Demo price for {quarter}, modelled on a Medicare Part B payment limit (ASP + 6 %)"


def quarter_of(day: dt.date) -> str:
    """The calendar quarter ``day`` falls in: "Q4 2026"."""
    return f"Q{(day.month - 1) // 3 + 1} {day.year}"


def drug_price_note(set_on: dt.date) -> str:
    """The note of a demo drug price taking effect on ``set_on``, naming that day's quarter."""
    return DRUG_PRICE_NOTE.format(quarter=quarter_of(set_on))


ADMINISTRATION_PRICE = Decimal("250.00")
VISIT_PRICE = Decimal("120.00")
"""The demo clinic's own charges for CPT 64615 and an office visit (made-up clinic settings, not reference values)."""

DEMO_INSURANCE: dict[int, dict[str, object]] = {
    4: {"policy_id": "us-commercial-a", "payer": "Northwind Health (demo)", "deductible": "1500", "coinsurance": "20"},
    5: {"policy_id": "us-commercial-b", "payer": "Contoso Care (demo)", "deductible": "750", "coinsurance": "10"},
    6: {"policy_id": "us-commercial-c", "payer": "Fabrikam Health (demo)", "deductible": "0", "coinsurance": "20"},
    7: {"policy_id": "us-medicare-a", "payer": "Medicare Part B (demo)", "deductible": "0", "coinsurance": "20"},
    8: {"policy_id": "us-commercial-a", "payer": "Northwind Health (demo)", "deductible": "400", "coinsurance": "20"},
    9: {"policy_id": "ahs-2021", "payer": "Contoso Care (demo)", "deductible": "0", "coinsurance": "15"},
    10: {"policy_id": "us-commercial-a", "payer": "Northwind Health (demo)", "deductible": "0", "coinsurance": "20"},
    11: {"policy_id": "nice-ta260", "payer": "NHS (demo)", "deductible": "0", "coinsurance": "0"},
    12: {"policy_id": "nice-ta260", "payer": "NHS (demo)", "deductible": "0", "coinsurance": "0"},
    13: {"policy_id": "us-commercial-b", "payer": "Contoso Care (demo)", "deductible": "0", "coinsurance": "10"},
    14: {"policy_id": "us-commercial-c", "payer": "Fabrikam Health (demo)", "deductible": "500", "coinsurance": "20"},
}
"""Demo patient number -> policy and benefit terms. Patients 1-3 are not candidates (diary running, not eligible)."""

SAVINGS_PROGRAMME = "manufacturer savings programme (demo)"
SAVINGS_FOR = {4: Decimal("1000"), 8: Decimal("1000"), 10: Decimal("500")}


def _prices(clinic: Clinic, today: dt.date, user: User | None) -> None:
    if ClinicPrice.objects.filter(clinic=clinic).exists():
        return
    rows = [
        ClinicPrice(
            clinic=clinic,
            item=PriceItem.DRUG_PER_UNIT,
            amount=amount,
            set_on=today - dt.timedelta(days=days),
            set_by=user,
            note=drug_price_note(today - dt.timedelta(days=days)),
        )
        for days, amount in DRUG_PRICES
    ]
    start = today - dt.timedelta(days=DRUG_PRICES[0][0])
    rows.append(ClinicPrice(clinic=clinic, item=PriceItem.ADMINISTRATION, amount=ADMINISTRATION_PRICE, set_on=start))
    rows.append(ClinicPrice(clinic=clinic, item=PriceItem.VISIT, amount=VISIT_PRICE, set_on=start))
    for row in rows:
        row.set_by = user
    ClinicPrice.objects.bulk_create(rows)


DEMO_LETTER_MONTHS = 12
"""How long a demo payer's approval letter runs when the policy file sets no approval length (the demo's own
synthetic answer, as a real payer's letter states its end; with a length in the file the end is filled from it and
shown as the policy's)."""


def _approval(
    patient: Patient,
    policy_id: str,
    stage: Stage,
    *,
    requested: dt.date,
    user: User | None,
    approved: bool,
    denied_on: dt.date | None = None,
) -> None:
    policy = policy_by_id(policy_id)
    months = policy.initial.approval_months
    if stage is Stage.CONTINUATION:
        months = policy.continuation.approval_months if policy.continuation is not None else None
    decided = requested + dt.timedelta(days=7)
    if approved:
        status = AuthorisationStatus.APPROVED
    else:
        status = AuthorisationStatus.REQUESTED if denied_on is None else AuthorisationStatus.DENIED
    PriorAuthorisation.objects.create(
        patient=patient,
        stage=stage.value,
        policy_id=policy_id,
        diagnosis_code="G43.719",
        requested_on=requested,
        status=status,
        decided_on=decided if approved else denied_on,
        approved_from=decided if approved else None,
        approved_until=approval_end(decided, months or DEMO_LETTER_MONTHS) if approved else None,
        approved_until_from_policy=bool(approved and months),
        **insured_as(patient, policy_id),  # the demo insurance's payer and member id, as a request recorded now keeps
        reference=f"PA-{patient.record_number}-{stage.value[:4].upper()}" if approved else "",
        medication_overuse_managed=True,
        prescriber_attests_benefit=True if stage is Stage.CONTINUATION else None,
        recorded_by=user,
    )


def _requests(patient: Patient, spec: DemoPatient, policy_id: str, today: dt.date, user: User | None) -> None:
    """An initial approval for every patient booked or treated; an initial request awaiting the payer for the patient
    whose story says so (patient 5), and one the payer denied (patient 14); a continuation after two cycles: awaiting
    the payer while week 24 is being assessed (patient 10), and approved for the continuing responder (patient 13),
    asked for two weeks before the third session, with five periods of response to show."""
    if spec.sessions_ago:
        first = today - dt.timedelta(days=spec.sessions_ago[0])
        _approval(patient, policy_id, Stage.INITIAL, requested=first - dt.timedelta(days=21), user=user, approved=True)
        if len(spec.sessions_ago) >= 2 and spec.number in (10, 13):
            latest = today - dt.timedelta(days=spec.sessions_ago[-1])
            requested = today - dt.timedelta(days=3) if spec.number == 10 else latest - dt.timedelta(days=14)
            _approval(
                patient, policy_id, Stage.CONTINUATION, requested=requested, user=user, approved=spec.number == 13
            )
    elif spec.booked_in is not None:
        _approval(patient, policy_id, Stage.INITIAL, requested=today - dt.timedelta(days=20), user=user, approved=True)
    elif spec.approval_requested:
        _approval(patient, policy_id, Stage.INITIAL, requested=today - dt.timedelta(days=5), user=user, approved=False)
    elif spec.approval_denied:
        denied_on = today - dt.timedelta(days=APPROVAL_DENIED_DAYS_AGO)
        requested = denied_on - dt.timedelta(days=10)
        _approval(
            patient, policy_id, Stage.INITIAL, requested=requested, user=user, approved=False, denied_on=denied_on
        )


def coverage_demo_load(clinic: Clinic, *, today: dt.date) -> None:
    """Add the demo clinic's prices and its candidate patients' insurance and prior authorisations."""
    billing = User.objects.filter(clinic=clinic, role=Role.BILLING).order_by("id").first()
    _prices(clinic, today, billing)
    for spec in PATIENTS:
        terms = DEMO_INSURANCE.get(spec.number)
        patient = Patient.objects.filter(clinic=clinic, record_number=spec.record_number).first()
        if terms is None or patient is None:
            continue
        PriorAuthorisation.objects.filter(patient=patient).delete()
        PatientInsurance.objects.filter(patient=patient).delete()
        policy_id = str(terms["policy_id"])
        savings = SAVINGS_FOR.get(spec.number, Decimal(0))
        PatientInsurance.objects.create(
            patient=patient,
            policy_id=policy_id,
            payer=str(terms["payer"]),
            member_id=f"M{spec.number:04d}",
            deductible_remaining=Decimal(str(terms["deductible"])),
            coinsurance_percent=Decimal(str(terms["coinsurance"])),
            savings_programme=SAVINGS_PROGRAMME if savings else "",
            savings_remaining=savings,
            terms_as_of=today,
        )
        _requests(patient, spec, policy_id, today, billing)
