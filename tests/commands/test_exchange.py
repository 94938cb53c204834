"""The exchange commands (onaboard/commands/exchange.py): FHIR export and import, diary and table CSV files."""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from onaboard.cli import app
from onaboard.clinical import write_diary
from onaboard.commands import OUTPUT_NOT_STDOUT, common, exchange
from onaboard.synthetic import Profile, synthetic_patient_days
from onaboard.web.audit.models import Action, AuditEvent
from onaboard.web.diary.models import DiaryEntry
from onaboard.web.patients.models import Patient
from tests.web.factories import ClinicFactory, PatientFactory, UserFactory

REPO = Path(__file__).resolve().parents[2]
ONABOARD = REPO / ".venv" / "bin" / "onaboard"


def _run(*args: str):
    return CliRunner().invoke(app, list(args), catch_exceptions=False)


def _diary(record_number: str, days: int, *, end: dt.date) -> str:
    generated = synthetic_patient_days(
        record_number,
        start=end - dt.timedelta(days=days - 1),
        days=days,
        profile=Profile.CHRONIC,
        seed=3,
        completeness=1.0,
    )
    return write_diary(generated)


@pytest.fixture
def clinic(db):
    clinic = ClinicFactory(name="Exchange clinic")
    PatientFactory(clinic=clinic, record_number="EX-1", birth_date=dt.date(1980, 1, 2))
    return clinic


def test_import_then_export_diary_round_trips_and_reimport_changes_nothing(clinic, tmp_path):
    """A diary CSV imported, exported and imported again gives the same file and changes nothing."""
    from django.utils import timezone

    source = tmp_path / "in.csv"
    source.write_text(_diary("EX-1", 60, end=timezone.localdate()), encoding="utf-8")
    nurse = UserFactory(username="nurse.ex", role="nurse", clinic=clinic)
    first = _run("import", "diary", str(source), "--user", nurse.username)
    assert first.exit_code == 0, first.output
    assert "diary days: 60 created, 0 updated, 0 unchanged" in first.output
    out = tmp_path / "out.csv"
    assert _run("export", "diary", "--patient", "EX-1", "-o", str(out)).exit_code == 0
    assert out.read_text(encoding="utf-8") == source.read_text(encoding="utf-8")
    again = _run("import", "diary", str(out))
    assert again.output.strip() == exchange.UNCHANGED.format(path=out)
    assert AuditEvent.objects.filter(object_type="diary_import", username="nurse.ex").count() == 1


def test_the_import_commands_read_onaboard_today_like_every_command(clinic, tmp_path, monkeypatch):
    """With ONABOARD_TODAY set to before a row's date, `onaboard import diary` refuses that row as in the future,
    as `onaboard assess` does: the commands share one clock reading."""
    path = tmp_path / "later.csv"
    path.write_text("patient_id,date,headache_hours\nEX-1,2026-06-01,0\n", encoding="utf-8")
    monkeypatch.setenv("ONABOARD_TODAY", "2026-01-01")
    assert CliRunner().invoke(app, ["assess", str(path)]).exit_code == 2
    UserFactory(username="nurse.ex", role="nurse", clinic=clinic)
    result = CliRunner().invoke(app, ["import", "diary", str(path), "--user", "nurse.ex"])
    assert result.exit_code == 2
    assert "line 2, column date:" in result.stderr
    assert not DiaryEntry.objects.exists()


