"""`onaboard` fhir, import and export: FHIR Bundles and CSV files in and out of the app's database.

``onaboard fhir export --patient ID|--all -o FILE.json`` and ``onaboard fhir import FILE.json`` move FHIR R4B
Bundles; ``onaboard import diary FILE.csv`` and ``onaboard export diary --patient ID -o FILE.csv`` move diary CSV
files (shared/spec/diary-csv.md, ``patient_id`` = the record number). Imports are all or nothing, in one
transaction, and importing the same file twice changes nothing. A patient is named by record number or public id;
the clinic by ``--clinic`` (name or id), else the ``--user``'s clinic, else the only clinic there is. ``--user``
names who is recorded in the audit trail (and must be allowed to do it); without it the audit events name no user
and say "command line".

With ``--json`` each prints a summary of what it did as exactly one JSON document on stdout (its keys in its
help) and nothing else there; progress bars go to stderr. Files are always written to ``-o``, never to stdout, so
``-o -`` exits 2, with ``--json`` or without.

Django is set up inside the commands (settings ``onaboard.web.config.settings.dev`` unless DJANGO_SETTINGS_MODULE
is set), so ``import onaboard.cli`` loads no Django. Problems go to stderr, with exit status 2.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
from collections import Counter
from pathlib import Path
from typing import Annotated, Any

import typer

from onaboard.commands import JsonFlag, output_problems, print_json
from onaboard.commands.common import (
    USER_MAY_NOT,
    clinic_named,
    clinic_patients,
    django_setup,
    fail,
    require_capability,
    user_named,
)
from onaboard.outputs import not_writable, written_whole

# --- Messages (tests assert them exactly) -----------------------------------------------------------------------

NO_SUCH_PATIENT = "no patient {value!r} in {clinic}"
PATIENT_OR_ALL = "give --patient PATIENT_ID or --all"
CANNOT_READ = "{path}: cannot read the file ({reason})"
NOT_JSON = "{path}: not JSON ({reason})"
EXPORTED = "Wrote {path}: {patients} patient(s), {resources} resources."
TABLE_EXPORTED = "Wrote {path}: the {kind} of {patient}."
DIARY_EXPORTED = "Wrote {path}: {days} diary days of {patient}."
IMPORTED = "Imported {path} into {clinic}:"
UNCHANGED = "Nothing changed: everything in {path} is already stored."

PatientOption = Annotated[
    str | None, typer.Option("--patient", help="The patient's record number or public id (UUID).")
]
ClinicOption = Annotated[str | None, typer.Option("--clinic", help="The clinic's name or id.")]
UserOption = Annotated[str | None, typer.Option("--user", help="The username recorded in the audit trail.")]
OutputOption = Annotated[Path, typer.Option("-o", "--output", help="The file to write.")]


def _write_output(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` whole or not at all (a temporary file beside it, then renamed); a path that cannot
    be written exits 2 naming it. Called inside the export's transaction, so a refusal also undoes the export's
    audit entry: no export is recorded for a file that was never written."""
    try:
        with written_whole(path) as partial:
            partial.write_text(text, encoding="utf-8")
    except OSError as error:
        fail(not_writable("-o", path, error))


def _patient(clinic: Any, value: str, user: Any = None) -> Any:
    import uuid

    mine = clinic_patients(clinic, user)
    patients = mine.filter(record_number=value)
    with contextlib.suppress(ValueError):
        patients = patients | mine.filter(external_id=uuid.UUID(value))
    patient = patients.first()
    if patient is None:
        fail(NO_SUCH_PATIENT.format(value=value, clinic=clinic.name))
    return patient


def _own_record(user: Any) -> Any:
    """A patient importing without ``--patient`` imports into their own record; staff import any of the clinic's."""
    from onaboard.web.accounts.models import Role
    from onaboard.web.patients.access import patients_visible_to

    if user is None or user.role != Role.PATIENT:
        return None
    own = patients_visible_to(user).first()
    if own is None:
        fail(USER_MAY_NOT.format(user=user.username, what="import into a closed record"))
    return own


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as error:
        fail(CANNOT_READ.format(path=path, reason=error.strerror or error))


