"""Backends: DuckDB reads a cohort directory's Parquet in place, and a directory that is not a cohort is refused
with every reason."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from onaboard.clinical import MIDAS_MAX_DAYS, MIDAS_MAX_PAIN, Hit6Answer
from onaboard.cohort.backends import (
    BIRTH_AFTER,
    BLANK_VALUES,
    CSV_NOT_READ,
    DUPLICATE_PATIENT,
    DUPLICATE_SESSION,
    DUPLICATE_VISIT,
    EVENT_BEFORE_FIRST_SESSION,
    FOLLOW_THE_PAIN_ABOVE_SITES,
    MIDAS_OUT_OF_RANGE,
    MIDAS_PAIR_OUT_OF_RANGE,
    MISSING_COLUMNS,
    MISSING_TABLE,
    NEGATIVE_COUNT,
    NO_SUCH_DIRECTORY,
    NOT_A_DIRECTORY,
    NOT_A_NUMBER,
    OBSERVED_BACKWARDS,
    OUT_OF_RANGE,
    SESSIONS_OUT_OF_ORDER,
    UNKNOWN_PATIENT,
    UNKNOWN_SESSION,
    UNKNOWN_VALUE,
    WRONG_COLUMNS,
    WRONG_TYPES,
    CohortSourceError,
    Engine,
    arrow_cohort,
    connect,
    read_cohort,
    rows_text,
)
from onaboard.cohort.calibration import calibration
from onaboard.cohort.report import Proportion, cohort_report, cohort_report_of, report_json
from onaboard.cohort.synth import write_cohort
from onaboard.cohort.tables import SEX_VALUES, TABLES, with_answers
from tests.cohort.conftest import IBIS_ON_DUCKDB_2, spark_test

pytestmark = IBIS_ON_DUCKDB_2


def test_the_engines_are_duckdb_and_spark() -> None:
    """``--engine`` accepts duckdb (the default) and spark."""
    assert [engine.value for engine in Engine] == ["duckdb", "spark"]


def test_duckdb_reads_every_table_of_a_cohort(tmp_path: Path) -> None:
    """Every table of a written cohort is readable as an Ibis table with its rows."""
    written = write_cohort(tmp_path, patients=5, days=60, seed=1)
    tables = read_cohort(connect(Engine.DUCKDB), tmp_path)
    assert {name: tables[name].count().to_pyarrow().as_py() for name in TABLES} == written.rows


def test_a_missing_directory_is_refused(tmp_path: Path) -> None:
    """A path that does not exist is named as missing, and a file as not a directory (a missing path used to read
    "not a directory" too)."""
    with pytest.raises(CohortSourceError) as raised:
        read_cohort(connect(Engine.DUCKDB), tmp_path / "nowhere")
    assert raised.value.problems == [NO_SUCH_DIRECTORY.format(path=tmp_path / "nowhere")]
    (tmp_path / "patients.parquet").write_bytes(b"")
    with pytest.raises(CohortSourceError) as raised:
        read_cohort(connect(Engine.DUCKDB), tmp_path / "patients.parquet")
    assert raised.value.problems == [NOT_A_DIRECTORY.format(path=tmp_path / "patients.parquet")]


def test_every_missing_table_is_listed(tmp_path: Path) -> None:
    """A directory without the Parquet files lists each missing file."""
    with pytest.raises(CohortSourceError) as raised:
        read_cohort(connect(Engine.DUCKDB), tmp_path)
    assert raised.value.problems == [
        MISSING_TABLE.format(path=tmp_path / f"{name}.parquet", tables=", ".join(TABLES)) for name in TABLES
    ]


def test_arrow_tables_give_the_same_report_as_their_directory(tmp_path: Path) -> None:
    """The tables handed over in memory report as the Parquet directory they were read from (the JSON document,
    floats to 4 decimals: a backend may add a mean's terms in another order)."""
    write_cohort(tmp_path, patients=40, days=300, seed=3)
    arrow = {name: pq.read_table(tmp_path / f"{name}.parquet") for name in TABLES}
    in_memory = cohort_report_of(arrow_cohort(connect(Engine.DUCKDB), arrow), source=str(tmp_path))
    assert report_json(in_memory) == report_json(cohort_report(tmp_path))


def test_arrow_tables_with_missing_tables_or_wrong_columns_are_refused(tmp_path: Path) -> None:
    """A missing table and a table whose columns differ from its schema are each listed."""
    write_cohort(tmp_path, patients=3, days=30, seed=1)
    arrow = {name: pq.read_table(tmp_path / f"{name}.parquet") for name in TABLES if name != "prom"}
    arrow["sessions"] = arrow["sessions"].drop_columns(["sites"])
    with pytest.raises(CohortSourceError) as raised:
        arrow_cohort(connect(Engine.DUCKDB), arrow)
    assert raised.value.problems[0] == MISSING_TABLE.format(path="prom", tables=", ".join(TABLES))
    assert raised.value.problems[1].startswith(WRONG_COLUMNS.split(":")[0].format(table="sessions"))
    assert len(raised.value.problems) == 2


def test_a_diary_without_answers_and_a_file_that_is_not_parquet_are_named(tmp_path: Path) -> None:
    """A diary written before the packed ``answers`` column is refused naming the column and how to derive it;
    a table that is not Parquet at all is refused naming the file. Nothing reaches the backend."""
    write_cohort(tmp_path, patients=3, days=30, seed=1)
    diary = tmp_path / "diary.parquet"
    pq.write_table(pq.read_table(diary).drop_columns(["answers"]), diary)
    (tmp_path / "prom.parquet").write_text("patient_id,visit\n", encoding="utf-8")
    with pytest.raises(CohortSourceError) as raised:
        read_cohort(connect(Engine.DUCKDB), tmp_path)
    first, second = raised.value.problems
    assert first.startswith(MISSING_COLUMNS.format(path=diary, columns="answers"))
    assert "with_answers" in first
    assert second.startswith(f"{tmp_path / 'prom.parquet'}: cannot be read as Parquet (")
    pq.write_table(with_answers(pq.read_table(diary)), diary)
    (tmp_path / "prom.parquet").unlink()
    with pytest.raises(CohortSourceError) as raised:
        read_cohort(connect(Engine.DUCKDB), tmp_path)
    assert raised.value.problems == [MISSING_TABLE.format(path=tmp_path / "prom.parquet", tables=", ".join(TABLES))]


def test_a_diary_with_blank_hours_or_answers_is_refused_from_files_and_from_memory(tmp_path: Path) -> None:
    """Every diary row needs its hours and ``answers`` (the rules key each row on them; a blank would drop it): a
    Parquet diary with blanks is refused from its footer's counts, a diary handed over in memory from its
    arrays, each problem naming the column and how many rows leave it blank."""
    write_cohort(tmp_path, patients=3, days=30, seed=1)
    path = tmp_path / "diary.parquet"
    diary = pq.read_table(path)
    nullable = pa.schema([field.with_nullable(True) for field in diary.schema])
    hours = pa.array([None, None, *diary["headache_hours"].to_pylist()[2:]], pa.float64())
    answers = pa.array([None, *diary["answers"].to_pylist()[1:]], pa.int32())
    blanked = diary.cast(nullable).set_column(2, "headache_hours", hours)
    blanked = blanked.set_column(blanked.schema.get_field_index("answers"), "answers", answers)
    expected = [
        BLANK_VALUES.format(table=table, rows=rows, column=column)
        for table in (str(path), "diary")
        for column, rows in (("headache_hours", "2 rows"), ("answers", "1 row"))
    ]
    pq.write_table(blanked, path)
    with pytest.raises(CohortSourceError) as from_file:
        read_cohort(connect(Engine.DUCKDB), tmp_path)
    pq.write_table(blanked, path, write_statistics=False)
    with pytest.raises(CohortSourceError) as without_statistics:
        read_cohort(connect(Engine.DUCKDB), tmp_path)
    arrow = {name: pq.read_table(tmp_path / f"{name}.parquet") for name in TABLES}
    with pytest.raises(CohortSourceError) as from_memory:
        arrow_cohort(connect(Engine.DUCKDB), arrow)
    assert from_file.value.problems == without_statistics.value.problems == expected[:2]
    assert from_memory.value.problems == expected[2:]


def test_a_column_holding_the_wrong_kind_of_value_is_named(tmp_path: Path) -> None:
    """A diary date stored as text and hours stored as text are each named with what they hold and what the schema
    says (the report failed deep inside Ibis); a count stored as int32 instead of int64 is read as it is."""
    import pyarrow as pa

    write_cohort(tmp_path, patients=3, days=30, seed=1)
    diary = tmp_path / "diary.parquet"
    table = pq.read_table(diary)
    for name in ("date", "headache_hours"):
        index = table.schema.get_field_index(name)
        table = table.set_column(index, name, table[name].cast(pa.string()))
    pq.write_table(table, diary)
    with pytest.raises(CohortSourceError) as raised:
        read_cohort(connect(Engine.DUCKDB), tmp_path)
    (problem,) = raised.value.problems
    assert problem.startswith(f"{diary}: column date holds string, the schema's date32[day]")
    assert f"{diary}: column headache_hours holds string, the schema's double" in problem
    fresh = tmp_path / "fresh"
    write_cohort(fresh, patients=3, days=30, seed=1)
    table = pq.read_table(fresh / "sessions.parquet")
    index = table.schema.get_field_index("session_number")
    pq.write_table(
        table.set_column(index, "session_number", table["session_number"].cast(pa.int16())), fresh / "sessions.parquet"
    )
    assert set(read_cohort(connect(Engine.DUCKDB), fresh)) == set(TABLES)


def _older_directory(tmp_path: Path) -> tuple[Path, Path]:
    """A generated cohort, and a copy of it whose sessions table was written before ``follow_the_pain_sites``."""
    current, older = tmp_path / "current", tmp_path / "older"
    write_cohort(current, patients=40, days=300, seed=3)
    older.mkdir()
    for name in TABLES:
        table = pq.read_table(current / f"{name}.parquet")
        if name == "sessions":
            table = table.drop_columns(["follow_the_pain_sites"])
        pq.write_table(table, older / f"{name}.parquet")
    return current, older


def _without_follow_the_pain(document: dict[str, object]) -> dict[str, object]:
    return {
        k: v for k, v in document.items() if k not in {"sessions_follow_the_pain", "sessions_follow_the_pain_recorded"}
    }


def test_a_sessions_table_written_before_its_follow_the_pain_column_is_read_without_it(tmp_path: Path) -> None:
    """A cohort directory whose sessions table has no ``follow_the_pain_sites`` (written before the column) still
    reports: every figure as with the column, but the follow-the-pain share, which is 0 of 0 and marked not recorded
    rather than guessed from the site count. A table missing a column that is not optional is still refused."""
    current, older = _older_directory(tmp_path)
    with_column, without = cohort_report(current), cohort_report(older)
    assert with_column.sessions_follow_the_pain_recorded
    assert with_column.sessions_follow_the_pain.count > 0
    assert not without.sessions_follow_the_pain_recorded
    assert without.sessions_follow_the_pain == Proportion.of(0, 0)
    documents = report_json(with_column), report_json(replace(without, directory=str(current)))
    assert _without_follow_the_pain(documents[0]) == _without_follow_the_pain(documents[1])
    sessions = older / "sessions.parquet"
    pq.write_table(pq.read_table(sessions).drop_columns(["sites"]), sessions)
    with pytest.raises(CohortSourceError) as raised:
        read_cohort(connect(Engine.DUCKDB), older)
    assert raised.value.problems == [MISSING_COLUMNS.format(path=sessions, columns="sites")]


@spark_test
def test_spark_reads_a_sessions_table_without_its_follow_the_pain_column(tmp_path: Path, spark_session: Any) -> None:
    """Spark reads the older sessions table as DuckDB does: the same report, follow-the-pain not recorded."""
    _, older = _older_directory(tmp_path)
    on_spark = cohort_report(older, Engine.SPARK, spark_session=spark_session)
    on_duckdb = cohort_report(older)
    assert not on_spark.sessions_follow_the_pain_recorded
    assert report_json(replace(on_spark, engine=on_duckdb.engine)) == report_json(on_duckdb)


def _rewritten(directory: Path, name: str, change: Any, **options: Any) -> Path:
    """Rewrite table ``name`` of the cohort in ``directory`` as ``change`` makes it; the file's path."""
    path = directory / f"{name}.parquet"
    pq.write_table(change(pq.read_table(path)), path, **options)
    return path


def _set(table: pa.Table, column: str, values: list[Any], type_: pa.DataType | None = None) -> pa.Table:
    """``table`` with ``column`` replaced by ``values`` (nullable, of ``type_`` or the column's type)."""
    index = table.schema.get_field_index(column)
    field = pa.field(column, type_ or table.schema.field(column).type)
    return table.set_column(index, field, pa.array(values, field.type))


def _problems(directory: Path) -> list[str]:
    with pytest.raises(CohortSourceError) as raised:
        read_cohort(connect(Engine.DUCKDB), directory)
    return raised.value.problems


def test_a_patient_on_two_rows_of_patients_is_refused_naming_the_id(tmp_path: Path) -> None:
    """A patient_id twice in patients fanned out the report's join (220 patients, 260 treated): it is refused
    naming the least repeated id and its rows."""
    write_cohort(tmp_path, patients=5, days=60, seed=1)
    path = _rewritten(tmp_path, "patients", lambda table: pa.concat_tables([table, table.slice(2, 1)]))
    repeated = pq.read_table(path)["patient_id"][2].as_py()
    assert _problems(tmp_path) == [DUPLICATE_PATIENT.format(table=path, patient_id=repeated, count=2)]


def test_rows_naming_a_patient_missing_from_patients_are_refused(tmp_path: Path) -> None:
    """Sessions, PROM and adverse events of a patient patients lacks made treated outnumber the patients: each
    table is named with its count of such rows and the least such id."""
    write_cohort(tmp_path, patients=20, days=200, seed=1)
    ids = pq.read_table(tmp_path / "patients.parquet")["patient_id"]
    gone = ids[0].as_py()
    _rewritten(tmp_path, "patients", lambda table: table.slice(1))
    expected = []
    for name in ("sessions", "prom", "adverse_events"):
        table = pq.read_table(tmp_path / f"{name}.parquet")
        count = table.filter(pc.equal(table["patient_id"], gone)).num_rows
        if count:
            expected.append(
                UNKNOWN_PATIENT.format(table=tmp_path / f"{name}.parquet", rows=rows_text(count), patient_id=gone)
            )
    assert len(expected) >= 2
    assert _problems(tmp_path) == expected


def test_coded_values_outside_the_schema_are_refused_naming_table_column_value_and_choices(tmp_path: Path) -> None:
    """Sex "F" (0 % women), a HIT-6 answer "Never" (no total) and an event "NECK_PAIN" (0 for every label row)
    are refused, each naming the table, the column, the value and what the schema allows."""
    write_cohort(tmp_path, patients=20, days=200, seed=1)
    patients = _rewritten(tmp_path, "patients", lambda t: _set(t, "sex", ["F"] * t.num_rows))
    prom = _rewritten(tmp_path, "prom", lambda t: _set(t, "hit6_1", ["Never"] * t.num_rows))
    events = _rewritten(tmp_path, "adverse_events", lambda t: _set(t, "event", ["NECK_PAIN"] * t.num_rows))
    labelled = sorted(row.event for row in calibration().adverse_reactions)
    assert _problems(tmp_path) == [
        UNKNOWN_VALUE.format(table=patients, column="sex", value="F", allowed=list(SEX_VALUES)),
        UNKNOWN_VALUE.format(table=prom, column="hit6_1", value="Never", allowed=[a.value for a in Hit6Answer]),
        UNKNOWN_VALUE.format(table=events, column="event", value="NECK_PAIN", allowed=labelled),
    ]


@pytest.mark.parametrize("statistics", [True, False])
def test_diary_hours_outside_a_day_are_refused_from_the_footer(tmp_path: Path, statistics: bool) -> None:
    """Hours written in minutes (240) lie outside the contract's 0-24: the diary is refused from its footer's
    minimum and maximum, or from the column when written without statistics; an intensity word outside the
    three is refused too."""
    write_cohort(tmp_path, patients=5, days=60, seed=1)

    def broken(table: pa.Table) -> pa.Table:
        hours = [value * 60 for value in table["headache_hours"].to_pylist()]
        intensity = ["very severe" if value else value for value in table["intensity"].to_pylist()]
        return _set(_set(table, "headache_hours", hours), "intensity", intensity)

    path = _rewritten(tmp_path, "diary", broken, write_statistics=statistics)
    most = max(pq.read_table(path)["headache_hours"].to_pylist())
    assert _problems(tmp_path) == [
        OUT_OF_RANGE.format(table=path, column="headache_hours", value=most, low=0, high=24),
        UNKNOWN_VALUE.format(
            table=path, column="intensity", value="very severe", allowed=["mild", "moderate", "severe"]
        ),
    ]


def test_a_fractional_answers_column_is_refused_as_the_wrong_type(tmp_path: Path) -> None:
    """``answers`` written as floats (pandas after a NaN) crashed the rules' bit arithmetic with a traceback: an
    integer column holding floats is named with WRONG_TYPES; hours held as whole numbers are still read."""
    write_cohort(tmp_path, patients=5, days=60, seed=1)
    path = _rewritten(tmp_path, "diary", lambda t: _set(t, "answers", t["answers"].to_pylist(), pa.float64()))
    assert _problems(tmp_path) == [
        WRONG_TYPES.format(path=path, column="answers", found=pa.float64(), expected=pa.int32())
    ]
    _rewritten(tmp_path, "diary", lambda t: with_answers(t.drop_columns(["answers"])))
    _rewritten(
        tmp_path,
        "diary",
        lambda t: _set(t, "headache_hours", [round(v) for v in t["headache_hours"].to_pylist()], pa.int16()),
    )
    assert set(read_cohort(connect(Engine.DUCKDB), tmp_path)) == set(TABLES)


def test_a_blank_in_any_required_column_of_any_table_is_refused(tmp_path: Path) -> None:
    """A blank session_date drew a misleading diary refusal: every non-nullable column of every table is checked
    for blanks from the footer, naming the table, the column and the count."""
    write_cohort(tmp_path, patients=5, days=60, seed=1)
    sessions = _rewritten(
        tmp_path, "sessions", lambda t: _set(t, "session_date", [None, *t["session_date"].to_pylist()[1:]])
    )
    assert _problems(tmp_path) == [BLANK_VALUES.format(table=sessions, rows="1 row", column="session_date")]


def test_arrow_tables_are_checked_as_a_directory_is(tmp_path: Path) -> None:
    """A clinic's tables handed over in memory are refused for the same values (here a patient on two rows and
    hours beyond 24), but for the adverse-event codes (a clinic's are its own kinds)."""
    write_cohort(tmp_path, patients=5, days=60, seed=1)
    arrow = {name: pq.read_table(tmp_path / f"{name}.parquet") for name in TABLES}
    arrow["patients"] = pa.concat_tables([arrow["patients"], arrow["patients"].slice(0, 1)])
    arrow["diary"] = _set(arrow["diary"], "headache_hours", [25.0] * arrow["diary"].num_rows)
    arrow["adverse_events"] = _set(
        arrow["adverse_events"], "event", ["allergic_reaction"] * arrow["adverse_events"].num_rows
    )
    with pytest.raises(CohortSourceError) as raised:
        arrow_cohort(connect(Engine.DUCKDB), arrow)
    first = arrow["patients"]["patient_id"][0].as_py()
    assert raised.value.problems == [
        OUT_OF_RANGE.format(table="diary", column="headache_hours", value=25.0, low=0, high=24),
        DUPLICATE_PATIENT.format(table="patients", patient_id=first, count=2),
    ]


def _first_patient(directory: Path) -> str:
    """The least patient id of the cohort in ``directory`` (the one a problem names)."""
    return pq.read_table(directory / "patients.parquet")["patient_id"][0].as_py()


def test_impossible_dates_are_refused_naming_the_table_the_column_and_the_patient(tmp_path: Path) -> None:
    """A birth after the start of observation and after the first session (an age of -7 reached the report's age
    range) and an observation that ends before it starts are refused, each naming the file, the column, the patient
    and the dates; from files and from memory alike."""
    write_cohort(tmp_path, patients=5, days=200, seed=1)
    people = pq.read_table(tmp_path / "patients.parquet")
    born_late, backwards = people["patient_id"][0].as_py(), people["patient_id"][1].as_py()
    start, until = people["observed_from"][1].as_py(), people["observed_until"][1].as_py()
    sessions = pq.read_table(tmp_path / "sessions.parquet")
    first = min(sessions.filter(pc.equal(sessions["patient_id"], born_late))["session_date"].to_pylist())
    observed = people["observed_from"][0].as_py()
    born = first + (first - observed)  # after the first session, so after observed_from too

    def broken(table: pa.Table) -> pa.Table:
        births, starts, ends = (
            table[column].to_pylist() for column in ("birth_date", "observed_from", "observed_until")
        )
        births[0], starts[1], ends[1] = born, until, start
        return _set(_set(_set(table, "birth_date", births), "observed_from", starts), "observed_until", ends)

    path = _rewritten(tmp_path, "patients", broken)
    one = {"table": path, "patients": "1 patient"}
    expected = [
        BIRTH_AFTER.format(**one, birth_date=born, patient_id=born_late, column="observed_from", day=observed),
        BIRTH_AFTER.format(**one, birth_date=born, patient_id=born_late, column="first session", day=first),
        OBSERVED_BACKWARDS.format(**one, until=start, patient_id=backwards, start=until),
    ]
    assert _problems(tmp_path) == expected
    arrow = {name: pq.read_table(tmp_path / f"{name}.parquet") for name in TABLES}
    with pytest.raises(CohortSourceError) as raised:
        arrow_cohort(connect(Engine.DUCKDB), arrow)
    assert raised.value.problems == [problem.replace(str(path), "patients") for problem in expected]


def test_midas_answers_outside_the_engines_limits_are_refused(tmp_path: Path) -> None:
    """MIDAS Q1 of -3 days, B of 11 (a 0-10 scale) and Q3 + Q4 of 93 days (Q4 excludes Q3's days; 3 months hold 92
    at most) were graded as if valid: each is refused naming the file, the column, the value and the patient, with
    the engine's limits (onaboard.clinical)."""
    write_cohort(tmp_path, patients=5, days=200, seed=1)
    prom = pq.read_table(tmp_path / "prom.parquet")
    patient, visit = prom["patient_id"][0].as_py(), prom["visit"][0].as_py()

    def broken(table: pa.Table) -> pa.Table:
        table = _set(table, "midas_q1", [-3, *table["midas_q1"].to_pylist()[1:]])
        table = _set(table, "midas_b", [MIDAS_MAX_PAIN + 1, *table["midas_b"].to_pylist()[1:]])
        table = _set(table, "midas_q3", [MIDAS_MAX_DAYS - 1, *table["midas_q3"].to_pylist()[1:]])
        return _set(table, "midas_q4", [2, *table["midas_q4"].to_pylist()[1:]])

    path = _rewritten(tmp_path, "prom", broken)
    where = {"table": path, "patient_id": patient, "visit": visit, "rows": "1 row"}
    assert _problems(tmp_path) == [
        MIDAS_OUT_OF_RANGE.format(**where, column="midas_q1", value=-3, low=0, high=MIDAS_MAX_DAYS),
        MIDAS_OUT_OF_RANGE.format(**where, column="midas_b", value=MIDAS_MAX_PAIN + 1, low=0, high=MIDAS_MAX_PAIN),
        MIDAS_PAIR_OUT_OF_RANGE.format(
            **where, first="midas_q3", second="midas_q4", value=MIDAS_MAX_DAYS + 1, high=MIDAS_MAX_DAYS
        ),
    ]


def _renumbered(tmp_path: Path, change: Any) -> tuple[Path, str, list[dict[str, Any]]]:
    """A cohort whose first patient (with at least two sessions) has their session rows changed by ``change``; the
    sessions file, the patient and their rows as written before."""
    write_cohort(tmp_path, patients=8, days=365, seed=1)
    sessions = pq.read_table(tmp_path / "sessions.parquet")
    counts = sessions.group_by("patient_id").aggregate([("session_number", "count")]).to_pylist()
    patient = min(row["patient_id"] for row in counts if row["session_number_count"] >= 2)
    own = [row for row in sessions.to_pylist() if row["patient_id"] == patient]

    def rewrite(table: pa.Table) -> pa.Table:
        rows = table.to_pylist()
        mine = [row for row in rows if row["patient_id"] == patient]
        change(mine)
        return pa.Table.from_pylist(rows, schema=table.schema)

    return _rewritten(tmp_path, "sessions", rewrite), patient, own


def test_session_numbers_the_dates_contradict_are_refused_naming_the_patient(tmp_path: Path) -> None:
    """Sessions 1 and 2 with their numbers swapped gave a negative gap ("repeat sessions too early") and put adverse
    events in the wrong cycle: refused naming the patient, both sessions and their dates."""

    def swap(rows: list[dict[str, Any]]) -> None:
        rows[0]["session_number"], rows[1]["session_number"] = rows[1]["session_number"], rows[0]["session_number"]

    path, patient, own = _renumbered(tmp_path, swap)
    assert _problems(tmp_path) == [
        SESSIONS_OUT_OF_ORDER.format(
            table=path,
            patient_id=patient,
            later=2,
            later_date=own[0]["session_date"],
            earlier=1,
            earlier_date=own[1]["session_date"],
            patients="1 patient",
        )
    ]


def test_a_session_number_on_two_rows_of_a_patient_is_refused(tmp_path: Path) -> None:
    """Two rows numbered 1 for one patient are refused naming the patient, the number and the rows (an adverse event
    after the session numbered 2 before is refused too, naming a session the patient no longer has)."""

    def repeat(rows: list[dict[str, Any]]) -> None:
        rows[1]["session_number"] = rows[0]["session_number"]

    path, patient, _ = _renumbered(tmp_path, repeat)
    duplicate, *rest = _problems(tmp_path)
    assert duplicate == DUPLICATE_SESSION.format(
        table=path, patient_id=patient, session_number=1, count=2, patients="1 patient"
    )
    events = str(tmp_path / "adverse_events.parquet")
    assert all(problem.startswith(f"{events}: patient {patient}'s ") for problem in rest)  # events after session 2


@pytest.mark.parametrize("statistics", [True, False])
def test_nan_hours_are_refused_naming_the_patient_and_the_date(tmp_path: Path, statistics: bool) -> None:
    """NaN hours (what Spark and Polars write for a missing float) are left out of the footer's minimum and maximum
    and sort above every number, so they passed as headache days of 4 hours or more: refused naming the file, the
    column, the first patient and date and the rows, from files (with or without statistics) and from memory."""
    write_cohort(tmp_path, patients=5, days=60, seed=1)
    diary = pq.read_table(tmp_path / "diary.parquet")
    hours = diary["headache_hours"].to_pylist()
    hours[7] = hours[3] = float("nan")
    path = _rewritten(tmp_path, "diary", lambda t: _set(t, "headache_hours", hours), write_statistics=statistics)
    first = {"patient_id": diary["patient_id"][3].as_py(), "date": diary["date"][3].as_py(), "rows": "2 rows"}
    assert _problems(tmp_path) == [NOT_A_NUMBER.format(table=path, column="headache_hours", **first)]
    arrow = {name: pq.read_table(tmp_path / f"{name}.parquet") for name in TABLES}
    with pytest.raises(CohortSourceError) as raised:
        arrow_cohort(connect(Engine.DUCKDB), arrow)
    assert raised.value.problems == [NOT_A_NUMBER.format(table="diary", column="headache_hours", **first)]


def test_a_prom_visit_on_two_rows_of_a_patient_is_refused(tmp_path: Path) -> None:
    """Two rows of one patient's visit 1 made HIT-6's change take the larger total and MIDAS count the patient
    twice: refused naming the patient, the visit and the rows."""
    write_cohort(tmp_path, patients=5, days=200, seed=1)
    path = _rewritten(tmp_path, "prom", lambda table: pa.concat_tables([table, table.slice(0, 1)]))
    prom = pq.read_table(path)
    patient, visit = prom["patient_id"][0].as_py(), prom["visit"][0].as_py()
    assert _problems(tmp_path) == [
        DUPLICATE_VISIT.format(table=path, patient_id=patient, visit=visit, count=2, patients="1 patient")
    ]


def test_impossible_session_counts_are_refused_naming_the_patient_and_the_session(tmp_path: Path) -> None:
    """More follow-the-pain sites than sites (counted in the follow-the-pain share), and negative sites, units or
    failed preventives, were read as given: each is refused naming the file, the column, the value and the least
    such patient (and session); from files and from memory alike."""
    write_cohort(tmp_path, patients=5, days=200, seed=1)
    sessions = pq.read_table(tmp_path / "sessions.parquet")
    patient, number = sessions["patient_id"][0].as_py(), sessions["session_number"][0].as_py()
    sites = sessions["sites"][0].as_py()

    def broken(table: pa.Table) -> pa.Table:
        table = _set(table, "follow_the_pain_sites", [sites + 1, *table["follow_the_pain_sites"].to_pylist()[1:]])
        table = _set(table, "dose_units", [-155, *table["dose_units"].to_pylist()[1:]])
        return _set(table, "sites", [sites, -1, *table["sites"].to_pylist()[2:]])

    path = _rewritten(tmp_path, "sessions", broken)
    second = (sessions["patient_id"][1].as_py(), sessions["session_number"][1].as_py())
    people = _rewritten(
        tmp_path,
        "patients",
        lambda t: _set(t, "prior_preventives_failed", [-2, *t["prior_preventives_failed"].to_pylist()[1:]]),
    )
    first_person = pq.read_table(people)["patient_id"][0].as_py()
    one = {"rows": "1 row"}
    expected = [
        NEGATIVE_COUNT.format(
            table=people, column="prior_preventives_failed", value=-2, where=f"patient {first_person}", **one
        ),
        NEGATIVE_COUNT.format(
            table=path, column="dose_units", value=-155, where=f"patient {patient}'s session {number}", **one
        ),
        NEGATIVE_COUNT.format(
            table=path, column="sites", value=-1, where=f"patient {second[0]}'s session {second[1]}", **one
        ),
        FOLLOW_THE_PAIN_ABOVE_SITES.format(
            table=path,
            patient_id=patient,
            session_number=number,
            follow_the_pain_sites=sites + 1,
            sites=sites,
            **one,
        ),
    ]
    assert _problems(tmp_path) == expected
    arrow = {name: pq.read_table(tmp_path / f"{name}.parquet") for name in TABLES}
    with pytest.raises(CohortSourceError) as raised:
        arrow_cohort(connect(Engine.DUCKDB), arrow)
    named = {str(path): "sessions", str(people): "patients"}
    assert raised.value.problems == [
        problem.replace(str(path), named[str(path)]).replace(str(people), named[str(people)]) for problem in expected
    ]


def test_adverse_events_without_their_session_are_refused_naming_the_patient(tmp_path: Path) -> None:
    """An adverse event naming a session number the patient lacks dropped out of the label comparison, and one
    beginning before the patient's first session followed no treatment: each is refused naming the file, the
    patient, the event and the dates."""
    write_cohort(tmp_path, patients=20, days=365, seed=1)
    events = pq.read_table(tmp_path / "adverse_events.parquet")
    sessions = pq.read_table(tmp_path / "sessions.parquet")
    rows = events.to_pylist()
    unnumbered, early = rows[0], next(row for row in rows if row["patient_id"] != rows[0]["patient_id"])
    unnumbered["session_number"] = 40
    first = min(
        day
        for patient, day in zip(sessions["patient_id"].to_pylist(), sessions["session_date"].to_pylist(), strict=True)
        if patient == early["patient_id"]
    )
    early["onset_date"] = first - timedelta(days=1)
    path = _rewritten(tmp_path, "adverse_events", lambda table: pa.Table.from_pylist(rows, schema=table.schema))
    assert _problems(tmp_path) == [
        UNKNOWN_SESSION.format(
            table=path,
            patient_id=unnumbered["patient_id"],
            event=unnumbered["event"],
            onset_date=unnumbered["onset_date"],
            session_number=40,
            rows="1 row",
        ),
        EVENT_BEFORE_FIRST_SESSION.format(
            table=path,
            patient_id=early["patient_id"],
            event=early["event"],
            onset_date=early["onset_date"],
            first_date=first,
            rows="1 row",
        ),
    ]


def test_a_directory_holding_the_tables_as_csv_says_so_once(tmp_path: Path) -> None:
    """A directory of CSV tables listed five "missing ... as Parquet" lines without saying the CSV files were
    found: one problem now says they are there and the report reads Parquet; a table in neither form is still
    named."""
    write_cohort(tmp_path, patients=3, days=60, seed=1, csv=True)
    for name in TABLES:
        (tmp_path / f"{name}.parquet").unlink()
    (tmp_path / "prom.csv").unlink()
    names = ", ".join(f"{name}.csv" for name in TABLES if name != "prom")
    assert _problems(tmp_path) == [
        CSV_NOT_READ.format(directory=tmp_path, names=names),
        MISSING_TABLE.format(path=tmp_path / "prom.parquet", tables=", ".join(TABLES)),
    ]


def test_counts_in_problems_read_one_row_and_many_rows() -> None:
    """A count of one is singular in a problem ("1 row", not "1 rows")."""
    assert (rows_text(1), rows_text(2), rows_text(1, "patient"), rows_text(0, "patient")) == (
        "1 row",
        "2 rows",
        "1 patient",
        "0 patients",
    )


def _damaged(path: Path, at: float = 0.5, length: int = 64) -> None:
    """Flip ``length`` bytes of ``path`` from ``at`` of its length: its footer still reads, a page does not."""
    data = bytearray(path.read_bytes())
    start = int(len(data) * at)
    data[start : start + length] = bytes(b ^ 0x5A for b in data[start : start + length])
    path.write_bytes(bytes(data))


@pytest.mark.parametrize(
    ("name", "at", "named"),
    [("sessions", 0.3, "file"), ("diary", 0.15, "directory"), ("diary", 0.2, "file"), ("diary", 0.95, "file")],
)
def test_a_table_damaged_inside_is_refused_naming_its_file_not_a_traceback(
    tmp_path: Path, name: str, at: float, named: str
) -> None:
    """A file whose footer reads but whose pages do not (a flipped byte, a copy cut short inside) crashed the
    report with pyarrow's or DuckDB's traceback (exit 1): it is refused naming the file (exit 2 in the command),
    whether pyarrow's reading in ``read_cohort`` finds it (a small table, the diary's hours) or DuckDB's in the
    report's scan (the diary's other columns: 0.15 of this file, named by its directory: DuckDB does not say which
    file)."""
    write_cohort(tmp_path, patients=40, days=200, seed=3)
    path = tmp_path / f"{name}.parquet"
    _damaged(path, at=at)
    with pytest.raises(CohortSourceError) as raised:
        cohort_report(tmp_path)
    (problem,) = raised.value.problems
    if named == "file":
        assert problem.startswith(f"{path}: cannot be read as Parquet (")
    else:  # DuckDB's reading error does not say which file: the directory is named
        assert problem.startswith(f"{tmp_path}: one of its Parquet files cannot be read (")


def test_session_numbers_not_1_to_n_and_a_visit_0_are_refused(tmp_path: Path) -> None:
    """Sessions numbered from 0 (or from 3, a lifetime count) moved every adverse event out of the first two cycles,
    and PROM visits from 0 read the baseline HIT-6 from the wrong visit: each is refused naming the patient."""
    from onaboard.cohort.backends import SESSIONS_NOT_NUMBERED, VISIT_BELOW_ONE

    write_cohort(tmp_path, patients=20, days=300, seed=3)
    sessions = _rewritten(
        tmp_path, "sessions", lambda t: _set(t, "session_number", [n - 1 for n in t["session_number"].to_pylist()])
    )
    prom = _rewritten(tmp_path, "prom", lambda t: _set(t, "visit", [v - 1 for v in t["visit"].to_pylist()]))
    problems = _problems(tmp_path)
    table = pq.read_table(sessions)
    first = min(table["patient_id"].to_pylist())
    mine = table.filter(pc.equal(table["patient_id"], first))
    treated = len(set(table["patient_id"].to_pylist()))
    assert (
        SESSIONS_NOT_NUMBERED.format(
            table=sessions,
            patient_id=first,
            count=mine.num_rows,
            first=0,
            last=mine.num_rows - 1,
            patients=rows_text(treated, "patient"),
        )
        in problems
    )
    visits = pq.read_table(prom)
    zero = visits.filter(pc.equal(visits["visit"], 0))
    least = min(zero["patient_id"].to_pylist())
    assert VISIT_BELOW_ONE.format(table=prom, patient_id=least, visit=0, rows=rows_text(zero.num_rows)) in problems


def test_rows_after_the_patients_observation_are_refused(tmp_path: Path) -> None:
    """A session dated after the patient's observed_until counted as an overdue repeat, and a diary day after it made
    a drop-out read as continuing: each is refused naming the table, the patient and both dates."""
    from onaboard.cohort.backends import AFTER_OBSERVATION

    write_cohort(tmp_path, patients=20, days=300, seed=3)
    people = pq.read_table(tmp_path / "patients.parquet")
    patient, until = people["patient_id"][0].as_py(), people["observed_until"][0].as_py()
    late = until + timedelta(days=400)

    def later_session(table: pa.Table) -> pa.Table:
        mine = pc.equal(table["patient_id"], patient)
        last = max(table.filter(mine)["session_number"].to_pylist())
        row = {**table.filter(mine).to_pylist()[-1], "session_number": last + 1, "session_date": late}
        return pa.concat_tables([table, pa.Table.from_pylist([row], schema=table.schema)])

    path = _rewritten(tmp_path, "sessions", later_session)
    assert _problems(tmp_path) == [
        AFTER_OBSERVATION.format(
            table=path, patient_id=patient, column="session_date", day=late, until=until, rows="1 row"
        )
    ]


def test_a_diary_day_after_observation_is_refused_by_the_report(tmp_path: Path) -> None:
    """One diary row 30 days after a treated patient's observed_until turned their drop-out into "continuing": the
    report refuses it, naming the diary, the patient and the dates (from its grid, with no second scan)."""
    from onaboard.cohort.backends import AFTER_OBSERVATION

    write_cohort(tmp_path, patients=20, days=300, seed=3)
    treated = sorted(set(pq.read_table(tmp_path / "sessions.parquet")["patient_id"].to_pylist()))
    people = pq.read_table(tmp_path / "patients.parquet")
    until = dict(zip(people["patient_id"].to_pylist(), people["observed_until"].to_pylist(), strict=True))
    patient = treated[0]
    day = until[patient] + timedelta(days=30)

    def stray(table: pa.Table) -> pa.Table:
        row = {**table.filter(pc.equal(table["patient_id"], patient)).to_pylist()[-1], "date": day}
        return pa.concat_tables([table, pa.Table.from_pylist([row], schema=table.schema)])

    path = _rewritten(tmp_path, "diary", stray)
    with pytest.raises(CohortSourceError) as raised:
        cohort_report(tmp_path)
    assert raised.value.problems == [
        AFTER_OBSERVATION.format(
            table=path, patient_id=patient, column="last diary date", day=day, until=until[patient], rows="1 patient"
        )
    ]


def test_an_adverse_event_before_the_session_it_names_is_refused(tmp_path: Path) -> None:
    """An event naming session 2 that began before session 2 (in cycle 1) is refused naming both dates."""
    from onaboard.cohort.backends import EVENT_BEFORE_ITS_SESSION

    write_cohort(tmp_path, patients=40, days=300, seed=3)
    sessions = pq.read_table(tmp_path / "sessions.parquet")
    seconds = sessions.filter(pc.equal(sessions["session_number"], 2)).sort_by("patient_id")
    patient, second = seconds["patient_id"][0].as_py(), seconds["session_date"][0].as_py()
    first = sessions.filter(
        pc.and_(pc.equal(sessions["patient_id"], patient), pc.equal(sessions["session_number"], 1))
    )["session_date"][0].as_py()
    onset = first + timedelta(days=3)

    def early(table: pa.Table) -> pa.Table:
        row = {**table.to_pylist()[0], "patient_id": patient, "session_number": 2, "onset_date": onset}
        return pa.concat_tables([table, pa.Table.from_pylist([row], schema=table.schema)])

    path = _rewritten(tmp_path, "adverse_events", early)
    event = pq.read_table(path).to_pylist()[0]["event"]
    assert _problems(tmp_path) == [
        EVENT_BEFORE_ITS_SESSION.format(
            table=path,
            patient_id=patient,
            event=event,
            onset_date=onset,
            session_number=2,
            session_date=second,
            rows="1 row",
        )
    ]
