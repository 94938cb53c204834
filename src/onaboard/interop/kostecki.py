"""Adapter for the Kostecki-Dillon headache log: a real, public daily log turned into diary days.

The source is the ``KosteckiDillon`` data set of the R package carData (GPL >= 2; Kostecki-Dillon, Monette,
Wong 1999), shipped as shared/data/kostecki_dillon_headache_log.csv (see shared/data/README.md): 133 patients in
a treatment programme, one row per recorded day, columns ``id``, ``time`` (day relative to the start of
treatment, 0 = start), ``dos`` (study day), ``headache`` (yes/no) and per-patient or per-day covariates.

Conventions (the log has no calendar dates and records headache *presence* only):

- **patient_id** is ``KD`` and the id zero-padded to three digits: id 7 -> ``KD007``. An id of more digits than
  the diary contract's 64-character patient id leaves room for (``ID_DIGITS``, leading zeros aside) is refused.
- **date** is ``ANCHOR_DATE + dos`` days. carData counts ``dos`` from 1 January of the year the study started,
  a year the data do not give; 2000-01-01 stands in for it, so weekdays and seasons of the dates mean nothing.
- **treatment start** (day 0) is ``ANCHOR_DATE + (dos - time)`` of the patient's first row (earliest ``dos``).
- A row whose ``dos`` or ``dos - time`` names a day outside the calendar (before 0001-01-01 or after 9999-12-31)
  is refused at its ``dos`` or ``time`` column, as is a ``dos`` or ``time`` of more than ``MAX_DIGITS`` digits.
- **headache yes** becomes a row of ``PLACEHOLDER_HOURS`` (1) hour, intensity ``mild``, no features and no
  medication; **headache no** becomes 0 hours. The diary contract needs hours and an intensity on a headache
  day, so these are placeholders, never data: 1 hour and mild with no features is the smallest claim that
  keeps the day a headache day, so the engine counts it as one and never as a 4-hour day, a migraine day or an
  attack. **Only headache-day counts (and recorded-day counts) are meaningful from this source**; 4-hour,
  migraine-day and attack counts are 0 by construction, and verdicts built on them (chronic migraine, label
  criteria) say nothing about these patients. Every row's ``notes`` is ``SOURCE_NOTE`` so an exported file
  says so too.
- Ignored columns: ``rownames``, ``hatype``, ``age``, ``airq``, ``medication`` (the programme's medication
  status, not acute medication taken that day), ``sex``.

Anomalies in the file, handled explicitly:

- two rows for the same patient and study day that agree in every column but ``rownames`` (the file has one
  pair: id 90, dos 872, lines 2852-2853): the later row is dropped and its line listed in
  ``KosteckiLog.dropped_duplicate_lines``; if they disagree, the file is refused (``KosteckiError``);
- ``dos - time`` not the same on all of a patient's rows (the file has one patient: id 126, whose ``time`` skips
  28 while ``dos`` does not, so rows from time 29 on imply a start one day earlier): day 0 is taken from the
  first row as above, and the lines that imply another start are listed in ``KosteckiLog.start_disagreements``.

Pure functions: text in, values out; no file is opened here.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from types import MappingProxyType

from onaboard.clinical.diary import PATIENT_ID_MAX_LENGTH, DiaryDay, Intensity, csv_records
from onaboard.clinical.errors import InvalidInputError, Problem

__all__ = [
    "ANCHOR_DATE",
    "ID_DIGITS",
    "MAX_DIGITS",
    "PLACEHOLDER_HOURS",
    "PLACEHOLDER_INTENSITY",
    "REQUIRED_COLUMNS",
    "SOURCE_NOTE",
    "KosteckiError",
    "KosteckiLog",
    "kostecki_patient_id",
    "kostecki_to_diary",
]

ANCHOR_DATE = date(2000, 1, 1)
"""The date of study day (``dos``) 0: a stand-in, as the log's calendar year is not in the data."""

_PREFIX = "KD"
ID_DIGITS = PATIENT_ID_MAX_LENGTH - len(_PREFIX)
"""The most digits an ``id`` may have (leading zeros aside): ``KD`` and them fill the diary's 64-character id."""

MAX_DIGITS = 18
"""The most digits (leading zeros aside) a ``time`` or ``dos`` may have; every day the calendar holds needs 7."""

_FIRST_STUDY_DAY = (date.min - ANCHOR_DATE).days
_LAST_STUDY_DAY = (date.max - ANCHOR_DATE).days
"""The study days whose date the calendar holds (0001-01-01 to 9999-12-31), for ``dos`` and ``dos - time``."""

PLACEHOLDER_HOURS = Decimal(1)
"""Hours written for a ``headache = yes`` day: a placeholder below the 4-hour threshold, never data."""

PLACEHOLDER_INTENSITY = Intensity.MILD
"""Intensity written for a ``headache = yes`` day: a placeholder that adds nothing to ICHD-3 1.1 C, never data."""

