"""Where each patient stands on the treatment pathway, computed by the engine, with the engine's reasons.

``pathway_state`` is the decision, a pure function of the diary, birth date and session dates; the selectors below
load those rows (one patient, or a whole clinic in three queries) and call it. No rule is re-implemented here: the
eligibility verdicts are ``onaboard.clinical.assess``, the schedule is ``schedule_status`` and the stopping rules
are ``treatment_outcomes`` (NICE TA260). This module only decides which of those answers the worklist shows first.

Order of precedence (the first that holds is the state):

Before treatment (no session recorded on or before today):

1. **booked**: a first session is booked for today or later (the clinic has acted, whatever the diary says);
2. **awaiting approval**: the label criteria are met and a prior-authorisation request awaits the payer;
3. **approval denied**: the label criteria are met and the payer denied the latest request (an appeal or a new
   request, or another way of funding, is the clinic's next step);
4. **eligible**: ``assess`` on today finds the BOTOX label criteria met over the last three 28-day periods;
5. **not eligible**: the label criteria are not met (chronic migraine "no", fewer than 15 four-hour headache days in a
   complete period, or under 18);
6. **diary running**: otherwise (not enough complete periods to judge).

On treatment (at least one session recorded on or before today):

0. **treatment stopped**: the latest decision a clinician recorded (``outcomes.TreatmentDecision``, on or before
   today) is to stop, whatever the engine says: the engine suggests, the clinician decides;
1. **stop suggested**: NICE TA260 1.2's stopping rule holds (< 30 % fewer headache days at week 24, or episodic
   migraine for three consecutive periods, the latter also while the engine's verdict waits for a complete
   baseline: the engine's ``NiceVerdict.stop_suggested``): review before another injection, the engine's reason for it
   as the summary. A clinician's decision to continue answers it
   while the newest period the verdict rests on (``outcomes.selectors.stop_rests_on``: week 24's for its
   reduction, which never changes; the latest complete one for a return to episodic migraine) ended on or before
   the decision's day (``outcomes.selectors.continue_answers_stop``, the session screen's rule too): the states
   below apply, the decision among the reasons; once a later period completes and the episodic rule holds,
   stop is suggested again, the reasons naming the earlier decision. The engine's verdict itself is never changed;
2. **week-24 assessment due**: week 24 (period 6 after the first injection) has ended, complete or with too few
   days recorded to measure the reduction (``Week24State.ENDED_INCOMPLETE``: the engine's verdict then stays
   ``not_yet_assessable`` for good, and the clinician judges the response from the periods recorded), and no
   session has been recorded after it, nor a decision to continue made after it, so the response has not been
   acted on yet. When the next session is overdue as well, the summary says so ("and overdue since", the day after
   the engine's due window) and the row is flagged (``ScheduleFlag.OVERDUE``);
3. **booked**: the next session is booked for today or later. A booking the engine's 12-week rule would refuse
   (``interval_check``) or one after the due window (``ScheduleStatus.due_until``) is said in the summary with its
   dates and flagged (``ScheduleFlag.BOOKED_BEFORE_DUE``, ``BOOKED_BEYOND_WINDOW``): the state stays booked;
4. **overdue**: more than 7 days past the 12-week due date;
5. **due**: from the 12-week due date to 7 days after it;
6. **on treatment**: the next session is not due yet.

A missed booking, whatever the state: a booking whose day has passed, still open, with nothing booked ahead
(``booking_missed``) is not "booked", but it is the patient's one open booking and keeps another day from being
booked, so the line carries it (``missed_booking``) and its summary says to record it, move it or cancel it
(``BOOKING_MISSED``); the worklist's Booked column shows it.

Prior authorisation, beside the state (``ApprovalStatus``, ``approval_line``): whatever the clinical state, each
worklist row also says where the patient's approvals stand on today, as the coverage page does
(``coverage.selectors.approval_state``, read for the whole list in one query by ``approval_states``). A patient
whose treatment a clinician has stopped (``TREATMENT_STOPPED``) with no session booked ahead has no session to
approve: the line is **not needed: treatment stopped**, unless a request still awaits a payer that asks for approval
(1 below, which billing withdraws); a booking still held after a stop keeps the line as it stands. Otherwise, under a
policy that asks for no approval at the patient's clinic's site of service (the label, NICE TA260, the AHS consensus
anywhere; Medicare in a physician's office: ``CoveragePolicy.asks_prior_authorisation_at``, the session screen's
rule) it is **not needed**, whatever was recorded. Otherwise the first that holds:

0. **required, not requested**: the policy (a shipped one: without insurance it is not known) asks for prior
   authorisation at the clinic's site, no request was ever made (or every one was withdrawn) and a session is
   ahead on the pathway (``REQUEST_DUE_STATES``: eligible, booked, and every on-treatment state but stop
   suggested). Making that request is billing's first job. A diary still running, or not meeting the label
   criteria, gives the request no evidence yet, and a suggested or decided stop means no session should be
   asked for until a clinician decides, so those patients show **none**;

1. **request pending**: a request awaits the payer (a first request, or one renewing the approval in force);
2. **denied**: the payer denied the latest request;
3. **renewal due**: the approval in force ends within ``RENEWAL_LEAD_DAYS`` and nothing renews or continues it;
4. **in force**: an approval covers today;
5. **approved, not in force yet**: an approval starts after today;
6. **ended**: the last approval's last day has passed;
7. **none**: no request, or none approved, denied or awaiting the payer (all withdrawn).

Required, pending, denied, renewal due and ended are what billing staff act on (``NEEDS_ATTENTION``, the
worklist's "needs attention" filter), and so is a session booked on a day no approval covers, whatever the status
(``booking_uncovered``: the booking's own warning, said on the row beside the status).
"""

from __future__ import annotations

import datetime as dt
import enum
import functools
import hashlib
from collections import Counter, defaultdict, namedtuple
from collections.abc import Iterable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.locmem import LocMemCache
from django.db import models
from django.db.models import Count, F, Max, OuterRef, Subquery
from django.db.models.functions import Cast
from django.utils import translation
from django.utils.translation import gettext, gettext_noop
from django.utils.translation import gettext_lazy as _

from onaboard.clinical import (
    DUE_WINDOW_DAYS,
    PERIOD_DAYS,
    WEEK24_PERIOD,
    Assessment,
    ChronicMigraine,
    CycleStatus,
    LabelCriteria,
    Outcomes,
    PatientDiary,
    ScheduleStatus,
    SiteOfService,
    assess,
    interval_check,
    schedule_status,
    treatment_outcomes,
)
from onaboard.clinical.diary import COLUMNS as DIARY_COLUMNS
from onaboard.policies import shipped_policies
from onaboard.web.audit.models import Action
from onaboard.web.audit.services import AuditEntry, audit_records
from onaboard.web.coverage.selectors import (
    ApprovalAnswers,
    ApprovalState,
    ApprovalStates,
    approval_answers,
    approval_states,
    booking_ahead,
)
from onaboard.web.diary.models import DiaryEntry
from onaboard.web.diary.selectors import diary_day_of
from onaboard.web.injections.models import ACTIVE_STATUSES, InjectionSession, SessionStatus, SideEffect
from onaboard.web.injections.selectors import interval_weeks, side_effects_to_review
from onaboard.web.outcomes.models import Decision, TreatmentDecision
from onaboard.web.outcomes.selectors import (
    LatestDecision,
    Week24Period,
    continue_answers_stop,
    decisions_by_latest,
    stop_rests_on,
    week24_period,
)
from onaboard.web.patients.access import Capability, can, patients_visible_to
from onaboard.web.patients.models import Patient


