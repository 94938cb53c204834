"""What a certificate of training needs: every module but the trainer-level ones, the site trainer and the required
cases."""

from __future__ import annotations

from onaboard.training.certificate import (
    MISSING_CASES,
    MISSING_MODULE,
    MISSING_SITE_TRAINER,
    MISSING_WEEK24_CASES,
    REQUIRED_CASES,
    REQUIRED_WEEK24_CASES,
    certificate_modules,
    certificate_status,
)
from onaboard.training.course import Level, Module, load_course


def _module(module_id: str, title: str, level: Level = Level.NEW) -> Module:
    return Module(module_id, title, level, 1, 80, 5, ("migraine_day",), "Text.")


MODULES = [_module("a", "Module A"), _module("b", "Module B", Level.PRACTISING)]
TEACHING = _module("t", "Teaching", Level.TRAINER)


def test_everything_passed_is_ready():
    """All modules, the site trainer and enough cases make the certificate ready."""
    status = certificate_status(
        modules=MODULES,
        passed_modules=["a", "b"],
        site_trainer_passed=True,
        cases_passed=REQUIRED_CASES,
        week24_cases_passed=1,
    )
    assert status.ready
    assert status.missing == ()


def test_each_missing_part_is_listed():
    """A module not passed, the site trainer and too few cases are each named."""
    status = certificate_status(
        modules=MODULES,
        passed_modules=["a"],
        site_trainer_passed=False,
        cases_passed=REQUIRED_CASES - 1,
        week24_cases_passed=0,
    )
    assert not status.ready
    assert status.missing == (
        MISSING_MODULE.format(title="Module B"),
        MISSING_SITE_TRAINER,
        MISSING_CASES.format(passed=REQUIRED_CASES - 1, required=REQUIRED_CASES),
        MISSING_WEEK24_CASES.format(passed=0, required=REQUIRED_WEEK24_CASES),
    )


def test_cases_that_all_ended_at_the_first_visit_do_not_certify():
    """Three cases passed whose patients were never treated (no week-24 review): the certificate still asks for one
    case carried through the NICE TA260 decision."""
    status = certificate_status(
        modules=MODULES, passed_modules=["a", "b"], site_trainer_passed=True, cases_passed=3, week24_cases_passed=0
    )
    assert status.missing == (MISSING_WEEK24_CASES.format(passed=0, required=REQUIRED_WEEK24_CASES),)


def test_a_trainer_level_module_is_not_asked_of_a_trainee():
    """A trainer-level module (teaching others) is left out of what the certificate needs, passed or not."""
    status = certificate_status(
        modules=[*MODULES, TEACHING],
        passed_modules=["a", "b"],
        site_trainer_passed=True,
        cases_passed=REQUIRED_CASES,
        week24_cases_passed=1,
    )
    assert status.ready
    assert certificate_modules([MODULES[0], TEACHING, MODULES[1]]) == tuple(MODULES)


def test_the_shipped_course_asks_for_every_module_but_teaching_and_supervising():
    """Of the shipped modules, only the trainer-level "Teaching and supervising new injectors" is not required."""
    course = load_course()
    left_out = [module.title for module in course if module not in certificate_modules(course)]
    assert left_out == ["Teaching and supervising new injectors"]
