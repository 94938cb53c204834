"""The cohort report's figures are the engine's per-patient answers counted up, with the report's own definitions.

The report runs on the boundary cohort (a generated cohort plus the hand-built boundary patients); each figure is
recomputed here from ``onaboard.clinical``'s answers for every patient (tests/cohort/expected.py) or from the files.
The outcome figures are checked three times: with the diary taken as finished, and on two assessment days
(``as_of``), one inside the generated patients' treatment and one before many of them were first injected, against
``treatment_outcomes(..., as_of=...)`` over the diaries and injections up to that day.
"""

from __future__ import annotations

import json
import statistics
from collections import Counter
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import ibis
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from onaboard.clinical import (
    DEFAULT_PERIODS,
    DUE_WINDOW_DAYS,
    FIXED_SITE_COUNT,
    PERIOD_DAYS,
    RETREATMENT_INTERVAL_DAYS,
    WEEK24_PERIOD,
    CycleStatus,
    DiaryDay,
    InjectionPlan,
    MedicationOveruse,
    Muscle,
    PatientDiary,
    assess,
    interval_check,
    plan_from_sites,
    preempt_plan,
    schedule_status,
    week24_last_day,
)
from onaboard.cohort.backends import Engine, arrow_cohort, connect, read_cohort
from onaboard.cohort.calibration import calibration
from onaboard.cohort.report import (
    CHANGE_BOUNDS,
    MEAN_INTERVAL_MIN_N,
    STOPPING_REASONS,
    WEEK24_LAST_DAY,
    WEEK24_NOT_REACHED,
    CohortReport,
    Mean,
    Proportion,
    _adverse_events,
    _reference,
    _sessions,
    _time_to_response,
    cohort_report,
    cohort_report_of,
    report_json,
)
from onaboard.cohort.rules import DOUBLE_BLIND_CYCLES
from onaboard.cohort.synth import write_cohort
from onaboard.cohort.tables import SCHEMAS, TABLES, diary_arrow
from tests.cohort.conftest import DAY0, IBIS_ON_DUCKDB_2, spark_test
from tests.cohort.expected import Cohort, Results, engine_cohort_on_day, engine_outcomes, read_for_engine

pytestmark = IBIS_ON_DUCKDB_2


@pytest.fixture(scope="module")
def report(boundary_cohort: Path) -> CohortReport:
    """The DuckDB cohort report of the boundary cohort."""
    return cohort_report(boundary_cohort)


REPORT_AS_OF = date(2025, 6, 15)
"""An assessment day inside the generated patients' treatment: for many of them a period is running on it."""

Outcomes = dict[str, dict[str, Any]]
"""The engine's outcomes per patient id (tests/cohort/expected.py)."""


@pytest.fixture(scope="module")
def engine_cohort(boundary_cohort: Path) -> Cohort:
    """The boundary cohort read for the engine."""
    return read_for_engine(boundary_cohort)


@pytest.fixture(scope="module")
def report_on_day(boundary_cohort: Path) -> CohortReport:
    """The DuckDB cohort report of the boundary cohort as of ``REPORT_AS_OF``."""
    return cohort_report(boundary_cohort, as_of=REPORT_AS_OF)


EARLY_AS_OF = date(2024, 6, 1)
"""An assessment day before many generated patients' first injection (about a third of the treated patients) and
their observation's start, and before some of the treated patients' NICE stops, adverse events and visits."""


@pytest.fixture(scope="module")
def report_early(boundary_cohort: Path) -> CohortReport:
    """The DuckDB cohort report of the boundary cohort as of ``EARLY_AS_OF``."""
    return cohort_report(boundary_cohort, as_of=EARLY_AS_OF)


AS_OF_REPORTS = {"as_of": ("report_on_day", REPORT_AS_OF), "early": ("report_early", EARLY_AS_OF)}
"""The assessment-day reports by name: the fixture giving each and its day."""


@pytest.fixture(params=["finished", *AS_OF_REPORTS])
def judged(
    request: pytest.FixtureRequest, report: CohortReport, expected: Results, engine_cohort: Cohort
) -> tuple[CohortReport, Outcomes]:
    """The report and the engine's outcomes per patient: with the diary taken as finished, and as of
    ``REPORT_AS_OF`` and ``EARLY_AS_OF`` (the engine reading the diaries and injections up to the day; a period not
    ended before it judges nothing)."""
    if request.param == "finished":
        return report, expected["outcomes"]
    fixture, as_of = AS_OF_REPORTS[request.param]
    return request.getfixturevalue(fixture), engine_outcomes(engine_cohort_on_day(engine_cohort, as_of), as_of=as_of)


def _assessable(outcomes: dict[str, Any]) -> bool:
    return outcomes["periods"][0]["complete"] and outcomes["week24_available"]


def test_treated_patients_are_those_with_a_session(report: CohortReport, expected: Results) -> None:
    """Every patient with at least one session is treated; the patients table counts everyone."""
    assert report.treated == len(expected["outcomes"])
    assert report.patients == pq.read_metadata(Path(report.directory) / "patients.parquet").num_rows


def _matches(shown: dict[str, int], values: list[str]) -> bool:
    """The report's counts equal the values' counts, every patient counted once."""
    counted = Counter(values)
    return shown == {name: counted.get(name, 0) for name in shown} and sum(shown.values()) == len(values)


def test_verdicts_at_the_first_injection_are_the_engines(report: CohortReport, expected: Results) -> None:
    """Chronic migraine, label and overuse verdicts the day before the first injection count the engine's."""
    first = list(expected["first_injection"].values())
    assert _matches(report.chronic_migraine, [p["chronic_migraine"] for p in first])
    assert _matches(report.label_criteria, [p["label_criteria"] for p in first])
    assert _matches(report.overuse_at_first_injection, [p["medication_overuse"] for p in first])
    classes = Counter(name for p in first for name in p["classes"])
    assert report.overuse_classes_at_first_injection == {
        name: classes.get(name, 0) for name in report.overuse_classes_at_first_injection
    }


def test_overuse_at_week24_is_the_engines_assessment_on_day_167(report: CohortReport, expected: Results) -> None:
    """Overuse at week 24 counts the engine's verdict over periods 4-6 (as of day 167)."""
    assert _matches(report.overuse_at_week24, [p["medication_overuse"] for p in expected["week24"].values()])


def test_baseline_overuse_is_the_baseline_period_meeting_ichd3_8_2(report: CohortReport, expected: Results) -> None:
    """PREEMPT's comparison: suspected on the baseline period alone, among patients whose baseline is complete."""
    verdicts = [p["medication_overuse"] for p in expected["baseline_period"].values()]
    judged = [v for v in verdicts if v != "insufficient_data"]
    assert (report.baseline_overuse.count, report.baseline_overuse.total) == (judged.count("suspected"), len(judged))


