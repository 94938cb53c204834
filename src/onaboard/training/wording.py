"""How the training content words what the engine computes: counts with their noun in the right number, and the
engine's identifiers (``cervical_paraspinal``, ``simple_analgesic``) in the clinic's words.

The engine's messages name its enum values, which suit a log or the CLI; a trainee reads the clinic's words
(docs/glossary.md). ``clinic_words`` rewrites those identifiers in a message the training layer quotes, leaving the
engine's wording otherwise as it is, so the quiz and the clinic still give the same reasons.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal
from types import MappingProxyType

from onaboard.clinical import AcuteClass, MigraineRoute, Muscle

__all__ = [
    "ACUTE_CLASS_NAMES",
    "MUSCLE_NAMES",
    "ROUTE_NAMES",
    "clinic_words",
    "counted",
]

MUSCLE_NAMES: Mapping[Muscle, str] = MappingProxyType(
    {
        Muscle.CORRUGATOR: "corrugator",
        Muscle.PROCERUS: "procerus",
        Muscle.FRONTALIS: "frontalis",
        Muscle.TEMPORALIS: "temporalis",
        Muscle.OCCIPITALIS: "occipitalis",
        Muscle.CERVICAL_PARASPINAL: "cervical paraspinal",
        Muscle.TRAPEZIUS: "trapezius",
    }
)
"""The PREEMPT muscles as a clinician names them."""

ACUTE_CLASS_NAMES: Mapping[AcuteClass, str] = MappingProxyType(
    {
        AcuteClass.TRIPTAN: "triptan",
        AcuteClass.ERGOT: "ergot",
        AcuteClass.SIMPLE_ANALGESIC: "simple analgesic",
        AcuteClass.COMBINATION_ANALGESIC: "combination analgesic",
        AcuteClass.OPIOID: "opioid",
        AcuteClass.GEPANT: "gepant",
        AcuteClass.DITAN: "ditan",
        AcuteClass.OTHER: "other acute medication",
    }
)
"""The acute medication classes (ICHD-3 8.2 groups and the newer classes) as a clinician names them."""

ROUTE_NAMES: Mapping[MigraineRoute, str] = MappingProxyType(
    {
        MigraineRoute.FEATURES: "features",
        MigraineRoute.AURA: "aura",
        MigraineRoute.BELIEVED_AND_RELIEVED: "believed and relieved",
    }
)
"""The three routes to a migraine day under ICHD-3 1.3 C, in words."""

_IDENTIFIERS: Mapping[str, str] = MappingProxyType(
    {
        str(value): name
        for names in (MUSCLE_NAMES, ACUTE_CLASS_NAMES, ROUTE_NAMES)
        for value, name in names.items()
        if "_" in str(value)  # a code; a plain word ("other", "aura") is left alone: it is also ordinary English
    }
)
_IDENTIFIER = re.compile(r"\b(" + "|".join(sorted(map(re.escape, _IDENTIFIERS), key=len, reverse=True)) + r")\b")


def clinic_words(text: str) -> str:
    """``text`` with the engine's identifiers of muscles, acute classes and migraine routes in the clinic's words:
    "cervical_paraspinal takes no extra sites" reads "cervical paraspinal takes no extra sites"."""
    return _IDENTIFIER.sub(lambda found: _IDENTIFIERS[found.group()], text)


def counted(count: int | Decimal, singular: str, plural: str | None = None) -> str:
    """``count`` and its noun in the right number: "1 vial", "2 vials", "0 vials" (``plural`` defaults to the
    singular with an "s"). A count that is not exactly 1 (a decimal 1.5, say) takes the plural."""
    return f"{count} {singular if count == 1 else plural or singular + 's'}"
