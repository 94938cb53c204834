"""The headache diary: one row per patient per calendar day, parsed and validated.

The format is the contract in ``shared/spec/diary-csv.md``: onaboard's import format, its export format
and the input of ``onaboard assess``. A file with any invalid row is refused whole, with every problem
listed as ``line N, column C: what is wrong`` (N the physical line on which the record starts; the header
is line 1).

No I/O happens here: callers pass the file's text (or bytes) and today's date.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum
from functools import lru_cache
from operator import itemgetter
from typing import Any

from onaboard.clinical.errors import DiaryError, InvalidInputError, Problem

__all__ = [
    "COLUMNS",
    "FEATURE_COLUMNS",
    "REQUIRED_COLUMNS",
    "AcuteClass",
    "DiaryDay",
    "Intensity",
    "PatientDiary",
    "csv_records",
    "diary_day_from_fields",
    "parse_diary",
    "write_diary",
]


class Intensity(StrEnum):
    """Worst pain of the day. ICHD-3 1.1 C3 counts moderate or severe."""

    MILD = "mild"
    MODERATE = "moderate"
    SEVERE = "severe"


class AcuteClass(StrEnum):
    """Acute (rescue) medication classes as ICHD-3 8.2 groups them, and newer classes 8.2 does not count."""

    TRIPTAN = "triptan"
    ERGOT = "ergot"
    SIMPLE_ANALGESIC = "simple_analgesic"
    COMBINATION_ANALGESIC = "combination_analgesic"
    OPIOID = "opioid"
    GEPANT = "gepant"
    DITAN = "ditan"
    OTHER = "other"


COLUMNS: tuple[str, ...] = (
    "patient_id",
    "date",
    "headache_hours",
    "intensity",
    "unilateral",
    "pulsating",
    "worse_with_activity",
    "nausea",
    "vomiting",
    "photophobia",
    "phonophobia",
    "aura",
    "acute_medication",
    "acute_relief",
    "believed_migraine",
    "notes",
)
"""Every column of the contract, in the order onaboard writes them."""

REQUIRED_COLUMNS: tuple[str, ...] = ("patient_id", "date", "headache_hours")

FEATURE_COLUMNS: tuple[str, ...] = (
    "unilateral",
    "pulsating",
    "worse_with_activity",
    "nausea",
    "vomiting",
    "photophobia",
    "phonophobia",
)
"""Pain features that only make sense on a headache day: blank or no on a 0-hour day."""

YES_NO_COLUMNS: tuple[str, ...] = (*FEATURE_COLUMNS, "aura", "acute_relief", "believed_migraine")

MAX_HEADACHE_HOURS = Decimal(24)
"""A diary row describes one calendar day (00:00-23:59), so at most 24 hours of headache."""

PATIENT_ID_MAX_LENGTH = 64

# Error messages (diary-csv.md "Errors"); tests assert these exactly.
EMPTY_FILE = "the file is empty: a header row is required"
NOT_UTF8 = "the file is not UTF-8 text"
MALFORMED_CSV = "malformed CSV: {detail}"
QUOTE_NEVER_CLOSED = 'a quote (") opened in this row is never closed: the file ends inside it, on line {last}'
"""``MALFORMED_CSV``'s detail when a quote opened on one line runs to the end of the file (the csv module's
"unexpected end of data"), worded for a clinic; a quote opened on the file's last line keeps the csv module's."""
MISSING_COLUMN = "required column is missing"
UNKNOWN_COLUMN = "unknown column (expected one of: {expected})"
UNNAMED_COLUMN = (
    "column {position} of the header has no name (a comma at the end of the header?); every column needs one of: "
    "{expected}"
)
REPEATED_COLUMN = "column appears more than once in the header"
TOO_MANY_FIELDS = "row has {found} fields but the header has {expected}"
REQUIRED_VALUE = "a value is required"
BAD_PATIENT_ID = "patient id must be 1-64 characters of A-Z a-z 0-9 . _ - (got {value!r})"
BAD_DATE_FORMAT = "date must be YYYY-MM-DD (got {value!r})"
DATE_DOES_NOT_EXIST = "date {value} does not exist"
FUTURE_DATE = "date {value} is after today ({today})"
DUPLICATE_DAY = "second row for patient {patient_id} on {day} (the first is on line {first_line})"
BAD_HOURS = "headache hours must be a number from 0 to 24 (got {value!r})"
INTENSITY_REQUIRED = "intensity is required when headache_hours is above 0"
BAD_INTENSITY = "intensity must be mild, moderate, severe, 1, 2 or 3 (got {value!r})"
INTENSITY_ON_HEADACHE_FREE_DAY = "intensity must be blank when headache_hours is 0"
FEATURE_ON_HEADACHE_FREE_DAY = "must be blank or no when headache_hours is 0 (got {value!r})"
BAD_YES_NO = "must be yes/no, y/n, true/false or 1/0 (got {value!r})"
UNKNOWN_MEDICATION_CLASS = "unknown acute medication class {value!r} (known: {known})"
UNKNOWN_MEDICATION_CLASSES = "unknown acute medication classes {values} (known: {known})"
"""Two or more unknown classes in one field: each named once (``{values}``: 'foo', 'bar'), in the field's order."""
MORE_UNKNOWN_CLASSES = " and {count} more"
EMPTY_MEDICATION_ITEM = "empty item in the ;-separated list of classes"
NUL_IN_NOTES = "notes must not contain the NUL character"
NOTES_TOO_LONG = "notes must be at most {limit} characters (got {length})"

