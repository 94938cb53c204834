"""Where the cohort rules run: DuckDB (embedded, the default, reading Parquet in place) or Apache Spark.

The same Ibis expressions (rules.py) compile to either. DuckDB suits one machine, up to a registry of some
millions of patient-years; Spark is for a registry that outgrows one machine: run the report under
``spark-submit`` (or with a session already active) and it uses that cluster's session, otherwise a local one.
"""

from __future__ import annotations

import contextlib
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable, Collection, Iterable, Iterator, Mapping

    import ibis.expr.types as ir
    import pyarrow as pa
    from ibis.backends import BaseBackend

__all__ = [
    "AFTER_OBSERVATION",
    "BIRTH_AFTER",
    "BLANK_VALUES",
    "CSV_NOT_READ",
    "DUPLICATE_PATIENT",
    "DUPLICATE_SESSION",
    "DUPLICATE_VISIT",
    "EVENT_BEFORE_FIRST_SESSION",
    "EVENT_BEFORE_ITS_SESSION",
    "FOLLOW_THE_PAIN_ABOVE_SITES",
    "MIDAS_OUT_OF_RANGE",
    "MIDAS_PAIR_OUT_OF_RANGE",
    "MISSING_COLUMNS",
    "MISSING_TABLE",
    "NEGATIVE_COUNT",
    "NOT_A_DIRECTORY",
    "NOT_A_NUMBER",
    "NOT_PARQUET",
    "NO_SUCH_DIRECTORY",
    "OBSERVED_BACKWARDS",
    "OUT_OF_RANGE",
    "OVERFULL_PERIOD",
    "SESSIONS_NOT_NUMBERED",
    "SESSIONS_OUT_OF_ORDER",
    "UNKNOWN_PATIENT",
    "UNKNOWN_SESSION",
    "UNKNOWN_VALUE",
    "UNREADABLE_PARQUET",
    "VISIT_BELOW_ONE",
    "WRONG_COLUMNS",
    "WRONG_TYPES",
    "CohortSourceError",
    "Engine",
    "arrow_cohort",
    "check_arrow_cohort",
    "connect",
    "read_cohort",
    "rows_text",
]

NOT_A_DIRECTORY = "{path}: not a directory"
NO_SUCH_DIRECTORY = "{path}: no such directory"
MISSING_TABLE = "{path}: missing (a cohort directory holds {tables} as Parquet)"
CSV_NOT_READ = (
    "{directory}: holds {names} as CSV, but the report reads the tables as Parquet only: write each as "
    "<table>.parquet (src/onaboard/cohort/tables.py holds the schema)"
)
MISSING_COLUMNS = "{path}: missing columns {columns} (src/onaboard/cohort/tables.py holds the schema)"
NO_ANSWERS = (
    "; a diary written before the packed answers column gets it from onaboard.cohort.tables.with_answers "
    "(docs/cohort.md)"
)
BLANK_VALUES = "{table}: {column} is blank in {rows}; every row needs it"
NOT_PARQUET = "{path}: cannot be read as Parquet ({reason})"
WRONG_COLUMNS = "{table}: columns {found} differ from the schema's {expected}"
WRONG_TYPES = "{path}: column {column} holds {found}, the schema's {expected} (src/onaboard/cohort/tables.py)"
REPEATED_COLUMN = "{path}: column {column} appears more than once"
OVERFULL_PERIOD = (
    "{table}: patient {patient_id} has {days_recorded} rows for {dates_recorded} dates in the 28-day period from "
    "{start} (a date written twice, first {date}); the diary holds one row per patient and date"
)
DUPLICATE_PATIENT = "{table}: patient_id {patient_id} is on {count} rows; the table holds one row per patient"
UNKNOWN_PATIENT = "{table}: {rows} with a patient_id that patients lacks, such as {patient_id}"
UNKNOWN_VALUE = "{table}: column {column} holds {value!r}, not one of {allowed}"
OUT_OF_RANGE = "{table}: column {column} holds {value}, outside {low}-{high}"
NOT_A_NUMBER = (
    "{table}: column {column} holds NaN (not a number) for patient {patient_id} on {date} ({rows} in all); a "
    "missing value is no number of hours, and a day not recorded has no row"
)
NEGATIVE_COUNT = "{table}: column {column} holds {value} for {where}, below 0 ({rows} in all)"
FOLLOW_THE_PAIN_ABOVE_SITES = (
    "{table}: patient {patient_id}'s session {session_number} has {follow_the_pain_sites} follow-the-pain sites, more "
    "than its {sites} sites (follow_the_pain_sites counts some of those sites; {rows} in all)"
)
MIDAS_OUT_OF_RANGE = (
    "{table}: column {column} holds {value} for patient {patient_id} at visit {visit}, outside {low}-{high} "
    "({rows} in all)"
)
MIDAS_PAIR_OUT_OF_RANGE = (
    "{table}: {first} + {second} is {value} days for patient {patient_id} at visit {visit}, more than the "
    "{high} days of the 3 months asked about ({second} excludes {first}'s days; {rows} in all)"
)
BIRTH_AFTER = (
    "{table}: birth_date {birth_date} of patient {patient_id} is after their {column} {day}, an age below 0 "
    "({patients} in all)"
)
OBSERVED_BACKWARDS = (
    "{table}: observed_until {until} of patient {patient_id} is before their observed_from {start} ({patients} in all)"
)
DUPLICATE_SESSION = (
    "{table}: patient {patient_id} has session_number {session_number} on {count} rows; a patient's sessions are "
    "numbered once each ({patients} in all)"
)
DUPLICATE_VISIT = (
    "{table}: patient {patient_id} has visit {visit} on {count} rows; a patient's visits are recorded once each "
    "({patients} in all)"
)
UNKNOWN_SESSION = (
    "{table}: patient {patient_id}'s {event} on {onset_date} names session_number {session_number}, which sessions "
    "lacks for them ({rows} in all)"
)
EVENT_BEFORE_FIRST_SESSION = (
    "{table}: patient {patient_id}'s {event} began on {onset_date}, before their first session on {first_date}; an "
    "adverse event follows a session ({rows} in all)"
)
EVENT_BEFORE_ITS_SESSION = (
    "{table}: patient {patient_id}'s {event} began on {onset_date}, before session {session_number} on "
    "{session_date}, which it names; an adverse event names the session it followed ({rows} in all)"
)
SESSIONS_OUT_OF_ORDER = (
    "{table}: patient {patient_id}'s session {later} on {later_date} is dated before session {earlier} on "
    "{earlier_date}; session numbers follow the session dates ({patients} in all)"
)