class PathwayState(models.TextChoices):
    """The worklist's states, in the order the worklist lists them (what needs doing first)."""

    STOP_SUGGESTED = "stop_suggested", _("stop suggested")
    OVERDUE = "overdue", _("overdue")
    WEEK24_DUE = "week24_due", _("week-24 assessment due")
    DUE = "due", _("due")
    APPROVAL_DENIED = "approval_denied", _("approval denied")
    ELIGIBLE = "eligible", _("eligible")
    AWAITING_APPROVAL = "awaiting_approval", _("awaiting approval")
    BOOKED = "booked", _("booked")
    ON_TREATMENT = "on_treatment", _("on treatment")
    DIARY_RUNNING = "diary_running", _("diary running")
    NOT_ELIGIBLE = "not_eligible", _("not eligible")
    TREATMENT_STOPPED = "treatment_stopped", _("treatment stopped")
    """Last: a clinician decided to stop, so nothing is due; listed after "not eligible" (also nothing to do)
    because they are the clinic's former patients, looked up least."""

    @property
    def tone(self) -> str:
        """The badge colour (onaboard.css: ok, warn, bad; empty for neutral)."""
        return STATE_TONE[self]


STATE_TONE: dict[str, str] = {
    PathwayState.STOP_SUGGESTED: "bad",
    PathwayState.OVERDUE: "bad",
    PathwayState.WEEK24_DUE: "warn",
    PathwayState.DUE: "warn",
    PathwayState.APPROVAL_DENIED: "bad",
    PathwayState.ELIGIBLE: "ok",
    PathwayState.AWAITING_APPROVAL: "warn",
    PathwayState.BOOKED: "ok",
    PathwayState.ON_TREATMENT: "ok",
    PathwayState.DIARY_RUNNING: "",
    PathwayState.NOT_ELIGIBLE: "",
    PathwayState.TREATMENT_STOPPED: "",
}
"""The badge colour of each state (onaboard.css: ok, warn, bad; none for neutral)."""

BOOKED_FIRST = _("first session booked for %(date)s")
BOOKED_NEXT = _("next session booked for %(date)s")
DIARY_PERIODS = _("%(complete)d of %(needed)d 28-day periods complete")
APPROVAL_DENIED_ON = _("the payer denied prior authorisation on %(date)s")
WEEK24_READY = _("week 24 (period %(period)d, %(start)s to %(end)s) is complete: assess the response")
WEEK24_ENDED_INCOMPLETE = _(
    "week 24 (period %(period)d, %(start)s to %(end)s) ended with %(recorded)d of %(period_days)d days recorded, so "
    "the reduction cannot be measured: judge the response from the periods recorded"
)
"""Week 24 over with fewer than the days a complete period needs (``Week24State.ENDED_INCOMPLETE``): the engine's
verdict stays not yet assessable for good, so the worklist asks the clinician to judge, as for a complete week 24."""
STOPPED_ON = _("Treatment stopped on %(date)s by %(name)s: %(reason)s")
STOPPED_BUT_BOOKED = _("a session is still booked for %(date)s: cancel it, as treatment has stopped")
CONTINUED_AGAINST_RULE = _("Continued against the stopping rule on %(date)s by %(name)s: %(reason)s")
STOP_RULE_STILL_HOLDS = _(
    "period %(period)d (%(start)s to %(end)s) has ended since that decision and the stopping rule still holds: "
    "decide again"
)
CONTINUE_DECIDED = _("Decided to continue on %(date)s by %(name)s: %(reason)s")
STOP_SUGGESTED_SINCE = _(
    "period %(period)d (%(start)s to %(end)s) has ended since that decision and NICE TA260 now suggests stopping: "
    "decide again"
)
"""A "continue" made when no stop was suggested (``LatestDecision.saw_stop`` false), and a stop suggested since."""
BOOKING_MISSED = gettext_noop(
    "the session booked for {date} was missed (or given and not yet recorded): record it, move the booking to the "
    "day agreed with the patient, or cancel it; while it is open, no other session can be booked"
)
"""A booking whose day has passed, still open (``booking_missed``): the words of the patient page's sessions and the
actions of the booking's own page (record, change date, cancel). It is the one open booking a patient may have, so
booking another day is refused (``injections.services.FIRST_BOOKING_OPEN``) until it is dealt with."""
SUMMARY_AND = gettext_noop("{summary}; {more}")
"""A state's summary followed by what else the row must say (a missed booking)."""
BOOKED_BEFORE_DUE = gettext_noop(
    "next session booked for {date}, only {days} days after the last session ({last}): before the earliest due "
    "date {earliest} ({weeks} weeks), so recording it that day will need a reason to override the interval"
)
"""A booking ahead that the engine's 12-week rule (``interval_check``) would not allow: the booking page's warning
(``injections.services.BOOKING_BEFORE_DUE``), on the worklist."""
BOOKED_BEYOND_WINDOW = gettext_noop(
    "next session booked for {date}, beyond the {window}-day window after the due date {due}: overdue from "
    "{overdue}, so move the booking earlier if the patient can come"
)
"""A booking ahead after the engine's due window (``ScheduleStatus.due_until``, ``DUE_WINDOW_DAYS``): the patient
will be overdue before it."""
WEEK24_AND_OVERDUE = gettext_noop(
    "{lead}, and overdue since {since}: the next session was due {due} and the {window}-day window after it has passed"
)
"""A week-24 assessment due while the next session is overdue too (``CycleStatus.OVERDUE``): the assessment leads,
the overdue session is said beside it."""


class ScheduleFlag(models.TextChoices):
    """A scheduling problem that a row's state does not name, said in its summary and flagged on the worklist row (a
    warn badge): the state's precedence puts the booking, or the week-24 assessment, first."""

    BOOKED_BEFORE_DUE = "booked_before_due", _("booked before the due date")
    """Booked less than the engine's interval after the last session (``interval_check`` refuses it)."""
    BOOKED_BEYOND_WINDOW = "booked_beyond_window", _("booked beyond the due window")
    """Booked after the due date's window (``ScheduleStatus.due_until``)."""
    OVERDUE = "overdue", _("overdue")
    """Week-24 assessment due, and the next session overdue as well."""


class _ShowsState:
    """The ``label`` and ``tone`` the templates show for a pathway ``state`` (a patient's pathway, a worklist line,
    row or group)."""

    __slots__ = ()
    state: PathwayState

    @property
    def label(self) -> str:
        return str(self.state.label)

    @property
    def tone(self) -> str:
        return self.state.tone


@dataclass(frozen=True, slots=True)
class Pathway(_ShowsState):
    """One patient's state, a one-line summary for the worklist, the engine's reasons, and the engine's results.

    ``assessment`` is set before treatment (eligibility on ``today``); ``outcomes`` and ``schedule`` once a session
    has been recorded, and ``decision``, the latest treatment decision on or before ``today``, when there is one.
    ``missed_booking`` is the day of an open booking that has passed with nothing booked ahead (``booking_missed``),
    and ``flag`` a scheduling problem the state does not name (``ScheduleFlag``); the summary says each.
    """

    state: PathwayState
    summary: str
    reasons: tuple[str, ...]
    today: dt.date
    first_session: dt.date | None = None
    last_session: dt.date | None = None
    next_due: dt.date | None = None
    booked_for: dt.date | None = None
    assessment: Assessment | None = None
    outcomes: Outcomes | None = None
    schedule: ScheduleStatus | None = None
    decision: LatestDecision | None = None
    missed_booking: dt.date | None = None
    flag: ScheduleFlag | None = None

    @property
    def treated(self) -> bool:
        return self.first_session is not None

    @property
    def week24(self) -> Week24Period | None:
        """Week 24's period once treated (its days, the days recorded in it, where it stands), else None."""
        return week24_period(self.outcomes) if self.outcomes is not None else None