NOTES_MAX_CHARACTERS = 2000
"""The most a stored day's notes may hold, each line break counted once (CR LF and a lone CR count as one, as the
diary page keeps them): the diary page's limit, so an imported day can be opened and saved again there. Only a
day to be stored is held to it (``stored``); the contract's notes are free text."""

CSV_FIELD_MAX_CHARACTERS = 16 * 1024 * 1024
"""The longest field ``csv_records`` reads (Python's csv module stops at 131,072 characters by default, and a diary
exported with a longer note could not be read back: "field larger than field limit"). 16 Mi characters is more
than the largest file the web app accepts (its 10 MiB request limit) and than any field the exports write, so a
long field is judged by its column's rule (``NOTES_TOO_LONG`` for a stored day) at its line; the limit stays
bounded, and as ``csv.field_size_limit`` is the process's, it is only ever raised to this, never lowered."""

ECHO_MAX_LENGTH = 20
"""A message repeats at most this many characters of a value it refuses, then "…": a value of millions of
characters (a number written out, a pasted text) must not make the message as long."""


MEDICATION_ECHO_MAX_ITEMS = 5
"""``UNKNOWN_MEDICATION_CLASSES`` names at most this many unknown classes, then how many more there are, for the
same reason as ``ECHO_MAX_LENGTH``."""


def _echoed(value: str) -> str:
    """``value`` as a message repeats it: whole up to ``ECHO_MAX_LENGTH`` characters, else its start and "…"."""
    return value if len(value) <= ECHO_MAX_LENGTH else value[:ECHO_MAX_LENGTH] + "…"


PATIENT_ID_PATTERN = r"[A-Za-z0-9._-]{1,64}"
"""A patient id as the diary contract allows it (a regular expression, to be matched whole)."""
_PATIENT_ID = re.compile(PATIENT_ID_PATTERN)
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_HOURS = re.compile(r"[0-9]+(?:\.[0-9]+)?")
_YES_NO: Mapping[str, bool] = {
    "yes": True,
    "y": True,
    "true": True,
    "1": True,
    "no": False,
    "n": False,
    "false": False,
    "0": False,
}
_INTENSITY: Mapping[str, Intensity] = {
    "mild": Intensity.MILD,
    "moderate": Intensity.MODERATE,
    "severe": Intensity.SEVERE,
    "1": Intensity.MILD,
    "2": Intensity.MODERATE,
    "3": Intensity.SEVERE,
}
_CLASS_ORDER: Mapping[AcuteClass, int] = {cls: i for i, cls in enumerate(AcuteClass)}


@dataclass(frozen=True, slots=True)
class DiaryDay:
    """One patient's record of one calendar day. A day with no row is *not recorded*, never headache-free."""

    patient_id: str
    date: date
    headache_hours: Decimal
    intensity: Intensity | None = None
    unilateral: bool = False
    pulsating: bool = False
    worse_with_activity: bool = False
    nausea: bool = False
    vomiting: bool = False
    photophobia: bool = False
    phonophobia: bool = False
    aura: bool = False
    acute_medication: frozenset[AcuteClass] = field(default_factory=frozenset)
    acute_relief: bool = False
    believed_migraine: bool = False
    notes: str = ""