SESSIONS_NOT_NUMBERED = (
    "{table}: patient {patient_id}'s {count} sessions are numbered {first} to {last}; a patient's sessions are "
    "numbered 1, 2, 3 ... in date order, as the report reads the first two cycles ({patients} in all)"
)
VISIT_BELOW_ONE = (
    "{table}: patient {patient_id} has visit {visit}; visits are numbered from 1, the baseline, as the report reads "
    "them ({rows} in all)"
)
AFTER_OBSERVATION = (
    "{table}: patient {patient_id}'s {column} {day} is after their observed_until {until}; a registry's rows end "
    "where its observation of the patient does ({rows} in all)"
)
UNREADABLE_PARQUET = (
    "{path}: cannot be read as Parquet ({reason}); the file is damaged or not written whole: write it again"
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
    or wrong (a file, a column, a column of the wrong kind, a value a non-nullable column leaves blank, a value
    outside the schema's vocabulary or range, a patient on two rows of ``patients``, a row naming a patient
    ``patients`` lacks). A file written before one of ``tables.OPTIONAL_COLUMNS`` is read with that column null (a
    sessions table without ``follow_the_pain_sites``: the report marks the follow-the-pain share not recorded).

    The diary (tens of millions of rows) is judged from its footer: blanks from its null counts, the hours and
    ``answers`` from their minimum and maximum, so a valid file costs little more to read; its hours alone are
    scanned once, for NaN, which the footer's minimum and maximum leave out. The four small tables are read for their
    ids, coded values, counts, dates and session numbers. Adverse-event codes are the label's (calibration.toml), but
    in a clinic's export (``export.json``), whose kinds of side effect are its own."""
    from onaboard.cohort.export import read_manifest
    from onaboard.cohort.tables import TABLES

    if not directory.is_dir():
        template = NOT_A_DIRECTORY if directory.exists() else NO_SUCH_DIRECTORY
        raise CohortSourceError([template.format(path=directory)])
    paths = {name: directory / f"{name}.parquet" for name in TABLES}
    absent = [name for name, path in paths.items() if not path.is_file()]
    if absent:
        raise CohortSourceError(_missing_problems(directory, absent))
    problems = [problem for name, path in paths.items() if (problem := _column_problem(name, path))]
    if not problems:
        problems = [
            problem
            for name, path in paths.items()
            for problem in _blank_problems(str(path), _parquet_null_counts(path, _required_columns(name)))
        ]
    if not problems:
        diary = paths["diary"]
        with _page_damage_refused(diary):
            problems = _diary_range_problems(
                str(diary), lambda column: _parquet_min_max(diary, column), lambda column: _parquet_nans(diary, column)
            )
        small = {}
        for name, path in paths.items():
            if name != "diary":
                with _page_damage_refused(path):
                    small[name] = _read_checked(name, path)
        events = None if read_manifest(directory) is not None else _label_events()
        problems += _value_problems(small, events=events, names={name: str(paths[name]) for name in small})
    if problems:
        raise CohortSourceError(problems)
    return {name: _with_optional_columns(name, connection.read_parquet(str(path))) for name, path in paths.items()}


@contextlib.contextmanager
def _page_damage_refused(path: Path | str) -> Iterator[None]:
    """Reading ``path`` inside: a file whose footer reads but whose pages do not (a copy cut short, a flipped byte)
    is refused as a ``CohortSourceError`` naming it, not a traceback (pyarrow's ``OSError`` or ``ArrowException``)."""
    import pyarrow

    try:
        yield
    except (OSError, pyarrow.ArrowException) as error:
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise CohortSourceError([UNREADABLE_PARQUET.format(path=path, reason=reason)]) from None


def _missing_problems(directory: Path, absent: Iterable[str]) -> list[str]:
    """The tables ``absent`` as Parquet: one problem saying so once where some of them are there as CSV (the report
    reads Parquet only), and one per table found in neither form."""
    from onaboard.cohort.tables import TABLES

    tables = ", ".join(TABLES)
    as_csv = [name for name in absent if (directory / f"{name}.csv").is_file()]
    problems = []
    if as_csv:
        names = ", ".join(f"{name}.csv" for name in as_csv)
        problems.append(CSV_NOT_READ.format(directory=directory, names=names))
    problems += [
        MISSING_TABLE.format(path=directory / f"{name}.parquet", tables=tables) for name in absent if name not in as_csv
    ]
    return problems


def rows_text(count: int, noun: str = "row") -> str:
    """``count`` of ``noun`` in words: "1 row", "3 rows"."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


_CHECKED_COLUMNS: Mapping[str, tuple[str, ...]] = {
    "patients": ("sex", "birth_date", "observed_from", "observed_until", "prior_preventives_failed"),
    "sessions": ("session_number", "session_date", "dose_units", "sites", "follow_the_pain_sites"),
    "adverse_events": ("session_number", "onset_date", "event"),
}
"""The columns besides ``patient_id`` that ``_value_problems`` checks in each small table (the PROM's below)."""


def _read_checked(name: str, path: Path) -> pa.Table:
    """The columns of a small table ``_value_problems`` checks: its patient ids, coded values, dates, session numbers
    and MIDAS answers. The four tables hold a row per patient, session or 12-weekly visit, so reading them whole costs
    little beside the diary; the MIDAS pairs (Q1 + Q2) and naming the patient need the rows, not the footer."""
    import pyarrow.parquet as pq

    from onaboard.cohort.tables import HIT6_ITEM_COLUMNS, MIDAS_COLUMNS

    checked = {**_CHECKED_COLUMNS, "prom": ("visit", "assessed_on", *HIT6_ITEM_COLUMNS, *MIDAS_COLUMNS)}
    present = set(pq.read_schema(path).names)  # an optional column the file was written before is left out
    return pq.read_table(path, columns=["patient_id", *(c for c in checked.get(name, ()) if c in present)])


def _label_events() -> frozenset[str]:
    """The adverse-event codes of the label's table (calibration.toml)."""
    from onaboard.cohort.calibration import calibration

    return frozenset(row.event for row in calibration().adverse_reactions)


def _required_columns(name: str) -> tuple[str, ...]:
    """The columns of table ``name`` no row of a file may leave blank: the schema's non-nullable ones, but for the
    PROM's HIT-6 and MIDAS answers (a clinic's visit may hold one questionnaire without the other)."""
    from onaboard.cohort.tables import HIT6_ITEM_COLUMNS, MIDAS_COLUMNS, SCHEMAS

    answered = {*HIT6_ITEM_COLUMNS, *MIDAS_COLUMNS} if name == "prom" else set()
    return tuple(field.name for field in SCHEMAS[name] if not field.nullable and field.name not in answered)


def _diary_range_problems(
    table: str, min_max: Callable[[str], tuple[Any, Any]], nans: Callable[[str], tuple[int, Mapping[str, Any]]]
) -> list[str]:
    """The diary's NaN in a float column (the hours: what Spark and Polars write for a missing float; a minimum and
    maximum leave NaN out, and the rules' comparisons put it above every number, a day of 4 hours or more), its hours
    outside 0-``MAX_HEADACHE_HOURS`` (diary contract) and ``answers`` outside the codes ``tables.with_answers``
    writes, and an ``intensity`` outside the range of its three words, judged from each column's minimum and maximum
    (``min_max``). ``nans`` gives a column's NaN count and the first such row's ``patient_id`` and ``date``."""
    from onaboard.clinical.diary import MAX_HEADACHE_HOURS
    from onaboard.cohort.tables import DIARY_SCHEMA, INTENSITY_BITS, INTENSITY_CODES, INTENSITY_SHIFT

    words = sorted(name for name in INTENSITY_CODES if name is not None)
    bounds = {
        "headache_hours": (0, int(MAX_HEADACHE_HOURS)),
        "answers": (0, (1 << (INTENSITY_SHIFT + INTENSITY_BITS)) - 1),
    }
    problems = []
    for field in DIARY_SCHEMA:
        if _kind(field.type) == "number":
            count, first = nans(field.name)
            if count:
                problems.append(NOT_A_NUMBER.format(table=table, column=field.name, **first, rows=rows_text(count)))
    for column, (low, high) in bounds.items():
        least, most = min_max(column)
        for value in (least, most):
            if value is not None and value == value and not low <= value <= high:  # noqa: PLR0124 - NaN is not itself
                problems.append(OUT_OF_RANGE.format(table=table, column=column, value=value, low=low, high=high))
                break
    least, most = min_max("intensity")
    for value in (least, most):
        if value is not None and not words[0] <= value <= words[-1]:
            problems.append(UNKNOWN_VALUE.format(table=table, column="intensity", value=value, allowed=words))
            break
    return problems


def _parquet_min_max(path: Path, column: str) -> tuple[Any, Any]:
    """The column's least and greatest value, from the file's row-group statistics; a column written without them
    is read instead. (None, None) when it holds no value."""
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    parquet = pq.ParquetFile(path)
    index = parquet.schema_arrow.get_field_index(column)
    chunks = [parquet.metadata.row_group(group).column(index).statistics for group in range(parquet.num_row_groups)]
    if all(stats is not None and stats.has_min_max for stats in chunks):
        if not chunks:
            return None, None
        return min(stats.min for stats in chunks), max(stats.max for stats in chunks)
    found = pc.min_max(parquet.read(columns=[column]).column(column))
    return found["min"].as_py(), found["max"].as_py()


def _parquet_nans(path: Path, column: str) -> tuple[int, dict[str, Any]]:
    """How many rows of the diary file hold NaN in ``column``, and the first of them (by patient and date): its
    ``patient_id`` and ``date``. The footer's statistics leave NaN out, so the column is read, a batch at a time (a
    few MB of memory whatever the file's size); the rows are read only when there is one. (Not DuckDB: it trusts
    those statistics, and finds no NaN, nor any value above their maximum.) A column the file holds as whole
    numbers holds none."""
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    parquet = pq.ParquetFile(path)
    if _kind(parquet.schema_arrow.field(column).type) != "number":
        return 0, {}
    batches = parquet.iter_batches(batch_size=_NAN_BATCH_ROWS, columns=[column])
    if not any(pc.any(pc.is_nan(batch.column(0))).as_py() for batch in batches):
        return 0, {}
    return _arrow_nans(parquet.read(columns=["patient_id", "date", column]), column)


_NAN_BATCH_ROWS = 1 << 20
"""Rows per batch of ``_parquet_nans`` (8 MB of float64 hours)."""


def _arrow_nans(diary: pa.Table, column: str) -> tuple[int, dict[str, Any]]:
    """``_parquet_nans`` of a diary handed over in memory."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if _kind(diary[column].type) != "number":
        return 0, {}
    nan = pc.is_nan(diary[column])
    count = pc.sum(pc.cast(pc.fill_null(nan, False), pa.int64())).as_py() or 0
    if not count:
        return 0, {}
    row, _ = _first_where(_plain(diary, ("patient_id", "date")), nan, ["patient_id", "date"])
    return count, row


def _arrow_min_max(values: pa.ChunkedArray) -> tuple[Any, Any]:
    import pyarrow.compute as pc

    found = pc.min_max(values)
    return found["min"].as_py(), found["max"].as_py()


def _first(values: pa.Array | pa.ChunkedArray) -> Any:
    """The least of ``values`` (an example to name, the same on every run)."""
    import pyarrow.compute as pc

    return pc.min(values).as_py()


def _value_problems(
    tables: Mapping[str, pa.Table], *, events: Collection[str] | None, names: Mapping[str, str] | None = None
) -> list[str]:
    """What the small tables (``patients``, ``sessions``, ``prom``, ``adverse_events``) hold that the rules would
    misread: a ``patient_id`` on two rows of ``patients`` (a join would count the patient twice), a row of another
    table naming a patient ``patients`` lacks (treated patients outnumbering the patients), a coded value
    outside the schema's vocabulary (``sex``, the HIT-6 answers, and with ``events`` the adverse-event codes: "F"
    or "Never" would count as neither women nor an answer), impossible dates (``_date_problems``), session numbers
    the session dates contradict (``_session_problems``), counts that cannot be (``_count_problems``), MIDAS answers
    outside the engine's limits (``_midas_problems``), a visit on two rows (``_visit_problems``) and adverse events
    following no session (``_event_problems``). ``names`` names each table in the problems."""
    import pyarrow as pa
    import pyarrow.compute as pc

    from onaboard.clinical import Hit6Answer
    from onaboard.cohort.tables import HIT6_ITEM_COLUMNS, SEX_VALUES

    named = names or {name: name for name in tables}
    problems = []
    ids = tables["patients"]["patient_id"]
    counted = pa.table({"patient_id": ids}).group_by("patient_id").aggregate([("patient_id", "count")])
    repeated = counted.filter(pc.greater(counted["patient_id_count"], 1)).sort_by("patient_id")
    if repeated.num_rows:
        first = repeated.slice(0, 1).to_pylist()[0]
        problems.append(
            DUPLICATE_PATIENT.format(
                table=named["patients"], patient_id=first["patient_id"], count=first["patient_id_count"]
            )
        )
    known = pc.cast(ids, pa.string()).combine_chunks()
    for name in ("sessions", "prom", "adverse_events"):
        column = tables[name]["patient_id"]
        unknown = column.filter(pc.invert(pc.is_in(column, value_set=known)))
        if len(unknown):
            problems.append(
                UNKNOWN_PATIENT.format(table=named[name], rows=rows_text(len(unknown)), patient_id=_first(unknown))
            )
    vocabularies = [("patients", "sex", tuple(SEX_VALUES))]
    vocabularies += [("prom", column, tuple(answer.value for answer in Hit6Answer)) for column in HIT6_ITEM_COLUMNS]
    if events is not None:
        vocabularies.append(("adverse_events", "event", tuple(sorted(events))))
    for name, column, allowed in vocabularies:
        values = tables[name][column]
        outside = values.filter(pc.invert(pc.fill_null(pc.is_in(values, value_set=pa.array(allowed)), True)))
        if len(outside):
            problems.append(
                UNKNOWN_VALUE.format(table=named[name], column=column, value=_first(outside), allowed=list(allowed))
            )
    # Grouped once, read by three checks: each patient's first session, and each patient's session numbers.
    sessions = _plain(tables["sessions"], ("patient_id", "session_number", "session_date"))
    firsts = sessions.group_by("patient_id").aggregate([("session_date", "min")])
    numbered = sessions.group_by(["patient_id", "session_number"]).aggregate([("session_date", "count")])
    problems += _date_problems(tables["patients"], firsts, named["patients"])
    problems += _session_problems(sessions, numbered, named["sessions"])
    problems += _count_problems(tables["patients"], tables["sessions"], named)
    problems += _midas_problems(tables["prom"], named["prom"])
    problems += _visit_problems(tables["prom"], named["prom"])
    problems += _event_problems(tables["adverse_events"], firsts, sessions, named["adverse_events"])
    problems += _after_observation_problems(tables, named)
    return problems


def _after_observation_problems(tables: Mapping[str, pa.Table], named: Mapping[str, str]) -> list[str]:
    """Sessions, visits and adverse events dated after the patient's ``observed_until``: a session 400 days after
    it counted as an overdue repeat, and the report's drop-out gap (``observed_until`` less the last diary day)
    reads only what observation holds. One problem per table, naming the least such patient and row. (The diary's
    own rows are checked by the report, from its per-period grid: ``cohort_report_of``.)"""
    import pyarrow.compute as pc

    until = _plain(tables["patients"], ("patient_id", "observed_from", "observed_until"))
    until = until.filter(pc.greater_equal(until["observed_until"], until["observed_from"]))  # else refused as such
    until = until.select(["patient_id", "observed_until"])
    problems = []
    for name, column in (("sessions", "session_date"), ("prom", "assessed_on"), ("adverse_events", "onset_date")):
        if column not in tables[name].column_names:  # a clinic's export without the column is not read for it
            continue
        rows = _plain(tables[name], ("patient_id", column)).join(until, "patient_id")
        row, count = _first_where(rows, pc.greater(rows[column], rows["observed_until"]), ["patient_id", column])
        if count:
            problems.append(
                AFTER_OBSERVATION.format(
                    table=named[name],
                    patient_id=row["patient_id"],
                    column=column,
                    day=row[column],
                    until=row["observed_until"],
                    rows=rows_text(count),
                )
            )
    return problems


def _plain(table: pa.Table, columns: Iterable[str]) -> pa.Table:
    """``columns`` of ``table`` as plain Arrow types the checks compare: text undictionaried, dates as date32 (a
    file may hold either width, ``_kind``), whole numbers as int64 (a sum of two int16 answers cannot wrap)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    result = {}
    for column in columns:
        values = table[column]
        kind = values.type.value_type if pa.types.is_dictionary(values.type) else values.type
        if pa.types.is_dictionary(values.type):
            values = pc.cast(values, kind)
        if pa.types.is_date(kind):
            values = pc.cast(values, pa.date32())
        elif pa.types.is_integer(kind):
            values = pc.cast(values, pa.int64())
        result[column] = values
    return pa.table(result)


def _first_where(table: pa.Table, mask: pa.ChunkedArray | pa.Array, order: list[str]) -> tuple[dict[str, Any], int]:
    """The first row of ``table`` (by ``order``) where ``mask`` holds (a null is no), and how many rows do; an empty
    dict and 0 where none does."""
    import pyarrow.compute as pc

    chosen = table.filter(pc.fill_null(mask, False))
    if not chosen.num_rows:
        return {}, 0
    return chosen.sort_by([(column, "ascending") for column in order]).slice(0, 1).to_pylist()[0], chosen.num_rows


def _date_problems(patients: pa.Table, firsts: pa.Table, table: str) -> list[str]:
    """Dates of ``patients`` that cannot be: a birth after the start of observation or after the patient's first
    session (``firsts``: ``session_date_min`` per ``patient_id``; a negative age reaches every age figure), and the
    end of observation before its start. Each problem names the least such patient and how many there are."""
    import pyarrow.compute as pc

    people = _plain(patients, ("patient_id", "birth_date", "observed_from", "observed_until"))
    people = people.join(firsts, "patient_id", join_type="left outer")
    problems = []
    for column, day in (("observed_from", "observed_from"), ("first session", "session_date_min")):
        row, count = _first_where(people, pc.greater(people["birth_date"], people[day]), ["patient_id"])
        if count:
            problems.append(
                BIRTH_AFTER.format(
                    table=table,
                    birth_date=row["birth_date"],
                    patient_id=row["patient_id"],
                    column=column,
                    day=row[day],
                    patients=rows_text(count, "patient"),
                )
            )
    row, count = _first_where(people, pc.less(people["observed_until"], people["observed_from"]), ["patient_id"])
    if count:
        problems.append(
            OBSERVED_BACKWARDS.format(
                table=table,
                until=row["observed_until"],
                patient_id=row["patient_id"],
                start=row["observed_from"],
                patients=rows_text(count, "patient"),
            )
        )
    return problems


def _session_problems(rows: pa.Table, counted: pa.Table, table: str) -> list[str]:
    """Session numbers the report cannot trust: a number on two rows of one patient, a higher number dated before a
    lower one, and numbers that are not 1 to n (the report orders repeat sessions, and attributes adverse events to
    the first two cycles, by number: sessions numbered from 3, as a lifetime count, read no event at all). ``rows``
    are the sessions' ``_plain`` patient, number and date; ``counted`` their rows (``session_date_count``) per
    patient and number. Each problem names the least such patient and how many patients there are."""
    import pyarrow as pa
    import pyarrow.compute as pc

    problems = []
    row, _ = _first_where(counted, pc.greater(counted["session_date_count"], 1), ["patient_id", "session_number"])
    if row:
        repeated = counted.filter(pc.greater(counted["session_date_count"], 1))
        problems.append(
            DUPLICATE_SESSION.format(
                table=table,
                patient_id=row["patient_id"],
                session_number=row["session_number"],
                count=row["session_date_count"],
                patients=rows_text(len(pc.unique(repeated["patient_id"])), "patient"),
            )
        )
    ordered = rows.sort_by(
        [("patient_id", "ascending"), ("session_number", "ascending"), ("session_date", "ascending")]
    )
    if ordered.num_rows > 1:
        earlier, later = ordered.slice(0, ordered.num_rows - 1), ordered.slice(1)
        backwards = pc.and_(
            pc.equal(later["patient_id"], earlier["patient_id"]),
            pc.less(later["session_date"], earlier["session_date"]),
        )
        pairs = pa.table(
            {
                "patient_id": later["patient_id"],
                "later": later["session_number"],
                "later_date": later["session_date"],
                "earlier": earlier["session_number"],
                "earlier_date": earlier["session_date"],
            }
        )
        row, _ = _first_where(pairs, backwards, ["patient_id", "later"])
        if row:
            patients = len(pc.unique(pairs.filter(backwards)["patient_id"]))
            problems.append(SESSIONS_OUT_OF_ORDER.format(table=table, **row, patients=rows_text(patients, "patient")))
    spans = rows.group_by("patient_id").aggregate(
        [("session_number", "min"), ("session_number", "max"), ("session_number", "count")]
    )
    gapped = pc.or_(
        pc.not_equal(spans["session_number_min"], 1),
        pc.not_equal(spans["session_number_max"], spans["session_number_count"]),
    )
    row, count = _first_where(spans, gapped, ["patient_id"])
    if count and not problems:  # numbers on two rows already break the count; say that first
        problems.append(
            SESSIONS_NOT_NUMBERED.format(
                table=table,
                patient_id=row["patient_id"],
                count=row["session_number_count"],
                first=row["session_number_min"],
                last=row["session_number_max"],
                patients=rows_text(count, "patient"),
            )
        )
    return problems


def _count_problems(patients: pa.Table, sessions: pa.Table, named: Mapping[str, str]) -> list[str]:
    """Counts that cannot be: failed preventives, units, sites or follow-the-pain sites below 0, and more
    follow-the-pain sites than sites (checked where both are 0 or more; they are some of the session's sites, and
    the follow-the-pain share counts them). A blank follow-the-pain count is not known, and a sessions file written
    before the column lacks it. One problem per column, naming the least such patient (and session) and how many rows
    there are."""
    import pyarrow.compute as pc

    people = _plain(patients, ("patient_id", "prior_preventives_failed"))
    row, count = _first_where(people, pc.less(people["prior_preventives_failed"], 0), ["patient_id"])
    problems = []
    if count:
        problems.append(
            NEGATIVE_COUNT.format(
                table=named["patients"],
                column="prior_preventives_failed",
                value=row["prior_preventives_failed"],
                where=f"patient {row['patient_id']}",
                rows=rows_text(count),
            )
        )
    columns = [column for column in ("dose_units", "sites", "follow_the_pain_sites") if column in sessions.column_names]
    rows = _plain(sessions, ("patient_id", "session_number", *columns))
    order = ["patient_id", "session_number"]
    for column in columns:
        row, count = _first_where(rows, pc.less(rows[column], 0), order)
        if count:
            problems.append(
                NEGATIVE_COUNT.format(
                    table=named["sessions"],
                    column=column,
                    value=row[column],
                    where=f"patient {row['patient_id']}'s session {row['session_number']}",
                    rows=rows_text(count),
                )
            )
    if "follow_the_pain_sites" in columns:
        sites, extra = rows["sites"], rows["follow_the_pain_sites"]
        above = pc.and_(pc.and_(pc.greater_equal(extra, 0), pc.greater(extra, sites)), pc.greater_equal(sites, 0))
        row, count = _first_where(rows, above, order)
        if count:
            problems.append(FOLLOW_THE_PAIN_ABOVE_SITES.format(table=named["sessions"], **row, rows=rows_text(count)))
    return problems


def _visit_problems(prom: pa.Table, table: str) -> list[str]:
    """A visit numbered below 1 (the report reads visit 1 as the baseline and 3 as week 24: a registry counting from
    0 read its baseline HIT-6 from the wrong visit), and a visit on two rows of one patient's PROM (the week-24 HIT-6
    change took the larger total and the MIDAS grades counted the patient twice). Each names the least such patient
    and visit and how many there are."""
    import pyarrow.compute as pc

    rows = _plain(prom, ("patient_id", "visit"))
    problems = []
    row, count = _first_where(rows, pc.less(rows["visit"], 1), ["patient_id", "visit"])
    if count:
        problems.append(
            VISIT_BELOW_ONE.format(table=table, patient_id=row["patient_id"], visit=row["visit"], rows=rows_text(count))
        )
    counted = rows.group_by(["patient_id", "visit"]).aggregate([("visit", "count")])
    repeated = pc.greater(counted["visit_count"], 1)
    row, count = _first_where(counted, repeated, ["patient_id", "visit"])
    if not count:
        return problems
    patients = len(pc.unique(counted.filter(repeated)["patient_id"]))
    return [
        *problems,
        DUPLICATE_VISIT.format(
            table=table,
            patient_id=row["patient_id"],
            visit=row["visit"],
            count=row["visit_count"],
            patients=rows_text(patients, "patient"),
        ),
    ]


def _event_problems(events: pa.Table, firsts: pa.Table, sessions: pa.Table, table: str) -> list[str]:
    """Adverse events that follow no session: one naming a session number the patient's sessions (``sessions``:
    patient, number and date) lack (it dropped out of the label comparison, which counts events after sessions 1
    and 2), one beginning before the patient's first session (``firsts``), and one beginning before the session it
    names (an event of cycle 1 named after session 3 left the label comparison too). One problem each, naming the
    least such patient and event and how many rows there are."""
    import pyarrow as pa
    import pyarrow.compute as pc

    rows = _plain(events, ("patient_id", "session_number", "onset_date", "event"))
    known = sessions.select(["patient_id", "session_number"]).append_column("known", pa.repeat(True, len(sessions)))
    known = known.append_column("named_date", sessions["session_date"])
    # Right outer: the hash table is built on the events, the smaller side.
    joined = known.join(rows, ["patient_id", "session_number"], join_type="right outer")
    joined = joined.join(firsts, "patient_id", join_type="left outer")
    early = pc.fill_null(pc.less(joined["onset_date"], joined["session_date_min"]), False)
    before_named = pc.and_(pc.invert(early), pc.less(joined["onset_date"], joined["named_date"]))
    by_session, by_onset = (
        ["patient_id", "session_number", "onset_date"],
        ["patient_id", "onset_date", "session_number"],
    )
    checks = (
        (pc.is_null(joined["known"]), by_session, UNKNOWN_SESSION, {"session_number": "session_number"}),
        (early, by_onset, EVENT_BEFORE_FIRST_SESSION, {"first_date": "session_date_min"}),
        (
            before_named,
            by_onset,
            EVENT_BEFORE_ITS_SESSION,
            {"session_number": "session_number", "session_date": "named_date"},
        ),
    )
    problems = []
    for mask, order, template, named in checks:
        row, count = _first_where(joined, mask, order)
        if count:
            extra = {name: row[column] for name, column in named.items()}
            problems.append(
                template.format(
                    table=table,
                    patient_id=row["patient_id"],
                    event=row["event"],
                    onset_date=row["onset_date"],
                    rows=rows_text(count),
                    **extra,
                )
            )
    return problems


def _midas_problems(prom: pa.Table, table: str) -> list[str]:
    """MIDAS answers outside the engine's limits (``onaboard.clinical.midas_score``): Q1-Q5 and A 0 to
    ``MIDAS_MAX_DAYS`` days, B 0 to ``MIDAS_MAX_PAIN``, and Q1 + Q2 or Q3 + Q4 at most ``MIDAS_MAX_DAYS`` (Q2 and Q4
    exclude Q1's and Q3's days), checked where both answers are in range. A blank is no answer. One problem per
    column or pair, naming the least such patient and visit and how many rows there are."""
    import pyarrow.compute as pc

    from onaboard.clinical import MIDAS_MAX_DAYS, MIDAS_MAX_PAIN
    from onaboard.cohort.tables import MIDAS_COLUMNS

    rows = _plain(prom, ("patient_id", "visit", *MIDAS_COLUMNS))
    order = ["patient_id", "visit"]
    problems = []
    inside = {}
    for column in MIDAS_COLUMNS:
        high = MIDAS_MAX_PAIN if column == "midas_b" else MIDAS_MAX_DAYS
        values = rows[column]
        inside[column] = pc.and_(pc.greater_equal(values, 0), pc.less_equal(values, high))
        row, count = _first_where(rows, pc.invert(inside[column]), order)
        if count:
            problems.append(
                MIDAS_OUT_OF_RANGE.format(
                    table=table,
                    column=column,
                    value=row[column],
                    patient_id=row["patient_id"],
                    visit=row["visit"],
                    low=0,
                    high=high,
                    rows=rows_text(count),
                )
            )
    for first, second in (("midas_q1", "midas_q2"), ("midas_q3", "midas_q4")):
        total = pc.add(rows[first], rows[second])
        too_many = pc.and_(pc.and_(inside[first], inside[second]), pc.greater(total, MIDAS_MAX_DAYS))
        row, count = _first_where(rows.append_column("total", total), too_many, order)
        if count:
            problems.append(
                MIDAS_PAIR_OUT_OF_RANGE.format(
                    table=table,
                    first=first,
                    second=second,
                    value=row["total"],
                    patient_id=row["patient_id"],
                    visit=row["visit"],
                    high=MIDAS_MAX_DAYS,
                    rows=rows_text(count),
                )
            )
    return problems


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
    """One problem per column of ``null_counts`` that holds blanks."""
    return [
        BLANK_VALUES.format(table=table, rows=rows_text(count), column=column)
        for column, count in null_counts.items()
        if count
    ]


def _parquet_null_counts(path: Path, columns: Iterable[str]) -> dict[str, int]:
    """Blanks per column of ``columns`` the file holds, from its row-group statistics (its footer); a column
    written without them is read and counted instead."""
    import pyarrow.parquet as pq

    parquet = pq.ParquetFile(path)
    counts = {}
    for column in columns:
        index = parquet.schema_arrow.get_field_index(column)
        if index < 0:  # an optional column the file was written before
            continue
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
            if field.name in found and not _fits(schema.field(field.name).type, field.type)
        ]
        return "; ".join(wrong) or None
    problem = MISSING_COLUMNS.format(path=path, columns=", ".join(absent))
    return problem + NO_ANSWERS if name == "diary" and "answers" in absent else problem