def test_responders_are_counted_among_patients_assessable_at_week24(judged: tuple[CohortReport, Outcomes]) -> None:
    """Responder counts are the engine's flags among patients with a complete baseline and a complete week 24 (on an
    assessment day, one that has ended)."""
    report, outcomes = judged
    assessable = [o for o in outcomes.values() if _assessable(o)]
    assert report.responder_50.total == report.responder_30.total == len(assessable)
    assert report.responder_50.count == sum(bool(o["responder_50"]) for o in assessable)
    assert report.responder_30.count == sum(bool(o["responder_30"]) for o in assessable)


def test_the_week24_change_is_the_mean_of_the_engines_changes(judged: tuple[CohortReport, Outcomes]) -> None:
    """The mean change at week 24 averages week 24 minus baseline over the assessable patients."""
    report, outcomes = judged
    changes = [
        o["week24_headache_days"] - o["periods"][0]["headache_days"] for o in outcomes.values() if _assessable(o)
    ]
    assert report.week24_change.mean == pytest.approx(statistics.fmean(changes))
    assert report.week24_change.low < report.week24_change.mean < report.week24_change.high


def test_change_per_period_uses_complete_periods_against_complete_baselines(
    judged: tuple[CohortReport, Outcomes],
) -> None:
    """Each period's mean change and patient count use the engine's periods that are complete, as is the baseline
    (on an assessment day, periods that have ended: a running period is in no row)."""
    report, outcomes = judged
    by_period: dict[int, list[int]] = {}
    for outcome in outcomes.values():
        if not outcome["periods"][0]["complete"]:
            continue
        for period in outcome["periods"][1:]:
            if period["complete"]:
                by_period.setdefault(period["index"], []).append(period["change"])
    assert [row.period for row in report.change_by_period] == sorted(by_period)
    for row in report.change_by_period:
        assert row.n == len(by_period[row.period])
        assert row.change.mean == pytest.approx(statistics.fmean(by_period[row.period]))


@pytest.fixture(scope="module")
def small_report(tmp_path_factory: pytest.TempPathFactory) -> CohortReport:
    """The report of a 3-patient generated cohort (seed 1): periods of 3, 2 and 1 patients, wide intervals."""
    directory = tmp_path_factory.mktemp("small-cohort")
    write_cohort(directory, patients=3, days=365, seed=1)
    return cohort_report(directory)


def test_a_period_of_fewer_than_three_patients_has_a_mean_change_and_no_interval(small_report: CohortReport) -> None:
    """Periods with 1 or 2 patients give their mean change alone: a t interval on one degree of freedom would run
    far past -28..+28 days (the demo clinic's -97.9 to 79.9)."""
    few = [row for row in small_report.change_by_period if row.n < MEAN_INTERVAL_MIN_N]
    assert {row.n for row in few} == {1, 2}
    for row in few:
        assert row.change.mean is not None
        assert (row.change.low, row.change.high) == (None, None)


def test_every_mean_change_interval_stays_within_what_a_period_allows(small_report: CohortReport) -> None:
    """From 3 patients on, each period's interval lies within -28..+28 days and holds its mean; where Student's t
    would pass -28 it is cut there."""
    shown = [row.change for row in small_report.change_by_period if row.n >= MEAN_INTERVAL_MIN_N]
    assert shown
    for change in shown:
        assert change.low is not None
        assert change.mean is not None
        assert change.high is not None
        assert CHANGE_BOUNDS[0] <= change.low <= change.mean <= change.high <= CHANGE_BOUNDS[1]
    assert any(change.low == CHANGE_BOUNDS[0] for change in shown)


def _kaplan_meier(patients: list[tuple[int | None, int]]) -> list[tuple[int, int, int, int, float]]:
    """Per period: at risk, first responses, censored, cumulative % from (onset, last complete period) pairs."""
    rows, survival, k = [], 1.0, 1
    while k <= WEEK24_PERIOD and (at_risk := [(onset, last) for onset, last in patients if (onset or last) >= k]):
        events = sum(onset == k for onset, _ in at_risk)
        censored = sum(onset is None and last == k for onset, last in at_risk)
        survival *= 1 - events / len(at_risk)
        rows.append((k, len(at_risk), events, censored, 100 * (1 - survival)))
        k += 1
    return rows


def test_time_to_response_is_the_kaplan_meier_share_of_the_engines_onsets(
    judged: tuple[CohortReport, Outcomes],
) -> None:
    """Onset per period is the engine's first period with >= 30 % fewer headache days; a patient without one counts
    as at risk up to their last complete period (on an assessment day, ended) and no further, the table ends at week
    24 (period 6, where NICE stops the non-responders), and the median is where the share reaches 50 %."""
    report, outcomes = judged
    patients = []
    for o in outcomes.values():
        baseline = o["periods"][0]
        if baseline["complete"] and baseline["headache_days"] > 0:
            last = max((p["index"] for p in o["periods"][1:] if p["complete"]), default=0)
            patients.append((o["onset_period"], last))
    rows = _kaplan_meier(patients)
    response = report.time_to_response
    steps = response["by_period"]
    assert [(s["period"], s["at_risk"], s["patients"], s["censored"]) for s in steps] == [row[:4] for row in rows]
    assert [s["cumulative"]["percent"] for s in steps] == pytest.approx([row[4] for row in rows], abs=1e-9)
    assert response["eligible"] == len(patients)
    assert response["responded"] == sum(onset is not None for onset, _ in patients)
    by_week24 = sum(onset is not None and onset <= WEEK24_PERIOD for onset, _ in patients)
    assert (response["through_period"], response["responded_through_period"]) == (WEEK24_PERIOD, by_week24)
    assert response["responded_after"] == response["responded"] - by_week24
    assert response["median_onset_period"] == next((row[0] for row in rows if row[4] >= 50), None)
    assert any(s["censored"] for s in steps[:-1])  # the cohort does censor patients before its last period


def _summary(patients: list[tuple[int | None, int]]) -> ibis.Table:
    """Patients with a complete baseline of 20 headache days: (onset period, last complete period) each."""
    return ibis.memtable(
        pa.table(
            {
                "baseline_complete": [True] * len(patients),
                "baseline_headache_days": [20] * len(patients),
                "onset_period": pa.array([onset for onset, _ in patients], pa.int32()),
                "last_complete_period": pa.array([last for _, last in patients], pa.int32()),
            }
        )
    )


def test_recent_starters_are_not_counted_as_non_responders() -> None:
    """Five patients responding in period 2 and two seen for period 1 only (they started a month ago) give 100 %
    by period 2, not 5 of 7."""
    response = _time_to_response(_summary([(2, 6)] * 5 + [(None, 1)] * 2))
    final = response["by_period"][-1]
    assert (final["period"], final["at_risk"], final["cumulative"]["percent"]) == (2, 5, 100.0)
    assert response["median_onset_period"] == 2


def test_the_median_onset_is_not_reached_when_few_respond() -> None:
    """Two of ten patients responding in period 1, the other eight followed for six periods: the median onset is
    not reached (it was 1, the median among the two responders)."""
    response = _time_to_response(_summary([(1, 6)] * 2 + [(None, 6)] * 8))
    assert response["median_onset_period"] is None
    assert response["by_period"][-1]["cumulative"]["percent"] == pytest.approx(20.0)


