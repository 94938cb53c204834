"""API shapes for patients, and the error bodies every API operation shares.

Public ids only: a patient is known by its UUID (``id``), never by a database key.
"""

from __future__ import annotations

from datetime import date
from uuid import UUID

from ninja import Field, Schema


class ErrorOut(Schema):
    """A refusal: 401 not signed in, 403 not allowed for this role, 404 not found or not visible, 409 conflict."""

    detail: str


class ProblemOut(Schema):
    """One field problem, in django-ninja's validation shape so every 422 reads the same."""

    loc: list[str | int] = Field(
        ...,
        description='Where: first "path", "query" or "body", last the parameter or field (a list item by its index), '
        'e.g. ["body", "headache_hours"], ["path", "day"], ["query", "vial_units"], ["body", "sites", 3, "units"], '
        '["body", "answers", "q2"].',
    )
    msg: str
    type: str


class ProblemsOut(Schema):
    """422: every problem found, not only the first."""

    detail: list[ProblemOut]


class PatientOut(Schema):
    """Demographics: what every role that may see the patient at all may see."""

    id: UUID = Field(..., alias="external_id")
    record_number: str
    given_name: str
    family_name: str
    birth_date: date
    sex: str
    clinic: str = Field(..., alias="clinic.name")


class PatientPageOut(Schema):
    count: int = Field(..., description="Patients visible to the caller in total (before limit/offset).")
    items: list[PatientOut]
