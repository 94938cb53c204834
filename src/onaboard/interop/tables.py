"""CSV files of preventive-medication history and injection sessions: written and read as plain records.

Same conventions as the diary CSV contract (shared/spec/diary-csv.md): UTF-8 with or without BOM, header row
required, column order free, values trimmed, blank lines skipped, an unknown or repeated column is an error, and a
file with any invalid row is refused whole with every problem as ``line N, column C: what is wrong``. Records are
read with the diary's own CSV reader (``csv_header``, ``csv_records``: the same decoding, header checks, line
numbers and messages as the diary's). ``patient_id`` is the patient's record number. Formats: docs/fhir.md ("CSV
files").
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from onaboard.clinical import Muscle, Side, medicine_key
from onaboard.clinical.diary import REQUIRED_VALUE, TOO_MANY_FIELDS, csv_header, csv_text
from onaboard.clinical.errors import InvalidInputError, Problem
from onaboard.interop.fhir.records import (
    DEFAULT_VIAL_UNITS,
    PreventiveRecord,
    SessionRecord,
    SiteRecord,
    recorded_session_problems,
)

PREVENTIVE_COLUMNS: tuple[str, ...] = ("patient_id", "drug", "drug_class", "dose", "start", "stop", "stop_reason")
PREVENTIVE_REQUIRED: tuple[str, ...] = ("patient_id", "drug", "drug_class", "start", "stop_reason")
SESSION_COLUMNS: tuple[str, ...] = (
    "patient_id",
    "date",
    "status",
    "vial_units",
    "vials_used",
    "total_units",
    "discarded_units",
    "lot",
    "expiry",
    "sites",
    "override_reason",
    "complications",
)
SESSION_REQUIRED: tuple[str, ...] = ("patient_id", "date", "status")
SESSION_STATUSES = ("booked", "recorded", "cancelled")
RECORDED_ONLY: tuple[str, ...] = tuple(c for c in SESSION_COLUMNS if c not in SESSION_REQUIRED)
"""The columns only a recorded session fills (``write_sessions`` leaves them blank on a booked or cancelled row)."""

BAD_DATE = "date must be YYYY-MM-DD (got {value!r})"
BAD_CHOICE = "must be one of {choices} (got {value!r})"
BAD_NUMBER = "must be a whole number (got {value!r})"
NUMBER_TOO_BIG = "must be at most {limit} (got {value})"
TOO_LONG = "must be at most {limit} characters (got {length})"
MAX_NUMBER = 2**31 - 1
"""The largest whole number a record stores (the database's integer)."""
TEXT_LIMITS = {"drug": 100, "dose": 100, "lot": 40}
"""The longest text each column may hold, and the length of the record's field that stores it
(``PreventiveTrial.drug`` and ``.dose``, ``InjectionSession.product_lot`` take theirs from here)."""
STOP_BEFORE_START = "stop {stop} is before start {start}"
DUPLICATE_ROW = "second row for patient {patient_id} with the same {what} (the first is on line {first_line})"
NOT_RECORDED_VALUE = "must be blank on a {status} row: only a recorded session has a product, units and sites"
BAD_SITE = "site {value!r} must be muscle:side:units, with :ftp for a follow-the-pain site"
NUL_IN_TEXT = "must not contain the NUL character"
"""The diary's ``NUL_IN_NOTES`` for any column: the record's text cannot hold a NUL (PostgreSQL refuses it)."""

_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


class TableError(InvalidInputError):
    """A CSV file refused whole; ``problems`` lists every reason in file order."""


def _digits(value: str) -> bool:
    """A whole number written with 0-9 (``str.isdigit`` also takes '²', which ``int`` refuses)."""
    return value.isascii() and value.isdigit()


def _write(columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    return csv_text([columns, *(["" if value is None else str(value) for value in row] for row in rows)])


def write_preventives(patient_id: str, trials: Iterable[PreventiveRecord]) -> str:
    return _write(
        PREVENTIVE_COLUMNS,
        (
            (patient_id, t.drug, t.drug_class, t.dose, t.start.isoformat(), t.stop.isoformat() if t.stop else "",
             t.stop_reason)
            for t in sorted(trials, key=lambda t: (t.start, t.drug))
        ),
    )  # fmt: skip


def _site_text(site: SiteRecord) -> str:
    return f"{site.muscle}:{site.side}:{site.units}" + (":ftp" if site.follow_the_pain else "")


def write_sessions(patient_id: str, sessions: Iterable[SessionRecord]) -> str:
    return _write(
        SESSION_COLUMNS,
        (
            (
                patient_id, s.date.isoformat(), s.status,
                s.vial_units if s.status == "recorded" else "", s.vials_used, s.total_units, s.discarded_units,
                s.lot, s.expiry.isoformat() if s.expiry else "", ";".join(_site_text(site) for site in s.sites),
                s.override_reason, s.complications,
            )
            for s in sorted(sessions, key=lambda s: (s.date, s.status))
        ),
    )  # fmt: skip


class _Row:
    def __init__(self, line: int, fields: Mapping[str, str], problems: list[Problem]) -> None:
        self.line, self.fields, self.problems = line, fields, problems

    def text(self, column: str, *, required: bool = False) -> str:
        value = self.fields.get(column, "")
        if required and not value:
            self.problems.append(Problem(self.line, column, REQUIRED_VALUE))
        nul = Problem(self.line, column, NUL_IN_TEXT)
        if "\x00" in value and nul not in self.problems:  # a column may be read twice
            self.problems.append(nul)
        limit = TEXT_LIMITS.get(column)
        too_long = Problem(self.line, column, TOO_LONG.format(limit=limit, length=len(value)))
        if limit is not None and len(value) > limit and too_long not in self.problems:  # a column may be read twice
            self.problems.append(too_long)
        return value

    def date(self, column: str, *, required: bool = False) -> dt.date | None:
        value = self.text(column, required=required)
        if not value:
            return None
        try:
            if _ISO_DATE.fullmatch(value):
                return dt.date.fromisoformat(value)
        except ValueError:
            pass
        self.problems.append(Problem(self.line, column, BAD_DATE.format(value=value)))
        return None

    def choice(self, column: str, choices: Sequence[str]) -> str:
        value = self.text(column, required=True)
        if value and value not in choices:
            self.problems.append(Problem(self.line, column, BAD_CHOICE.format(choices=", ".join(choices), value=value)))
        return value

    def number(self, column: str) -> int | None:
        value = self.text(column)
        if not value:
            return None
        if not _digits(value):
            self.problems.append(Problem(self.line, column, BAD_NUMBER.format(value=value)))
            return None
        if int(value) > MAX_NUMBER:
            self.problems.append(Problem(self.line, column, NUMBER_TOO_BIG.format(limit=MAX_NUMBER, value=value)))
            return None
        return int(value)


def _read(
    source: str | bytes,
    columns: Sequence[str],
    required: Sequence[str],
    read_row: Callable[[_Row], tuple[str, Any, Any] | None],
    what: str,
) -> dict[str, list[Any]]:
    """Every row read by ``read_row`` (patient id, natural key, record) grouped by patient, or ``TableError``. The
    decoding and the header's checks are the diary reader's own (``csv_header``)."""
    header, problems, records, malformed = csv_header(source, columns=columns, required=required, error=TableError)
    by_patient: dict[str, list[Any]] = {}
    seen: dict[tuple[str, Any], int] = {}
    for line, values in records:
        if len(values) > len(header):
            problems.append(Problem(line, None, TOO_MANY_FIELDS.format(found=len(values), expected=len(header))))
            continue
        fields: dict[str, str] = {}
        for name, value in zip(header, values, strict=False):
            fields.setdefault(name, value)
        row = _Row(line, fields, problems)
        before = len(problems)
        read = read_row(row)
        if read is None or len(problems) > before:
            continue
        patient_id, key, record = read
        first_line = line if key is None else seen.setdefault((patient_id, key), line)  # None: no natural key
        if first_line != line:
            problems.append(
                Problem(line, None, DUPLICATE_ROW.format(patient_id=patient_id, what=what, first_line=first_line))
            )
            continue
        by_patient.setdefault(patient_id, []).append(record)
    problems.extend(malformed)
    if problems:
        raise TableError(problems)
    return by_patient


def read_preventives(source: str | bytes, *, classes: Sequence[str], reasons: Sequence[str]) -> dict[str, list[Any]]:
    """Preventive trials by patient id; ``classes`` and ``reasons`` are the allowed drug classes and stop reasons. A
    second row of one patient's drug and start is refused, the drug compared letter case aside (``medicine_key``, as
    the coverage engine counts medicines and the import matches trials)."""

    def row(r: _Row) -> tuple[str, Any, Any] | None:
        patient_id = r.text("patient_id", required=True)
        drug = r.text("drug", required=True)
        drug_class = r.choice("drug_class", classes)
        start = r.date("start", required=True)
        stop = r.date("stop")
        reason = r.choice("stop_reason", reasons)
        if start and stop and stop < start:
            r.problems.append(Problem(r.line, "stop", STOP_BEFORE_START.format(stop=stop, start=start)))
        if start is None:
            return None
        return (
            patient_id,
            (medicine_key(drug), start),
            PreventiveRecord("", drug, drug_class, start, stop, reason, r.text("dose")),
        )

    return _read(source, PREVENTIVE_COLUMNS, PREVENTIVE_REQUIRED, row, "drug and start")


def _sites(r: _Row) -> tuple[SiteRecord, ...]:
    sites = []
    for item in filter(None, (part.strip() for part in r.text("sites").split(";"))):
        parts = item.split(":")
        muscles, sides = {m.value for m in Muscle}, {s.value for s in Side}
        valid = (
            len(parts) in {3, 4}
            and parts[0] in muscles
            and parts[1] in sides
            and _digits(parts[2])
            and (len(parts) == 3 or parts[3] == "ftp")
        )
        if not valid:
            r.problems.append(Problem(r.line, "sites", BAD_SITE.format(value=item)))
            continue
        if int(parts[2]) > MAX_NUMBER:
            r.problems.append(Problem(r.line, "sites", NUMBER_TOO_BIG.format(limit=MAX_NUMBER, value=parts[2])))
            continue
        sites.append(SiteRecord(parts[0], parts[1], int(parts[2]), len(parts) == 4))
    return tuple(sites)


def read_sessions(source: str | bytes, *, today: dt.date) -> dict[str, list[Any]]:
    """Sessions by patient id. A recorded session needs its lot, expiry, total and sites, which must add up, at
    most ``MAX_SESSION_UNITS``, on a day up to ``today``. A blank ``vial_units`` is ``DEFAULT_VIAL_UNITS``; any
    number given, 0 included, must be a label vial size (refused at its column otherwise)."""

    def row(r: _Row) -> tuple[str, Any, Any] | None:
        patient_id = r.text("patient_id", required=True)
        day = r.date("date", required=True)
        status = r.choice("status", SESSION_STATUSES)
        if status in SESSION_STATUSES and status != "recorded":
            # A booking carries no product or sites: they were stored, and recording the booking added its own.
            given = [column for column in RECORDED_ONLY if r.fields.get(column)]
            r.problems.extend(Problem(r.line, c, NOT_RECORDED_VALUE.format(status=status)) for c in given)
            if given:
                return None
        numbers = {name: r.number(name) for name in ("vial_units", "vials_used", "total_units", "discarded_units")}
        expiry = r.date("expiry")
        sites = _sites(r)
        if status == "recorded":
            for column, message in recorded_session_problems(
                day=day,
                total_units=numbers["total_units"],
                sites=sites,
                lot=r.text("lot"),
                expiry=expiry,
                today=today,
                vial_units=DEFAULT_VIAL_UNITS if numbers["vial_units"] is None else numbers["vial_units"],
                vials_used=numbers["vials_used"],
                discarded_units=numbers["discarded_units"],
                override_reason=r.text("override_reason"),
            ):
                r.problems.append(Problem(r.line, column.partition("[")[0], message))  # sites[2]: the sites column
        if day is None:
            return None
        record = SessionRecord(
            key="",
            date=day,
            status=status,
            vial_units=DEFAULT_VIAL_UNITS if numbers["vial_units"] is None else numbers["vial_units"],
            vials_used=numbers["vials_used"],
            total_units=numbers["total_units"],
            discarded_units=numbers["discarded_units"],
            lot=r.text("lot"),
            expiry=expiry,
            override_reason=r.text("override_reason"),
            complications=r.text("complications"),
            sites=sites,
        )
        return patient_id, None if status == "cancelled" else day, record  # cancelled: any number a day

    return _read(source, SESSION_COLUMNS, SESSION_REQUIRED, row, "date")