def test_nice_verdicts_are_the_engines(judged: tuple[CohortReport, Outcomes]) -> None:
    """The NICE TA260 verdict counts are the engine's."""
    report, outcomes = judged
    assert _matches(report.nice_ta260, [o["nice_ta260"] for o in outcomes.values()])


def test_an_assessment_day_leaves_running_periods_out(report: CohortReport, report_on_day: CohortReport) -> None:
    """As of a day inside the cohort's treatment fewer patients are assessable at week 24 and fewer periods are
    counted than with the diary taken as finished, and the day is in the report and its JSON."""
    assert report_on_day.responder_50.total < report.responder_50.total
    assert sum(row.n for row in report_on_day.change_by_period) < sum(row.n for row in report.change_by_period)
    assert (report.as_of, report_on_day.as_of) == (None, REPORT_AS_OF)
    assert report_json(report_on_day)["as_of"] == REPORT_AS_OF.isoformat()


def test_overuse_at_week24_on_an_assessment_day_judges_only_patients_who_reached_it(
    report_on_day: CohortReport, engine_cohort: Cohort
) -> None:
    """As of a day, overuse at week 24 is the engine's verdict over periods 4-6 (its assessment on day 167) for the
    patients whose week 24 ended before the day (``week24_last_day``), and not reached for the others, however many
    of periods 4-6 have ended."""
    diaries, injections, _ = engine_cohort
    verdicts = []
    for patient_id, dates in injections.items():
        week24 = week24_last_day(min(dates))
        if week24 >= REPORT_AS_OF:
            verdicts.append(WEEK24_NOT_REACHED)
            continue
        diary = diaries.get(patient_id, PatientDiary(patient_id, ()))
        kept = PatientDiary(patient_id, tuple(day for day in diary.days if day.date < REPORT_AS_OF))
        verdicts.append(assess(kept, as_of=week24, periods=DEFAULT_PERIODS).medication_overuse.verdict.value)
    assert _matches(report_on_day.overuse_at_week24, verdicts)
    assert 0 < report_on_day.overuse_at_week24[WEEK24_NOT_REACHED] < report_on_day.treated


def test_overuse_at_week24_without_an_assessment_day_judges_every_patient(
    report: CohortReport, report_on_day: CohortReport
) -> None:
    """With the diary taken as finished (no ``as_of``) every patient has the engine's verdict over periods 4-6 by
    their recorded days and the counts are the engine's three verdicts alone, as before; on an assessment day the
    not reached count follows them, in the report and its JSON."""
    verdicts = [v.value for v in MedicationOveruse]
    assert list(report.overuse_at_week24) == list(report_json(report)["overuse_at_week24"]) == verdicts
    assert list(report_json(report_on_day)["overuse_at_week24"]) == [*verdicts, WEEK24_NOT_REACHED]


B28 = "B28-responder-50-exact"
"""A boundary patient with seven complete periods after day 0 (``DAY0``), none of them meeting medication overuse."""


@pytest.mark.parametrize(
    ("days", "counted"),
    [
        (120, WEEK24_NOT_REACHED),
        (None, MedicationOveruse.NOT_SUSPECTED.value),
    ],
)
def test_a_patient_at_day_120_has_not_reached_week24_for_overuse(
    boundary_cohort: Path, days: int | None, counted: str
) -> None:
    """As of day 120 of treatment (periods 1-4 ended without overuse, period 5 running) the patient is counted as
    not reached in the overuse at week 24, not as not suspected (the engine's overuse rule would say not suspected
    from period 4 alone); with the diary taken as finished they are not suspected."""
    as_of = None if days is None else DAY0 + timedelta(days=days)
    report = _one_patient_report(boundary_cohort, as_of, patient_id=B28)
    assert {name: n for name, n in report.overuse_at_week24.items() if n} == {counted: 1}
    assert report_json(report)["overuse_at_week24"] == report.overuse_at_week24


def test_week24_is_reached_for_overuse_the_day_after_its_last_day(boundary_cohort: Path) -> None:
    """On week 24's last day (the engine's ``week24_last_day``, day 167) period 6 is still running and week 24 is
    not reached; the day after, the patient's overuse at week 24 is judged (not suspected)."""
    last_day = week24_last_day(DAY0)
    on_it, after_it = (
        _one_patient_report(boundary_cohort, day, patient_id=B28) for day in (last_day, last_day + timedelta(days=1))
    )
    assert on_it.overuse_at_week24[WEEK24_NOT_REACHED] == 1
    assert after_it.overuse_at_week24[MedicationOveruse.NOT_SUSPECTED.value] == 1
    assert after_it.overuse_at_week24[WEEK24_NOT_REACHED] == 0


def test_patients_first_injected_after_the_day_are_not_treated_on_it(
    report: CohortReport, report_early: CohortReport, boundary_cohort: Path
) -> None:
    """As of a day, the treated patients are those with a session on or before it, their sessions are those up to
    it, and the patients are those whose observation had begun, observed up to the day at the latest."""
    sessions = pq.read_table(boundary_cohort / "sessions.parquet").to_pylist()
    given = Counter(s["patient_id"] for s in sessions if s["session_date"] <= EARLY_AS_OF)
    patients = pq.read_table(boundary_cohort / "patients.parquet").to_pylist()
    assert report_early.treated == len(given) < report.treated
    assert report_early.sessions_per_patient == {str(n): k for n, k in sorted(Counter(given.values()).items())}
    assert report_early.patients == sum(p["observed_from"] <= EARLY_AS_OF for p in patients) < report.patients
    assert report_early.observed_until == EARLY_AS_OF < max(p["observed_until"] for p in patients)


def _stopping_reasons(directory: Path, cohort: Cohort, outcomes: Outcomes, as_of: date | None) -> Counter[str]:
    """Each patient's stopping reason of ``outcomes`` (the engine's), from the files and ``cohort`` as they stood
    on ``as_of`` (None: all of them), in the documented order."""
    diaries, _, _ = cohort
    last_day = date.max if as_of is None else as_of
    events = pq.read_table(directory / "adverse_events.parquet").to_pylist()
    stopped = {e["patient_id"] for e in events if e["led_to_discontinuation"] and e["onset_date"] <= last_day}
    patients = pq.read_table(directory / "patients.parquet").to_pylist()
    until = {p["patient_id"]: min(p["observed_until"], last_day) for p in patients}
    reasons: Counter[str] = Counter()
    for patient_id, outcome in outcomes.items():
        diary = diaries.get(patient_id, PatientDiary(patient_id, ()))
        last = max((day.date for day in diary.days if day.date <= last_day), default=None)
        if patient_id in stopped:
            reasons["adverse_event"] += 1
        elif outcome["nice_ta260"] == "stop":
            reasons["nice_week24" if outcome["responder_30"] is False else "nice_episodic"] += 1
        elif last is None or (until[patient_id] - last).days > PERIOD_DAYS:
            reasons["dropped_out"] += 1
        else:
            reasons["continuing"] += 1
    return reasons