def _booked_reason(booked_for: dt.date, *, first: bool) -> str:
    template = BOOKED_FIRST if first else BOOKED_NEXT
    return str(template % {"date": booked_for.isoformat()})


def _before_treatment(
    diary: PatientDiary,
    *,
    birth_date: dt.date | None,
    today: dt.date,
    booked_for: dt.date | None,
    approval_pending: bool,
    approval_denied_on: dt.date | None,
) -> Pathway:
    assessment = assess(diary, as_of=today, birth_date=birth_date)
    label = assessment.label_criteria
    chronic = assessment.chronic_migraine
    eligibility_reasons = (*chronic.reasons, *label.reasons)
    if booked_for is not None:
        summary = _booked_reason(booked_for, first=True)
        return Pathway(
            PathwayState.BOOKED,
            summary,
            (summary, *eligibility_reasons),
            today,
            booked_for=booked_for,
            assessment=assessment,
        )
    if label.verdict is LabelCriteria.MET:
        if approval_denied_on is not None and not approval_pending:
            summary = str(APPROVAL_DENIED_ON % {"date": approval_denied_on.isoformat()})
            return Pathway(
                PathwayState.APPROVAL_DENIED, summary, (summary, *eligibility_reasons), today, assessment=assessment
            )
        state = PathwayState.AWAITING_APPROVAL if approval_pending else PathwayState.ELIGIBLE
        return Pathway(state, label.reasons[-1], eligibility_reasons, today, assessment=assessment)
    if label.verdict is LabelCriteria.NOT_MET:
        # The most specific reason first: the ICHD-3 finding when chronic migraine is "no", else the label's own.
        summary = chronic.reasons[0] if chronic.verdict is ChronicMigraine.NO else label.reasons[0]
        return Pathway(PathwayState.NOT_ELIGIBLE, summary, eligibility_reasons, today, assessment=assessment)
    complete = sum(period.complete for period in assessment.periods)
    summary = str(DIARY_PERIODS % {"complete": complete, "needed": len(assessment.periods)})
    return Pathway(PathwayState.DIARY_RUNNING, summary, (summary, *eligibility_reasons), today, assessment=assessment)


def _week24_pending(outcomes: Outcomes, recorded: Sequence[dt.date]) -> Week24Period | None:
    """Week 24's period (the engine's period 6) when it has ended, complete or with too few days recorded
    (``Week24State.ENDED_INCOMPLETE``), and no session was recorded after it: the response has not been acted on
    yet. None otherwise."""
    week24 = week24_period(outcomes)
    if not (outcomes.week24.available or week24.ended_incomplete):
        return None
    return None if any(day > week24.end for day in recorded) else week24


def _week24_lead(week24: Week24Period) -> str:
    """The week-24 assessment's summary: complete (``WEEK24_READY``) or over with too few days recorded
    (``WEEK24_ENDED_INCOMPLETE``)."""
    numbers = {"period": WEEK24_PERIOD, "start": week24.start.isoformat(), "end": week24.end.isoformat()}
    if week24.ended_incomplete:
        return str(WEEK24_ENDED_INCOMPLETE % {**numbers, "recorded": week24.days_recorded, "period_days": PERIOD_DAYS})
    return str(WEEK24_READY % numbers)


def _week24_and_overdue(lead: str, schedule: ScheduleStatus) -> str:
    """The week-24 assessment's ``lead`` with the overdue next session beside it (``WEEK24_AND_OVERDUE``): overdue
    since the day after the engine's due window (``ScheduleStatus.due_until``)."""
    # overdue: a session was given, so the engine has set the due date and the window's last day
    return gettext(WEEK24_AND_OVERDUE).format(
        lead=lead,
        since=(schedule.due_until + dt.timedelta(days=1)).isoformat(),
        due=schedule.next_due.isoformat(),
        window=DUE_WINDOW_DAYS,
    )


def _booked_next(booked_for: dt.date, schedule: ScheduleStatus) -> tuple[str, ScheduleFlag | None, tuple[str, ...]]:
    """The summary of a next session booked for ``booked_for`` (on or after today, so after the last session), its
    flag and the engine's reason for it: before the engine's 12-week date (``interval_check`` refuses the day:
    ``BOOKED_BEFORE_DUE``, with the engine's reason), or after its due window (``ScheduleStatus.due_until``:
    ``BOOKED_BEYOND_WINDOW``), else the plain booking (``BOOKED_NEXT``)."""
    # on treatment: the engine has set the last session, the due date and the window's last day; and with a previous
    # session, interval_check the days since it and the earliest day allowed
    check = interval_check(schedule.last_session, booked_for)
    if not check.allowed:
        summary = gettext(BOOKED_BEFORE_DUE).format(
            date=booked_for.isoformat(),
            days=check.days_since_previous,
            last=schedule.last_session.isoformat(),
            earliest=check.earliest_allowed.isoformat(),
            weeks=interval_weeks(),
        )
        return summary, ScheduleFlag.BOOKED_BEFORE_DUE, (check.reason,)
    if booked_for > schedule.due_until:
        summary = gettext(BOOKED_BEYOND_WINDOW).format(
            date=booked_for.isoformat(),
            window=DUE_WINDOW_DAYS,
            due=schedule.next_due.isoformat(),
            overdue=(schedule.due_until + dt.timedelta(days=1)).isoformat(),
        )
        return summary, ScheduleFlag.BOOKED_BEYOND_WINDOW, ()
    return _booked_reason(booked_for, first=False), None, ()


def _on_treatment(
    diary: PatientDiary,
    *,
    recorded: Sequence[dt.date],
    today: dt.date,
    booked_for: dt.date | None,
    decision: LatestDecision | None = None,
) -> Pathway:
    outcomes = treatment_outcomes(diary, injections=recorded, as_of=today)
    schedule = schedule_status(recorded, today=today)
    nice = outcomes.nice_ta260
    common = {
        "today": today,
        "first_session": outcomes.first_injection,
        "last_session": schedule.last_session,
        "next_due": schedule.next_due,
        "booked_for": booked_for,
        "outcomes": outcomes,
        "schedule": schedule,
        "decision": decision,
    }
    if decision is not None and decision.decision is Decision.STOP:
        summary = decision.line(STOPPED_ON)
        booked = (str(STOPPED_BUT_BOOKED % {"date": booked_for.isoformat()}),) if booked_for is not None else ()
        # no next session is due once treatment has stopped: the worklist's and the patient page's "Next due" are empty
        stopped = {**common, "next_due": None}
        return Pathway(PathwayState.TREATMENT_STOPPED, summary, (summary, *booked, *nice.reasons), **stopped)
    continued = decision if decision is not None and decision.decision is Decision.CONTINUE else None
    decided: tuple[str, ...] = ()
    if nice.stop_suggested:
        if not continue_answers_stop(outcomes, continued):
            again: tuple[str, ...] = ()
            latest = stop_rests_on(outcomes)
            if continued is not None and latest is not None:
                since = STOP_RULE_STILL_HOLDS if continued.saw_stop else STOP_SUGGESTED_SINCE
                still = since % {
                    "period": latest.index,
                    "start": latest.start.isoformat(),
                    "end": latest.end.isoformat(),
                }
                again = (continued.line(CONTINUED_AGAINST_RULE if continued.saw_stop else CONTINUE_DECIDED), str(still))
            summary = nice.stop_reason
            return Pathway(PathwayState.STOP_SUGGESTED, summary, (*nice.reasons, *again), **common)
        decided = (continued.line(CONTINUED_AGAINST_RULE),) if continued is not None else ()
    elif continued is not None:
        decided = (continued.line(CONTINUE_DECIDED),)
    week24 = _week24_pending(outcomes, recorded)
    if week24 is not None and (continued is None or continued.decided_on <= week24.end):
        lead = _week24_lead(week24)
        flag = None
        if schedule.status is CycleStatus.OVERDUE:
            lead, flag = _week24_and_overdue(lead, schedule), ScheduleFlag.OVERDUE
        return Pathway(PathwayState.WEEK24_DUE, lead, (lead, *decided, *nice.reasons), flag=flag, **common)
    if booked_for is not None:
        summary, flag, checked = _booked_next(booked_for, schedule)
        reasons = (summary, *checked, *schedule.reasons, *decided, *nice.reasons)
        return Pathway(PathwayState.BOOKED, summary, reasons, flag=flag, **common)
    state = {
        CycleStatus.OVERDUE: PathwayState.OVERDUE,
        CycleStatus.DUE: PathwayState.DUE,
    }.get(schedule.status, PathwayState.ON_TREATMENT)
    # schedule.reasons[0] names the 12-week rule and the dates; [1] says where today falls against them (any
    # later ones are earlier sessions given under 12 weeks apart: history, not the status).
    return Pathway(state, schedule.reasons[1], (*schedule.reasons, *decided, *nice.reasons), **common)


