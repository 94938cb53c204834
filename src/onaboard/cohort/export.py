"""A clinic's cohort as a cohort directory for a registry (``onaboard cohort export``), and what the report reads back.

The web app's selectors make the clinic's five tables (``onaboard.web.analytics.selectors.clinic_cohort_export``,
the same tables the clinic's ``/analytics/`` page reports on); this module, free of Django, gives the patients
registry ids (``registry_ids``, ``pseudonymised``), writes the tables in ``tables.SCHEMAS``' columns and types, all
or nothing (``write_export``), and beside them ``export.json``, the manifest (``ExportManifest``): the day the
export was made as of, and what the clinic's app cannot record (the label's adverse-reaction rows it has no kind
for, and decisions to stop for an adverse event). ``report.cohort_report`` reads the manifest, so ``onaboard cohort
report`` on the export is the clinic page's report of that day, figure for figure (docs/cohort.md, "Exporting a
clinic's cohort").

What leaves the database is the tables' columns and nothing else: no name, record number, public id, contact
detail, user or free text (the diary's notes are not a column; preventive classes and side-effect kinds are codes).
"""

from __future__ import annotations

import json
import os
import random
import shutil
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from types import MappingProxyType
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from onaboard.cohort.backends import CohortSourceError
from onaboard.cohort.tables import TABLES, diary_csv_table

__all__ = [
    "AS_OF_AFTER_EXPORT",
    "BAD_MANIFEST",
    "MANIFEST",
    "MANIFEST_FORMAT",
    "OUT_NOT_EMPTY",
    "REGISTRY_ID_PREFIX",
    "ExportManifest",
    "ExportedFiles",
    "out_problem",
    "pseudonymised",
    "read_manifest",
    "registry_id",
    "registry_ids",
    "write_export",
]

MANIFEST = "export.json"
"""The manifest's file name in an exported cohort directory."""

MANIFEST_FORMAT = "onaboard-cohort-export"
MANIFEST_VERSION = 1

REGISTRY_ID_PREFIX = "R"
"""Registry ids read ``R0000001``: not a synthetic patient's ``C0000001``, not a record number or a public id."""
REGISTRY_ID_DIGITS = 7

OUT_NOT_EMPTY = "--out: {path} is not empty ({names}); name a new or empty directory"
BAD_MANIFEST = "{path}: not an onaboard cohort export's manifest ({reason})"
AS_OF_AFTER_EXPORT = (
    "--as-of: {as_of} is after the day the export was made as of ({exported}); it holds nothing later, so a period "
    "running then would be judged on missing days"
)

SORT_KEYS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "patients": ("patient_id",),
        "diary": ("patient_id", "date"),
        "sessions": ("patient_id", "session_number"),
        "prom": ("patient_id", "visit"),
        "adverse_events": ("patient_id", "session_number", "onset_date", "event"),
    }
)
"""Each table's row order in the files, by registry id (which says nothing of when a patient was registered)."""


def registry_id(number: int) -> str:
    """The ``number``-th registry id (1-based): ``R0000001``."""
    return f"{REGISTRY_ID_PREFIX}{number:0{REGISTRY_ID_DIGITS}d}"


def registry_ids(public_ids: Sequence[str], *, rng: random.Random | None = None) -> dict[str, str]:
    """A registry id for each public id, numbered 1.. in a random order (``rng``, else the system's randomness), so
    the number tells neither the record nor when it was made, and two exports give a patient different ids."""
    numbers = list(range(1, len(public_ids) + 1))
    (rng or random.SystemRandom()).shuffle(numbers)
    return {key: registry_id(number) for key, number in zip(public_ids, numbers, strict=True)}


def pseudonymised(tables: Mapping[str, pa.Table], ids: Mapping[str, str]) -> dict[str, pa.Table]:
    """The tables with each ``patient_id`` replaced by its registry id (``ids``; every id must be there), sorted by
    registry id (``SORT_KEYS``). A row whose patient has no registry id cannot leave: ``KeyError``."""
    keys = pa.array(list(ids), pa.string())
    values = pa.array(list(ids.values()), pa.string())
    result = {}
    for name in TABLES:
        table = tables[name]
        place = pc.index_in(table["patient_id"], value_set=keys)
        if place.null_count:
            raise KeyError(f"{name}: a patient without a registry id")
        replaced = table.set_column(
            table.schema.get_field_index("patient_id"), table.schema.field("patient_id"), values.take(place)
        )
        result[name] = replaced.sort_by([(column, "ascending") for column in SORT_KEYS[name]])
    return result