OTHER_PATIENTS_DAY = "the day {day} is patient {other}'s, not {patient}'s"
DATE_TWICE = "patient {patient}'s diary has {day} twice"
DATES_OUT_OF_ORDER = "patient {patient}'s diary is not in date order: {day} comes after {previous}"


@dataclass(frozen=True, slots=True)
class PatientDiary:
    """All recorded days of one patient, in date order, one row per date.

    The periods are counted by bisecting the dates (``periods.py``), so a diary out of order, with a date twice or
    with another patient's day would be miscounted without a word: it is refused here (``ValueError``) instead.
    """

    patient_id: str
    days: tuple[DiaryDay, ...]

    def __post_init__(self) -> None:
        previous: date | None = None
        for day in self.days:
            if day.patient_id != self.patient_id:
                raise ValueError(OTHER_PATIENTS_DAY.format(day=day.date, other=day.patient_id, patient=self.patient_id))
            if previous is not None and day.date <= previous:
                words = DATE_TWICE if day.date == previous else DATES_OUT_OF_ORDER
                raise ValueError(words.format(day=day.date, previous=previous, patient=self.patient_id))
            previous = day.date

    @property
    def first_date(self) -> date | None:
        return self.days[0].date if self.days else None

    @property
    def last_date(self) -> date | None:
        return self.days[-1].date if self.days else None


@lru_cache(maxsize=4096)
def _parse_date(value: str) -> date | str:
    """A ``YYYY-MM-DD`` date, or the message saying why it is not one (cached: diaries repeat dates)."""
    if not _ISO_DATE.fullmatch(value):
        return BAD_DATE_FORMAT.format(value=_echoed(value))
    try:
        return date.fromisoformat(value)
    except ValueError:
        return DATE_DOES_NOT_EXIST.format(value=value)


@lru_cache(maxsize=1024)
def _parse_hours(value: str) -> Decimal | None:
    if not _HOURS.fullmatch(value):
        return None
    hours = Decimal(value)
    return hours if hours <= MAX_HEADACHE_HOURS else None


def _unknown_classes_message(unknown: Sequence[str]) -> str:
    known = ", ".join(AcuteClass)
    if len(unknown) == 1:
        return UNKNOWN_MEDICATION_CLASS.format(value=_echoed(unknown[0]), known=known)
    values = ", ".join(repr(_echoed(item)) for item in unknown[:MEDICATION_ECHO_MAX_ITEMS])
    if len(unknown) > MEDICATION_ECHO_MAX_ITEMS:
        values += MORE_UNKNOWN_CLASSES.format(count=len(unknown) - MEDICATION_ECHO_MAX_ITEMS)
    return UNKNOWN_MEDICATION_CLASSES.format(values=values, known=known)


def _parse_classes(value: str) -> frozenset[AcuteClass] | tuple[str, ...]:
    """The classes of an ``acute_medication`` field, or its problems: an empty item, and one message naming every
    unknown class (each once, case-free, as the first spelling has it), in the order they first appear."""
    if not value:
        return frozenset()
    classes: set[AcuteClass] = set()
    unknown: dict[str, str] = {}  # lower-cased name: the spelling first met
    empty_first: bool | None = None  # whether the empty item came before the first unknown class; None: none
    for raw in value.split(";"):
        item = raw.strip()
        if not item:
            if empty_first is None:
                empty_first = not unknown
            continue
        try:
            classes.add(AcuteClass(item.lower()))
        except ValueError:
            unknown.setdefault(item.lower(), item)
    problems = [_unknown_classes_message(list(unknown.values()))] if unknown else []
    if empty_first is not None:
        problems.insert(0 if empty_first else len(problems), EMPTY_MEDICATION_ITEM)
    return tuple(problems) if problems else frozenset(classes)


class _RowProblems(list[tuple[str, str]]):
    """``(column, problem)`` pairs found in one row."""

    def add(self, column: str, message: str) -> None:
        self.append((column, message))


def _read_patient_id(raw: str, problems: _RowProblems) -> str:
    if not raw:
        problems.add("patient_id", REQUIRED_VALUE)
    elif not _PATIENT_ID.fullmatch(raw):
        problems.add("patient_id", BAD_PATIENT_ID.format(value=_echoed(raw)))
    return raw


