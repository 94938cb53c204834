"""Builders of diary CSV text (shared/spec/diary-csv.md) from compact descriptions, for command-line tests.

A row is a ``dict`` of column name to text; ``diary_csv`` writes rows with standard CSV quoting. Day kinds are
presets whose classification is known by hand:

- ``MIGRAINE``: 6 h, severe, unilateral, pulsating, nausea: a headache day, a 4-hour day, a migraine day
  (ICHD-3 1.3 C route 1) and an attack (1.1 B-D);
- ``SHORT_MIGRAINE``: the same for 3 h: a headache day and a migraine day, neither a 4-hour day nor an attack;
- ``HEADACHE_4H``: 5 h, mild, no features: a headache day and a 4-hour day, not a migraine day;
- ``HEADACHE``: 2 h, mild: a headache day only;
- ``FREE``: 0 h: a recorded headache-free day.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from datetime import date, timedelta

from onaboard.clinical.diary import COLUMNS as DIARY_COLUMNS

__all__ = [
    "COLUMNS",
    "FREE",
    "HEADACHE",
    "HEADACHE_4H",
    "MIGRAINE",
    "SHORT_MIGRAINE",
    "Row",
    "days",
    "diary_csv",
    "medicate",
    "period_rows",
    "periods_back",
    "treated_rows",
]

Row = dict[str, str]

COLUMNS = DIARY_COLUMNS
"""The contract's columns in its table order."""

MIGRAINE: Row = {
    "headache_hours": "6",
    "intensity": "severe",
    "unilateral": "yes",
    "pulsating": "yes",
    "nausea": "yes",
}
SHORT_MIGRAINE: Row = {**MIGRAINE, "headache_hours": "3"}
HEADACHE_4H: Row = {"headache_hours": "5", "intensity": "mild"}
HEADACHE: Row = {"headache_hours": "2", "intensity": "mild"}
FREE: Row = {"headache_hours": "0"}

PERIOD_DAYS = 28


def days(patient_id: str, start: date, n: int, **fields: str) -> list[Row]:
    """``n`` rows on consecutive dates from ``start``, each with ``fields`` (0 headache hours unless given)."""
    values = {**FREE, **fields}
    return [{"patient_id": patient_id, "date": (start + timedelta(days=i)).isoformat(), **values} for i in range(n)]


def diary_csv(rows: Iterable[Mapping[str, str]], columns: Iterable[str] | None = None) -> str:
    """The CSV text of ``rows`` under a header of ``columns`` (default: the contract's columns that the rows use)."""
    listed = list(rows)
    if columns is None:
        used = {name for row in listed for name in row}
        header = [name for name in COLUMNS if name in used or name in ("patient_id", "date", "headache_hours")]
    else:
        header = list(columns)
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    for row in listed:
        writer.writerow([row.get(name, "") for name in header])
    return out.getvalue()


def medicate(rows: list[Row], acute_class: str, n: int, offset: int = 0) -> list[Row]:
    """Add ``acute_class`` to ``acute_medication`` of rows ``offset .. offset+n-1`` (in place; returns ``rows``)."""
    assert offset + n <= len(rows), "not enough rows to medicate"
    for row in rows[offset : offset + n]:
        taken = row.get("acute_medication", "")
        row["acute_medication"] = f"{taken};{acute_class}" if taken else acute_class
    return rows


def period_rows(
    patient_id: str,
    start: date,
    *,
    recorded: int = PERIOD_DAYS,
    migraine: int = 0,
    headache_4h: int = 0,
    headache: int = 0,
    short_migraine: int = 0,
    medication: Mapping[str, int | tuple[int, int]] | None = None,
) -> list[Row]:
    """The rows of one 28-day period from ``start``: first ``migraine`` MIGRAINE days, then ``headache_4h``
    HEADACHE_4H days, ``headache`` HEADACHE days, ``short_migraine`` SHORT_MIGRAINE days, then FREE days, up to
    ``recorded`` rows on consecutive dates; the rest of the 28 days have no row.

    ``medication`` maps a class to a number of rows (from the first) or to ``(rows, offset)``.
    """
    kinds = (
        [MIGRAINE] * migraine + [HEADACHE_4H] * headache_4h + [HEADACHE] * headache + [SHORT_MIGRAINE] * short_migraine
    )
    assert len(kinds) <= recorded <= PERIOD_DAYS, "more kinds of day than recorded days"
    kinds += [FREE] * (recorded - len(kinds))
    rows = [
        {"patient_id": patient_id, "date": (start + timedelta(days=i)).isoformat(), **kind}
        for i, kind in enumerate(kinds)
    ]
    for acute_class, spec in (medication or {}).items():
        n, offset = (spec, 0) if isinstance(spec, int) else spec
        medicate(rows, acute_class, n, offset)
    return rows


def periods_back(patient_id: str, as_of: date, *specs: Mapping[str, object]) -> list[Row]:
    """Rows for periods laid backwards from ``as_of`` (inclusive): ``specs[0]`` is period 1 (``as_of-27 ..
    as_of``), ``specs[1]`` period 2, and so on; each spec holds ``period_rows`` keywords."""
    rows: list[Row] = []
    for i, spec in enumerate(specs):
        start = as_of - timedelta(days=PERIOD_DAYS - 1 + PERIOD_DAYS * i)
        rows = period_rows(patient_id, start, **spec) + rows  # type: ignore[arg-type]
    return rows


def treated_rows(
    patient_id: str, day0: date, baseline: int | tuple[int, int], *periods: int | tuple[int, int]
) -> list[Row]:
    """Rows around a first injection on ``day0``: the baseline (days -28..-1), then periods 1, 2, ... after it.

    Each of ``baseline`` and ``periods`` is a number of HEADACHE days in 28 recorded days, or
    ``(headache days, recorded days)``.
    """
    rows: list[Row] = []
    for k, spec in enumerate((baseline, *periods)):
        headache, recorded = (spec, PERIOD_DAYS) if isinstance(spec, int) else spec
        start = day0 + timedelta(days=PERIOD_DAYS * (k - 1))
        rows += period_rows(patient_id, start, recorded=recorded, headache=headache)
    return rows
