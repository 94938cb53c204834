"""Recording and booking injection sessions, and reporting and reviewing side effects.

Every rule is the engine's: the plan (``plan_from_sites``), the 12-week interval, the cumulative dose, the safety
screen and the dose per site (``label_dose_departures``) come from ``selectors.session_checks``; the next date from
``schedule_status``. Each service writes its rows and the audit trail in one transaction.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Collection, Sequence
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop

from onaboard.clinical import ScheduleError, interval_check
from onaboard.clinical.preempt import VIAL_SIZE
from onaboard.web.accounts.models import Role
from onaboard.web.audit.models import Action
from onaboard.web.audit.services import AuditEntry, audit_record, audit_records
from onaboard.web.common.words import before_birth_plain, plain_day
from onaboard.web.injections import sitemap
from onaboard.web.injections.models import (
    ACTIVE_STATUSES,
    ERROR_REASON_MAX_LENGTH,
    REVIEW_REASON_MAX_LENGTH,
    InjectionSession,
    InjectionSiteRecord,
    SessionStatus,
    Severity,
    SideEffect,
    SideEffectKind,
    SideEffectReview,
)
from onaboard.web.injections.selectors import (
    BEFORE_BIRTH,
    CheckCode,
    CheckResult,
    SiteEntry,
    eligibility_checks,
    injectors_for,
    interval_weeks,
    open_booking,
    patient_schedule,
    recorded_sessions,
    session_before,
    session_checks,
    session_warnings,
    side_effect_booking,
    side_effects_moved,
)
from onaboard.web.outcomes.selectors import stopped_decision
from onaboard.web.patients.access import Capability, can, roles_with
from onaboard.web.patients.models import Patient
from onaboard.web.patients.services import patient_locked

# --- Messages (tests assert them exactly) -----------------------------------------------------------------------

SESSION_FUTURE_DATE = gettext_noop("A session cannot be recorded for a date after today ({date} is after {today}).")
LOT_REQUIRED = gettext_noop("Enter the product lot number.")
EXPIRY_REQUIRED = gettext_noop("Enter the product expiry date.")
PRODUCT_EXPIRED = gettext_noop("This product expired on {expiry}, before the session date {date}: it cannot be used.")
SESSION_ALREADY_RECORDED = gettext_noop(
    "A session on {date} is already recorded for this patient. Open it instead of recording it again."
)
SESSION_CHANGED = gettext_noop(
    "Someone else changed this session while you were working on it. Nothing was saved: reload the page, "
    "check what changed, and record again."
)
BOOKING_CHANGED = gettext_noop(
    "Someone else changed this booking while you were working on it. Nothing was saved: reload the page, check "
    "what changed, and try again if it still needs doing."
)
"""``SESSION_CHANGED`` for moving or cancelling a booking, which is not recording it."""
SESSION_DATE_TAKEN = gettext_noop("The patient already has another session on {date}.")
INJECTOR_NOT_ALLOWED = gettext_noop(
    "Choose who gave the injections from the list: someone of the patient's clinic, with an active account, who may "
    "record sessions."
)
"""A named injector who is not one of ``selectors.injectors_for`` the patient (another clinic's, a patient's or a
billing account, an account closed): the session form's field and the API's ``injector``."""
OVERRIDE_NEEDED = gettext_noop(
    "Recording is blocked by: {checks}. Give a reason to override, or do not record this session."
)
CHECKS_CHANGED = gettext_noop(
    "The checks changed after the screen showed them (an edit made just before sending, a session recorded "
    "meanwhile, or the record changed): now {checks} fail, as shown above. Read them, and record again if your "
    "reason still holds."
)
CLINICIAN_OVERRIDE_ONLY = gettext_noop(
    "Only a clinician may override {checks}: going ahead anyway is a prescribing decision. Ask the treating "
    "clinician to record this session, or do not record it."
)
OVERRIDE_NOT_NEEDED = gettext_noop(
    "No check failed, so there is nothing to override: clear this box to record the session. A warning (such as "
    "the stopping rule) blocks nothing; a decision to continue or stop treatment is recorded on the patient's "
    "outcomes page, and complications have their own box."
)
BOOKING_TAKEN = gettext_noop(
    "This booking was changed by someone else while this screen was open. Nothing was saved: open the patient's "
    "page to see the sessions as they are now."
)
BOOKING_ALREADY_RECORDED = gettext_noop(
    "This booking is already recorded (a second click, or someone else): nothing more was saved. Open the session "
    "to see it."
)
BOOKING_CANCELLED = gettext_noop(
    "This booking was cancelled: nothing was saved. Open the patient's page to book again."
)
BOOKING_IN_ERROR = gettext_noop(
    "This session was recorded and later marked entered in error: nothing was saved. Record the session as it was "
    "given from the patient's page."
)
"""Recording against a booking that is no longer booked (already recorded; cancelled), or whose version is not the
one the screen was built from (changed), on every path: the session screen, ``session_new`` and the API's
``booking_id``; ``booking_gone_message`` picks the words."""
BOOKING_NOT_OPEN = gettext_noop("Only a booked session can be moved; this one is {status}.")
BOOKING_IN_PAST = gettext_noop("A booking must be today or later ({date} is before {today}).")
BOOKING_TOO_FAR = gettext_noop(
    "{date} is more than {years} years from today: a booking must be on or before {limit}. Check the year."
)
BOOKING_AFTER_STOP = gettext_noop(
    "Treatment stopped on {day} by {name}. The booking is saved; record a decision to continue treatment before this "
    "session, or cancel the booking."
)
BOOKING_BEFORE_DUE = gettext_noop(
    "{date} is only {days} days after the last session ({last}): the earliest due date is {earliest} ({weeks} "
    "weeks). The booking is saved, but recording the session on that day will need a reason to override the "
    "{weeks}-week interval."
)
BOOKING_WITHOUT_APPROVAL = gettext_noop(
    "The payer asks for a prior authorisation, and {reason}. The booking is saved; see that an approval covers "
    "{date} before that day (the patient's coverage page: ask, follow up or renew), or recording the session that "
    "day will need an override reason."
)
BOOKING_LABEL_NOT_MET = gettext_noop(
    "The BOTOX label criteria are not met on {day}: {reasons}. The booking is saved; recording the first session "
    "will need a clinician's reason to go ahead anyway."
)
CANCEL_NOT_OPEN = gettext_noop("Only a booked session can be cancelled; this one is {status}.")
ERROR_NOT_RECORDED = gettext_noop("Only a recorded session can be marked entered in error; this one is {status}.")
ERROR_SESSION_CHANGED = gettext_noop(
    "Someone else changed this session while you were working on it. Nothing was saved: reload the page and check "
    "it before marking it entered in error."
)
ERROR_REASON_NEEDED = gettext_noop(
    "Say why this record is wrong (for example: recorded for the wrong patient, or on the wrong day). The record "
    "stays, marked entered in error, and the reason with it."
)
ERROR_CLINICIAN_ONLY = gettext_noop(
    "Only a clinician may mark a recorded session entered in error: it takes the dose out of the treatment history "
    "that the interval, the cumulative dose and the outcomes are judged on."
)
FIRST_BOOKING_OPEN = gettext_noop(
    "A session is already booked for {date}: nothing more was booked. Open that booking to change its date."
)
"""Why ``injection_session_book_first`` books nothing: a booking is open on another day."""
NO_BOOKING_AFTER_STOP = gettext_noop(
    "Treatment was stopped on {date}: no session is booked until a clinician records the decision to continue."
)
"""Why ``injection_session_book_first`` books no next session: the latest decision is to stop (moving a booking
kept after a stop is allowed, with ``BOOKING_AFTER_STOP``'s warning)."""

BOOKING_HORIZON_YEARS = 2
"""The furthest a booking may be moved: two years after today. Sessions recur every ``RETREATMENT_INTERVAL_DAYS``, so
a later date is a typing slip (a wrong year, 9999-12-31), not a plan; a clinic convention, not a label rule."""
ONSET_IN_FUTURE = gettext_noop("The start date cannot be after today ({today}).")
SESSION_NOT_THE_PATIENTS = gettext_noop("That session is not one of this patient's recorded sessions.")
REVIEW_CHANGED = gettext_noop(
    "This side effect was reviewed or changed by someone else since you opened it: nothing was saved. Open the "
    "review again to see it as it is now."
)
SESSION_AFTER_ONSET = gettext_noop(
    "The session of {session} was given after this side effect began ({onset}): it cannot have followed it."
)
NO_SESSION_YET = gettext_noop(
    "This form is for side effects after a BOTOX session. It opens on the day of your first session: the clinic has "
    "no session of yours recorded, or booked for today or earlier, so there is nothing to report here yet. If you "
    "were treated, feel unwell or have a question about treatment, contact the clinic; if you have any of the signs "
    "above, seek medical care now."
)
"""The report of a patient with no session recorded, nor booked on or before today (``side_effect_first_session``):
a symptom before any treatment is not a side effect of it. The page shows the urgent signs above it."""
NO_SESSION_YET_STAFF = gettext_noop(
    "This form is for side effects after a BOTOX session, and this patient has no session recorded, nor one booked "
    "for today or earlier. If the patient was treated, record the session first, then the report."
)
"""``NO_SESSION_YET`` for staff reporting on a patient's behalf."""
ONSET_BEFORE_FIRST_SESSION = gettext_noop(
    "It started on {onset}, before your first BOTOX session ({first}): a symptom that began before treatment is not "
    "a side effect of it. Check the date; if it is right, contact the clinic about it instead."
)
"""A report of the patient's own whose start date is before their first recorded session."""
ONSET_BEFORE_FIRST_SESSION_STAFF = gettext_noop(
    "It started on {onset}, before the patient's first recorded BOTOX session ({first}): a symptom that began before "
    "treatment is not a side effect of it. Check the date; if the patient was treated earlier, record that session "
    "first."
)
"""``ONSET_BEFORE_FIRST_SESSION`` for staff reporting on a patient's behalf."""
ONSET_BEFORE_BOOKED_SESSION_STAFF = gettext_noop(
    "It started on {onset}, before the patient's first BOTOX session, booked for {first} and not recorded yet: a "
    "symptom that began before treatment is not a side effect of it. Check the date; if the patient was treated "
    "earlier, record that session first."
)
"""``ONSET_BEFORE_FIRST_SESSION_STAFF`` when the first session is the booking not recorded yet (the patient is told
``ONSET_BEFORE_FIRST_SESSION``: to them it is their first session either way)."""
DESCRIBE_SOMETHING_ELSE = gettext_noop(
    "Say in a few words what happened: “Something else” alone does not tell the clinic what it was."
)
REVIEW_REASON_NEEDED = gettext_noop(
    "Give the reason for this change: {name} reviewed it{when} as {grade}, {relation}. A review that lowers the "
    "grade or no longer calls it related to treatment says why; the earlier review stays on the record."
)
REVIEWED_ON = gettext_noop(" on {day}")
REVIEW_WEAKENED_CLINICIAN_ONLY = gettext_noop(
    "{name}, a clinician, reviewed it{when} as {grade}, {relation}. Only a clinician may lower that grade or no longer "
    "call it related to treatment: it weighs on where and whether the next dose is given. Ask them, or another "
    "clinician, to review it again."
)
"""A review by someone who may not decide treatment (a nurse) that would weaken a clinician's review."""
REVIEW_BELOW_REPORT_CLINICIAN_ONLY = gettext_noop(
    "No clinician has reviewed it yet, and it was reported as {severity}. Only a clinician may grade it lower or call "
    "it not related to treatment: it weighs on where and whether the next dose is given. Ask a clinician to review it."
)
"""A first review by someone who may not decide treatment (a nurse) grading a side effect below the patient's own
severity, or calling it not related to treatment, before any clinician has reviewed it
(``unjudged_review_weakened``): the clinician-only rule of ``REVIEW_WEAKENED_CLINICIAN_ONLY``, held against the
report itself while no clinician's review is there to hold it against."""
REVIEW_REASON_TOO_LONG = gettext_noop("Keep the reason to {limit} characters or fewer; this one has {count}.")
GRADE_NEEDED = gettext_noop("Choose the clinician's grade.")
"""A review carries the clinician's own grade (the review form's message too)."""
ALREADY_SENT = gettext_noop(
    "This form was already sent, with other answers: that report reached the clinic, and these answers were not "
    "saved. Check them below and send them again to report this side effect too."
)
"""A report form sent once, then changed and sent again with its old token (restored by the Back button)."""


_VIAL_PROBLEM = VIAL_SIZE.split("{", 1)[0]
"""The start of the engine's message for a vial size it refuses (``preempt.VIAL_SIZE``)."""


def _plan_problem_field(problem: str) -> str:
    """The field an engine plan problem is about: the vial size's own, else the sites."""
    return "vial_units" if problem.startswith(_VIAL_PROBLEM) else "sites"


class SessionRefusedError(ValueError):
    """The session was not saved; ``problems`` pairs each message with the form field it belongs to ("" for the
    whole form, "sites" for the plan)."""

    def __init__(self, problems: Sequence[tuple[str, str]]) -> None:
        self.problems: tuple[tuple[str, str], ...] = tuple(problems)
        super().__init__("; ".join(message for _, message in self.problems))

    @property
    def messages(self) -> tuple[str, ...]:
        return tuple(message for _, message in self.problems)


class SessionChecksFailedError(SessionRefusedError):
    """A check failed and no override reason was given; ``checks`` are the failed checks with their reasons."""

    def __init__(self, checks: Sequence[CheckResult]) -> None:
        self.checks = tuple(checks)
        titles = ", ".join(check.title for check in self.checks)
        super().__init__([("override_reason", gettext(OVERRIDE_NEEDED).format(checks=titles))])


class SessionChecksClinicianOnlyError(SessionChecksFailedError):
    """Checks only a clinician may override failed (``selectors.CLINICIAN_OVERRIDES``) and the user may not decide
    treatment: refused with or without an override reason, naming those checks; ``checks`` are every failed check
    with its reasons, as for ``SessionChecksFailedError``."""

    def __init__(self, checks: Sequence[CheckResult], clinician_only: Sequence[CheckResult]) -> None:
        super().__init__(checks)
        titles = ", ".join(check.title for check in clinician_only)
        self.problems = (("override_reason", gettext(CLINICIAN_OVERRIDE_ONLY).format(checks=titles)),)
        self.args = (self.problems[0][1],)


class SessionChecksChangedError(SessionRefusedError):
    """An override reason was given for the checks the screen showed, and other checks (or other reasons) fail now;
    ``checks`` are those failing now."""

    def __init__(self, checks: Sequence[CheckResult]) -> None:
        self.checks = tuple(checks)
        titles = ", ".join(check.title for check in self.checks)
        super().__init__([("override_reason", gettext(CHECKS_CHANGED).format(checks=titles))])


class SessionConflictError(SessionRefusedError):
    """Someone else recorded or changed the session first; nothing of this attempt was written."""

    def __init__(self, message: str) -> None:
        super().__init__([("", message)])


class SideEffectRefusedError(ValueError):
    def __init__(self, problems: Sequence[tuple[str, str]]) -> None:
        self.problems: tuple[tuple[str, str], ...] = tuple(problems)
        super().__init__("; ".join(message for _, message in self.problems))


class SideEffectConflictError(SideEffectRefusedError):
    """Someone else reviewed the side effect since it was read; nothing of this review was written."""

    def __init__(self, message: str) -> None:
        super().__init__([("", message)])


class SideEffectAlreadySentError(SideEffectRefusedError):
    """The report form's token is on a report with other answers; nothing of this one was written (``ALREADY_SENT``).
    The form is to be sent again with a new token."""

    def __init__(self) -> None:
        super().__init__([("", gettext(ALREADY_SENT))])


# --- Recording ----------------------------------------------------------------------------------------------------


def session_date_problem(patient: Patient, day: dt.date) -> str | None:
    """``BEFORE_BIRTH`` worded for ``day`` when it is before the patient's birth date, else None: the rule for a
    booked or recorded session's day (``session_input_problems``, the imports' bookings)."""
    if patient.predates_birth(day):
        return gettext(BEFORE_BIRTH).format(date=day, birth=patient.birth_date)
    return None


def session_input_problems(
    *, date: dt.date, today: dt.date, lot: str, expiry: dt.date | None, patient: Patient
) -> list[tuple[str, str]]:
    """What refuses recording a session outright, as ``(field, message)``: a date after ``today`` or before the
    birth date, no lot, no expiry, a product expired on the day. ``injection_session_record`` and every import ask
    this one rule (no override applies to it)."""
    problems = []
    if date > today:
        problems.append(("date", gettext(SESSION_FUTURE_DATE).format(date=date, today=today)))
    if (before_birth := session_date_problem(patient, date)) is not None:
        problems.append(("date", before_birth))
    if not lot.strip():
        problems.append(("product_lot", gettext(LOT_REQUIRED)))
    if expiry is None:
        problems.append(("product_expiry", gettext(EXPIRY_REQUIRED)))
    elif expiry < date:
        problems.append(("product_expiry", gettext(PRODUCT_EXPIRED).format(expiry=expiry, date=date)))
    return problems


def booking_gone_message(booking: InjectionSession | None) -> str:
    """Why a booking can no longer be recorded, by what became of it: recorded (a second click or another user),
    cancelled, or changed (moved) since the screen or the API call read it."""
    if booking is not None and booking.status == SessionStatus.RECORDED:
        return gettext(BOOKING_ALREADY_RECORDED)
    if booking is not None and booking.status == SessionStatus.CANCELLED:
        return gettext(BOOKING_CANCELLED)
    if booking is not None and booking.status == SessionStatus.IN_ERROR:
        return gettext(BOOKING_IN_ERROR)
    return gettext(BOOKING_TAKEN)


def _session_to_record(
    *, patient: Patient, date: dt.date, booking: InjectionSession | None, expected_version: int | None
) -> InjectionSession | None:
    """The booked session this recording fulfils (locked), or None when a new row is needed.

    A ``booking`` that is no longer booked (recorded or cancelled by someone else) or whose version is not
    ``expected_version`` (moved since the screen was built) refuses the recording first (``booking_gone_message``), on
    every path, also for a session dated earlier. A session dated before the latest recorded one is an earlier
    session entered afterwards: it fulfils no open booking (the next session's, with the day agreed with the
    patient), only one booked on its own day. Refuses when a session on ``date`` is already recorded.
    """
    locked: InjectionSession | None = None
    if booking is not None:
        locked = InjectionSession.objects.select_for_update().filter(pk=booking.pk, patient=patient).first()
        stale = expected_version is not None and locked is not None and locked.version != expected_version
        if locked is None or locked.status != SessionStatus.BOOKED or stale:
            raise SessionConflictError(booking_gone_message(locked))
    on_day = (
        InjectionSession.objects.select_for_update()
        .filter(patient=patient, date=date, status__in=ACTIVE_STATUSES)
        .first()
    )
    if on_day is not None and on_day.status == SessionStatus.RECORDED:
        raise SessionConflictError(gettext(SESSION_ALREADY_RECORDED).format(date=date))
    if recorded_sessions(patient).filter(date__gt=date).exists():
        return on_day  # an earlier session entered late: the open booking stays for the next one
    if locked is not None:
        target = locked
        if on_day is not None and on_day.pk != target.pk:
            raise SessionConflictError(gettext(SESSION_DATE_TAKEN).format(date=date))
        return target
    target = on_day or (
        InjectionSession.objects.select_for_update()
        .filter(patient=patient, status=SessionStatus.BOOKED)
        .order_by("date")
        .first()
    )
    if target is not None and expected_version is not None and target.version != expected_version:
        raise SessionConflictError(gettext(SESSION_CHANGED))
    return target


def book_next_session(*, user: Any, patient: Patient, today: dt.date) -> InjectionSession | None:
    """Book the next session on the engine's due date (last recorded + ``RETREATMENT_INTERVAL_DAYS``) unless one is
    already booked; when that date has passed (a session recorded late, entered afterwards), on today instead of in
    the past, for staff to move to the day agreed with the patient (moving a booking is the one way to change its
    day). The caller holds the patient's lock (``patient_locked``); the ``one_open_booking_per_patient`` constraint
    keeps one open booking even for a writer that does not. Nothing is booked while the latest decision is to stop
    (``outcomes.selectors.stopped_decision``; a stop cancels the booking ahead): a session given after a stop books
    the next once a clinician records the decision to continue (``outcomes.services.treatment_decision_record`` asks
    this then), and a booking cancelled can be made again by hand (``injection_session_book_first``)."""
    if InjectionSession.objects.filter(patient=patient, status=SessionStatus.BOOKED).exists():
        return None
    if stopped_decision(patient, today) is not None:
        return None
    schedule = patient_schedule(patient, today=today)
    if schedule.next_due is None:
        return None
    day = max(schedule.next_due, today)
    if InjectionSession.objects.filter(patient=patient, date=day, status__in=ACTIVE_STATUSES).exists():
        return None
    try:
        with transaction.atomic():
            booking = InjectionSession.objects.create(patient=patient, date=day, status=SessionStatus.BOOKED)
    except IntegrityError:  # a booking committed meanwhile by a writer without the patient's lock: it stands
        return None
    audit_record(
        user=user,
        action=Action.CREATE,
        object_type="injection_session",
        object_id=booking.external_id,
        patient_id=patient.external_id,
        detail=f"booked {booking.date}: {schedule.reasons[0]}",
    )
    return booking


def _site_record(session: InjectionSession, entry: SiteEntry, index: int) -> InjectionSiteRecord:
    """A row for one site: a follow-the-pain site where it was clicked inside its muscle's area
    (``sitemap.clicked_point``), else on its default spot; a fixed site on its drawing position."""
    clicked = sitemap.clicked_point(entry.muscle, entry.side, entry.view, entry.x, entry.y)
    if entry.follow_the_pain and clicked is not None:
        point = clicked
    elif entry.follow_the_pain:
        point = sitemap.follow_the_pain_default(entry.muscle, entry.side, index)
    else:
        point = sitemap.FIXED_POSITIONS[sitemap.Muscle(entry.muscle), sitemap.Side(entry.side), index]
    return InjectionSiteRecord(
        session=session,
        muscle=entry.muscle,
        side=entry.side,
        units=entry.units,
        follow_the_pain=entry.follow_the_pain,
        view=point.view.value,
        x=point.x,
        y=point.y,
    )


def _site_records(session: InjectionSession, sites: Sequence[SiteEntry]) -> list[InjectionSiteRecord]:
    """A row for each site given. A fixed site not given (0 U, the engine's ``SiteNotGiven``) gets no row, since
    nothing was injected there, but keeps its number, so the sites after it are drawn on their own spots; the
    session's check reasons name it."""
    numbered: dict[tuple[str, str, bool], int] = {}
    records = []
    for entry in sites:
        if entry.units is None:
            continue
        group = (entry.muscle, entry.side, entry.follow_the_pain)
        numbered[group] = numbered.get(group, 0) + 1
        if entry.units == 0:
            continue
        records.append(_site_record(session, entry, numbered[group]))
    return records


def _another(injector: Any, user: Any) -> bool:
    """Whether ``injector`` is someone other than ``user``, who recorded (the audit trail then names both)."""
    return injector is not None and injector.pk != getattr(user, "pk", None)


def injection_session_record(
    *,
    user: Any,
    patient: Patient,
    date: dt.date,
    sites: Sequence[SiteEntry],
    vial_units: int,
    lot: str,
    expiry: dt.date | None,
    override_reason: str,
    expected_version: int | None = None,
    booking: InjectionSession | None = None,
    complications: str = "",
    today: dt.date | None = None,
    checks_shown: str | None = None,
    codes_shown: Collection[str] | None = None,
    injector: Any | None = None,
) -> InjectionSession:
    """Record a session: its sites, product, vials and discarded units, then book the next one on the engine's due
    date, ``RETREATMENT_INTERVAL_DAYS`` later (on today when that day has passed).

    The plan is the engine's (``plan_from_sites``: at most the 31 fixed sites, follow-the-pain limits, at most
    195 U); a failed retreatment interval, cumulative-dose limit, safety-screen contraindication, departure from the
    label's dose (``label_dose_departures``: a fixed site not given, at 0 U or left out, a site not at 5 U, or more
    than 2 extra occipitalis sites, a limit derived from the 40 U follow-the-pain cap rather than stated) or prior
    authorisation (the payer asks for one and none is in force on ``date``: ``coverage.selectors.approval_on``), a
    clinician's decision to stop on record, or the BOTOX label criteria not met before a first session
    (``selectors.eligibility_checks``) refuses the recording unless ``override_reason`` is given (by a user who may
    decide treatment for a contraindication, a stop or the label: ``CLINICIAN_OVERRIDES``), which is then stored with
    the failed checks and their
    reasons (naming the sites not given) and audited; a reason given when no check fails is refused
    (``OVERRIDE_NOT_NEEDED``), never dropped unseen. ``checks_shown`` is the screen's ``failing_digest`` when the
    reason was written: a reason given for checks other than those failing now (a session recorded meanwhile by
    someone else brings the interval and the cumulative dose into it) is refused (``SessionChecksChangedError``), so
    a reason never covers a failure nobody saw (an empty digest, a screen showing no failure yet, its totals not
    caught up with the last change, is not held against the reason); ``codes_shown``, the failing checks' codes an
    API caller names, is held to the same rule by code. Units, vials and discarded units are those given. An
    expired product is refused outright. ``booking`` (or, without it, the session already booked on ``date`` or the
    patient's open booking) is the row recorded; ``expected_version`` is the version the screen showed, so two
    people cannot record the same session: the second gets ``SessionConflictError`` and nothing is written. A
    booking recorded keeps only the sites given (any it carried, e.g. from an import, are replaced, never added to).

    ``injector`` is who gave the injections (the procedure note and the after-care sheet name them), when not
    ``user``, who recorded: a nurse charting at the chair for the clinician injecting. One of the patient's
    ``selectors.injectors_for`` (an active clinician or nurse of the patient's clinic), else refused at
    ``injector`` (``INJECTOR_NOT_ALLOWED``). The audit trail names ``user`` as who recorded, and the injector in
    its detail when another.

    The side effects are put down again by the report's rule (``relink_waiting_side_effects``, given this session:
    those reported after this session was given and before it was recorded follow it now, those not reviewed yet
    and linked to an older session follow it when their onset is on or after its day, and those that waited for a
    booking dated before the day it was given follow the session before their onset), each audited as its own event
    (``audit_relinked``) and counted in the recording's detail.

    The patient's row is locked first (``patient_locked``): recordings of one patient at the same moment are checked
    one after the other, each against the sessions the other recorded, and a birth date moved meanwhile is seen.
    Raises ``SessionRefusedError`` (or its subclasses) listing what is wrong.
    """
    today = today or timezone.localdate()
    with transaction.atomic():
        patient = patient_locked(patient)
        problems = session_input_problems(date=date, today=today, lot=lot, expiry=expiry, patient=patient)
        if injector is not None and not injectors_for(patient).filter(pk=injector.pk).exists():
            problems.append(("injector", gettext(INJECTOR_NOT_ALLOWED)))
        if problems:
            raise SessionRefusedError(problems)
        injector = injector if injector is not None else user
        target = _session_to_record(patient=patient, date=date, booking=booking, expected_version=expected_version)
        checks = session_checks(patient=patient, date=date, sites=sites, vial_units=vial_units, exclude=target)
        if checks.plan is None:
            raise SessionRefusedError([(_plan_problem_field(problem), problem) for problem in checks.plan_problems])
        failing = checks.failing
        reason = override_reason.strip()
        if checks.clinician_only and not can(user, Capability.DECIDE_TREATMENT):
            # asked before the reason: a nurse is not asked for a reason the recording would refuse
            raise SessionChecksClinicianOnlyError(failing, checks.clinician_only)
        if failing and not reason:
            raise SessionChecksFailedError(failing)
        if reason and not failing:  # refused rather than saved without it: the typed text must not vanish
            raise SessionRefusedError([("override_reason", gettext(OVERRIDE_NOT_NEEDED))])
        if reason and checks_shown and checks_shown != checks.failing_digest:
            raise SessionChecksChangedError(failing)
        if reason and codes_shown is not None and set(codes_shown) != set(checks.failing_codes):
            raise SessionChecksChangedError(failing)
        plan = checks.plan
        fields = {
            "date": date,
            "status": SessionStatus.RECORDED,
            "vial_units": plan.vial_units,
            "vials_used": plan.vials,
            "total_units": plan.total_units,
            "discarded_units": plan.discarded_units,
            "product_lot": lot.strip(),
            "product_expiry": expiry,
            "injector": injector,
            "override_reason": reason,
            "overridden_checks": ",".join(checks.failing_codes),
            "complications": complications.strip(),
            "check_reasons": "\n".join((*checks.reasons, *checks.warning_reasons)),
        }
        try:
            with transaction.atomic():
                if target is None:
                    session = InjectionSession.objects.create(patient=patient, **fields)
                else:
                    updated = InjectionSession.objects.filter(
                        pk=target.pk, version=target.version, status=SessionStatus.BOOKED
                    ).update(**fields, version=F("version") + 1, modified=timezone.now())
                    if updated != 1:
                        raise SessionConflictError(gettext(SESSION_CHANGED))
                    session = InjectionSession.objects.get(pk=target.pk)
        except IntegrityError:
            raise SessionConflictError(gettext(SESSION_ALREADY_RECORDED).format(date=date)) from None
        cleared = 0 if target is None else InjectionSiteRecord.objects.filter(session=session).delete()[0]
        InjectionSiteRecord.objects.bulk_create(_site_records(session, sites))
        linked = relink_waiting_side_effects(patient, recorded={session.pk})  # before the next booking is made
        audit_relinked(user=user, patient=patient, linked=linked, why=f"session of {date} recorded")
        audit_record(
            user=user,
            action=Action.CREATE if target is None else Action.UPDATE,
            object_type="injection_session",
            object_id=session.external_id,
            patient_id=patient.external_id,
            detail=(
                f"recorded {date}: {plan.total_units} U at {plan.site_count} sites, {plan.vials} x {plan.vial_units} U "
                f"vial(s), {plan.discarded_units} U discarded ({plan.billing_modifier}), lot {session.product_lot}"
                + (f"; {cleared} site(s) the booking carried replaced" if cleared else "")
                + (f"; injected by {injector.username}" if _another(injector, user) else "")
                + relinked_count(linked)
            ),
        )
        if failing:
            audit_record(
                user=user,
                action=Action.UPDATE,
                object_type="injection_session_override",
                object_id=session.external_id,
                patient_id=patient.external_id,
                detail=f"overrode {', '.join(checks.failing_codes)}",  # the reason is the session's, not the trail's
            )
        book_next_session(user=user, patient=patient, today=today)
    return session


def relink_waiting_side_effects(
    patient: Patient, *, recorded: Collection[int] = (), among: Collection[int] | None = None
) -> list[tuple[SideEffect, InjectionSession | None]]:
    """Put down again, by the report's rule, the patient's side effects after their sessions changed (a session
    recorded, on the screen or by an import; a booking cancelled or moved; a session marked entered in error). The
    one rule ``side_effect_report`` applies: a side effect still waiting for an open booking dated on or before its
    onset, after the latest recorded session on or before it (``side_effect_booking``: given, not recorded yet),
    has none; any other follows the latest recorded session on or before its onset (``session_before``), none when
    there is none.

    It is asked of every side effect never reviewed (``reviewed_at`` empty, as a report is, or one sent back to
    review by a session marked entered in error), linked to a session or not: a report that waited for a booking
    follows the session given on it once recorded, or the session before its onset when the booking was given later
    than its day, missed and cancelled, or moved past it; and a report linked to an older session follows a session
    recorded since between that one and its onset (the session was given earlier than its booking, or an import
    filled one in), as the report would have linked it had that session been recorded then.

    A reviewed side effect linked to a session keeps it (the reviewer's choice). A reviewed one linked to none keeps
    none unless the rule now gives a session this very event recorded (``recorded``, their keys): the review form
    offers only recorded sessions, so a review made before could not have chosen it, and its "no session" was no
    choice of that one. Grades and relations stay as reviewed.

    ``among``: only those side effects (by key; an import's rows). The caller holds the patient's lock
    (``patient_locked``), so the order of locks is the patient, then the session rows, then the side effects.
    Returns each side effect whose session changed, with its session now (None: waiting for a booking), oldest
    first; the caller audits them (``audit_relinked``, one event each) and counts them in its own event
    (``relinked_count``)."""
    candidates = SideEffect.objects.select_for_update().filter(
        Q(reviewed_at__isnull=True) | Q(session__isnull=True), patient_id=patient.pk
    )
    if among is not None:
        candidates = candidates.filter(pk__in=list(among))
    changed: list[tuple[SideEffect, InjectionSession | None]] = []
    for effect in candidates.order_by("onset", "created"):
        waiting = side_effect_booking(patient, effect.onset) is not None
        session = None if waiting else session_before(patient, effect.onset)
        if effect.reviewed_at is not None and (session is None or session.pk not in recorded):
            continue  # a review's "no session", made when the session the rule gives was already offered to it
        if (session.pk if session is not None else None) == effect.session_id:
            continue
        SideEffect.objects.filter(pk=effect.pk).update(session=session, modified=timezone.now())
        effect.session = session
        changed.append((effect, session))
    return changed


def audit_relinked(
    *, user: Any, patient: Patient, linked: Sequence[tuple[SideEffect, InjectionSession | None]], why: str
) -> None:
    """Audit each side effect ``relink_waiting_side_effects`` put down again as its own event (one insert), naming
    the session it now follows and ``why`` (the event that moved it: "session recorded", "booking cancelled" ...):
    each is a write to the patient's record, audited whole however many there are."""
    audit_records(
        user=user,
        entries=[
            AuditEntry(
                action=Action.UPDATE,
                object_type="side_effect",
                object_id=effect.external_id,
                patient_id=patient.external_id,
                detail=(
                    f"linked to the session of {after.date}"
                    if after is not None
                    else "linked to no session (waiting for the open booking)"
                )
                + f": {why}",
            )
            for effect, after in linked
        ],
    )


def relinked_count(linked: Sequence[tuple[SideEffect, InjectionSession | None]]) -> str:
    """The count of side effects put down again that the event which moved them names ("; 3 side effect(s)
    linked"); each has its own audit event (``audit_relinked``)."""
    return f"; {len(linked)} side effect(s) linked" if linked else ""


# --- Booking ------------------------------------------------------------------------------------------------------


def booking_horizon(today: dt.date) -> dt.date:
    """The last day a booking may be on: ``BOOKING_HORIZON_YEARS`` after ``today`` (29 February to 28 February)."""
    year = today.year + BOOKING_HORIZON_YEARS
    try:
        return today.replace(year=year)
    except ValueError:
        return today.replace(year=year, day=28)


def booking_warnings(*, patient: Patient, date: dt.date, today: dt.date | None = None) -> tuple[str, ...]:
    """What staff should know about a booking on ``date`` that is still allowed: ``BOOKING_LABEL_NOT_MET`` when it
    would be the first session and the BOTOX label criteria are not met (``_booking_label_not_met``; the patient page
    offers no first booking then, but the clinic may book ahead), ``BOOKING_AFTER_STOP`` when the
    latest treatment decision on record is to stop (``outcomes.selectors.stopped_decision``; recording the session
    is not refused, but asks a clinician's override reason: ``selectors.eligibility_checks``), and
    ``BOOKING_BEFORE_DUE`` when it is less than the engine's
    interval (``interval_check``, ``RETREATMENT_INTERVAL_DAYS``) after the patient's last recorded session. The
    clinician may keep such a date; recording on it will ask for an override reason. And
    ``BOOKING_WITHOUT_APPROVAL`` when the patient's payer asks for a prior authorisation and none covers ``date``
    (``coverage.selectors.approval_on``, the session screen's check): an approval that ends before the next
    session is asked to be renewed in time, not discovered on the day (``booking_approval_warning``)."""
    warnings = []
    if (label := _booking_label_not_met(patient, date, today or timezone.localdate())) is not None:
        warnings.append(label)
    stopped = stopped_decision(patient, date)
    if stopped is not None:
        warnings.append(gettext(BOOKING_AFTER_STOP).format(day=stopped.decided_on, name=stopped.decided_by))
    if (early := _booking_before_due(patient, date)) is not None:
        warnings.append(early)
    if (missing := booking_approval_warning(patient=patient, date=date)) is not None:
        warnings.append(missing)
    return tuple(warnings)


def _booking_label_not_met(patient: Patient, date: dt.date, today: dt.date) -> str | None:
    """``BOOKING_LABEL_NOT_MET`` when ``date`` would be the patient's first session and the BOTOX label criteria are
    not met, judged on the diary up to today (or ``date`` when earlier): the session screen's check
    (``selectors.eligibility_checks``, ``CheckCode.LABEL_NOT_MET``), which a clinician's override reason answers."""
    if recorded_sessions(patient).filter(date__lt=date).exists():
        return None
    day = min(date, today)
    _kept, failed = eligibility_checks(session_warnings(patient, day=day))
    for check in failed:
        if check.code is CheckCode.LABEL_NOT_MET:
            return gettext(BOOKING_LABEL_NOT_MET).format(day=day, reasons="; ".join(check.reasons))
    return None


def _booking_before_due(patient: Patient, date: dt.date) -> str | None:
    """``BOOKING_BEFORE_DUE`` when ``date`` is less than the engine's interval after the last recorded session."""
    last = recorded_sessions(patient).filter(date__lte=date).order_by("-date").first()
    if last is None:
        return None
    try:
        check = interval_check(last.date, date)
    except ScheduleError:
        return None
    if check.allowed:
        return None
    return gettext(BOOKING_BEFORE_DUE).format(
        date=date,
        days=check.days_since_previous,
        last=last.date,
        earliest=check.earliest_allowed,
        weeks=interval_weeks(),
    )


def booking_approval_warning(*, patient: Patient, date: dt.date) -> str | None:
    """``BOOKING_WITHOUT_APPROVAL`` when the patient's payer asks for a prior authorisation and none covers a
    booking on ``date`` (``coverage.selectors.approval_on``, the session screen's check), else None."""
    # coverage.selectors reads the injections modules (the plans, the interval), so it is imported when called.
    from onaboard.web.coverage.selectors import approval_on

    approval = approval_on(patient, date)
    if not approval.missing:
        return None
    return gettext(BOOKING_WITHOUT_APPROVAL).format(date=date, reason=approval.reason)


def booking_day_problem(date: dt.date, *, today: dt.date) -> str:
    """Why ``date`` cannot be a booking's day, or "": before ``today`` (``BOOKING_IN_PAST``) or after the booking
    horizon (``BOOKING_TOO_FAR``: a later date is a typing slip). The booking page asks the whole rule. The imports
    ask it only of a booking they add on ``today`` or later, so only the horizon half: a booked row whose day has
    passed is a booking the patient missed, stored as it stands (``interop.services._booking_problems``). The
    interval from the last recorded session is the engine's ``interval_check``."""
    if date < today:
        return gettext(BOOKING_IN_PAST).format(date=date, today=today)
    limit = booking_horizon(today)
    if date > limit:
        return gettext(BOOKING_TOO_FAR).format(date=date, years=BOOKING_HORIZON_YEARS, limit=limit)
    return ""


def injection_session_book(
    *, user: Any, session: InjectionSession, date: dt.date, expected_version: int | None, today: dt.date | None = None
) -> InjectionSession:
    """Move a booked session to ``date`` (today or later, not before the last recorded session, and not more than
    ``BOOKING_HORIZON_YEARS`` after today: a later date is a typing slip).

    A date less than the engine's interval (``interval_check``) after the last session is allowed here (the clinician
    decides; recording on it needs an override reason), the engine's reason is audited, and ``booking_warnings`` says
    so to whoever moved it. The recorded sessions are read under the patient's lock (``patient_locked``), so a
    session recorded at the same moment is seen. The side effects that waited for the booking on its old day (the
    patient did not come) and no longer do follow the session before their onset (``relink_waiting_side_effects``),
    each audited as its own event and counted in the move's detail. Raises ``SessionRefusedError``;
    ``SessionConflictError`` when the booking changed since the form was shown.
    """
    today = today or timezone.localdate()
    if session.status != SessionStatus.BOOKED:  # recorded or cancelled since it was read: a conflict, not bad input
        raise SessionConflictError(gettext(BOOKING_NOT_OPEN).format(status=session.get_status_display()))
    problem = booking_day_problem(date, today=today)
    if problem:
        raise SessionRefusedError([("date", problem)])
    with transaction.atomic():
        patient = patient_locked(session.patient)
        last = recorded_sessions(patient).filter(date__lte=date).order_by("-date").first()
        try:
            check = interval_check(last.date if last else None, date)
        except ScheduleError as error:
            raise SessionRefusedError([("date", problem) for problem in error.problems]) from None
        version = session.version if expected_version is None else expected_version
        try:
            with transaction.atomic():
                updated = InjectionSession.objects.filter(
                    pk=session.pk, version=version, status=SessionStatus.BOOKED
                ).update(date=date, version=F("version") + 1, modified=timezone.now())
        except IntegrityError:
            raise SessionRefusedError([("date", gettext(SESSION_DATE_TAKEN).format(date=date))]) from None
        if updated != 1:
            raise SessionConflictError(gettext(BOOKING_CHANGED))
        linked = relink_waiting_side_effects(patient)  # those waiting for it on a day before its new one
        audit_relinked(user=user, patient=patient, linked=linked, why=f"booking moved from {session.date} to {date}")
        audit_record(
            user=user,
            action=Action.UPDATE,
            object_type="injection_session",
            object_id=session.external_id,
            patient_id=session.patient.external_id,
            detail=f"booking moved from {session.date} to {date}: {check.reason}" + relinked_count(linked),
        )
    session.refresh_from_db()
    return session


def injection_session_book_first(
    *, user: Any, patient: Patient, date: dt.date, today: dt.date | None = None
) -> InjectionSession:
    """Book a patient's session on ``date`` when none is open: the first, ahead (e.g. while the payer's approval is
    awaited), so the clinic keeps the appointment here, or, once treated, the next one after a booking was cancelled
    (or none was made); the session screen then records it as the booked one.

    The day follows the booking rule (``booking_day_problem``: today or later, within the horizon), as when moving a
    booking, and ``booking_warnings`` still applies to it (a day less than the interval after the last session is
    the clinician's to weigh, as when moving). Under the patient's lock (``patient_locked``): refused
    (``SessionConflictError``) while a booking is open on another day (``FIRST_BOOKING_OPEN``) and, once treated,
    while the latest decision is to stop (``NO_BOOKING_AFTER_STOP``: a decision to continue comes first). A booking
    already open on ``date`` (the form sent twice, or a colleague booking the same day) is returned as it is,
    writing nothing. Audited.
    """
    today = today or timezone.localdate()
    problem = booking_day_problem(date, today=today)
    if problem:
        raise SessionRefusedError([("date", problem)])
    with transaction.atomic():
        patient = patient_locked(patient)
        treated = recorded_sessions(patient).exists()
        stopped = stopped_decision(patient, today) if treated else None
        if stopped is not None:
            raise SessionConflictError(gettext(NO_BOOKING_AFTER_STOP).format(date=stopped.decided_on))
        open_now = InjectionSession.objects.filter(patient=patient, status=SessionStatus.BOOKED).first()
        if open_now is not None and open_now.date == date:
            return open_now
        if open_now is not None:
            raise SessionConflictError(gettext(FIRST_BOOKING_OPEN).format(date=open_now.date))
        try:
            with transaction.atomic():
                booking = InjectionSession.objects.create(patient=patient, date=date, status=SessionStatus.BOOKED)
        except IntegrityError:  # a session on that day committed meanwhile by a writer without the patient's lock
            raise SessionRefusedError([("date", gettext(SESSION_DATE_TAKEN).format(date=date))]) from None
        audit_record(
            user=user,
            action=Action.CREATE,
            object_type="injection_session",
            object_id=booking.external_id,
            patient_id=patient.external_id,
            detail=f"{'next' if treated else 'first'} session booked for {date}",
        )
    return booking


def injection_session_cancel(*, user: Any, session: InjectionSession, expected_version: int | None) -> InjectionSession:
    """Cancel a booked session (status cancelled; the row is kept, and the calendar feed shows it cancelled).

    ``SessionConflictError`` when it is no longer booked (``CANCEL_NOT_OPEN``) or changed since ``expected_version``
    was read (``BOOKING_CHANGED``); nothing is written then. Audited with the date it was booked for, counting the
    side effects that waited for it, now after the session before their onset (``relink_waiting_side_effects``;
    each audited as its own event).
    The patient's row is locked first (``patient_locked``), as by every write to their sessions.
    """
    with transaction.atomic():
        patient = patient_locked(session.patient)
        current = InjectionSession.objects.select_for_update().filter(pk=session.pk).first()
        if current is None or current.status != SessionStatus.BOOKED:
            status = current.get_status_display() if current is not None else session.get_status_display()
            raise SessionConflictError(gettext(CANCEL_NOT_OPEN).format(status=status))
        if expected_version is not None and current.version != expected_version:
            raise SessionConflictError(gettext(BOOKING_CHANGED))
        InjectionSession.objects.filter(pk=current.pk).update(
            status=SessionStatus.CANCELLED, version=F("version") + 1, modified=timezone.now()
        )
        linked = relink_waiting_side_effects(patient)  # those that waited for it
        audit_relinked(user=user, patient=patient, linked=linked, why=f"booking of {current.date} cancelled")
        audit_record(
            user=user,
            action=Action.UPDATE,
            object_type="injection_session",
            object_id=current.external_id,
            patient_id=session.patient.external_id,
            detail=f"booking of {current.date} cancelled" + relinked_count(linked),
        )
    session.refresh_from_db()
    return session


def error_reason_problem(reason: str) -> str | None:
    """What refuses ``reason`` for marking a session entered in error: none given (``ERROR_REASON_NEEDED``) or more
    than ``ERROR_REASON_MAX_LENGTH`` characters; else None. The form, the API and the service ask this one rule."""
    reason = reason.strip()
    if not reason:
        return gettext(ERROR_REASON_NEEDED)
    if len(reason) > ERROR_REASON_MAX_LENGTH:
        return gettext(REVIEW_REASON_TOO_LONG).format(limit=ERROR_REASON_MAX_LENGTH, count=len(reason))
    return None


def injection_session_mark_in_error(
    *, user: Any, session: InjectionSession, reason: str, expected_version: int | None
) -> tuple[InjectionSession, tuple[SideEffect, ...]]:
    """Mark a recorded session entered in error (recorded for the wrong patient or on the wrong day, or never given),
    with ``reason``: the row and its sites stay as they were recorded, with who marked it, when and why, and every
    rule that reads the treatment history (``selectors.recorded_sessions``: the 12-week interval, the cumulative
    dose, the outcomes' first injection, billing, the exports) leaves it out from then on. A recorded session is never
    edited in place: when it is wrong (the wrong patient, day, sites or dose written), it is marked entered in error
    and the right one recorded afresh (a session on the same day is allowed again).

    Only a clinician (``Capability.DECIDE_TREATMENT``): it changes the history every dose and interval check reads.
    The side effects put down to it are put down to the patient's latest recorded session on or before their onset
    (``selectors.session_before``, the report's rule), or to none (as a review may: a report of the wrong patient's
    session may follow no session of theirs), and returned; their grade and relation, judged against this session,
    are cleared for a clinician to review them again (the reviews stay in their history), so the worklist lists
    them. The open booking, if any, stays as it is (the session page says so: its day may have been worked out from
    this session). ``SessionConflictError`` when the session is no longer recorded (``ERROR_NOT_RECORDED``) or
    changed since ``expected_version`` was read (``ERROR_SESSION_CHANGED``); nothing is written then. Under the
    patient's lock (``patient_locked``). The side effects not reviewed, or linked to no session, are then put down
    again by the report's rule, by the history as it now is (``relink_waiting_side_effects``; those moved to none
    have no session before them, and stay so). Audited, with the side effects moved, and those linked counted (each
    audited as its own event); the
    reason is the session's, not the trail's (as an override reason)."""
    if not can(user, Capability.DECIDE_TREATMENT):
        raise SessionRefusedError([("", gettext(ERROR_CLINICIAN_ONLY))])
    if (problem := error_reason_problem(reason)) is not None:
        raise SessionRefusedError([("reason", problem)])
    with transaction.atomic():
        patient = patient_locked(session.patient)
        current = InjectionSession.objects.select_for_update().filter(pk=session.pk).first()
        if current is None or current.status != SessionStatus.RECORDED:
            status = (current or session).get_status_display()
            raise SessionConflictError(gettext(ERROR_NOT_RECORDED).format(status=status))
        if expected_version is not None and current.version != expected_version:
            raise SessionConflictError(gettext(ERROR_SESSION_CHANGED))
        moves = side_effects_moved(current)
        InjectionSession.objects.filter(pk=current.pk).update(
            status=SessionStatus.IN_ERROR,
            error_reason=reason.strip(),
            error_marked_by=user,
            error_marked_at=timezone.now(),
            version=F("version") + 1,
            modified=timezone.now(),
        )
        moved = []
        for effect, after in moves:  # reviewed again: its grade and relation were judged against this session
            SideEffect.objects.filter(pk=effect.pk).update(
                session=after,
                clinician_grade="",
                related_to_treatment=None,
                reviewed_by=None,
                reviewed_at=None,
                modified=timezone.now(),
            )
            effect.session = after
            moved.append(effect)
        linked = relink_waiting_side_effects(patient)  # the others not reviewed, by the history as it now is
        why = f"session of {current.date} marked entered in error"
        audit_relinked(user=user, patient=patient, linked=linked, why=why)
        audit_record(
            user=user,
            action=Action.UPDATE,
            object_type="injection_session",
            object_id=current.external_id,
            patient_id=patient.external_id,
            detail=f"recorded session of {current.date} ({current.total_units} U) marked entered in error"
            + "".join(
                f"; side effect {effect.external_id} now after "
                + (f"the session of {effect.session.date}" if effect.session is not None else "no session")
                + ", to review again"
                for effect in moved
            )
            + relinked_count(linked),
        )
    session.refresh_from_db()
    return session, tuple(moved)


# --- Side effects -------------------------------------------------------------------------------------------------


def side_effect_description_problem(*, kind: SideEffectKind | str, description: str) -> str | None:
    """``DESCRIBE_SOMETHING_ELSE`` when a side effect of kind "other" has no description (only spaces count as none),
    else None: the clinic would receive "Something else · Moderate" and could not tell what happened. The report
    form, the API and ``side_effect_report`` all ask this one rule."""
    if kind == SideEffectKind.OTHER and not description.strip():
        return gettext(DESCRIBE_SOMETHING_ELSE)
    return None


def side_effect_problems(
    *, patient: Patient, kind: SideEffectKind | str, onset: dt.date, description: str, today: dt.date
) -> list[tuple[str, str]]:
    """What refuses a side effect, as ``(field, message)``: an onset after today, an onset before the patient's birth
    date (``Patient.predates_birth``, in the diary's words: ``common.words.before_birth_plain``) and "something
    else" without a description (``side_effect_description_problem``). The one rule ``side_effect_report`` and the
    imports ask."""
    problems = []
    if onset > today:
        problems.append(("onset", gettext(ONSET_IN_FUTURE).format(today=today)))
    elif patient.predates_birth(onset):
        problems.append(("onset", before_birth_plain(onset, patient.birth_date)))
    if (missing := side_effect_description_problem(kind=kind, description=description)) is not None:
        problems.append(("description", missing))
    return problems


def side_effect_first_session(patient: Patient, *, today: dt.date) -> InjectionSession | None:
    """The first session a side effect reported on ``today`` can follow: the patient's first recorded session, else
    their booked session dated ``today`` or earlier (given on its day and not recorded yet: a patient treated this
    morning reports this afternoon, before the clinic has recorded the session). None: no session to report after.
    The report form opens once there is one (the page asks this too)."""
    first = recorded_sessions(patient).first()
    if first is not None:
        return first
    booked = open_booking(patient)
    return booked if booked is not None and booked.date <= today else None


def side_effect_session_problems(
    *, user: Any, patient: Patient, onset: dt.date, today: dt.date
) -> list[tuple[str, str]]:
    """What refuses a report for want of a session before it, as ``(field, message)``: no session recorded, nor
    booked on or before ``today`` (``side_effect_first_session``; ``NO_SESSION_YET``, for the whole form), or an
    onset before that first session (``ONSET_BEFORE_FIRST_SESSION``, at ``onset``, naming both days). A side effect
    follows the session it is put down to (the review refuses a session after the onset: ``SESSION_AFTER_ONSET``),
    so a symptom that began before any treatment is not one. Worded for the patient reporting their own, or for
    staff reporting on the patient's behalf (the same rule). ``side_effect_report`` asks it (the form and the API);
    an import carries its side effects' own sessions and keeps its rules (``interop.services``)."""
    return _session_problems(user, side_effect_first_session(patient, today=today), onset)


def _session_problems(user: Any, first: InjectionSession | None, onset: dt.date) -> list[tuple[str, str]]:
    own = getattr(user, "role", None) == Role.PATIENT
    if first is None:
        return [("", gettext(NO_SESSION_YET) if own else gettext(NO_SESSION_YET_STAFF))]
    if onset < first.date:
        if own:
            message = gettext(ONSET_BEFORE_FIRST_SESSION)
        elif first.status == SessionStatus.RECORDED:
            message = gettext(ONSET_BEFORE_FIRST_SESSION_STAFF)
        else:
            message = gettext(ONSET_BEFORE_BOOKED_SESSION_STAFF)
        return [("onset", message.format(onset=plain_day(onset), first=plain_day(first.date)))]
    return []


def side_effect_report(
    *,
    user: Any,
    patient: Patient,
    kind: SideEffectKind | str,
    onset: dt.date,
    severity: Severity | str,
    description: str = "",
    today: dt.date | None = None,
    submission: uuid.UUID | None = None,
    answers_once: bool = False,
) -> SideEffect:
    """Save a side effect, attributed to the patient's most recent recorded session on or before its onset.

    The attribution is a suggestion a clinician confirms or changes on review. Raises ``SideEffectRefusedError``
    with the ``side_effect_problems`` found (onset after today or before birth, "something else" undescribed), or
    the ``side_effect_session_problems`` (no session recorded, nor booked on or before today, or an onset before
    the first: a symptom before any treatment is not a side effect of it), so every report follows a session. A
    report after a session booked and not recorded yet (``selectors.side_effect_booking``: the patient reporting on
    the day of treatment, before the clinic recorded it; the first session or a later one) has no recorded session
    to follow: it is saved with none (``session`` None, as a report whose session was entered in error), not put
    down to the session before that booking, and is linked when the patient's sessions change
    (``relink_waiting_side_effects``): to the session once recorded, or to the session before its onset when the
    booking is recorded on a later day, cancelled or moved past it.

    ``submission`` is the report form's token: the same form sent again (a double tap, or two posts at once) stores
    nothing more and returns the report the first one stored, with no second audit event. From the report page
    (``answers_once``), a report with the very answers of one the patient has (kind, onset, severity, description)
    is that report sent again under a new token (the browser's Back reloads the form with its answers and a fresh
    token): it is returned, nothing stored, as no report can be removed once sent and a copy would read as a second
    adverse event in the letters. (The API's clients keep their own key per report.) The insert tries
    first and the patient's unique (patient, submission) entry refuses the second, so two posts racing cannot both
    store. The token with other answers than its report's raises ``SideEffectAlreadySentError``: the form was changed
    after it was sent, and that report is neither merged into the first nor dropped unsaid.

    The patient's row is locked first (``patient_locked``), as by every write of a dated row: the onset is checked
    against the birth date as stored now (one moved later at the same moment cannot leave the onset before it), and
    the session it follows is read after the lock, so a session being recorded at the same moment is the one found.
    """
    today = today or timezone.localdate()
    description = description.strip()
    try:
        with transaction.atomic():  # a savepoint inside a caller's transaction: a refused insert leaves it usable
            locked = patient_locked(patient)
            first = side_effect_first_session(locked, today=today)
            problems = _session_problems(user, first, onset)
            if first is None:  # no session: the other answers are beside the point
                raise SideEffectRefusedError(problems)
            problems = [
                *side_effect_problems(patient=locked, kind=kind, onset=onset, description=description, today=today),
                *problems,
            ]
            if problems:
                raise SideEffectRefusedError(problems)
            same = SideEffect.objects.filter(
                patient=locked, kind=kind, onset=onset, severity=severity, description=description
            )
            if answers_once and (stored := same.first()) is not None:  # sent again from a form reloaded (new token)
                return stored
            booked = side_effect_booking(locked, onset)  # given, not recorded yet: not the session before it
            session = None if booked is not None else session_before(locked, onset)
            side_effect = SideEffect.objects.create(
                patient=patient,
                session=session,
                kind=kind,
                onset=onset,
                severity=severity,
                description=description,
                reported_by=user,
                submission=submission,
            )
            if session is not None:
                attribution = f"after the session of {session.date}"
            elif booked is not None:
                attribution = f"after the session booked for {booked.date}, not recorded yet"
            else:
                attribution = "no earlier session"
            audit_record(
                user=user,
                action=Action.CREATE,
                object_type="side_effect",
                object_id=side_effect.external_id,
                patient_id=patient.external_id,
                detail=f"side effect reported; {attribution}",
            )
    except IntegrityError:
        sent = None if submission is None else SideEffect.objects.filter(patient=patient, submission=submission).first()
        if sent is None:
            raise
        if (sent.kind, sent.onset, sent.severity, sent.description) != (kind, onset, severity, description):
            raise SideEffectAlreadySentError from None
        return sent
    return side_effect


def _moment(seen: str | dt.datetime) -> dt.datetime | None:
    """``seen`` as a datetime (the form carries it as ISO text); None when the text is not one."""
    if isinstance(seen, dt.datetime):
        return seen
    try:
        return dt.datetime.fromisoformat(seen)
    except ValueError:
        return None


def _to_the_millisecond(moment: dt.datetime | None) -> dt.datetime | None:
    """JSON carries times to the millisecond (Django's encoder), so versions are compared at that precision."""
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000) if moment is not None else None


