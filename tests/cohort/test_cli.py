"""``onaboard synth`` and ``onaboard cohort report``: arguments checked with every problem listed, exactly one JSON
document with ``--json``, HTML and PDF on request, and an ``onaboard`` that starts without the analytics stack."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from onaboard.cli import app
from onaboard.cohort.backends import MISSING_TABLE, NO_SUCH_DIRECTORY
from onaboard.cohort.cli import (
    BAD_AS_OF,
    BAD_END,
    DAYS_BELOW_ONE,
    END_OUTSIDE,
    OUT_EMPTY,
    OUT_HOLDS_OTHER_FILES,
    OUT_IS_FILE,
    OUTPUT_IN_COHORT,
    OUTPUT_IS_A_FOLDER,
    OUTPUT_NOT_STDOUT,
    OUTPUT_PARENT_MISSING,
    OUTPUT_TWICE,
    PATIENTS_BELOW_ONE,
    SEED_NEGATIVE,
    _interval,
    _median_onset,
    _near,
)
from onaboard.cohort.report import MEDIAN_NOT_REACHED, WEEK24_NOT_REACHED, Proportion, _reference
from onaboard.cohort.tables import TABLES
from onaboard.reports.cohort import (
    AS_OF_NOTE,
    NEAR_BY_INTERVAL,
    NEAR_BY_TOLERANCE,
    NEAR_NOTE,
    OFF,
    WEEK24_NOT_REACHED_WORDS,
)
from tests.cohort.conftest import IBIS_ON_DUCKDB_2

pytestmark = IBIS_ON_DUCKDB_2

HEAVY = ("ibis", "duckdb", "pyspark", "pyarrow", "numpy", "pandas", "matplotlib", "weasyprint")


def _run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture(scope="module")
def cohort(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 60-patient cohort written by the command, with CSV."""
    directory = tmp_path_factory.mktemp("cli") / "cohort"
    code, _, stderr = _run(
        "synth", "--patients", "60", "--days", "300", "--seed", "4", "--out", str(directory), "--csv"
    )
    assert code == 0, stderr
    return directory


def test_synth_writes_every_table_as_parquet_and_csv(cohort: Path) -> None:
    """``synth --csv`` writes each table as Parquet and as CSV."""
    for name in TABLES:
        assert (cohort / f"{name}.parquet").is_file()
        assert (cohort / f"{name}.csv").is_file()


def test_synth_json_lists_the_tables_and_their_rows(tmp_path: Path) -> None:
    """``synth --json`` prints one document naming each table's file and row count."""
    code, stdout, _ = _run("synth", "--patients", "3", "--days", "60", "--out", str(tmp_path), "--json")
    document = json.loads(stdout)
    assert code == 0
    assert document["patients"] == 3
    assert document["seed"] == 0
    assert set(document["tables"]) == set(TABLES)
    assert document["tables"]["patients"]["rows"] == 3


def test_synth_lists_every_bad_argument_and_writes_nothing(tmp_path: Path) -> None:
    """Bad counts, a negative seed, a bad date and a file as --out are all reported at once, exit 2, empty stdout."""
    target = tmp_path / "file"
    target.write_text("x")
    code, stdout, stderr = _run(
        "synth", "--patients", "0", "--days", "0", "--seed", "-1", "--end", "2025-02-30", "--out", str(target)
    )
    assert (code, stdout) == (2, "")
    assert stderr.splitlines() == [
        PATIENTS_BELOW_ONE.format(value=0),
        DAYS_BELOW_ONE.format(value=0),
        SEED_NEGATIVE.format(value=-1),
        BAD_END.format(value="2025-02-30"),
        OUT_IS_FILE.format(path=target),
    ]


def test_the_synthetic_csv_diary_is_read_by_onaboard_assess(cohort: Path) -> None:
    """The CSV diary is the diary contract: ``onaboard assess`` judges every patient in it."""
    result = CliRunner().invoke(
        app, ["assess", str(cohort / "diary.csv"), "--json"], env={"ONABOARD_TODAY": "2026-01-01"}
    )
    assert result.exit_code == 0, result.stderr
    assert len(json.loads(result.stdout)["patients"]) == 60


