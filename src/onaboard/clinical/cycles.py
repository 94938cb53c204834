"""Treatment cycles: the 12-week retreatment interval and the cumulative onabotulinumtoxinA dose.

Sources:
- BOTOX (onabotulinumtoxinA) US Prescribing Information, Dosage and Administration, Chronic Migraine: the
  recommended retreatment schedule is every 12 weeks (section 2.2 in the 2010 label; numbering moves between
  revisions, so messages cite the section by title).
- Medicare LCDs L34635 and L39831 (summaries): not covered more often than every 12 weeks.
- BOTOX US PI, Dosage and Administration, Instructions for Safe Use: in adults treated for one or more indications
  the cumulative dose should not exceed 400 U in a 3-month interval. Confirmed in the BOTOX Cosmetic labelling
  summary and secondary sources (clinical-facts.md section 2); the exact therapeutic-PI sentence was not retrieved.
- BOTOX US PI, Warnings and Precautions, Lack of Interchangeability between Botulinum Toxin Products: BOTOX units
  cannot be compared with or converted into units of any other botulinum toxin product.
- COMPEL (NCT01516892; Blumenfeld et al., J Headache Pain 2018): injections every 12 weeks +/- 7 days. This trial
  visit window is used here as the clinic's grace period between "due" and "overdue"; it is not a label rule.
"""

from __future__ import annotations

import datetime as dt
import enum
import itertools
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TypeGuard

from onaboard.clinical.errors import RefusedError
from onaboard.clinical.periods import months_before

__all__ = [
    "CUMULATIVE_LIMIT_UNITS",
    "CUMULATIVE_WINDOW_MONTHS",
    "DUE_WINDOW_DAYS",
    "ONABOTULINUMTOXINA_NAMES",
    "RETREATMENT_INTERVAL_DAYS",
    "CycleStatus",
    "DoseCheck",
    "IntervalCheck",
    "ScheduleError",
    "ScheduleStatus",
    "SessionCycleChecks",
    "ToxinDose",
    "cumulative_dose_check",
    "cumulative_window",
    "interval_check",
    "is_onabotulinumtoxin_a",
    "schedule_status",
    "session_cycle_checks",
]

RETREATMENT_INTERVAL_DAYS = 84
"""BOTOX PI, Chronic Migraine: retreat every 12 weeks (84 days); payers (Medicare L34635, L39831): not more often."""

DUE_WINDOW_DAYS = 7
"""Clinic convention, not a label rule: a session up to 7 days past the due date is "due", later is "overdue"
(COMPEL's 12 weeks +/- 7 days visit window)."""

CUMULATIVE_LIMIT_UNITS = 400
"""BOTOX PI, Instructions for Safe Use: at most 400 U in a 3-month interval in adults, across all indications."""

CUMULATIVE_WINDOW_MONTHS = 3
"""BOTOX PI, Instructions for Safe Use: the cumulative limit applies to a 3-month interval (calendar months here)."""

ONABOTULINUMTOXINA_NAMES = frozenset({"botox", "onabotulinumtoxin", "vistabel"})
"""Name fragments that mean onabotulinumtoxinA, matched anywhere in the normalised product name (casefolded,
letters and digits only: see ``is_onabotulinumtoxin_a``).

- "botox": BOTOX and BOTOX Cosmetic, the same toxin and units (BOTOX US PI).
- "onabotulinumtoxin": the nonproprietary name onabotulinumtoxinA, however it is spaced or hyphenated
  ("Onabotulinum toxin A", "ona-botulinumtoxinA", "onabotulinumtoxin type A"). No other botulinum toxin's name
  contains it: abobotulinumtoxinA, incobotulinumtoxinA, daxibotulinumtoxinA, prabotulinumtoxinA,
  letibotulinumtoxinA and rimabotulinumtoxinB all differ before "botulinumtoxin".
- "vistabel": the EU/UK brand of onabotulinumtoxinA (Allergan). clinical-facts.md does not name it; the source is
  the EMA/MHRA SmPC "Vistabel 4 Allergan Units/0.1 ml powder for solution for injection" (Clostridium botulinum
  type A toxin, Allergan Units as BOTOX). Other national brand names (e.g. Vistabex) are not listed because no
  source was retrieved for them; such a dose is shown as not counted, with its reason, for the clinician to judge.
"""

# --- Error messages (format strings; tests assert them exactly) ------------------------------------------------

