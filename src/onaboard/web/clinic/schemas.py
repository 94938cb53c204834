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


class WorklistOut(Schema):
    """The caller's patients grouped by pathway state, most urgent first."""

    groups: list[WorklistGroupOut]
    counts: dict[str, int] = Field(..., description="Patients per state matching the search (before the filter).")
    total: int


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
