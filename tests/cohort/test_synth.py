"""The synthetic cohort: deterministic, valid under the diary contract and the engine's instruments, shaped like a
clinic's course of treatment, and calibrated to the published figures in calibration.toml."""

from __future__ import annotations

import ast
import itertools
import re
from datetime import date, timedelta
from pathlib import Path

import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from onaboard.clinical import (
    FIXED_DOSE_UNITS,
    MAX_SESSION_UNITS,
    RETREATMENT_INTERVAL_DAYS,
    age_in_years,
    hit6_score,
    midas_score,
    parse_diary,
)
from onaboard.cohort import synth
from onaboard.cohort.calibration import calibration
from onaboard.cohort.report import CohortReport, cohort_report
from onaboard.cohort.synth import CHUNK_PATIENTS, DEFAULT_END, cohort_chunk, patient_id, write_cohort
from onaboard.cohort.tables import HIT6_ITEM_COLUMNS, SCHEMAS, TABLES, patient_diaries
from tests.cohort.conftest import IBIS_ON_DUCKDB_2

pytestmark = IBIS_ON_DUCKDB_2

CALIBRATION_PATIENTS = 4000


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 120-patient cohort written with CSV as well."""
    directory = tmp_path_factory.mktemp("small")
    write_cohort(directory, patients=120, days=365, seed=5, csv=True)
    return directory


def _tables(directory: Path) -> dict[str, object]:
    return {name: pq.read_table(directory / f"{name}.parquet") for name in TABLES}


def test_the_same_seed_gives_the_same_cohort(tmp_path: Path) -> None:
    """Two runs with the same arguments write identical tables."""
    write_cohort(tmp_path / "a", patients=40, days=200, seed=3)
    write_cohort(tmp_path / "b", patients=40, days=200, seed=3)
    assert _tables(tmp_path / "a") == _tables(tmp_path / "b")


def test_another_seed_gives_another_cohort(tmp_path: Path) -> None:
    """A different seed changes the diaries."""
    write_cohort(tmp_path / "a", patients=40, days=200, seed=3)
    write_cohort(tmp_path / "b", patients=40, days=200, seed=4)
    assert _tables(tmp_path / "a")["diary"] != _tables(tmp_path / "b")["diary"]


def test_a_directory_holding_other_files_is_refused_before_anything_is_written(tmp_path: Path) -> None:
    """``write_cohort`` refuses a directory holding a file no synthetic cohort writes, naming it, and writes
    nothing there; a run's own leftover work folder is not such a file."""
    (tmp_path / "report.html").write_text("<html></html>")
    (tmp_path / f"{synth.PARTIAL_PREFIX}1").mkdir()
    message = synth.OTHER_FILES.format(path=tmp_path, names="report.html")
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        write_cohort(tmp_path, patients=2, days=30, seed=1)
    assert sorted(path.name for path in tmp_path.iterdir()) == [f"{synth.PARTIAL_PREFIX}1", "report.html"]


def test_another_registrys_tables_of_the_same_names_are_refused_and_a_synthetic_cohort_replaced(
    tmp_path: Path,
) -> None:
    """Tables named as a synthetic cohort's but written by someone else (no ``SYNTH_MARK`` in their Parquet
    metadata; a CSV without a marked Parquet beside it) are refused, naming them, and left as they were; a cohort
    ``write_cohort`` wrote is replaced."""
    write_cohort(tmp_path / "ours", patients=2, days=30, seed=1)
    registry = tmp_path / "registry"
    registry.mkdir()
    for name in TABLES:
        table = pq.read_table(tmp_path / "ours" / f"{name}.parquet")
        pq.write_table(table.replace_schema_metadata(None), registry / f"{name}.parquet")
    (registry / "diary.csv").write_text("patient_id,date\n")
    names = ", ".join(sorted([*(f"{name}.parquet" for name in TABLES), "diary.csv"]))
    message = synth.OTHER_FILES.format(path=registry, names=names)
    before = {path.name: path.read_bytes() for path in registry.iterdir()}
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        write_cohort(registry, patients=3, days=30, seed=2)
    assert {path.name: path.read_bytes() for path in registry.iterdir()} == before
    assert synth.foreign_entries(tmp_path / "ours") == []
    write_cohort(tmp_path / "ours", patients=3, days=30, seed=2)