def test_a_user_named_with_user_reaches_only_the_patients_they_may_see(clinic, tmp_path):
    """--user applies the access rules: a patient exports and imports only their own record, and staff only their
    own clinic's patients."""
    own = PatientFactory(clinic=clinic, record_number="EX-2", birth_date=dt.date(1981, 3, 4))
    own.user = UserFactory(username="patient.ex", role="patient", clinic=clinic)
    own.save()
    out = tmp_path / "all.json"
    assert _run("fhir", "export", "--all", "--user", "patient.ex", "-o", str(out)).exit_code == 0
    exported = json.loads(out.read_text(encoding="utf-8"))
    names = {
        e["resource"]["identifier"][0]["value"] for e in exported["entry"] if e["resource"]["resourceType"] == "Patient"
    }
    assert names == {"EX-2"}
    refused = CliRunner().invoke(app, ["export", "diary", "--patient", "EX-1", "--user", "patient.ex", "-o", str(out)])
    assert refused.exit_code == 2
    elsewhere = ClinicFactory(name="Elsewhere")
    UserFactory(username="nurse.elsewhere", role="nurse", clinic=elsewhere)
    other = CliRunner().invoke(
        app, ["fhir", "export", "--all", "--clinic", clinic.name, "--user", "nurse.elsewhere", "-o", str(out)]
    )
    assert other.exit_code == 2
    assert common.NOT_USERS_CLINIC.format(user="nurse.elsewhere", own="Elsewhere", clinic=clinic.name) in other.stderr
    diary = tmp_path / "mine.csv"
    diary.write_text("patient_id,date,headache_hours\nEX-1,2026-01-01,0\n", encoding="utf-8")
    assert CliRunner().invoke(app, ["import", "diary", str(diary), "--user", "patient.ex"]).exit_code == 2
    assert not DiaryEntry.objects.exists()


def test_an_invalid_diary_exits_2_listing_every_problem_and_imports_nothing(clinic, tmp_path):
    """Bad rows and an unknown patient are listed as line N, column C on stderr; nothing is stored."""
    path = tmp_path / "bad.csv"
    path.write_text("patient_id,date,headache_hours\nEX-1,2026-01-01,25\nEX-1,2026-01-02,x\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["import", "diary", str(path)])
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        "line 2, column headache_hours: headache hours must be a number from 0 to 24 (got '25')",
        "line 3, column headache_hours: headache hours must be a number from 0 to 24 (got 'x')",
    ]
    path.write_text("patient_id,date,headache_hours\nEX-1,2026-01-01,0\nNOBODY,2026-01-01,0\n", encoding="utf-8")
    unknown = CliRunner().invoke(app, ["import", "diary", str(path)])
    assert unknown.exit_code == 2
    assert unknown.stderr.strip() == "line 3, column patient_id: no patient with record number NOBODY in this clinic"
    assert not DiaryEntry.objects.exists()


def test_the_commands_say_what_is_missing(clinic, tmp_path):
    """--patient or --all is required; an unknown patient, user or clinic is named; all exit 2."""
    out = str(tmp_path / "x.json")
    cases = [
        (["fhir", "export", "-o", out], exchange.PATIENT_OR_ALL),
        (
            ["fhir", "export", "--patient", "NOPE", "-o", out],
            exchange.NO_SUCH_PATIENT.format(value="NOPE", clinic="Exchange clinic"),
        ),
        (["fhir", "export", "--all", "--user", "ghost", "-o", out], common.NO_SUCH_USER.format(value="ghost")),
        (
            ["fhir", "export", "--all", "--clinic", "Elsewhere", "-o", out],
            common.NO_SUCH_CLINIC.format(value="Elsewhere"),
        ),
        (
            ["fhir", "import", str(tmp_path / "missing.json")],
            exchange.CANNOT_READ.format(path=tmp_path / "missing.json", reason="No such file or directory"),
        ),
    ]
    for args, message in cases:
        result = CliRunner().invoke(app, args)
        assert (result.exit_code, result.stderr.strip()) == (2, message)