def _read_date(raw: str, today: date, problems: _RowProblems) -> date | None:
    if not raw:
        problems.add("date", REQUIRED_VALUE)
        return None
    parsed = _parse_date(raw)
    if isinstance(parsed, str):
        problems.add("date", parsed)
        return None
    if parsed > today:
        problems.add("date", FUTURE_DATE.format(value=raw, today=today.isoformat()))
        return None
    return parsed


def _read_hours(raw: str, problems: _RowProblems) -> Decimal | None:
    if not raw:
        problems.add("headache_hours", REQUIRED_VALUE)
        return None
    hours = _parse_hours(raw)
    if hours is None:
        problems.add("headache_hours", BAD_HOURS.format(value=_echoed(raw)))
    return hours


def _read_intensity(raw: str, hours: Decimal | None, problems: _RowProblems) -> Intensity | None:
    if not raw:
        if hours is not None and hours > 0:
            problems.add("intensity", INTENSITY_REQUIRED)
        return None
    intensity = _INTENSITY.get(raw.lower())
    if intensity is None:
        problems.add("intensity", BAD_INTENSITY.format(value=_echoed(raw)))
    elif hours == 0:
        problems.add("intensity", INTENSITY_ON_HEADACHE_FREE_DAY)
    return intensity


def _read_flags(fields: Mapping[str, str], hours: Decimal | None, problems: _RowProblems) -> dict[str, bool]:
    flags: dict[str, bool] = {}
    for column in YES_NO_COLUMNS:
        raw = fields.get(column) or ""
        value = _YES_NO.get(raw.lower()) if raw else False
        if value is None:
            problems.add(column, BAD_YES_NO.format(value=_echoed(raw)))
        elif value and hours == 0 and column in FEATURE_COLUMNS:
            problems.add(column, FEATURE_ON_HEADACHE_FREE_DAY.format(value=_echoed(raw)))
        else:
            flags[column] = value
    return flags


_VALUE_COLUMNS: tuple[str, ...] = ("headache_hours", "intensity", *YES_NO_COLUMNS, "acute_medication")
"""Columns whose rules depend only on the row's own values, so their reading can be cached."""


@lru_cache(maxsize=16384)
def _read_values(values: tuple[str, ...]) -> tuple[dict[str, Any] | None, tuple[tuple[str, str], ...]]:
    """The typed values of ``_VALUE_COLUMNS`` (or None) and their problems; cached, as diaries repeat rows."""
    fields = dict(zip(_VALUE_COLUMNS, values, strict=True))
    problems = _RowProblems()
    hours = _read_hours(fields["headache_hours"], problems)
    intensity = _read_intensity(fields["intensity"], hours, problems)
    flags = _read_flags(fields, hours, problems)
    classes = _parse_classes(fields["acute_medication"])
    if isinstance(classes, tuple):
        problems.extend(("acute_medication", message) for message in classes)
    if problems or hours is None or isinstance(classes, tuple):
        return None, tuple(problems)
    return {"headache_hours": hours, "intensity": intensity, "acute_medication": classes, **flags}, ()


def _read_row(
    patient_id: str, raw_date: str, values: tuple[str, ...], notes: str, today: date, *, stored: bool = False
) -> tuple[DiaryDay | None, list[tuple[str, str]], date | None]:
    """One row's day (or None), its problems, and the readable date it speaks of (for the one-row-per-day rule).
    ``stored``: the day is to be kept in the app's database, whose text cannot hold a NUL character, and whose notes
    are held to the diary page's ``NOTES_MAX_CHARACTERS``."""
    problems = _RowProblems()
    _read_patient_id(patient_id, problems)
    parsed = _parse_date(raw_date) if raw_date else None
    day = _read_date(raw_date, today, problems)
    typed, value_problems = _read_values(values)
    problems.extend(value_problems)
    if stored and "\x00" in notes:  # the contract's notes are free text; PostgreSQL text cannot store a NUL
        problems.add("notes", NUL_IN_NOTES)
    if stored and (length := len(notes.replace("\r\n", "\n"))) > NOTES_MAX_CHARACTERS:
        problems.add("notes", NOTES_TOO_LONG.format(limit=NOTES_MAX_CHARACTERS, length=length))
    readable = parsed if isinstance(parsed, date) else None
    if problems or day is None or typed is None:
        return None, problems, readable
    return DiaryDay(patient_id=patient_id, date=day, notes=notes, **typed), problems, readable