def _fits(found: pa.DataType, expected: pa.DataType) -> bool:
    """Whether a column of type ``found`` holds what the schema's ``expected`` type does: the same kind (``_kind``),
    or whole numbers where the schema has a float (hours stored as whole numbers), never floats where it has an
    integer (``answers`` as a float would break the bit arithmetic of the rules)."""
    kinds = (_kind(found), _kind(expected))
    return kinds[0] == kinds[1] or kinds == ("integer", "number")


def _kind(arrow_type: pa.DataType) -> str:
    """What a column holds, whatever its width or encoding: a file may store a count as int32 and text
    dictionary-encoded, not a date or a number as text, nor a fraction where the schema has an integer."""
    import pyarrow as pa

    if pa.types.is_dictionary(arrow_type):
        arrow_type = arrow_type.value_type
    for kind, test in (
        ("integer", pa.types.is_integer),
        ("number", pa.types.is_floating),
        ("text", lambda t: pa.types.is_string(t) or pa.types.is_large_string(t)),
        ("date", pa.types.is_date),
        ("boolean", pa.types.is_boolean),
    ):
        if test(arrow_type):
            return kind
    return str(arrow_type)


def arrow_cohort(
    connection: BaseBackend, tables: Mapping[str, pa.Table], *, checked: bool = True
) -> dict[str, ir.Table]:
    """In-memory Arrow tables (a clinic's own rows) as the cohort's tables on ``connection``, for
    ``report.cohort_report_of``. Every table of ``tables.TABLES`` must be there with its schema's columns, in order
    (``CohortSourceError`` lists what is not); they are copied into the backend, so the caller may drop them.
    Columns the files never leave empty may hold nulls here (a visit with HIT-6 but no MIDAS); the rules read them
    as missing. The diary's ``DIARY_REQUIRED_COLUMNS`` may not (a problem names each column with blanks). Values
    are checked as ``read_cohort`` checks a directory's, but for the adverse-event codes (a clinic's are its own
    kinds of side effect): ``check_arrow_cohort``. ``checked`` False leaves the values to a later check (the shape
    is always checked): tables made for a past day whose rows after it are still to be cut (``report.cohort_on_day``),
    which ``check_arrow_cohort`` then judges as cut."""
    import pyarrow as pa

    from onaboard.cohort.tables import SCHEMAS, TABLES

    _check_arrow(tables, values=checked)
    result = {}
    for name in TABLES:
        schema = pa.schema([field.with_nullable(True) for field in SCHEMAS[name]])
        result[name] = connection.create_table(f"cohort_{name}", tables[name].cast(schema), temp=True, overwrite=True)
    return result


