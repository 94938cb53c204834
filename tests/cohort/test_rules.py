"""The cohort rules give the engine's answer, patient by patient and period by period, on DuckDB and on Spark.

The cohort is a generated one with hand-built boundary patients on every threshold (conftest.py). The engine's
side (tests/cohort/expected.py) reads the same Parquet files into ``PatientDiary`` values and calls
``onaboard.clinical`` directly; the cohort side runs the Ibis expressions of ``onaboard.cohort.rules``. Four
assessments (the day before the first injection over three periods and over the baseline period alone, the last day
of week 24, each patient's last diary date) and the outcomes after treatment are compared in full: counts,
completeness, missing periods, verdicts, overuse classes, ages, responder flags, percentages, onset, reversion and
the NICE TA260 verdict. The outcomes are compared again on assessment days (the engine's ``as_of``) that fall on the
first, a middle and the last day of the boundary patients' week 24 and on the day after it, and on a day inside the
generated patients' treatment, where each patient's periods end on every day of the 28; and with the tables cut at
the day as the report cuts them (``report.cohort_on_day``), against the engine reading the diaries and injections up
to that day.
"""

from __future__ import annotations

import ast
import inspect
import re
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

import onaboard.cohort.rules
from onaboard.clinical import (
    DEFAULT_PERIODS,
    FOUR_HOUR_THRESHOLD_HOURS,
    PERIOD_DAYS,
    WEEK24_PERIOD,
)
from onaboard.cohort.backends import CohortSourceError, Engine, connect, read_cohort
from onaboard.cohort.report import cohort_on_day, cohort_report
from onaboard.cohort.rules import (
    OVERUSE_FLAGS,
    as_of_anchors,
    assessment,
    classify_days,
    ended_periods,
    first_injections,
    overfull_periods,
    period_grid,
    periods_before,
    treatment_baseline,
    treatment_period_listing,
    treatment_periods,
)
from onaboard.cohort.rules import (
    treatment_outcomes as cohort_outcomes,
)
from tests.cohort.conftest import (
    BOUNDARY_PATIENTS,
    DAY0,
    IBIS_ON_DUCKDB_2,
    spark_test,
    write_boundary_cohort,
)
from tests.cohort.expected import Results, engine_cohort_on_day, engine_outcomes, read_for_engine

pytestmark = IBIS_ON_DUCKDB_2

ACUTE = ("triptan", "ergot", "simple_analgesic", "combination_analgesic", "opioid", "gepant", "ditan", "other")
PERIOD_KEYS = (
    "index",
    "start",
    "end",
    "days_recorded",
    "complete",
    "missing",
    "headache_days",
    "headache_days_4h",
    "migraine_days",
    *ACUTE,
    "any",
    "overuse_class_days",
)


# --- the cohort rules' answers -------------------------------------------------------------------------------------


def _rows(expr: Any) -> list[dict[str, Any]]:
    return expr.to_pyarrow().to_pylist()


