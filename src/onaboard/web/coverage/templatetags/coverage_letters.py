"""``{{ text|letter_words }}``: an engine or page text as a letter to a payer prints it, in words rather than notation.

The engine's reasons and rules keep their notation (``>= 15``, ``20 -> 10``, ``2026-05-15..2026-06-11``): the command
line's JSON contract (docs and /work/shared/spec/cli.md) and the API give them as they are. A letter is read by a
payer's reviewer, so the PDF templates reword them for reading only: "at least 15", "20 to 10", "15 May - 11 Jun
2026" (an en dash), with the engine's coded identifiers in the clinic's words (``coverage_words.class_words``).
"""

from __future__ import annotations

import datetime as dt
import re

from django import template
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from onaboard.training.wording import clinic_words

register = template.Library()

EN_DASH = "\N{EN DASH}"
"""Between the first and last day of a range, as the templates print a period: "15 May", the dash, "11 Jun 2026"."""

_DAY = r"(\d{4})-(\d{2})-(\d{2})"
_RANGE = re.compile(rf"\b{_DAY}\.\.(?:{_DAY}|(ongoing))\b")
_ONE_DAY = re.compile(rf"\b{_DAY}\b")
_SYMBOLS = (
    (re.compile(r">=\s*"), lambda: _("at least") + " "),
    (re.compile(r"<=\s*"), lambda: _("at most") + " "),
    (re.compile(r"\s*->\s*"), lambda: " " + _("to") + " "),
    (re.compile(r"(?<![-=<])>\s*(?=\d)"), lambda: _("more than") + " "),
    (re.compile(r"<\s*(?=\d)"), lambda: _("below") + " "),
)


def _day(year: str, month: str, day: str) -> dt.date | None:
    try:
        return dt.date(int(year), int(month), int(day))
    except ValueError:  # not a calendar day: left as written
        return None


def _range(found: re.Match[str]) -> str:
    start = _day(*found.group(1, 2, 3))
    if found.group(7):
        return f"{date_format(start, 'j M Y')} {EN_DASH} {_('ongoing')}" if start else found.group()
    end = _day(*found.group(4, 5, 6))
    if start is None or end is None:
        return found.group()
    first = date_format(start, "j M" if start.year == end.year else "j M Y")
    return f"{first} {EN_DASH} {date_format(end, 'j M Y')}"


def _one_day(found: re.Match[str]) -> str:
    day = _day(*found.groups())
    return date_format(day, "j M Y") if day else found.group()


def in_letter_words(text: str) -> str:
    """``text`` with ISO days and ranges as dates in words and comparison signs and arrows as words."""
    text = _RANGE.sub(_range, text)
    text = _ONE_DAY.sub(_one_day, text)
    for pattern, words in _SYMBOLS:
        text = pattern.sub(lambda _found, words=words: words(), text)
    return clinic_words(text)


@register.filter
def letter_words(text: object) -> str:
    """An engine reason, rule or evidence line as a letter prints it (``in_letter_words``)."""
    return in_letter_words(str(text))