def pathway_state(
    *,
    diary: PatientDiary,
    birth_date: dt.date | None,
    recorded: Iterable[dt.date],
    booked: Iterable[dt.date],
    today: dt.date,
    approval_pending: bool = False,
    approval_denied_on: dt.date | None = None,
    decision: LatestDecision | None = None,
) -> Pathway:
    """The patient's pathway state on ``today`` (precedence in the module docstring) with the engine's reasons.

    ``recorded`` are the dates of recorded sessions and ``booked`` of booked ones (cancelled sessions are left out
    by the caller). Sessions and diary days after ``today`` are ignored, and a booking before today that was never
    recorded does not count as booked: with nothing booked ahead, the latest such booking is the pathway's
    ``missed_booking``, said in the summary and the reasons (``BOOKING_MISSED``) whatever the state, since it is
    still open and keeps another day from being booked. ``approval_pending``: a prior-authorisation request awaits
    the payer; ``approval_denied_on``: the payer's answer to the latest request was no, on that day (an eligible,
    untreated patient is then "approval denied" until a new request is made). ``decision``: the latest decision a
    clinician recorded to continue or stop treatment; one dated after ``today`` is ignored, and before treatment none
    applies.
    """
    given = sorted({day for day in recorded if day <= today})
    booked = tuple(booked)
    booked_for = booking_ahead(booked, today=today)
    days = tuple(day for day in diary.days if day.date <= today)
    if len(days) != len(diary.days):
        diary = PatientDiary(diary.patient_id, days)
    if not given:
        pathway = _before_treatment(
            diary,
            birth_date=birth_date,
            today=today,
            booked_for=booked_for,
            approval_pending=approval_pending,
            approval_denied_on=approval_denied_on,
        )
    else:
        if decision is not None and decision.decided_on > today:
            decision = None
        pathway = _on_treatment(diary, recorded=given, today=today, booked_for=booked_for, decision=decision)
    missed = booking_missed(booked, today=today)
    return _with_missed_booking(pathway, missed) if missed is not None else pathway


def booking_missed(booked: Iterable[dt.date], *, today: dt.date) -> dt.date | None:
    """The latest of ``booked`` (days of sessions booked and not recorded) before ``today`` when none is on or after
    it (``booking_ahead``), else None: a booking the patient missed (or a session given and not yet recorded). A
    patient has one open booking (``one_open_booking_per_patient``), so this is the one that keeps another day from
    being booked (``injections.services.FIRST_BOOKING_OPEN``) until it is recorded, moved or cancelled."""
    booked = tuple(booked)
    if booking_ahead(booked, today=today) is not None:
        return None
    return max((day for day in booked if day < today), default=None)


def _with_missed_booking(pathway: Pathway, missed: dt.date) -> Pathway:
    """``pathway`` with its ``missed_booking``, said (``BOOKING_MISSED``) after its summary, and among its reasons
    right after the summary when they lead with it, else first: the state stays, the booking is one more thing to
    act on."""
    said = gettext(BOOKING_MISSED).format(date=missed.isoformat())
    summary = gettext(SUMMARY_AND).format(summary=pathway.summary, more=said)
    if pathway.reasons[:1] == (pathway.summary,):
        reasons = (pathway.summary, said, *pathway.reasons[1:])
    else:
        reasons = (said, *pathway.reasons)
    return replace(pathway, summary=summary, reasons=reasons, missed_booking=missed)


# --- Loading rows -----------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Sessions:
    recorded: tuple[dt.date, ...] = ()
    booked: tuple[dt.date, ...] = ()
    decision: int | None = None
    """The primary key of the patient's latest treatment decision, when it was asked for (``decisions_on``)."""


def _latest_decision(on: dt.date) -> Subquery:
    """The primary key of the latest treatment decision made on or before ``on`` by the patient of the outer query's
    ``patient_id``: a subquery, so a query the pathway makes anyway carries it, and no query is added to read it."""
    return Subquery(decisions_by_latest(on, patient=OuterRef("patient_id")).values("pk")[:1])


def _sessions_by_patient(patient_ids: Sequence[int], *, decisions_on: dt.date | None = None) -> dict[int, _Sessions]:
    """The recorded and booked session dates of each patient (one query); with ``decisions_on``, also the key of
    their latest treatment decision on or before it, in the same query (a patient with a decision has a recorded
    session: ``outcomes.services.treatment_decision_record`` refuses one before treatment)."""
    rows = InjectionSession.objects.filter(patient_id__in=patient_ids, status__in=ACTIVE_STATUSES)
    if decisions_on is not None:
        rows = rows.annotate(latest_decision=_latest_decision(decisions_on))
    recorded: dict[int, list[dt.date]] = defaultdict(list)
    booked: dict[int, list[dt.date]] = defaultdict(list)
    decisions: dict[int, int] = {}
    columns = ("patient_id", "date", "status", *(("latest_decision",) if decisions_on is not None else ()))
    for patient_id, day, status, *decision in rows.values_list(*columns):
        (recorded if status == SessionStatus.RECORDED else booked)[patient_id].append(day)
        if decision and decision[0] is not None:
            decisions[patient_id] = decision[0]
    return {pid: _Sessions(tuple(recorded[pid]), tuple(booked[pid]), decisions.get(pid)) for pid in patient_ids}


def _decisions(keys: Iterable[int]) -> dict[int, LatestDecision]:
    """The treatment decisions with these primary keys, by patient, with who made them: one query, none when there
    are no keys."""
    wanted = list(keys)
    if not wanted:
        return {}
    found = TreatmentDecision.objects.filter(pk__in=wanted).select_related("decided_by")
    return {record.patient_id: LatestDecision.of(record) for record in found}


_DIARY_COLUMNS = tuple(column for column in DIARY_COLUMNS if column not in {"patient_id", "notes"})
_DiaryRow = namedtuple("_DiaryRow", (*_DIARY_COLUMNS, "notes"), defaults=("",))
"""The stored columns the engine reads (notes left out), read as a light row instead of a model instance: a
clinic's diaries are 100 000 rows a year for 300 patients, and building models for them is what would be slow."""


