"""API shapes for treatment outcomes and questionnaires (HIT-6, MIDAS).

``OutcomesOut`` is ``onaboard.serialize.outcomes_json`` on today (the JSON of ``onaboard outcomes``) plus
``running_period``, the period under way, which is not among ``periods``.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal
from uuid import UUID

from ninja import Field, Schema
from pydantic import StrictInt, StrictStr

from onaboard.web.common.schema_types import InputSchema, IsoDate
from onaboard.web.diary.schemas import PeriodOut


class PeriodChangeOut(PeriodOut):
    """A 28-day period after the first injection, against the baseline (the 28 days before it)."""

    change_headache_days: int
    percent_change_headache_days: float | None = Field(
        ..., description="Negative means fewer headache days than baseline; null when the baseline had none."
    )


class Week24Out(Schema):
    """Response at week 24 (period 6); every field but ``available`` is null until period 6 is complete."""

    available: bool
    headache_days: int | None
    percent_change: float | None
    responder_50: bool | None
    responder_30: bool | None


class NiceTa260Out(Schema):
    """NICE TA260: continue or stop after two cycles (< 30 % fewer headache days), or not yet assessable."""

    verdict: str
    reasons: list[str]
    reverted_to_episodic: bool


class OutcomesOut(Schema):
    patient_id: str
    first_injection: dt.date
    injections: list[dt.date]
    baseline: PeriodOut
    periods: list[PeriodChangeOut] = Field(..., description="The periods that have ended: what the verdicts judge.")
    running_period: PeriodChangeOut | None = Field(
        None,
        description="The period under way today, with the days recorded so far; it judges nothing (its remaining "
        "days could change the verdict). Its complete says whether enough days are recorded so far, not that the "
        "period has ended, and its change counts only the days recorded so far against the whole baseline (1 day "
        "recorded reads as a large fall): read it as a running count, never as a result.",
    )
    week4: PeriodChangeOut | None
    onset_period: int | None = Field(..., description="First complete period with >= 30 % fewer headache days.")
    week24: Week24Out
    nice_ta260: NiceTa260Out | None = Field(
        ...,
        description="NICE TA260's continue-or-stop verdict with its reasons; null for the patient's own token (as on "
        "their portal, a stop is the clinician's to discuss first).",
    )


class QuestionnaireIn(InputSchema):
    """HIT-6: the six answers in item order (never, rarely, sometimes, very often, always). MIDAS: days for q1..q5
    over the last 3 months, and optionally a (headache days) and b (average pain 0-10)."""

    instrument: Literal["hit6", "midas"]
    date: IsoDate = Field(
        ..., description="The day it was filled in; today or earlier. A second one that day replaces it."
    )
    answers: list[StrictStr] | dict[str, StrictInt | None] = Field(
        ..., description="HIT-6: six strings in item order. MIDAS: whole numbers (or null) by item name, not strings."
    )


class QuestionnaireOut(Schema):
    id: UUID
    instrument: str
    date: dt.date
    answers: list[str] | dict[str, int | None]
    total: int
    category: str = Field(..., description="The HIT-6 impact band or the MIDAS grade, as the engine named it.")
    reason: str = Field(..., description="The engine's reason for the band.")
