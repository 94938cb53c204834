"""The cohort's five tables: their Parquet schemas and file names, and conversions to and from the engine's diary.

A cohort directory holds one Parquet file per table (``patients``, ``diary``, ``sessions``, ``prom``,
``adverse_events``). The diary table is the diary CSV contract (shared/spec/diary-csv.md) in a columnar layout:

- one row per patient per recorded day; a day without a row is *not recorded*, never headache-free;
- ``headache_hours`` is a float (the contract's decimal; comparisons with the engine's thresholds are exact for
  the diary's few decimals), ``intensity`` one of ``mild``, ``moderate``, ``severe`` or null on a 0-hour day;
- the yes/no columns are booleans (false where the contract says blank or no);
- ``acute_medication`` becomes one boolean column per class, ``acute_<class>``, so a class is a column scan
  rather than a string search; ``notes`` is left out (analytics never read it);
- ``answers``, last, packs the day's answers into one integer: bit i is ``DIARY_FLAG_COLUMNS[i]`` and the two bits
  from ``INTENSITY_SHIFT`` hold ``INTENSITY_CODES``. It repeats the columns before it (which stay, for people and
  tools reading the file) so the cohort rules decode one narrow column instead of 18 booleans and a string
  (bench/README.md, cohort section). ``with_answers`` derives it; every writer of the table goes through it
  (``diary_arrow``, ``onaboard synth``, the web app's clinic tables), so the two cannot disagree.

``diary_arrow`` turns engine ``DiaryDay`` values into this layout, ``patient_diaries`` turns it back, and
``diary_csv_table`` writes it as the contract's CSV text columns so ``onaboard assess`` can read it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
from itertools import groupby
from operator import itemgetter
from types import MappingProxyType

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from onaboard.clinical import (
    COLUMNS,
    FEATURE_COLUMNS,
    HIT6_ITEM_COUNT,
    AcuteClass,
    DiaryDay,
    Intensity,
    PatientDiary,
)

__all__ = [
    "ACUTE_COLUMNS",
    "ADVERSE_EVENTS_SCHEMA",
    "DIARY_FLAG_COLUMNS",
    "DIARY_REQUIRED_COLUMNS",
    "DIARY_SCHEMA",
    "DIARY_WRITTEN_SCHEMA",
    "HIT6_ITEM_COLUMNS",
    "INTENSITY_BITS",
    "INTENSITY_CODES",
    "INTENSITY_SHIFT",
    "MIDAS_COLUMNS",
    "OPTIONAL_COLUMNS",
    "PATIENTS_SCHEMA",
    "PROM_SCHEMA",
    "SCHEMAS",
    "SESSIONS_SCHEMA",
    "SEX_UNKNOWN",
    "SEX_VALUES",
    "TABLES",
    "diary_arrow",
    "diary_csv_table",
    "patient_diaries",
    "with_answers",
]

TABLES: tuple[str, ...] = ("patients", "diary", "sessions", "prom", "adverse_events")
"""The tables of a cohort directory; each is ``<name>.parquet`` (and ``<name>.csv`` when asked for)."""

ACUTE_COLUMNS: Mapping[AcuteClass, str] = MappingProxyType({cls: f"acute_{cls.value}" for cls in AcuteClass})
"""The boolean column of each acute-medication class (diary contract ``acute_medication``)."""

DIARY_FLAG_COLUMNS: tuple[str, ...] = (
    *FEATURE_COLUMNS,
    "aura",
    *ACUTE_COLUMNS.values(),
    "acute_relief",
    "believed_migraine",
)
"""Every boolean column of the diary table, in file order; also the bit order of ``answers``."""

INTENSITY_SHIFT = len(DIARY_FLAG_COLUMNS)
"""The first of the ``INTENSITY_BITS`` bits of ``answers`` holding the intensity code, above the flags' bits."""

INTENSITY_BITS = 2
"""Bits of the intensity code in ``answers``."""

INTENSITY_CODES: Mapping[str | None, int] = MappingProxyType(
    {None: 0, **{member.value: code for code, member in enumerate(Intensity, start=1)}}
)
"""The intensity's code in ``answers``: 0 none (a 0-hour day), then mild, moderate, severe."""
if len(INTENSITY_CODES) > 1 << INTENSITY_BITS:
    raise RuntimeError("answers: the intensity codes no longer fit in INTENSITY_BITS")
if INTENSITY_SHIFT + INTENSITY_BITS >= pa.int32().bit_width:  # noqa: SIM300 - reads as "the bits used >= the width"
    raise RuntimeError("answers: the flags and the intensity no longer fit in a signed 32-bit integer")

HIT6_ITEM_COLUMNS: tuple[str, ...] = tuple(f"hit6_{item}" for item in range(1, HIT6_ITEM_COUNT + 1))
"""The six HIT-6 answers (``never`` ... ``always``, the engine's ``Hit6Answer`` values)."""