def diary_day_from_fields(
    fields: Mapping[str, str], *, today: date, stored: bool = False
) -> DiaryDay | list[tuple[str, str]]:
    """One diary row from its text fields (trimmed), or every ``(column, problem)`` found in it.

    This is the single place where the diary contract's per-row rules live; the CSV reader and the web forms
    both call it. Missing keys count as blank. Duplicate days are a file-level rule (see ``parse_diary``).
    ``stored`` as in ``parse_diary``.
    """
    values = tuple(fields.get(column) or "" for column in _VALUE_COLUMNS)
    day, problems, _ = _read_row(
        fields.get("patient_id") or "",
        fields.get("date") or "",
        values,
        fields.get("notes") or "",
        today,
        stored=stored,
    )
    return list(problems) if day is None else day


def _raise_csv_field_limit() -> None:
    """Let the csv module read fields up to ``CSV_FIELD_MAX_CHARACTERS`` (never lowering the process's limit)."""
    if csv.field_size_limit() < CSV_FIELD_MAX_CHARACTERS:
        csv.field_size_limit(CSV_FIELD_MAX_CHARACTERS)


def _physical_lines(text: str) -> int:
    """The physical lines ``text`` runs over: CR LF, a lone CR and LF each end one, as the csv reader counts them."""
    return text.count("\n") + text.count("\r") - text.count("\r\n") + 1


def _record_start_line(text: str) -> int:
    """The physical line on which the record holding the end of ``text`` starts, numbered as ``csv_records``
    numbers records (for a bad byte after ``text``: the record it would belong to, a quoted note spanning lines
    included). Read leniently, as the quoting past a bad byte is unknown; a field past the csv module's limit falls
    back to the physical line ``text`` ends on."""
    _raise_csv_field_limit()
    # The sentinel stands for the bad byte: it lands in the record that byte is in (inside an open quote too)
    reader = csv.reader(io.StringIO(text + "x", newline=""), strict=False, skipinitialspace=True)
    start = previous_line = 0
    try:
        for _ in reader:
            start = previous_line + 1
            previous_line = reader.line_num
    except csv.Error:
        return _physical_lines(text)
    return start


def _decode(source: str | bytes) -> str | Problem:
    """The text of ``source`` without its byte-order mark, or ``NOT_UTF8`` on the line of the record holding the
    first bad byte (the contract's N: the physical line on which that record starts)."""
    if isinstance(source, str):
        return source.removeprefix("\ufeff")
    body = source.removeprefix(codecs.BOM_UTF8)  # as "utf-8-sig" reads it; error offsets are then in ``body``
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as error:
        before = body[: error.start].decode("utf-8")  # every byte before the first bad one is UTF-8
        return Problem(_record_start_line(before.removeprefix("\ufeff")), None, NOT_UTF8)


_SPACES_AFTER_A_QUOTE = re.compile(r'"[ \t]+(?=[,\r\n]|\Z)')
_QUOTED_REST = re.compile(r'[^"]*+(?:""[^"]*+)*+"')
"""A quoted value after its opening quote, up to its closing quote (a doubled quote is one quote of the value)."""
_SPACES_TO_FIELD_END = re.compile(r"[ \t]*(?=[,\r\n]|\Z)")


def _without_spaces_after_closing_quotes(text: str) -> str:
    """``text`` without the spaces and tabs between a closing quote and the next comma or line end.

    The strict csv reader refuses them (``',' expected after '"'``) although the contract trims values of
    surrounding spaces; they are taken out here, the rest left to the reader, which still refuses a quote never
    closed or anything else after a closing quote in its own words. Only spaces and tabs go, never a line end, so
    every record keeps its physical lines. Quoted values are found as the csv reader finds them: a quote opens one
    when only spaces (its ``skipinitialspace``) stand between it and the field's start; any other quote is part of
    an unquoted value.
    """
    if not _SPACES_AFTER_A_QUOTE.search(text):  # the common case: nothing to take out, the text read as it is
        return text
    kept: list[str] = []
    copied = position = 0
    while (opening := text.find('"', position)) >= 0:
        before = opening - 1
        while before >= 0 and text[before] == " ":
            before -= 1
        if before >= 0 and text[before] not in ",\r\n":  # a quote inside an unquoted value: part of it
            position = opening + 1
            continue
        closed = _QUOTED_REST.match(text, opening + 1)
        spaces = None if closed is None else _SPACES_TO_FIELD_END.match(text, closed.end())
        if closed is None or spaces is None:  # never closed, or text after the closing quote: the reader says so
            break
        if spaces.end() > closed.end():
            kept.append(text[copied : closed.end()])
            copied = spaces.end()
        position = spaces.end()
    kept.append(text[copied:])
    return "".join(kept)