def test_fhir_export_then_import_into_another_clinic_and_again(clinic, tmp_path):
    """A clinic exported with --all loads into an empty clinic; loading it again changes nothing."""
    from django.utils import timezone

    diary = tmp_path / "d.csv"
    diary.write_text(_diary("EX-1", 30, end=timezone.localdate()), encoding="utf-8")
    _run("import", "diary", str(diary), "--clinic", "Exchange clinic")
    bundle = tmp_path / "clinic.json"
    exported = _run("fhir", "export", "--all", "--clinic", "Exchange clinic", "-o", str(bundle))
    assert exported.output.startswith(f"Wrote {bundle}: 1 patient(s), 31 resources.")
    assert json.loads(bundle.read_text())["type"] == "transaction"
    ClinicFactory(name="Second clinic")
    loaded = _run("fhir", "import", str(bundle), "--clinic", "Second clinic")
    assert "patients: 1 created, 0 updated" in loaded.output
    assert "patients created" not in loaded.output
    assert DiaryEntry.objects.filter(patient__clinic__name="Second clinic").count() == 30
    assert _run("fhir", "import", str(bundle), "--clinic", "Second clinic").output.strip() == (
        exchange.UNCHANGED.format(path=bundle)
    )
    assert AuditEvent.objects.filter(action=Action.EXPORT, object_type="fhir_bundle", detail="command line").exists()


def test_an_invalid_bundle_exits_2_with_located_problems(clinic, tmp_path):
    """A Bundle whose Patient lacks a record number is refused with the FHIRPath of the problem."""
    path = tmp_path / "b.json"
    patient = {"resourceType": "Patient", "name": [{"family": "X", "given": ["Y"]}], "birthDate": "1980-01-01"}
    path.write_text(json.dumps({"resourceType": "Bundle", "type": "collection", "entry": [{"resource": patient}]}))
    result = CliRunner().invoke(app, ["fhir", "import", str(path)])
    assert result.exit_code == 2
    from onaboard.interop.fhir.read import NO_RECORD_NUMBER

    assert result.stderr.strip() == f"Bundle.entry[0].resource.identifier: {NO_RECORD_NUMBER}"
    assert Patient.objects.count() == 1


def test_a_bundle_the_rules_refuse_is_located_at_its_entry(clinic, tmp_path):
    """A diary day before the patient's birth date (read fine, refused by the rules) is named at its entry's
    element, as the /fhir endpoint names it, and nothing is written."""
    from django.utils import timezone

    diary = tmp_path / "d.csv"
    diary.write_text(_diary("EX-1", 3, end=timezone.localdate()), encoding="utf-8")
    _run("import", "diary", str(diary), "--clinic", "Exchange clinic")
    bundle = tmp_path / "clinic.json"
    _run("fhir", "export", "--all", "--clinic", "Exchange clinic", "-o", str(bundle))
    document = json.loads(bundle.read_text())
    kinds = [entry["resource"]["resourceType"] for entry in document["entry"]]
    observation = kinds.index("Observation")
    document["entry"][observation]["resource"]["effectiveDateTime"] = "1970-01-01"
    bundle.write_text(json.dumps(document))
    result = CliRunner().invoke(app, ["fhir", "import", str(bundle), "--clinic", "Exchange clinic"])
    assert result.exit_code == 2
    assert result.stderr.startswith(f"Bundle.entry[{observation}].resource.effectiveDateTime: patient EX-1: ")
    assert DiaryEntry.objects.count() == 3


def test_a_bundle_whose_new_patient_another_import_registered_meanwhile_exits_0_unchanged(
    clinic, tmp_path, monkeypatch
):
    """Two imports of a Bundle of a new patient at once: the one refused the record number the other registered after
    it looked runs once more and reports the file unchanged, exit 0 (it exited 1 with an IntegrityError traceback
    naming the record number). The race is simulated: the first look for the patient finds none."""
    from tests.web.interop.races import registered_meanwhile

    bundle = tmp_path / "ex1.json"
    _run("fhir", "export", "--patient", "EX-1", "--clinic", "Exchange clinic", "-o", str(bundle))
    registered_meanwhile(monkeypatch)
    result = CliRunner().invoke(app, ["fhir", "import", str(bundle), "--clinic", "Exchange clinic", "--json"])
    assert (result.exit_code, result.stderr) == (0, "")
    summary = json.loads(result.stdout)
    assert not summary["changed"]
    assert summary["counts"]["patients"] == {"created": 0, "updated": 0, "unchanged": 1}
    assert Patient.objects.filter(record_number="EX-1").count() == 1