def _diaries_by_patient(patients: Sequence[Patient], today: dt.date) -> dict[int, PatientDiary]:
    """Every patient's diary up to ``today`` in one query, as the engine reads it (patient id = public UUID).

    Rows go through ``diary.selectors.diary_day_of``, the one conversion from a stored row to the engine's day.
    """
    keys = {patient.pk: str(patient.external_id) for patient in patients}
    days: dict[int, list] = defaultdict(list)
    rows = (
        DiaryEntry.objects.filter(patient_id__in=list(keys), date__lte=today)
        .order_by("patient_id", "date")
        .values_list("patient_id", *_DIARY_COLUMNS)
    )
    for patient_id, *values in rows.iterator(chunk_size=5000):
        days[patient_id].append(diary_day_of(_DiaryRow(*values), keys[patient_id]))  # type: ignore[arg-type]
    return {pk: PatientDiary(key, tuple(days[pk])) for pk, key in keys.items()}


PATHWAY_CACHE = "pathways"
"""The cache alias (settings.CACHES) of the worklist's computed lines: a database cache, shared by every app
server process: a patient whose diary changed is computed once, not once per gunicorn worker, and a
restarted worker starts warm."""
PATHWAY_CACHE_SECONDS = 60 * 60
"""How long a computed line may be reused. Its cache key already changes with the day, with every saved diary row
or session (count and latest change) and with the code (``rules_version``), so this only bounds what a bulk
``update()`` could leave stale."""
LOCAL_COPY_SECONDS = 5 * 60
_LOCAL = LocMemCache("onaboard-pathway-lines", {"TIMEOUT": LOCAL_COPY_SECONDS, "OPTIONS": {"MAX_ENTRIES": 20000}})
"""This process's copy of the lines it has read or computed, in front of the shared cache: reading it saves a
database round trip and decoding a row per patient on every worklist. A key names its content (the fingerprint),
so a copy is as current as the shared entry; it is kept LOCAL_COPY_SECONDS, so it outlives the shared entry (and
what a bulk ``update()`` left stale) by five minutes at most."""


CachedLine = tuple[str, str, dt.date | None, dt.date | None, dt.date | None, dt.date | None, str]
"""A ``PathwayLine`` as the cache keeps it: state, summary, last session, next due, booked for, missed booking and
flag ("" for none), plain values only."""


@dataclass(frozen=True, slots=True)
class PathwayLine(_ShowsState):
    """What the worklist shows of a patient's ``Pathway``: the state, its one-line summary, the session dates, the
    missed booking and the scheduling flag.

    The cache keeps only this (as a plain tuple), not the engine's assessment and outcomes behind it: a whole
    ``Pathway`` holds hundreds of frozen dataclasses whose unpickling cost more than computing them again.
    """

    state: PathwayState
    summary: str
    last_session: dt.date | None = None
    next_due: dt.date | None = None
    booked_for: dt.date | None = None
    missed_booking: dt.date | None = None
    flag: ScheduleFlag | None = None

    @classmethod
    def of(cls, pathway: Pathway) -> PathwayLine:
        return cls(
            pathway.state,
            pathway.summary,
            pathway.last_session,
            pathway.next_due,
            pathway.booked_for,
            pathway.missed_booking,
            pathway.flag,
        )

    @classmethod
    def from_cached(cls, value: CachedLine) -> PathwayLine:
        state, summary, last_session, next_due, booked_for, missed_booking, flag = value
        flagged = ScheduleFlag(flag) if flag else None
        return cls(PathwayState(state), summary, last_session, next_due, booked_for, missed_booking, flagged)

    def cached(self) -> CachedLine:
        flag = self.flag.value if self.flag is not None else ""
        return (
            self.state.value,
            self.summary,
            self.last_session,
            self.next_due,
            self.booked_for,
            self.missed_booking,
            flag,
        )


@functools.cache
def rules_version() -> str:
    """A short digest of the code that words and decides a worklist line: the engine (``onaboard.clinical``), this
    module (the pathway's states, summaries and ``PathwayLine``'s cached shape), ``outcomes.selectors`` (when a
    decision answers a stop suggested) and the translation catalogues. It
    is part of every line's cache key, so after an upgrade that changes a rule or its wording no line computed by
    the old code is served, and no key has to be bumped by hand."""
    import onaboard.clinical
    import onaboard.web.outcomes.selectors

    sources = sorted(Path(onaboard.clinical.__file__).parent.glob("*.py"))
    catalogues = (path for folder in settings.LOCALE_PATHS for path in Path(folder).glob("*/LC_MESSAGES/*.po"))
    # outcomes.selectors holds the rule a line follows for a decision answering a stop suggested
    sources += [Path(__file__), Path(onaboard.web.outcomes.selectors.__file__), *sorted(catalogues)]
    digest = hashlib.sha256()
    for path in sources:
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def _fingerprints(
    patients: Sequence[Patient], today: dt.date, pending: AbstractSet[int], denied: Mapping[int, dt.date]
) -> tuple[dict[int, str], dict[int, int]]:
    """A cache key per patient that changes whenever anything the pathway reads changes, in two aggregate queries
    (``pending``: the patients awaiting a prior-authorisation answer; ``denied``: those whose latest was denied),
    and the primary key of each patient's latest treatment decision on or before ``today``, read in the sessions'
    aggregate (decisions are never changed, so a new one is a new key)."""
    ids = [patient.pk for patient in patients]

    def changes(queryset: models.QuerySet[Any], **more: Any) -> dict[int, tuple[Any, ...]]:
        # The latest change as the database's text: it is only compared, so there is no datetime to build.
        # Count("*"), not Count("id"): the diary's rows are counted from its (patient, date, modified) index alone.
        rows = queryset.values("patient_id").annotate(
            rows=Count("*"), last=Cast(Max("modified"), models.TextField()), **more
        )
        return {
            patient_id: tuple(values)
            for patient_id, *values in rows.values_list("patient_id", "rows", "last", *more).order_by()
        }

    diary = changes(DiaryEntry.objects.filter(patient_id__in=ids, date__lte=today))
    sessions = changes(InjectionSession.objects.filter(patient_id__in=ids), decision=_latest_decision(today))
    language = translation.get_language()  # the summaries are worded in the reader's language
    version = rules_version()
    keys = {}
    for patient in patients:
        parts = (
            patient.external_id,
            today,
            patient.birth_date,
            diary.get(patient.pk),
            sessions.get(patient.pk),
            patient.pk in pending,
            denied.get(patient.pk),
            language,
        )
        digest = hashlib.sha256(repr(parts).encode()).hexdigest()
        keys[patient.pk] = f"onaboard:pathway-line:{version}:{digest}"
    decisions = {pk: values[2] for pk, values in sessions.items() if values[2] is not None}
    return keys, decisions


def _fingerprint_keys(
    patients: Sequence[Patient], today: dt.date, pending: AbstractSet[int], denied: Mapping[int, dt.date]
) -> dict[int, str]:
    """The cache key of each patient's line (``_fingerprints``)."""
    return _fingerprints(patients, today, pending, denied)[0]


SHARE_BATCH = 250
"""How many computed lines are written to the shared cache in one ``set_many`` (one transaction)."""