def side_effect_review(
    *,
    user: Any,
    side_effect: SideEffect,
    grade: Severity | str,
    related_to_treatment: bool | None,
    session: InjectionSession | None,
    seen: str | dt.datetime | None = None,
    reason: str = "",
) -> SideEffect:
    """A clinician's grade, relatedness and attribution of a side effect; the session must be the patient's own
    recorded session, given on or before the onset (as a report is linked). ``seen`` is the side effect's
    ``modified`` (a datetime or its ISO text) when the review was opened: a review saved meanwhile refuses this one
    with ``SideEffectConflictError`` instead of being overwritten. Raises ``SideEffectRefusedError`` otherwise, and
    for a review without the clinician's own grade (the patient's severity is theirs, never a default for it).

    Every review is kept (``SideEffectReview``); the side effect holds the latest. A review that lowers the grade
    of the one before, or no longer calls it related to treatment, needs ``reason`` (``REVIEW_REASON_NEEDED``,
    naming who reviewed it how): a later review can correct an earlier one, never silently. Such a review of a
    clinician's review is a clinician's to make (``REVIEW_WEAKENED_CLINICIAN_ONLY``, ``Capability.DECIDE_TREATMENT``):
    a nurse may grade a side effect, or raise a grade, but not go below the latest clinician's review
    (``_clinicians_review``), even by way of a review of their own in between. Before any clinician has reviewed
    it, a nurse may not grade it below the patient's own severity nor call it not related to treatment
    (``unjudged_review_weakened``, ``REVIEW_BELOW_REPORT_CLINICIAN_ONLY``): a first review by a nurse cannot quietly
    play down an urgent report (the clinicians' worklist keeps it until a clinician's review is the one it holds:
    ``selectors.side_effects_to_review``). Under the patient's lock (``patient_locked``), taken before the side
    effect's, as every writer of the patient's sessions and side effects takes them. The same review sent again
    without a reason (a second tap) changes
    nothing and adds no review, unless it is a clinician's confirming a nurse's (``_confirms``): that one is kept,
    the clinician's."""
    reason = reason.strip()
    if grade not in Severity.values:
        raise SideEffectRefusedError([("grade", gettext(GRADE_NEEDED))])
    if len(reason) > REVIEW_REASON_MAX_LENGTH:
        message = gettext(REVIEW_REASON_TOO_LONG).format(limit=REVIEW_REASON_MAX_LENGTH, count=len(reason))
        raise SideEffectRefusedError([("reason", message)])
    if session is not None and (
        session.patient_id != side_effect.patient_id or session.status != SessionStatus.RECORDED
    ):
        raise SideEffectRefusedError([("session", gettext(SESSION_NOT_THE_PATIENTS))])
    if session is not None and session.date > side_effect.onset:
        message = gettext(SESSION_AFTER_ONSET).format(session=session.date, onset=side_effect.onset)
        raise SideEffectRefusedError([("session", message)])
    with transaction.atomic():
        # the patient first, then the side effect: the order of every writer of a patient's sessions and side
        # effects (recording, cancelling, marking in error: patient, session rows, side effects), so a review and
        # one of those at the same moment wait for each other instead of deadlocking (PostgreSQL)
        patient_locked(side_effect.patient)
        current = SideEffect.objects.select_for_update().get(pk=side_effect.pk)
        if seen is not None and _to_the_millisecond(current.modified) != _to_the_millisecond(_moment(seen)):
            raise SideEffectConflictError(gettext(REVIEW_CHANGED))
        if (overruled := clinicians_review_weakened(user, current, grade, related_to_treatment)) is not None:
            raise SideEffectRefusedError([("", overruled)])
        if (overruled := unjudged_review_weakened(user, current, grade, related_to_treatment)) is not None:
            raise SideEffectRefusedError([("", overruled)])
        weakened = _review_weakened(current, grade, related_to_treatment)
        if not reason and weakened:
            raise SideEffectRefusedError([("reason", _reason_needed(current))])
        unchanged = (current.clinician_grade, current.related_to_treatment, current.session_id) == (
            grade,
            related_to_treatment,
            session.pk if session is not None else None,
        )
        if unchanged and not reason and current.reviewed_by_id is not None and not _confirms(user, current):
            return current  # the same review sent again (a second tap, a page saved twice): nothing new to keep
        side_effect.clinician_grade = grade
        side_effect.related_to_treatment = related_to_treatment
        side_effect.session = session
        side_effect.reviewed_by = user
        side_effect.reviewed_at = timezone.now()
        side_effect.save(
            update_fields=[
                "clinician_grade",
                "related_to_treatment",
                "session",
                "reviewed_by",
                "reviewed_at",
                "modified",
            ]
        )
        SideEffectReview.objects.create(
            side_effect=side_effect,
            grade=grade,
            related_to_treatment=related_to_treatment,
            session=session,
            reviewed_by=user,
            reviewed_at=side_effect.reviewed_at,
            reason=reason,
        )
        audit_record(  # the grade and relatedness are clinical: they are kept in the review, not the audit trail
            user=user,
            action=Action.UPDATE,
            object_type="side_effect",
            object_id=side_effect.external_id,
            patient_id=side_effect.patient.external_id,
            detail=f"reviewed; session {session.date if session else 'none'}",
        )
    return side_effect


