"""The template context every page gets (onaboard/web/common/context.py)."""

from __future__ import annotations

from datetime import timedelta
from types import MappingProxyType

import pytest
from django.urls import reverse
from django.utils import timezone

from onaboard.clinical.assessment import DEFAULT_PERIODS
from onaboard.clinical.outcomes import RESPONDER_30_PERCENT, RESPONDER_50_PERCENT, WEEK24_PERIOD
from onaboard.clinical.periods import MIN_RECORDED_DAYS, PERIOD_DAYS
from onaboard.web.common import context

pytestmark = pytest.mark.django_db


def test_the_rule_numbers_are_the_engines():
    """Every number the pages state in words is the engine's constant (week 24 is period 6's last week)."""
    assert dict(context.RULE_NUMBERS) == {
        "period_days": PERIOD_DAYS,
        "min_recorded_days": MIN_RECORDED_DAYS,
        "baseline_periods": DEFAULT_PERIODS,
        "week24_period": WEEK24_PERIOD,
        "week24_week": 24,
        "responder_50": RESPONDER_50_PERCENT,
        "responder_30": RESPONDER_30_PERCENT,
    }


@pytest.fixture
def odd_rules(monkeypatch):
    """Numbers no page would show by accident, so a page that prints them read them from ``rules``."""
    odd = {"period_days": 91, "min_recorded_days": 92, "baseline_periods": 93, "week24_period": 94}
    odd |= {"week24_week": 95, "responder_50": 96, "responder_30": 97}
    monkeypatch.setattr(context, "RULE_NUMBERS", MappingProxyType(odd))


def test_the_diary_history_states_the_periods_rules_from_the_engine(client, world, odd_rules):
    """The patient's history says how many days a period has and how many must be recorded from the engine's
    constants, not from numbers typed into the template."""
    client.force_login(world.users["patient"])
    html = client.get(reverse("diary:history")).content.decode()
    assert "0 of 91 days recorded" in html
    assert "Fewer than 92 of these 91 days are recorded" in html
    assert "Headache days in each 91-day period up to today." in html


def test_the_patient_page_states_the_response_rules_from_the_engine(client, world, odd_rules):
    """The clinician's page names week 24, its period and the responder thresholds from the engine's constants."""
    from onaboard.web.clinic.demo import record_preempt_session
    from tests.builders import period_rows
    from tests.web.clinic.diaries import store

    patient = world.same_clinic_patient
    today = timezone.localdate()
    day0 = today - timedelta(days=175)
    rows = [row for k in range(-3, 6) for row in period_rows("P", day0 + timedelta(days=28 * k), headache=18)]
    store(patient, rows, today=today)
    for day in (day0, day0 + timedelta(days=84)):
        record_preempt_session(patient, day, injector=world.users["nurse"], today=today)
    client.force_login(world.users["clinician"])
    page = client.get(reverse("patients:detail", args=[patient.external_id])).content.decode()
    assert "over the 93 periods of 91 days before it" in page
    assert "Week 95 (period 94)" in page
    assert "96 % responder" in page
    assert "97 % responder" in page
    assert "28 / 91" in page