def _share(lines: dict[str, Any]) -> None:
    """Write computed lines to the shared cache, SHARE_BATCH to a ``set_many``.

    The cache (``common.cache.BulkDatabaseCache``) writes a call's lines in one transaction of a few statements
    whatever their number: Django's database cache wrote each line in five statements and its own commit (the day's
    first worklist of a 300-patient clinic made 1,513 queries, 1,500 of them writing its lines; on SQLite a commit
    waits for the disk). Batches keep the write lock short for the diary saves waiting behind it."""
    cache = caches[PATHWAY_CACHE]
    items = list(lines.items())
    for start in range(0, len(items), SHARE_BATCH):
        cache.set_many(dict(items[start : start + SHARE_BATCH]), timeout=PATHWAY_CACHE_SECONDS)


def pathway_states(
    patients: Iterable[Patient], *, today: dt.date, answers: ApprovalAnswers | None = None
) -> dict[int, PathwayLine]:
    """The worklist line (state, summary, dates) of many patients' pathways, keyed by primary key.

    Two aggregate queries fingerprint each patient's diary and sessions, the latter with their latest treatment
    decision (one more finds who awaits a prior authorisation and whose latest request was denied). Unchanged
    patients' lines come from this process's copy, else from one read of the shared cache (PATHWAY_CACHE); the rest
    are computed from two queries (all their diary rows, all their sessions) whatever their number, and a third
    when any of them has a decision (those decisions), and cached. The caller passes patients it may see
    (``patients_visible_to``); nothing here checks access. ``answers``: the patients' ``approval_answers`` when the
    caller has read them already (the worklist, with their approval states: ``approval_states``), saving that query.
    """
    listed = list(patients)
    if not listed:
        return {}
    if answers is None:
        answers = approval_answers([patient.pk for patient in listed])
    pending, denied = answers.pending, answers.denied_on
    keys, decision_keys = _fingerprints(listed, today, pending, denied)
    cached = _LOCAL.get_many(list(keys.values()))
    if len(cached) < len(keys):
        shared = caches[PATHWAY_CACHE].get_many([key for key in keys.values() if key not in cached])
        _LOCAL.set_many(shared)
        cached.update(shared)
    result = {pk: PathwayLine.from_cached(cached[key]) for pk, key in keys.items() if key in cached}
    missing = [patient for patient in listed if patient.pk not in result]
    if missing:
        diaries = _diaries_by_patient(missing, today)
        sessions = _sessions_by_patient([patient.pk for patient in missing])
        decisions = _decisions(decision_keys[patient.pk] for patient in missing if patient.pk in decision_keys)
        computed = {
            patient.pk: PathwayLine.of(
                pathway_state(
                    diary=diaries[patient.pk],
                    birth_date=patient.birth_date,
                    recorded=sessions[patient.pk].recorded,
                    booked=sessions[patient.pk].booked,
                    today=today,
                    approval_pending=patient.pk in pending,
                    approval_denied_on=denied.get(patient.pk),
                    decision=decisions.get(patient.pk),
                )
            )
            for patient in missing
        }
        fresh = {keys[pk]: line.cached() for pk, line in computed.items()}
        _share(fresh)
        _LOCAL.set_many(fresh)
        result.update(computed)
    return result


def patient_pathway_state(patient: Patient, today: dt.date, *, diary: PatientDiary | None = None) -> Pathway:
    """One patient's pathway state on ``today``; pass ``diary`` when the caller has already loaded it. The latest
    treatment decision comes with the sessions, and costs a query only when there is one."""
    sessions = _sessions_by_patient([patient.pk], decisions_on=today)[patient.pk]
    decision = _decisions([sessions.decision]).get(patient.pk) if sessions.decision is not None else None
    if diary is None:
        diary = _diaries_by_patient([patient], today)[patient.pk]
    answers = approval_answers([patient.pk])
    return pathway_state(
        diary=diary,
        birth_date=patient.birth_date,
        recorded=sessions.recorded,
        booked=sessions.booked,
        today=today,
        approval_pending=patient.pk in answers.pending,
        approval_denied_on=answers.denied_on.get(patient.pk),
        decision=decision,
    )


# --- Prior authorisation on the worklist ------------------------------------------------------------------------


class ApprovalStatus(models.TextChoices):
    """Where a patient's prior authorisation stands on the worklist (precedence in the module docstring), in the
    order its filter lists them: what billing staff act on first."""

    REQUIRED = "required", _("required, not requested")
    PENDING = "pending", _("request pending")
    RENEWAL_DUE = "renewal_due", _("renewal due")
    DENIED = "denied", _("denied")
    ENDED = "ended", _("ended")
    UPCOMING = "upcoming", _("approved, not in force yet")
    IN_FORCE = "in_force", _("in force")
    NOT_NEEDED = "not_needed", _("not needed")
    STOPPED = "stopped", _("not needed: treatment stopped")
    NONE = "none", _("none")

    @property
    def tone(self) -> str:
        """The badge colour (onaboard.css: ok, warn, bad; empty for neutral)."""
        return APPROVAL_TONE[self]


APPROVAL_TONE: dict[str, str] = {
    ApprovalStatus.REQUIRED: "warn",
    ApprovalStatus.PENDING: "warn",
    ApprovalStatus.RENEWAL_DUE: "warn",
    ApprovalStatus.DENIED: "bad",
    ApprovalStatus.ENDED: "bad",
    ApprovalStatus.UPCOMING: "ok",
    ApprovalStatus.IN_FORCE: "ok",
    ApprovalStatus.NOT_NEEDED: "",
    ApprovalStatus.STOPPED: "",
    ApprovalStatus.NONE: "",
}
"""The badge colour of each approval status."""

NEEDS_ATTENTION = frozenset(
    {
        ApprovalStatus.REQUIRED,
        ApprovalStatus.PENDING,
        ApprovalStatus.RENEWAL_DUE,
        ApprovalStatus.DENIED,
        ApprovalStatus.ENDED,
    }
)
"""The approval statuses billing staff act on: make the first request, chase the payer, ask for the renewal,
appeal or ask again."""

REQUEST_DUE_STATES = frozenset(
    {
        PathwayState.ELIGIBLE,
        PathwayState.AWAITING_APPROVAL,
        PathwayState.APPROVAL_DENIED,
        PathwayState.BOOKED,
        PathwayState.WEEK24_DUE,
        PathwayState.OVERDUE,
        PathwayState.DUE,
        PathwayState.ON_TREATMENT,
    }
)
"""The pathway states in which a session is ahead, so a policy asking for prior authorisation needs a request:
"required, not requested" when none was made. Not a diary still running or not meeting the label criteria (the
request would have no evidence to rest on), nor a suggested or decided stop (no session to ask for until a
clinician decides)."""

ApprovalFilter = enum.StrEnum(
    "ApprovalFilter", [("NEEDS_ATTENTION", "needs_attention"), *((each.name, each.value) for each in ApprovalStatus)]
)
"""The worklist's approval filter (``approval=``): one ``ApprovalStatus``, or ``needs_attention`` for the rows
whose approval needs attention (``ApprovalLine.needs_attention``: any of ``NEEDS_ATTENTION``, or a booking no
approval covers)."""


@dataclass(frozen=True, slots=True)
class ApprovalLine:
    """What the worklist shows of a patient's approvals: the status, its day and the last day of the approval in
    force.

    ``date`` is the status's day: the request's (pending), the payer's answer's (denied, the request's when no
    answer day was recorded), the day the renewal falls due (renewal due), the approval's last day (in force: None
    when no end was given; ended) or first day (approved, not in force yet); None for not needed and none.
    ``approved_until`` is
    the last day of the approval in force, or of the later one continuing it (None when none is in force or no end
    was given), or of the approval not in force yet.
    """

    status: ApprovalStatus
    date: dt.date | None = None
    approved_until: dt.date | None = None
    booking_uncovered: dt.date | None = None
    """The day of the session booked ahead when the patient needs a request made (the policy asks for prior
    authorisation at the clinic's site, and a session is ahead on the pathway) and no approval covers that day
    (``booking_uncovered``, the rule of the booking's warning), whatever the status says of today: an approval in
    force until a day before the booking needs renewing before it, though its renewal is not due yet."""

    @property
    def label(self) -> str:
        return str(self.status.label)

    @property
    def tone(self) -> str:
        return self.status.tone

    @property
    def needs_attention(self) -> bool:
        """A status billing staff act on (``NEEDS_ATTENTION``), or a booking no approval covers."""
        return self.status in NEEDS_ATTENTION or self.booking_uncovered is not None