def _resource_types(entries: Any) -> dict[str, int]:
    """How many of a Bundle's entries hold each FHIR resource type (its ``resourceType``), sorted by type."""
    kinds = Counter(
        entry["resource"]["resourceType"]
        for entry in entries
        if isinstance(entry, dict)
        and isinstance(entry.get("resource"), dict)
        and isinstance(entry["resource"].get("resourceType"), str)
    )
    return dict(sorted(kinds.items()))


def _clinic_json(clinic: Any) -> dict[str, str]:
    return {"clinic": clinic.name, "clinic_id": str(clinic.external_id)}


def _patient_json(patient: Any) -> dict[str, str]:
    return {"patient_id": str(patient.external_id), "record_number": patient.record_number}


def _progress(label: str) -> Any:
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    console = Console(stderr=True)
    return Progress(
        TextColumn(label),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=True,
        disable=not console.is_terminal,
    )


def fhir_export_command(
    output: OutputOption,
    patient: PatientOption = None,
    all_patients: Annotated[bool, typer.Option("--all", help="Every patient of the clinic.")] = False,
    clinic: ClinicOption = None,
    user: UserOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Write one patient, or every patient of a clinic, as a FHIR R4B transaction Bundle.

    With --json, one JSON object with the keys:
    file, clinic, clinic_id, patients (how many), resources (entries in the
    Bundle), resources_by_type (entries per FHIR resourceType).
    The Bundle always goes to -o, never to stdout: -o - exits 2.
    """
    problems = [PATIENT_OR_ALL] if (patient is None) == (not all_patients) else []
    problems += output_problems(output)
    if problems:
        fail(*problems)
    django_setup()
    from django.db import transaction

    from onaboard.interop.fhir import bundle_json
    from onaboard.web.interop.selectors import patients_export

    actor = user_named(user)
    require_capability(actor, "view_clinical", "export clinical records")
    where = clinic_named(clinic, actor)
    patients = [_patient(where, patient, actor)] if patient is not None else list(clinic_patients(where, actor))
    with transaction.atomic(), _progress("Exporting") as progress:
        task = progress.add_task("export", total=len(patients))
        documents = []
        for one in patients:
            documents.append(patients_export(user=actor, patients=[one], how="command line"))
            progress.advance(task)
        entries = [entry for document in documents for entry in document["entry"]]
        empty = {"resourceType": "Bundle", "type": "transaction"}
        _write_output(output, bundle_json({**(documents[0] if documents else empty), "entry": entries}))
    if as_json:
        print_json(
            {
                "file": str(output),
                **_clinic_json(where),
                "patients": len(patients),
                "resources": len(entries),
                "resources_by_type": _resource_types(entries),
            }
        )
        return
    print(EXPORTED.format(path=output, patients=len(patients), resources=len(entries)))


def fhir_import_command(
    path: Annotated[Path, typer.Argument(help="A FHIR Bundle (transaction, collection or searchset).")],
    clinic: ClinicOption = None,
    user: UserOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Import a FHIR Bundle: every resource, or (listing every problem with its place) none.

    With --json, one JSON object with the keys:
    file, clinic, clinic_id, changed (true when a record was created or
    updated), counts (per kind of record, such as patients, diary_days,
    sessions: created, updated, unchanged), resources_by_type (the Bundle's
    entries per FHIR resourceType).
    """
    raw = _read(path)
    try:
        document = json.loads(raw)
    except ValueError as error:
        fail(NOT_JSON.format(path=path, reason=error))
    except RecursionError:  # arrays or objects nested past the interpreter's recursion limit
        from onaboard.interop.fhir.read import NESTED_TOO_DEEPLY

        fail(f"{path}: {NESTED_TOO_DEEPLY}")
    django_setup()
    from onaboard.cli import clinic_today
    from onaboard.interop.fhir import BundleInvalidError, read_bundle
    from onaboard.web.interop.services import entry_places, fhir_records_import

    actor = user_named(user)
    require_capability(actor, "edit_clinical", "import clinical records")
    where = clinic_named(clinic, actor)
    today = clinic_today()  # one clock reading for the reading and the rules
    try:
        records = read_bundle(document, today=today)
        days = sum(len(record.diary) for record in records)
        with _progress("Importing diary days") as progress:
            task = progress.add_task("import", total=days)
            summary = fhir_records_import(
                user=actor,
                clinic=where,
                records=records,
                source=f"command line {path.name}",
                progress=lambda n: progress.advance(task, n),
                places=entry_places(document),
                today=today,
            )
    except BundleInvalidError as refused:
        fail(*(f"{problem.expression}: {problem.message}" for problem in refused.problems))
    if as_json:
        print_json(
            {
                **_import_json(summary, path, where),
                "resources_by_type": _resource_types(document.get("entry") or []),
                "decisions_not_imported": _decisions_json(summary),
            }
        )
        return
    _report(summary, path, where)


def _import_json(summary: Any, path: Path, clinic: Any) -> dict[str, Any]:
    """An import's summary: the file, the clinic, and per kind of record (snake_case) how many rows were created,
    updated and left unchanged."""
    counts = {
        kind.replace(" ", "_"): {"created": created, "updated": updated, "unchanged": unchanged}
        for kind, (created, updated, unchanged) in sorted(summary.counts.items())
    }
    return {"file": str(path), **_clinic_json(clinic), "changed": summary.changed, "counts": counts}


def _decisions_json(summary: Any) -> list[dict[str, Any]]:
    """Per patient, the decisions to continue or stop a FHIR Bundle held that were not imported: their number and
    the day of the latest when it was to stop."""
    return [
        {"record_number": number, "count": count, "latest_stop": stopped_on.isoformat() if stopped_on else None}
        for number, count, stopped_on in sorted(summary.decisions_not_imported)
    ]


def _report(summary: Any, path: Path, clinic: Any) -> None:
    if not summary.changed:
        print(UNCHANGED.format(path=path))
        for line in summary.notices():
            print(line)
        return
    print(IMPORTED.format(path=path, clinic=clinic.name))
    for line in summary.lines():
        print(line)


def import_diary_command(
    path: Annotated[Path, typer.Argument(help="A diary CSV (shared/spec/diary-csv.md); patient_id = record number.")],
    patient: PatientOption = None,
    clinic: ClinicOption = None,
    user: UserOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Import a diary CSV: every row, or (listing every problem as line N, column C) none.

    With --json, one JSON object with the keys:
    file, clinic, clinic_id, changed (true when a record was created or
    updated), counts (per kind of record, such as diary_days and patients:
    created, updated, unchanged).
    """
    raw = _read(path)
    django_setup()
    from onaboard.cli import clinic_today
    from onaboard.web.interop.services import DiaryCsvInvalidError, diary_csv_import

    actor = user_named(user)
    require_capability(actor, "keep_diary", "import diary days")
    where = clinic_named(clinic, actor)
    chosen = _patient(where, patient, actor) if patient is not None else _own_record(actor)
    lines = max(raw.count(b"\n") - 1, 1)
    try:
        with _progress("Importing diary days") as progress:
            task = progress.add_task("import", total=lines)
            summary = diary_csv_import(
                user=actor,
                clinic=where,
                source=raw,
                today=clinic_today(),
                patient=chosen,
                filename=f"command line {path.name}",
                progress=lambda n: progress.advance(task, n),
            )
    except DiaryCsvInvalidError as refused:
        fail(*(str(problem) for problem in refused.problems))
    if as_json:
        print_json(_import_json(summary, path, where))
        return
    _report(summary, path, where)


def export_diary_command(
    output: OutputOption,
    patient: Annotated[str, typer.Option("--patient", help="The patient's record number or public id (UUID).")],
    clinic: ClinicOption = None,
    user: UserOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Write one patient's diary as a diary CSV (the contract's columns, patient_id = record number).

    With --json, one JSON object with the keys:
    file, clinic, clinic_id, patient_id (the public id), record_number,
    diary_days (how many were written).
    The CSV always goes to -o, never to stdout: -o - exits 2.
    """
    if problems := output_problems(output):
        fail(*problems)
    django_setup()
    from django.db import transaction

    from onaboard.web.interop.selectors import diary_csv_export

    actor = user_named(user)
    require_capability(actor, "view_clinical", "export diaries")
    where = clinic_named(clinic, actor)
    chosen = _patient(where, patient, actor)
    with transaction.atomic():
        text, days = diary_csv_export(user=actor, patient=chosen, how="command line")
        _write_output(output, text)
    if as_json:
        print_json({"file": str(output), **_clinic_json(where), **_patient_json(chosen), "diary_days": days})
        return
    print(DIARY_EXPORTED.format(path=output, days=days, patient=chosen.record_number))


TableKind = Annotated[str, typer.Argument(help="preventives or sessions", metavar="preventives|sessions")]
NOT_A_KIND = "what to import or export is preventives or sessions (got {value!r})"


def import_table_command(
    kind: TableKind,
    path: Annotated[
        Path, typer.Argument(help="A preventives or sessions CSV (docs/fhir.md); patient_id = record number.")
    ],
    patient: PatientOption = None,
    clinic: ClinicOption = None,
    user: UserOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Import a preventive-history or sessions CSV: every row or, listing every problem, none.

    With --json, one JSON object with the keys:
    table (preventives or sessions), file, clinic, clinic_id, changed (true
    when a record was created or updated), counts (per kind of record, such
    as preventives, other_toxins, sessions: created, updated, unchanged).
    """
    if kind not in {"preventives", "sessions"}:
        fail(NOT_A_KIND.format(value=kind))
    raw = _read(path)
    django_setup()
    from onaboard.cli import clinic_today
    from onaboard.web.interop.services import DiaryCsvInvalidError, table_csv_import

    actor = user_named(user)
    require_capability(actor, "edit_clinical" if kind == "preventives" else "record_session", f"import {kind}")
    where = clinic_named(clinic, actor)
    chosen = _patient(where, patient, actor) if patient is not None else _own_record(actor)
    try:
        summary = table_csv_import(
            user=actor, clinic=where, kind=kind, source=raw, today=clinic_today(), patient=chosen
        )
    except DiaryCsvInvalidError as refused:
        fail(*(str(problem) for problem in refused.problems))
    if as_json:
        print_json({"table": kind, **_import_json(summary, path, where)})
        return
    _report(summary, path, where)


def export_table_command(
    kind: TableKind,
    output: OutputOption,
    patient: Annotated[str, typer.Option("--patient", help="The patient's record number or public id (UUID).")],
    clinic: ClinicOption = None,
    user: UserOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Write one patient's preventive history or sessions as CSV.

    With --json, one JSON object with the keys:
    file, table (preventives or sessions), clinic, clinic_id, patient_id (the
    public id), record_number, rows (CSV rows below the header).
    The CSV always goes to -o, never to stdout: -o - exits 2.
    """
    problems = [] if kind in {"preventives", "sessions"} else [NOT_A_KIND.format(value=kind)]
    problems += output_problems(output)
    if problems:
        fail(*problems)
    django_setup()
    from django.db import transaction

    from onaboard.web.interop.selectors import table_csv_export

    actor = user_named(user)
    require_capability(actor, "view_clinical", f"export {kind}")
    where = clinic_named(clinic, actor)
    chosen = _patient(where, patient, actor)
    with transaction.atomic():
        text = table_csv_export(user=actor, patient=chosen, kind=kind, how="command line")
        _write_output(output, text)
    if as_json:
        rows = sum(1 for _ in csv.reader(io.StringIO(text))) - 1
        print_json({"file": str(output), "table": kind, **_clinic_json(where), **_patient_json(chosen), "rows": rows})
        return
    print(TABLE_EXPORTED.format(path=output, kind=kind, patient=chosen.record_number))


def register(app: typer.Typer) -> None:
    """Add this module's commands to the `onaboard` command."""
    fhir_app = typer.Typer(help="FHIR R4B Bundles in and out of the clinic database.", no_args_is_help=True)
    fhir_app.command("export")(fhir_export_command)
    fhir_app.command("import")(fhir_import_command)
    import_app = typer.Typer(help="Import CSV files into the clinic database.", no_args_is_help=True)
    import_app.command("diary")(import_diary_command)
    import_app.command("table")(import_table_command)
    export_app = typer.Typer(help="Export CSV files from the clinic database.", no_args_is_help=True)
    export_app.command("diary")(export_diary_command)
    export_app.command("table")(export_table_command)
    app.add_typer(fhir_app, name="fhir")
    app.add_typer(import_app, name="import")
    app.add_typer(export_app, name="export")
