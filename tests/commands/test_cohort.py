"""`onaboard cohort export` (onaboard/commands/cohort.py): a clinic's patients as a cohort directory for a registry."""

from __future__ import annotations

import itertools
import json
from dataclasses import replace
from datetime import date, timedelta

import pyarrow.parquet as pq
import pytest
from django.utils import timezone
from typer.testing import CliRunner

from onaboard.cli import app
from onaboard.cohort.cli import OUT_IS_FILE
from onaboard.cohort.export import MANIFEST, OUT_NOT_EMPTY
from onaboard.cohort.report import report_json
from onaboard.cohort.tables import SCHEMAS, TABLES
from onaboard.commands import cohort, common
from onaboard.reports.cohort import NOT_RECORDED
from onaboard.web.accounts.models import Clinic, Role, User
from onaboard.web.analytics.selectors import clinic_cohort_report
from onaboard.web.audit.models import Action, AuditEvent
from onaboard.web.clinic.demo import demo_clinic_load
from onaboard.web.patients.models import Patient
from tests.cohort.conftest import IBIS_ON_DUCKDB_2
from tests.web.factories import ClinicFactory, UserFactory

pytestmark = IBIS_ON_DUCKDB_2


def _run(*args: str):
    return CliRunner().invoke(app, list(args))


@pytest.fixture
def today() -> date:
    """The command and the page both read the clinic's today."""
    return timezone.localdate()


@pytest.fixture
def demo(db: None, today: date) -> Clinic:
    """The demo clinic built for today: fourteen patients, seven treated."""
    return demo_clinic_load(today=today).clinic


@pytest.fixture
def clinician(demo: Clinic) -> User:
    """The demo clinic's clinician, who may see its cohort page."""
    return User.objects.get(clinic=demo, role=Role.CLINICIAN, username="dr.demo")


@pytest.mark.parametrize("days_back", [0, 40], ids=["today", "a past day"])
def test_the_report_on_the_export_is_the_clinic_pages_report_of_that_day(demo, clinician, today, tmp_path, days_back):
    """`onaboard cohort report` on the export gives the clinic's /analytics/ report of the export's day figure for
    figure (as of that day, with the label rows the app cannot record marked), without being told the day."""
    day = today - timedelta(days=days_back)
    out = tmp_path / "export"
    exported = _run("cohort", "export", "--out", str(out), "--as-of", day.isoformat(), "--json")
    assert exported.exit_code == 0, exported.output
    reported = _run("cohort", "report", str(out), "--json")
    assert reported.exit_code == 0, reported.output
    page = clinic_cohort_report(user=clinician, today=day)
    assert page.treated > 0
    assert json.loads(reported.stdout) == report_json(replace(page, directory=str(out)))
    assert json.loads(exported.stdout)["patients"] == page.patients


def test_the_export_holds_synths_tables_and_columns_and_no_identifier(demo, tmp_path):
    """Every table of `onaboard synth` is written with its schema's columns and types; no name, record number,
    public id or free text of any patient is in any file written, the CSV files included."""
    out = tmp_path / "export"
    assert _run("cohort", "export", "--out", str(out), "--csv").exit_code == 0
    for name in TABLES:
        schema = pq.read_schema(out / f"{name}.parquet")
        assert schema.names == SCHEMAS[name].names
        assert [field.type for field in schema] == [field.type for field in SCHEMAS[name]]
    written = b"".join(path.read_bytes() for path in sorted(out.iterdir()))
    assert sorted(path.name for path in out.iterdir()) == sorted(
        [*(f"{name}.parquet" for name in TABLES), *(f"{name}.csv" for name in TABLES), MANIFEST]
    )
    patients = Patient.objects.filter(clinic=demo)
    assert patients.count() == len(pq.read_table(out / "patients.parquet"))
    for patient in patients:
        for identifier in (patient.given_name, patient.family_name, patient.record_number, str(patient.external_id)):
            assert identifier.encode() not in written, identifier
    assert b"R0000001" in written


