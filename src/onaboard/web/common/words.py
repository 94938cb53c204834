"""Days and refusals worded for a person to read, shared by every page and service that refuses a mistyped day.

One long form of a day ("Friday 1 January 1900", in the reader's language) and one sentence for a day before the
birth date (``Patient.predates_birth``), so the diary, the questionnaires and the side-effect report say it alike.
"""

from __future__ import annotations

from datetime import date

from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

PLAIN_DAY_FORMAT = "l j F Y"
BEFORE_BIRTH_PLAIN = _("%(day)s is before the birth date on the record (%(birth)s): check the year.")


def plain_day(day: date) -> str:
    """``day`` as a person reads it: "Friday 1 January 1900"."""
    return date_format(day, PLAIN_DAY_FORMAT)


def before_birth_plain(day: date, birth: date) -> str:
    """``BEFORE_BIRTH_PLAIN`` for ``day`` and the birth date ``birth``."""
    return str(BEFORE_BIRTH_PLAIN) % {"day": plain_day(day), "birth": plain_day(birth)}