DUPLICATE_SESSION = "session dates: {date} is listed {count} times"
FUTURE_SESSION = "session dates: {date} is after today ({today})"
PROPOSED_BEFORE_PREVIOUS = "12-week rule: the proposed date {proposed} is before the previous session of {previous}"
DOSE_UNITS = "dose: units must be a whole number of at least 1, got {units!r}"
DOSE_PRODUCT = "dose: product must name the botulinum toxin given, got {product!r}"
PROPOSED_NOT_BOTOX = (
    "cumulative dose: the proposed product {product!r} is not onabotulinumtoxinA; the 400 U limit counts BOTOX units"
)

# --- Reasons (format strings) ----------------------------------------------------------------------------------

REASON_NOT_STARTED = "no injection session recorded yet; cycle 1 starts with the first session"
REASON_INTERVAL = (
    "BOTOX label, chronic migraine: retreat every 12 weeks ({interval} days); last session {last}, next due {due}"
)
REASON_NOT_YET_DUE = "not yet due: {today} is {days} after the last session (< {interval}); earliest {due}"
REASON_DUE = (
    "due: {today} is {days} past the due date {due}, within the {window}-day window "
    "(clinic convention from COMPEL's 12 weeks +/- 7 days)"
)
REASON_OVERDUE = (
    "overdue: {today} is {days} past the due date {due}, beyond the {window}-day window "
    "(clinic convention from COMPEL's 12 weeks +/- 7 days)"
)
REASON_FIRST_SESSION = "12-week rule: no previous session, so {proposed} starts cycle 1"
REASON_INTERVAL_OK = "12-week rule: {proposed} is {days} after the session of {previous} (>= {interval})"
REASON_INTERVAL_SHORT = "12-week rule: {proposed} is {days} after the session of {previous} (< {interval})"
REASON_CUMULATIVE = (
    "BOTOX label: {proposed} U proposed + {window_units} U in {start}..{end} = {total} U "
    "({comparison} {limit} U in 3 months)"
)
REASON_LATER_WINDOW = (
    "BOTOX label: with {proposed} U on {date}, the 3 months {start}..{end} (to the dose of {end}) hold {total} U "
    "({comparison} {limit} U in 3 months)"
)
REASON_NOT_COUNTED = (
    "not counted: {product} {units} U on {date} (units of other botulinum toxin products cannot be converted to "
    "BOTOX units; BOTOX label, Lack of Interchangeability)"
)


class ScheduleError(RefusedError):
    """Session dates or doses refused; ``problems`` lists every reason, one message each."""


class CycleStatus(enum.StrEnum):
    """Where the patient stands against the 12-week retreatment schedule."""

    NOT_STARTED = "not_started"
    NOT_YET_DUE = "not_yet_due"
    DUE = "due"
    OVERDUE = "overdue"


@dataclass(frozen=True, slots=True)
class ScheduleStatus:
    """The retreatment schedule on ``today``: dates, status and the reasons naming rule and numbers.

    ``days_overdue`` counts days past ``next_due`` and is 0 unless the status is ``overdue``.
    """

    status: CycleStatus
    cycle_number: int
    last_session: dt.date | None
    next_due: dt.date | None
    earliest_allowed: dt.date | None
    due_until: dt.date | None
    days_overdue: int
    reasons: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class IntervalCheck:
    """Whether a proposed session respects the 12-week minimum interval after the previous one."""

    allowed: bool
    proposed: dt.date
    previous_session: dt.date | None
    days_since_previous: int | None
    earliest_allowed: dt.date | None
    reason: str


def interval_check(previous_session: dt.date | None, proposed: dt.date) -> IntervalCheck:
    """Allow a session only 84 days or more after the previous one.

    BOTOX PI, Chronic Migraine: retreatment every 12 weeks; payers (Medicare L34635, L39831) do not cover sessions
    more often than every 12 weeks. 83 days is refused, 84 allowed. Raises ``ScheduleError`` when the proposed
    date is before the previous session.
    """
    if previous_session is None:
        return IntervalCheck(True, proposed, None, None, None, REASON_FIRST_SESSION.format(proposed=proposed))
    if proposed < previous_session:
        raise ScheduleError(PROPOSED_BEFORE_PREVIOUS.format(proposed=proposed, previous=previous_session))
    days = (proposed - previous_session).days
    earliest = previous_session + dt.timedelta(days=RETREATMENT_INTERVAL_DAYS)
    allowed = days >= RETREATMENT_INTERVAL_DAYS
    template = REASON_INTERVAL_OK if allowed else REASON_INTERVAL_SHORT
    reason = template.format(
        proposed=proposed, days=days_text(days), previous=previous_session, interval=RETREATMENT_INTERVAL_DAYS
    )
    return IntervalCheck(allowed, proposed, previous_session, days, earliest, reason)


