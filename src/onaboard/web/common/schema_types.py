"""The base of the API's input schemas, and field types they share.

``InputSchema`` is the base of every request body (and of every object inside one): a key the schema does not have
is refused with 422 at that key (pydantic's ``extra_forbidden``) instead of being ignored, so a misspelt key cannot
silently turn a check off (``verison`` for ``version`` moved a booking with no version check). Query parameters a
query schema does not have are still ignored: django-ninja reads only the parameters it knows from the query string.

``IsoDate`` is the type of every date an API client sends, in the address, the query or the body: ``YYYY-MM-DD``
and nothing else. pydantic alone also read a number (or a text of digits) as a Unix timestamp, so
``/diary/1764288000`` wrote 2025-11-28 and ``?end=0`` meant 1970-01-01, and a datetime at midnight as its day.
``AwareTimestamp`` is the type of a version timestamp sent back (a side effect's ``modified``): an ISO 8601 date and
time with its offset; one without (or a date, or a number) is 422 at the field instead of a false 409 against the
stored time. Yes/no fields are ``StrictBool`` (pydantic's): a JSON ``true`` or ``false``, never 0, 1 or "yes".

``FreeText`` is the type of every free-text field an API client sends (a side effect's description, a session's
lot, complications and override reason, the worklist search): text without the NUL character, which PostgreSQL's
text cannot hold (saving or searching with one was a server error there). A NUL is refused with 422 at the field,
worded as the diary's notes are (``onaboard.clinical.diary.NUL_IN_NOTES``: "notes must not contain the NUL
character").
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated

from django.utils.translation import gettext, gettext_noop
from ninja import Schema
from pydantic import AfterValidator, AwareDatetime, BeforeValidator, ConfigDict, ValidationInfo
from pydantic_core import PydanticCustomError

NUL = "\x00"
NUL_IN_TEXT = gettext_noop("{field} must not contain the NUL character")
"""Said at the field that holds a NUL; ``{field}`` is the field's name, as in the diary's ``NUL_IN_NOTES``."""
NUL_ERROR_TYPE = "nul_character"


def refuse_nul(value: str, info: ValidationInfo) -> str:
    """``value`` unchanged, or a validation error at its field when it holds the NUL character."""
    if NUL in value:
        field = info.field_name or "text"
        raise PydanticCustomError(NUL_ERROR_TYPE, gettext(NUL_IN_TEXT).format(field=field))
    return value


FreeText = Annotated[str, AfterValidator(refuse_nul)]
"""Free text from an API client: any characters but NUL (422 at the field for one)."""

ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
ISO_DATETIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}.*", re.DOTALL)
NOT_AN_ISO_DATE = gettext_noop("a date is written YYYY-MM-DD, e.g. 2026-03-01")
NOT_AN_ISO_DATETIME = gettext_noop(
    "a date and time is written as ISO 8601 with its time zone, e.g. 2026-03-01T09:30:00+00:00, as the API sent it"
)
ISO_DATE_ERROR_TYPE = "iso_date"
ISO_DATETIME_ERROR_TYPE = "iso_datetime"


def iso_date_text(value: object) -> object:
    """``value`` unchanged when it is written ``YYYY-MM-DD`` (pydantic then reads it and checks the calendar), or a
    validation error: a number, a datetime, a week date or a date without dashes is no date here."""
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    if not isinstance(value, str) or ISO_DATE.fullmatch(value) is None:
        raise PydanticCustomError(ISO_DATE_ERROR_TYPE, gettext(NOT_AN_ISO_DATE))
    return value


def iso_datetime_text(value: object) -> object:
    """``value`` unchanged when it is written as an ISO 8601 date and time (pydantic then reads it; ``AwareDatetime``
    asks for the offset), or a validation error: a number, a date alone or other text is no timestamp here."""
    if isinstance(value, dt.datetime):
        return value
    if not isinstance(value, str) or ISO_DATETIME.fullmatch(value) is None:
        raise PydanticCustomError(ISO_DATETIME_ERROR_TYPE, gettext(NOT_AN_ISO_DATETIME))
    return value


IsoDate = Annotated[dt.date, BeforeValidator(iso_date_text)]
"""A date from an API client, written ``YYYY-MM-DD`` only (422 at the parameter or field otherwise)."""
AwareTimestamp = Annotated[AwareDatetime, BeforeValidator(iso_datetime_text)]
"""A date and time from an API client, ISO 8601 with its offset only (422 at the field otherwise)."""


class InputSchema(Schema):
    """A request body, or an object inside one: a key it does not have is 422 at that key, not ignored."""

    model_config = ConfigDict(extra="forbid")