SOURCE_NOTE = "Kostecki-Dillon log: headache presence only; hours and intensity are placeholders"
"""The ``notes`` of every converted row, so the placeholders travel with the data."""

REQUIRED_COLUMNS: tuple[str, ...] = ("id", "time", "dos", "headache")
"""The columns the adapter reads; the others are ignored."""

_IGNORED_IN_DUPLICATE_CHECK = frozenset({"rownames"})
_INTEGER = re.compile(r"-?\d+")
_ID = re.compile(r"\d+")
_HEADACHE: Mapping[str, bool] = MappingProxyType({"yes": True, "no": False})

# Error messages; tests assert these exactly.
EMPTY_FILE = "the file is empty: a header row is required"
MALFORMED_CSV = "malformed CSV: {detail}"
MISSING_COLUMN = "required column is missing"
WRONG_FIELD_COUNT = "row has {found} fields but the header has {expected}"
BAD_ID = "id must be a positive whole number (got {value!r})"
BAD_INTEGER = "must be a whole number (got {value!r})"
BAD_STUDY_DAY = "study day must be 0 or more (got {value!r})"
ID_TOO_LONG = "id must have at most {limit} digits, for a patient id of at most {length} characters (got {digits})"
TOO_MANY_DIGITS = "must have at most {limit} digits (got {digits})"
STUDY_DAY_AFTER_CALENDAR = "study day must be at most {limit}: a later one falls after {last} (got {value})"
START_OUTSIDE_CALENDAR = (
    "treatment start (dos - time = {start}) must be a study day from {first} to {last}, so its date falls from "
    "{first_date} to {last_date}"
)
BAD_HEADACHE = "headache must be yes or no (got {value!r})"
CONFLICTING_DAY = "second row for id {id} on study day {dos} that differs from the first (line {first_line})"


class KosteckiError(InvalidInputError):
    """A Kostecki-Dillon log the adapter refuses; ``problems`` lists every reason, in file order."""


@dataclass(frozen=True, slots=True)
class KosteckiLog:
    """The converted log: diary days and each patient's treatment start, with what was done to anomalies."""

    days: tuple[DiaryDay, ...]
    """Diary days sorted by patient id, then date; one per patient and date."""
    treatment_start: Mapping[str, date]
    """Day 0 (start of treatment) of each patient, by patient id."""
    rows_read: int
    """Data rows in the file, duplicates included."""
    dropped_duplicate_lines: tuple[int, ...] = ()
    """Lines dropped because an earlier row said exactly the same about the same patient and day."""
    start_disagreements: Mapping[str, tuple[int, ...]] = field(default_factory=lambda: MappingProxyType({}))
    """Per patient, the lines whose ``dos - time`` implies another start than the patient's first row."""


@dataclass(frozen=True, slots=True)
class _Row:
    line: int
    patient_id: str
    time: int
    dos: int
    headache: bool
    fields: tuple[tuple[str, str], ...]
    """Every column but ``rownames``, to tell an exact duplicate from a conflicting one."""


def kostecki_patient_id(source_id: int) -> str:
    """The diary patient id of a Kostecki-Dillon ``id``: ``KD`` and three digits."""
    return f"{_PREFIX}{source_id:03d}"


def _significant_digits(value: str) -> int:
    """The digits of a whole number written with 0-9, sign and leading zeros aside (counted, not converted: a
    number past Python's conversion limit would raise)."""
    return len(value.lstrip("-").lstrip("0"))


def _integer(value: str, column: str, line: int, problems: list[Problem]) -> int | None:
    if not _INTEGER.fullmatch(value):
        problems.append(Problem(line, column, BAD_INTEGER.format(value=value)))
        return None
    if _significant_digits(value) > MAX_DIGITS:
        problems.append(
            Problem(line, column, TOO_MANY_DIGITS.format(limit=MAX_DIGITS, digits=_significant_digits(value)))
        )
        return None
    return int(value)


def _read_row(line: int, fields: Mapping[str, str], problems: list[Problem]) -> _Row | None:
    """One data row, or None after adding its problems. Its id must fit the diary's patient id, and its ``dos`` and
    ``dos - time`` must name days the calendar holds (the row's date and the treatment start it implies)."""
    found = len(problems)
    raw_id = fields["id"]
    if not _ID.fullmatch(raw_id) or _significant_digits(raw_id) == 0:
        problems.append(Problem(line, "id", BAD_ID.format(value=raw_id)))
    elif _significant_digits(raw_id) > ID_DIGITS:
        digits = _significant_digits(raw_id)
        problems.append(
            Problem(line, "id", ID_TOO_LONG.format(limit=ID_DIGITS, length=PATIENT_ID_MAX_LENGTH, digits=digits))
        )
    time = _integer(fields["time"], "time", line, problems)
    dos = _integer(fields["dos"], "dos", line, problems)
    if dos is not None and dos < 0:
        problems.append(Problem(line, "dos", BAD_STUDY_DAY.format(value=fields["dos"])))
    elif dos is not None and dos > _LAST_STUDY_DAY:
        problems.append(
            Problem(line, "dos", STUDY_DAY_AFTER_CALENDAR.format(limit=_LAST_STUDY_DAY, last=date.max, value=dos))
        )
    elif dos is not None and time is not None and not _FIRST_STUDY_DAY <= dos - time <= _LAST_STUDY_DAY:
        message = START_OUTSIDE_CALENDAR.format(
            start=dos - time, first=_FIRST_STUDY_DAY, last=_LAST_STUDY_DAY, first_date=date.min, last_date=date.max
        )
        problems.append(Problem(line, "time", message))
    headache = _HEADACHE.get(fields["headache"].lower())
    if headache is None:
        problems.append(Problem(line, "headache", BAD_HEADACHE.format(value=fields["headache"])))
    if len(problems) > found or time is None or dos is None or headache is None:
        return None
    kept = tuple((name, value) for name, value in fields.items() if name not in _IGNORED_IN_DUPLICATE_CHECK)
    return _Row(line, kostecki_patient_id(int(raw_id)), time, dos, headache, kept)


