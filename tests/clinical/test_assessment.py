"""The eligibility assessment: the periods it judges by default."""

from __future__ import annotations

import ast
import inspect

from onaboard.clinical import assessment
from onaboard.clinical.verdicts import CONDITION_PERIODS


def test_the_default_periods_are_the_verdicts_reading_of_more_than_3_months_not_a_second_number() -> None:
    """``assess`` judges by default the periods ICHD-3's "> 3 months" is read as in the verdicts
    (``CONDITION_PERIODS``), named, not a second literal 3 that could drift from it."""
    module = ast.parse(inspect.getsource(assessment))
    (value,) = (
        node.value
        for node in module.body
        if isinstance(node, ast.Assign) and [ast.unparse(target) for target in node.targets] == ["DEFAULT_PERIODS"]
    )
    assert ast.unparse(value) == "CONDITION_PERIODS"
    assert assessment.DEFAULT_PERIODS == CONDITION_PERIODS == 3


def test_a_patient_first_treated_on_their_18th_birthday_is_an_adult_for_the_label() -> None:
    """The diary is judged up to the day before the first session, the age on the day of treatment (``age_on``):
    a patient first injected on their 18th birthday meets the label's "adult patients" (judged the day before they
    read as 17, while the session's own safety screen said 18); without ``age_on`` the age is judged on ``as_of``."""
    from datetime import date

    from onaboard.clinical import LabelCriteria, assess, eligibility_day, parse_diary
    from tests.builders import diary_csv, periods_back

    birth, first = date(2008, 3, 2), date(2026, 3, 2)
    as_of = eligibility_day(first_session=first, today=date(2026, 6, 1), birth_date=birth)
    rows = periods_back("P1", as_of, *[{"migraine": 10, "headache_4h": 6}] * 3)
    (diary,) = parse_diary(diary_csv(rows).encode(), today=date(2026, 6, 1))
    treated = assess(diary, as_of=as_of, birth_date=birth, age_on=first)
    assert (treated.age_years, treated.label_criteria.verdict) == (18, LabelCriteria.MET)
    assert "BOTOX label 8.4: adult (age 18 on 2026-03-02, >= 18)" in treated.label_criteria.reasons
    day_before = assess(diary, as_of=as_of, birth_date=birth)
    assert (day_before.age_years, day_before.label_criteria.verdict) == (17, LabelCriteria.NOT_MET)