def _confirms(user: Any, current: SideEffect) -> bool:
    """Whether a review by ``user`` is a clinician's confirming ``current``'s latest review by someone who may not
    decide treatment (a nurse's): kept even when it changes nothing, as the clinician's review, so the report leaves
    the clinicians' worklist (``selectors.side_effects_to_review``)."""
    clinicians = roles_with(Capability.DECIDE_TREATMENT)
    reviewer = current.reviewed_by
    return can(user, Capability.DECIDE_TREATMENT) and reviewer is not None and reviewer.role not in clinicians


def _review_weakened(current: SideEffect, grade: str, related_to_treatment: bool | None) -> bool:
    """Whether a review of ``current`` (as saved, earlier reviewed) lowers its grade or no longer calls it related."""
    if not current.clinician_grade:
        return False
    return _weaker(current.clinician_grade, current.related_to_treatment, grade, related_to_treatment)


def _weaker(grade_before: str, related_before: bool | None, grade: str, related: bool | None) -> bool:
    """Whether ``grade`` is below ``grade_before``, or ``related`` no longer says related where it did."""
    return Severity.rank(grade) < Severity.rank(grade_before) or (related_before is True and related is not True)


def clinicians_review_weakened(
    user: Any, side_effect: SideEffect, grade: str, related_to_treatment: bool | None
) -> str | None:
    """``REVIEW_WEAKENED_CLINICIAN_ONLY`` when ``user`` may not decide treatment and a review of theirs would grade
    ``side_effect`` below the latest clinician's review (``_clinicians_review``) or no longer call it related where
    that review did; else None. The review form, the API and the imports (a grade a file carries) ask this one rule."""
    if can(user, Capability.DECIDE_TREATMENT):
        return None
    judged = _clinicians_review(side_effect)
    if judged is None or not _weaker(judged.grade, judged.related_to_treatment, grade, related_to_treatment):
        return None
    return _review_named(judged)


