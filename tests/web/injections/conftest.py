"""Helpers for the injections tests: the 31 fixed sites as entered, and a recorded session in one call."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from onaboard.clinical import FIXED_SITES
from onaboard.web.coverage.models import PatientInsurance, PriorAuthorisation
from onaboard.web.injections import services
from onaboard.web.injections.models import InjectionSession, SessionStatus
from onaboard.web.injections.selectors import SiteEntry
from onaboard.web.patients.models import SAFETY_FLAGS, Patient

TODAY = dt.date(2026, 6, 1)
"""The services' "today" in these tests (views use the real date)."""
CHECKLIST_DAY = dt.date(2026, 3, 2)
"""The day the ``patient`` fixture's checklist was answered: the session day most tests screen, so its answers about
the day of injection count on it."""


def fixed_entries(units: int = 5, **changed: int) -> list[SiteEntry]:
    """The 31 fixed PREEMPT sites at ``units`` each; ``temporalis_left_1=10`` changes one site's units."""
    entries = []
    for muscle, sides in FIXED_SITES.items():
        seen: dict[str, int] = {}
        for side in sides:
            seen[side] = seen.get(side, 0) + 1
            key = f"{muscle}_{side}_{seen[side]}"
            entries.append(SiteEntry(muscle.value, side.value, changed.get(key, units)))
    return entries


def record(*, user: Any, patient: Patient, date: dt.date, **overrides: Any) -> InjectionSession:
    """Record a standard 155 U session from one 200 U vial, unless ``overrides`` say otherwise."""
    arguments: dict[str, Any] = {
        "user": user,
        "patient": patient,
        "date": date,
        "sites": fixed_entries(),
        "vial_units": 200,
        "lot": "C1234AB",
        "expiry": date + dt.timedelta(days=365),
        "override_reason": "",
        "today": TODAY,
    }
    arguments.update(overrides)
    return services.injection_session_record(**arguments)


@pytest.fixture
def treated(world) -> InjectionSession:
    """A session recorded for the patient with a portal account (``world.own_patient``) 30 days before the clinic's
    today: a side effect follows a session (``services.side_effect_session_problems``)."""
    day = timezone.localdate() - dt.timedelta(days=30)
    return InjectionSession.objects.create(patient=world.own_patient, date=day, status=SessionStatus.RECORDED)


@pytest.fixture
def nurse(world):
    return world.users["nurse"]


@pytest.fixture
def patient(world):
    """The patient with a portal account (world.own_patient), with every safety question answered no on
    ``CHECKLIST_DAY``."""
    own = world.own_patient
    for flag in SAFETY_FLAGS:
        setattr(own, flag, False)
    own.other_toxin_asked = True
    own.safety_answered_on = CHECKLIST_DAY
    own.save()
    return own


def insure(patient: Patient, policy_id: str = "us-commercial-a") -> PatientInsurance:
    """The patient's insurance under the shipped policy ``policy_id`` (a commercial payer's by default)."""
    return PatientInsurance.objects.create(
        patient=patient, policy_id=policy_id, payer="Example Health Plan", terms_as_of=TODAY
    )


def authorisation(
    patient: Patient,
    *,
    status: str,
    requested_on: dt.date,
    decided_on: dt.date | None = None,
    approved_from: dt.date | None = None,
    approved_until: dt.date | None = None,
    stage: str = "initial",
    policy_id: str = "us-commercial-a",
) -> PriorAuthorisation:
    """One prior-authorisation request and the payer's answer, as billing staff record it."""
    return PriorAuthorisation.objects.create(
        patient=patient,
        stage=stage,
        policy_id=policy_id,
        diagnosis_code="G43.719",
        requested_on=requested_on,
        status=status,
        decided_on=decided_on,
        approved_from=approved_from,
        approved_until=approved_until,
    )