def test_each_exported_patient_is_audited_with_their_registry_id(demo, tmp_path):
    """One EXPORT event per patient, naming the patient and the registry id they carry in the files, so the clinic
    can find the record behind a registry's question."""
    out = tmp_path / "export"
    assert _run("cohort", "export", "--out", str(out), "--user", "nurse.demo").exit_code == 0
    events = AuditEvent.objects.filter(action=Action.EXPORT, object_type="cohort_export")
    assert events.count() == Patient.objects.filter(clinic=demo).count()
    assert {event.username for event in events} == {"nurse.demo"}
    ids = set(pq.read_table(out / "patients.parquet")["patient_id"].to_pylist())
    assert {event.detail.split("registry id ")[1].split(",")[0] for event in events} == ids
    assert {event.patient_id for event in events} == set(
        Patient.objects.filter(clinic=demo).values_list("external_id", flat=True)
    )


def test_an_out_that_is_not_empty_is_refused_and_nothing_is_exported(demo, tmp_path):
    """An --out holding anything, or a file, exits 2 naming it, leaves it as it was and records no export; an
    empty directory is written into."""
    full = tmp_path / "full"
    full.mkdir()
    (full / "notes.txt").write_text("keep me", encoding="utf-8")
    refused = _run("cohort", "export", "--out", str(full))
    assert (refused.exit_code, refused.stdout) == (2, "")
    assert refused.stderr.strip() == OUT_NOT_EMPTY.format(path=full, names="notes.txt")
    assert [path.name for path in full.iterdir()] == ["notes.txt"]
    a_file = tmp_path / "a-file"
    a_file.write_text("", encoding="utf-8")
    assert _run("cohort", "export", "--out", str(a_file)).stderr.strip() == OUT_IS_FILE.format(path=a_file)
    assert not AuditEvent.objects.filter(action=Action.EXPORT).exists()
    empty = tmp_path / "empty"
    empty.mkdir()
    assert _run("cohort", "export", "--out", str(empty)).exit_code == 0
    assert (empty / MANIFEST).is_file()


def test_an_export_that_cannot_be_written_leaves_nothing_and_records_nothing(demo, tmp_path, monkeypatch):
    """A write failing part way exits 2 naming --out: no directory, no hidden work folder, no audit event."""
    import pyarrow.parquet

    real = pyarrow.parquet.write_table
    calls = []

    def failing(table, where, **options):
        calls.append(where)
        if len(calls) == 3:
            raise OSError(28, "No space left on device")
        return real(table, where, **options)

    monkeypatch.setattr(pyarrow.parquet, "write_table", failing)
    out = tmp_path / "export"
    result = _run("cohort", "export", "--out", str(out))
    assert result.exit_code == 2
    assert "--out: cannot write" in result.stderr
    assert list(tmp_path.iterdir()) == []
    assert not AuditEvent.objects.filter(action=Action.EXPORT).exists()


def test_a_shared_installation_needs_clinic(demo, tmp_path):
    """With more than one clinic the command asks which (exit 2); --clinic by name exports that clinic only."""
    ClinicFactory(name="Other clinic")
    out = tmp_path / "export"
    refused = _run("cohort", "export", "--out", str(out))
    assert (refused.exit_code, refused.stderr.strip()) == (2, common.WHICH_CLINIC.format(count=2))
    assert not out.exists()
    other = _run("cohort", "export", "--out", str(out), "--clinic", "Other clinic", "--json")
    assert other.exit_code == 0, other.output
    assert json.loads(other.stdout)["patients"] == 0
    assert json.loads(other.stdout)["clinic"] == "Other clinic"


@pytest.mark.parametrize("role", [Role.ADMIN, Role.BILLING, Role.TRAINEE])
def test_a_user_who_does_not_see_clinical_records_may_not_export(demo, tmp_path, role):
    """Row-level data leaves only for a clinician or nurse of the clinic: others named with --user exit 2."""
    UserFactory(username="someone", role=role, clinic=demo)
    result = _run("cohort", "export", "--out", str(tmp_path / "export"), "--user", "someone")
    assert result.exit_code == 2
    assert result.stderr.strip() == common.USER_MAY_NOT.format(user="someone", what="export the clinic's patients")
    assert not (tmp_path / "export").exists()


