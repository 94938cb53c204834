"""The cohort report's numbers: how a registry's patients do on treatment, by the engine's rules.

``cohort_report(directory, engine=...)`` reads a cohort directory (tables.py) with DuckDB or Spark, builds the
rules of rules.py as lazy Ibis expressions, lets the backend scan the diary once into 28-day periods, and
executes a few aggregates over that small table. Python receives only counts, means and standard deviations, and
adds the 95 % intervals (stats.py). No interval leaves what is possible: proportions are Wilson (inside 0..100 %),
time to response Kaplan-Meier's log-log interval (likewise), and a mean gets Student's t interval only from
``MEAN_INTERVAL_MIN_N`` (3) patients, cut at the range the mean cannot leave: ``CHANGE_BOUNDS`` (-28..+28 days, a
change over one 28-day period), ``HEADACHE_DAYS_BOUNDS`` (0..28), the HIT-6 bounds (36..78 points, a change
-42..+42), ages not below 0. With fewer patients the mean is given alone.

``report_json`` is the report as one JSON document; reports/cohort.py renders the same numbers as HTML and PDF,
and cohort/cli.py as the terminal summary, so they cannot disagree.

Definitions the rules do not fix, chosen here and stated in docs/cohort.md:

- *treated*: a patient with at least one session; day 0 is their first session;
- responders at week 24 are counted among *completers*, patients with a complete baseline and a complete period 6
  (the published figures they are set beside are labelled so); beside them, among every patient with a complete
  baseline whose 24-week phase is over (below), a missing week 24 (dropped out, stopped before it, too few days
  recorded in it) counted as no response (``responder_50_missing_as_non_responder``);
- mean change per period among patients with a complete baseline and that period complete;
- time to response is ``treatment_outcomes``' onset (first complete period >= 30 % below a non-zero baseline),
  as a Kaplan-Meier share up to week 24 (period 6): a patient without it is censored at their last complete period;
  it ends there because NICE TA260 stops a patient without a 30 % response at week 24, and censoring them would
  take them for patients who might still respond;
- sessions: a repeat session is *on time* when the engine's retreatment interval allows it (``interval_check``:
  at least 84 days after the previous one) and it is not overdue (``schedule_status``: at most 7 days past due),
  *too early* when the interval refuses it; a *follow-the-pain session* has at least one follow-the-pain site
  (``follow_the_pain_sites``, the engine's ``follow_the_pain_count``, not the site count: a session may leave fixed
  sites out), among the sessions that record it;
- adverse events count patients with an event of the label's 24-week phase: following session 1 or 2 (the first
  two cycles) and starting by week 24's last day (day 167, ``rules.label_phase_events``), among the patients whose
  24-week phase is over: on an assessment day, those whose week 24 had ended before it or who stopped for an adverse
  event in it (``_through_week24``; a patient first injected last month is left out of numerator and denominator),
  without one every treated patient;
- stopping reasons, first that applies: discontinued for an adverse event (a recorded decision, after any
  session; the 24-week figure beside the label counts those of the 24-week phase, over the patients the adverse
  events are counted over); NICE TA260 stop
  at week 24 (< 30 %); NICE TA260 stop on reverting to episodic migraine; dropped out (the diary ends more than
  one period before the patient's end of observation); otherwise continuing;
- on an assessment day (``as_of``, the clinic's today) the report is the cohort's state at the end of that day
  (``cohort_on_day``): every row dated after it is left out (diary days, sessions, HIT-6 and MIDAS visits, adverse
  events), so a patient first injected later is not treated, a patient not yet observed is not in the cohort, and
  observation ends on the day at the latest; and a period after day 0 that has not ended before the day judges
  nothing, as in ``onaboard.clinical.treatment_outcomes(..., as_of=...)``: it is left out of week 24, the
  responders, the change per period, time to response, NICE TA260 and the overuse at week 24 (rules.ended_periods);
  the overuse at week 24 is judged only for a patient whose week 24 has ended before the day (the engine's
  ``week24_last_day``), the others counted as not reached (``WEEK24_NOT_REACHED``), since the engine's overuse rule
  says "not suspected" from one complete period (period 4 of a patient on day 120);
  without ``as_of`` the diary is taken as finished (a registry's export), every period judged by its recorded days;
- a published figure is *near* the cohort's when the cohort's value is within the figure's tolerance (the margin
  the synthetic generator is calibrated to) or the figure lies inside the cohort's 95 % interval (a range: overlaps
  it), so a small cohort whose wide interval holds the figure is not called off; a published figure is taken at the
  precision it is printed with (the label's 2 % stands for 1.5 to 2.5 %, ``stats.stated_interval``), here and for
  the label's adverse reactions;
- adverse events: a source that records its own kinds of side effect (the clinic's app) says which label rows each
  of its event codes stands for (``recorded_events``); a row no code stands for is *not recorded* (no rate), and a
  row whose code stands for other rows too is counted with them (no comparison with the label's row alone).
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Collection, Iterator, Mapping
from dataclasses import asdict, dataclass, replace
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import ibis
import pyarrow as pa

from onaboard.clinical import (
    CM_MIN_HEADACHE_DAYS,
    DEFAULT_PERIODS,
    DUE_WINDOW_DAYS,
    EPISODIC_CONSECUTIVE_PERIODS,
    HIT6_MAX_TOTAL,
    HIT6_MIN_TOTAL,
    HIT6_RESPONDER_DROP,
    NICE_MIN_REDUCTION_PERCENT,
    OVERUSE_CLASSES,
    PERIOD_DAYS,
    RETREATMENT_INTERVAL_DAYS,
    WEEK24_PERIOD,
    ChronicMigraine,
    LabelCriteria,
    MedicationOveruse,
    MidasGrade,
    NiceTa260,
)
from onaboard.cohort.backends import (
    AFTER_OBSERVATION,
    OVERFULL_PERIOD,
    CohortSourceError,
    Engine,
    connect,
    read_cohort,
    rows_text,
)
from onaboard.cohort.calibration import calibration
from onaboard.cohort.rules import (
    DOUBLE_BLIND_CYCLES,
    OVERUSE_FLAGS,
    REPORT_COUNTS,
    WEEK24_LAST_DAY,
    adverse_event_incidence,
    age_in_years,
    assessment,
    ended_periods,
    first_injections,
    hit6_totals,
    label_phase_events,
    medication_overuse,
    midas_totals,
    overfull_periods,
    period_grid,
    recorded_periods,
    treatment_baseline,
    treatment_outcomes,
    treatment_periods,
)
from onaboard.cohort.stats import (
    MEAN_INTERVAL_MIN_N,
    Interval,
    cumulative_incidence,
    mean_interval,
    overlaps,
    stated_interval,
    wilson_interval,
)
from onaboard.cohort.tables import SEX_UNKNOWN

if TYPE_CHECKING:
    import ibis.expr.types as ir

_EVENT_ROWS = pa.schema([("event", pa.string()), ("row", pa.string())])
"""An adverse-event code and a label row it stands for (``cohort_report_of``'s ``recorded_events``)."""

__all__ = [
    "AGE_BOUNDS",
    "CHANGE_BOUNDS",
    "DROP_OUT_GAP_DAYS",
    "FOLLOW_THE_PAIN_NOT_RECORDED",
    "HEADACHE_DAYS_BOUNDS",
    "HIT6_BOUNDS",
    "HIT6_CHANGE_BOUNDS",
    "MEAN_INTERVAL_MIN_N",
    "MEDIAN_NOT_REACHED",
    "SESSIONS_EARLY",
    "SESSIONS_FOLLOW_THE_PAIN",
    "SESSIONS_ON_TIME",
    "STOPPING_REASONS",
    "TIME_TO_RESPONSE_PERIODS",
    "WEEK24_LAST_DAY",
    "WEEK24_NOT_REACHED",
    "WEEK24_VISIT",
    "AdverseEventRate",
    "CohortReport",
    "Mean",
    "PeriodChangeRow",
    "Proportion",
    "ReferenceRow",
    "cohort_on_day",
    "cohort_report",
    "cohort_report_of",
    "report_json",
]

WEEK24_VISIT = DOUBLE_BLIND_CYCLES + 1
"""The PROM visit at week 24 (visit 1 is the first injection, then one visit every 12 weeks)."""

DROP_OUT_GAP_DAYS = PERIOD_DAYS
"""A diary that ends more than one period before the end of observation, with no other reason, is a drop-out."""

HEADACHE_DAYS_BOUNDS = (0.0, float(PERIOD_DAYS))
"""Headache days in a 28-day period: 0 to 28 (counts are never pro-rated, shared/spec/diary-csv.md "Periods")."""

CHANGE_BOUNDS = (-float(PERIOD_DAYS), float(PERIOD_DAYS))
"""A change in headache days between two 28-day periods: -28 to +28 days. A mean change's interval is cut there."""

HIT6_BOUNDS = (float(HIT6_MIN_TOTAL), float(HIT6_MAX_TOTAL))
"""A HIT-6 total: 36 to 78 points (clinical-facts.md 8.1, ``onaboard.clinical.prom``)."""

HIT6_CHANGE_BOUNDS = (float(HIT6_MIN_TOTAL - HIT6_MAX_TOTAL), float(HIT6_MAX_TOTAL - HIT6_MIN_TOTAL))
"""A change in the HIT-6 total: -42 to +42 points."""

AGE_BOUNDS = (0.0, math.inf)
"""An age in years is not negative (no upper bound is assumed)."""

WEEK24_NOT_REACHED = "not_reached"
"""In ``CohortReport.overuse_at_week24`` of a report made on an assessment day (``as_of``), beside the engine's three
verdicts: patients whose week 24 had not ended on that day (``onaboard.clinical.week24_last_day`` on or after
``as_of``), whose overuse at week 24 is not judged yet. A report without ``as_of`` (a registry's finished export)
judges every patient's periods 4-6 by their recorded days and has no such key, as before it was added."""

MEDIAN_NOT_REACHED = "not reached"
"""The median onset while fewer than half the eligible patients have responded (Kaplan-Meier) by week 24."""

TIME_TO_RESPONSE_PERIODS = WEEK24_PERIOD
"""Time to response is estimated up to week 24 (period 6), the NICE TA260 verdict: past it a patient without a 30 %
response stops (``_time_to_response``), so their leaving would no longer be independent of not responding."""

STOPPING_REASONS: tuple[tuple[str, str], ...] = (
    ("adverse_event", "Discontinued for an adverse event (recorded)"),
    ("nice_week24", f"NICE TA260 stop: < {NICE_MIN_REDUCTION_PERCENT} % fewer headache days at week 24"),
    (
        "nice_episodic",
        (
            f"NICE TA260 stop: reverted to episodic migraine (< {CM_MIN_HEADACHE_DAYS} days in "
            f"{EPISODIC_CONSECUTIVE_PERIODS} consecutive periods)"
        ),
    ),
    ("dropped_out", "Dropped out: diary ended more than one period before the end of observation"),
    ("continuing", "Continuing: no reason above applies"),
)
"""Stopping reasons in the order they are decided (the first that applies), with their labels."""

SESSIONS_ON_TIME = (
    f"Repeat sessions on time ({RETREATMENT_INTERVAL_DAYS}-{RETREATMENT_INTERVAL_DAYS + DUE_WINDOW_DAYS} days after "
    "the previous one)"
)
"""What ``CohortReport.sessions_on_time`` counts, in the terminal summary, the file and the clinic's page: repeat
sessions the retreatment interval allows (``interval_check``) and not overdue (``schedule_status``: due)."""
SESSIONS_EARLY = f"Repeat sessions too early (under {RETREATMENT_INTERVAL_DAYS} days after the previous one)"
"""What ``CohortReport.sessions_early`` counts: repeat sessions the retreatment interval refuses
(``interval_check``)."""
SESSIONS_FOLLOW_THE_PAIN = "Sessions with at least one follow-the-pain site"
"""What ``CohortReport.sessions_follow_the_pain`` counts (among the sessions that record their follow-the-pain
sites)."""
FOLLOW_THE_PAIN_NOT_RECORDED = "not recorded (the sessions table has no follow_the_pain_sites)"
"""In place of the follow-the-pain share where the sessions table does not record follow-the-pain sites
(``CohortReport.sessions_follow_the_pain_recorded`` False: a cohort directory written before the column)."""


def _percent(fraction: float | None) -> float | None:
    return None if fraction is None else 100 * fraction


@dataclass(frozen=True, slots=True)
class Proportion:
    """``count`` of ``total`` as a percentage with its 95 % Wilson interval (None without a denominator)."""

    count: int
    total: int
    percent: float | None
    low: float | None
    high: float | None

    @classmethod
    def of(cls, count: int, total: int) -> Proportion:
        interval = wilson_interval(count, total)
        return cls(count, total, _percent(interval.estimate), _percent(interval.low), _percent(interval.high))


@dataclass(frozen=True, slots=True)
class Mean:
    """A mean over ``n`` patients with its 95 % interval."""

    n: int
    mean: float | None
    low: float | None
    high: float | None

    @classmethod
    def of(cls, mean: float | None, sd: float | None, n: int, *, bounds: tuple[float, float] | None = None) -> Mean:
        """The mean and its interval (``stats.mean_interval``): none below ``MEAN_INTERVAL_MIN_N`` patients, and
        cut at ``bounds``, the range the mean cannot leave."""
        interval: Interval = mean_interval(mean, sd, n, bounds=bounds)
        return cls(n, interval.estimate, interval.low, interval.high)


@dataclass(frozen=True, slots=True)
class PeriodChangeRow:
    """Period k after the first injection: patients with it and the baseline complete, mean headache days, change."""

    period: int
    weeks: str
    n: int
    mean_headache_days: float | None
    change: Mean


@dataclass(frozen=True, slots=True)
class AdverseEventRate:
    """One label adverse reaction: the cohort's rate over two cycles beside the label's (UNCONFIRMED) figures;
    ``placebo_text`` is the placebo figure as the label prints it, ``placebo_percent`` None where that is a bound
    ("<1").

    ``recorded`` is False where the cohort's source cannot record the reaction (the clinic's app has no kind of side
    effect for it): ``rate`` is then 0 of 0 with no percentage or interval, and ``label_within_interval`` None, so
    nothing reads as a rate of 0 %. ``recorded_with`` names (by ``event``) the other label rows the source records
    together with this one under one kind (the app's "headache or migraine flare" is the label's headache and
    migraine): ``rate`` counts patients with that kind, and ``label_within_interval`` is None, since the label gives
    no figure for the rows together. ``recorded_as`` names the source's own kinds the rate counts where the row is not
    recorded under its own code (a kind holding more than the row): likewise not compared with the label."""

    event: str
    name: str
    rate: Proportion
    label_percent: float
    placebo_percent: float | None
    label_within_interval: bool | None
    placebo_text: str
    recorded: bool = True
    recorded_with: tuple[str, ...] = ()
    recorded_as: tuple[str, ...] = ()
    """The source's own codes the rate counts where they are not the row's code (the clinic's app: "brow_ptosis",
    drooping brow or facial weakness, for facial paresis): a kind holding more than the row, so
    ``label_within_interval`` is None and nothing compares the rate with the label's. Empty for a source coding its
    events by the label's rows."""


@dataclass(frozen=True, slots=True)
class ReferenceRow:
    """A published figure (calibration.toml) and the cohort's own value for it, with the value's 95 % interval
    (``cohort_low``, ``cohort_high``; None where the cohort has none: fewer than 3 patients for a mean, or no data).

    ``near`` is True when either judgement holds: ``within_tolerance``, the cohort's value lies within the figure's
    tolerance (calibration.toml: how far a generated cohort of a few thousand patients may land; for the age range,
    every age lies inside the published range), or ``inside_interval``, the published figure lies inside the
    cohort's 95 % interval (a published range: the two overlap), so a small cohort whose interval holds the figure
    is not called off. Each is None where it cannot be judged (no value, no tolerance, no interval); ``near`` is
    None when neither can. ``cohort_text`` is the cohort's figure as text where it is not one number (the age
    range, "38-60"), else None.
    """

    name: str
    description: str
    published: str
    cohort: float | None
    unit: str
    near: bool | None
    source: str
    status: str
    cohort_low: float | None = None
    cohort_high: float | None = None
    within_tolerance: bool | None = None
    inside_interval: bool | None = None
    cohort_text: str | None = None
    recorded: bool = True
    """False where the source cannot hold the cohort's figure (a clinic's app records no decision to stop for an
    adverse event): no value, no judgement, shown as not recorded."""


@dataclass(frozen=True, slots=True)
class CohortReport:
    """Every number of the cohort report (see the module docstring for the definitions)."""

    directory: str
    engine: str
    as_of: date | None
    """The assessment day: periods not ended before it judge nothing. None: the diary is taken as finished."""
    patients: int
    treated: int
    observed_from: date | None
    observed_until: date | None
    female: Proportion
    age_at_first_injection: Mean
    age_range: tuple[int | None, int | None]
    prior_preventives: dict[str, int]
    sessions_per_patient: dict[str, int]
    session_interval_median_days: float | None
    sessions_on_time: Proportion
    """Repeat sessions the engine's retreatment interval allows that are not overdue (``SESSIONS_ON_TIME``)."""
    sessions_early: Proportion
    """Repeat sessions the engine's retreatment interval refuses as too early (``SESSIONS_EARLY``)."""
    sessions_follow_the_pain: Proportion
    """Sessions with at least one follow-the-pain site, among the sessions whose follow-the-pain sites are known."""
    sessions_follow_the_pain_recorded: bool
    """False where no session records its follow-the-pain sites (``FOLLOW_THE_PAIN_NOT_RECORDED``)."""
    eligibility_periods: int
    chronic_migraine: dict[str, int]
    label_criteria: dict[str, int]
    overuse_at_first_injection: dict[str, int]
    overuse_classes_at_first_injection: dict[str, int]
    overuse_at_week24: dict[str, int]
    baseline_overuse: Proportion
    baseline_headache_days: Mean
    week24_change: Mean
    responder_50: Proportion
    """Completers: of the patients with a complete baseline and a complete week 24 (period 6)."""
    responder_30: Proportion
    """Completers, as ``responder_50``."""
    responder_50_missing_as_non_responder: Proportion
    """Of every patient with a complete baseline whose 24-week phase is over (``_through_week24``): a missing week 24
    (dropped out, stopped before it, too few days recorded in it) counts as no response."""
    responder_30_missing_as_non_responder: Proportion
    """As ``responder_50_missing_as_non_responder``, for a 30 % response."""
    change_by_period: tuple[PeriodChangeRow, ...]
    time_to_response: dict[str, Any]
    nice_ta260: dict[str, int]
    stopping: dict[str, Proportion]
    adverse_events: tuple[AdverseEventRate, ...]
    """Each label row's rate over the patients whose 24-week phase is over (``_through_week24``: on an assessment day,
    week 24 ended before it or a stop for an adverse event in it; else every treated patient)."""
    discontinued_adverse_event: Proportion
    """Stops for an adverse event in the 24-week phase, over the same patients as ``adverse_events``."""
    adverse_events_status: str
    adverse_events_source: str
    hit6_baseline: Mean
    hit6_week24_change: Mean
    hit6_responders: Proportion
    midas_grades: dict[str, dict[str, int]]
    reference: tuple[ReferenceRow, ...]
    discontinuation_recorded: bool = True
    """False where the source records no decision to stop for an adverse event (the clinic's app): the stops for an
    adverse event, their share and the published figure are shown as not recorded (``cohort_report_of``)."""


def _rows(expr: ir.Table) -> list[dict[str, Any]]:
    return expr.to_pyarrow().to_pylist()


def _one(expr: ir.Table) -> dict[str, Any]:
    (row,) = _rows(expr)
    return row


def _int(value: Any) -> int:
    return 0 if value is None else int(value)


def _float(value: Any) -> float | None:
    if value is None:
        return None
    number = float(value)
    return None if math.isnan(number) else number


def _counts(rows: list[dict[str, Any]], key: str, order: tuple[str, ...]) -> dict[str, int]:
    found = {str(row[key]): _int(row["n"]) for row in rows if row[key] is not None}
    return {name: found.get(name, 0) for name in order} | {k: v for k, v in found.items() if k not in order}


def _week24_reached(anchor: ir.DateValue, as_of: date) -> ir.BooleanValue:
    """Whether week 24 had ended before ``as_of`` for a patient first injected on ``anchor``: its last day, the
    engine's ``week24_last_day`` (``WEEK24_LAST_DAY`` after day 0), is before the day (on that day itself period 6
    is still running, as ``rules.ended_periods`` and ``treatment_outcomes(..., as_of=...)`` have it)."""
    return anchor + ibis.interval(days=WEEK24_LAST_DAY) < ibis.literal(as_of, type="date")


def _week24_overuse(week24: ir.Table, anchors: ir.Table, as_of: date | None) -> ir.Table:
    """``patient_id, week24_overuse``: the engine's verdict over periods 4-6 (``medication_overuse``), or, on an
    assessment day, ``WEEK24_NOT_REACHED`` for a patient whose week 24 had not ended before it, since the engine's
    rule says "not suspected" from one complete period without overuse (period 4 of a patient on day 120) and only
    week 24 itself ends the three periods it is judged on. Without ``as_of`` every patient has the verdict."""
    if as_of is None:
        return week24.select("patient_id", week24_overuse=week24.medication_overuse)
    joined = week24.join(anchors.select("patient_id", "anchor"), "patient_id")
    verdict = ibis.ifelse(
        _week24_reached(joined.anchor, as_of), joined.medication_overuse, ibis.literal(WEEK24_NOT_REACHED)
    )
    return joined.select("patient_id", week24_overuse=verdict)


def _patient_summary(
    tables: Mapping[str, ir.Table],
    grid: ir.Table,
    judged: ir.Table,
    anchors: ir.Table,
    periods: ir.Table,
    baseline_days: ir.Table,
    as_of: date | None,
) -> ir.Table:
    """One row per treated patient: the verdicts, outcomes and flags every aggregate of the report reads.
    ``judged`` is ``grid`` without the periods not ended on the assessment day ``as_of`` (``ended_periods``; the
    whole grid without one); the diary's last date, for drop-outs, is read from the whole grid (on an assessment
    day, the diary up to that day: ``cohort_on_day``). The overuse at week 24 is judged only once week 24 has ended
    (``_week24_overuse``). ``through_week24`` marks the patients whose 24-week phase is over (``_through_week24``):
    the denominator of the label-phase figures (adverse events, stops for one in 24 weeks, responders counting a
    missing week 24 as no response)."""
    patients = tables["patients"]
    outcomes = treatment_outcomes(periods, baseline_days).cache()
    eligibility = assessment(grid, anchors, count=DEFAULT_PERIODS, through=0, birth_dates=patients).cache()
    baseline = medication_overuse(recorded_periods(grid, count=1), anchors, count=1)
    week24 = medication_overuse(
        recorded_periods(judged, count=DEFAULT_PERIODS, through=WEEK24_PERIOD), anchors, count=DEFAULT_PERIODS
    )
    week24 = _week24_overuse(week24, anchors, as_of)
    last = grid.group_by("patient_id").aggregate(last_date=grid.last_date.max())
    complete = periods.filter(periods.complete)
    followed = complete.group_by("patient_id").aggregate(last_complete_period=complete["index"].max())
    # A recorded stop for an adverse event is a stopping reason whenever it came; the 24-week figure compared with
    # the trial's (Dodick 2010's 3.8 %; the label's own sentence is UNCONFIRMED) counts only the stops of the label's
    # 24-week phase (``label_phase_events``: after session 1 or 2, by week 24's last day).
    events = tables["adverse_events"]
    stops = events.filter(events.led_to_discontinuation)
    stopped = stops.group_by("patient_id").aggregate(adverse_event_stop=stops.count() > 0)
    phase_stops = label_phase_events(stops, anchors)
    stopped_24w = phase_stops.group_by("patient_id").aggregate(adverse_event_stop_24w=phase_stops.count() > 0)
    hit6 = hit6_totals(tables["prom"])
    hit6 = hit6.group_by("patient_id").aggregate(
        hit6_baseline=hit6.hit6_total.max(where=hit6.visit == 1),
        hit6_week24=hit6.hit6_total.max(where=hit6.visit == WEEK24_VISIT),
    )

    summary = anchors.join(outcomes, "patient_id")
    summary = summary.join(
        eligibility.select("patient_id", "chronic_migraine", "medication_overuse", "label_criteria", *OVERUSE_FLAGS),
        "patient_id",
    )
    summary = summary.join(baseline.select("patient_id", baseline_overuse=baseline.medication_overuse), "patient_id")
    summary = summary.join(week24, "patient_id")
    summary = summary.left_join(patients, "patient_id").select(
        summary, patients.sex, patients.birth_date, patients.observed_until, patients.prior_preventives_failed
    )
    summary = summary.left_join(last, "patient_id").select(summary, last.last_date)
    summary = summary.left_join(followed, "patient_id").select(summary, followed.last_complete_period)
    summary = summary.left_join(stopped, "patient_id").select(summary, stopped.adverse_event_stop)
    summary = summary.left_join(stopped_24w, "patient_id").select(summary, stopped_24w.adverse_event_stop_24w)
    summary = summary.left_join(hit6, "patient_id").select(summary, hit6.hit6_baseline, hit6.hit6_week24)
    gap = summary.observed_until.delta(summary.last_date, unit="day")
    reason = ibis.cases(
        (summary.adverse_event_stop.fill_null(False), "adverse_event"),
        (summary.nice_stop_rule == "week24", "nice_week24"),
        (summary.nice_stop_rule == "episodic", "nice_episodic"),
        (summary.last_date.isnull() | (gap > DROP_OUT_GAP_DAYS), "dropped_out"),
        else_="continuing",
    )
    return summary.mutate(
        stopping=reason,
        age_years=age_in_years(summary.birth_date, summary.anchor),
        assessable=summary.baseline_complete & summary.week24_available,
        through_week24=_through_week24(summary.anchor, summary.adverse_event_stop_24w.fill_null(False), as_of),
    )


def _through_week24(anchor: ir.DateValue, stopped_24w: ir.BooleanValue, as_of: date | None) -> ir.BooleanValue:
    """Whether a patient's 24-week phase (the label's two cycles) is over, so that what happened in it can be
    counted: on an assessment day, their week 24 had ended before it (``_week24_reached``) or they stopped for an
    adverse event in it (``stopped_24w``); a patient first injected last month is still in it, and counting them
    would dilute every rate of the phase. Without ``as_of`` (a registry's finished export) every treated patient."""
    if as_of is None:
        return ibis.literal(value=True)
    return _week24_reached(anchor, as_of) | stopped_24w


def _totals(summary: ir.Table) -> dict[str, Any]:
    s = summary
    assessable = s.assessable
    change = s.week24_headache_days - s.baseline_headache_days
    hit6_change = s.hit6_week24 - s.hit6_baseline
    both_hit6 = s.hit6_baseline.notnull() & s.hit6_week24.notnull()
    return _one(
        s.aggregate(
            treated=s.count(),
            female=(s.sex == "female").sum(),
            sex_known=(s.sex != SEX_UNKNOWN).sum(),
            age_mean=s.age_years.mean(),
            age_sd=s.age_years.std(),
            age_n=s.age_years.count(),
            age_min=s.age_years.min(),
            age_max=s.age_years.max(),
            baseline_n=s.baseline_complete.sum(),
            baseline_mean=s.baseline_headache_days.mean(where=s.baseline_complete),
            baseline_sd=s.baseline_headache_days.std(where=s.baseline_complete),
            assessable=assessable.sum(),
            change_mean=change.mean(where=assessable),
            change_sd=change.std(where=assessable),
            responder_50=(assessable & s.responder_50).sum(),
            responder_30=(assessable & s.responder_30).sum(),
            baseline_overuse_n=(s.baseline_overuse != MedicationOveruse.INSUFFICIENT_DATA.value).sum(),
            baseline_overuse=(s.baseline_overuse == MedicationOveruse.SUSPECTED.value).sum(),
            through_week24=s.through_week24.sum(),
            discontinued_event=(s.through_week24 & s.adverse_event_stop_24w.fill_null(False)).sum(),
            baseline_through_week24=(s.baseline_complete & s.through_week24).sum(),
            responder_50_through_week24=(s.through_week24 & assessable & s.responder_50).sum(),
            responder_30_through_week24=(s.through_week24 & assessable & s.responder_30).sum(),
            hit6_baseline_n=s.hit6_baseline.count(),
            hit6_baseline_mean=s.hit6_baseline.mean(),
            hit6_baseline_sd=s.hit6_baseline.std(),
            hit6_change_n=both_hit6.sum(),
            hit6_change_mean=hit6_change.mean(where=both_hit6),
            hit6_change_sd=hit6_change.std(where=both_hit6),
            hit6_responders=(both_hit6 & (hit6_change <= -HIT6_RESPONDER_DROP)).sum(),
            **{name: s[name].sum() for name in OVERUSE_FLAGS},
        )
    )


def _grouped(summary: ir.Table, column: str) -> list[dict[str, Any]]:
    return _rows(summary.group_by(column).aggregate(n=summary.count()))


def _change_by_period(periods: ir.Table) -> tuple[PeriodChangeRow, ...]:
    usable = periods.filter(periods.complete & periods.baseline_complete)
    rows = _rows(
        usable.group_by("index")
        .aggregate(
            n=usable.count(),
            headache=usable.headache_days.mean(),
            change=usable.change_headache_days.mean(),
            change_sd=usable.change_headache_days.std(),
        )
        .order_by("index")
    )
    result = []
    for row in rows:
        k, n = int(row["index"]), _int(row["n"])
        result.append(
            PeriodChangeRow(
                period=k,
                weeks=f"{4 * (k - 1)}-{4 * k}",
                n=n,
                mean_headache_days=_float(row["headache"]),
                change=Mean.of(_float(row["change"]), _float(row["change_sd"]), n, bounds=CHANGE_BOUNDS),
            )
        )
    return tuple(result)


def _time_to_response(summary: ir.Table) -> dict[str, Any]:
    """Kaplan-Meier time to response among patients with a complete, non-zero baseline, up to week 24
    (``TIME_TO_RESPONSE_PERIODS``): a patient responds in their onset period and, until then, is followed up to their
    last complete period (censored there when they never responded), so a patient who started recently or left
    counts for the periods seen, not as a non-responder.

    The estimate ends at week 24 because after it leaving is no longer independent of not responding: NICE TA260
    stops a patient without a 30 % response at week 24 (their diary ends), and Kaplan-Meier would take them for
    patients who might still respond, lifting the share above what was seen (71 % at week 24 rising to 76 % when
    only 70 % of the cohort ever responded). A first response after week 24 is counted in ``responded`` and in
    ``responded_after``, not in the table.

    ``by_period`` lists every period to week 24 with a patient at risk: ``at_risk``, first responses
    (``patients``), ``censored`` (followed no further without responding) and ``cumulative``, whose ``percent``,
    ``low`` and ``high`` are the Kaplan-Meier share with its interval (stats.cumulative_incidence) and ``count`` of
    ``total`` the responders so far among the eligible. The median onset is the first period where that share
    reaches 50 %, null ("not reached" by week 24) before it does. ``through_period`` is the table's last period
    (6); ``responded_through_period`` the responders in it.
    """
    s = summary.filter(summary.baseline_complete & (summary.baseline_headache_days > 0))
    responded = s.onset_period.notnull()
    period = ibis.coalesce(s.onset_period, s.last_complete_period, 0)
    rows = _rows(
        s.mutate(period=period, responded=responded)
        .group_by("period")
        .aggregate(responded=responded.sum(), censored=(~responded).sum())
    )
    events = {int(row["period"]): _int(row["responded"]) for row in rows}
    censored = {int(row["period"]): _int(row["censored"]) for row in rows}
    eligible = sum(events.values()) + sum(censored.values())
    at_risk = eligible - events.get(0, 0) - censored.get(0, 0)  # 0: no complete period after day 0
    steps = []
    for k in range(1, min(max(events | censored, default=0), TIME_TO_RESPONSE_PERIODS) + 1):
        if at_risk == 0:
            break
        steps.append((k, at_risk, events.get(k, 0), censored.get(k, 0)))
        at_risk -= events.get(k, 0) + censored.get(k, 0)
    shares = cumulative_incidence([(n, d) for _, n, d, _ in steps])
    by_period, running, median = [], 0, None
    for (k, n, d, c), share in zip(steps, shares, strict=True):
        running += d
        if median is None and share.estimate is not None and 2 * share.estimate >= 1:
            median = k
        cumulative = Proportion(running, eligible, _percent(share.estimate), _percent(share.low), _percent(share.high))
        by_period.append(
            {
                "period": k,
                "weeks": f"{4 * (k - 1)}-{4 * k}",
                "at_risk": n,
                "patients": d,
                "censored": c,
                "cumulative": asdict(cumulative),
            }
        )
    responded = sum(events.values())
    return {
        "method": "kaplan_meier",
        "eligible": eligible,
        "responded": responded,
        "median_onset_period": median,
        "by_period": by_period,
        "through_period": TIME_TO_RESPONSE_PERIODS,
        "responded_through_period": running,
        "responded_after": responded - running,
    }


def _sessions(sessions: ir.Table) -> dict[str, Any]:
    """Sessions per patient, the median gap between sessions, and the shares of repeat sessions on time and too
    early and of sessions with follow-the-pain sites.

    A repeat session's timing is the engine's: ``onaboard.clinical.interval_check`` allows it from
    ``RETREATMENT_INTERVAL_DAYS`` after the previous session (earlier is *too early*), and ``schedule_status`` calls
    it due up to ``DUE_WINDOW_DAYS`` past that day (later is overdue); *on time* is allowed and not overdue. A
    follow-the-pain session has ``follow_the_pain_sites`` > 0 (the engine's ``follow_the_pain_count``), counted
    among the sessions where that is known (not null)."""
    window = ibis.window(group_by="patient_id", order_by="session_number")
    with_gap = sessions.mutate(previous=sessions.session_date.lag().over(window))
    repeats = with_gap.filter(with_gap.previous.notnull())
    repeats = repeats.mutate(gap=repeats.session_date.delta(repeats.previous, unit="day"))
    allowed = repeats.gap >= RETREATMENT_INTERVAL_DAYS
    gaps = _one(
        repeats.aggregate(
            repeats=repeats.count(),
            on_time=(allowed & (repeats.gap <= RETREATMENT_INTERVAL_DAYS + DUE_WINDOW_DAYS)).sum(),
            early=(~allowed).sum(),
            median_gap=repeats.gap.median(),
        )
    )
    follow_the_pain = sessions.follow_the_pain_sites
    totals = _one(
        sessions.aggregate(
            sessions=sessions.count(), known=follow_the_pain.count(), follow_the_pain=(follow_the_pain > 0).sum()
        )
    )
    per_patient = sessions.group_by("patient_id").aggregate(count=sessions.count())
    distribution = _rows(per_patient.group_by("count").aggregate(n=per_patient.count()).order_by("count"))
    return {
        "per_patient": {str(row["count"]): _int(row["n"]) for row in distribution},
        "median_gap": _float(gaps["median_gap"]),
        "on_time": Proportion.of(_int(gaps["on_time"]), _int(gaps["repeats"])),
        "early": Proportion.of(_int(gaps["early"]), _int(gaps["repeats"])),
        "follow_the_pain": Proportion.of(_int(totals["follow_the_pain"]), _int(totals["known"])),
        "follow_the_pain_recorded": _int(totals["known"]) > 0 or not _int(totals["sessions"]),
    }


def _adverse_events(
    events: ir.Table, patients: int, recorded_events: Mapping[str, Collection[str]] | None
) -> tuple[AdverseEventRate, ...]:
    """The label's rows with the cohort's rates: ``events`` are those counted (the 24-week phase's, of the
    ``patients`` of the denominator); ``recorded_events`` as ``cohort_report_of`` takes it. A row is compared with the
    label only where it is recorded under its own code alone: a code of the source's own standing for it
    (``recorded_as``: a kind holding more than the row, or more rows than it) leaves the label's figure uncompared."""
    rows = calibration().adverse_reactions
    if recorded_events is None:
        recorded_events = {reaction.event: (reaction.event,) for reaction in rows}
    pairs = [(code, row) for code, covered in recorded_events.items() for row in covered]
    mapping = ibis.memtable(
        pa.table({"event": [code for code, _ in pairs], "row": [row for _, row in pairs]}, schema=_EVENT_ROWS)
    )
    # Patients with any code standing for a row: a kind recorded for two rows counts its patients in each.
    by_row = events.join(mapping, "event").select("patient_id", "session_number", event=mapping.row)
    counted = {row["event"]: _int(row["patients"]) for row in _rows(adverse_event_incidence(by_row))}
    order = [reaction.event for reaction in rows]
    result = []
    for reaction in rows:
        codes = [code for code, covered in recorded_events.items() if reaction.event in covered]
        together = {row for code in codes for row in recorded_events[code]} - {reaction.event}
        recorded_with = tuple(sorted(together, key=lambda row: order.index(row) if row in order else len(order)))
        recorded_as = tuple(code for code in codes if code != reaction.event)
        rate = Proportion.of(counted.get(reaction.event, 0), patients) if codes else Proportion.of(0, 0)
        within = overlaps(rate.low, rate.high, stated_interval(reaction.botox_percent))
        result.append(
            AdverseEventRate(
                event=reaction.event,
                name=reaction.name,
                rate=rate,
                label_percent=reaction.botox_percent,
                placebo_percent=reaction.placebo_percent,
                label_within_interval=None if recorded_with or recorded_as else within,
                placebo_text=reaction.placebo_text,
                recorded=bool(codes),
                recorded_with=recorded_with,
                recorded_as=recorded_as,
            )
        )
    return tuple(result)


def _label_phase_rates(
    adverse_events: ir.Table,
    anchors: ir.Table,
    summary: ir.Table,
    totals: Mapping[str, Any],
    recorded_events: Mapping[str, Collection[str]] | None,
) -> tuple[AdverseEventRate, ...]:
    """The label rows' rates (``_adverse_events``) over the treated patients whose 24-week phase is over
    (``_through_week24``, counted in ``totals``; every treated patient without an assessment day), counting the events
    of that phase (``label_phase_events``): an event of a patient without a session is not counted, nor one of a
    patient first injected a month before the assessment day."""
    phase_events = label_phase_events(adverse_events, anchors)
    over = summary.filter(summary.through_week24).patient_id
    counted = phase_events.filter(phase_events.patient_id.isin(over))
    return _adverse_events(counted, _int(totals["through_week24"]), recorded_events)


def _midas(prom: ir.Table) -> dict[str, dict[str, int]]:
    midas = midas_totals(prom)
    chosen = midas.filter(midas.visit.isin([1, WEEK24_VISIT]))
    rows = _rows(chosen.group_by(["visit", "midas_grade"]).aggregate(n=chosen.count()))
    grades = tuple(grade.value for grade in MidasGrade)
    result = {}
    for visit, name in ((1, "baseline"), (WEEK24_VISIT, "week24")):
        found = {row["midas_grade"]: _int(row["n"]) for row in rows if row["visit"] == visit}
        result[name] = {grade: found.get(grade, 0) for grade in grades}
    return result


def _inside(low: float | None, high: float | None, published: tuple[float, float]) -> bool | None:
    """Whether the published figure (or range) overlaps the interval ``low..high``, the figure taken at the precision
    it is printed with (``stats.stated_interval``: the published -8.4 stands for -8.45 to -8.35, so an interval from
    -8.38 is not called off for ending 0.02 short of it); None without an interval."""
    stated = (stated_interval(published[0])[0], stated_interval(published[1])[1])
    return overlaps(low, high, stated)


def _not_recorded(row: ReferenceRow) -> ReferenceRow:
    """The published figure with no cohort value and no judgement: the source cannot hold it."""
    return replace(
        row,
        cohort=None,
        cohort_low=None,
        cohort_high=None,
        near=None,
        within_tolerance=None,
        inside_interval=None,
        recorded=False,
    )


def _no_stops_read(tables: Mapping[str, ir.Table]) -> dict[str, ir.Table]:
    """The tables with no adverse event ending treatment, for a source that records no such decision: its
    ``led_to_discontinuation`` says nothing, so no patient's stopping reason is an adverse event."""
    events = tables["adverse_events"]
    return {**tables, "adverse_events": events.mutate(led_to_discontinuation=ibis.literal(value=False))}


def _stops(count: int, treated: int, *, recorded: bool) -> Proportion:
    """``count`` of the ``treated`` patients stopped for an adverse event; where the source records no such stop, 0
    of 0 with no percentage and no interval, as a label row not recorded (not 0 % of the treated patients)."""
    return Proportion.of(count, treated) if recorded else Proportion.of(0, 0)


def _reference(figures: Mapping[str, Mean | Proportion]) -> tuple[ReferenceRow, ...]:
    """Each target of calibration.toml beside the cohort's figure for it (``ReferenceRow``); the age range is the
    caller's to fill in."""
    rows = []
    for name, target in calibration().targets.items():
        figure = figures.get(name)
        value = None if figure is None else figure.mean if isinstance(figure, Mean) else figure.percent
        low, high = (None, None) if figure is None or value is None else (figure.low, figure.high)
        tolerance = None if value is None or target.tolerance is None else target.near(value)
        inside = _inside(low, high, target.bounds)
        judged = [verdict for verdict in (tolerance, inside) if verdict is not None]
        rows.append(
            ReferenceRow(
                name=name,
                description=target.description,
                published=target.text,
                cohort=value,
                unit=target.unit,
                near=any(judged) if judged else None,
                source=target.source,
                status=target.status,
                cohort_low=low,
                cohort_high=high,
                within_tolerance=tolerance,
                inside_interval=inside,
            )
        )
    return tuple(rows)


def cohort_on_day(tables: Mapping[str, ir.Table], as_of: date) -> dict[str, ir.Table]:
    """The five tables as they stood at the end of ``as_of``: every row dated after it left out, the day itself
    kept, as the clinic's pages read a diary up to today (``patient_diary(until=today)``).

    A patient whose observation begins after the day is not yet in the cohort, and the others' observation ends on
    it at the latest (``observed_until``, the last day observed, becomes ``min(observed_until, as_of)``). Diary days,
    sessions (a patient first injected later is not treated yet), HIT-6 and MIDAS visits (``assessed_on``) and
    adverse events (``onset_date``; the table holds no day for a decision to stop, so a stop counts from its event's
    onset) dated after the day are left out."""
    day = ibis.literal(as_of, type="date")
    patients = tables["patients"]
    patients = patients.filter(patients.observed_from <= day)
    diary, sessions, prom, events = (tables[name] for name in ("diary", "sessions", "prom", "adverse_events"))
    return {
        **tables,
        "patients": patients.mutate(observed_until=ibis.least(patients.observed_until, day)),
        "diary": diary.filter(diary.date <= day),
        "sessions": sessions.filter(sessions.session_date <= day),
        "prom": prom.filter(prom.assessed_on <= day),
        "adverse_events": events.filter(events.onset_date <= day),
    }


def _refuse_date_written_twice(diary: ir.Table, grid: ir.Table, anchors: ir.Table, diary_source: str) -> None:
    """``CohortSourceError`` when a period of the grid holds a date written twice (``overfull_periods``)."""
    overfull = _rows(overfull_periods(grid).order_by("patient_id", "grid").limit(1))
    if overfull:
        raise CohortSourceError([_date_written_twice(diary, anchors, overfull[0], diary_source)])


def _refuse_diary_after_observation(summary: ir.Table, diary_source: str) -> None:
    """``CohortSourceError`` when a treated patient's diary runs past their ``observed_until`` (read from the
    summary's ``last_date``: the grid's, no second scan of the diary). The drop-out gap, ``observed_until`` less the
    last diary day, went negative, and a patient who had dropped out read as continuing."""
    after = summary.filter(summary.last_date > summary.observed_until)
    late = _rows(after.order_by("patient_id").select("patient_id", "last_date", "observed_until").limit(1))
    if not late:
        return
    problem = AFTER_OBSERVATION.format(
        table=diary_source,
        patient_id=late[0]["patient_id"],
        column="last diary date",
        day=late[0]["last_date"],
        until=late[0]["observed_until"],
        rows=rows_text(_int(_one(after.aggregate(n=after.count()))["n"]), "patient"),
    )
    raise CohortSourceError([problem])


def _date_written_twice(diary: ir.Table, anchors: ir.Table, period: Mapping[str, Any], table: str) -> str:
    """The problem of a period holding a date written twice (``overfull_periods``), naming the patient, the
    period's first day and the first date written twice (one read of that patient's rows, on the way out)."""
    anchor = _one(anchors.filter(anchors.patient_id == period["patient_id"]).select("anchor"))["anchor"]
    start = anchor + timedelta(days=PERIOD_DAYS * int(period["grid"]))
    rows = diary.filter(
        (diary.patient_id == period["patient_id"]) & diary.date.between(start, start + timedelta(days=PERIOD_DAYS - 1))
    )
    repeated = rows.group_by("date").aggregate(n=rows.count())
    first = _one(repeated.filter(repeated.n > 1).aggregate(date=repeated.date.min()))["date"]
    return OVERFULL_PERIOD.format(**period, table=table, start=start, date=first)


UNREADABLE_COHORT = (
    "{directory}: one of its Parquet files cannot be read ({reason}); a file is damaged or not written whole: write "
    "the cohort again"
)


def cohort_report(
    directory: Path,
    engine: Engine | str = Engine.DUCKDB,
    *,
    spark_session: Any = None,
    as_of: date | None = None,
) -> CohortReport:
    """The cohort report of the cohort in ``directory``, computed by ``engine`` (DuckDB or Spark), on the
    assessment day ``as_of`` (``cohort_report_of``; None: the diary is taken as finished).

    A clinic's export (``onaboard cohort export``) holds a manifest (``export.read_manifest``): its day is then the
    default ``as_of`` (a later one is refused: the export holds nothing after it), and what the clinic's app cannot
    record is reported as not recorded, as on the clinic's page.

    The diary is scanned once into per-patient 28-day periods (cached in the backend); every figure is then an
    aggregate over that table or over the small patients, sessions, PROM and adverse-event tables.
    """
    from onaboard.cohort.export import AS_OF_AFTER_EXPORT, read_manifest

    manifest = read_manifest(directory) if directory.is_dir() else None
    recorded: dict[str, Any] = {}
    if manifest is not None:
        if as_of is not None and as_of > manifest.as_of:
            raise CohortSourceError([AS_OF_AFTER_EXPORT.format(as_of=as_of, exported=manifest.as_of)])
        as_of = as_of or manifest.as_of
        recorded = {
            "recorded_events": manifest.recorded_events,
            "discontinuation_recorded": manifest.discontinuation_recorded,
        }
    connection = connect(engine, spark_session=spark_session)
    tables = read_cohort(connection, directory)
    with _damaged_file_refused(Engine(engine), directory):
        return cohort_report_of(
            tables,
            source=str(directory),
            engine=engine,
            as_of=as_of,
            diary_source=str(directory / "diary.parquet"),
            **recorded,
        )


@contextlib.contextmanager
def _damaged_file_refused(engine: Engine, directory: Path) -> Iterator[None]:
    """The report's queries inside: a file whose pages ``read_cohort`` did not read (it judges the diary from its
    footer and scans its hours alone, and reads some columns of the small tables) and DuckDB cannot decode is refused
    naming the directory (DuckDB does not say which file), as ``read_cohort`` refuses a file it finds damaged. Only
    DuckDB's reading errors are taken so (its base ``Error``, raised for an undecodable page; ``IOException``; an
    ``InvalidInputException`` about reading a file): an error in a query itself stays the bug it is."""
    if engine is not Engine.DUCKDB:
        yield
        return
    import duckdb

    try:
        yield
    except duckdb.Error as error:
        text = str(error)
        reading = type(error) is duckdb.Error or isinstance(error, duckdb.IOException)
        if isinstance(error, duckdb.InvalidInputException):
            reading = "parquet" in text.lower() or "failed to read" in text.lower()
        if not reading:
            raise
        reason = text.strip().splitlines()[0] if text.strip() else "DuckDB could not decode a page"
        raise CohortSourceError([UNREADABLE_COHORT.format(directory=directory, reason=reason)]) from None


def cohort_report_of(
    tables: Mapping[str, ir.Table],
    *,
    source: str,
    engine: Engine | str = Engine.DUCKDB,
    as_of: date | None = None,
    recorded_events: Mapping[str, Collection[str]] | None = None,
    discontinuation_recorded: bool = True,
    diary_source: str = "diary",
) -> CohortReport:
    """The cohort report of the five tables (``tables.TABLES``, as lazy Ibis tables of one backend): a cohort
    directory read by ``read_cohort``, or a clinic's own rows handed over as Arrow (``backends.arrow_cohort``).
    ``source`` names where they came from (the report's ``directory``).

    ``as_of`` is the assessment day: the report is the cohort's state at the end of it, every table cut at the day
    first (``cohort_on_day``: rows after it left out, observation ending on it), and, with
    ``onaboard.clinical.treatment_outcomes``' meaning, a period after day 0 that has not ended before it is still
    running and judges nothing (``rules.ended_periods``). None (a registry's finished export): every row counts, and
    every period by its recorded days.

    ``recorded_events`` maps each event code of the adverse-events table to the label rows (``event`` of
    calibration.toml) it stands for, for a source with its own kinds of side effect; a label row no code stands for
    is reported as not recorded. None: the table codes events by the label's rows (a registry's, the synthetic
    cohort's), so every row is recorded on its own. ``discontinuation_recorded`` False: the source records no decision
    to stop for an adverse event (the clinic's app): ``led_to_discontinuation`` is not read, the 24-week figure and the
    stopping reason are 0 of 0 with no percentage or interval (``_stops``, as a label row not recorded), and the
    published discontinuation figure is shown as not recorded rather than judged against a rate that can only be 0.
    ``diary_source`` names the diary in a refusal (its file, for a cohort directory)."""
    if as_of is not None:
        tables = cohort_on_day(tables, as_of)
    tables = tables if discontinuation_recorded else _no_stops_read(tables)
    anchors = first_injections(tables["sessions"]).cache()
    grid = period_grid(tables["diary"], anchors, counts=REPORT_COUNTS).cache()
    _refuse_date_written_twice(tables["diary"], grid, anchors, diary_source)
    judged = grid if as_of is None else ended_periods(grid, anchors, as_of).cache()
    baseline_days = treatment_baseline(grid, anchors).cache()
    periods = treatment_periods(judged, baseline_days).cache()
    summary = _patient_summary(tables, grid, judged, anchors, periods, baseline_days, as_of).cache()
    _refuse_diary_after_observation(summary, diary_source)

    patients = tables["patients"]
    cohort = _one(
        patients.aggregate(n=patients.count(), first=patients.observed_from.min(), last=patients.observed_until.max())
    )
    totals = _totals(summary)
    treated = _int(totals["treated"])
    verdict_orders = {
        "chronic_migraine": tuple(v.value for v in ChronicMigraine),
        "label_criteria": tuple(v.value for v in LabelCriteria),
        "medication_overuse": tuple(v.value for v in MedicationOveruse),
        # On an assessment day, beside the engine's verdicts; a registry's finished export has no patient short of it.
        "week24_overuse": (*(v.value for v in MedicationOveruse), *((WEEK24_NOT_REACHED,) if as_of else ())),
        "nice_ta260": tuple(v.value for v in NiceTa260),
        "stopping": tuple(name for name, _ in STOPPING_REASONS),
    }
    grouped = {column: _counts(_grouped(summary, column), column, order) for column, order in verdict_orders.items()}
    preventives = _rows(summary.group_by("prior_preventives_failed").aggregate(n=summary.count()))
    sessions = _sessions(tables["sessions"])
    events = _label_phase_rates(tables["adverse_events"], anchors, summary, totals, recorded_events)
    # MIDAS grades, like HIT-6 and the adverse events, are of treated patients: visit 1 is their first injection.
    prom = tables["prom"]
    treated_prom = prom.filter(prom.patient_id.isin(anchors.patient_id))
    change = Mean.of(
        _float(totals["change_mean"]), _float(totals["change_sd"]), _int(totals["assessable"]), bounds=CHANGE_BOUNDS
    )
    baseline = Mean.of(
        _float(totals["baseline_mean"]),
        _float(totals["baseline_sd"]),
        _int(totals["baseline_n"]),
        bounds=HEADACHE_DAYS_BOUNDS,
    )
    responder_50 = Proportion.of(_int(totals["responder_50"]), _int(totals["assessable"]))
    responder_30 = Proportion.of(_int(totals["responder_30"]), _int(totals["assessable"]))
    # Beside the completers': every patient with a complete baseline whose week 24 is due, a missing week 24 (dropped
    # out, stopped before it, too few days recorded in it) counted as no response.
    due = _int(totals["baseline_through_week24"])
    responder_50_missing = Proportion.of(_int(totals["responder_50_through_week24"]), due)
    responder_30_missing = Proportion.of(_int(totals["responder_30_through_week24"]), due)
    baseline_overuse = Proportion.of(_int(totals["baseline_overuse"]), _int(totals["baseline_overuse_n"]))
    # Of the treated patients whose sex is recorded: a clinic's "unknown" is not "not a woman".
    female = Proportion.of(_int(totals["female"]), _int(totals["sex_known"]))
    hit6_baseline = Mean.of(
        _float(totals["hit6_baseline_mean"]),
        _float(totals["hit6_baseline_sd"]),
        _int(totals["hit6_baseline_n"]),
        bounds=HIT6_BOUNDS,
    )
    hit6_change = Mean.of(
        _float(totals["hit6_change_mean"]),
        _float(totals["hit6_change_sd"]),
        _int(totals["hit6_change_n"]),
        bounds=HIT6_CHANGE_BOUNDS,
    )
    hit6_responders = Proportion.of(_int(totals["hit6_responders"]), _int(totals["hit6_change_n"]))
    discontinued = _stops(
        _int(totals["discontinued_event"]), _int(totals["through_week24"]), recorded=discontinuation_recorded
    )
    # Of the patients the label verdict can judge before the first injection: insufficient data is neither.
    label = grouped["label_criteria"]
    label_met = Proportion.of(
        label[LabelCriteria.MET.value], label[LabelCriteria.MET.value] + label[LabelCriteria.NOT_MET.value]
    )
    ages = (totals["age_min"], totals["age_max"])
    age_inside = None
    age_target = calibration().targets["age_range"]
    if ages[0] is not None and age_target.low is not None and age_target.high is not None:
        age_inside = age_target.low <= ages[0] and ages[1] <= age_target.high
    reference = _reference(
        {
            "baseline_headache_days": baseline,
            "week24_change_headache_days": change,
            "responder_50_week24": responder_50,
            "baseline_overuse": baseline_overuse,
            "hit6_baseline": hit6_baseline,
            "hit6_responders_week24": hit6_responders,
            "discontinued_adverse_event": discontinued,
            "female_share": female,
            "label_criteria_met": label_met,
        }
    )
    age_text = None if ages[0] is None or ages[1] is None else f"{int(ages[0])}-{int(ages[1])}"
    reference = tuple(
        replace(row, cohort=None, cohort_text=age_text, near=age_inside, within_tolerance=age_inside)
        if row.name == "age_range"
        else _not_recorded(row)
        if row.name == "discontinued_adverse_event" and not discontinuation_recorded
        else row
        for row in reference
    )
    stopping = {name: Proportion.of(grouped["stopping"].get(name, 0), treated) for name, _ in STOPPING_REASONS}
    stopping["adverse_event"] = _stops(stopping["adverse_event"].count, treated, recorded=discontinuation_recorded)
    classes = {flag.removeprefix("overuse_"): _int(totals[flag]) for flag in OVERUSE_FLAGS}
    assert set(classes) >= {cls.value for cls in OVERUSE_CLASSES}  # noqa: S101 - flags mirror the engine's classes
    return CohortReport(
        directory=source,
        engine=Engine(engine).value,
        as_of=as_of,
        patients=_int(cohort["n"]),
        treated=treated,
        observed_from=cohort["first"],
        observed_until=cohort["last"],
        female=female,
        age_at_first_injection=Mean.of(
            _float(totals["age_mean"]), _float(totals["age_sd"]), _int(totals["age_n"]), bounds=AGE_BOUNDS
        ),
        age_range=(None if ages[0] is None else int(ages[0]), None if ages[1] is None else int(ages[1])),
        prior_preventives={
            str(row["prior_preventives_failed"]): _int(row["n"])
            for row in sorted(
                preventives,
                key=lambda r: -1 if r["prior_preventives_failed"] is None else r["prior_preventives_failed"],
            )
        },
        sessions_per_patient=sessions["per_patient"],
        session_interval_median_days=sessions["median_gap"],
        sessions_on_time=sessions["on_time"],
        sessions_early=sessions["early"],
        sessions_follow_the_pain=sessions["follow_the_pain"],
        sessions_follow_the_pain_recorded=sessions["follow_the_pain_recorded"],
        eligibility_periods=DEFAULT_PERIODS,
        chronic_migraine=grouped["chronic_migraine"],
        label_criteria=grouped["label_criteria"],
        overuse_at_first_injection=grouped["medication_overuse"],
        overuse_classes_at_first_injection=classes,
        overuse_at_week24=grouped["week24_overuse"],
        baseline_overuse=baseline_overuse,
        baseline_headache_days=baseline,
        week24_change=change,
        responder_50=responder_50,
        responder_30=responder_30,
        responder_50_missing_as_non_responder=responder_50_missing,
        responder_30_missing_as_non_responder=responder_30_missing,
        change_by_period=_change_by_period(periods),
        time_to_response=_time_to_response(summary),
        nice_ta260=grouped["nice_ta260"],
        stopping=stopping,
        adverse_events=events,
        discontinued_adverse_event=discontinued,
        adverse_events_status=calibration().adverse_reactions_status,
        adverse_events_source=calibration().adverse_reactions_source,
        hit6_baseline=hit6_baseline,
        hit6_week24_change=hit6_change,
        hit6_responders=hit6_responders,
        midas_grades=_midas(treated_prom),
        reference=reference,
        discontinuation_recorded=discontinuation_recorded,
    )


def _jsonable(value: Any) -> Any:
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        return round(value, 4)
    if isinstance(value, dict):
        return {key: _jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(item) for item in value]
    return value


def report_json(report: CohortReport) -> dict[str, Any]:
    """The report as one JSON document (dates as ``YYYY-MM-DD``, floats to 4 decimals)."""
    return _jsonable(asdict(report))
