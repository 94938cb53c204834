"""Diary numbers as a patient writes them (``{% load diary_words %}``)."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django import template
from django.utils import formats

register = template.Library()


@register.filter
def hours(value: Decimal | float | str | None) -> str:
    """Hours without trailing zeros, in the language's decimal mark: 4.5, 10, 0.25 (a stored 4.50 was shown as is)."""
    if value is None or value == "":
        return ""
    try:
        number = Decimal(str(value)).normalize()
    except InvalidOperation:
        return str(value)
    return formats.number_format(number)