@pytest.mark.parametrize("name", ["finished", *AS_OF_REPORTS])
def test_stopping_reasons_are_each_patients_state_on_the_day(
    request: pytest.FixtureRequest,
    name: str,
    report: CohortReport,
    expected: Results,
    engine_cohort: Cohort,
    boundary_cohort: Path,
) -> None:
    """Each treated patient stops for an adverse event recorded by the day, else by the engine's NICE TA260 stop on
    the periods ended before it, else has dropped out when their diary up to the day ends more than a period before
    the day (or their observation's end, if earlier), else continues: a NICE stop or an event after the day does not
    count, nor does a diary that merely stops on the day."""
    if name == "finished":
        shown, reasons = report, _stopping_reasons(boundary_cohort, engine_cohort, expected["outcomes"], None)
    else:
        fixture, as_of = AS_OF_REPORTS[name]
        cohort = engine_cohort_on_day(engine_cohort, as_of)
        shown = request.getfixturevalue(fixture)
        reasons = _stopping_reasons(boundary_cohort, cohort, engine_outcomes(cohort, as_of=as_of), as_of)
    assert {key: value.count for key, value in shown.stopping.items()} == {
        key: reasons.get(key, 0) for key, _ in STOPPING_REASONS
    }


B34 = "B34-reverted"
"""A boundary patient (conftest.py) with three complete periods of 14 headache days after day 0 (``DAY0``) and none
after them: back to episodic migraine when period 3 ends (day 83), a NICE TA260 stop from day 84 on. Sessions on
day 0 and day 84; observed from day -84 to day 300."""


B16 = "B16-missing-periods"
"""A boundary patient whose diary after day 0 holds periods 1 and 2 (to day 55) with 12 headache days each: no NICE
TA260 stop yet."""


def _one_patient_report(
    boundary_cohort: Path, as_of: date | None, *, patient_id: str = B34, **extra_rows: list[dict[str, Any]]
) -> CohortReport:
    """The report, as of ``as_of``, of one patient of the boundary cohort with rows added to the named tables."""
    tables = {}
    for name in TABLES:
        data = pq.read_table(boundary_cohort / f"{name}.parquet")
        data = data.filter(pc.equal(data["patient_id"], patient_id))
        if added := extra_rows.get(name):
            data = pa.concat_tables([data, pa.Table.from_pylist(added, schema=data.schema)])
        tables[name] = data
    return cohort_report_of(arrow_cohort(connect(Engine.DUCKDB), tables), source=patient_id, as_of=as_of)


def _reasons(report: CohortReport) -> dict[str, int]:
    return {name: value.count for name, value in report.stopping.items() if value.count}


def test_a_patient_is_treated_from_the_day_of_their_first_session(boundary_cohort: Path) -> None:
    """As of the day before the first session the patient is in the cohort but not treated; on the session's day
    they are, with that one session (a day's rows count on the day, as the clinic's pages read today's diary)."""
    before = _one_patient_report(boundary_cohort, DAY0 - timedelta(days=1))
    on_the_day = _one_patient_report(boundary_cohort, DAY0)
    assert (before.patients, before.treated, before.sessions_per_patient, _reasons(before)) == (1, 0, {}, {})
    assert (on_the_day.treated, on_the_day.sessions_per_patient) == (1, {"1": 1})
    assert _one_patient_report(boundary_cohort, None).sessions_per_patient == {"2": 1}


def test_a_nice_stop_after_the_day_is_not_a_drop_out_on_it(boundary_cohort: Path) -> None:
    """As of day 70 the patient whose NICE TA260 stop comes on day 84 is continuing, not dropped out (their diary
    runs to the day, and their observation, to day 300 in the file, ends on it); from day 84 the stop is theirs."""
    on_day_70 = _one_patient_report(boundary_cohort, DAY0 + timedelta(days=70))
    assert _reasons(on_day_70) == {"continuing": 1}
    assert on_day_70.observed_until == DAY0 + timedelta(days=70)
    assert _reasons(_one_patient_report(boundary_cohort, DAY0 + timedelta(days=84))) == {"nice_episodic": 1}


def test_a_diary_resumed_after_the_day_does_not_hide_a_drop_out_on_it(boundary_cohort: Path) -> None:
    """A patient whose diary stopped on day 55 and resumes on day 100 had dropped out as of day 90 (their diary
    ended more than a period before it) and is continuing as of day 100."""
    resumed = diary_arrow([DiaryDay(patient_id=B16, date=DAY0 + timedelta(days=100), headache_hours=Decimal(0))])
    day_90, day_100 = (
        _one_patient_report(boundary_cohort, DAY0 + timedelta(days=days), patient_id=B16, diary=resumed.to_pylist())
        for days in (90, 100)
    )
    assert (_reasons(day_90), _reasons(day_100)) == ({"dropped_out": 1}, {"continuing": 1})


def test_adverse_events_after_the_day_are_not_counted(boundary_cohort: Path) -> None:
    """An adverse event with its onset on day 75 that stopped treatment counts in no rate, stop or stopping reason
    as of day 74, and in each of them from day 75."""
    event = {
        "patient_id": B34,
        "session_number": 1,
        "onset_date": DAY0 + timedelta(days=75),
        "event": "neck_pain",
        "led_to_discontinuation": True,
    }
    before, on_the_day = (
        _one_patient_report(boundary_cohort, DAY0 + timedelta(days=days), adverse_events=[event]) for days in (74, 75)
    )

    def counted(report: CohortReport) -> tuple[int, int, dict[str, int]]:
        (neck_pain,) = [row for row in report.adverse_events if row.event == "neck_pain"]
        return neck_pain.rate.count, report.discontinued_adverse_event.count, _reasons(report)

    assert counted(before) == (0, 0, {"continuing": 1})
    assert counted(on_the_day) == (1, 1, {"adverse_event": 1})


def test_questionnaires_after_the_day_are_not_counted(boundary_cohort: Path) -> None:
    """HIT-6 and MIDAS answered at week 24 (day 168) are not in the week-24 figures as of day 167; the visit on day
    0 is the baseline as of day 0."""
    answered = next(row for row in pq.read_table(boundary_cohort / "prom.parquet").to_pylist() if row["visit"] == 1)
    visits = [
        {**answered, "patient_id": B34, "visit": visit, "assessed_on": DAY0 + timedelta(days=days)}
        for visit, days in ((1, 0), (3, 168))
    ]

    def counted(days: int) -> tuple[int, int, int]:
        report = _one_patient_report(boundary_cohort, DAY0 + timedelta(days=days), prom=visits)
        return report.hit6_baseline.n, report.hit6_week24_change.n, sum(report.midas_grades["week24"].values())

    assert counted(167) == (1, 0, 0)
    assert counted(168) == (1, 1, 1)