def test_a_patient_is_the_same_in_a_larger_cohort(tmp_path: Path) -> None:
    """A cohort's patients are the first patients of any larger cohort with the same seed (chunks are drawn whole)."""
    write_cohort(tmp_path / "few", patients=30, days=120, seed=9)
    write_cohort(tmp_path / "many", patients=CHUNK_PATIENTS + 5, days=120, seed=9)
    few, many = _tables(tmp_path / "few"), _tables(tmp_path / "many")
    for name in TABLES:
        first = many[name].filter(pc.less_equal(many[name]["patient_id"], patient_id(30)))
        assert first == few[name], name


def test_every_table_has_its_schema_and_the_rows_asked_for(small: Path) -> None:
    """Each table has the schema of tables.py, one row per patient in patients, and ids C0000001 onwards."""
    tables = _tables(small)
    for name in TABLES:
        assert tables[name].schema == SCHEMAS[name], name
    ids = tables["patients"]["patient_id"].to_pylist()
    assert ids == [patient_id(n) for n in range(1, 121)]


def test_every_diary_row_is_valid_under_the_csv_contract(small: Path) -> None:
    """The CSV diary parses under the diary contract and reads back as the Parquet diary's days."""
    parsed = parse_diary((small / "diary.csv").read_bytes(), today=DEFAULT_END)
    assert parsed == patient_diaries(pq.read_table(small / "diary.parquet"))


def test_every_window_ends_by_the_cut_off_and_diaries_stay_inside_it(small: Path) -> None:
    """Diary dates lie in each patient's observed window, which ends on or before the cut-off."""
    tables = _tables(small)
    windows = {row["patient_id"]: row for row in tables["patients"].to_pylist()}
    for diary in patient_diaries(tables["diary"]):
        window = windows[diary.patient_id]
        assert window["observed_until"] <= DEFAULT_END
        assert window["observed_from"] <= diary.days[0].date <= diary.days[-1].date <= window["observed_until"]


def test_sessions_come_every_twelve_weeks_or_later_at_the_labels_dose(small: Path) -> None:
    """Sessions are numbered from 1, never closer than 12 weeks, 155-195 U, and start after a baseline period."""
    tables = _tables(small)
    windows = {row["patient_id"]: row["observed_from"] for row in tables["patients"].to_pylist()}
    by_patient: dict[str, list[dict[str, object]]] = {}
    for row in tables["sessions"].to_pylist():
        by_patient.setdefault(row["patient_id"], []).append(row)
        assert FIXED_DOSE_UNITS <= row["dose_units"] <= MAX_SESSION_UNITS
    for pid, sessions in by_patient.items():
        assert [s["session_number"] for s in sessions] == list(range(1, len(sessions) + 1))
        assert (sessions[0]["session_date"] - windows[pid]).days >= 28
        gaps = [(b["session_date"] - a["session_date"]).days for a, b in itertools.pairwise(sessions)]
        assert all(gap >= RETREATMENT_INTERVAL_DAYS for gap in gaps)


def test_every_patient_is_an_adult_at_the_first_injection(small: Path) -> None:
    """Ages at the first injection lie in COMPEL's 18-73 years."""
    tables = _tables(small)
    births = {row["patient_id"]: row["birth_date"] for row in tables["patients"].to_pylist()}
    firsts: dict[str, date] = {}
    for row in tables["sessions"].to_pylist():
        firsts.setdefault(row["patient_id"], row["session_date"])
    assert all(18 <= age_in_years(births[pid], day0) <= 73 for pid, day0 in firsts.items())