def days_text(days: int) -> str:
    """``days`` as the reasons write it: "1 day", "0 days", "30 days"."""
    return "1 day" if days == 1 else f"{days} days"


def schedule_status(session_dates: Sequence[dt.date], *, today: dt.date) -> ScheduleStatus:
    """The 12-week retreatment schedule on ``today`` from the dates of the sessions given so far.

    Dates may come in any order. ``next_due`` and ``earliest_allowed`` are the last session + 84 days (BOTOX PI,
    Chronic Migraine: every 12 weeks; payers: not more often). Before that the status is ``not_yet_due``; from it
    until ``DUE_WINDOW_DAYS`` (7) days later ``due``; after that ``overdue`` (a clinic convention from COMPEL's
    +/- 7-day visit window, not a label rule). Earlier pairs of sessions closer than 84 days add a reason each.
    Raises ``ScheduleError`` for a date listed twice or a session after ``today``.
    """
    counts = Counter(session_dates)
    problems = [DUPLICATE_SESSION.format(date=day, count=count) for day, count in sorted(counts.items()) if count > 1]
    problems.extend(FUTURE_SESSION.format(date=day, today=today) for day in sorted(counts) if day > today)
    if problems:
        raise ScheduleError(*problems)
    sessions = sorted(counts)
    if not sessions:
        return ScheduleStatus(CycleStatus.NOT_STARTED, 0, None, None, None, None, 0, (REASON_NOT_STARTED,))

    last = sessions[-1]
    next_due = last + dt.timedelta(days=RETREATMENT_INTERVAL_DAYS)
    due_until = next_due + dt.timedelta(days=DUE_WINDOW_DAYS)
    reasons = [REASON_INTERVAL.format(interval=RETREATMENT_INTERVAL_DAYS, last=last, due=next_due)]
    days_past_due = (today - next_due).days
    days_overdue = 0
    if today < next_due:
        status = CycleStatus.NOT_YET_DUE
        reasons.append(
            REASON_NOT_YET_DUE.format(
                today=today, days=days_text((today - last).days), interval=RETREATMENT_INTERVAL_DAYS, due=next_due
            )
        )
    elif today <= due_until:
        status = CycleStatus.DUE
        reasons.append(
            REASON_DUE.format(today=today, days=days_text(days_past_due), due=next_due, window=DUE_WINDOW_DAYS)
        )
    else:
        status = CycleStatus.OVERDUE
        days_overdue = days_past_due
        reasons.append(
            REASON_OVERDUE.format(today=today, days=days_text(days_past_due), due=next_due, window=DUE_WINDOW_DAYS)
        )
    for previous, current in itertools.pairwise(sessions):
        check = interval_check(previous, current)
        if not check.allowed:
            reasons.append(check.reason)
    return ScheduleStatus(status, len(sessions), last, next_due, next_due, due_until, days_overdue, tuple(reasons))


# --- Cumulative dose --------------------------------------------------------------------------------------------


def is_onabotulinumtoxin_a(product: str) -> bool:
    """True when the product name, as written on the vial, names onabotulinumtoxinA.

    The name is normalised (Unicode NFKC, casefolded, every character other than a-z and 0-9 dropped, so spaces,
    hyphens and symbols vanish) and counts when it contains any fragment of ``ONABOTULINUMTOXINA_NAMES``: "BOTOX",
    "Botox Cosmetic", "BOTOX(R) 200 U", "Botox100U", "onabotulinumtoxinA", "Onabotulinum toxin A",
    "ona-botulinumtoxinA" and "Vistabel" count. Other botulinum toxin products do not (BOTOX PI, Lack of
    Interchangeability): "Dysport" (abobotulinumtoxinA), "Xeomin"/"Bocouture" (incobotulinumtoxinA), "Daxxify"
    (daxibotulinumtoxinA), "Jeuveau" (prabotulinumtoxinA), "Letybo" (letibotulinumtoxinA), "Myobloc"
    (rimabotulinumtoxinB).
    """
    name = re.sub(r"[^0-9a-z]+", "", unicodedata.normalize("NFKC", product).casefold())
    return any(fragment in name for fragment in ONABOTULINUMTOXINA_NAMES)