def _grouped(rows: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    result: dict[str, list[dict[str, Any]]] = {}
    for row in sorted(rows, key=lambda r: (r["patient_id"], r["index"])):
        result.setdefault(row["patient_id"], []).append(row)
    return result


def _cohort_period(row: dict[str, Any], extra: tuple[str, ...] = ()) -> dict[str, Any]:
    shaped = {key: row["acute_any" if key == "any" else key] for key in PERIOD_KEYS}
    shaped.update({key: row[key] for key in extra})
    return shaped


def _cohort_assessments(patients: Any, periods: Any) -> dict[str, dict[str, Any]]:
    by_patient = _grouped(_rows(periods))
    result = {}
    for row in _rows(patients):
        result[row["patient_id"]] = {
            "as_of": row["as_of"],
            "migraine_attacks": row["migraine_attacks"],
            "chronic_migraine": row["chronic_migraine"],
            "medication_overuse": row["medication_overuse"],
            "classes": [flag.removeprefix("overuse_") for flag in OVERUSE_FLAGS if row[flag]],
            "label_criteria": row["label_criteria"],
            "age_years": row["age_years"],
            "periods": [_cohort_period(period) for period in by_patient.get(row["patient_id"], [])],
        }
    return result


def cohort_results(connection: Any, directory: Path) -> Results:
    """Every patient's assessments and outcomes computed by the Ibis rules on ``connection``."""
    tables = read_cohort(connection, directory)
    diary = tables["diary"]
    anchors = first_injections(tables["sessions"])
    grid = period_grid(diary, anchors).cache()
    births = tables["patients"]
    results: Results = {}
    for name, count, through in (
        ("first_injection", DEFAULT_PERIODS, 0),
        ("baseline_period", 1, 0),
        ("week24", DEFAULT_PERIODS, WEEK24_PERIOD),
    ):
        patients = assessment(grid, anchors, count=count, through=through, birth_dates=births)
        periods = periods_before(grid, anchors, count=count, through=through)
        results[name] = _cohort_assessments(patients, periods)
    last = as_of_anchors(diary)
    last_grid = period_grid(diary, last).cache()
    results["last_day"] = _cohort_assessments(
        assessment(last_grid, last, count=DEFAULT_PERIODS, birth_dates=births),
        periods_before(last_grid, last, count=DEFAULT_PERIODS),
    )
    results["outcomes"] = _cohort_outcome_results(grid, anchors)
    return results


def _cohort_outcome_results(grid: Any, anchors: Any, as_of: date | None = None) -> dict[str, dict[str, Any]]:
    """Every treated patient's outcomes by the rules, on the assessment day ``as_of`` (None: the diary finished)."""
    judged = grid if as_of is None else ended_periods(grid, anchors, as_of)
    baseline = treatment_baseline(grid, anchors)
    outcomes = _rows(cohort_outcomes(treatment_periods(judged, baseline), baseline))
    max_index = _rows(grid.aggregate(last=grid.grid.max()))[0]["last"] + 1
    listing = _grouped(_rows(treatment_period_listing(grid, anchors, max_index=max_index, as_of=as_of)))
    return {
        row["patient_id"]: {
            "periods": [
                _cohort_period(period, ("change", "percent_tenths")) for period in listing.get(row["patient_id"], [])
            ],
            **{
                key: row[key]
                for key in (
                    "week24_available",
                    "week24_headache_days",
                    "week24_percent_tenths",
                    "responder_50",
                    "responder_30",
                    "onset_period",
                    "week4_change",
                    "reverted_to_episodic",
                    "nice_ta260",
                    "last_period",
                )
            },
        }
        for row in outcomes
    }


def cohort_outcomes_on(connection: Any, directory: Path, as_of: date) -> dict[str, dict[str, Any]]:
    """Every treated patient's outcomes by the rules on ``connection``, as of ``as_of``."""
    tables = read_cohort(connection, directory)
    anchors = first_injections(tables["sessions"])
    return _cohort_outcome_results(period_grid(tables["diary"], anchors).cache(), anchors, as_of)


def _differences(expected: Results, got: Results) -> list[str]:
    found = []
    for part, patients in expected.items():
        if set(patients) != set(got[part]):
            found.append(f"{part}: patients differ: {sorted(set(patients) ^ set(got[part]))[:5]}")
            continue
        for patient_id, values in patients.items():
            for key, value in values.items():
                if got[part][patient_id][key] != value:
                    found.append(f"{part} {patient_id} {key}: engine {value!r}, cohort {got[part][patient_id][key]!r}")
    return found


# --- tests ---------------------------------------------------------------------------------------------------------


AS_OF_DAYS: tuple[date, ...] = (
    DAY0 + timedelta(days=PERIOD_DAYS * (WEEK24_PERIOD - 1)),
    DAY0 + timedelta(days=PERIOD_DAYS * (WEEK24_PERIOD - 1) + 10),
    DAY0 + timedelta(days=PERIOD_DAYS * WEEK24_PERIOD - 1),
    DAY0 + timedelta(days=PERIOD_DAYS * WEEK24_PERIOD),
    date(2025, 6, 15),
)
"""Assessment days: the first, the 11th and the last day of the boundary patients' week 24 (period 6, all share day
0), the day after it, and a day inside the generated patients' treatment (their first injections are spread over a
year, so it falls on every day of a period for some of them)."""


@pytest.fixture(scope="module")
def engine_cohort(boundary_cohort: Path) -> Any:
    """The boundary cohort read for the engine."""
    return read_for_engine(boundary_cohort)


@pytest.fixture(scope="module")
def on_duckdb(boundary_cohort: Path) -> Results:
    """The cohort rules' answers for the boundary cohort, computed by DuckDB."""
    return cohort_results(connect(Engine.DUCKDB), boundary_cohort)


def test_duckdb_gives_the_engines_answer_for_every_patient_and_period(on_duckdb: Results, expected: Results) -> None:
    """On DuckDB every assessment, period and outcome of every patient equals onaboard.clinical's."""
    assert _differences(expected, on_duckdb) == []


@pytest.mark.parametrize("as_of", AS_OF_DAYS, ids=str)
def test_duckdb_gives_the_engines_outcomes_on_an_assessment_day(
    boundary_cohort: Path, engine_cohort: Any, as_of: date
) -> None:
    """On DuckDB, with ``as_of`` falling anywhere in a period (its first day, inside it, its last day, the day
    after), every patient's periods, week 24, responders, onset, week 4, reversion and NICE TA260 verdict equal
    ``treatment_outcomes(..., as_of=as_of)``: a period not ended before ``as_of`` judges nothing."""
    expected = {"outcomes": engine_outcomes(engine_cohort, as_of=as_of)}
    got = {"outcomes": cohort_outcomes_on(connect(Engine.DUCKDB), boundary_cohort, as_of)}
    assert _differences(expected, got) == []


@pytest.mark.parametrize("as_of", [AS_OF_DAYS[2], date(2024, 6, 1), AS_OF_DAYS[-1]], ids=str)
def test_the_cohort_on_a_day_gives_the_engines_outcomes_of_that_day(
    boundary_cohort: Path, engine_cohort: Any, as_of: date
) -> None:
    """With the tables cut at the day as the report cuts them (``cohort_on_day``), the treated patients and each one's
    periods and outcomes equal the engine's over the diaries and injections up to the day: a patient first injected
    after it is not treated (2024-06-01 comes before many generated patients' first injection)."""
    expected = {"outcomes": engine_outcomes(engine_cohort_on_day(engine_cohort, as_of), as_of=as_of)}
    tables = cohort_on_day(read_cohort(connect(Engine.DUCKDB), boundary_cohort), as_of)
    anchors = first_injections(tables["sessions"])
    got = {"outcomes": _cohort_outcome_results(period_grid(tables["diary"], anchors).cache(), anchors, as_of)}
    assert _differences(expected, got) == []


def test_the_assessment_days_reach_every_day_of_a_period(engine_cohort: Any) -> None:
    """The generated patients' assessment day falls on the first and the last day of a period after day 0 for some
    of them and on each day between for others, so the comparison on it covers every boundary of the rule."""
    _, injections, _ = engine_cohort
    offsets = {
        (AS_OF_DAYS[-1] - min(dates)).days % PERIOD_DAYS
        for dates in injections.values()
        if min(dates) <= AS_OF_DAYS[-1]
    }
    assert offsets == set(range(PERIOD_DAYS))


@pytest.mark.parametrize(
    ("as_of", "patient_id", "key", "value"),
    [
        (AS_OF_DAYS[0], "B39-week24-20-days", "week24_available", False),
        (AS_OF_DAYS[2], "B39-week24-20-days", "week24_available", False),
        (AS_OF_DAYS[2], "B39-week24-20-days", "nice_ta260", "not_yet_assessable"),
        (AS_OF_DAYS[3], "B39-week24-20-days", "week24_available", True),
        (AS_OF_DAYS[3], "B31-responder-30-missed", "nice_ta260", "stop"),
        (AS_OF_DAYS[2], "B31-responder-30-missed", "nice_ta260", "not_yet_assessable"),
        (AS_OF_DAYS[3], "B40-empty-week24-then-a-row", "last_period", 5),
        (AS_OF_DAYS[3], "B40-empty-week24-then-a-row", "periods", 7),
    ],
)
def test_each_boundary_patient_is_judged_by_the_periods_ended_on_the_day(
    engine_cohort: Any, as_of: date, patient_id: str, key: str, value: Any
) -> None:
    """On its last day week 24 is still running and judges nothing; the day after it is judged; an empty period
    ended before a running one is listed (so the as-of comparison is not vacuous)."""
    outcome = engine_outcomes(engine_cohort, as_of=as_of)[patient_id]
    got = len(outcome[key]) if key == "periods" else outcome[key]
    assert got == value


@spark_test
def test_spark_gives_the_engines_answer_for_every_patient_and_period(
    boundary_cohort: Path, expected: Results, spark_session: Any
) -> None:
    """On Spark (local mode) every assessment, period and outcome of every patient equals onaboard.clinical's."""
    got = cohort_results(connect(Engine.SPARK, spark_session=spark_session), boundary_cohort)
    assert _differences(expected, got) == []


@spark_test
def test_spark_gives_the_engines_outcomes_on_an_assessment_day(
    boundary_cohort: Path, engine_cohort: Any, spark_session: Any
) -> None:
    """On Spark, as on DuckDB, the outcomes on the last day of week 24 and on the day after it equal
    ``treatment_outcomes(..., as_of=...)`` for every patient."""
    connection = connect(Engine.SPARK, spark_session=spark_session)
    for as_of in (AS_OF_DAYS[2], AS_OF_DAYS[3], AS_OF_DAYS[-1]):
        expected = {"outcomes": engine_outcomes(engine_cohort, as_of=as_of)}
        got = {"outcomes": cohort_outcomes_on(connection, boundary_cohort, as_of)}
        assert _differences(expected, got) == [], as_of


def test_the_comparison_covers_every_boundary_patient(expected: Results) -> None:
    """Every hand-built boundary patient is treated and compared (only the one without a diary lacks a last day)."""
    ids = {patient.patient_id for patient in BOUNDARY_PATIENTS}
    assert ids <= set(expected["outcomes"])
    assert ids - set(expected["last_day"]) == {"B37-no-diary"}


@pytest.mark.parametrize(
    ("patient_id", "part", "key", "value"),
    [
        ("B01-cm-15-headache", "first_injection", "chronic_migraine", "yes"),
        ("B02-cm-14-headache", "first_injection", "chronic_migraine", "no"),
        ("B03-cm-8-migraine", "first_injection", "chronic_migraine", "yes"),
        ("B04-cm-7-migraine", "first_injection", "chronic_migraine", "no"),
        ("B05-20-recorded", "first_injection", "chronic_migraine", "yes"),
        ("B06-19-recorded", "first_injection", "chronic_migraine", "insufficient_data"),
        ("B07-3.99-hours", "first_injection", "label_criteria", "not_met"),
        ("B08-4-hours", "first_injection", "label_criteria", "met"),
        ("B09-9-triptan", "first_injection", "medication_overuse", "not_suspected"),
        ("B10-10-triptan", "first_injection", "classes", ["triptan"]),
        ("B11-14-simple", "first_injection", "medication_overuse", "not_suspected"),
        ("B12-15-simple", "first_injection", "classes", ["simple_analgesic"]),
        ("B13-8.2.6-ten-days", "first_injection", "classes", ["multiple"]),
        ("B14-8.2.6-nine-days", "first_injection", "medication_overuse", "not_suspected"),
        ("B15-8.2.6-gepant-not-counted", "first_injection", "medication_overuse", "not_suspected"),
        ("B16-missing-periods", "first_injection", "chronic_migraine", "insufficient_data"),
        ("B17-four-attacks", "first_injection", "chronic_migraine", "no"),
        ("B18-five-attacks", "first_injection", "chronic_migraine", "yes"),
        ("B19-aura-route", "first_injection", "chronic_migraine", "yes"),
        ("B22-photophobia-alone", "first_injection", "chronic_migraine", "no"),
        ("B24-turns-18-on-as-of", "first_injection", "age_years", 18),
        ("B25-turns-18-the-day-after", "first_injection", "age_years", 17),
        ("B26-29-february-not-yet-18", "first_injection", "label_criteria", "not_met"),
        ("B27-no-birth-date", "first_injection", "label_criteria", "insufficient_data"),
        ("B28-responder-50-exact", "outcomes", "responder_50", True),
        ("B29-responder-50-missed", "outcomes", "responder_50", False),
        ("B30-responder-30-exact", "outcomes", "responder_30", True),
        ("B31-responder-30-missed", "outcomes", "nice_ta260", "stop"),
        ("B32-baseline-0", "outcomes", "week24_percent_tenths", None),
        ("B33-percent-rounding", "outcomes", "week24_percent_tenths", -63),
        ("B34-reverted", "outcomes", "reverted_to_episodic", True),
        ("B35-not-consecutive", "outcomes", "nice_ta260", "not_yet_assessable"),
        ("B36-incomplete-baseline", "outcomes", "nice_ta260", "not_yet_assessable"),
        ("B38-week24-19-days", "outcomes", "week24_available", False),
        ("B39-week24-20-days", "outcomes", "week24_available", True),
    ],
)
def test_each_boundary_patient_lands_on_its_side(
    expected: Results, patient_id: str, part: str, key: str, value: Any
) -> None:
    """Each boundary patient gets the verdict its threshold promises (so the equivalence test is not vacuous)."""
    assert expected[part][patient_id][key] == value


def _packed_and_summed(diary: Any, anchors: Any) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """``period_grid``'s rows, and the same counts made by summing ``classify_days`` row by row, both sorted."""
    grid = period_grid(diary, anchors).drop("date_mask")
    days = classify_days(diary).join(anchors, "patient_id")
    offset = days.date.delta(days.anchor, unit="day")
    sources = {**{name: name for name in ACUTE}, "headache_days": "headache", "headache_days_4h": "headache_4h"}
    sources |= {"migraine_days": "migraine", "acute_any": "acute_any", "overuse_class_days": "overuse_class_day"}
    sources["attacks"] = "attack"
    direct = days.group_by(["patient_id", (offset // PERIOD_DAYS).cast("int32").name("grid")]).aggregate(
        days_recorded=days.count(),
        **{name: days[column].cast("int64").sum().fill_null(0) for name, column in sources.items()},
        last_date=days.date.max(),
    )
    key = ("patient_id", "grid")
    packed = sorted(_rows(grid), key=lambda row: tuple(row[k] for k in key))
    summed = sorted(_rows(direct), key=lambda row: tuple(row[k] for k in key))
    return packed, summed


def test_the_packed_grid_equals_counting_each_classified_row(boundary_cohort: Path) -> None:
    """``period_grid`` (one lookup per row of its day code's packed increments) counts exactly what summing
    ``classify_days`` row by row counts, for every counter of every patient and period of the boundary cohort."""
    tables = read_cohort(connect(Engine.DUCKDB), boundary_cohort)
    packed, summed = _packed_and_summed(tables["diary"], first_injections(tables["sessions"]))
    assert len(packed) == len(summed) > 1000
    assert packed == summed


def test_a_date_written_twice_is_found_before_it_can_break_the_counts(tmp_path: Path) -> None:
    """A period with more rows than days (one patient's dates written three times over) is listed by
    ``overfull_periods``, and the report refuses the cohort naming the patient instead of reporting packed counters
    that overflowed."""
    write_boundary_cohort(tmp_path, patients=20)
    diary = pq.read_table(tmp_path / "diary.parquet")
    first = diary.slice(0, 1)["patient_id"][0].as_py()
    rows = diary.filter(pc.equal(diary["patient_id"], first))
    pq.write_table(pa.concat_tables([diary, rows, rows]), tmp_path / "diary.parquet")
    tables = read_cohort(connect(Engine.DUCKDB), tmp_path)
    grid = period_grid(tables["diary"], first_injections(tables["sessions"]))
    overfull = _rows(overfull_periods(grid))
    assert overfull
    assert {row["patient_id"] for row in overfull} == {first}
    diary_file = re.escape(str(tmp_path / "diary.parquet"))
    with pytest.raises(CohortSourceError, match=f"^{diary_file}: patient {first} has [0-9]+ rows for 28 dates in the"):
        cohort_report(tmp_path)


def _written_twice(tmp_path: Path) -> tuple[str, date]:
    """A boundary cohort whose diary holds one date of one patient twice in place of the next date (a period of no
    more rows than days, so the row count alone cannot tell); the patient and the date."""
    write_boundary_cohort(tmp_path, patients=20)
    diary = pq.read_table(tmp_path / "diary.parquet")
    row = diary.slice(40, 1)
    pq.write_table(pa.concat_tables([diary.slice(0, 41), row, diary.slice(42)]), tmp_path / "diary.parquet")
    return row["patient_id"][0].as_py(), row["date"][0].as_py()


def test_a_single_date_written_twice_is_refused_naming_the_patient_and_the_date(tmp_path: Path) -> None:
    """One date written twice in a period of fewer than 28 rows inflated every count silently: the grid's date
    mask finds it (rows outnumber the distinct dates) and the report refuses the cohort naming patient and date."""
    patient, day = _written_twice(tmp_path)
    tables = read_cohort(connect(Engine.DUCKDB), tmp_path)
    grid = period_grid(tables["diary"], first_injections(tables["sessions"]))
    [overfull] = _rows(overfull_periods(grid))
    assert overfull["patient_id"] == patient
    assert overfull["days_recorded"] == overfull["dates_recorded"] + 1 <= PERIOD_DAYS
    with pytest.raises(CohortSourceError) as raised:
        cohort_report(tmp_path)
    [problem] = raised.value.problems
    assert problem.startswith(
        f"{tmp_path / 'diary.parquet'}: patient {patient} has {overfull['days_recorded']} rows for "
    )
    assert f"(a date written twice, first {day})" in problem


@spark_test
def test_spark_finds_a_date_written_twice(tmp_path: Path, spark_session: Any) -> None:
    """Spark compiles the grid's date mask (``bit_or``) and refuses the same cohort with the same problem."""
    _written_twice(tmp_path)
    with pytest.raises(CohortSourceError) as on_duckdb:
        cohort_report(tmp_path)
    with pytest.raises(CohortSourceError) as on_spark:
        cohort_report(tmp_path, Engine.SPARK, spark_session=spark_session)
    assert on_spark.value.problems == on_duckdb.value.problems


def test_a_missing_period_is_reported_missing(on_duckdb: Results) -> None:
    """Periods that end before the first diary row are missing (and incomplete) on the cohort side too."""
    periods = on_duckdb["first_injection"]["B16-missing-periods"]["periods"]
    assert [(p["index"], p["missing"], p["complete"]) for p in periods] == [
        (1, False, True),
        (2, True, False),
        (3, True, False),
    ]


def _literals(function: Callable[..., Any]) -> set[object]:
    tree = ast.parse(inspect.getsource(function))
    return {
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, int | float) and not isinstance(node.value, bool)
    }


def test_no_clinical_threshold_is_retyped_in_the_rules() -> None:
    """The rules hold no number but 0, 1, 2 ("two or more classes"), 100 and 1000 (percent arithmetic): every
    threshold comes from onaboard.clinical."""
    module_literals = _literals(onaboard.cohort.rules)  # type: ignore[arg-type]
    assert module_literals <= {0, 1, 2, 100, 1000, 100_000}


def test_the_four_hour_count_needs_no_separate_headache_test() -> None:
    """``classify_days`` counts a four-hour day on the hours test alone, sound while the threshold is above 0."""
    assert FOUR_HOUR_THRESHOLD_HOURS > 0