def test_stopping_reasons_partition_the_treated_patients(report: CohortReport) -> None:
    """Every treated patient has exactly one stopping reason, in the documented order."""
    assert list(report.stopping) == [name for name, _ in STOPPING_REASONS]
    assert sum(value.count for value in report.stopping.values()) == report.treated


def test_stopping_for_an_adverse_event_is_the_recorded_discontinuation(
    report: CohortReport, boundary_cohort: Path, engine_cohort: Cohort
) -> None:
    """Patients who stopped for an adverse event are those with a discontinuing event in the file; the 24-week
    figure counts those after session 1 or 2 and by week 24's last day."""
    events = pq.read_table(boundary_cohort / "adverse_events.parquet").to_pylist()
    stopped = {e["patient_id"] for e in events if e["led_to_discontinuation"]}
    _, _, in_two_cycles = _label_phase(boundary_cohort, engine_cohort, None)
    assert report.discontinued_adverse_event.count == len(in_two_cycles)
    assert report.stopping["adverse_event"].count == len(stopped)


def _altered(boundary_cohort: Path, directory: Path, **extra_rows: list[dict[str, Any]]) -> Path:
    """A copy of the boundary cohort in ``directory`` with rows added to the named tables."""
    for table in boundary_cohort.glob("*.parquet"):
        data = pq.read_table(table)
        added = extra_rows.get(table.stem)
        if added:
            data = pa.concat_tables([data, pa.Table.from_pylist(added, schema=data.schema)])
        pq.write_table(data, directory / table.name)
    return directory


def test_a_stop_for_an_adverse_event_after_session_2_is_a_stopping_reason(
    report: CohortReport, boundary_cohort: Path, tmp_path: Path
) -> None:
    """A discontinuation recorded after session 3 makes the patient's stopping reason the adverse event, while the
    24-week figure beside the label's 3.8 % (sessions 1-2) does not count it."""
    sessions = pq.read_table(boundary_cohort / "sessions.parquet").to_pylist()
    events = pq.read_table(boundary_cohort / "adverse_events.parquet").to_pylist()
    stopped = {e["patient_id"] for e in events if e["led_to_discontinuation"]}
    third = next(s for s in sessions if s["session_number"] == 3 and s["patient_id"] not in stopped)
    stop = {
        "patient_id": third["patient_id"],
        "session_number": 3,
        "onset_date": third["session_date"] + timedelta(days=3),
        "event": "muscular_weakness",
        "led_to_discontinuation": True,
    }
    later = cohort_report(_altered(boundary_cohort, tmp_path, adverse_events=[stop]))
    assert later.stopping["adverse_event"].count == report.stopping["adverse_event"].count + 1
    assert later.discontinued_adverse_event == report.discontinued_adverse_event


def test_a_source_recording_no_stops_for_an_adverse_event_reports_them_as_not_recorded(
    report: CohortReport, boundary_cohort: Path
) -> None:
    """Where the source records no decision to stop for an adverse event (the clinic's app), the 24-week figure and
    the stopping reason are 0 of 0 with no percentage or interval, as an unrecorded label row is, not 0 of the
    treated patients (0.0 %, CI 0-35.4); every treated patient still has one stopping reason."""
    clinic = cohort_report_of(
        read_cohort(connect(Engine.DUCKDB), boundary_cohort), source="clinic", discontinuation_recorded=False
    )
    assert report.stopping["adverse_event"].count > 0
    unrecorded = Proportion(0, 0, None, None, None)
    assert clinic.discontinued_adverse_event == clinic.stopping["adverse_event"] == unrecorded
    assert sum(value.count for value in clinic.stopping.values()) == clinic.treated == report.treated
    document = json.loads(json.dumps(report_json(clinic)))
    for figure in (document["discontinued_adverse_event"], document["stopping"]["adverse_event"]):
        assert (figure["count"], figure["total"], figure["percent"], figure["low"], figure["high"]) == (
            0,
            0,
            None,
            None,
            None,
        )


def test_midas_grades_are_of_treated_patients(report: CohortReport, boundary_cohort: Path, tmp_path: Path) -> None:
    """A MIDAS visit of a patient without a session is not graded: the grades count treated patients, as HIT-6 and
    the adverse events do."""
    prom = pq.read_table(boundary_cohort / "prom.parquet").to_pylist()
    untreated = {**next(row for row in prom if row["visit"] == 1), "patient_id": "U01-never-injected"}
    patients = pq.read_table(boundary_cohort / "patients.parquet").to_pylist()
    patient = {**patients[0], "patient_id": untreated["patient_id"]}
    patient["observed_until"] = max(patient["observed_until"], untreated["assessed_on"])  # the visit is observed
    altered = cohort_report(_altered(boundary_cohort, tmp_path, prom=[untreated], patients=[patient]))
    assert altered.patients == report.patients + 1
    assert altered.midas_grades == report.midas_grades


def _label_phase(directory: Path, cohort: Cohort, as_of: date | None) -> tuple[set[str], dict[str, set[str]], set[str]]:
    """From the files and ``cohort`` as they stood on ``as_of`` (None: all of them): the treated patients whose
    24-week phase is over (every one without a day; else those whose week 24, to ``week24_last_day``, ended before
    the day, and those who stopped for an adverse event in it), the patients among them with each event after
    session 1 or 2 and by week 24's last day, and those among them who stopped for an adverse event in that phase."""
    _, injections, _ = cohort
    day0 = {patient_id: min(dates) for patient_id, dates in injections.items()}
    last_day = date.max if as_of is None else as_of
    events = pq.read_table(directory / "adverse_events.parquet").to_pylist()
    in_phase = [
        e
        for e in events
        if e["patient_id"] in day0
        and e["onset_date"] <= last_day
        and e["session_number"] <= DOUBLE_BLIND_CYCLES
        and e["onset_date"] <= week24_last_day(day0[e["patient_id"]])
    ]
    stopped = {e["patient_id"] for e in in_phase if e["led_to_discontinuation"]}
    over = set(day0) if as_of is None else {p for p, day in day0.items() if week24_last_day(day) < as_of} | stopped
    by_event: dict[str, set[str]] = {}
    for event in in_phase:
        if event["patient_id"] in over:
            by_event.setdefault(event["event"], set()).add(event["patient_id"])
    return over, by_event, stopped


@pytest.mark.parametrize("day", ["finished", *AS_OF_REPORTS])
def test_adverse_event_rates_count_the_label_phase_of_the_patients_through_week24(
    request: pytest.FixtureRequest, day: str, boundary_cohort: Path, engine_cohort: Cohort
) -> None:
    """Each label reaction's rate, and the stops for an adverse event beside the trial's 24-week figure, count
    distinct patients with it after session 1 or 2 and by week 24's last day, over the patients whose 24-week phase
    is over: every treated patient with the diary finished; on an assessment day those whose week 24 had ended, or
    who stopped for an adverse event in it, a patient first injected last month being in neither count."""
    fixture, as_of = ("report", None) if day == "finished" else AS_OF_REPORTS[day]
    shown: CohortReport = request.getfixturevalue(fixture)
    cohort = engine_cohort if as_of is None else engine_cohort_on_day(engine_cohort, as_of)
    over, by_event, stopped = _label_phase(boundary_cohort, cohort, as_of)
    for row in shown.adverse_events:
        assert (row.rate.count, row.rate.total) == (len(by_event.get(row.event, set())), len(over)), row.event
    assert (shown.discontinued_adverse_event.count, shown.discontinued_adverse_event.total) == (len(stopped), len(over))
    assert [row.event for row in shown.adverse_events] == [r.event for r in calibration().adverse_reactions]
    assert len(over) == shown.treated if as_of is None else 0 < len(over) < shown.treated