def test_report_json_is_one_document(cohort: Path) -> None:
    """``cohort report --json`` prints exactly one JSON document with the responder figures."""
    code, stdout, _ = _run("cohort", "report", str(cohort), "--json")
    document = json.loads(stdout)
    assert code == 0
    assert document["engine"] == "duckdb"
    assert document["treated"] == 60
    assert {"count", "total", "percent", "low", "high"} <= set(document["responder_50"])


def test_report_text_names_each_section(cohort: Path) -> None:
    """The terminal summary shows the responders, change per period, adverse events and stopping reasons."""
    code, stdout, _ = _run("cohort", "report", str(cohort))
    assert code == 0
    for heading in (
        "50 % fewer headache days",
        "Change in headache days per 28-day period",
        "Adverse events",
        "Stopping reasons",
    ):
        assert heading in stdout


def test_report_text_names_its_engine_and_sources_in_words(cohort: Path) -> None:
    """The terminal summary says where it was computed ("computed with DuckDB") and how its intervals were made,
    with no file names ("calibration.toml") or option values ("(duckdb)")."""
    code, stdout, _ = _run("cohort", "report", str(cohort))
    assert code == 0
    flat = " ".join(stdout.split())
    assert "(computed with DuckDB)" in flat
    assert "none for fewer than 3 patients and cut at -28 and +28 days" in flat
    assert "(duckdb)" not in stdout
    assert "calibration.toml" not in stdout


def test_a_mean_without_an_interval_shows_a_dash() -> None:
    """A period of fewer than 3 patients has no interval: the table shows "-", not "- to -"."""
    assert _interval(None, None) == "-"
    assert _interval(-28.0, 14.7) == "-28.0 to 14.7"


def test_report_writes_html_and_pdf(cohort: Path, tmp_path: Path) -> None:
    """``--html`` and ``--pdf`` write the report with its plots; stdout keeps the JSON document alone."""
    html, pdf = tmp_path / "r.html", tmp_path / "r.pdf"
    code, stdout, stderr = _run("cohort", "report", str(cohort), "--json", "--html", str(html), "--pdf", str(pdf))
    assert code == 0
    json.loads(stdout)
    assert html.read_text(encoding="utf-8").count("<svg") == 3
    assert pdf.read_bytes().startswith(b"%PDF")
    assert str(html) in stderr


def test_the_median_onset_reads_not_reached_while_under_half_responded() -> None:
    """The terminal shows the median onset period, "not reached" when eligible patients have no median, and a dash
    without eligible patients."""
    assert _median_onset({"median_onset_period": 2, "eligible": 7}) == "2"
    assert _median_onset({"median_onset_period": None, "eligible": 10}) == MEDIAN_NOT_REACHED
    assert _median_onset({"median_onset_period": None, "eligible": 0}) == "-"


def test_report_refuses_a_directory_that_is_not_a_cohort(tmp_path: Path) -> None:
    """A missing directory or missing tables exit 2 with every problem and nothing on stdout."""
    code, stdout, stderr = _run("cohort", "report", str(tmp_path / "nowhere"))
    assert (code, stdout, stderr.strip()) == (2, "", NO_SUCH_DIRECTORY.format(path=tmp_path / "nowhere"))
    code, stdout, stderr = _run("cohort", "report", str(tmp_path))
    assert (code, stdout) == (2, "")
    assert stderr.splitlines()[0] == MISSING_TABLE.format(path=tmp_path / "patients.parquet", tables=", ".join(TABLES))


def test_report_refuses_an_output_in_a_missing_directory(cohort: Path, tmp_path: Path) -> None:
    """An --html or --pdf path whose directory does not exist is refused before any work."""
    code, stdout, stderr = _run("cohort", "report", str(cohort), "--pdf", str(tmp_path / "no" / "r.pdf"))
    assert (code, stdout) == (2, "")
    assert stderr.strip() == OUTPUT_PARENT_MISSING.format(option="--pdf", parent=tmp_path / "no")