def test_every_questionnaire_scores_under_the_engines_rules(small: Path) -> None:
    """Every HIT-6 and MIDAS row is accepted by the engine's scorers (answers, ranges, Q2/Q4 exclusions)."""
    for row in pq.read_table(small / "prom.parquet").to_pylist():
        hit6_score([row[column] for column in HIT6_ITEM_COLUMNS])
        midas_score(
            q1=row["midas_q1"],
            q2=row["midas_q2"],
            q3=row["midas_q3"],
            q4=row["midas_q4"],
            q5=row["midas_q5"],
            a=row["midas_a"],
            b=row["midas_b"],
        )


def test_adverse_events_use_the_label_tables_codes_and_follow_a_session(small: Path) -> None:
    """Every adverse event names a row of the label's table and starts within two weeks after its session."""
    tables = _tables(small)
    codes = {reaction.event for reaction in calibration().adverse_reactions}
    sessions = {(r["patient_id"], r["session_number"]): r["session_date"] for r in tables["sessions"].to_pylist()}
    for row in tables["adverse_events"].to_pylist():
        assert row["event"] in codes
        start = sessions[(row["patient_id"], row["session_number"])]
        assert start <= row["onset_date"] <= start + timedelta(days=14)


def test_a_chunk_needs_at_least_one_day() -> None:
    """Asking for no days is refused."""
    with pytest.raises(ValueError, match="days"):
        cohort_chunk(0, seed=1, days=0)


@pytest.fixture(scope="module")
def calibrated(tmp_path_factory: pytest.TempPathFactory) -> CohortReport:
    """The cohort report of a 4,000-patient cohort of a year each."""
    directory = tmp_path_factory.mktemp("calibrated")
    write_cohort(directory, patients=CALIBRATION_PATIENTS, days=365, seed=20261128)
    return cohort_report(directory)


def test_a_cohort_of_a_few_thousand_lands_near_every_published_figure(calibrated: CohortReport) -> None:
    """Read by the cohort report, a 4,000-patient cohort lands within tolerance of every target in calibration.toml
    (the tolerance alone: the report's "near" also accepts a figure inside the cohort's interval, which is for
    small clinics, not for calibrating the generator)."""
    report = calibrated
    off = [
        f"{row.name}: cohort {row.cohort} vs published {row.published}"
        for row in report.reference
        if row.within_tolerance is not True
    ]
    assert off == []


def test_a_cohort_of_a_few_thousand_is_mostly_on_the_label(calibrated: CohortReport) -> None:
    """Of the patients whose three periods before the first injection can be judged, the share meeting the BOTOX
    label's chronic-migraine criteria lands within tolerance of PREEMPT's (which enrolled only such patients), and
    some do not: treated on the clinician's judgement, as in a clinic's registry."""
    target = calibration().targets["label_criteria_met"]
    met, not_met = calibrated.label_criteria["met"], calibrated.label_criteria["not_met"]
    share = 100 * met / (met + not_met)
    assert (target.near(share), not_met > 0) == (True, True), f"{share:.1f} % met"


def test_adverse_event_rates_land_near_the_labels(calibrated: CohortReport) -> None:
    """Every label adverse reaction's cohort rate is within four standard errors of the label's percentage."""
    for event in calibrated.adverse_events:
        p = event.label_percent / 100
        standard_error = (p * (1 - p) / event.rate.total) ** 0.5
        assert abs((event.rate.percent or 0) / 100 - p) <= 4 * standard_error, event.name


def test_parameter_docstrings_name_their_constants_instead_of_repeating_numbers() -> None:
    """No docstring of synth.py restates a distribution's parameters (``Normal(21.4, ...``) or a mixture's share as
    a number, so a retuned constant cannot leave its description saying another value."""
    source = Path(synth.__file__).read_text(encoding="utf-8")
    docstrings = [
        node.value.value
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)
    ]
    restated = re.compile(r"(Normal|Beta|Poisson)\(\s*[\d.-]|\d+ % near \d+ %")
    assert [text for text in docstrings if restated.search(text)] == []