def unjudged_review_weakened(
    user: Any, side_effect: SideEffect, grade: str, related_to_treatment: bool | None
) -> str | None:
    """``REVIEW_BELOW_REPORT_CLINICIAN_ONLY`` when ``user`` may not decide treatment, no clinician has reviewed
    ``side_effect`` yet (``_clinicians_review``), and a review of theirs would grade it below the patient's own
    severity or call it not related to treatment; else None. Once a clinician has reviewed it,
    ``clinicians_review_weakened`` holds the review against theirs instead."""
    if can(user, Capability.DECIDE_TREATMENT):
        return None
    below = Severity.rank(grade) < Severity.rank(side_effect.severity)
    if not below and related_to_treatment is not False:
        return None
    if _clinicians_review(side_effect) is not None:
        return None
    return gettext(REVIEW_BELOW_REPORT_CLINICIAN_ONLY).format(severity=side_effect.get_severity_display())


def _clinicians_review(current: SideEffect) -> SideEffectReview | None:
    """The latest review of ``current`` by someone whose role decides treatment (a clinician; one who has left since
    too), from its kept reviews: the judgement a nurse may not weaken, however many reviews came after it (a nurse's
    own review in between does not make the clinician's lapse). None for a side effect not saved yet (an import's
    new row, held to the review's rules before it is written)."""
    if current.pk is None:
        return None
    return (
        current.reviews.filter(reviewed_by__role__in=roles_with(Capability.DECIDE_TREATMENT))
        .select_related("reviewed_by")
        .order_by("-reviewed_at", "-pk")
        .first()
    )