@dataclass(frozen=True, slots=True)
class ToxinDose:
    """One botulinum toxin treatment: the day it was given, the product, its units and what it treated."""

    date: dt.date
    product: str
    units: int
    indication: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.product, str) or not self.product.strip():
            raise ScheduleError(DOSE_PRODUCT.format(product=self.product))
        if isinstance(self.units, bool) or not isinstance(self.units, int) or self.units < 1:
            raise ScheduleError(DOSE_UNITS.format(units=self.units))

    @property
    def is_onabotulinumtoxin_a(self) -> bool:
        """True when the product is BOTOX / onabotulinumtoxinA."""
        return is_onabotulinumtoxin_a(self.product)


def cumulative_window(end: dt.date) -> tuple[dt.date, dt.date]:
    """The 3-month interval ending on ``end``, as inclusive (first day, last day).

    It holds the days d with ``end - 3 calendar months < d <= end``; "3 calendar months earlier" keeps the day of
    the month, clamped to the end of a shorter month (2026-05-31 -> 2026-02-28, so the window starts 2026-03-01).
    The label says "a 3 month interval" without defining it; calendar months are this project's reading.
    """
    return months_before(end, CUMULATIVE_WINDOW_MONTHS) + dt.timedelta(days=1), end


@dataclass(frozen=True, slots=True)
class DoseCheck:
    """Whether a proposed BOTOX dose keeps the 3-month cumulative total within the label's 400 U."""

    allowed: bool
    window_start: dt.date
    window_end: dt.date
    proposed_units: int
    window_units: int
    total_units: int
    limit_units: int
    counted: tuple[ToxinDose, ...]
    not_counted: tuple[ToxinDose, ...]
    reasons: tuple[str, ...]


def cumulative_dose_check(proposed: ToxinDose, history: Sequence[ToxinDose]) -> DoseCheck:
    """Check the label's cumulative limit: at most 400 U of BOTOX across all indications in 3 months.

    BOTOX PI, Instructions for Safe Use (adults, one or more indications). The window is ``cumulative_window``
    ending on the proposed date: history doses dated d with proposed - 3 months < d <= proposed count, later ones
    do not. ``history`` must not contain the proposed dose itself. Only onabotulinumtoxinA units are added; doses
    of other botulinum toxin products in the window are listed in ``not_counted`` with a reason, because their
    units cannot be converted (BOTOX PI, Lack of Interchangeability); the safety screen warns about them. 400 U
    in all is allowed, 401 U refused. Raises ``ScheduleError`` when the proposed product is not BOTOX.
    """
    if not proposed.is_onabotulinumtoxin_a:
        raise ScheduleError(PROPOSED_NOT_BOTOX.format(product=proposed.product))
    start, end = cumulative_window(proposed.date)
    in_window = sorted((dose for dose in history if start <= dose.date <= end), key=lambda dose: dose.date)
    counted = tuple(dose for dose in in_window if dose.is_onabotulinumtoxin_a)
    not_counted = tuple(dose for dose in in_window if not dose.is_onabotulinumtoxin_a)
    window_units = sum(dose.units for dose in counted)
    total = proposed.units + window_units
    allowed = total <= CUMULATIVE_LIMIT_UNITS
    reasons = [
        REASON_CUMULATIVE.format(
            proposed=proposed.units,
            window_units=window_units,
            start=start,
            end=end,
            total=total,
            comparison="<=" if allowed else ">",
            limit=CUMULATIVE_LIMIT_UNITS,
        )
    ]
    reasons.extend(
        REASON_NOT_COUNTED.format(product=dose.product, units=dose.units, date=dose.date) for dose in not_counted
    )
    return DoseCheck(
        allowed,
        start,
        end,
        proposed.units,
        window_units,
        total,
        CUMULATIVE_LIMIT_UNITS,
        counted,
        not_counted,
        tuple(reasons),
    )


