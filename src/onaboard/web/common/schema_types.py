"""The base of the API's input schemas, and field types they share.

``InputSchema`` is the base of every request body (and of every object inside one): a key the schema does not have
is refused with 422 at that key (pydantic's ``extra_forbidden``) instead of being ignored, so a misspelt key cannot
silently turn a check off (``verison`` for ``version`` moved a booking with no version check). Query parameters a
query schema does not have are still ignored: django-ninja reads only the parameters it knows from the query string.

``FreeText`` is the type of every free-text field an API client sends (a side effect's description, a session's
lot, complications and override reason, the worklist search): text without the NUL character, which PostgreSQL's
text cannot hold (saving or searching with one was a server error there). A NUL is refused with 422 at the field,
worded as the diary's notes are (``onaboard.clinical.diary.NUL_IN_NOTES``: "notes must not contain the NUL
character").
"""

from __future__ import annotations

from typing import Annotated

from django.utils.translation import gettext, gettext_noop
from ninja import Schema
from pydantic import AfterValidator, ConfigDict, ValidationInfo
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


class InputSchema(Schema):
    """A request body, or an object inside one: a key it does not have is 422 at that key, not ignored."""

    model_config = ConfigDict(extra="forbid")
