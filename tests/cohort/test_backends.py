"""Backends: DuckDB reads a cohort directory's Parquet in place, and a directory that is not a cohort is refused
with every reason."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from onaboard.cohort.backends import (
    BLANK_VALUES,
    MISSING_COLUMNS,
    MISSING_TABLE,
    NOT_A_DIRECTORY,
    WRONG_COLUMNS,
    CohortSourceError,
    Engine,
    arrow_cohort,
    connect,
    read_cohort,
)
from onaboard.cohort.report import Proportion, cohort_report, cohort_report_of, report_json
from onaboard.cohort.synth import write_cohort
from onaboard.cohort.tables import TABLES, with_answers
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
    """A path that is not a directory gives one problem naming it."""
    with pytest.raises(CohortSourceError) as raised:
        read_cohort(connect(Engine.DUCKDB), tmp_path / "nowhere")
    assert raised.value.problems == [NOT_A_DIRECTORY.format(path=tmp_path / "nowhere")]


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
        BLANK_VALUES.format(table=table, count=count, column=column)
        for table in (str(path), "diary")
        for column, count in (("headache_hours", 2), ("answers", 1))
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
