"""API shapes for diary days and the eligibility assessment.

``DiaryDayIn`` carries the diary contract's fields as JSON values; the contract's rules (hours 0-24, intensity
needed on a headache day and blank on a headache-free one, features only on headache days, known medicine
classes, no future date) are the engine's and answered with 422 listing every problem. The schema itself only
bounds the size of ``headache_hours`` (``HOURS_MAX_DIGITS``, ``HOURS_MAX_DECIMAL_PLACES``): a number too long to
write out is refused before the engine reads it. The OpenAPI document also says the engine's range of hours, its
intensities and classes (lower case; the engine reads them in any case) and the length of notes, which the engine
judges with its own words.
``AssessmentOut`` is ``onaboard.serialize.assessment_json``: the same JSON as ``onaboard assess``.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from ninja import Field, Schema
from pydantic import StrictBool

from onaboard.clinical import AcuteClass, Intensity
from onaboard.clinical.diary import MAX_HEADACHE_HOURS, NOTES_MAX_CHARACTERS
from onaboard.web.common.schema_types import InputSchema

INTENSITIES = ", ".join(i.value for i in Intensity)
ACUTE_CLASSES = ", ".join(c.value for c in AcuteClass)

HOURS_MAX_DECIMAL_PLACES = 20
"""The most decimals of ``headache_hours`` taken (trailing zeros aside). The diary contract allows any number and a
day is stored to the hundredth, but the engine classifies the day as given (3.999 h is not a 4-hour day), and 20
keep every float a client computes from a whole number of seconds (1 s is 0.0002777777777777778 h). Without a bound,
``1e-100000000`` or ``1e100000000`` written out as the contract's text was a hundred million digits (a 100 MB answer
after seconds)."""
HOURS_MAX_DIGITS = HOURS_MAX_DECIMAL_PLACES + 2
"""Two digits before the point: anything above 24 is still answered by the engine's rule, with its message."""
MAX_HOURS = float(MAX_HEADACHE_HOURS)
HOURS_NUMBER_SCHEMA = {"type": "number", "minimum": 0, "maximum": MAX_HOURS}
HOURS_TEXT_SCHEMA = {
    "type": "string",
    "pattern": rf"^[0-9]{{1,{HOURS_MAX_DIGITS - HOURS_MAX_DECIMAL_PLACES}}}(\.[0-9]{{1,{HOURS_MAX_DECIMAL_PLACES}}})?$",
}
"""What the OpenAPI document says of ``headache_hours``: the engine's range (``MAX_HEADACHE_HOURS``) for a number,
digits for text. Only documented: the schema bounds the digits, the engine judges the range with its own message."""


VERSION_MAX_LENGTH = 64
"""The longest ``version`` taken: a saved day's is an ISO timestamp (32 characters)."""


class DiaryDayIn(InputSchema):
    """One calendar day of the diary; the date is in the address."""

    headache_hours: Decimal = Field(
        ...,
        max_digits=HOURS_MAX_DIGITS,
        decimal_places=HOURS_MAX_DECIMAL_PLACES,
        description=f"Hours with headache that day, 0 to {MAX_HOURS:g}, with at most {HOURS_MAX_DECIMAL_PLACES} "
        "decimals; a number, or one written as text.",
        json_schema_extra={"anyOf": [HOURS_NUMBER_SCHEMA, HOURS_TEXT_SCHEMA]},
    )
    intensity: str = Field(
        "",
        description=f"Worst pain: {INTENSITIES}; blank on a headache-free day.",
        json_schema_extra={"enum": ["", *(i.value for i in Intensity)]},
    )
    unilateral: StrictBool = False
    pulsating: StrictBool = False
    worse_with_activity: StrictBool = False
    nausea: StrictBool = False
    vomiting: StrictBool = False
    photophobia: StrictBool = False
    phonophobia: StrictBool = False
    aura: StrictBool = False
    acute_medication: list[str] = Field(
        default_factory=list,
        description=f"Classes taken: {ACUTE_CLASSES}.",
        json_schema_extra={"items": {"type": "string", "enum": [c.value for c in AcuteClass]}},
    )
    acute_relief: StrictBool = False
    believed_migraine: StrictBool = False
    notes: str = Field("", json_schema_extra={"maxLength": NOTES_MAX_CHARACTERS})
    version: str | None = Field(
        None,
        max_length=VERSION_MAX_LENGTH,
        description="The day's version as last read (a diary day's `version`; \"\" for a day read as not "
        "recorded): the save is refused with 409 when the day was saved since, by someone else or from another page. "
        "Null or left out: create or replace without that check.",
    )


class DayCountsOut(Schema):
    """What the day counts toward, as the engine classified it (``onaboard.clinical.classify_day``)."""

    headache: bool
    headache_4h: bool = Field(..., description="At least 4 hours of headache (BOTOX label; PREEMPT).")
    migraine: bool = Field(..., description="A migraine day under ICHD-3 1.3 C.")
    migraine_routes: list[str] = Field(..., description="Which 1.3 C routes it met: features, aura, ...")
    attack: bool = Field(..., description="Counts as a migraine attack for ICHD-3 1.3 B.")


class DiaryDayOut(Schema):
    """A recorded day; the patient and the date identify it."""

    date: dt.date
    headache_hours: float
    intensity: str | None
    unilateral: bool
    pulsating: bool
    worse_with_activity: bool
    nausea: bool
    vomiting: bool
    photophobia: bool
    phonophobia: bool
    aura: bool
    acute_medication: list[str]
    acute_relief: bool
    believed_migraine: bool
    notes: str
    counts_as: DayCountsOut
    version: str = Field(
        ..., description="When the day was last saved; give it back as `version` to a save of this day (PUT)."
    )


class PeriodOut(Schema):
    """Counts for one 28-day period (``onaboard.serialize.period_json``)."""

    index: int
    start: dt.date
    end: dt.date
    days_recorded: int
    complete: bool
    missing: bool
    headache_days: int
    headache_days_4h: int
    migraine_days: int
    acute_medication_days: dict[str, int] = Field(..., description="Days per acute class, then 'any'.")


class VerdictOut(Schema):
    verdict: str
    reasons: list[str] = Field(..., description="Why, in the engine's words, with its sources.")


class MedicationOveruseOut(VerdictOut):
    classes: list[str]


class AssessmentOut(Schema):
    """Eligibility on ``as_of``: chronic migraine (ICHD-3 1.3), medication overuse (8.2), the label criteria."""

    patient_id: str
    as_of: dt.date
    age_years: int | None
    periods: list[PeriodOut]
    migraine_attacks: int
    chronic_migraine: VerdictOut
    medication_overuse: MedicationOveruseOut
    label_criteria: VerdictOut
