"""`onaboard cohort export`: a clinic's patients from the app's database as a cohort directory for a registry.

``onaboard cohort export --out DIR [--clinic NAME|ID] [--user USERNAME] [--as-of DATE] [--csv] [--json]`` writes
the five tables ``onaboard synth`` writes, in the same columns and types (``onaboard.cohort.tables``), as the
clinic's ``/analytics/`` page reads them (``onaboard.web.analytics.selectors.clinic_cohort_export``), with registry
ids instead of the patients' ids, and ``export.json`` (``onaboard.cohort.export``), so ``onaboard cohort report DIR``
gives the page's figures of that day. docs/cohort.md says exactly what leaves the database.

The clinic is ``--clinic`` (name or id), else the ``--user``'s clinic, else the only clinic there is (more than one:
exit 2 asking for ``--clinic``), as the other database commands choose it. ``--user`` names who is recorded in the
audit trail and must be a clinician or nurse of that clinic (they see clinical records); without it the events name
no user. Each exported patient gets one EXPORT audit event naming their registry id, written in the same
transaction as the files: an export that fails records nothing. Exit 2, with every problem on stderr and nothing
on stdout, for an --out that exists and is not empty, a bad date, or an unknown clinic or user.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer

from onaboard.commands import JsonFlag, print_json
from onaboard.commands.common import (
    USER_MAY_NOT,
    clinic_named,
    clinic_patients,
    django_setup,
    fail,
    iso_date,
    user_named,
)

AS_OF_AFTER_TODAY = "--as-of: {value} is after the clinic's today ({today}); the export holds the records up to a day"
EXPORTED = "Wrote {path}: {patients} patient(s) of {clinic} as of {as_of}, with registry ids (docs/cohort.md)."
HOW = "command line cohort export"
"""The audit events' ``detail``: where the tables went."""


def cohort_export_command(
    out: Annotated[
        str,
        typer.Option(
            "--out",
            help="Directory to write the tables to: new or empty (anything else is refused).",
            show_default=False,
        ),
    ],
    clinic: Annotated[
        str | None,
        typer.Option("--clinic", help="The clinic's name or id (needed when the database holds several)."),
    ] = None,
    user: Annotated[
        str | None,
        typer.Option("--user", help="The username recorded in the audit trail (a clinician or nurse of the clinic)."),
    ] = None,
    as_of: Annotated[
        str | None,
        typer.Option(
            "--as-of",
            help=(
                "The day to export as of (YYYY-MM-DD, not after today): records dated after it are left out, and "
                "it is the report's assessment day. Default: the clinic's today."
            ),
            show_default=False,
        ),
    ] = None,
    csv: Annotated[bool, typer.Option("--csv", help="Also write CSV (the diary as the diary CSV contract).")] = False,
    json_output: JsonFlag = False,
) -> None:
    """Write a clinic's patients as a cohort directory for a registry, with registry ids instead of theirs.

    The tables and columns of `onaboard synth` (patients: sex, birth date,
    observed window, failed preventives; the diary without notes; sessions;
    HIT-6 and MIDAS visits; side effects) and export.json, so `onaboard
    cohort report DIR` gives the clinic's /analytics/ figures of that day.

    No name, record number, public id or free text leaves the database. Each
    patient's export is audited.

    With --json, one JSON object with the keys: directory, clinic,
    clinic_id, as_of, patients, tables (per table: path, rows), csv,
    manifest (the path of export.json).
    """
    from onaboard.cohort.cli import BAD_AS_OF, OUT_EMPTY, OUT_IS_FILE
    from onaboard.cohort.export import OUT_NOT_EMPTY

    problems = []
    directory = Path(out)
    as_of_date = None if as_of is None else iso_date(as_of)
    if as_of is not None and as_of_date is None:
        problems.append(BAD_AS_OF.format(value=as_of))
    if not out:
        problems.append(OUT_EMPTY)
    elif directory.exists() and not directory.is_dir():
        problems.append(OUT_IS_FILE.format(path=directory))
    elif directory.is_dir() and (names := sorted(entry.name for entry in directory.iterdir())):
        problems.append(OUT_NOT_EMPTY.format(path=directory, names=", ".join(names)))
    if problems:
        fail(*problems)

    django_setup()
    from django.db import transaction

    from onaboard.cli import clinic_today
    from onaboard.cohort.export import ExportManifest, write_export
    from onaboard.outputs import not_writable
    from onaboard.web.analytics.selectors import RECORDED_EVENTS, may_export_clinic_cohort

    actor = user_named(user)
    # Row-level data leaves with the clinic's clinicians and nurses only; the export enforces the same rule
    # (may_export_clinic_cohort), and this refusal names the user before anything is read.
    if actor is not None and not may_export_clinic_cohort(actor):
        fail(USER_MAY_NOT.format(user=actor.username, what="export the clinic's patients"))
    where = clinic_named(clinic, actor)
    today = clinic_today()
    if as_of_date is not None and as_of_date > today:
        fail(AS_OF_AFTER_TODAY.format(value=as_of_date, today=today))
    day = as_of_date or today
    with transaction.atomic(), _progress() as progress:
        task = progress.add_task("reading the clinic's records", total=6)
        tables = _clinic_tables(actor, clinic_patients(where, actor), day)
        progress.update(task, advance=1, description="writing")
        manifest = ExportManifest(
            as_of=day,
            patients=len(tables["patients"]),
            recorded_events=RECORDED_EVENTS,
            discontinuation_recorded=False,
        )
        try:
            written = write_export(
                directory,
                tables,
                manifest,
                csv=csv,
                progress=lambda name: progress.update(task, advance=1, description=f"wrote {name}"),
            )
        except ValueError as refused:  # --out filled up since it was checked
            fail(str(refused))
        except OSError as error:
            fail(not_writable("--out", directory, error))
    document = {
        "directory": str(directory),
        "clinic": where.name,
        "clinic_id": str(where.external_id),
        "as_of": day.isoformat(),
        "patients": manifest.patients,
        "tables": {name: {"path": str(path), "rows": written.rows[name]} for name, path in written.paths.items()},
        "csv": csv,
        "manifest": str(written.manifest),
    }
    if json_output:
        print_json(document)
        return
    print(EXPORTED.format(path=directory, patients=manifest.patients, clinic=where.name, as_of=day.isoformat()))
    for name, path in written.paths.items():
        print(f"  {name}: {written.rows[name]:,} rows, {path}")


def _progress() -> Any:
    """A bar on stderr (a terminal only): reading the records, then each table written."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    console = Console(stderr=True)
    return Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
        disable=not console.is_terminal,
    )


def register(app: typer.Typer) -> None:
    """Add `onaboard cohort export` to the `cohort` group (``onaboard.cohort.cli.cohort_app``, which ``app`` holds)."""
    from onaboard.cohort.cli import cohort_app

    cohort_app.command("export")(cohort_export_command)


def _clinic_tables(actor: Any, patients: Any, day: date) -> dict[str, Any]:
    """The clinic's patients as the registry's tables on ``day`` (``clinic_cohort_export``); the command fails (exit
    2) listing every problem when the clinic's records fail a check the report would make of them."""
    from onaboard.cohort.backends import CohortSourceError
    from onaboard.web.analytics.selectors import clinic_cohort_export

    try:
        return clinic_cohort_export(user=actor, patients=patients, today=day, how=HOW)
    except CohortSourceError as refused:
        fail(*refused.problems)