def test_a_bundle_nested_too_deeply_exits_2_naming_it(clinic, tmp_path):
    """JSON nested past the interpreter's recursion exits 2 saying so (it was a RecursionError traceback)."""
    from onaboard.interop.fhir.read import NESTED_TOO_DEEPLY

    path = tmp_path / "deep.json"
    path.write_text("[" * 100_000 + "]" * 100_000)
    result = CliRunner().invoke(app, ["fhir", "import", str(path)])
    assert result.exit_code == 2
    assert result.stderr.strip() == f"{path}: {NESTED_TOO_DEEPLY}"


# --- Killed mid-way ------------------------------------------------------------------------------------------------


def _database(tmp_path: Path) -> tuple[dict[str, str], str]:
    """Environment for a migrated database the subprocesses share: a SQLite file, or PostgreSQL when configured."""
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "onaboard.web.config.settings.dev", "ONABOARD_TODAY": ""}
    env.pop("ONABOARD_TODAY")
    test_url = os.environ.get("ONABOARD_TEST_DATABASE_URL")
    if test_url:
        import psycopg

        name = test_url.rsplit("/", 1)[1] + "_kill"
        admin = test_url.rsplit("/", 1)[0] + "/postgres"
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}"')
            connection.execute(f'CREATE DATABASE "{name}"')
        env["DATABASE_URL"] = test_url.rsplit("/", 1)[0] + "/" + name
        kind = "postgres"
    else:
        env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'kill.sqlite3'}"
        kind = "sqlite"
    subprocess.run([sys.executable, str(REPO / "manage.py"), "migrate", "-v0"], env=env, check=True, cwd=REPO)
    setup = (
        "import django, datetime; django.setup();"
        "from onaboard.web.accounts.models import Clinic; from onaboard.web.patients.models import Patient;"
        "c = Clinic.objects.create(name='Kill clinic');"
        "Patient.objects.create(clinic=c, record_number='KILL-1', given_name='K', family_name='L',"
        " birth_date=datetime.date(1980, 1, 1))"
    )
    subprocess.run([sys.executable, "-c", setup], env=env, check=True, cwd=REPO)
    return env, kind


def _writing(env: dict[str, str], kind: str) -> bool:
    """Whether another connection is inside a write transaction on the diary right now."""
    if kind == "sqlite":
        path = env["DATABASE_URL"].removeprefix("sqlite:///")
        connection = sqlite3.connect(path, timeout=0)
        try:
            connection.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError:
            return True
        finally:
            connection.close()
        return False
    import psycopg

    with psycopg.connect(env["DATABASE_URL"]) as connection:
        row = connection.execute(
            "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation "
            "WHERE c.relname = 'diary_diaryentry' AND l.mode = 'RowExclusiveLock' AND l.pid <> pg_backend_pid()"
        ).fetchone()
    return bool(row and row[0])


def _count(env: dict[str, str]) -> int:
    script = (
        "import django; django.setup(); from onaboard.web.diary.models import DiaryEntry;"
        "print(DiaryEntry.objects.count())"
    )
    done = subprocess.run([sys.executable, "-c", script], env=env, check=True, cwd=REPO, capture_output=True)
    return int(done.stdout)