def test_an_event_after_week24_filed_under_session_2_is_not_in_the_label_phase(boundary_cohort: Path) -> None:
    """A patient whose last session was session 2 (day 84) has a side effect on day 200 filed under it (the clinic's
    app files one reported without a session under the last one): it is outside the label's 24-week phase and counts
    in no rate and not in the 24-week stops, while one on day 160 does; the stop on day 200 is still the patient's
    stopping reason."""
    events = [
        {"patient_id": B34, "session_number": 2, "onset_date": DAY0 + timedelta(days=days), "event": event}
        | {"led_to_discontinuation": stop}
        for days, event, stop in ((160, "eyelid_ptosis", False), (200, "neck_pain", True))
    ]
    report = _one_patient_report(boundary_cohort, None, adverse_events=events)
    rates = {row.event: (row.rate.count, row.rate.total) for row in report.adverse_events}
    assert (rates["eyelid_ptosis"], rates["neck_pain"]) == ((1, 1), (0, 1))
    assert (report.discontinued_adverse_event.count, report.discontinued_adverse_event.total) == (0, 1)
    assert _reasons(report) == {"adverse_event": 1}


@pytest.mark.parametrize(
    ("days", "stop", "counted"),
    [
        (100, False, (0, 0)),
        (WEEK24_LAST_DAY, False, (0, 0)),
        (WEEK24_LAST_DAY + 1, False, (1, 1)),
        (100, True, (1, 1)),
    ],
)
def test_a_patient_still_in_their_first_24_weeks_is_in_no_label_phase_rate(
    boundary_cohort: Path,
    days: int,
    stop: bool,
    counted: tuple[int, int],
) -> None:
    """A patient with neck pain on day 5 is counted neither above nor below the line of the adverse-event rates while
    their week 24 runs (day 100, and day 167, its last day), and as 1 of 1 the day after it ends; had the event
    stopped treatment, their phase is over and they count from the day of it."""
    event = {
        "patient_id": B34,
        "session_number": 1,
        "onset_date": DAY0 + timedelta(days=5),
        "event": "neck_pain",
        "led_to_discontinuation": stop,
    }
    report = _one_patient_report(boundary_cohort, DAY0 + timedelta(days=days), adverse_events=[event])
    (neck_pain,) = [row for row in report.adverse_events if row.event == "neck_pain"]
    assert (neck_pain.rate.count, neck_pain.rate.total) == counted
    assert report.discontinued_adverse_event.total == counted[1]
    assert report.treated == 1


@pytest.mark.parametrize("day", ["finished", *AS_OF_REPORTS])
def test_responders_counting_a_missing_week24_as_no_response_are_beside_the_completers(
    request: pytest.FixtureRequest, day: str, boundary_cohort: Path, engine_cohort: Cohort, expected: Results
) -> None:
    """Beside the completers' responder shares, every patient with a complete baseline whose 24-week phase is over
    is counted, those without a complete week 24 (dropped out, stopped, too few days) as non-responders: the engine's
    responders over more patients than the completers, in the report and its JSON (new keys, the old ones kept)."""
    fixture, as_of = ("report", None) if day == "finished" else AS_OF_REPORTS[day]
    shown: CohortReport = request.getfixturevalue(fixture)
    if as_of is None:
        cohort, outcomes = engine_cohort, expected["outcomes"]
    else:
        cohort = engine_cohort_on_day(engine_cohort, as_of)
        outcomes = engine_outcomes(cohort, as_of=as_of)
    over, _, _ = _label_phase(boundary_cohort, cohort, as_of)
    due = [o for patient_id, o in outcomes.items() if o["periods"][0]["complete"] and patient_id in over]
    for key, share in (
        ("responder_50", shown.responder_50_missing_as_non_responder),
        ("responder_30", shown.responder_30_missing_as_non_responder),
    ):
        assert share == Proportion.of(sum(bool(o["week24_available"] and o[key]) for o in due), len(due))
        assert share.count == getattr(shown, key).count
    assert shown.responder_50_missing_as_non_responder.total > shown.responder_50.total
    document = report_json(shown)
    assert document["responder_50_missing_as_non_responder"]["total"] == len(due)
    assert document["responder_50"]["total"] == shown.responder_50.total


def test_a_placebo_bound_reaches_the_json_as_text_without_a_percentage(report: CohortReport) -> None:
    """The JSON gives eyelid ptosis on placebo as placebo_text "<1" and placebo_percent null, not 0.5."""
    rows = {row["event"]: row for row in report_json(report)["adverse_events"]}
    assert (rows["eyelid_ptosis"]["placebo_percent"], rows["eyelid_ptosis"]["placebo_text"]) == (None, "<1")
    assert (rows["neck_pain"]["placebo_percent"], rows["neck_pain"]["placebo_text"]) == (3.0, "3")


def test_the_reference_table_holds_every_published_figure(report: CohortReport) -> None:
    """The report compares the cohort with every target of calibration.toml."""
    assert [row.name for row in report.reference] == list(calibration().targets)


def test_the_json_document_is_plain_json_with_every_section(report: CohortReport) -> None:
    """report_json gives one JSON-serialisable document holding each section of the report."""
    document = json.loads(json.dumps(report_json(report)))
    for key in ("responder_50", "change_by_period", "time_to_response", "adverse_events", "stopping", "reference"):
        assert key in document
    assert document["responder_50"]["count"] == report.responder_50.count


def test_a_proportion_without_patients_has_no_percentage() -> None:
    """0 of 0 reads as no percentage and no interval rather than a division by zero."""
    assert Proportion.of(0, 0) == Proportion(0, 0, None, None, None)


@spark_test
def test_spark_gives_the_same_report_as_duckdb(report: CohortReport, boundary_cohort: Path, spark_session: Any) -> None:
    """Run on Spark (local mode), the report holds the numbers DuckDB gave (floats to the JSON's 4 decimals)."""
    on_spark = cohort_report(boundary_cohort, Engine.SPARK, spark_session=spark_session)
    assert report_json(replace(on_spark, engine=report.engine)) == report_json(report)


@spark_test
def test_spark_gives_the_same_report_on_a_day_as_duckdb(
    report_early: CohortReport, boundary_cohort: Path, spark_session: Any
) -> None:
    """As of a day, the report run on Spark (every table cut at the day) holds the numbers DuckDB gave."""
    on_spark = cohort_report(boundary_cohort, Engine.SPARK, spark_session=spark_session, as_of=EARLY_AS_OF)
    assert report_json(replace(on_spark, engine=report_early.engine)) == report_json(report_early)