@dataclass(frozen=True, slots=True)
class ExportManifest:
    """``export.json``: what ``onaboard cohort report`` needs to report an export as the clinic's page did."""

    as_of: date
    """The day the export was made as of: nothing dated after it is in the tables; the report's default ``--as-of``."""
    patients: int
    recorded_events: Mapping[str, tuple[str, ...]]
    """Each ``event`` code of the adverse-events table and the label rows it stands for (``cohort_report_of``)."""
    discontinuation_recorded: bool
    """False: the source records no decision to stop for an adverse event (``cohort_report_of``)."""

    def to_json(self) -> dict[str, Any]:
        return {
            "format": MANIFEST_FORMAT,
            "version": MANIFEST_VERSION,
            "as_of": self.as_of.isoformat(),
            "patients": self.patients,
            "recorded_events": {code: list(rows) for code, rows in self.recorded_events.items()},
            "discontinuation_recorded": self.discontinuation_recorded,
        }


def read_manifest(directory: Path) -> ExportManifest | None:
    """The manifest of an exported clinic cohort in ``directory``; None where there is none (a registry's or the
    synthetic cohort's directory). ``CohortSourceError`` names a manifest that cannot be read."""
    path = directory / MANIFEST
    if not path.is_file():
        return None
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
        if document.get("format") != MANIFEST_FORMAT or document.get("version") != MANIFEST_VERSION:
            raise ValueError(f"format {document.get('format')!r} version {document.get('version')!r}")
        events = document["recorded_events"]
        if not isinstance(events, dict) or not all(
            isinstance(rows, list) and all(isinstance(row, str) for row in rows) for rows in events.values()
        ):
            raise ValueError("recorded_events is not an object of lists of label rows")
        if not isinstance(document["discontinuation_recorded"], bool) or not isinstance(document["patients"], int):
            raise ValueError("discontinuation_recorded or patients has the wrong type")
        return ExportManifest(
            as_of=date.fromisoformat(document["as_of"]),
            patients=document["patients"],
            recorded_events=MappingProxyType({str(code): tuple(rows) for code, rows in events.items()}),
            discontinuation_recorded=document["discontinuation_recorded"],
        )
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as error:
        raise CohortSourceError([BAD_MANIFEST.format(path=path, reason=error)]) from None


def out_problem(out: Path) -> str | None:
    """Why ``out`` cannot take an export: it exists and is not an empty directory (a file, another cohort, anything
    at all: an export never mixes with or replaces other files). None for a new path or an empty directory."""
    if not out.exists():
        return None
    if not out.is_dir():
        return OUT_NOT_EMPTY.format(path=out, names="a file")
    names = sorted(entry.name for entry in out.iterdir())
    return OUT_NOT_EMPTY.format(path=out, names=", ".join(names)) if names else None


@dataclass(frozen=True, slots=True)
class ExportedFiles:
    """What ``write_export`` wrote: each table's Parquet file and rows, the CSV files (``csv``), the manifest."""

    directory: Path
    paths: Mapping[str, Path]
    rows: Mapping[str, int]
    csv_paths: tuple[Path, ...]
    manifest: Path


def write_export(
    out: Path,
    tables: Mapping[str, pa.Table],
    manifest: ExportManifest,
    *,
    csv: bool = False,
    progress: Callable[[str], None] | None = None,
) -> ExportedFiles:
    """Write the tables to the new or empty directory ``out``: ``<table>.parquet`` in the tables' columns and types
    (``tables.SCHEMAS``, a column the clinic may leave empty nullable), with ``csv`` also ``<table>.csv`` (the diary
    as the diary CSV contract), and the manifest. All or nothing: everything is written into a hidden directory
    beside ``out`` and renamed to ``out`` at the end, so a failed or interrupted export leaves no directory a report
    would read. ``progress`` is called with each table's name once it is written. ``ValueError`` where ``out`` is
    not new or empty (``out_problem``), ``OSError`` where it cannot be written."""
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    if problem := out_problem(out):
        raise ValueError(problem)
    target = out.resolve()
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.partial-{os.getpid()}")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir()
    paths: dict[str, Path] = {}
    rows: dict[str, int] = {}
    csv_paths: list[Path] = []
    try:
        for name in TABLES:
            table = tables[name]
            pq.write_table(table, partial / f"{name}.parquet", compression="snappy")
            paths[name], rows[name] = out / f"{name}.parquet", len(table)
            if csv:
                text = diary_csv_table(table) if name == "diary" else table
                pacsv.write_csv(text, partial / f"{name}.csv", write_options=pacsv.WriteOptions(quoting_style="needed"))
                csv_paths.append(out / f"{name}.csv")
            if progress is not None:
                progress(name)
        document = json.dumps(manifest.to_json(), ensure_ascii=False, indent=2) + "\n"
        (partial / MANIFEST).write_text(document, encoding="utf-8")
        partial.replace(target)  # an empty directory is replaced; a new one appears whole
    finally:
        shutil.rmtree(partial, ignore_errors=True)
    return ExportedFiles(out, paths, rows, tuple(csv_paths), out / MANIFEST)