def test_report_refuses_stdout_as_an_output_and_writes_no_file_named_dash(
    cohort: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """--html - or --pdf - is refused before any work (the report is never written to stdout; "-" used to become a
    file named "-")."""
    monkeypatch.chdir(tmp_path)
    for option in ("--html", "--pdf"):
        code, stdout, stderr = _run("cohort", "report", str(cohort), option, "-")
        assert (code, stdout, stderr.strip()) == (2, "", OUTPUT_NOT_STDOUT.format(option=option))
    assert list(tmp_path.iterdir()) == []


def test_report_refuses_an_unknown_engine(cohort: Path) -> None:
    """--engine accepts duckdb or spark only (exit 2)."""
    code, stdout, _ = _run("cohort", "report", str(cohort), "--engine", "sqlite")
    assert (code, stdout) == (2, "")


def test_the_command_line_starts_without_the_analytics_stack() -> None:
    """Importing onaboard.cli loads none of Ibis, DuckDB, PySpark, pyarrow, numpy, pandas, matplotlib, WeasyPrint."""
    code = f"import sys, onaboard.cli; print(sorted({{m.split('.')[0] for m in sys.modules}} & set({HEAVY!r})))"
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert loaded.strip() == "[]"


def test_report_refuses_a_folder_as_output_and_leaves_nothing_half_written(cohort: Path, tmp_path: Path) -> None:
    """``--pdf`` naming a folder is refused before any work (it was a traceback after the HTML had been written),
    and nothing is written."""
    html = tmp_path / "r.html"
    code, stdout, stderr = _run("cohort", "report", str(cohort), "--html", str(html), "--pdf", str(tmp_path))
    assert (code, stdout) == (2, "")
    assert stderr.strip() == OUTPUT_IS_A_FOLDER.format(option="--pdf", path=tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_paths_holding_brackets_are_printed_as_they_are(tmp_path: Path) -> None:
    """Rich would read "[/old]" in a path as markup (a crash) or drop "[final]" from it: paths are printed as given."""
    out = tmp_path / "c[/old] [final]"
    code, stdout, stderr = _run("synth", "--patients", "2", "--days", "30", "--seed", "1", "--out", str(out))
    assert code == 0, stderr
    assert str(out / "diary.parquet") in " ".join(stdout.split())
    html = tmp_path / "r [final].html"
    code, stdout, stderr = _run("cohort", "report", str(out), "--html", str(html))
    assert code == 0, stderr
    assert "[final]" in stdout
    assert stderr.strip() == f"Wrote {html}"


def test_synth_refuses_what_it_cannot_write_and_leaves_no_part_of_a_cohort(tmp_path: Path) -> None:
    """A folder holding a table's name, an --out under a file and an --end leaving no room in the calendar exit 2
    naming the problem (tracebacks, or a cohort dated before year 1), and nothing is left behind."""
    blocked = tmp_path / "blocked"
    (blocked / "diary.parquet").mkdir(parents=True)
    code, _, stderr = _run("synth", "--patients", "2", "--days", "30", "--out", str(blocked))
    assert (code, stderr.strip()) == (2, f"--out: cannot write {blocked}: a folder holds a table's name")
    (tmp_path / "file.csv").write_text("x")
    code, _, stderr = _run("synth", "--patients", "2", "--days", "30", "--out", str(tmp_path / "file.csv" / "sub"))
    assert (code, stderr.startswith("--out: cannot write")) == (2, True)
    code, _, stderr = _run("synth", "--patients", "2", "--out", str(tmp_path / "old"), "--end", "0001-02-01")
    assert (code, stderr.strip()) == (2, END_OUTSIDE.format(value="0001-02-01", days=365))
    assert sorted(path.name for path in tmp_path.rglob("*")) == ["blocked", "diary.parquet", "file.csv"]


def test_an_interrupted_synth_leaves_no_part_of_a_cohort(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The tables are moved into --out only once every one is complete: interrupted half-way (Ctrl-C), the folder
    holds no table a report would read as a smaller cohort, and the work folder beside it is gone."""
    from onaboard.cohort import synth

    real = synth.cohort_chunk

    def interrupted(index: int, **options: object) -> object:
        if index == 1:
            raise KeyboardInterrupt
        return real(index, **options)

    monkeypatch.setattr(synth, "CHUNK_PATIENTS", 2)
    monkeypatch.setattr(synth, "cohort_chunk", interrupted)
    out = tmp_path / "cohort"
    with pytest.raises(KeyboardInterrupt):
        synth.write_cohort(out, patients=5, days=30, seed=1)
    assert list(tmp_path.rglob("*")) == [out]


def test_synth_refuses_an_empty_out(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``--out ""`` is refused (exit 2, nothing written) instead of writing the tables into the current directory."""
    monkeypatch.chdir(tmp_path)
    code, stdout, stderr = _run("synth", "--patients", "2", "--days", "30", "--out", "")
    assert (code, stdout, stderr.strip()) == (2, "", OUT_EMPTY)
    assert list(tmp_path.iterdir()) == []


def test_synth_refuses_a_directory_holding_other_files(tmp_path: Path) -> None:
    """A directory holding anything but a synthetic cohort's tables is refused (exit 2, naming what is there), and
    nothing in it changes: an old registry's tables beside a new cohort would be read as one."""
    out = tmp_path / "registry"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    (out / "diary.csv").write_text("patient_id,date\n")
    code, stdout, stderr = _run("synth", "--patients", "2", "--days", "30", "--out", str(out))
    assert (code, stdout) == (2, "")
    assert stderr.strip() == OUT_HOLDS_OTHER_FILES.format(path=out, names="diary.csv, notes.txt")
    assert sorted(path.name for path in out.iterdir()) == ["diary.csv", "notes.txt"]


def test_synth_over_an_earlier_cohort_leaves_one_cohort(tmp_path: Path) -> None:
    """Written again without --csv over a cohort written with it, the directory holds the new Parquet tables and
    no CSV of the old cohort."""
    out = tmp_path / "cohort"
    code, _, stderr = _run("synth", "--patients", "3", "--days", "30", "--seed", "1", "--out", str(out), "--csv")
    assert code == 0, stderr
    code, _, stderr = _run("synth", "--patients", "2", "--days", "30", "--seed", "2", "--out", str(out))
    assert code == 0, stderr
    assert sorted(path.name for path in out.iterdir()) == sorted(f"{name}.parquet" for name in TABLES)
    assert pq.read_metadata(out / "patients.parquet").num_rows == 2


def test_report_as_of_is_a_date_and_is_stated(cohort: Path) -> None:
    """``--as-of`` takes a YYYY-MM-DD date (else exit 2), reaches the JSON document and is stated in the summary;
    fewer patients are assessable at week 24 on a day inside the cohort's treatment than with the diary finished."""
    code, stdout, stderr = _run("cohort", "report", str(cohort), "--as-of", "2025-13-01")
    assert (code, stdout, stderr.strip()) == (2, "", BAD_AS_OF.format(value="2025-13-01"))
    finished = json.loads(_run("cohort", "report", str(cohort), "--json")[1])
    code, stdout, _ = _run("cohort", "report", str(cohort), "--json", "--as-of", "2025-06-15")
    document = json.loads(stdout)
    assert (code, finished["as_of"], document["as_of"]) == (0, None, "2025-06-15")
    assert document["responder_50"]["total"] < finished["responder_50"]["total"]
    code, stdout, _ = _run("cohort", "report", str(cohort), "--as-of", "2025-06-15")
    assert AS_OF_NOTE.format(as_of="2025-06-15") in " ".join(stdout.split())


def test_the_summary_counts_patients_who_have_not_reached_week24_for_overuse(cohort: Path) -> None:
    """As of a day inside the cohort's treatment the summary's overuse at week 24 counts the patients whose week 24
    has not ended as "not reached", in the words of the file and the clinic's page, as many as the JSON holds."""
    document = json.loads(_run("cohort", "report", str(cohort), "--json", "--as-of", "2025-06-15")[1])
    overuse = document["overuse_at_week24"]
    assert overuse[WEEK24_NOT_REACHED] > 0
    code, stdout, _ = _run("cohort", "report", str(cohort), "--as-of", "2025-06-15")
    line = (
        f"Medication overuse at week 24 suspected {overuse['suspected']}, not suspected {overuse['not_suspected']}, "
        f"insufficient data {overuse['insufficient_data']}, {WEEK24_NOT_REACHED_WORDS} {overuse[WEEK24_NOT_REACHED]}"
    )
    assert (code, line in " ".join(stdout.split())) == (0, True)


def test_the_published_figures_say_which_rule_makes_them_near() -> None:
    """The summary's published figures read "near (tolerance)", "near (inside CI)" or "off"."""
    figures = {"responder_50_week24": Proportion.of(2, 3), "female_share": Proportion.of(85, 100)}
    rows = {row.name: _near(row) for row in _reference(figures)}
    assert rows["responder_50_week24"] == NEAR_BY_INTERVAL
    assert rows["female_share"] == NEAR_BY_TOLERANCE
    (far,) = [row for row in _reference({"female_share": Proportion.of(10, 100)}) if row.name == "female_share"]
    assert _near(far) == OFF


def test_the_summary_explains_near_in_the_words_of_the_file_and_the_web_page(cohort: Path) -> None:
    """Under the published figures the summary prints the same explanation of "near (tolerance)", "near (inside
    CI)" and "off" as the file report and the clinic's page (one set of words)."""
    code, stdout, _ = _run("cohort", "report", str(cohort))
    assert code == 0
    assert NEAR_NOTE.startswith(f"{NEAR_BY_TOLERANCE}: ")
    assert NEAR_NOTE in " ".join(stdout.split())


def test_report_text_says_what_the_session_shares_count(cohort: Path) -> None:
    """The terminal summary names the repeat sessions on time and too early by the engine's days, and the sessions
    with a follow-the-pain site, as the file and the page do."""
    from onaboard.cohort.report import SESSIONS_EARLY, SESSIONS_FOLLOW_THE_PAIN, SESSIONS_ON_TIME

    code, stdout, _ = _run("cohort", "report", str(cohort))
    assert code == 0
    flat = " ".join(stdout.split())
    for label in (SESSIONS_ON_TIME, SESSIONS_EARLY, SESSIONS_FOLLOW_THE_PAIN):
        assert label in flat
    # On an assessment day the week-24 overuse figure grows ("not reached N"); the labels stay whole all the same
    # (a long figure used to squeeze the label column, and a label's last word landed after its figure).
    document = json.loads(_run("cohort", "report", str(cohort), "--json")[1])
    first, last = (date.fromisoformat(document[key]) for key in ("observed_from", "observed_until"))
    middle = first + (last - first) / 2
    code, stdout, _ = _run("cohort", "report", str(cohort), "--as-of", middle.isoformat())
    assert code == 0
    assert "not reached" in stdout
    flat = " ".join(stdout.split())
    for label in (SESSIONS_ON_TIME, SESSIONS_EARLY, SESSIONS_FOLLOW_THE_PAIN):
        assert label in flat


def test_report_json_adds_the_session_figures_and_keeps_the_old_keys(cohort: Path) -> None:
    """The JSON keeps ``sessions_on_time`` and ``sessions_follow_the_pain`` and adds ``sessions_early`` and
    ``sessions_follow_the_pain_recorded`` (keys are only ever added)."""
    code, stdout, _ = _run("cohort", "report", str(cohort), "--json")
    document = json.loads(stdout)
    assert code == 0
    for key in ("sessions_on_time", "sessions_early", "sessions_follow_the_pain"):
        assert {"count", "total", "percent", "low", "high"} <= set(document[key])
    assert document["sessions_follow_the_pain_recorded"] is True
    assert document["sessions_early"]["count"] == 0


def _cohort_copy(cohort: Path, tmp_path: Path) -> Path:
    """A copy of the module's cohort (its Parquet and CSV tables) that a test may change."""
    return Path(shutil.copytree(cohort, tmp_path / "cohort"))


def test_report_refuses_to_write_over_a_file_of_the_cohort(cohort: Path, tmp_path: Path) -> None:
    """``--html DIR/patients.parquet`` exited 0 and replaced the cohort's own table with HTML: a table (as Parquet or
    CSV), the export manifest and any other file inside the cohort but an earlier report are refused (exit 2,
    nothing on stdout), and the files are left as they were."""
    directory = _cohort_copy(cohort, tmp_path)
    (directory / "notes.txt").write_text("the registry's notes", encoding="utf-8")
    before = {path.name: path.read_bytes() for path in directory.iterdir()}
    for option, name in (
        ("--html", "patients.parquet"),
        ("--pdf", "diary.csv"),
        ("--html", "export.json"),
        ("--pdf", "notes.txt"),
    ):
        path = directory / name
        code, stdout, stderr = _run("cohort", "report", str(directory), option, str(path))
        assert (code, stdout) == (2, ""), (option, name)
        assert stderr.strip() == OUTPUT_IN_COHORT.format(option=option, path=path, directory=directory)
    assert {path.name: path.read_bytes() for path in directory.iterdir()} == before


def test_report_writes_again_over_its_own_earlier_report_in_the_cohort(cohort: Path, tmp_path: Path) -> None:
    """A report written into the cohort directory may be written again by the same command (an earlier .html or
    .pdf is not the cohort's)."""
    directory = _cohort_copy(cohort, tmp_path)
    html = directory / "report.html"
    for _ in range(2):
        code, _, stderr = _run("cohort", "report", str(directory), "--json", "--html", str(html))
        assert code == 0, stderr
    assert html.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


def test_report_refuses_html_and_pdf_naming_the_same_file(cohort: Path, tmp_path: Path) -> None:
    """--html and --pdf naming one path would leave the PDF where the HTML was asked for: refused before any work."""
    path = tmp_path / "report.out"
    code, stdout, stderr = _run("cohort", "report", str(cohort), "--html", str(path), "--pdf", str(path))
    assert (code, stdout, stderr.strip()) == (2, "", OUTPUT_TWICE.format(path=path))
    assert not path.exists()


def test_report_refuses_midas_answers_outside_the_engines_limits(cohort: Path, tmp_path: Path) -> None:
    """A PROM table with MIDAS Q1 of -3 days exits 2 naming prom.parquet, the column and the value."""
    directory = _cohort_copy(cohort, tmp_path)
    path = directory / "prom.parquet"
    prom = pq.read_table(path)
    index = prom.schema.get_field_index("midas_q1")
    values = pa.array([-3, *prom["midas_q1"].to_pylist()[1:]], prom.schema.field(index).type)
    pq.write_table(prom.set_column(index, prom.schema.field(index), values), path)
    code, stdout, stderr = _run("cohort", "report", str(directory), "--json")
    assert (code, stdout) == (2, "")
    assert stderr.startswith(f"{path}: column midas_q1 holds -3 for patient ")


def test_report_refuses_session_numbers_the_dates_contradict(cohort: Path, tmp_path: Path) -> None:
    """Sessions 1 and 2 of a patient with their numbers swapped (a negative gap read as a session too early) exit 2
    naming the sessions file and the patient."""
    directory = _cohort_copy(cohort, tmp_path)
    path = directory / "sessions.parquet"
    sessions = pq.read_table(path)
    rows = sessions.to_pylist()
    patient = next(row["patient_id"] for row in rows if row["session_number"] == 2)
    for row in rows:
        if row["patient_id"] == patient and row["session_number"] in (1, 2):
            row["session_number"] = 3 - row["session_number"]
    pq.write_table(pa.Table.from_pylist(rows, schema=sessions.schema), path)
    code, stdout, stderr = _run("cohort", "report", str(directory))
    assert (code, stdout) == (2, "")
    assert stderr.startswith(f"{path}: patient {patient}'s session 2 on ")


def test_the_summary_counts_one_patient_in_the_singular(cohort: Path, tmp_path: Path) -> None:
    """A cohort of one patient reads "1 patient, 1 treated", not "1 patients"."""
    directory = tmp_path / "one"
    directory.mkdir()
    patient = pq.read_table(cohort / "sessions.parquet")["patient_id"][0].as_py()
    for name in TABLES:
        table = pq.read_table(cohort / f"{name}.parquet")
        pq.write_table(table.filter(pc.equal(table["patient_id"], patient)), directory / f"{name}.parquet")
    code, stdout, stderr = _run("cohort", "report", str(directory))
    assert code == 0, stderr
    assert "1 patient, 1 treated;" in " ".join(stdout.split())


def test_a_reader_closing_the_pipe_ends_the_text_report_with_exit_0(cohort: Path) -> None:
    """``onaboard cohort report DIR | head -2`` ends with exit 0 and nothing on stderr, as ``onaboard assess`` does
    (the report's own console let Rich end it with exit 1)."""
    script = Path(sys.executable).parent / "onaboard"
    with subprocess.Popen(
        [str(script), "cohort", "report", str(cohort)], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    ) as process:
        assert process.stdout is not None
        assert process.stderr is not None
        assert process.stdout.readline()  # the report has begun; much more is to come
        process.stdout.close()
        stderr = process.stderr.read()
        assert (process.wait(timeout=120), stderr) == (0, b"")
