"""Patients for the coverage tests: one eligible and untreated, one due their second session (demo patient 8's story),
one after two cycles with week 24 complete; the clinic's prices and the treated patients' insurance and approval."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from onaboard.clinical import hit6_score, midas_score
from onaboard.web.clinic.demo import record_preempt_session
from onaboard.web.coverage.models import (
    AuthorisationStatus,
    ClinicPrice,
    PatientInsurance,
    PriceItem,
    PriorAuthorisation,
)
from onaboard.web.injections.models import InjectionSession, Severity, SideEffect, SideEffectKind
from onaboard.web.outcomes.models import Instrument, QuestionnaireResponse
from onaboard.web.patients.models import SAFETY_FLAGS, Patient, PreventiveClass, PreventiveTrial, StopReason
from tests.builders import period_rows
from tests.web.clinic.diaries import chronic_rows, store

POLICY = "us-commercial-a"


@dataclass
class Treated:
    """``world.same_clinic_patient`` 200 days after the first of three sessions (day 0, 84 and 168)."""

    patient: Patient
    today: date
    day0: date
    sessions: list[InjectionSession]


@pytest.fixture
def today() -> date:
    """The pages judge on the clinic's today, so diaries end on it."""
    return timezone.localdate()


def _answer_safety(patient: Patient) -> None:
    for flag in SAFETY_FLAGS:
        setattr(patient, flag, False)
    patient.other_toxin_asked = True
    patient.save()


def _trials(patient: Patient, before: date) -> None:
    for drug, drug_class, start_days, length, reason in (
        ("topiramate", PreventiveClass.ANTICONVULSANT, 500, 120, StopReason.INEFFECTIVE),
        ("propranolol", PreventiveClass.BETA_BLOCKER, 360, 90, StopReason.NOT_TOLERATED),
        ("amitriptyline", PreventiveClass.TRICYCLIC, 250, 100, StopReason.INEFFECTIVE),
    ):
        start = before - timedelta(days=start_days)
        PreventiveTrial.objects.create(
            patient=patient,
            drug=drug,
            drug_class=drug_class,
            dose="as prescribed",
            start=start,
            stop=start + timedelta(days=length),
            stop_reason=reason,
        )


def prices(clinic, set_on: date) -> None:
    """Prices set before every session: $6.506 per unit, $250 for 64615, $120 for the visit (USD)."""
    for item, amount in (
        (PriceItem.DRUG_PER_UNIT, "6.506"),
        (PriceItem.ADMINISTRATION, "250"),
        (PriceItem.VISIT, "120"),
    ):
        ClinicPrice.objects.create(clinic=clinic, item=item, amount=Decimal(amount), currency="USD", set_on=set_on)


@pytest.fixture
def eligible(world, today) -> Patient:
    """``world.same_clinic_patient``: three chronic periods ending today, three failed preventives, safety answered."""
    patient = world.same_clinic_patient
    store(patient, chronic_rows(today=today), today=today)
    _answer_safety(patient)
    _trials(patient, today)
    prices(world.clinic, today - timedelta(days=400))
    return patient


