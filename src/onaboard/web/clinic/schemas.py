"""API shapes for the worklist and a patient's pathway state."""

from __future__ import annotations

import datetime as dt
from uuid import UUID

from ninja import Field, Schema

from onaboard.clinical import DUE_WINDOW_DAYS, RETREATMENT_INTERVAL_DAYS


class PatientRefOut(Schema):
    id: UUID
    record_number: str
    given_name: str
    family_name: str


class WorklistApprovalOut(Schema):
    """Where the patient's prior authorisation stands today, beside the clinical state (the coverage page's reading,
    ``clinic.selectors.approval_line``)."""

    status: str = Field(
        ...,
        description="stopped when a clinician has stopped treatment and no session is booked (none is ahead to "
        "approve), unless a request awaits a payer that asks for approval; else not_needed when the patient's policy "
        "is no payer's (the label, a guideline such as NICE TA260, a consensus statement) or asks none at the "
        "clinic's site of service; else the first that holds of pending (a request awaits the payer), denied (the "
        "latest request), renewal_due, in_force, upcoming (approved, not in force yet), ended, required (the policy "
        "asks, no request was made and a session is ahead: eligible, booked or on treatment) and none.",
    )
    label: str
    date: dt.date | None = Field(
        ...,
        description="The status's day: the request's (pending), the answer's (denied), the day the renewal falls due "
        "(renewal_due), the approval's last day (in_force: null when no end was given; ended) or first day "
        "(upcoming); null for not_needed, stopped, required and none.",
    )
    approved_until: dt.date | None = Field(
        ...,
        description="The last day of the approval in force (or of the approval continuing it), or of the upcoming "
        "one; null when none or no end date was given.",
    )
    booking_uncovered: dt.date | None = Field(
        None,
        description="The day of the session booked ahead when the patient's policy asks for prior authorisation and "
        "no approval covers that day (an approval ending before it, say), whatever the status; null otherwise.",
    )
    needs_attention: bool = Field(
        ...,
        description="required, pending, renewal_due, denied or ended, or a booking no approval covers "
        "(booking_uncovered): billing's to act on.",
    )


class WorklistRowOut(Schema):
    patient: PatientRefOut
    state: str = Field(..., description="The pathway state (PathwayOut.state).")
    summary: str | None = Field(..., description="The engine's one-line reason; null for non-clinical staff.")
    last_session: dt.date | None
    next_due: dt.date | None
    booked_for: dt.date | None
    approval: WorklistApprovalOut
    missed_booking: dt.date | None = Field(
        None,
        description="The day of a booking still open whose day has passed, when nothing is booked ahead (booked_for "
        "is null): missed, or given and not yet recorded. It is the patient's one open booking, so no other day can "
        "be booked until it is recorded, moved or cancelled; the summary says so. Null otherwise.",
    )
    schedule_flag: str | None = Field(
        None,
        description=f"A scheduling problem the state does not name, said in the summary too: booked_before_due "
        f"(booked less than {RETREATMENT_INTERVAL_DAYS} days after the last session), booked_beyond_window (booked "
        f"more than {DUE_WINDOW_DAYS} days after the due date) or overdue (week24_due, and the next session overdue "
        "as well); null for none.",
    )


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
    counts: dict[str, int] = Field(
        ..., description="Patients per state matching the search and the approval filter (before the state filter)."
    )
    approval_counts: dict[str, int] = Field(
        ...,
        description="Patients per approval status matching the search and the state filter (before the approval "
        "filter).",
    )
    needs_attention: int = Field(
        ...,
        description="Patients matching the search and the state filter whose approval needs attention "
        "(approval.needs_attention: a status billing acts on, or a booking no approval covers), before the approval "
        "filter; the page's 'needs attention' chip.",
    )
    total: int = Field(..., description="Patients matching the search (before either filter).")
    side_effects_to_review: list[SideEffectToReviewOut] = Field(
        ...,
        description="Side effects no clinician has reviewed, urgent kinds first, then the latest reported (at most "
        "50); the clinic's, whatever the search and state filter; empty for staff without the clinical view.",
    )
    side_effects_to_review_total: int = Field(..., description="How many side effects wait for review in all.")


class PathwayOut(Schema):
    """Where the patient stands: diary running, eligible, due, overdue, week-24 due, stop suggested, treatment
    stopped, ..."""

    state: str = Field(
        ...,
        description="In the worklist's order: stop_suggested, overdue, week24_due, due, approval_denied, eligible, "
        "awaiting_approval, booked, on_treatment, diary_running, not_eligible, treatment_stopped. treatment_stopped: "
        "the latest decision a clinician recorded is to stop (whatever NICE TA260 says); a clinician's decision to "
        "continue answers stop_suggested until a later 28-day period completes, and is named in reasons. The "
        "engine's own NICE TA260 verdict (GET .../outcomes) is never changed by a decision.",
    )
    label: str
    summary: str
    reasons: list[str]
    first_session: dt.date | None
    last_session: dt.date | None
    next_due: dt.date | None
    booked_for: dt.date | None
    missed_booking: dt.date | None = Field(None, description="As the worklist row's (WorklistRowOut.missed_booking).")
    schedule_flag: str | None = Field(None, description="As the worklist row's (WorklistRowOut.schedule_flag).")