def check_arrow_cohort(tables: Mapping[str, pa.Table]) -> None:
    """``CohortSourceError`` listing what ``tables`` (a clinic's rows as Arrow) hold that the report would misread:
    ``arrow_cohort``'s checks, shape and values."""
    _check_arrow(tables, values=True)


def _check_arrow(tables: Mapping[str, pa.Table], *, values: bool) -> None:
    from onaboard.cohort.tables import DIARY_REQUIRED_COLUMNS, SCHEMAS, TABLES

    problems = [MISSING_TABLE.format(path=name, tables=", ".join(TABLES)) for name in TABLES if name not in tables]
    problems += [
        WRONG_COLUMNS.format(table=name, found=tables[name].column_names, expected=SCHEMAS[name].names)
        for name in TABLES
        if name in tables and tables[name].column_names != SCHEMAS[name].names
    ]
    if not problems and values:
        diary = tables["diary"]
        problems = _blank_problems("diary", {column: diary[column].null_count for column in DIARY_REQUIRED_COLUMNS})
    if not problems and values:
        problems = _diary_range_problems(
            "diary",
            lambda column: _arrow_min_max(tables["diary"][column]),
            lambda column: _arrow_nans(tables["diary"], column),
        )
        problems += _value_problems({name: tables[name] for name in TABLES if name != "diary"}, events=None)
    if problems:
        raise CohortSourceError(problems)