def later_window_checks(proposed: ToxinDose, history: Sequence[ToxinDose]) -> tuple[tuple[bool, str], ...]:
    """The 3-month windows a dose entered late also falls in: one for each later BOTOX dose of ``history`` whose
    ``cumulative_window`` holds the proposed date, with the proposed dose added, as (allowed, reason).

    ``cumulative_dose_check`` judges the window ending on the proposed date; a session recorded after later doses
    were (entered late) can push one of their windows over the label's 400 U too. Raises ``ScheduleError`` when
    the proposed product is not BOTOX.
    """
    if not proposed.is_onabotulinumtoxin_a:
        raise ScheduleError(PROPOSED_NOT_BOTOX.format(product=proposed.product))
    results = []
    for day in sorted({dose.date for dose in history if dose.is_onabotulinumtoxin_a and dose.date > proposed.date}):
        start, end = cumulative_window(day)  # one window per later day, however many doses it holds
        if start > proposed.date:
            continue
        total = proposed.units + sum(
            dose.units for dose in history if dose.is_onabotulinumtoxin_a and start <= dose.date <= end
        )
        allowed = total <= CUMULATIVE_LIMIT_UNITS
        reason = REASON_LATER_WINDOW.format(
            proposed=proposed.units,
            date=proposed.date,
            start=start,
            end=end,
            total=total,
            comparison="<=" if allowed else ">",
            limit=CUMULATIVE_LIMIT_UNITS,
        )
        results.append((allowed, reason))
    return tuple(results)


# --- A session's checks against the patient's history -----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SessionCycleChecks:
    """The 12-week and cumulative-dose checks of one proposed session against the patient's other toxin doses
    (``session_cycle_checks``)."""

    intervals: tuple[IntervalCheck, ...]
    """From the session before it (or no previous session: cycle 1), then to the session after it when there is
    one (a session entered late must keep 12 weeks before the next one too)."""
    dose: DoseCheck | None
    """The 3 months up to its day; None while its units are not known (the check cannot run yet)."""
    later_windows: tuple[tuple[bool, str], ...] = ()
    """The later BOTOX doses' 3-month windows its day falls in, with it added (``later_window_checks``)."""

    @property
    def interval_allowed(self) -> bool:
        """Every interval is 12 weeks or more."""
        return all(check.allowed for check in self.intervals)

    @property
    def interval_reasons(self) -> tuple[str, ...]:
        return tuple(check.reason for check in self.intervals)

    @property
    def dose_allowed(self) -> bool | None:
        """Its own 3 months and every later window hold at most the label's 400 U; None while its units are not
        known."""
        if self.dose is None:
            return None
        return self.dose.allowed and all(allowed for allowed, _ in self.later_windows)

    @property
    def dose_reasons(self) -> tuple[str, ...]:
        """The 3 months up to its day, then each later window it pushes over the limit (the ones within it are not
        news)."""
        if self.dose is None:
            return ()
        return (*self.dose.reasons, *(reason for allowed, reason in self.later_windows if not allowed))


def _units_given(units: object) -> TypeGuard[int]:
    """Whether ``units`` are a dose's units (a whole number of at least 1, ``ToxinDose``'s own rule)."""
    return isinstance(units, int) and not isinstance(units, bool) and units >= 1


def session_cycle_checks(
    day: dt.date,
    units: int | None,
    *,
    product: str,
    sessions: Iterable[tuple[dt.date, int | None]],
    other_doses: Iterable[ToxinDose] = (),
) -> SessionCycleChecks:
    """The 12-week and cumulative-dose checks of a session of ``units`` of ``product`` (onabotulinumtoxinA) on
    ``day``, as recording it asks them.

    ``sessions`` are the patient's other sessions given (day and units; units None or not a dose when not known),
    ``other_doses`` their other botulinum toxin treatments. The 12-week rule (``interval_check``; BOTOX PI, Chronic
    Migraine) runs from the latest session before ``day`` and to the earliest after it; a session on ``day`` itself
    is not its neighbour. The cumulative dose (``cumulative_dose_check``, ``later_window_checks``; BOTOX PI,
    Instructions for Safe Use: 400 U in 3 months) counts the sessions' units as ``product`` and the other doses, in
    the window to ``day`` and in each later BOTOX dose's window ``day`` falls in; it does not run while ``units``
    are not a dose. Raises ``ScheduleError`` when ``product`` is not onabotulinumtoxinA."""
    if not is_onabotulinumtoxin_a(product):
        raise ScheduleError(PROPOSED_NOT_BOTOX.format(product=product))
    given = list(sessions)
    days = [session_day for session_day, _ in given if session_day != day]
    previous = max((session_day for session_day in days if session_day < day), default=None)
    following = min((session_day for session_day in days if session_day > day), default=None)
    intervals = (interval_check(previous, day), *([interval_check(day, following)] if following is not None else []))
    if not _units_given(units):
        return SessionCycleChecks(intervals, None)
    history = [ToxinDose(session_day, product, dose) for session_day, dose in given if _units_given(dose)]
    history += other_doses
    proposed = ToxinDose(day, product, units)
    return SessionCycleChecks(
        intervals, cumulative_dose_check(proposed, history), later_window_checks(proposed, history)
    )
