"""A treated patient for the patient-page tests: diary, sessions, questionnaires, safety answers and history."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from django.utils import timezone

from onaboard.clinical import hit6_score
from onaboard.web.clinic.demo import record_preempt_session
from onaboard.web.injections.models import InjectionSession, Severity, SideEffect, SideEffectKind
from onaboard.web.outcomes.models import Instrument, QuestionnaireResponse
from onaboard.web.patients.models import (
    SAFETY_FLAGS,
    OtherToxinTreatment,
    Patient,
    PreventiveClass,
    PreventiveTrial,
    StopReason,
)
from tests.builders import period_rows
from tests.web.clinic.diaries import chronic_rows, store


@dataclass
class Treated:
    """``world.same_clinic_patient`` after two cycles, seen on ``today``."""

    patient: Patient
    today: date
    day0: date
    sessions: list[InjectionSession]
    trial: PreventiveTrial


@pytest.fixture
def today() -> date:
    """The pages judge on the clinic's today, so diaries for them end on it."""
    return timezone.localdate()


@pytest.fixture
def treated(world, today) -> Treated:
    """Eligible before treatment (3 chronic periods), then 16, 12 and 12 headache days after the first injection;
    sessions on day 0 and day 84 (today is day 100); a HIT-6 before and today; infection at the injection sites."""
    patient = world.same_clinic_patient
    day0 = today - timedelta(days=100)
    store(patient, chronic_rows(today=day0 - timedelta(days=1)), today=today)
    for k, headache in enumerate((16, 12, 12)):
        store(patient, period_rows("P", day0 + timedelta(days=28 * k), headache=headache), today=today)
    sessions = [
        record_preempt_session(patient, day, injector=world.users["nurse"], today=today)
        for day in (day0, day0 + timedelta(days=84))
    ]
    for day, answers in ((day0 - timedelta(days=3), ["always"] * 6), (today, ["sometimes"] * 6)):
        score = hit6_score(answers)
        QuestionnaireResponse.objects.create(
            patient=patient,
            instrument=Instrument.HIT6,
            date=day,
            answers=answers,
            total=score.total,
            category=score.impact.value,
        )
    for flag in SAFETY_FLAGS:
        setattr(patient, flag, False)
    patient.injection_site_infection = True
    patient.other_toxin_asked = True
    patient.save()
    SideEffect.objects.create(
        patient=patient,
        session=sessions[0],
        kind=SideEffectKind.NECK_PAIN,
        description="Sore neck for a week",
        onset=day0 + timedelta(days=2),
        severity=Severity.MILD,
        reported_by=world.users["patient"],
    )
    OtherToxinTreatment.objects.create(
        patient=patient, date=today - timedelta(days=20), product="Dysport", units=300, indication="cervical dystonia"
    )
    trial = PreventiveTrial.objects.create(
        patient=patient,
        drug="topiramate",
        drug_class=PreventiveClass.ANTICONVULSANT,
        dose="50 mg twice daily",
        start=day0 - timedelta(days=400),
        stop=day0 - timedelta(days=300),
        stop_reason=StopReason.NOT_TOLERATED,
    )
    return Treated(patient, today, day0, sessions, trial)
