"""What an injector certificate needs: every module's quiz passed, the site trainer passed, enough graded cases
passed. A training rule of the course, not a clinical one."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["REQUIRED_CASES", "CertificateStatus", "certificate_status"]

REQUIRED_CASES = 3
"""Graded cases a trainee must pass (every step agreeing with the engine) before the certificate."""

MISSING_MODULE = "module quiz not passed yet: {title}"
MISSING_SITE_TRAINER = "site trainer not passed yet"
MISSING_CASES = "graded cases passed: {passed} of {required}"


@dataclass(frozen=True, slots=True)
class CertificateStatus:
    ready: bool
    missing: tuple[str, ...]


def certificate_status(
    *,
    modules: Iterable[tuple[str, str]],
    passed_modules: Iterable[str],
    site_trainer_passed: bool,
    cases_passed: int,
    required_cases: int = REQUIRED_CASES,
) -> CertificateStatus:
    """Ready when every module ``(id, title)`` is in ``passed_modules``, the site trainer is passed and at least
    ``required_cases`` cases are passed; otherwise what is still missing, one line each."""
    done = set(passed_modules)
    missing = [MISSING_MODULE.format(title=title) for module_id, title in modules if module_id not in done]
    if not site_trainer_passed:
        missing.append(MISSING_SITE_TRAINER)
    if cases_passed < required_cases:
        missing.append(MISSING_CASES.format(passed=cases_passed, required=required_cases))
    return CertificateStatus(not missing, tuple(missing))