def csv_records(
    text: str, *, error: type[InvalidInputError] = DiaryError, malformed: list[Problem] | None = None
) -> Iterator[tuple[int, list[str]]]:
    """``(starting physical line, trimmed fields)`` for each non-blank CSV record.

    Blank records (every field empty after trimming) are skipped. Bad quoting stops the reading: its problem, naming
    the line, is appended to ``malformed`` when given (so a reader lists it after the problems of the rows before
    it), else raised as ``error``. Shared by every CSV reader in onaboard so line numbers mean the same everywhere.
    """
    _raise_csv_field_limit()
    # skipinitialspace: spaces before a quoted value are trimmed like any others, not read as part of the value;
    # spaces and tabs after its closing quote are taken out before the (strict) reader sees them, for the same reason
    text = _without_spaces_after_closing_quotes(text.removeprefix("\ufeff"))
    reader = csv.reader(io.StringIO(text, newline=""), strict=True, skipinitialspace=True)
    previous_line = 0
    while True:
        start = previous_line + 1
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as problem:
            # N is the line the record starts on (the reader's line_num is where it stopped: for a quote never
            # closed, the file's last line)
            detail = str(problem)
            if detail == "unexpected end of data" and reader.line_num > start:
                detail = QUOTE_NEVER_CLOSED.format(last=reader.line_num)
            found = Problem(start, None, MALFORMED_CSV.format(detail=detail))
            if malformed is None:
                raise error([found]) from None
            malformed.append(found)
            return
        previous_line = reader.line_num
        fields = [value.strip() for value in row]
        if any(fields):
            yield start, fields


def _header_problems(
    header: Sequence[str], line: int, columns: Sequence[str], required: Sequence[str]
) -> list[Problem]:
    problems: list[Problem] = []
    seen: set[str] = set()
    for position, name in enumerate(header, start=1):
        if not name:  # before the repeated check: "line 1, column : unknown column" named nothing
            problems.append(Problem(line, None, UNNAMED_COLUMN.format(position=position, expected=", ".join(columns))))
        elif name in seen:
            problems.append(Problem(line, name, REPEATED_COLUMN))
        elif name not in columns:
            problems.append(Problem(line, name, UNKNOWN_COLUMN.format(expected=", ".join(columns))))
        seen.add(name)
    problems.extend(Problem(line, name, MISSING_COLUMN) for name in required if name not in seen)
    return problems


def csv_header(
    source: str | bytes,
    *,
    columns: Sequence[str],
    required: Sequence[str],
    error: type[InvalidInputError] = DiaryError,
) -> tuple[list[str], list[Problem], Iterator[tuple[int, list[str]]], list[Problem]]:
    """The start every onaboard CSV reader shares: the text decoded (``NOT_UTF8`` at the line of the first bad
    byte), the header read and checked against ``columns`` and ``required``.

    Returns the header, its problems (an unknown, unnamed or repeated column does not stop the rows being checked:
    every problem is listed, the unknown column ignored, the repeated one read from its first place), the records
    after it (``csv_records``) and the list a bad quoting further on is appended to (the reader lists it after the
    problems of the rows before it). Raises ``error`` for a file that is not UTF-8, is empty, is malformed before
    its header ends, or lacks a required column (the file's one problem on line 1: no row can be read without it).
    """
    text = _decode(source)
    if isinstance(text, Problem):
        raise error([text])
    malformed: list[Problem] = []
    records = csv_records(text, error=error, malformed=malformed)
    first = next(records, None)
    if malformed:
        raise error(malformed)
    if first is None:
        raise error([Problem(1, None, EMPTY_FILE)])
    header_line, header = first
    problems = _header_problems(header, header_line, columns, required)
    if any(name not in header for name in required):
        raise error(problems)
    return header, problems, records, malformed


