"""Diary numbers in words (onaboard/web/diary/templatetags/diary_words.py)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.template import Context, Template
from django.utils import translation

from onaboard.web.diary.templatetags.diary_words import hours


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (Decimal("4.50"), "4.5"),
        (Decimal("10.00"), "10"),
        (Decimal("0.25"), "0.25"),
        (Decimal("24"), "24"),
        (Decimal("0.00"), "0"),
        ("7.50", "7.5"),
        (None, ""),
        ("n/a", "n/a"),
    ],
)
def test_hours_are_shown_without_trailing_zeros(value, shown):
    """Hours read as a patient writes them: 4.5, 10, 0.25 (never 4.50 or 1E+1)."""
    assert hours(value) == shown


def test_hours_use_the_languages_decimal_mark():
    """In a language writing a decimal comma, 4.50 hours read 4,5."""
    with translation.override("de"):
        assert hours(Decimal("4.50")) == "4,5"


def test_the_filter_is_loaded_by_its_library_name():
    """Templates reach the filter with {% load diary_words %}."""
    rendered = Template("{% load diary_words %}{{ value|hours }}").render(Context({"value": Decimal("4.50")}))
    assert rendered == "4.5"