def test_adverse_events_of_untreated_patients_are_not_counted(boundary_cohort: Path, tmp_path: Path) -> None:
    """Tables whose sessions hold no session while adverse events are recorded (inconsistent tables, which
    ``read_cohort`` refuses: the events name no session) report no treated patient and no rate above it, instead of
    failing on 1 patient of 0."""
    for table in boundary_cohort.glob("*.parquet"):
        data = pq.read_table(table)
        pq.write_table(data.slice(0, 0) if table.stem == "sessions" else data, tmp_path / table.name)
    connection = connect(Engine.DUCKDB)
    tables = {name: connection.read_parquet(str(tmp_path / f"{name}.parquet")) for name in TABLES}
    empty = cohort_report_of(tables, source=str(tmp_path))
    assert empty.treated == 0
    assert {(row.rate.count, row.rate.total) for row in empty.adverse_events} == {(0, 0)}


def test_a_small_cohort_whose_interval_holds_the_published_range_is_near() -> None:
    """2 responders of 3 (66.7 %, 95 % CI 20.8-93.9) are near the published 44.8-47.1 %: outside the generator's
    tolerance, but the figure lies inside the cohort's interval, and the row says which rule made it near."""
    (row,) = [row for row in _reference({"responder_50_week24": Proportion.of(2, 3)}) if row.cohort is not None]
    assert (row.near, row.within_tolerance, row.inside_interval) == (True, False, True)
    assert (round(row.cohort_low or 0, 1), round(row.cohort_high or 0, 1)) == (20.8, 93.9)


def test_a_figure_outside_both_the_tolerance_and_the_interval_is_off() -> None:
    """300 responders of 400 (75 %, 95 % CI about 70.5-79) are off the published 44.8-47.1 % on both rules."""
    (row,) = [row for row in _reference({"responder_50_week24": Proportion.of(300, 400)}) if row.cohort is not None]
    assert (row.near, row.within_tolerance, row.inside_interval) == (False, False, False)


def test_a_mean_without_an_interval_is_judged_by_the_tolerance_alone() -> None:
    """A mean of fewer than 3 patients has no interval: within the tolerance it is near, outside it off."""
    rows = _reference(
        {"baseline_headache_days": Mean.of(20.0, 1.0, 2), "hit6_baseline": Mean.of(60.0, 1.0, 2)},
    )
    judged = {row.name: (row.near, row.within_tolerance, row.inside_interval) for row in rows if row.cohort is not None}
    assert judged == {"baseline_headache_days": (True, True, None), "hit6_baseline": (False, False, None)}


def test_the_age_range_row_holds_the_cohorts_range_as_text(report: CohortReport) -> None:
    """The published figures' age-range row carries the cohort's youngest and oldest age as text ("18-66"), judged
    near when every age lies inside the published range."""
    (row,) = [row for row in report.reference if row.name == "age_range"]
    low, high = report.age_range
    assert (row.cohort, row.cohort_text) == (None, f"{low}-{high}")
    assert row.near is row.within_tolerance is (low >= 18 and (high or 0) <= 73)


def _recorded_report(boundary_cohort: Path, recorded_events: dict[str, tuple[str, ...]]) -> CohortReport:
    return cohort_report_of(
        read_cohort(connect(Engine.DUCKDB), boundary_cohort), source="clinic", recorded_events=recorded_events
    )


def test_rows_the_source_cannot_record_have_no_rate(report: CohortReport, boundary_cohort: Path) -> None:
    """A source recording only neck pain reports every other label row as not recorded: 0 of 0, no percentage, no
    comparison with the label, instead of a rate of 0 % set beside it."""
    clinic = _recorded_report(boundary_cohort, {"neck_pain": ("neck_pain",)})
    rows = {row.event: row for row in clinic.adverse_events}
    assert rows["neck_pain"] == {row.event: row for row in report.adverse_events}["neck_pain"]
    assert rows["neck_pain"].recorded
    for event, row in rows.items():
        if event != "neck_pain":
            assert (row.recorded, row.rate, row.label_within_interval) == (
                False,
                Proportion(0, 0, None, None, None),
                None,
            )
    document = {row["event"]: row for row in report_json(clinic)["adverse_events"]}
    assert (document["bronchitis"]["recorded"], document["bronchitis"]["rate"]["percent"]) == (False, None)


def test_one_kind_standing_for_two_rows_counts_for_both_and_is_compared_with_neither(
    report: CohortReport, boundary_cohort: Path
) -> None:
    """A kind recorded for headache and migraine together counts its patients in both rows, each naming the other,
    with no comparison with either row's label figure (the label gives none for the two together)."""
    clinic = _recorded_report(boundary_cohort, {"headache": ("headache", "migraine")})
    rows = {row.event: row for row in clinic.adverse_events}
    alone = {row.event: row for row in report.adverse_events}
    assert rows["headache"].rate == rows["migraine"].rate == alone["headache"].rate
    assert (rows["headache"].recorded_with, rows["migraine"].recorded_with) == (("migraine",), ("headache",))
    assert rows["headache"].label_within_interval is rows["migraine"].label_within_interval is None
    assert all(row.recorded_with == () for row in report.adverse_events)


def _partial_plan() -> InjectionPlan:
    """The engine's plan of a session that left two fixed trapezius sites out (the patient fainted) and added two
    follow-the-pain sites in the temporalis: 31 sites, as many as the paradigm's fixed ones."""
    full = preempt_plan(follow_the_pain={Muscle.TEMPORALIS: 2})
    fixed_trapezius = [
        i for i, site in enumerate(full.sites) if site.muscle is Muscle.TRAPEZIUS and not site.follow_the_pain
    ]
    left_out = set(fixed_trapezius[:2])
    return plan_from_sites(site for i, site in enumerate(full.sites) if i not in left_out)


def _session_figures(rows: list[tuple[str, date, int, int | None]]) -> dict[str, Any]:
    """``_sessions`` over sessions given as (patient, date, sites, follow-the-pain sites), numbered per patient."""
    numbers: Counter[str] = Counter()
    records = []
    for patient_id, day, sites, follow_the_pain in rows:
        numbers[patient_id] += 1
        records.append(
            {
                "patient_id": patient_id,
                "session_number": numbers[patient_id],
                "session_date": day,
                "dose_units": 0,
                "sites": sites,
                "follow_the_pain_sites": follow_the_pain,
            }
        )
    return _sessions(ibis.memtable(pa.Table.from_pylist(records, schema=SCHEMAS["sessions"])))


