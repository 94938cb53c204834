"""The patient record (onaboard/web/patients/models.py)."""

from __future__ import annotations

from datetime import date

from onaboard.web.patients.models import Patient


def test_a_day_predates_birth_only_before_a_known_birth_date():
    """The day before the birth date predates it; the birth date itself, a later day, an unknown birth date or no
    day do not."""
    born = Patient(birth_date=date(1990, 5, 17))
    assert born.predates_birth(date(1990, 5, 16))
    assert not born.predates_birth(date(1990, 5, 17))
    assert not born.predates_birth(date(2026, 1, 1))
    assert not born.predates_birth(None)
    assert not Patient(birth_date=None).predates_birth(date(1900, 1, 1))