def _review_named(review: SideEffectReview) -> str:
    """``REVIEW_WEAKENED_CLINICIAN_ONLY`` naming the clinician's ``review``: who, when, its grade and relation."""
    return _named(
        gettext(REVIEW_WEAKENED_CLINICIAN_ONLY),
        review.reviewed_by,
        review.reviewed_at,
        review.get_grade_display(),
        review.related_to_treatment,
    )


def _named(message: str, reviewer: Any, at: dt.datetime | None, grade: str, related: bool | None) -> str:
    """``message`` (already translated) with a review's reviewer (``name``), day (``when``), ``grade`` and
    ``relation`` filled in."""
    name = (reviewer.get_full_name() or reviewer.username) if reviewer is not None else gettext("a clinician")
    when = gettext(REVIEWED_ON).format(day=timezone.localdate(at).isoformat()) if at else ""
    return message.format(name=name, when=when, grade=grade, relation=_relation_words(related))


def _relation_words(related: bool | None) -> str:
    """A review's relation to treatment in words."""
    if related is None:
        return gettext("relation not judged")
    return gettext("related to treatment") if related else gettext("not related to treatment")


def _reason_needed(current: SideEffect) -> str:
    """``REVIEW_REASON_NEEDED`` naming who reviewed ``current`` how, and when."""
    return _named(
        gettext(REVIEW_REASON_NEEDED),
        current.reviewed_by,
        current.reviewed_at,
        current.get_clinician_grade_display(),
        current.related_to_treatment,
    )
