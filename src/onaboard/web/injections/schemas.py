"""API shapes for the PREEMPT plan, injection sessions and side effects.

``PlanOut`` is ``onaboard.serialize.plan_json``: the same JSON as ``onaboard plan``. Free text sent in is
``FreeText`` (no NUL character: 422 at the field), the lot at most as long as the sessions table's column, the
complications, the override reason and a side effect's description at most ``DESCRIPTION_MAX_LENGTH`` characters.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal
from uuid import UUID

from ninja import Field, Schema
from pydantic import StrictBool, StrictInt

from onaboard.clinical import (
    FIXED_SITE_COUNT,
    RETREATMENT_INTERVAL_DAYS,
    UNITS_PER_SITE,
    VIAL_SIZES_UNITS,
    Muscle,
    Side,
)
from onaboard.interop.tables import TEXT_LIMITS
from onaboard.web.common.schema_types import AwareTimestamp, FreeText, InputSchema, IsoDate
from onaboard.web.injections.models import (
    DESCRIPTION_MAX_LENGTH,
    ERROR_REASON_MAX_LENGTH,
    REVIEW_REASON_MAX_LENGTH,
    Severity,
    SideEffectKind,
)
from onaboard.web.injections.selectors import CheckCode, interval_weeks

MUSCLES = ", ".join(m.value for m in Muscle)
SIDES = ", ".join(s.value for s in Side)
MAP_MAX = 1000
VIAL_SIZES = " or ".join(str(units) for units in VIAL_SIZES_UNITS)

SideEffectKindValue = Literal[tuple(kind.value for kind in SideEffectKind)]  # type: ignore[valid-type]
SeverityValue = Literal[tuple(severity.value for severity in Severity)]  # type: ignore[valid-type]
MuscleValue = Literal[tuple(muscle.value for muscle in Muscle)]  # type: ignore[valid-type]
SideValue = Literal[tuple(side.value for side in Side)]  # type: ignore[valid-type]


class PlanSiteOut(Schema):
    muscle: str
    side: str
    units: int
    volume_ml: float
    follow_the_pain: bool


class MuscleDoseOut(Schema):
    sites: int
    units: int


class ReconstitutionOut(Schema):
    vial_units: int
    saline_ml: float
    units_per_0_1_ml: int


class BillingLineOut(Schema):
    code: str
    modifier: str | None
    units: int


class PlanOut(Schema):
    """The PREEMPT plan: sites, totals, per-muscle doses, reconstitution, vials, wastage and billing lines."""

    sites: list[PlanSiteOut]
    total_units: int
    site_count: int
    by_muscle: dict[str, MuscleDoseOut]
    reconstitution: ReconstitutionOut
    vials: int
    discarded_units: int
    billing_modifier: str
    billing: list[BillingLineOut]


class SiteIn(InputSchema):
    """One injection given. Place it on the map with ``view``, ``x`` and ``y`` (0-1000), or leave them out."""

    muscle: MuscleValue = Field(..., description=f"One of: {MUSCLES}.")  # type: ignore[valid-type]
    side: SideValue = Field(..., description=f"One of: {SIDES}.")  # type: ignore[valid-type]
    units: int = Field(..., ge=0)
    follow_the_pain: StrictBool = False
    view: Literal["front", "back"] | None = None
    x: int | None = Field(None, ge=0, le=MAP_MAX)
    y: int | None = Field(None, ge=0, le=MAP_MAX)


class SiteOut(Schema):
    muscle: str
    side: str
    units: int
    follow_the_pain: bool
    view: str
    x: int | None
    y: int | None


class InjectionSessionIn(InputSchema):
    """Record a session: the sites given, the product and vial size, and an override reason if a check fails."""

    date: IsoDate
    sites: list[SiteIn] = Field(
        ..., description=f"Every site given: the {FIXED_SITE_COUNT} fixed PREEMPT sites and any extra."
    )
    vial_units: int = Field(200, description=f"Vial size in units: {VIAL_SIZES}.")
    product_lot: FreeText = Field(..., max_length=TEXT_LIMITS["lot"])
    product_expiry: IsoDate
    override_reason: FreeText = Field(
        "",
        max_length=DESCRIPTION_MAX_LENGTH,
        description=f"Needed when the {interval_weeks()}-week interval, the cumulative dose, the safety screen or the "
        f"dose per site (the label's {UNITS_PER_SITE} U) fails; recorded.",
    )
    overridden_checks: list[CheckCode] | None = Field(
        None,
        description="The failing checks the override reason answers, as the caller saw them (a 422's checks.*): "
        "when given and the checks failing on recording differ (a session recorded meanwhile, say), the recording is "
        "refused with 422 at override_reason, so a reason never covers a failure its writer did not see.",
    )
    complications: FreeText = Field("", max_length=DESCRIPTION_MAX_LENGTH)
    injector: str | None = Field(
        None,
        max_length=150,
        description="The user name of who gave the injections, when not the caller (a nurse charting for the "
        "clinician injecting): an active clinician's or nurse's account of the patient's clinic, else 422 at "
        "injector. Omitted, the caller. The audit trail names the caller as who recorded.",
    )
    booking_id: UUID | None = Field(None, description="The booked session this recording fulfils, if any.")
    version: StrictInt | None = Field(
        None, description="The booking's version as last read: a stale version is refused with 409."
    )


class BookingIn(InputSchema):
    date: IsoDate
    version: StrictInt | None = Field(None, description="The booking's version as last read (409 when it changed).")


class CancelIn(InputSchema):
    version: StrictInt | None = Field(None, description="The booking's version as last read (409 when it changed).")


class EnteredInErrorIn(InputSchema):
    reason: FreeText = Field(
        ...,
        description="Why the record is wrong (the wrong patient, day, sites or dose); required, at most "
        f"{ERROR_REASON_MAX_LENGTH} characters (422 at `reason`).",
    )
    version: StrictInt | None = Field(None, description="The session's version as last read (409 when it changed).")


class EnteredInErrorOut(Schema):
    marked_by: str | None = Field(..., description="The user name of the clinician who marked it; null for patients.")
    marked_at: dt.datetime | None
    reason: str | None = Field(..., description="Why the record is wrong; null for billing staff and the patient.")


class InjectionSessionOut(Schema):
    """A booked or recorded session (`status` booked or recorded; a session cancelled, or recorded and later marked
    entered in error, is `cancelled` or `in_error`). Clinical fields are null for callers who see billing data
    only."""

    id: UUID
    patient_id: UUID
    date: dt.date
    status: str
    version: int
    vial_units: int
    vials_used: int | None
    total_units: int | None
    discarded_units: int | None
    product_lot: str = Field(..., max_length=TEXT_LIMITS["lot"])
    product_expiry: dt.date | None
    sites: list[SiteOut]
    plan: PlanOut | None = Field(..., description="The recorded sites as the engine's plan (billing lines too).")
    override_reason: str | None = Field(
        ...,
        description="The recorder's reason for overriding a failed check; null for billing staff and for the patient.",
    )
    overridden_checks: list[str] | None = Field(
        ..., description="The codes of the checks overridden; null for billing staff and for the patient."
    )
    check_reasons: list[str] | None = Field(
        ...,
        description="The engine's checks when the session was recorded, each reason prefixed with its check's code, "
        "then the warnings in force then (which blocked nothing), each prefixed with its warning's code; null for "
        "billing staff and for the patient.",
    )
    complications: str | None
    injector: str | None = Field(
        None,
        description="The user name of who gave the injections (the `injector` a recording may name); null when not "
        "recorded (an imported session), and for the patient.",
    )
    entered_in_error: EnteredInErrorOut | None = Field(
        None, description="When the status is `in_error`: who marked the recorded session entered in error, when, why."
    )


class BookingOut(InjectionSessionOut):
    """A moved booking, with what staff should know about its new date."""

    warnings: list[str] = Field(
        ...,
        description="Said about a date that is allowed but needs attention: the latest treatment decision is to "
        "stop, naming its day and who decided (record a decision to continue first, or cancel the booking); less "
        f"than {interval_weeks()} weeks ({RETREATMENT_INTERVAL_DAYS} days) after the last recorded session, naming "
        "the earliest due date (recording then needs an override reason). Empty otherwise.",
    )


class SideEffectIn(InputSchema):
    kind: SideEffectKindValue  # type: ignore[valid-type]
    onset: IsoDate = Field(..., description="When it started; today or earlier.")
    severity: SeverityValue  # type: ignore[valid-type]
    description: FreeText = Field(
        "",
        max_length=DESCRIPTION_MAX_LENGTH,
        description='What happened, in the reporter\'s words. Needed when `kind` is "other" (422 at `description` '
        "without it); optional otherwise.",
    )
    submission: UUID | None = Field(
        None,
        description="An idempotency key the client makes up once per report (a random UUID): sent again with the "
        "same answers (a retry after a lost answer), nothing more is stored and the first report is answered; with "
        "other answers, 409. Left out: every call stores a report.",
    )


class SideEffectReviewIn(InputSchema):
    grade: SeverityValue = Field(  # type: ignore[valid-type]
        ...,
        description="The clinician's own grade, always sent: the patient's `severity` is never taken for it.",
    )
    related_to_treatment: StrictBool | None = Field(..., description="Null when relatedness is unknown.")
    session_id: UUID | None = Field(
        None,
        description="The recorded session it follows (the patient's own, given on or before the onset). Left out: "
        "the session it is linked to stays; null: linked to none.",
    )
    modified: AwareTimestamp | None = Field(
        None,
        description="The side effect's `modified` as last read: a review saved since is refused with 409 instead of "
        "being overwritten. Left out: no such check.",
    )
    reason: FreeText = Field(  # type: ignore[valid-type]
        "",
        max_length=REVIEW_REASON_MAX_LENGTH,
        description="Why this review changes the one before: needed (422 at `reason` otherwise) when it lowers the "
        "grade or no longer calls the side effect related to treatment. Every review is kept. A caller who may not "
        "decide treatment (a nurse) is refused with a 422 at `__all__` (not tied to a field), reason or not, for a "
        "review below a clinician's latest one or no longer related where it said so, and, before any clinician "
        "has reviewed it, for a grade below the patient's `severity` or `related_to_treatment` false.",
    )


class SideEffectOut(Schema):
    id: UUID
    patient_id: UUID
    kind: str
    kind_label: str
    urgent: bool = Field(
        ..., description="An allergic reaction or possible distant spread of toxin effect: seek care now."
    )
    description: str
    onset: dt.date
    severity: str
    session_id: UUID | None
    session_date: dt.date | None
    clinician_grade: str | None
    related_to_treatment: bool | None
    reviewed_at: dt.datetime | None
    modified: dt.datetime = Field(..., description="When it last changed: send it back with a review (409 if stale).")