@pytest.fixture
def treated(world, today) -> Treated:
    """Chronic before treatment; then 16, 12, 12, 10, 9, 8 and 8 headache days; sessions on days 0, 84 and 168;
    HIT-6 and MIDAS before and now; neck pain after the first session; insurance and an initial approval."""
    patient = world.same_clinic_patient
    day0 = today - timedelta(days=200)
    store(patient, chronic_rows(today=day0 - timedelta(days=1)), today=today)
    for k, headache in enumerate((16, 12, 12, 10, 9, 8, 8)):
        store(patient, period_rows("P", day0 + timedelta(days=28 * k), headache=headache), today=today)
    _answer_safety(patient)
    _trials(patient, day0)
    prices(world.clinic, day0 - timedelta(days=30))
    sessions = [
        record_preempt_session(patient, day, injector=world.users["nurse"], today=today)
        for day in (day0, day0 + timedelta(days=84), day0 + timedelta(days=168))
    ]
    sessions[0].complications = "Brief vasovagal episode, recovered lying down."
    sessions[0].save()
    for instrument_day, hit6_answers, midas in (
        (day0 - timedelta(days=3), ["always"] * 6, {"q1": 9, "q2": 7, "q3": 6, "q4": 5, "q5": 12}),
        (today, ["sometimes"] * 6, {"q1": 2, "q2": 1, "q3": 1, "q4": 1, "q5": 2}),
    ):
        hit6 = hit6_score(hit6_answers)
        QuestionnaireResponse.objects.create(
            patient=patient,
            instrument=Instrument.HIT6,
            date=instrument_day,
            answers=hit6_answers,
            total=hit6.total,
            category=hit6.impact.value,
        )
        score = midas_score(**midas)
        QuestionnaireResponse.objects.create(
            patient=patient,
            instrument=Instrument.MIDAS,
            date=instrument_day,
            answers=midas,
            total=score.total,
            category=score.grade.value,
        )
    SideEffect.objects.create(
        patient=patient,
        session=sessions[0],
        kind=SideEffectKind.NECK_PAIN,
        description="Sore neck for a week",
        onset=day0 + timedelta(days=2),
        severity=Severity.MILD,
        reported_by=world.users["patient"],
    )
    PatientInsurance.objects.create(
        patient=patient,
        policy_id=POLICY,
        payer="Example Health Plan",
        member_id="EHP-0042",
        deductible_remaining=Decimal("500"),
        coinsurance_percent=Decimal("20"),
        savings_programme="BOTOX Savings Program",
        savings_remaining=Decimal("1000"),
        terms_as_of=today,
    )
    _initial_approval(world, patient, day0, approved_until=today + timedelta(days=20))
    return Treated(patient, today, day0, sessions)


def _initial_approval(world, patient: Patient, day0: date, *, approved_until: date) -> None:
    """The initial request under ``POLICY`` (G43.719, medication overuse managed), sent 20 days before ``day0`` and
    approved from 10 days before it until ``approved_until``, as billing staff record it."""
    approved_from = day0 - timedelta(days=10)
    PriorAuthorisation.objects.create(
        patient=patient,
        stage="initial",
        policy_id=POLICY,
        diagnosis_code="G43.719",
        requested_on=day0 - timedelta(days=20),
        status=AuthorisationStatus.APPROVED,
        decided_on=approved_from,
        approved_from=approved_from,
        approved_until=approved_until,
        medication_overuse_managed=True,
        recorded_by=world.users["billing"],
    )


@dataclass
class SecondDue:
    """``world.same_clinic_patient`` 88 days after their only session (``day0``): the second session is due, inside
    a 6-month initial approval."""

    patient: Patient
    today: date
    day0: date
    session: InjectionSession


SECOND_DUE_AFTER_DAYS = 88
"""Days since the only session: demo patient 8 (Hartley), "second session due this week"."""


@pytest.fixture
def second_due(world, today) -> SecondDue:
    """Chronic before treatment, then 16, 14 and 12 headache days; one session 88 days ago; three failed
    preventives; insurance under us-commercial-a and its initial approval, in force for six months from 10 days
    before the session."""
    patient = world.same_clinic_patient
    day0 = today - timedelta(days=SECOND_DUE_AFTER_DAYS)
    store(patient, chronic_rows(today=day0 - timedelta(days=1)), today=today)
    for k, headache in enumerate((16, 14, 12)):
        start = day0 + timedelta(days=28 * k)
        recorded = min(28, (today - start).days + 1)
        store(patient, period_rows("P", start, headache=min(headache, recorded), recorded=recorded), today=today)
    _answer_safety(patient)
    _trials(patient, day0)
    prices(world.clinic, day0 - timedelta(days=30))
    session = record_preempt_session(patient, day0, injector=world.users["nurse"], today=today)
    PatientInsurance.objects.create(
        patient=patient,
        policy_id=POLICY,
        payer="Example Health Plan",
        member_id="EHP-0088",
        deductible_remaining=Decimal("0"),
        coinsurance_percent=Decimal("20"),
        terms_as_of=today,
    )
    _initial_approval(world, patient, day0, approved_until=day0 - timedelta(days=10) + timedelta(days=182))
    return SecondDue(patient, today, day0, session)


@pytest.fixture
def api_as(world):
    """``api_as("billing")``: a client sending the bearer token of that role's user."""
    from django.test import Client

    from onaboard.web.accounts.models import ApiToken

    clients = {}

    def make(role: str) -> Client:
        if role not in clients:
            _token, raw = ApiToken.issue(world.users[role], f"{role} tests")
            clients[role] = Client(headers={"Authorization": f"Bearer {raw}"})
        return clients[role]

    return make
