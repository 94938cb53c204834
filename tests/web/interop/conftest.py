"""Shared fixtures of the interop tests: a bearer-token client per role and a patient with a little of everything."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from onaboard.web.accounts.models import ApiToken
from onaboard.web.injections.models import InjectionSession, SessionStatus
from onaboard.web.outcomes.services import questionnaire_response_record
from tests.web.factories import DiaryEntryFactory


@pytest.fixture
def fhir_as(world) -> Callable[[str], Client]:
    """``fhir_as("nurse")``: a client sending the nurse's bearer token."""
    clients: dict[str, Client] = {}

    def make(role: str) -> Client:
        if role not in clients:
            _token, raw = ApiToken.issue(world.users[role], f"{role} fhir tests")
            clients[role] = Client(headers={"Authorization": f"Bearer {raw}"})
        return clients[role]

    return make


@pytest.fixture
def charted(world):
    """The own patient with three diary days, a HIT-6 and a booked session two weeks ahead."""
    patient = world.own_patient
    today = timezone.localdate()
    for ago, hours in ((3, "0"), (2, "6"), (1, "2.5")):
        DiaryEntryFactory(
            patient=patient,
            date=today - dt.timedelta(days=ago),
            headache_hours=Decimal(hours),
            intensity="" if hours == "0" else "severe",
            nausea=hours != "0",
            acute_medication="" if hours == "0" else "triptan;simple_analgesic",
        )
    questionnaire_response_record(
        user=world.users["patient"],
        patient=patient,
        instrument="hit6",
        answers=["always", "very_often", "sometimes", "rarely", "never", "always"],
        date=today - dt.timedelta(days=1),
        today=today,
    )
    InjectionSession.objects.create(patient=patient, date=today + dt.timedelta(days=14), status=SessionStatus.BOOKED)
    return patient