def test_a_session_that_left_fixed_sites_out_counts_by_its_follow_the_pain_sites() -> None:
    """A session with two fixed sites not given and two follow-the-pain sites has 31 sites, yet the engine counts two
    follow-the-pain sites: the report counts it as a follow-the-pain session (it counted sites above 31), and a
    session whose follow-the-pain sites are unknown is left out of the share."""
    plan = _partial_plan()
    assert (plan.site_count, plan.follow_the_pain_count, len(plan.not_given)) == (FIXED_SITE_COUNT, 2, 2)
    figures = _session_figures(
        [
            ("p1", DAY0, FIXED_SITE_COUNT, 0),
            ("p1", DAY0 + timedelta(days=RETREATMENT_INTERVAL_DAYS), plan.site_count, plan.follow_the_pain_count),
            ("p2", DAY0, FIXED_SITE_COUNT, None),
        ]
    )
    assert figures["follow_the_pain"] == Proportion.of(1, 2)
    assert figures["follow_the_pain_recorded"]


def test_a_repeat_session_is_on_time_or_early_as_the_engine_times_it() -> None:
    """On time is the engine's rule: ``interval_check`` allows the session and ``schedule_status`` calls it due
    (not overdue) on its day; too early is what ``interval_check`` refuses. A session 60 days after the last one
    used to count as on time; it is early."""
    gaps = [
        60,
        RETREATMENT_INTERVAL_DAYS - 1,
        RETREATMENT_INTERVAL_DAYS,
        RETREATMENT_INTERVAL_DAYS + DUE_WINDOW_DAYS,
        RETREATMENT_INTERVAL_DAYS + DUE_WINDOW_DAYS + 1,
    ]
    rows = []
    on_time = early = 0
    for n, gap in enumerate(gaps):
        repeat = DAY0 + timedelta(days=gap)
        rows += [(f"p{n}", DAY0, FIXED_SITE_COUNT, 0), (f"p{n}", repeat, FIXED_SITE_COUNT, 0)]
        allowed = interval_check(DAY0, repeat).allowed
        on_time += allowed and schedule_status([DAY0], today=repeat).status is CycleStatus.DUE
        early += not allowed
    assert (on_time, early) == (2, 2)
    figures = _session_figures(rows)
    assert figures["on_time"] == Proportion.of(on_time, len(gaps))
    assert figures["early"] == Proportion.of(early, len(gaps))


def _engine_timing(sessions: pa.Table, as_of: date | None) -> tuple[int, int, int]:
    """Repeat sessions up to ``as_of`` (all without one), and how many of them the engine times on time and early."""
    dates: dict[str, list[date]] = {}
    for row in sessions.to_pylist():
        if as_of is None or row["session_date"] <= as_of:
            dates.setdefault(row["patient_id"], []).append(row["session_date"])
    repeats = on_time = early = 0
    for days in dates.values():
        for previous, repeat in zip(sorted(days), sorted(days)[1:], strict=False):
            repeats += 1
            allowed = interval_check(previous, repeat).allowed
            on_time += allowed and schedule_status([previous], today=repeat).status is CycleStatus.DUE
            early += not allowed
    return repeats, on_time, early


@pytest.mark.parametrize("day", ["finished", *AS_OF_REPORTS])
def test_session_timing_and_follow_the_pain_are_the_engines_over_the_cohort(
    request: pytest.FixtureRequest, day: str, report: CohortReport, boundary_cohort: Path
) -> None:
    """Over the boundary cohort (with the diary finished and on both assessment days), the repeat sessions on time
    and too early are those the engine's ``interval_check`` and ``schedule_status`` time so, and the follow-the-pain
    sessions those with a follow-the-pain site."""
    fixture, as_of = ("report", None) if day == "finished" else AS_OF_REPORTS[day]
    judged = request.getfixturevalue(fixture)
    sessions = pq.read_table(boundary_cohort / "sessions.parquet")
    repeats, on_time, early = _engine_timing(sessions, as_of)
    assert judged.sessions_on_time == Proportion.of(on_time, repeats)
    assert judged.sessions_early == Proportion.of(early, repeats)
    assert 0 < on_time < repeats
    kept = sessions.to_pylist() if as_of is None else [r for r in sessions.to_pylist() if r["session_date"] <= as_of]
    with_extra = sum(row["follow_the_pain_sites"] > 0 for row in kept)
    assert judged.sessions_follow_the_pain == Proportion.of(with_extra, len(kept))
    assert with_extra > 0


def test_the_share_of_women_is_of_the_treated_patients_whose_sex_is_known(tmp_path: Path) -> None:
    """A patient whose sex the source does not know ("unknown", as a clinic records it) is left out of the share of
    women's denominator, not counted as a man."""
    write_cohort(tmp_path, patients=40, days=300, seed=3)
    before = cohort_report(tmp_path)
    patients = pq.read_table(tmp_path / "patients.parquet")
    treated = set(pq.read_table(tmp_path / "sessions.parquet")["patient_id"].to_pylist())
    unknown = [
        patient_id
        for patient_id, sex in zip(patients["patient_id"].to_pylist(), patients["sex"].to_pylist(), strict=True)
        if patient_id in treated and sex == "female"
    ][:3]
    sex = [
        "unknown" if patient_id in unknown else value
        for patient_id, value in zip(patients["patient_id"].to_pylist(), patients["sex"].to_pylist(), strict=True)
    ]
    index = patients.schema.get_field_index("sex")
    pq.write_table(
        patients.set_column(index, patients.schema.field("sex"), pa.array(sex)), tmp_path / "patients.parquet"
    )
    after = cohort_report(tmp_path)
    assert len(unknown) == 3
    assert (after.female.count, after.female.total) == (before.female.count - 3, before.treated - 3)


def test_the_label_inside_the_interval_is_judged_at_the_labels_precision() -> None:
    """53 patients of 2000 with muscle spasms (2.6 %, 95 % CI 2.0 to 3.4) read "label inside CI: no" beside the
    label's 2 %, though the CI printed 2.0: the label's whole percentage stands for 1.5-2.5 %, which the interval
    (from 2.03) overlaps."""
    events = ibis.memtable(
        pa.table(
            {
                "patient_id": [f"P{n:04d}" for n in range(53)],
                "session_number": pa.array([1] * 53, pa.int16()),
                "event": ["muscle_spasms"] * 53,
            }
        )
    )
    rows = {row.event: row for row in _adverse_events(events, 2000, None)}
    spasms = rows["muscle_spasms"]
    assert (spasms.label_percent, round(spasms.rate.low or 0, 1)) == (2.0, 2.0)
    assert (spasms.rate.low or 0) > spasms.label_percent
    assert spasms.label_within_interval is True


def test_a_published_mean_is_inside_an_interval_that_prints_it() -> None:
    """A week-24 change whose CI prints -8.4 to -7.7 (from -8.38) holds the published -8.4 days (-8.45 to -8.35); a
    CI from -8.3 does not."""
    judged = {}
    for low in (-8.38, -8.3):
        change = Mean(n=500, mean=-8.05, low=low, high=-7.7)
        (row,) = [row for row in _reference({"week24_change_headache_days": change}) if row.cohort is not None]
        judged[low] = row.inside_interval
    assert judged == {-8.38: True, -8.3: False}
