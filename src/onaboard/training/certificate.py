"""What a certificate of training needs: the quiz of every module for new and practising injectors passed, the site
trainer passed, enough graded cases passed. A training rule of the course, not a clinical one.

Trainer-level modules (``level: trainer`` in a module's front matter, such as teaching and supervising new
injectors) are for those who train others: a trainee's certificate does not ask for them. The certificate records
training only; supervised practice and local credentialing stay with the clinic.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from onaboard.training.course import Level, Module

__all__ = [
    "REQUIRED_CASES",
    "REQUIRED_WEEK24_CASES",
    "CertificateStatus",
    "certificate_modules",
    "certificate_status",
]

REQUIRED_CASES = 3
"""Graded cases a trainee must pass (every step agreeing with the engine) before the certificate."""

REQUIRED_WEEK24_CASES = 1
"""Of the cases passed, how many must have been carried to the week-24 review (the NICE TA260 continue-or-stop
decision): a case whose patient is not treated ends at the first visit, and three such cases would otherwise certify a
trainee who never judged a response."""

MISSING_MODULE = "module quiz not passed yet: {title}"
MISSING_SITE_TRAINER = "site trainer not passed yet"
MISSING_CASES = "graded cases passed: {passed} of {required}"
MISSING_WEEK24_CASES = "graded cases passed through the week-24 review: {passed} of {required}"


@dataclass(frozen=True, slots=True)
class CertificateStatus:
    ready: bool
    missing: tuple[str, ...]


def certificate_modules(modules: Iterable[Module]) -> tuple[Module, ...]:
    """The modules whose quiz the certificate asks for, in the order given: every one but the trainer-level
    modules."""
    return tuple(module for module in modules if module.level is not Level.TRAINER)


def certificate_status(
    *,
    modules: Iterable[Module],
    passed_modules: Iterable[str],
    site_trainer_passed: bool,
    cases_passed: int,
    week24_cases_passed: int,
    required_cases: int = REQUIRED_CASES,
) -> CertificateStatus:
    """Ready when every module of ``certificate_modules(modules)`` is in ``passed_modules`` (ids), the site trainer
    is passed, at least ``required_cases`` cases are passed and ``REQUIRED_WEEK24_CASES`` of them
    (``week24_cases_passed``) went through the week-24 review; otherwise what is still missing, one line each."""
    done = set(passed_modules)
    required = certificate_modules(modules)
    missing = [MISSING_MODULE.format(title=module.title) for module in required if module.id not in done]
    if not site_trainer_passed:
        missing.append(MISSING_SITE_TRAINER)
    if cases_passed < required_cases:
        missing.append(MISSING_CASES.format(passed=cases_passed, required=required_cases))
    if week24_cases_passed < REQUIRED_WEEK24_CASES:
        missing.append(MISSING_WEEK24_CASES.format(passed=week24_cases_passed, required=REQUIRED_WEEK24_CASES))
    return CertificateStatus(not missing, tuple(missing))
