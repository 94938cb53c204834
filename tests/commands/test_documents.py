"""`onaboard coverage` and `onaboard document` on the app's database (the test database here)."""

# ruff: noqa: F811 - the web fixtures are imported here, so test arguments name them again

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from onaboard.cli import app
from onaboard.commands import OUTPUT_NOT_STDOUT
from onaboard.web.audit.models import Action, AuditEvent
from onaboard.web.coverage.documents import NO_TREATMENT
from onaboard.web.coverage.selectors import NO_SUCH_PATIENT
from tests.pdfs import pdf_text
from tests.web.conftest import world  # noqa: F401 - the web fixtures, used here on the test database
from tests.web.coverage.conftest import POLICY, eligible, second_due, today, treated  # noqa: F401

pytestmark = pytest.mark.django_db

runner = CliRunner()


@pytest.fixture(autouse=True)
def _today(monkeypatch, today):
    """The commands read today from ONABOARD_TODAY, set to the day the fixtures were built for."""
    monkeypatch.setenv("ONABOARD_TODAY", today.isoformat())


def test_coverage_json_is_one_document_with_every_criterion(treated):
    """``--json`` prints exactly one JSON document with the policy, stage, status and each criterion."""
    result = runner.invoke(app, ["coverage", "--policy", POLICY, "--patient", treated.patient.record_number, "--json"])
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert body["policy_id"] == POLICY
    assert body["patient_id"] == str(treated.patient.external_id)
    assert body["stage"] == "continuation"
    assert {c["key"] for c in body["criteria"]} >= {"continuation.after_cycles", "continuation.response"}
    assert AuditEvent.objects.filter(object_type="coverage", detail__startswith="command line").exists()


def test_coverage_text_lists_each_criterion_with_its_evidence(treated):
    """Without ``--json`` each criterion is printed with its outcome and evidence lines, by public id too."""
    result = runner.invoke(
        app,
        ["coverage", "--policy", "nice-ta260", "--patient", str(treated.patient.external_id), "--stage", "initial"],
    )
    assert result.exit_code == 0, result.output
    assert "under NICE TA260" in result.stdout
    assert "[met] Minimum age (initial.age)" in result.stdout
    assert "assumed: planned dose: 155 U" in result.stdout


def test_coverage_judges_by_default_at_the_stage_due_under_the_policy(second_due):
    """Without ``--stage`` a patient with one session under a policy judging continuation after 2 cycles is judged
    at the initial stage (the engine's ``stage_due``), and ``--help`` says the default is the stage due."""
    record = second_due.patient.record_number
    result = runner.invoke(app, ["coverage", "--policy", POLICY, "--patient", record, "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["stage"] == "initial"
    asked = runner.invoke(
        app, ["coverage", "--policy", POLICY, "--patient", record, "--json", "--stage", "continuation"]
    )
    assert json.loads(asked.stdout)["stage"] == "continuation"
    help_text = " ".join(runner.invoke(app, ["coverage", "--help"], env={"COLUMNS": "300"}).stdout.split())
    assert "default: the stage due under the policy" in help_text
    assert "once a session is recorded" not in help_text


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--policy", POLICY, "--patient", "NOPE"], NO_SUCH_PATIENT.format(identifier="NOPE")),
        (["--policy", "no-such", "--patient", "{record}"], "No coverage policy 'no-such'"),
        (["--policy", POLICY, "--patient", "{record}", "--stage", "later"], "--stage: must be initial or continuation"),
    ],
)
def test_coverage_exits_2_naming_an_unknown_patient_policy_or_stage(treated, arguments, message):
    """An unknown patient, policy or stage exits 2 with the problem on stderr and nothing on stdout."""
    arguments = [a.replace("{record}", treated.patient.record_number) for a in arguments]
    result = runner.invoke(app, ["coverage", *arguments])
    assert result.exit_code == 2
    assert message in result.stderr
    assert result.stdout == ""


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        ("prior-auth", "Request for prior authorisation"),
        ("continuation", "Request for continued approval"),
        ("procedure", "Procedure note"),
        ("patient-summary", "What was done"),
    ],
)
def test_document_writes_each_pdf(treated, tmp_path, kind, expected):
    """Each document is written to the file named by -o, and the export is audited."""
    target = tmp_path / f"{kind}.pdf"
    result = runner.invoke(app, ["document", kind, "--patient", treated.patient.record_number, "-o", str(target)])
    assert result.exit_code == 0, result.output
    text = " ".join(pdf_text(target.read_bytes()).split())
    assert expected in text
    assert AuditEvent.objects.filter(action=Action.EXPORT, detail__startswith=f"command line {kind}").exists()


def test_document_for_a_chosen_session(treated, tmp_path):
    """``--session`` picks the session of the procedure note."""
    first = treated.sessions[0]
    target = tmp_path / "note.pdf"
    result = runner.invoke(
        app,
        [
            "document",
            "procedure",
            "--patient",
            treated.patient.record_number,
            "--session",
            str(first.external_id),
            "-o",
            str(target),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "treatment cycle 1" in pdf_text(target.read_bytes())


def test_document_exits_2_for_an_unknown_session(treated, tmp_path):
    """An unknown session exits 2 with the reason and writes no file."""
    target = tmp_path / "out.pdf"
    result = runner.invoke(
        app,
        ["document", "procedure", "--patient", treated.patient.record_number, "--session", "abc", "-o", str(target)],
    )
    assert result.exit_code == 2
    assert "No recorded session abc for this patient." in result.stderr
    assert not target.exists()


def test_document_exits_2_for_a_letter_that_cannot_be_written(eligible, tmp_path):
    """A continuation letter before any session exits 2 with the reason and writes no file."""
    target = tmp_path / "out.pdf"
    result = runner.invoke(app, ["document", "continuation", "--patient", str(eligible.external_id), "-o", str(target)])
    assert result.exit_code == 2
    assert NO_TREATMENT in result.stderr
    assert not target.exists()


def test_document_json_names_the_file_written_its_kind_and_size(treated, tmp_path):
    """``document --json`` prints one JSON document naming the file, the document, its size and the patient, and
    nothing else on stdout."""
    target = tmp_path / "note.pdf"
    result = runner.invoke(
        app, ["document", "procedure", "--patient", treated.patient.record_number, "-o", str(target), "--json"]
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {
        "file": str(target),
        "document": "procedure",
        "title": "Procedure note",
        "bytes": target.stat().st_size,
        "patient_id": str(treated.patient.external_id),
        "record_number": treated.patient.record_number,
    }


def test_document_json_refused_prints_nothing_on_stdout(treated, tmp_path, monkeypatch):
    """With --json an unknown session exits 2 with the reason on stderr, and ``-o -`` exits 2 (the PDF never goes
    to stdout); neither prints on stdout or writes a file."""
    monkeypatch.chdir(tmp_path)
    record = treated.patient.record_number
    unknown = runner.invoke(
        app, ["document", "procedure", "--patient", record, "--session", "abc", "-o", "out.pdf", "--json"]
    )
    assert (unknown.exit_code, unknown.stdout) == (2, "")
    assert "No recorded session abc for this patient." in unknown.stderr
    to_stdout = runner.invoke(app, ["document", "procedure", "--patient", record, "-o", "-", "--json"])
    assert (to_stdout.exit_code, to_stdout.stdout, to_stdout.stderr.strip()) == (2, "", OUTPUT_NOT_STDOUT)
    assert list(tmp_path.iterdir()) == []
