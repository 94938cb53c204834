"""`onaboard` coverage and document: payer criteria and the clinic's PDFs from the app's database.

``onaboard coverage --policy POLICY_ID --patient PATIENT_ID [--stage initial|continuation] [--json]`` judges the
patient against a shipped coverage policy, by default at the stage due under it (the engine's ``stage_due``), every
criterion with its outcome and evidence (the same JSON as the API's ``/api/patients/{id}/coverage``).
``onaboard document prior-auth|continuation|procedure|patient-summary --patient PATIENT_ID [--session ID] -o
FILE.pdf [--json]`` writes one of the clinic's documents (with ``--json``, a summary of what was written).
PATIENT_ID is the patient's public id (UUID) or record number. Django is set up inside each command (settings
``onaboard.web.config.settings.dev`` unless DJANGO_SETTINGS_MODULE names others), so ``import onaboard.cli`` stays
free of Django. Exit 2, with the problem on stderr and nothing on stdout, for an unknown patient, policy or session,
or a document that cannot be written.
"""

from __future__ import annotations

import enum
from pathlib import Path
from typing import Annotated, Any

import typer

from onaboard.commands import JsonFlag, output_problems, print_json, setup_django
from onaboard.outputs import not_writable, written_whole

DEFAULT_SETTINGS = "onaboard.web.config.settings.dev"
UNKNOWN_STAGE = "--stage: must be initial or continuation (got {value!r})"

OUTCOME_MARKS = {"met": "met", "not_met": "NOT MET", "missing_information": "missing"}


class DocumentName(enum.StrEnum):
    PRIOR_AUTH = "prior-auth"
    CONTINUATION = "continuation"
    PROCEDURE = "procedure"
    PATIENT_SUMMARY = "patient-summary"


def _setup_django() -> None:
    setup_django(DEFAULT_SETTINGS)


def _today() -> Any:
    """Today, or ONABOARD_TODAY when set (``onaboard.cli.clinic_today``, imported late: this module is imported by
    that one)."""
    from onaboard.cli import clinic_today

    return clinic_today()


def _fail(message: str) -> None:
    from onaboard.cli import fail

    fail([message])


def coverage_command(
    policy: Annotated[str, typer.Option("--policy", help="A shipped coverage policy id, e.g. nice-ta260.")],
    patient: Annotated[str, typer.Option("--patient", help="The patient's id (UUID) or record number.")],
    stage: Annotated[
        str | None,
        typer.Option(
            "--stage",
            help=(
                "initial or continuation (default: the stage due under the policy: continuation once its "
                "continuation criteria's after_cycles sessions are recorded, else initial)."
            ),
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print exactly one JSON document on stdout.")] = False,
) -> None:
    """Judge a patient of the app's database against a coverage policy: every criterion, outcome and evidence."""
    if stage is not None and stage not in ("initial", "continuation"):
        _fail(UNKNOWN_STAGE.format(value=stage))
    _setup_django()
    from onaboard.web.audit.models import Action
    from onaboard.web.audit.services import audit_record
    from onaboard.web.coverage.selectors import (
        CoverageUnavailableError,
        evaluate,
        patient_by_identifier,
        patient_facts,
        policy_by_id,
    )
    from onaboard.web.coverage.serialize import coverage_json

    today = _today()
    try:
        chosen = policy_by_id(policy)
        record = patient_by_identifier(patient)
    except CoverageUnavailableError as error:
        _fail(str(error))
        return
    from onaboard.clinical import Stage

    facts = patient_facts(record, today=today)
    view = evaluate(facts, chosen, Stage(stage) if stage else None)  # None: the stage due under the policy
    audit_record(
        user=None,
        action=Action.READ,
        object_type="coverage",
        object_id=record.external_id,
        patient_id=record.external_id,
        detail=f"command line {chosen.id} {view.evaluation.stage.value}: {view.evaluation.status.value}",
    )
    if as_json:
        print_json(coverage_json(view, patient_id=str(record.external_id)))
        return
    evaluation = view.evaluation
    print(f"{record.family_name}, {record.given_name} ({record.record_number}) on {today.isoformat()}")
    print(evaluation.summary)
    for criterion in evaluation.criteria:
        print(f"[{OUTCOME_MARKS[criterion.outcome.value]}] {criterion.name} ({criterion.key})")
        for line in criterion.evidence:
            print(f"    {line}")
        print(f"    rule: {criterion.rule}; source: {criterion.source.citation}")
    for note in evaluation.notes:
        print(f"note: {note}")
    for note in view.assumptions:
        print(f"assumed: {note}")


def document_command(
    kind: Annotated[DocumentName, typer.Argument(help="Which document.")],
    patient: Annotated[str, typer.Option("--patient", help="The patient's id (UUID) or record number.")],
    output: Annotated[Path, typer.Option("-o", "--output", help="The PDF file to write.")],
    session: Annotated[
        str | None,
        typer.Option("--session", help="The session's id (procedure, patient-summary; default the latest)."),
    ] = None,
    policy: Annotated[
        str | None, typer.Option("--policy", help="Coverage policy for the letters (default: the patient's).")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Write one of the clinic's documents for a patient of the app's database as a PDF.

    With --json, one JSON object with the keys:
    file, document (prior-auth, continuation, procedure or patient-summary),
    title (the document's title, in the app's language), bytes (the PDF's
    size), patient_id (the public id), record_number.
    The PDF always goes to -o, never to stdout: -o - exits 2.
    """
    for problem in output_problems(output):
        _fail(problem)
    _setup_django()
    from onaboard.web.coverage.documents import document_pdf
    from onaboard.web.coverage.selectors import CoverageUnavailableError, patient_by_identifier

    today = _today()
    try:
        record = patient_by_identifier(patient)
        made = document_pdf(
            kind.value,
            user=None,
            patient=record,
            today=today,
            session_id=session,
            policy_id=policy,
            channel="command line",
        )
    except CoverageUnavailableError as error:
        _fail(str(error))
        return
    try:
        with written_whole(output) as partial:
            partial.write_bytes(made.pdf)
    except OSError as error:
        _fail(not_writable("-o", output, error))
        return
    if as_json:
        print_json(
            {
                "file": str(output),
                "document": made.kind.value,
                "title": str(made.kind.title),
                "bytes": len(made.pdf),
                "patient_id": str(record.external_id),
                "record_number": record.record_number,
            }
        )
        return
    print(f"wrote {output} ({made.kind.title}, {len(made.pdf)} bytes)")


def register(app: typer.Typer) -> None:
    """Add this module's commands to the `onaboard` command."""
    app.command("coverage")(coverage_command)
    app.command("document")(document_command)
