"""Outcomes after the first injection: change per 28-day period, onset, week-24 response, NICE TA260 stop rules.

Periods are laid from the first injection (day 0): the baseline is days -28..-1 and period k covers days
28(k-1)..28k-1, so week 24 is period 6 (days 140..167), PREEMPT's primary time point (Dodick et al., Headache
2010;50:921-936). Percentages and responder status are computed from exact integers (shared/spec/cli.md,
``outcomes``), so a verdict never flips on floating-point rounding.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from enum import StrEnum

from onaboard.clinical.days import classify_days
from onaboard.clinical.diary import PatientDiary
from onaboard.clinical.periods import MIN_RECORDED_DAYS, PERIOD_DAYS, PeriodSummary, treatment_periods
from onaboard.clinical.verdicts import CM_MIN_HEADACHE_DAYS, unrecorded_days, unrecorded_doubt

__all__ = [
    "EPISODIC_CONSECUTIVE_PERIODS",
    "NICE_MIN_REDUCTION_PERCENT",
    "ONSET_PERIOD",
    "RESPONDER_30_PERCENT",
    "RESPONDER_50_PERCENT",
    "WEEK24_PERIOD",
    "NiceTa260",
    "NiceVerdict",
    "Outcomes",
    "PeriodChange",
    "Week24",
    "Week24State",
    "nice_ta260_verdict",
    "percent_change",
    "reduction_at_least",
    "treatment_outcomes",
]

WEEK24_PERIOD = 6
"""Week 24 is the 28-day period covering days 140..167 after the first injection (PREEMPT primary endpoint)."""

ONSET_PERIOD = 1
"""Week 4: the first 28-day period after the first injection, PREEMPT's first post-treatment assessment
(relief "may start from week 4")."""

RESPONDER_50_PERCENT = 50
"""PREEMPT responder: at least 50 % fewer headache days than baseline (Dodick et al. 2010; Diener et al. 2020)."""

RESPONDER_30_PERCENT = 30
"""At least 30 % fewer headache days: the NICE TA260 1.2 and EHF (Bendtsen et al. 2018) response threshold."""

NICE_MIN_REDUCTION_PERCENT = RESPONDER_30_PERCENT
"""NICE TA260 1.2: stop when headache days fall by less than 30 % after two treatment cycles."""

EPISODIC_CONSECUTIVE_PERIODS = 3
"""NICE TA260 1.2: stop when the condition has changed to episodic migraine (< 15 headache days a month) for
three consecutive months."""


EPISODIC_WAITS_FOR_BASELINE = "the stopping rule holds, but the verdict waits for a complete baseline"
"""Added to the return-to-episodic reason when the baseline is incomplete: the spec keeps the verdict
``not_yet_assessable`` (shared/spec/cli.md), and the clinician sees that the episodic rule already holds."""


class NiceTa260(StrEnum):
    CONTINUE = "continue"
    STOP = "stop"
    NOT_YET_ASSESSABLE = "not_yet_assessable"


class Week24State(StrEnum):
    """Where week 24 (period 6) stands, as the week-24 reason of ``nice_ta260_verdict`` words it."""

    AVAILABLE = "available"
    """Period 6 is complete: the response is measured."""
    UNDER_WAY = "under_way"
    """Today falls in period 6 (or it is the period running on ``as_of``): its days are still being recorded."""
    ENDED_INCOMPLETE = "ended_incomplete"
    """Period 6 is over, or listed in a diary taken as finished, with fewer than ``MIN_RECORDED_DAYS`` recorded
    (perhaps none): week 24 cannot be measured and will not be."""
    NOT_REACHED = "not_reached"
    """Period 6 is still to come (or, without today, holds no diary row)."""


def week24_last_day(day0: date) -> date:
    """The last day of week 24's period (``WEEK24_PERIOD`` after the first injection on ``day0``: period k covers
    days ``PERIOD_DAYS * (k - 1)`` to ``PERIOD_DAYS * k - 1``, as ``treatment_periods`` lays them), the first day
    the week-24 response can be judged being the day after."""
    return day0 + timedelta(days=PERIOD_DAYS * WEEK24_PERIOD - 1)


def percent_change(baseline: int, current: int) -> Decimal | None:
    """``100 * (current - baseline) / baseline`` rounded to one decimal, half away from zero; None when baseline is 0.

    Exact integer arithmetic (shared/spec/cli.md): negative means fewer headache days than baseline.
    """
    if baseline == 0:
        return None
    tenths, remainder = divmod(abs(1000 * (current - baseline)), baseline)
    if 2 * remainder >= baseline:
        tenths += 1
    sign = -1 if current < baseline else 1
    return Decimal(sign * tenths).scaleb(-1)


def reduction_at_least(baseline: int, current: int, percent: int) -> bool:
    """Whether headache days fell by at least ``percent`` % from baseline, decided on exact integers.

    ``100 * (baseline - current) >= percent * baseline``; e.g. 50 % is ``2 * (b - w) >= b`` and 30 % is
    ``10 * (b - w) >= 3 * b`` (shared/spec/cli.md).
    """
    return 100 * (baseline - current) >= percent * baseline


@dataclass(frozen=True, slots=True)
class PeriodChange:
    """One period after treatment and its change in headache days against the baseline."""

    period: PeriodSummary
    change_headache_days: int
    percent_change_headache_days: Decimal | None
    running: bool = False
    """The period had not ended on the assessment day (``treatment_outcomes``'s ``as_of``): shown, judges nothing."""

    @property
    def judged(self) -> bool:
        """Complete and ended: a period whose change counts (and is shown as a change)."""
        return self.period.complete and not self.running


@dataclass(frozen=True, slots=True)
class Week24:
    """Response at week 24 (period 6); every field but ``available`` is None until period 6 is complete."""

    available: bool
    headache_days: int | None = None
    percent_change: Decimal | None = None
    responder_50: bool | None = None
    responder_30: bool | None = None


@dataclass(frozen=True, slots=True)
class NiceVerdict:
    verdict: NiceTa260
    reasons: tuple[str, ...]
    reverted_to_episodic: bool

    @property
    def stop_suggested(self) -> bool:
        """Whether a NICE TA260 1.2 stopping rule holds: the verdict is stop, or the condition has changed to
        episodic migraine while the verdict waits for a complete baseline. The contract keeps that verdict
        ``not_yet_assessable`` (shared/spec/cli.md), yet the return to episodic migraine needs no baseline, so the
        clinician is asked to decide either way (the web's "stop suggested", its letters and its counts)."""
        return self.verdict is NiceTa260.STOP or self.reverted_to_episodic

    @property
    def stop_reason(self) -> str:
        """The reason for the stop ``stop_suggested`` finds ("" without one): a stop verdict's first reason; with
        an incomplete baseline, the return-to-episodic reason, which ``nice_ta260_verdict`` gives after the
        baseline's own."""
        if not self.stop_suggested:
            return ""
        held_back = self.verdict is not NiceTa260.STOP
        return self.reasons[1] if held_back and self.reasons[1:] else self.reasons[0]


@dataclass(frozen=True, slots=True)
class Outcomes:
    """A patient's course after the first injection."""

    patient_id: str
    first_injection: date
    injections: tuple[date, ...]
    baseline: PeriodSummary
    periods: tuple[PeriodChange, ...]
    """The periods that have ended (with ``as_of``; every period without it): what the verdicts judge."""
    week4: PeriodChange | None
    """Period 1 (weeks 0-4) when it is complete: where relief may first show."""
    onset: PeriodChange | None
    """The first complete period with at least 30 % fewer headache days than baseline (time to response)."""
    week24: Week24
    nice_ta260: NiceVerdict
    week24_state: Week24State
    """Where week 24 stands (complete, under way, ended without enough days, still to come): the facts the week-24
    reason of ``nice_ta260`` was worded from, for a caller to word its own line from the same facts."""
    running: PeriodChange | None = None
    """The period under way on ``as_of`` (days recorded so far), shown "in progress"; it judges nothing."""

    @property
    def listed(self) -> tuple[PeriodChange, ...]:
        """Every period to show: those that have ended, then the one under way."""
        return (*self.periods, self.running) if self.running is not None else self.periods


def _week24(baseline: PeriodSummary, periods: Sequence[PeriodSummary]) -> Week24:
    period = next((p for p in periods if p.index == WEEK24_PERIOD), None)
    if period is None or not period.complete:
        return Week24(available=False)
    b, w = baseline.headache_days, period.headache_days
    return Week24(
        available=True,
        headache_days=w,
        percent_change=percent_change(b, w),
        responder_50=reduction_at_least(b, w, RESPONDER_50_PERCENT),
        responder_30=reduction_at_least(b, w, RESPONDER_30_PERCENT),
    )


def _reverted_to_episodic(periods: Sequence[PeriodSummary]) -> tuple[PeriodSummary, ...]:
    """The three most recent complete periods when they are consecutive and each has < 15 headache days."""
    recent = [p for p in periods if p.complete][-EPISODIC_CONSECUTIVE_PERIODS:]
    if len(recent) < EPISODIC_CONSECUTIVE_PERIODS:
        return ()
    consecutive = all(later.index == earlier.index + 1 for earlier, later in itertools.pairwise(recent))
    if consecutive and all(p.headache_days < CM_MIN_HEADACHE_DAYS for p in recent):
        return tuple(recent)
    return ()


def _episodic_run_set_aside(periods: Sequence[PeriodSummary]) -> str | None:
    """Why the return to episodic migraine does not apply although it held earlier, else None: when the three most
    recent complete periods are not consecutive (a period between them incomplete, or without diary), the latest
    earlier run of three consecutive complete periods, each with < 15 headache days, is named with the periods that
    broke the reading. The verdict keeps the rule as it is read (shared/spec/cli.md: the three most recent complete
    periods); the reason lets the clinician see the run the rule no longer reads. A run a later complete period
    ended (>= 15 headache days: chronic again) is not named: the condition did not stay episodic."""
    complete = [p for p in periods if p.complete]
    recent = complete[-EPISODIC_CONSECUTIVE_PERIODS:]
    if len(recent) < EPISODIC_CONSECUTIVE_PERIODS or recent[-1].index - recent[0].index < len(recent):
        return None  # too few, or consecutive: the rule read them as they are
    run: list[PeriodSummary] = []
    latest_run: list[PeriodSummary] = []
    for period in complete:
        if period.headache_days >= CM_MIN_HEADACHE_DAYS or (run and period.index != run[-1].index + 1):
            run = []
        if period.headache_days < CM_MIN_HEADACHE_DAYS:
            run.append(period)
        if len(run) >= EPISODIC_CONSECUTIVE_PERIODS:
            latest_run = run[-EPISODIC_CONSECUTIVE_PERIODS:]
    if not latest_run or any(
        p.index > latest_run[-1].index and p.headache_days >= CM_MIN_HEADACHE_DAYS for p in complete
    ):
        return None  # none, or a complete period since had >= 15 headache days: chronic again, the run is over
    by_index = {p.index: p for p in periods}
    gaps = []
    for index in range(recent[0].index + 1, recent[-1].index):
        if index in {p.index for p in recent}:
            continue
        gap = by_index.get(index)
        recorded = gap.days_recorded if gap is not None else 0
        gaps.append(f"period {index} has {recorded} of {PERIOD_DAYS} days recorded (< {MIN_RECORDED_DAYS})")
    names = ", ".join(str(p.index) for p in latest_run)
    counts = ", ".join(str(p.headache_days) for p in latest_run)
    recent_names = ", ".join(str(p.index) for p in recent)
    return (
        f"NICE TA260 1.2: periods {names} ({latest_run[0].start.isoformat()}..{latest_run[-1].end.isoformat()}) "
        f"each had < {CM_MIN_HEADACHE_DAYS} headache days ({counts}), but the rule reads the "
        f"{EPISODIC_CONSECUTIVE_PERIODS} most recent complete periods ({recent_names}), which are not consecutive: "
        f"{'; '.join(gaps)}; whether the condition has changed to episodic migraine is the clinician's to judge"
    )


def _count(period: PeriodSummary) -> str:
    """A period's headache days, with its days recorded when some were not: a count from fewer than
    ``PERIOD_DAYS`` recorded days is a floor, as a day without a row is not recorded, never headache-free
    (shared/spec/diary-csv.md)."""
    if period.days_recorded >= PERIOD_DAYS:
        return str(period.headache_days)
    return f"{period.headache_days} in {period.days_recorded} of {PERIOD_DAYS} days recorded"


def _episodic_reason(reverted: Sequence[PeriodSummary]) -> str:
    """Why the condition counts as changed to episodic migraine; when a period's unrecorded days could hold the
    headache days that would make it chronic (>= 15), the reason says so: the rule reads the days recorded, and
    the clinician weighs how much rests on the days that were not."""
    names = ", ".join(str(p.index) for p in reverted)
    counts = ", ".join(_count(p) for p in reverted)
    reason = (
        f"NICE TA260 1.2: periods {names} ({reverted[0].start.isoformat()}..{reverted[-1].end.isoformat()}) "
        f"each have < {CM_MIN_HEADACHE_DAYS} headache days ({counts}): changed to episodic migraine for "
        f"{EPISODIC_CONSECUTIVE_PERIODS} consecutive periods"
    )
    open_to_doubt = [p for p in reverted if p.headache_days + unrecorded_days(p) >= CM_MIN_HEADACHE_DAYS]
    if open_to_doubt:
        which = ", ".join(f"period {p.index} ({unrecorded_days(p)})" for p in open_to_doubt)
        reason += f"; the unrecorded days of {which} could hold enough headache days for {CM_MIN_HEADACHE_DAYS} or more"
    return reason


def _week24_state(
    periods: Sequence[PeriodSummary],
    week24: Week24,
    *,
    week24_over: bool,
    week24_under_way: bool,
    running: PeriodSummary | None,
) -> tuple[Week24State, PeriodSummary | None]:
    """Where week 24 stands and period 6's summary when the diary holds a row in it (see ``nice_ta260_verdict``)."""
    period = next((p for p in periods if p.index == WEEK24_PERIOD), None)
    if week24.available:
        return Week24State.AVAILABLE, period
    if running is not None and running.index == WEEK24_PERIOD:
        return Week24State.UNDER_WAY, running
    if week24_under_way:  # a finished diary's (no ``as_of``) period 6 lists its rows, and today may still fall in it
        return Week24State.UNDER_WAY, period
    if period is not None or week24_over:
        return Week24State.ENDED_INCOMPLETE, period
    return Week24State.NOT_REACHED, None


NICE_CYCLES = 2
"""NICE TA260 1.2: the reduction is judged "after 2 treatment cycles" (shared/domain/clinical-facts.md section 5.1)."""
FEWER_CYCLES = (
    "NICE TA260 1.2 judges the reduction after {cycles} treatment cycles; {given} was given before week 24 (period "
    "{period}) began, so the clinician weighs this stop against a second cycle"
)
"""A session given during week 24's period itself is not a cycle the period comes after: it counts from the next."""


def nice_ta260_verdict(
    baseline: PeriodSummary,
    periods: Sequence[PeriodSummary],
    week24: Week24,
    *,
    week24_over: bool = False,
    week24_under_way: bool = False,
    running: PeriodSummary | None = None,
    cycles_by_week24: int | None = None,
) -> NiceVerdict:
    """NICE TA260 1.2 stopping rules: stop when headache days fell by < 30 % after two treatment cycles (week 24),
    or the condition has changed to episodic migraine (< 15 headache days a month) for three consecutive months.

    ``stop`` as soon as either rule holds, even before week 24; ``not_yet_assessable`` while week 24 is not
    complete; otherwise ``continue``. An incomplete baseline makes the verdict ``not_yet_assessable``: the
    reduction cannot be measured against it (shared/spec/cli.md); its reason comes first, and a return to episodic
    migraine that holds all the same follows it, saying the verdict waits for the baseline. ``week24_over``: week
    24 has ended (the caller knows today), so a period 6 without diary rows is missing, not still to come;
    ``week24_under_way``: today falls in period 6 (so a period 6 among ``periods``, of a diary taken as finished,
    is in progress); ``running`` the period under way. ``cycles_by_week24``: the sessions given before week 24's
    period began (one given during it is not a cycle the period comes after);
    with fewer than ``NICE_CYCLES`` the week-24 stop keeps its verdict (the contract judges week 24 as such) and says
    that NICE judges the reduction after two cycles, which this patient has not had: the clinician weighs it.
    """
    reverted = _reverted_to_episodic(periods)
    if not baseline.complete:
        incomplete = (
            f"NICE TA260 1.2: {baseline.label} has {baseline.days_recorded} of {PERIOD_DAYS} days recorded "
            f"(< {MIN_RECORDED_DAYS}): incomplete, so the reduction cannot be measured"
        )
        episodic = (f"{_episodic_reason(reverted)}; {EPISODIC_WAITS_FOR_BASELINE}",) if reverted else ()
        return NiceVerdict(NiceTa260.NOT_YET_ASSESSABLE, (incomplete, *episodic), reverted_to_episodic=bool(reverted))
    reasons = []
    if reverted:
        reasons.append(_episodic_reason(reverted))
    set_aside = None if reverted else _episodic_run_set_aside(periods)
    if week24.available and week24.headache_days is not None:
        change = week24.percent_change
        if change is None and week24.headache_days == 0:  # 0 before and after: nothing to reduce, nothing worse
            reduction = "no headache day before or after treatment, so no reduction to measure"
        elif change is None:  # a baseline of 0: no reduction can be measured
            reduction = "no reduction from a baseline of 0"
        elif change > 0:
            reduction = f"an increase of {change} %, no reduction"
        elif change == 0:
            reduction = "no change"
        else:
            reduction = f"a reduction of {-change} %"
        comparison = "<" if not week24.responder_30 else ">="
        threshold = (
            "" if change is None and week24.headache_days == 0 else f" ({comparison} {NICE_MIN_REDUCTION_PERCENT} %)"
        )
        period6 = next(p for p in periods if p.index == WEEK24_PERIOD)
        at_week24 = _count(period6)
        doubt = ""
        if week24.responder_30 and not reduction_at_least(
            baseline.headache_days, week24.headache_days + unrecorded_days(period6), NICE_MIN_REDUCTION_PERCENT
        ):
            doubt = unrecorded_doubt(period6, "headache days", f"a reduction < {NICE_MIN_REDUCTION_PERCENT} %")
        elif not week24.responder_30 and reduction_at_least(
            baseline.headache_days + unrecorded_days(baseline), week24.headache_days, NICE_MIN_REDUCTION_PERCENT
        ):  # a stop on a baseline counted with days missing: its floor may understate the reduction
            doubt = unrecorded_doubt(
                baseline, "headache days", f"a reduction >= {NICE_MIN_REDUCTION_PERCENT} %", whose="the baseline's"
            )
        reasons.append(
            f"NICE TA260 1.2: headache days from {baseline.headache_days} at baseline to {at_week24} "
            f"at week 24 (period {WEEK24_PERIOD}), {reduction}{threshold}{doubt}"
        )
        if not week24.responder_30:
            if cycles_by_week24 is not None and cycles_by_week24 < NICE_CYCLES:
                reasons.append(FEWER_CYCLES.format(given=cycles_by_week24, cycles=NICE_CYCLES, period=WEEK24_PERIOD))
            return NiceVerdict(NiceTa260.STOP, tuple(reasons), reverted_to_episodic=bool(reverted))
    if reverted:
        return NiceVerdict(NiceTa260.STOP, tuple(reasons), reverted_to_episodic=True)
    if not week24.available:
        where, period = _week24_state(
            periods, week24, week24_over=week24_over, week24_under_way=week24_under_way, running=running
        )
        if where is Week24State.UNDER_WAY:
            state = (
                f"{period.label} is in progress ({period.days_recorded} of {PERIOD_DAYS} days recorded so far)"
                if period is not None
                else f"in progress (0 of {PERIOD_DAYS} days recorded so far)"  # no row in period 6 yet
            )
        elif period is not None:
            state = f"{period.label} has {period.days_recorded} of {PERIOD_DAYS} days recorded (< {MIN_RECORDED_DAYS})"
        elif where is Week24State.ENDED_INCOMPLETE:
            state = f"no day of it recorded (< {MIN_RECORDED_DAYS})"
        else:
            state = "not reached yet"
        reasons.append(f"NICE TA260 1.2: response is judged at week 24 (period {WEEK24_PERIOD}): {state}")
        reasons.extend([set_aside] if set_aside else [])
        return NiceVerdict(NiceTa260.NOT_YET_ASSESSABLE, tuple(reasons), reverted_to_episodic=False)
    reasons.extend([set_aside] if set_aside else [])
    return NiceVerdict(NiceTa260.CONTINUE, tuple(reasons), reverted_to_episodic=False)


def treatment_outcomes(
    diary: PatientDiary, *, injections: Sequence[date], as_of: date | None = None, today: date | None = None
) -> Outcomes:
    """A patient's outcomes from their diary and injection dates; day 0 is the earliest injection.

    ``as_of`` is the day of the assessment (the clinic's today): a period that has not ended before it is still
    running, so it is not among ``periods`` but ``running``, and judges nothing (week 4, onset, week 24, the return
    to episodic migraine, a payer's response criteria), however many of its days are already recorded: its
    remaining days could change the verdict. Without ``as_of`` the diary is taken as finished (a registry's or a
    file's): every period holding a row is listed and judged. ``today`` (used without ``as_of``; ``as_of`` is
    today when given) only tells the week-24 reason and ``week24_state`` whether period 6 has ended or is under
    way, so a diary that
    stopped early reads "no day of it recorded" rather than "not reached yet"; it changes no period or verdict.
    """
    if not injections:
        raise ValueError("at least one injection date is needed")
    injection_dates = tuple(sorted(set(injections)))
    day0 = injection_dates[0]
    baseline, listed = treatment_periods(classify_days(diary.days), day0=day0)
    periods = tuple(p for p in listed if as_of is None or p.end < as_of)
    week24_end = week24_last_day(day0)
    week24_start = week24_end - timedelta(days=PERIOD_DAYS - 1)
    on = as_of if as_of is not None else today
    changes = tuple(
        PeriodChange(
            period=p,
            change_headache_days=p.headache_days - baseline.headache_days,
            percent_change_headache_days=percent_change(baseline.headache_days, p.headache_days),
            running=as_of is not None and p.end >= as_of,
        )
        for p in listed
    )
    finished, running = changes[: len(periods)], changes[len(periods) :]
    week24 = _week24(baseline, periods)
    week24_over = on is not None and week24_end < on
    week24_under_way = on is not None and week24_start <= on <= week24_end
    under_way = running[0].period if running else None
    week4 = next((c for c in finished if c.period.index == ONSET_PERIOD and c.period.complete), None)
    onset = None
    if baseline.complete and baseline.headache_days > 0:
        onset = next(
            (
                c
                for c in finished
                if c.period.complete
                and reduction_at_least(baseline.headache_days, c.period.headache_days, RESPONDER_30_PERCENT)
            ),
            None,
        )
    return Outcomes(
        patient_id=diary.patient_id,
        first_injection=day0,
        injections=injection_dates,
        baseline=baseline,
        periods=finished,
        week4=week4,
        onset=onset,
        week24=week24,
        nice_ta260=nice_ta260_verdict(
            baseline,
            periods,
            week24,
            week24_over=week24_over,
            week24_under_way=week24_under_way,
            running=under_way,
            cycles_by_week24=sum(1 for day in injection_dates if day < week24_start),
        ),
        week24_state=_week24_state(
            periods, week24, week24_over=week24_over, week24_under_way=week24_under_way, running=under_way
        )[0],
        running=running[0] if running else None,
    )
