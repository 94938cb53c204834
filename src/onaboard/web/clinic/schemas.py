"""API shapes for the worklist and a patient's pathway state."""

from __future__ import annotations

import datetime as dt
from uuid import UUID

from ninja import Field, Schema


class PatientRefOut(Schema):
    id: UUID
    record_number: str
    given_name: str
    family_name: str


class WorklistRowOut(Schema):
    patient: PatientRefOut
    state: str
    summary: str | None = Field(..., description="The engine's one-line reason; null for non-clinical staff.")
    last_session: dt.date | None
    next_due: dt.date | None
    booked_for: dt.date | None


class WorklistGroupOut(Schema):
    state: str
    label: str
    rows: list[WorklistRowOut]


class SideEffectToReviewOut(Schema):
    id: UUID = Field(..., description="The side effect: GET /api/side-effects/{id}, POST .../review to review it.")
    patient: PatientRefOut
    kind: str
    kind_label: str
    urgent: bool = Field(..., description="An urgent kind: the patient was told to seek medical care now.")
    severity: str = Field(..., description="As the patient reported it.")
    onset: dt.date
    reported_at: dt.datetime


class WorklistOut(Schema):
    """The caller's patients grouped by pathway state, most urgent first, and the side effects awaiting review."""

    groups: list[WorklistGroupOut]
    counts: dict[str, int] = Field(..., description="Patients per state matching the search (before the filter).")
    total: int
    side_effects_to_review: list[SideEffectToReviewOut] = Field(
        ...,
        description="Side effects no clinician has reviewed, urgent kinds first, then the latest reported (at most "
        "50); the clinic's, whatever the search and state filter; empty for staff without the clinical view.",
    )
    side_effects_to_review_total: int = Field(..., description="How many side effects wait for review in all.")


class PathwayOut(Schema):
    """Where the patient stands: diary running, eligible, due, overdue, week-24 due, stop suggested, ..."""

    state: str
    label: str
    summary: str
    reasons: list[str]
    first_session: dt.date | None
    last_session: dt.date | None
    next_due: dt.date | None
    booked_for: dt.date | None
