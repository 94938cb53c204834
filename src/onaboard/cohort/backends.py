"""Where the cohort rules run: DuckDB (embedded, the default, reading Parquet in place) or Apache Spark.

The same Ibis expressions (rules.py) compile to either. DuckDB suits one machine, up to a registry of some
millions of patient-years; Spark is for a registry that outgrows one machine: run the report under
``spark-submit`` (or with a session already active) and it uses that cluster's session, otherwise a local one.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Mapping

    import ibis.expr.types as ir
    import pyarrow as pa
    from ibis.backends import BaseBackend

__all__ = [
    "BLANK_VALUES",
    "MISSING_COLUMNS",
    "MISSING_TABLE",
    "NOT_A_DIRECTORY",
    "NOT_PARQUET",
    "OVERFULL_PERIOD",
    "WRONG_COLUMNS",
    "CohortSourceError",
    "Engine",
    "arrow_cohort",
    "connect",
    "read_cohort",
]

NOT_A_DIRECTORY = "{path}: not a directory"
MISSING_TABLE = "{path}: missing (a cohort directory holds {tables} as Parquet)"
MISSING_COLUMNS = "{path}: missing columns {columns} (src/onaboard/cohort/tables.py holds the schema)"
NO_ANSWERS = (
    "; a diary written before the packed answers column gets it from onaboard.cohort.tables.with_answers "
    "(docs/cohort.md)"
)
BLANK_VALUES = "{table}: {count} rows leave {column} blank; every diary row needs it"
NOT_PARQUET = "{path}: cannot be read as Parquet ({reason})"
WRONG_COLUMNS = "{table}: columns {found} differ from the schema's {expected}"
WRONG_TYPES = "{path}: column {column} holds {found}, the schema's {expected} (src/onaboard/cohort/tables.py)"
REPEATED_COLUMN = "{path}: column {column} appears more than once"
OVERFULL_PERIOD = (
    "diary: patient {patient_id} has {days_recorded} rows in one 28-day period (grid {grid} from the first "
    "injection); the diary holds one row per patient and date"
)

SPARK_SHUFFLE_PARTITIONS = "8"
"""Shuffle partitions of a session onaboard starts itself (Spark's 200 suit a cluster, not a laptop)."""


class Engine(StrEnum):
    """The backends ``onaboard cohort report --engine`` accepts."""

    DUCKDB = "duckdb"
    SPARK = "spark"

    @property
    def display_name(self) -> str:
        """The engine as a reader knows it ("DuckDB", "Spark"); the value stays the option's and the JSON's."""
        return _ENGINE_NAMES[self]


_ENGINE_NAMES = {Engine.DUCKDB: "DuckDB", Engine.SPARK: "Spark"}


class CohortSourceError(Exception):
    """The cohort directory cannot be read; ``problems`` lists every reason."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


def _spark_session() -> Any:
    from pyspark.sql import SparkSession

    active = SparkSession.getActiveSession()
    if active is not None:
        return active
    session = (
        SparkSession.builder.appName("onaboard cohort")
        .config("spark.sql.shuffle.partitions", SPARK_SHUFFLE_PARTITIONS)
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    return session


def connect(engine: Engine | str = Engine.DUCKDB, *, spark_session: Any = None) -> BaseBackend:
    """An Ibis connection to the engine: an in-memory DuckDB, or Spark (``spark_session``, the active session,
    or a new local one)."""
    import ibis

    if Engine(engine) is Engine.DUCKDB:
        return ibis.duckdb.connect()
    return ibis.pyspark.connect(spark_session if spark_session is not None else _spark_session())


def read_cohort(connection: BaseBackend, directory: Path) -> dict[str, ir.Table]:
    """The cohort's tables as lazy Ibis tables over its Parquet files; ``CohortSourceError`` lists what is missing
    (a file, a column, a value the diary's ``DIARY_REQUIRED_COLUMNS`` may not leave blank). A file written before one
    of ``tables.OPTIONAL_COLUMNS`` is read with that column null (a sessions table without
    ``follow_the_pain_sites``: the report marks the follow-the-pain share not recorded)."""
    from onaboard.cohort.tables import TABLES

    if not directory.is_dir():
        raise CohortSourceError([NOT_A_DIRECTORY.format(path=directory)])
    paths = {name: directory / f"{name}.parquet" for name in TABLES}
    missing = [
        MISSING_TABLE.format(path=path, tables=", ".join(TABLES)) for path in paths.values() if not path.is_file()
    ]
    if missing:
        raise CohortSourceError(missing)
    problems = [problem for name, path in paths.items() if (problem := _column_problem(name, path))]
    if not problems:
        problems = _blank_problems(str(paths["diary"]), _parquet_null_counts(paths["diary"]))
    if problems:
        raise CohortSourceError(problems)
    return {name: _with_optional_columns(name, connection.read_parquet(str(path))) for name, path in paths.items()}


def _with_optional_columns(name: str, table: ir.Table) -> ir.Table:
    """The table with each of its ``OPTIONAL_COLUMNS`` the file lacks (written before the column) added as nulls of
    the schema's type, in the schema's place (they come last)."""
    import ibis

    from onaboard.cohort.tables import OPTIONAL_COLUMNS, SCHEMAS

    absent = [column for column in OPTIONAL_COLUMNS.get(name, ()) if column not in table.columns]
    if not absent:
        return table
    added = {column: ibis.null().cast(str(SCHEMAS[name].field(column).type)) for column in absent}
    return table.mutate(**added).select(*SCHEMAS[name].names)


def _blank_problems(table: str, null_counts: Mapping[str, int]) -> list[str]:
    """One problem per required diary column (``DIARY_REQUIRED_COLUMNS``) that holds blanks."""
    from onaboard.cohort.tables import DIARY_REQUIRED_COLUMNS

    return [
        BLANK_VALUES.format(table=table, count=null_counts[column], column=column)
        for column in DIARY_REQUIRED_COLUMNS
        if null_counts[column]
    ]


def _parquet_null_counts(path: Path) -> dict[str, int]:
    """Blanks per required diary column, from the file's row-group statistics (its footer); a column written
    without them is read and counted instead."""
    import pyarrow.parquet as pq

    from onaboard.cohort.tables import DIARY_REQUIRED_COLUMNS

    parquet = pq.ParquetFile(path)
    counts = {}
    for column in DIARY_REQUIRED_COLUMNS:
        index = parquet.schema_arrow.get_field_index(column)
        chunks = [parquet.metadata.row_group(group).column(index).statistics for group in range(parquet.num_row_groups)]
        if all(stats is not None and stats.has_null_count for stats in chunks):
            counts[column] = sum(stats.null_count for stats in chunks)
        else:
            counts[column] = parquet.read(columns=[column]).column(column).null_count
    return counts


def _column_problem(name: str, path: Path) -> str | None:
    """What keeps the file from being the table ``name`` (not Parquet; a schema column absent, but for the
    ``OPTIONAL_COLUMNS`` a file written before them lacks), from its footer."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from onaboard.cohort.tables import OPTIONAL_COLUMNS, SCHEMAS

    try:
        schema = pq.read_schema(path)
    except (OSError, pa.ArrowException) as error:
        return NOT_PARQUET.format(path=path, reason=error)
    found = set(schema.names)
    repeated = sorted({column for column in schema.names if schema.names.count(column) > 1})
    if repeated:
        return "; ".join(REPEATED_COLUMN.format(path=path, column=column) for column in repeated)
    optional = OPTIONAL_COLUMNS.get(name, ())
    absent = [column for column in SCHEMAS[name].names if column not in found and column not in optional]
    if not absent:
        wrong = [
            WRONG_TYPES.format(path=path, column=field.name, found=schema.field(field.name).type, expected=field.type)
            for field in SCHEMAS[name]
            if field.name in found and _kind(schema.field(field.name).type) != _kind(field.type)
        ]
        return "; ".join(wrong) or None
    problem = MISSING_COLUMNS.format(path=path, columns=", ".join(absent))
    return problem + NO_ANSWERS if name == "diary" and "answers" in absent else problem


def _kind(arrow_type: pa.DataType) -> str:
    """What a column holds, whatever its width or encoding: a file may store hours as whole numbers or a count as
    int32, text dictionary-encoded, not a date or a number as text."""
    import pyarrow as pa

    if pa.types.is_dictionary(arrow_type):
        arrow_type = arrow_type.value_type
    for kind, test in (
        ("number", lambda t: pa.types.is_integer(t) or pa.types.is_floating(t)),
        ("text", lambda t: pa.types.is_string(t) or pa.types.is_large_string(t)),
        ("date", pa.types.is_date),
        ("boolean", pa.types.is_boolean),
    ):
        if test(arrow_type):
            return kind
    return str(arrow_type)


def arrow_cohort(connection: BaseBackend, tables: Mapping[str, pa.Table]) -> dict[str, ir.Table]:
    """In-memory Arrow tables (a clinic's own rows) as the cohort's tables on ``connection``, for
    ``report.cohort_report_of``. Every table of ``tables.TABLES`` must be there with its schema's columns, in order
    (``CohortSourceError`` lists what is not); they are copied into the backend, so the caller may drop them.
    Columns the files never leave empty may hold nulls here (a visit with HIT-6 but no MIDAS); the rules read them
    as missing. The diary's ``DIARY_REQUIRED_COLUMNS`` may not (a problem names each column with blanks)."""
    import pyarrow as pa

    from onaboard.cohort.tables import DIARY_REQUIRED_COLUMNS, SCHEMAS, TABLES

    problems = [MISSING_TABLE.format(path=name, tables=", ".join(TABLES)) for name in TABLES if name not in tables]
    problems += [
        WRONG_COLUMNS.format(table=name, found=tables[name].column_names, expected=SCHEMAS[name].names)
        for name in TABLES
        if name in tables and tables[name].column_names != SCHEMAS[name].names
    ]
    if not problems:
        diary = tables["diary"]
        problems = _blank_problems("diary", {column: diary[column].null_count for column in DIARY_REQUIRED_COLUMNS})
    if problems:
        raise CohortSourceError(problems)
    result = {}
    for name in TABLES:
        schema = pa.schema([field.with_nullable(True) for field in SCHEMAS[name]])
        result[name] = connection.create_table(f"cohort_{name}", tables[name].cast(schema), temp=True, overwrite=True)
    return result
