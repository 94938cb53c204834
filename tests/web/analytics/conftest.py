"""The demo clinic as the analytics tests' cohort: thirteen patients over every pathway state, seven treated."""

from __future__ import annotations

from datetime import date

import pytest
from django.utils import timezone

from onaboard.web.accounts.models import Clinic, User
from onaboard.web.clinic.demo import demo_clinic_load


@pytest.fixture
def today() -> date:
    """The pages report on the clinic's today, so the demo is built for it."""
    return timezone.localdate()


@pytest.fixture
def demo(db: None, today: date) -> Clinic:
    """The demo clinic built for today (its staff log in as ``dr.demo``, ``nurse.demo``, ...)."""
    return demo_clinic_load(today=today).clinic


@pytest.fixture
def staff(demo: Clinic) -> dict[str, User]:
    """The demo clinic's logins by role."""
    return {user.role: user for user in User.objects.filter(clinic=demo, username__endswith=".demo")}