def asks_prior_authorisation(policy_id: str | None, site: SiteOfService | str) -> bool:
    """Whether the patient's insurance policy (its id, None without insurance) asks for prior authorisation at the
    patient's clinic's site of service (``CoveragePolicy.asks_prior_authorisation_at``: Medicare in a hospital
    outpatient department only). Without insurance, or with a policy no longer shipped, it is not known, and the
    recorded requests are shown as they stand."""
    policy = shipped_policies().get(policy_id) if policy_id else None
    return policy is None or policy.asks_prior_authorisation_at(site)


def requires_prior_authorisation(policy_id: str | None, site: SiteOfService | str, state: PathwayState) -> bool:
    """Whether the patient needs a request made: a shipped policy (not merely an unknown one) asks for prior
    authorisation at the clinic's site and the pathway ``state`` has a session ahead (``REQUEST_DUE_STATES``)."""
    policy = shipped_policies().get(policy_id) if policy_id else None
    return policy is not None and state in REQUEST_DUE_STATES and policy.asks_prior_authorisation_at(site)


def approval_line(
    state: ApprovalState, *, asked: bool = True, required: bool = False, stopped: bool = False
) -> ApprovalLine:
    """The worklist's approval status of ``state`` (``coverage.selectors.approval_state``): not needed when the
    patient's policy asks for none (``asked`` False: ``asks_prior_authorisation``), else the first that holds, in
    the module docstring's order; "required, not requested" in place of none when ``required``
    (``requires_prior_authorisation``). When a clinician has stopped treatment and nothing is booked ahead
    (``stopped``: the pathway's ``TREATMENT_STOPPED`` without ``booked_for``, ``coverage.selectors.treatment_stopped``'s
    rule) no session is ahead to approve: "not needed: treatment stopped", whatever the policy asks, unless a request
    still awaits a payer that asks for one (billing withdraws it)."""
    if stopped and (not asked or state.pending is None):
        return ApprovalLine(ApprovalStatus.STOPPED)
    if not asked:
        return ApprovalLine(ApprovalStatus.NOT_NEEDED)
    current = state.current
    until = (state.continued_by or current).approved_until if current is not None else None
    if state.pending is not None:
        return ApprovalLine(ApprovalStatus.PENDING, state.pending.requested_on, until)
    if state.denied is not None:
        return ApprovalLine(ApprovalStatus.DENIED, state.denied.decided_on or state.denied.requested_on, until)
    if current is not None:
        if state.renewal_overdue:
            return ApprovalLine(ApprovalStatus.RENEWAL_DUE, state.renewal_due, until)
        return ApprovalLine(ApprovalStatus.IN_FORCE, until, until)
    if state.upcoming is not None:
        upcoming = state.upcoming
        return ApprovalLine(ApprovalStatus.UPCOMING, upcoming.approved_from, upcoming.approved_until)
    if state.ended is not None:
        return ApprovalLine(ApprovalStatus.ENDED, state.ended.approved_until)
    return ApprovalLine(ApprovalStatus.REQUIRED if required else ApprovalStatus.NONE)


def booking_uncovered(
    approvals: ApprovalStates,
    patient_id: int,
    policy_id: str | None,
    site: SiteOfService | str,
    state: PathwayState,
    booked: dt.date | None,
) -> dt.date | None:
    """``booked`` (the day of the session booked ahead) when the patient needs a request made
    (``requires_prior_authorisation``: a shipped policy asks for prior authorisation at the clinic's ``site`` and the
    pathway ``state`` has a session ahead) and no approval covers that day (``ApprovalStates.covers``, the rule of
    ``coverage.selectors.approval_on`` that the booking's warning asks), else None. Without insurance, or under a
    policy no longer shipped, whether approval is needed is not known, and nothing is said, as on the booking; nor
    while a stop is suggested or decided, when no session should be asked for until a clinician decides."""
    if booked is None or not requires_prior_authorisation(policy_id, site, state):
        return None
    return None if approvals.covers(patient_id, booked) else booked


def _approval_matches(line: ApprovalLine, chosen: enum.StrEnum | None) -> bool:
    if chosen is None:
        return True
    if chosen == "needs_attention":
        return line.needs_attention
    return line.status == chosen


# --- The worklist -----------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class WorklistRow(_ShowsState):
    """One patient on the worklist. ``summary`` is None for users without the clinical view (billing staff);
    ``approval`` is where their prior authorisation stands, beside the clinical ``state``."""

    patient: Patient
    state: PathwayState
    summary: str | None
    last_session: dt.date | None
    next_due: dt.date | None
    booked_for: dt.date | None
    approval: ApprovalLine
    missed_booking: dt.date | None = None
    """The day of a booking still open whose day has passed, nothing booked ahead (``booking_missed``)."""
    flag: ScheduleFlag | None = None
    """A scheduling problem the state does not name (``ScheduleFlag``), flagged with a warn badge."""


@dataclass(frozen=True, slots=True)
class WorklistGroup(_ShowsState):
    state: PathwayState
    rows: tuple[WorklistRow, ...]
    key: str = ""
    """A digest of everything the group's section shows (each row's patient, names, record number, state, summary,
    dates, missed booking, flag and approval status, the clinical view or not, the language), for caching the
    section's rendered HTML: ``{% cache 3600 worklist_group group.key %}``. A saved diary day changes one group's
    key, not the others'."""


@dataclass(frozen=True, slots=True)
class Worklist:
    """The patients a user may see, grouped by state in ``PathwayState`` order, with a count per state."""

    groups: tuple[WorklistGroup, ...]
    counts: tuple[tuple[PathwayState, int], ...]
    """Every state with its number of patients matching the search and the approval filter (before the state
    filter)."""
    total: int
    """The patients matching the search (before either filter)."""
    query: str
    state: PathwayState | None
    clinical: bool
    side_effects: tuple[SideEffect, ...] = ()
    """The side effects waiting for a clinician's review, urgent kinds first, then the latest reported
    (``injections.selectors.side_effects_to_review``, at most its ``TO_REVIEW_LIMIT``): the clinic's, whatever the
    search and the state filter, so no report is hidden by them; none for users without the clinical view. Read on
    every load, never cached."""
    side_effects_total: int = 0
    """How many side effects wait for review in all (``side_effects`` may list fewer)."""
    approval: enum.StrEnum | None = None
    """The approval filter (an ``ApprovalFilter``), None for every patient."""
    approval_counts: tuple[tuple[ApprovalStatus, int], ...] = ()
    """Every approval status with its number of patients matching the search and the state filter (before the
    approval filter)."""
    needs_attention: int = 0
    """The patients matching the search and the state filter whose approval needs attention
    (``ApprovalLine.needs_attention``: a status in ``NEEDS_ATTENTION``, or a booking no approval covers)."""

    @property
    def any_state(self) -> int:
        """The patients matching the search and the approval filter, whatever their state (the "all" chip)."""
        return sum(count for _state, count in self.counts)

    @property
    def any_approval(self) -> int:
        """The patients matching the search and the state filter, whatever their approval (the "any" chip)."""
        return sum(count for _status, count in self.approval_counts)


