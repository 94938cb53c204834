"""What a certificate needs: every module, the site trainer and the required cases."""

from __future__ import annotations

from onaboard.training.certificate import (
    MISSING_CASES,
    MISSING_MODULE,
    MISSING_SITE_TRAINER,
    REQUIRED_CASES,
    certificate_status,
)

MODULES = [("a", "Module A"), ("b", "Module B")]


def test_everything_passed_is_ready():
    """All modules, the site trainer and enough cases make the certificate ready."""
    status = certificate_status(
        modules=MODULES, passed_modules=["a", "b"], site_trainer_passed=True, cases_passed=REQUIRED_CASES
    )
    assert status.ready
    assert status.missing == ()


def test_each_missing_part_is_listed():
    """A module not passed, the site trainer and too few cases are each named."""
    status = certificate_status(
        modules=MODULES, passed_modules=["a"], site_trainer_passed=False, cases_passed=REQUIRED_CASES - 1
    )
    assert not status.ready
    assert status.missing == (
        MISSING_MODULE.format(title="Module B"),
        MISSING_SITE_TRAINER,
        MISSING_CASES.format(passed=REQUIRED_CASES - 1, required=REQUIRED_CASES),
    )
