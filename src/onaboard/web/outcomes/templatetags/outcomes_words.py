"""The continue-or-stop page's words for the engine's values: ``{{ verdict|verdict_label }}`` reads a NICE TA260
verdict (``continue``, ``stop``, ``not_yet_assessable``) as the patient page and the letters do."""

from __future__ import annotations

from django import template

from onaboard.web.patients.selectors import verdict_label as _verdict_label

register = template.Library()


@register.filter
def verdict_label(value: object) -> str:
    """The engine's verdict value (an enum member or its stored text) in the patient page's words."""
    return _verdict_label(str(getattr(value, "value", value)))