WORKLIST_PATIENT_FIELDS = ("external_id", "clinic", "record_number", "given_name", "family_name", "birth_date")
"""The patient columns the worklist reads (the pathway's birth date, the page's and the API's names and links):
a clinic's worth of full rows, safety answers and all, cost more to build than the rest of a cached worklist."""


SEARCH_MAX_LENGTH = 100
"""The longest worklist search the API and the page take (longer: 422 from the API, shortened on the page)."""
SEARCH_MAX_WORDS = 5
"""How many words of a search are looked for: each adds a three-way match on every patient, and a search of a
thousand words took seconds on PostgreSQL and was refused by SQLite ("Expression tree is too large")."""


def _search(patients: models.QuerySet[Patient], query: str) -> models.QuerySet[Patient]:
    """Each of the first ``SEARCH_MAX_WORDS`` words of ``query`` must appear in the given name, family name or
    record number; later words are not looked for."""
    for word in query.split()[:SEARCH_MAX_WORDS]:
        patients = patients.filter(
            models.Q(given_name__icontains=word)
            | models.Q(family_name__icontains=word)
            | models.Q(record_number__icontains=word)
        )
    return patients


def _group_key(rows: Sequence[WorklistRow], *, clinical: bool, language: str | None) -> str:
    shown = [
        (
            row.patient.external_id,
            row.patient.family_name,
            row.patient.given_name,
            row.patient.record_number,
            row.state.value,
            row.summary,
            row.last_session,
            row.next_due,
            row.booked_for,
            row.missed_booking,
            row.flag,
            row.approval.status.value,
            row.approval.date,
            row.approval.approved_until,
            row.approval.booking_uncovered,
        )
        for row in rows
    ]
    return hashlib.sha256(repr((clinical, language, shown)).encode()).hexdigest()


BY_DATE: dict[PathwayState, str] = {
    PathwayState.OVERDUE: "next_due",
    PathwayState.DUE: "next_due",
    PathwayState.BOOKED: "booked_for",
}
"""The states whose rows the worklist orders by a date, earliest first (the longest-waiting patient, the nearest
booking), and the row's date it orders by; a tie, and every other state, keeps the order by name."""


def _by_date(rows: list[WorklistRow], field: str) -> list[WorklistRow]:
    """``rows`` by their ``field`` date, earliest first, rows without one last; stable, so ties keep their order."""
    return sorted(rows, key=lambda row: (getattr(row, field) is None, getattr(row, field) or dt.date.min))


def worklist(*, user: Any, today: dt.date, query: str = "", state: str = "", approval: str = "") -> Worklist:
    """The patients ``user`` may see (``patients_visible_to``), searched, with their states and approval statuses,
    filtered by ``state`` and by ``approval`` (an ``ApprovalFilter`` value; an unknown state or approval filter is
    ignored), and the side effects waiting for review (one query, not narrowed by the search or the filters). NUL
    characters in ``query`` are ignored; ``_search`` looks for its first ``SEARCH_MAX_WORDS`` words. Each group lists
    its patients by name, overdue, due and booked ones by date (``BY_DATE``). The approvals are read in the one
    query that also gives the pathway its approval seam (``approval_states``), fresh on every load: only the
    clinical line is cached.

    Users without the clinical view (billing staff, administrators) get state names and dates but no reasons and
    no side effects. The read is audited once, with how many patients were listed and side effects shown, and once
    for each patient listed and each side effect shown (one statement), so a patient's trail shows who saw them here.
    """
    clinical = can(user, Capability.VIEW_CLINICAL)
    query = query.replace("\x00", "").strip()  # no stored name holds a NUL, and PostgreSQL refuses one in a query
    chosen = PathwayState(state) if state in PathwayState.values else None
    chosen_approval = ApprovalFilter(approval) if approval in ApprovalFilter.__members__.values() else None
    found = list(
        _search(patients_visible_to(user), query)
        .only(*WORKLIST_PATIENT_FIELDS)
        # whether approval is asked for (the policy at the clinic's site of service), in the same query
        .annotate(insurance_policy=F("insurance__policy_id"), clinic_site=F("clinic__site_of_service"))
        .order_by("family_name", "given_name", "record_number")
    )
    approvals = approval_states([patient.pk for patient in found], today=today)
    pathways = pathway_states(found, today=today, answers=approvals.answers)
    every: list[WorklistRow] = []
    for patient in found:
        line = pathways[patient.pk]
        every.append(
            WorklistRow(
                patient=patient,
                state=line.state,
                summary=line.summary if clinical else None,
                last_session=line.last_session,
                next_due=line.next_due,
                booked_for=line.booked_for,
                missed_booking=line.missed_booking,
                flag=line.flag,
                approval=replace(
                    approval_line(
                        approvals.states[patient.pk],
                        asked=asks_prior_authorisation(patient.insurance_policy, patient.clinic_site),
                        required=requires_prior_authorisation(
                            patient.insurance_policy, patient.clinic_site, line.state
                        ),
                        # as coverage.selectors.treatment_stopped: a booking still held keeps the approvals as they are
                        stopped=line.state is PathwayState.TREATMENT_STOPPED and line.booked_for is None,
                    ),
                    booking_uncovered=booking_uncovered(
                        approvals,
                        patient.pk,
                        patient.insurance_policy,
                        patient.clinic_site,
                        line.state,
                        line.booked_for,
                    ),
                ),
            )
        )
    rows: dict[PathwayState, list[WorklistRow]] = defaultdict(list)
    for row in every:
        if _approval_matches(row.approval, chosen_approval):
            rows[row.state].append(row)
    for each, field in BY_DATE.items():
        rows[each] = _by_date(rows[each], field)
    language = translation.get_language()
    groups = tuple(
        WorklistGroup(each, tuple(rows[each]), _group_key(rows[each], clinical=clinical, language=language))
        for each in PathwayState
        if rows[each] and (chosen is None or each is chosen)
    )
    counts = tuple((each, len(rows[each])) for each in PathwayState)
    in_state = [row for row in every if chosen is None or row.state is chosen]
    by_approval = Counter(row.approval.status for row in in_state)
    approval_counts = tuple((each, by_approval[each]) for each in ApprovalStatus)
    listed = sum(len(group.rows) for group in groups)
    side_effects, side_effects_total = side_effects_to_review(user)
    parts = (
        f"{listed} patients listed",
        f"search {query!r}" if query else "",
        chosen or "",
        chosen_approval or "",
        f"{side_effects_total} side effects to review" if side_effects_total else "",
    )
    audit_records(  # one statement: the page, each patient on it and each side effect shown, as read
        user=user,
        entries=[
            AuditEntry(action=Action.READ, object_type="worklist", detail="; ".join(part for part in parts if part)),
            *(
                AuditEntry.for_patient(row.patient, action=Action.READ, object_type="patient", detail="worklist")
                for group in groups
                for row in group.rows
            ),
            *(
                AuditEntry(
                    action=Action.READ,
                    object_type="side_effect",
                    object_id=effect.external_id,
                    patient_id=effect.patient.external_id,
                    detail="worklist: to review",
                )
                for effect in side_effects
            ),
        ],
    )
    return Worklist(
        groups,
        counts,
        len(found),
        query,
        chosen,
        clinical,
        tuple(side_effects),
        side_effects_total,
        chosen_approval,
        approval_counts,
        sum(row.approval.needs_attention for row in in_state),
    )
