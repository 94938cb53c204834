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
