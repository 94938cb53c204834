"""A clinician's reason typed as one long unbroken word (an address pasted in) on the pages a phone shows it on."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from onaboard.web.outcomes.services import treatment_decision_record
from tests.e2e.browsing import Browsing, assert_fits_phone
from tests.web.conftest import World
from tests.web.injections.conftest import record

pytestmark = [pytest.mark.browser, pytest.mark.slow]

REASON = "Per https://www.nice.org.uk/guidance/ta260/chapter/1-Recommendations-and-further-reading-for-clinicians"


def test_a_decision_reason_holding_an_address_fits_a_phone(browsing: Browsing, world: World) -> None:
    """A stop whose reason holds a long address widened the patient page and the decision page past 390 px; the
    reason now breaks inside the address."""
    today = timezone.localdate()
    patient = world.same_clinic_patient
    record(user=world.users["nurse"], patient=patient, date=today - dt.timedelta(days=30), today=today)
    treatment_decision_record(
        user=world.users["clinician"], patient=patient, decision="stop", reason=REASON, decided_on=today, today=today
    )
    page = browsing.open("phone")
    browsing.sign_in(page, "clinician")
    for name in ("patients:detail", "outcomes:treatment_decisions"):
        page.goto(reverse(name, args=[patient.external_id]))
        assert_fits_phone(page)
    browsing.shot(page, "long-reason")