MIDAS_COLUMNS: tuple[str, ...] = ("midas_q1", "midas_q2", "midas_q3", "midas_q4", "midas_q5", "midas_a", "midas_b")
"""MIDAS Q1-Q5 (days in the last 3 months), A (headache days) and B (average pain 0-10)."""

_ID = pa.field("patient_id", pa.string(), nullable=False)

SEX_UNKNOWN = "unknown"
"""The ``sex`` of a patient whose sex the source does not know: left out of the share of women's denominator."""

SEX_VALUES: tuple[str, ...] = ("female", "male", "other", SEX_UNKNOWN)
"""What ``patients.sex`` may hold (the clinic's record offers the same four; ``backends`` refuses anything else)."""

PATIENTS_SCHEMA = pa.schema(
    [
        _ID,
        pa.field("sex", pa.string(), nullable=False),
        pa.field("birth_date", pa.date32()),
        pa.field("observed_from", pa.date32(), nullable=False),
        pa.field("observed_until", pa.date32(), nullable=False),
        pa.field("prior_preventives_failed", pa.int16(), nullable=False),
        pa.field("prior_preventive_classes", pa.string(), nullable=False),
    ]
)
"""One row per patient: sex (``SEX_VALUES``), birth date, the window the registry observed (``observed_until`` is the
end of follow-up, so a diary that stops well before it is a drop-out), and the preventive history (the number of
preventive medicines that failed and their classes, ``;``-separated)."""

DIARY_SCHEMA = pa.schema(
    [
        _ID,
        pa.field("date", pa.date32(), nullable=False),
        pa.field("headache_hours", pa.float64(), nullable=False),
        pa.field("intensity", pa.string()),
        *(pa.field(name, pa.bool_(), nullable=False) for name in DIARY_FLAG_COLUMNS),
        pa.field("answers", pa.int32(), nullable=False),
    ]
)

DIARY_REQUIRED_COLUMNS: tuple[str, ...] = ("patient_id", "date", "headache_hours", "answers")
"""Diary columns no row may leave blank: the contract requires them, and the cohort rules key every row on them
(``backends`` refuses a diary with blanks there)."""

DIARY_WRITTEN_SCHEMA = pa.schema([field for field in DIARY_SCHEMA if field.name != "answers"])
"""The diary table's columns a writer fills; ``with_answers`` adds ``answers`` to make ``DIARY_SCHEMA``."""

SESSIONS_SCHEMA = pa.schema(
    [
        _ID,
        pa.field("session_number", pa.int16(), nullable=False),
        pa.field("session_date", pa.date32(), nullable=False),
        pa.field("dose_units", pa.int16(), nullable=False),
        pa.field("sites", pa.int16(), nullable=False),
        pa.field("follow_the_pain_sites", pa.int16()),
    ]
)
"""One row per injection session; session 1 is day 0 of the outcome periods. ``sites`` counts the sites given,
``follow_the_pain_sites`` how many of them are follow-the-pain sites (the engine's
``InjectionPlan.follow_the_pain_count``; null where the source does not know). The two are separate because a
session may leave fixed sites out (``InjectionPlan.not_given``): 29 fixed sites and 2 follow-the-pain ones make 31
sites, as many as the paradigm's fixed ones, so the site count cannot tell a follow-the-pain session."""

OPTIONAL_COLUMNS: Mapping[str, tuple[str, ...]] = MappingProxyType({"sessions": ("follow_the_pain_sites",)})
"""Columns a cohort directory written before them may lack: ``backends.read_cohort`` reads such a file with the
column null throughout, and the report then says the figure is not recorded rather than refusing the cohort
(docs/cohort.md)."""

PROM_SCHEMA = pa.schema(
    [
        _ID,
        pa.field("visit", pa.int16(), nullable=False),
        pa.field("assessed_on", pa.date32(), nullable=False),
        *(pa.field(name, pa.string(), nullable=False) for name in HIT6_ITEM_COLUMNS),
        *(pa.field(name, pa.int16(), nullable=False) for name in MIDAS_COLUMNS),
    ]
)
"""HIT-6 and MIDAS at the 12-weekly visits: visit 1 is the first injection (week 0), visit 3 week 24."""

ADVERSE_EVENTS_SCHEMA = pa.schema(
    [
        _ID,
        pa.field("session_number", pa.int16(), nullable=False),
        pa.field("onset_date", pa.date32(), nullable=False),
        pa.field("event", pa.string(), nullable=False),
        pa.field("led_to_discontinuation", pa.bool_(), nullable=False),
    ]
)
"""One row per adverse event, attributed to the session before it; ``event`` uses the label table's codes."""

SCHEMAS: Mapping[str, pa.Schema] = MappingProxyType(
    {
        "patients": PATIENTS_SCHEMA,
        "diary": DIARY_SCHEMA,
        "sessions": SESSIONS_SCHEMA,
        "prom": PROM_SCHEMA,
        "adverse_events": ADVERSE_EVENTS_SCHEMA,
    }
)