def test_a_patient_who_may_see_their_own_record_may_not_export_the_clinic(demo, tmp_path):
    """A patient views their own record (view_clinical) but sees no cohort: ``--user`` naming the demo's patient
    exits 2 with the message the other roles get, and nothing is written."""
    patient = User.objects.filter(role=Role.PATIENT, patient__clinic=demo).order_by("username").first()
    assert patient is not None
    result = _run("cohort", "export", "--out", str(tmp_path / "export"), "--user", patient.username)
    assert result.exit_code == 2
    expected = common.USER_MAY_NOT.format(user=patient.username, what="export the clinic's patients")
    assert result.stderr.strip() == expected
    assert not (tmp_path / "export").exists()


def test_a_day_in_the_future_or_not_a_date_is_refused(demo, today, tmp_path):
    """--as-of after the clinic's today, or not a YYYY-MM-DD date, exits 2 and writes nothing."""
    later = today + timedelta(days=1)
    result = _run("cohort", "export", "--out", str(tmp_path / "x"), "--as-of", later.isoformat())
    assert (result.exit_code, result.stderr.strip()) == (
        2,
        cohort.AS_OF_AFTER_TODAY.format(value=later, today=today),
    )
    assert _run("cohort", "export", "--out", str(tmp_path / "x"), "--as-of", "31/12/2025").exit_code == 2
    assert not (tmp_path / "x").exists()


def test_the_terminal_summary_of_an_export_says_what_the_app_does_not_record(demo, tmp_path):
    """The report's terminal summary on an export reads "not recorded by the app" for stops for an adverse event and
    the label rows the app has no kind for, as the page does, not 0 %; and an --as-of after the export's day is
    refused (it holds nothing later)."""
    out = tmp_path / "export"
    assert _run("cohort", "export", "--out", str(out)).exit_code == 0
    summary = _run("cohort", "report", str(out)).stdout
    [stops] = [line for line in summary.splitlines() if line.startswith("Discontinued for an adverse event ")]
    assert NOT_RECORDED in stops
    [hypertension] = [line for line in summary.splitlines() if line.strip().startswith("Hypertension")]
    assert NOT_RECORDED in hypertension
    later = json.loads((out / MANIFEST).read_text(encoding="utf-8"))["as_of"]
    after = date.fromisoformat(later) + timedelta(days=1)
    assert _run("cohort", "report", str(out), "--as-of", after.isoformat()).exit_code == 2


def _help_prose(*args: str) -> list[str]:
    """The lines of ``onaboard <args> --help`` above the options panel, in an 80-column terminal, stripped."""
    result = CliRunner().invoke(app, [*args, "--help"], env={"COLUMNS": "80"})
    assert result.exit_code == 0
    return [line.strip() for line in result.stdout.split("╭")[0].splitlines()]


def test_the_export_help_prints_its_paragraphs_without_breaks_mid_sentence():
    """`onaboard cohort export --help` in an 80-column terminal fills each line of a paragraph but its last (the
    docstring's hard line breaks printed "observed window, failed preventives;" alone on a line)."""
    lines = _help_prose("cohort", "export")
    assert "No name, record number, public id or free text leaves the database. Each" in lines
    for line, following in itertools.pairwise(lines):
        if line and following:  # a line inside a paragraph
            assert len(line) >= 60, line


def test_the_report_help_says_as_of_defaults_to_the_exports_day():
    """`onaboard cohort report --help` says --as-of defaults to export.json's day on an exported directory, not
    only that the diary is taken as finished."""
    result = CliRunner().invoke(app, ["cohort", "report", "--help"], env={"COLUMNS": "200"})
    words = " ".join(result.stdout.replace("│", " ").split())
    assert "Default: on a directory written by `onaboard cohort export`, the day of its export.json" in words


def test_an_export_whose_records_fail_the_reports_checks_exits_2_listing_them(demo, tmp_path, monkeypatch):
    """Records the report would refuse stop the export with exit 2 and every problem on stderr (it was a
    traceback), and nothing is written."""
    from onaboard.cohort.backends import CohortSourceError
    from onaboard.web.analytics import selectors

    def failing(**_: object) -> None:
        raise CohortSourceError(["sessions: first problem", "prom: second problem"])

    monkeypatch.setattr(selectors, "clinic_cohort_export", failing)
    out = tmp_path / "export"
    result = _run("cohort", "export", "--out", str(out))
    assert result.exit_code == 2
    assert result.stderr.splitlines()[-2:] == ["sessions: first problem", "prom: second problem"]
    assert not out.exists() or not any(out.iterdir())