@pytest.mark.slow
def test_a_10000_day_import_killed_mid_way_leaves_nothing_and_a_retry_lands_whole(tmp_path):
    """SIGKILL during `onaboard import diary` of 10,000 days stores none; the retry stores all; a second none."""
    env, kind = _database(tmp_path)
    path = tmp_path / "long.csv"
    path.write_text(_diary("KILL-1", 10_000, end=dt.date.today() - dt.timedelta(days=1)), encoding="utf-8")  # noqa: DTZ011
    command = [str(ONABOARD), "import", "diary", str(path), "--clinic", "Kill clinic"]
    process = subprocess.Popen(command, env=env, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while not _writing(env, kind):
        assert process.poll() is None, "the import finished before it could be killed"
        assert time.monotonic() < deadline
        time.sleep(0.005)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert process.returncode == -signal.SIGKILL
    assert _count(env) == 0
    retry = subprocess.run(command, env=env, cwd=tmp_path, capture_output=True, text=True, check=False)
    assert retry.returncode == 0, retry.stderr
    assert "diary days: 10000 created, 0 updated, 0 unchanged" in retry.stdout
    assert _count(env) == 10_000
    second = subprocess.run(command, env=env, cwd=tmp_path, capture_output=True, text=True, check=False)
    assert second.stdout.strip() == exchange.UNCHANGED.format(path=path)
    assert _count(env) == 10_000


def test_table_commands_import_and_export_preventives(clinic, tmp_path):
    """`import table preventives` stores the trials; `export table` writes the same file; re-import changes nothing."""
    path = tmp_path / "p.csv"
    path.write_text(
        "patient_id,drug,drug_class,dose,start,stop,stop_reason\n"
        "EX-1,propranolol,beta_blocker,80 mg,2024-01-01,2024-04-01,ineffective\n",
        encoding="utf-8",
    )
    assert "preventives: 1 created, 0 updated, 0 unchanged" in _run("import", "table", "preventives", str(path)).output
    out = tmp_path / "out.csv"
    assert _run("export", "table", "preventives", "--patient", "EX-1", "-o", str(out)).exit_code == 0
    assert out.read_text(encoding="utf-8") == path.read_text(encoding="utf-8")
    assert _run("import", "table", "preventives", str(out)).output.strip() == exchange.UNCHANGED.format(path=out)
    wrong = CliRunner().invoke(app, ["import", "table", "vaccines", str(path)])
    assert (wrong.exit_code, wrong.stderr.strip()) == (2, exchange.NOT_A_KIND.format(value="vaccines"))


def test_a_database_command_with_unusable_settings_exits_2_naming_them(tmp_path):
    """An unknown ONABOARD_TIME_ZONE stops a command on the app's database with exit 2 and the reason on stderr,
    as ``serve`` does, not with a traceback."""
    env = {**os.environ, "ONABOARD_TIME_ZONE": "Mars/Base", "ONABOARD_DATA_DIR": str(tmp_path)}
    done = subprocess.run(
        [str(ONABOARD), "export", "diary", "--patient", "X", "-o", str(tmp_path / "x.csv")],
        env=env, capture_output=True, text=True, check=False, cwd=tmp_path,
    )  # fmt: skip
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr.startswith("the app's settings are not usable: ONABOARD_TIME_ZONE must name an IANA time zone")


@pytest.mark.parametrize("command", [("export", "diary"), ("export", "table", "sessions"), ("fhir", "export")])
def test_an_export_that_cannot_be_written_exits_2_and_records_no_export(clinic, tmp_path, command):
    """``-o`` naming a folder, or a file in a missing folder, exits 2 naming it (it was a traceback), leaves no
    partial file, and the audit records no export of a file that was never written."""
    exports = AuditEvent.objects.filter(action=Action.EXPORT).count()
    for target in (tmp_path, tmp_path / "missing" / "out.csv", Path(".")):
        done = _run(*command, "--patient", "EX-1", "-o", str(target))
        assert done.exit_code == 2, done.output
        assert f"-o: cannot write {target}: " in done.output
    assert AuditEvent.objects.filter(action=Action.EXPORT).count() == exports
    assert list(tmp_path.iterdir()) == []


# --- --json ------------------------------------------------------------------------------------------------------


def _json(*args: str) -> dict:
    """The one JSON document a command printed with --json (json.loads refuses anything more on stdout)."""
    result = CliRunner().invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def _refused(*args: str) -> str:
    """The stderr of a command refused with exit 2, having asserted it printed nothing on stdout."""
    result = CliRunner().invoke(app, [*args, "--json"])
    assert (result.exit_code, result.stdout) == (2, ""), result.output
    return result.stderr.strip()


def test_import_diary_json_counts_each_kind_of_record(clinic, tmp_path):
    """`import diary --json` prints one document naming the file and clinic with created, updated and unchanged
    counts per kind; imported again it reports nothing changed."""
    from django.utils import timezone

    source = tmp_path / "in.csv"
    source.write_text(_diary("EX-1", 20, end=timezone.localdate()), encoding="utf-8")
    first = _json("import", "diary", str(source))
    assert first == {
        "file": str(source),
        "clinic": "Exchange clinic",
        "clinic_id": str(clinic.external_id),
        "changed": True,
        "counts": {"diary_days": {"created": 20, "updated": 0, "unchanged": 0}},
    }
    again = _json("import", "diary", str(source))
    assert (again["changed"], again["counts"]["diary_days"]) == (False, {"created": 0, "updated": 0, "unchanged": 20})


def test_import_diary_json_refused_prints_nothing_on_stdout(clinic, tmp_path):
    """An invalid diary with --json exits 2 with its problems on stderr and nothing on stdout."""
    path = tmp_path / "bad.csv"
    path.write_text("patient_id,date,headache_hours\nEX-1,2026-01-01,25\n", encoding="utf-8")
    assert _refused("import", "diary", str(path)) == (
        "line 2, column headache_hours: headache hours must be a number from 0 to 24 (got '25')"
    )


def test_import_and_export_table_json_summarise_the_rows(clinic, tmp_path):
    """`import table --json` counts the rows per kind and `export table --json` names the file, the patient and
    how many rows it wrote."""
    path = tmp_path / "p.csv"
    path.write_text(
        "patient_id,drug,drug_class,dose,start,stop,stop_reason\n"
        "EX-1,propranolol,beta_blocker,80 mg,2024-01-01,2024-04-01,ineffective\n"
        "EX-1,topiramate,anticonvulsant,50 mg,2024-05-01,2024-09-01,not_tolerated\n",
        encoding="utf-8",
    )
    imported = _json("import", "table", "preventives", str(path))
    assert imported["table"] == "preventives"
    assert imported["file"] == str(path)
    assert imported["changed"] is True
    assert imported["counts"] == {"preventives": {"created": 2, "updated": 0, "unchanged": 0}}
    out = tmp_path / "out.csv"
    patient = Patient.objects.get(record_number="EX-1")
    assert _json("export", "table", "preventives", "--patient", "EX-1", "-o", str(out)) == {
        "file": str(out),
        "table": "preventives",
        "clinic": "Exchange clinic",
        "clinic_id": str(clinic.external_id),
        "patient_id": str(patient.external_id),
        "record_number": "EX-1",
        "rows": 2,
    }
    assert out.read_text(encoding="utf-8") == path.read_text(encoding="utf-8")


def test_table_json_refused_prints_nothing_on_stdout(clinic, tmp_path):
    """An unknown table with --json exits 2 naming it on stderr, and with ``-o -`` lists that problem too."""
    path = tmp_path / "p.csv"
    path.write_text("patient_id,drug\n", encoding="utf-8")
    assert _refused("import", "table", "vaccines", str(path)) == exchange.NOT_A_KIND.format(value="vaccines")
    assert _refused("export", "table", "vaccines", "--patient", "EX-1", "-o", "-").splitlines() == [
        exchange.NOT_A_KIND.format(value="vaccines"),
        OUTPUT_NOT_STDOUT,
    ]


def test_export_diary_json_names_the_file_patient_and_days(clinic, tmp_path):
    """`export diary --json` prints the file written, the patient (public id and record number) and the days."""
    from django.utils import timezone

    source = tmp_path / "in.csv"
    source.write_text(_diary("EX-1", 12, end=timezone.localdate()), encoding="utf-8")
    _run("import", "diary", str(source))
    out = tmp_path / "out.csv"
    patient = Patient.objects.get(record_number="EX-1")
    assert _json("export", "diary", "--patient", "EX-1", "-o", str(out)) == {
        "file": str(out),
        "clinic": "Exchange clinic",
        "clinic_id": str(clinic.external_id),
        "patient_id": str(patient.external_id),
        "record_number": "EX-1",
        "diary_days": 12,
    }
    assert out.read_text(encoding="utf-8") == source.read_text(encoding="utf-8")


@pytest.mark.parametrize("command", [("export", "diary"), ("export", "table", "sessions"), ("fhir", "export")])
def test_an_export_to_stdout_with_json_exits_2_and_writes_nothing(clinic, tmp_path, monkeypatch, command):
    """With --json, ``-o -`` exits 2 (the file never goes to stdout), writes no file named "-" and
    records no export."""
    monkeypatch.chdir(tmp_path)
    exports = AuditEvent.objects.filter(action=Action.EXPORT).count()
    assert _refused(*command, "--patient", "EX-1", "-o", "-") == OUTPUT_NOT_STDOUT
    assert list(tmp_path.iterdir()) == []
    assert AuditEvent.objects.filter(action=Action.EXPORT).count() == exports


def test_an_unknown_patient_with_json_prints_nothing_on_stdout(clinic, tmp_path):
    """An export for an unknown patient with --json exits 2 naming the patient on stderr, nothing on stdout."""
    out = str(tmp_path / "x.csv")
    assert _refused("export", "diary", "--patient", "NOPE", "-o", out) == exchange.NO_SUCH_PATIENT.format(
        value="NOPE", clinic="Exchange clinic"
    )


def test_fhir_export_and_import_json_count_resources_by_type(clinic, tmp_path):
    """`fhir export --json` counts the patients and the Bundle's entries per resource type; `fhir import --json`
    counts what it stored per kind and the entries it read per resource type."""
    from django.utils import timezone

    diary = tmp_path / "d.csv"
    diary.write_text(_diary("EX-1", 5, end=timezone.localdate()), encoding="utf-8")
    _run("import", "diary", str(diary))
    bundle = tmp_path / "clinic.json"
    exported = _json("fhir", "export", "--all", "-o", str(bundle))
    assert exported == {
        "file": str(bundle),
        "clinic": "Exchange clinic",
        "clinic_id": str(clinic.external_id),
        "patients": 1,
        "resources": 6,
        "resources_by_type": {"Observation": 5, "Patient": 1},
    }
    second = ClinicFactory(name="Second clinic")
    imported = _json("fhir", "import", str(bundle), "--clinic", "Second clinic")
    assert imported == {
        "file": str(bundle),
        "clinic": "Second clinic",
        "clinic_id": str(second.external_id),
        "changed": True,
        "counts": {
            "diary_days": {"created": 5, "updated": 0, "unchanged": 0},
            "patients": {"created": 1, "updated": 0, "unchanged": 0},
        },
        "resources_by_type": {"Observation": 5, "Patient": 1},
        "decisions_not_imported": [],
    }


def test_fhir_json_refused_prints_nothing_on_stdout(clinic, tmp_path):
    """An invalid Bundle, or an export missing --patient/--all and asking for stdout, exits 2 with every problem
    on stderr and nothing on stdout."""
    path = tmp_path / "b.json"
    path.write_text("{not json", encoding="utf-8")
    assert _refused("fhir", "import", str(path)).startswith(f"{path}: not JSON (")
    assert _refused("fhir", "export", "-o", "-").splitlines() == [exchange.PATIENT_OR_ALL, OUTPUT_NOT_STDOUT]