def _read_rows(text: str) -> tuple[list[_Row], int]:
    """Every valid row in file order and the number of data rows; raises KosteckiError listing every problem."""
    records = csv_records(text, error=KosteckiError)
    first = next(records, None)
    if first is None:
        raise KosteckiError([Problem(1, None, EMPTY_FILE)])
    header_line, header = first
    missing = [Problem(header_line, name, MISSING_COLUMN) for name in REQUIRED_COLUMNS if name not in header]
    if missing:
        raise KosteckiError(missing)
    problems: list[Problem] = []
    rows: list[_Row] = []
    count = 0
    for line, fields in records:
        count += 1
        if len(fields) != len(header):
            found, expected = len(fields), len(header)
            problems.append(Problem(line, None, WRONG_FIELD_COUNT.format(found=found, expected=expected)))
            continue
        row = _read_row(line, dict(zip(header, fields, strict=True)), problems)
        if row is not None:
            rows.append(row)
    if problems:
        raise KosteckiError(problems)
    return rows, count


def _unique_days(rows: list[_Row]) -> tuple[list[_Row], tuple[int, ...]]:
    """Rows with one per patient and study day, and the lines of exact duplicates dropped; refuses conflicts."""
    first: dict[tuple[str, int], _Row] = {}
    dropped: list[int] = []
    problems: list[Problem] = []
    for row in rows:
        earlier = first.setdefault((row.patient_id, row.dos), row)
        if earlier is row:
            continue
        if earlier.fields == row.fields:
            dropped.append(row.line)
        else:
            message = CONFLICTING_DAY.format(id=row.patient_id, dos=row.dos, first_line=earlier.line)
            problems.append(Problem(row.line, "dos", message))
    if problems:
        raise KosteckiError(problems)
    return list(first.values()), tuple(dropped)


def _diary_day(row: _Row) -> DiaryDay:
    return DiaryDay(
        patient_id=row.patient_id,
        date=ANCHOR_DATE + timedelta(days=row.dos),
        headache_hours=PLACEHOLDER_HOURS if row.headache else Decimal(0),
        intensity=PLACEHOLDER_INTENSITY if row.headache else None,
        notes=SOURCE_NOTE,
    )


def _treatment_starts(rows: list[_Row]) -> tuple[dict[str, date], dict[str, tuple[int, ...]]]:
    """Each patient's day 0 from the first row, and the lines implying another day 0."""
    offsets: dict[str, int] = {}
    disagreeing: dict[str, list[int]] = {}
    for row in sorted(rows, key=lambda r: (r.patient_id, r.dos)):
        offset = offsets.setdefault(row.patient_id, row.dos - row.time)
        if row.dos - row.time != offset:
            disagreeing.setdefault(row.patient_id, []).append(row.line)
    starts = {patient_id: ANCHOR_DATE + timedelta(days=offset) for patient_id, offset in offsets.items()}
    return starts, {patient_id: tuple(lines) for patient_id, lines in disagreeing.items()}


def kostecki_to_diary(text: str) -> KosteckiLog:
    """Convert the Kostecki-Dillon log's CSV text to diary days and treatment starts (conventions above).

    Raises ``KosteckiError`` listing every problem (``line N, column C: ...``) when a row cannot be read (a bad
    value, an id too long for the diary's patient id, a ``dos`` or ``dos - time`` outside the calendar) or two rows
    disagree about the same patient and day; nothing is converted from such a file.
    """
    rows, count = _read_rows(text)
    unique, dropped = _unique_days(rows)
    starts, disagreements = _treatment_starts(unique)
    days = sorted((_diary_day(row) for row in unique), key=lambda day: (day.patient_id, day.date))
    return KosteckiLog(
        days=tuple(days),
        treatment_start=MappingProxyType(dict(sorted(starts.items()))),
        rows_read=count,
        dropped_duplicate_lines=dropped,
        start_disagreements=MappingProxyType(disagreements),
    )