def parse_diary(source: str | bytes, *, today: date, stored: bool = False) -> tuple[PatientDiary, ...]:
    """Parse and validate a diary CSV; every patient's days sorted by date, patients by id (code points).

    All-or-nothing: any invalid row makes the whole file a ``DiaryError`` listing every problem in file order.
    Rules: shared/spec/diary-csv.md. ``stored``: the days are for the app's database, so notes holding a NUL
    character (which its text cannot store) or longer than the diary page allows (``NOTES_MAX_CHARACTERS``) are
    refused too; the contract itself takes any text.
    """
    header, problems, records, malformed = csv_header(source, columns=COLUMNS, required=REQUIRED_COLUMNS)

    width = len(header)
    position: dict[str, int] = {}
    for i, name in enumerate(header):
        position.setdefault(name, i)

    def at(column: str) -> int:  # a column the file lacks reads the blank kept at index ``width``
        return position.get(column, width)

    patient_at, date_at, notes_at = at("patient_id"), at("date"), at("notes")
    values_of = itemgetter(*(at(column) for column in _VALUE_COLUMNS))
    by_patient: dict[str, list[DiaryDay]] = {}
    first_line_of: dict[tuple[str, date], int] = {}
    for line, fields in records:
        if len(fields) > width:
            problems.append(Problem(line, None, TOO_MANY_FIELDS.format(found=len(fields), expected=width)))
            continue
        fields.extend([""] * (width + 1 - len(fields)))
        patient_id = fields[patient_at]
        day, row_problems, readable = _read_row(
            patient_id, fields[date_at], values_of(fields), fields[notes_at], today, stored=stored
        )
        problems.extend(Problem(line, column, message) for column, message in row_problems)
        if readable is not None and _PATIENT_ID.fullmatch(patient_id):
            earlier = first_line_of.setdefault((patient_id, readable), line)
            if earlier != line:
                problems.append(
                    Problem(
                        line,
                        "date",
                        DUPLICATE_DAY.format(patient_id=patient_id, day=readable.isoformat(), first_line=earlier),
                    )
                )
                continue
        if day is not None:
            by_patient.setdefault(patient_id, []).append(day)
    problems.extend(malformed)
    if problems:
        raise DiaryError(problems)
    return tuple(
        PatientDiary(patient_id, tuple(sorted(days, key=lambda d: d.date)))
        for patient_id, days in sorted(by_patient.items())
    )


def _yes_no(value: bool) -> str:
    return "yes" if value else "no"


def _format_hours(hours: Decimal) -> str:
    return format(hours.normalize(), "f")


def csv_text(rows: Iterable[Sequence[str]]) -> str:
    """CSV text with LF line ends, a value quoted when it holds a comma, a quote, LF or CR (doubling its quotes).

    This is Python's minimal quoting, except that Python's writer with LF line ends leaves a lone CR unquoted,
    and such a row splits in two when the file is read back.
    """
    return "".join(",".join(_quoted(value) for value in row) + "\n" for row in rows)


def _quoted(value: str) -> str:
    if any(special in value for special in ',"\n\r'):
        return '"' + value.replace('"', '""') + '"'
    return value


def write_diary(days: Iterable[DiaryDay]) -> str:
    """The diary CSV (all columns, contract order, rows by patient then date) for these days."""
    rows: list[Sequence[str]] = [COLUMNS]
    for day in sorted(days, key=lambda d: (d.patient_id, d.date)):
        headache_free = day.headache_hours == 0
        features = [
            "" if headache_free and not getattr(day, column) else _yes_no(getattr(day, column))
            for column in FEATURE_COLUMNS
        ]
        rows.append(
            [
                day.patient_id,
                day.date.isoformat(),
                _format_hours(day.headache_hours),
                day.intensity.value if day.intensity else "",
                *features,
                _yes_no(day.aura),
                ";".join(sorted(day.acute_medication, key=_CLASS_ORDER.__getitem__)),
                _yes_no(day.acute_relief),
                _yes_no(day.believed_migraine),
                day.notes,
            ]
        )
    return csv_text(rows)