_CLASS_BY_COLUMN = {column: cls for cls, column in ACUTE_COLUMNS.items()}


def _answers(table: pa.Table) -> pa.Array:
    """``answers`` of each row of a table holding ``intensity`` and ``DIARY_FLAG_COLUMNS`` (blank flags are no)."""
    packed = np.zeros(len(table), dtype=np.int32)
    for bit, name in enumerate(DIARY_FLAG_COLUMNS):
        flags = pc.fill_null(table[name], False).to_numpy(zero_copy_only=False)
        packed |= flags.astype(np.int32) << bit
    names = [name for name in INTENSITY_CODES if name is not None]
    position = pc.fill_null(pc.index_in(table["intensity"], value_set=pa.array(names)), -1)
    codes = position.to_numpy(zero_copy_only=False).astype(np.int32) + 1  # -1 (none) becomes 0, mild 1, ...
    return pa.array(packed | codes << INTENSITY_SHIFT, pa.int32())


def with_answers(table: pa.Table) -> pa.Table:
    """The diary table with its ``answers`` column derived from the columns before it (replacing any there)."""
    if "answers" in table.column_names:
        table = table.drop_columns(["answers"])
    return table.append_column(DIARY_SCHEMA.field("answers"), _answers(table))


def diary_arrow(days: Iterable[DiaryDay]) -> pa.Table:
    """The diary table (``DIARY_SCHEMA``) of these engine days, in the order given."""
    listed = list(days)
    columns: dict[str, list[object]] = {
        "patient_id": [day.patient_id for day in listed],
        "date": [day.date for day in listed],
        "headache_hours": [float(day.headache_hours) for day in listed],
        "intensity": [day.intensity.value if day.intensity else None for day in listed],
    }
    for name in DIARY_FLAG_COLUMNS:
        if name in _CLASS_BY_COLUMN:
            cls = _CLASS_BY_COLUMN[name]
            columns[name] = [cls in day.acute_medication for day in listed]
        else:
            columns[name] = [bool(getattr(day, name)) for day in listed]
    return with_answers(pa.Table.from_pydict(columns, schema=DIARY_WRITTEN_SCHEMA))


def _hours(value: float) -> Decimal:
    """The float as the decimal the diary wrote (``repr`` is the shortest text that reads back the same)."""
    return Decimal(repr(value))


def patient_diaries(table: pa.Table) -> tuple[PatientDiary, ...]:
    """Engine diaries from a diary table sorted by patient and date: one ``PatientDiary`` per patient, in order."""
    names = [name for name in DIARY_FLAG_COLUMNS if name not in _CLASS_BY_COLUMN]
    acute = list(ACUTE_COLUMNS.items())
    intensity = {member.value: member for member in Intensity}
    rows = table.select(["patient_id", "date", "headache_hours", "intensity", *DIARY_FLAG_COLUMNS]).to_pylist()
    result = []
    for patient_id, patient_rows in groupby(rows, key=itemgetter("patient_id")):
        days = tuple(
            DiaryDay(
                patient_id=patient_id,
                date=row["date"],
                headache_hours=_hours(row["headache_hours"]),
                intensity=intensity[row["intensity"]] if row["intensity"] else None,
                acute_medication=frozenset(cls for cls, column in acute if row[column]),
                **{name: row[name] for name in names},
            )
            for row in patient_rows
        )
        result.append(PatientDiary(patient_id, days))
    return tuple(result)


def _yes_no(column: pa.ChunkedArray | pa.Array) -> pa.Array:
    return pc.if_else(column, "yes", "no")


def diary_csv_table(table: pa.Table) -> pa.Table:
    """The diary table as the CSV contract's text columns (all of ``COLUMNS``, contract order), ready to write.

    A 0-hour day writes ``no`` for its pain features (the contract allows blank or no) and a blank intensity;
    ``acute_medication`` lists the classes taken, ``;``-separated, in the engine's class order.
    """
    hours = table["headache_hours"]
    text: dict[str, pa.Array | pa.ChunkedArray] = {
        "patient_id": table["patient_id"],
        "date": pc.strftime(table["date"], format="%Y-%m-%d"),
        "headache_hours": hours.cast(pa.string()),
        "intensity": pc.fill_null(table["intensity"], ""),
    }
    for name in (*FEATURE_COLUMNS, "aura", "acute_relief", "believed_migraine"):
        text[name] = _yes_no(table[name])
    classes = [pc.if_else(table[column], cls.value, "") for cls, column in ACUTE_COLUMNS.items()]
    joined = pc.binary_join_element_wise(*classes, ";")  # "triptan;;simple_analgesic;;;;;": tidy the gaps
    text["acute_medication"] = pc.utf8_trim(pc.replace_substring_regex(joined, ";{2,}", ";"), ";")
    text["notes"] = pa.nulls(len(table), pa.string()).fill_null("")
    return pa.table({name: text[name] for name in COLUMNS})
