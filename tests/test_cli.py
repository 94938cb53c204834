"""The ``onaboard`` command's machine-readable contract (shared/spec/cli.md, shared/spec/diary-csv.md).

Most cases run in-process through Typer's ``CliRunner`` (stdout and stderr kept apart); a handful run the installed
console script as a subprocess to check what a shell sees: the exit code, exactly one JSON document on stdout, and
nothing on stdout on exit 2. ``ONABOARD_TODAY`` fixes today's date so every run is reproducible.
"""

from __future__ import annotations

import itertools
import json
import math
import os
import re
import subprocess
import sys
from collections.abc import Callable
from datetime import date, timedelta
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from onaboard import cli
from onaboard.cli import app
from onaboard.clinical import preempt
from onaboard.clinical.cycles import PROPOSED_BEFORE_PREVIOUS
from onaboard.clinical.outcomes import EPISODIC_WAITS_FOR_BASELINE
from tests.builders import (
    FREE,
    HEADACHE,
    HEADACHE_4H,
    MIGRAINE,
    SHORT_MIGRAINE,
    Row,
    days,
    diary_csv,
    medicate,
    period_rows,
    periods_back,
    treated_rows,
)

TODAY = "2026-06-30"
AS_OF = date(2026, 3, 1)
"""Periods before it: 1 = 2026-02-02..2026-03-01, 2 = 2026-01-05..2026-02-01, 3 = 2025-12-08..2026-01-04."""
DAY0 = date(2026, 1, 5)
"""First injection: baseline 2025-12-08..2026-01-04, period k from DAY0 + 28(k-1), period 6 = 2026-05-25..06-21."""

CM_PERIOD: dict[str, Any] = {"migraine": 8, "headache_4h": 7}
"""A complete period meeting ICHD-3 1.3 A and C and the label's 4-hour rule at their boundary (15, 8, 15)."""

ACUTE_KEYS = (
    "triptan",
    "ergot",
    "simple_analgesic",
    "combination_analgesic",
    "opioid",
    "gepant",
    "ditan",
    "other",
    "any",
)
PERIOD_KEYS = {
    "index",
    "start",
    "end",
    "days_recorded",
    "complete",
    "headache_days",
    "headache_days_4h",
    "migraine_days",
    "acute_medication_days",
}
SCRIPT = Path(sys.executable).parent / "onaboard"
RUNNER = CliRunner()

Writer = Callable[..., str]


def invoke(*args: object, today: str = TODAY) -> Result:
    """Run the command in-process with today's date fixed."""
    return RUNNER.invoke(app, [str(arg) for arg in args], env={"ONABOARD_TODAY": today})


def succeeded(result: Result) -> Any:
    """The JSON document of a successful run (exit 0, one document on stdout)."""
    assert result.exit_code == 0, (result.exit_code, result.stderr, result.exception)
    return json.loads(result.stdout)


def refused(result: Result) -> list[str]:
    """The problem lines of a refused run (exit 2, nothing on stdout, at least one problem on stderr)."""
    assert result.exit_code == 2, (result.exit_code, result.stdout, result.stderr, result.exception)
    assert result.stdout == ""
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert lines
    return lines


@pytest.fixture
def write(tmp_path: Path) -> Writer:
    """Write diary content (rows, CSV text or bytes) to a file and return its path."""
    counter = itertools.count()

    def writer(content: list[Row] | str | bytes) -> str:
        path = tmp_path / f"diary{next(counter)}.csv"
        if isinstance(content, list):
            content = diary_csv(content)
        path.write_bytes(content.encode() if isinstance(content, str) else content)
        return str(path)

    return writer


def assess(path: str, *args: object, today: str = TODAY) -> list[dict[str, Any]]:
    """PATIENT objects of ``onaboard assess --json``."""
    return succeeded(invoke("assess", path, "--json", *args, today=today))["patients"]


def assess_one(path: str, *args: object) -> dict[str, Any]:
    """The only PATIENT of ``onaboard assess --json`` (as of AS_OF unless given)."""
    if "--as-of" not in args:
        args = (*args, "--as-of", AS_OF)
    (patient,) = assess(path, *args)
    return patient


def outcomes(path: str, *args: object) -> list[dict[str, Any]]:
    """Patients of ``onaboard outcomes --json``."""
    return succeeded(invoke("outcomes", path, "--json", *args))["patients"]


def outcomes_one(path: str, injections: str = DAY0.isoformat()) -> dict[str, Any]:
    """The only patient of ``onaboard outcomes --json`` for these injections."""
    (patient,) = outcomes(path, "--injections", injections)
    return patient


def plan(*args: object) -> dict[str, Any]:
    """The document of ``onaboard plan --json``."""
    return succeeded(invoke("plan", "--json", *args))


def header_only(columns: str = "patient_id,date,headache_hours") -> str:
    return columns + "\n"


# === End to end, as a shell runs it ===============================================================================


def run_script(*args: object) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "ONABOARD_TODAY": TODAY}
    return subprocess.run(
        [str(SCRIPT), *map(str, args)], capture_output=True, text=True, env=env, check=False, timeout=60
    )


def exactly_one_json(text: str) -> Any:
    document, end = json.JSONDecoder().raw_decode(text.lstrip())
    assert text.lstrip()[end:].strip() == "", "something besides one JSON document on stdout"
    return document


def test_script_assess_prints_exactly_one_json_document(write: Writer) -> None:
    """``onaboard assess --json`` exits 0 with exactly one JSON document on stdout, for several patients."""
    path = write(periods_back("P1", AS_OF, CM_PERIOD) + periods_back("P2", AS_OF, CM_PERIOD))
    done = run_script("assess", path, "--json")
    assert done.returncode == 0, done.stderr
    assert [p["patient_id"] for p in exactly_one_json(done.stdout)["patients"]] == ["P1", "P2"]


def test_script_outcomes_and_plan_print_exactly_one_json_document(write: Writer) -> None:
    """``onaboard outcomes --json`` and ``onaboard plan --json`` each exit 0 with one JSON document on stdout."""
    path = write(treated_rows("P1", DAY0, 10, 8))
    done = run_script("outcomes", path, "--injections", DAY0, "--json")
    assert done.returncode == 0, done.stderr
    assert exactly_one_json(done.stdout)["patients"][0]["first_injection"] == DAY0.isoformat()
    done = run_script("plan", "--json")
    assert done.returncode == 0, done.stderr
    assert exactly_one_json(done.stdout)["total_units"] == 155


def test_script_invalid_diary_exits_2_with_problems_on_stderr_only(write: Writer) -> None:
    """An invalid diary exits 2 with every problem on stderr as ``line N, column C: ...`` and nothing on stdout."""
    good = days("P1", date(2026, 1, 5), 2)
    bad = [*good, {"patient_id": "P1", "date": "2026-01-07", "headache_hours": "25"}]
    assert run_script("assess", write(good), "--json").returncode == 0
    done = run_script("assess", write(bad), "--json")
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.startswith("line 4, column headache_hours: ")


def run_script_encoded(encoding: str, *args: object) -> subprocess.CompletedProcess[bytes]:
    """The console script run with its standard streams in ``encoding`` (as a Windows console or a file
    redirected there is in cp1252), its output kept as bytes."""
    env = {**os.environ, "ONABOARD_TODAY": TODAY, "PYTHONIOENCODING": encoding}
    return subprocess.run([str(SCRIPT), *map(str, args)], capture_output=True, env=env, check=False, timeout=60)


@pytest.mark.parametrize("encoding", ["latin-1", "cp1252", "ascii"])
def test_script_text_output_never_fails_on_a_stream_without_its_characters(write: Writer, encoding: str) -> None:
    """Text output on a stream whose encoding lacks a character it writes exits 0, with the character's ASCII form
    ('>=' for '≥'), never a traceback and exit 1 (it raised UnicodeEncodeError on '≥')."""
    path = write(treated_rows("P1", DAY0, 20, 20, 20, 20, 20, 20, 8))
    for args, expected in (
        (("assess", path), ">=4 h"),
        (("outcomes", path, "--injections", DAY0), f">={cli.RESPONDER_50_PERCENT} % responder: yes"),
        (("plan", "--help"), "(<=2)"),
    ):
        done = run_script_encoded(encoding, *args)
        assert (done.returncode, done.stderr) == (0, b""), args
        assert expected in done.stdout.decode(encoding), args


def test_script_text_output_is_unchanged_on_a_utf8_stream(write: Writer) -> None:
    """On a UTF-8 stream the text output keeps its characters ('≥'), as the in-process run writes them."""
    path = write(treated_rows("P1", DAY0, 20, 20, 20, 20, 20, 20, 8))
    done = run_script_encoded("utf-8", "assess", path)
    assert done.returncode == 0
    assert "≥4 h" in done.stdout.decode()


@pytest.mark.parametrize(("encoding", "ellipsis"), [("latin-1", "..."), ("cp1252", "…")])
def test_script_json_and_problems_on_a_stream_without_their_characters(
    write: Writer, encoding: str, ellipsis: str
) -> None:
    """``--json`` output is byte for byte the UTF-8 run's on any stream; the problems of exit 2 keep a character
    the stream has ('…' in cp1252) and are written with its ASCII form ('...') where the stream lacks it."""
    path = write(treated_rows("P1", DAY0, 20, 20, 20, 20, 20, 20, 8))
    for args in (("assess", path, "--json"), ("outcomes", path, "--injections", DAY0, "--json")):
        done = run_script_encoded(encoding, *args)
        assert done.returncode == 0, args
        assert done.stdout == run_script_encoded("utf-8", *args).stdout, args
    bad = write([{"patient_id": "P1", "date": "2026-01-07", "headache_hours": "1" * 30}])
    done = run_script_encoded(encoding, "assess", bad)
    assert (done.returncode, done.stdout) == (2, b"")
    assert done.stderr.decode(encoding) == (
        f"line 2, column headache_hours: headache hours must be a number from 0 to 24 (got '{'1' * 20}{ellipsis}')\n"
    )


def test_script_bad_arguments_exit_2_with_nothing_on_stdout(write: Writer) -> None:
    """Bad arguments (``--periods 0``, an unknown ``--patient``, too many follow-the-pain sites) exit 2 silently."""
    path = write(days("P1", date(2026, 1, 5), 2))
    for args in (
        ("assess", path, "--json", "--periods", "0"),
        ("assess", path, "--json", "--patient", "P9"),
        ("plan", "--json", "--follow-the-pain", "temporalis=3"),
    ):
        done = run_script(*args)
        assert (done.returncode, done.stdout) == (2, ""), args
        assert done.stderr.strip(), args


def test_a_bad_option_does_not_hide_the_files_problems(write: Writer) -> None:
    """Exit 2 lists every problem: a bad ``--as-of``, ``--periods`` or ``--injections`` and the bad rows of the
    file, options first; a missing file is listed beside a bad option too."""
    bad = write([*days("P1", date(2026, 1, 5), 2), {"patient_id": "P1", "date": "2026-01-07", "headache_hours": "x"}])
    bad_date = cli.BAD_DATE_OPTION.format
    for args, option in (
        (("assess", bad, "--json", "--as-of", "nope"), bad_date(option="--as-of", value="nope")),
        (("assess", bad, "--json", "--periods", "0"), cli.PERIODS_BELOW_ONE.format(value=0)),
        (
            ("outcomes", bad, "--json", "--injections", "x"),
            cli.BAD_DATE_OPTION.format(option="--injections", value="x"),
        ),
    ):
        problems = refused(invoke(*args))
        assert problems[0] == option, args
        assert problems[1].startswith("line 4, column headache_hours: "), args
    missing = str(Path(bad).with_name("absent.csv"))
    assert refused(invoke("assess", missing, "--as-of", "nope")) == [
        cli.BAD_DATE_OPTION.format(option="--as-of", value="nope"),
        cli.NO_SUCH_FILE.format(path=missing),
    ]


def test_periods_before_the_calendar_begins_exit_2_naming_the_options(write: Writer) -> None:
    """An ``--as-of`` or ``--periods`` reaching before 0001-01-01, or an injection on its first days, is refused
    with exit 2 and the options named, not a traceback."""
    path = write(days("P1", date(2026, 1, 5), 2))
    for args, options in (
        (("assess", path, "--json", "--as-of", "0001-01-10"), "--as-of, --periods"),
        (("assess", path, "--json", "--periods", "100000"), "--as-of, --periods"),
        (("outcomes", path, "--json", "--injections", "0001-01-01"), "--injections"),
    ):
        assert refused(invoke(*args)) == [cli.OUTSIDE_CALENDAR.format(options=options)], args


def test_text_output_is_the_default(write: Writer) -> None:
    """Without ``--json`` each subcommand prints readable text (not JSON) and exits 0."""
    path = write(treated_rows("P1", DAY0, 10, 8))
    for args in (("assess", path), ("outcomes", path, "--injections", DAY0), ("plan",)):
        result = invoke(*args)
        assert result.exit_code == 0, (args, result.stderr)
        assert result.stdout.strip()
        with pytest.raises(json.JSONDecodeError):
            json.loads(result.stdout)


# === assess: shape, order and periods =============================================================================


def test_assess_patient_has_every_contract_key(write: Writer) -> None:
    """Each PATIENT has patient_id, as_of, periods, migraine_attacks and the three verdicts with their keys."""
    patient = assess_one(write(periods_back("P001", AS_OF, CM_PERIOD, CM_PERIOD, CM_PERIOD)))
    assert {
        "patient_id",
        "as_of",
        "periods",
        "migraine_attacks",
        "chronic_migraine",
        "medication_overuse",
        "label_criteria",
    } <= set(patient)
    assert {"verdict", "reasons"} <= set(patient["chronic_migraine"])
    assert {"verdict", "classes", "reasons"} <= set(patient["medication_overuse"])
    assert {"verdict", "reasons"} <= set(patient["label_criteria"])
    for period in patient["periods"]:
        assert set(period) >= PERIOD_KEYS
        assert set(period["acute_medication_days"]) >= set(ACUTE_KEYS)
    assert (patient["patient_id"], patient["as_of"]) == ("P001", "2026-03-01")


def test_assess_header_only_file_holds_no_patients(write: Writer) -> None:
    """A header-only file is valid and gives ``{"patients": []}``."""
    assert succeeded(invoke("assess", write(header_only()), "--json")) == {"patients": []}


def test_assess_patients_sorted_by_patient_id_as_code_points(write: Writer) -> None:
    """Patients come sorted by patient_id as a string of code points ("P10" < "P2" < "a"), not as numbers."""
    ids = ["b", "a", "P2", "_x", "P10", "Z", "9", "-1", ".0"]
    rows = [row for pid in ids for row in days(pid, date(2026, 1, 5), 1)]
    got = [p["patient_id"] for p in assess(write(rows))]
    assert got == ["-1", ".0", "9", "P10", "P2", "Z", "_x", "a", "b"]


def test_assess_patient_option_keeps_only_that_patient(write: Writer) -> None:
    """``--patient ID`` judges only that patient; an ID not in the file exits 2."""
    path = write(days("P1", date(2026, 1, 5), 3) + days("P2", date(2026, 1, 5), 3))
    assert [p["patient_id"] for p in assess(path, "--patient", "P2")] == ["P2"]
    problems = refused(invoke("assess", path, "--json", "--patient", "P3"))
    assert any("P3" in problem for problem in problems)


def test_an_unknown_patient_is_listed_beside_a_bad_option(write: Writer) -> None:
    """``--periods 0`` does not hide an unknown ``--patient``: both problems are on stderr."""
    path = write(days("P1", date(2026, 1, 5), 3))
    problems = refused(invoke("assess", path, "--json", "--periods", "0", "--patient", "P3"))
    assert len(problems) == 2
    assert any("--periods" in problem for problem in problems)
    assert any("P3" in problem for problem in problems)


def test_assess_unknown_patient_in_header_only_file_exits_2(write: Writer) -> None:
    """``--patient`` naming no patient of a header-only file exits 2."""
    assert succeeded(invoke("assess", write(header_only()), "--json")) == {"patients": []}
    refused(invoke("assess", write(header_only()), "--json", "--patient", "P1"))


def hand_computed_diary() -> list[Row]:
    """P001 as of 2026-03-01: period 1 complete (26 rows), period 2 incomplete (19 rows), period 3 missing,
    and three migraine days after as_of that must be left out."""
    rows = (
        days("P001", date(2026, 2, 2), 11, **MIGRAINE)  # 02-02 .. 02-12
        + days("P001", date(2026, 2, 13), 7, **HEADACHE_4H)  # 02-13 .. 02-19
        + days("P001", date(2026, 2, 20), 2, **HEADACHE)  # 02-20 .. 02-21
        + days("P001", date(2026, 2, 22), 5)  # 02-22 .. 02-26; no rows 02-27, 02-28
        + days("P001", date(2026, 3, 1), 1)  # as_of
    )
    medicate(rows, "triptan", 9)  # 02-02 .. 02-10
    medicate(rows, "simple_analgesic", 4, offset=8)  # 02-10 .. 02-13: 12 days with any class
    period_2 = days("P001", date(2026, 1, 5), 19, **HEADACHE)  # 01-05 .. 01-23
    after = medicate(days("P001", date(2026, 3, 2), 3, **MIGRAINE), "opioid", 3)
    return period_2 + rows + after


def test_assess_periods_hand_computed(write: Writer) -> None:
    """PERIOD values match a hand count: periods laid back from as_of inclusive, index 1 the most recent,
    days after as_of left out, 20 recorded days needed for a complete period."""
    zero = dict.fromkeys(ACUTE_KEYS, 0)
    patient = assess_one(write(hand_computed_diary()), "--as-of", "2026-03-01")
    expected = [
        {
            "index": 1,
            "start": "2026-02-02",
            "end": "2026-03-01",
            "days_recorded": 26,
            "complete": True,
            "headache_days": 20,
            "headache_days_4h": 18,
            "migraine_days": 11,
            "acute_medication_days": {**zero, "triptan": 9, "simple_analgesic": 4, "any": 12},
        },
        {
            "index": 2,
            "start": "2026-01-05",
            "end": "2026-02-01",
            "days_recorded": 19,
            "complete": False,
            "headache_days": 19,
            "headache_days_4h": 0,
            "migraine_days": 0,
            "acute_medication_days": zero,
        },
        {
            "index": 3,
            "start": "2025-12-08",
            "end": "2026-01-04",
            "days_recorded": 0,
            "complete": False,
            "headache_days": 0,
            "headache_days_4h": 0,
            "migraine_days": 0,
            "acute_medication_days": zero,
        },
    ]
    got = [
        {
            key: (period[key] if key != "acute_medication_days" else {k: period[key][k] for k in ACUTE_KEYS})
            for key in PERIOD_KEYS
        }
        for period in patient["periods"]
    ]
    assert got == expected
    assert patient["migraine_attacks"] == 11
    assert patient["as_of"] == "2026-03-01"


def test_assess_twenty_recorded_days_make_a_period_complete(write: Writer) -> None:
    """A period with 20 of 28 days recorded is complete; with 19 it is not."""
    (p19, p20) = assess(
        write(periods_back("A19", AS_OF, {"recorded": 19}) + periods_back("A20", AS_OF, {"recorded": 20})),
        "--as-of",
        AS_OF,
        "--periods",
        "1",
    )
    assert (p19["periods"][0]["complete"], p20["periods"][0]["complete"]) == (False, True)
    assert (p19["periods"][0]["days_recorded"], p20["periods"][0]["days_recorded"]) == (19, 20)


def test_assess_as_of_defaults_to_each_patients_last_diary_date(write: Writer) -> None:
    """Without ``--as-of`` each patient is judged on their own last diary date; period 1 ends on it."""
    rows = days("P1", date(2026, 1, 1), 60) + days("P2", date(2026, 1, 1), 41)
    first, second = assess(write(rows))
    assert (first["as_of"], second["as_of"]) == ("2026-03-01", "2026-02-10")
    assert (first["periods"][0]["start"], first["periods"][0]["end"]) == ("2026-02-02", "2026-03-01")
    assert (second["periods"][0]["start"], second["periods"][0]["end"]) == ("2026-01-14", "2026-02-10")


def test_assess_as_of_leaves_out_later_rows(write: Writer) -> None:
    """Rows after ``--as-of`` count in no period and in no attack; the same rows count when as_of is later."""
    rows = days("P1", date(2026, 2, 2), 28, **MIGRAINE) + days("P1", date(2026, 3, 2), 5, **MIGRAINE)
    path = write(rows)
    (early,) = assess(path, "--as-of", "2026-03-01", "--periods", "1")
    (late,) = assess(path, "--periods", "1")
    assert (early["periods"][0]["days_recorded"], early["migraine_attacks"]) == (28, 28)
    assert (late["as_of"], late["migraine_attacks"]) == ("2026-03-06", 33)


@pytest.mark.parametrize("count", [1, 2, 5])
def test_assess_periods_option_sets_the_number_of_periods(write: Writer, count: int) -> None:
    """``--periods N`` lays N periods back from as_of, each 28 days, index 1 the most recent."""
    patient = assess_one(write(days("P1", date(2025, 6, 1), 274)), "--periods", count)
    periods = patient["periods"]
    assert [p["index"] for p in periods] == list(range(1, count + 1))
    for k, period in enumerate(periods):
        assert period["end"] == (AS_OF - timedelta(days=28 * k)).isoformat()
        assert period["start"] == (AS_OF - timedelta(days=27 + 28 * k)).isoformat()


def test_assess_periods_default_to_three(write: Writer) -> None:
    """``--periods`` defaults to 3."""
    assert len(assess_one(write(days("P1", date(2026, 1, 5), 5)))["periods"]) == 3


@pytest.mark.parametrize("value", ["0", "-1"])
def test_assess_periods_below_one_exits_2(write: Writer, value: str) -> None:
    """``--periods`` below 1 exits 2 (1 is accepted)."""
    path = write(days("P1", date(2026, 1, 5), 5))
    assert len(assess_one(path, "--periods", "1")["periods"]) == 1
    problems = refused(invoke("assess", path, "--json", "--periods", value))
    assert any("--periods" in problem for problem in problems)


def test_assess_every_argument_problem_is_listed(write: Writer) -> None:
    """With several bad arguments at once, every problem is on stderr (not only the first)."""
    path = write(days("P1", date(2026, 1, 5), 5))
    problems = refused(
        invoke("assess", path, "--json", "--periods", "0", "--as-of", "2026-13-01", "--birth-date", "1990-02-30")
    )
    assert any("--periods" in problem for problem in problems), problems
    assert any("--as-of" in problem for problem in problems), problems
    assert any("--birth-date" in problem for problem in problems), problems


@pytest.mark.parametrize("option", ["--as-of", "--birth-date"])
@pytest.mark.parametrize("value", ["2026-02-30", "2026-3-1", "01/03/2026", "yesterday"])
def test_assess_date_options_must_be_real_iso_dates(write: Writer, option: str, value: str) -> None:
    """``--as-of`` and ``--birth-date`` must be real YYYY-MM-DD dates, else exit 2."""
    path = write(days("P1", date(2026, 1, 5), 5))
    assert assess_one(path, option, "2000-03-01")
    refused(invoke("assess", path, "--json", option, value))


def test_assess_birth_date_after_as_of_exits_2(write: Writer) -> None:
    """A birth date after the assessment date is invalid input: exit 2, nothing on stdout, not a crash."""
    path = write(days("P1", date(2026, 1, 5), 5))
    assert assess_one(path, "--birth-date", "2026-03-01")
    refused(invoke("assess", path, "--json", "--as-of", "2026-03-01", "--birth-date", "2026-03-02"))


# === assess: migraine attacks =====================================================================================


def test_migraine_attacks_count_each_day_meeting_1_1_b_to_d_or_aura(write: Writer) -> None:
    """Attacks count each day with >= 4 h and 1.1 C+D, or with aura; consecutive days are not merged; short
    migraine days, believed-and-relieved days and aura without headache are no attacks."""
    rows = (
        days("P1", date(2026, 2, 10), 3, **MIGRAINE)  # 3 attacks on consecutive days
        + days("P1", date(2026, 2, 13), 2, **SHORT_MIGRAINE)  # migraine days, 3 h: no attack
        + days("P1", date(2026, 2, 15), 1, **HEADACHE, aura="yes")  # aura on a 2 h headache day: attack
        + days("P1", date(2026, 2, 16), 1, **FREE, aura="yes")  # aura without headache: no attack
        + days(
            "P1",
            date(2026, 2, 17),
            1,
            **HEADACHE_4H,
            believed_migraine="yes",
            acute_relief="yes",
            acute_medication="triptan",
        )  # migraine day by route 3: no attack
        + days("P1", date(2026, 2, 18), 1, **{**MIGRAINE, "headache_hours": "4"})  # exactly 4 h: attack
    )
    patient = assess_one(write(rows), "--as-of", "2026-03-01", "--periods", "1")
    assert patient["migraine_attacks"] == 5
    assert patient["periods"][0]["migraine_days"] == 8
    assert patient["periods"][0]["headache_days"] == 8
    assert patient["periods"][0]["headache_days_4h"] == 5


def test_migraine_attacks_count_the_whole_diary_up_to_as_of(write: Writer) -> None:
    """migraine_attacks counts attack days before the N periods too, but none after as_of."""
    rows = days("P1", date(2025, 1, 1), 4, **MIGRAINE) + days("P1", date(2026, 3, 2), 4, **MIGRAINE)
    rows += days("P1", date(2026, 3, 1), 1, **MIGRAINE)
    patient = assess_one(write(rows), "--as-of", "2026-03-01")
    assert patient["migraine_attacks"] == 5


def test_day_definitions_accept_every_yes_no_spelling_and_intensity(write: Writer) -> None:
    """yes/no accepts yes/y/true/1 in any case and intensity words in any case or 1-3, so these are migraine days;
    blank counts as no."""
    spellings = [("YES", "Y", "True", "3"), ("y", "TRUE", "1", "Severe"), ("1", "yes", "Y", "2")]
    rows = [
        {
            "patient_id": "P1",
            "date": f"2026-02-1{i + 1}",
            "headache_hours": "6",
            "unilateral": a,
            "pulsating": b,
            "nausea": c,
            "intensity": intensity,
        }
        for i, (a, b, c, intensity) in enumerate(spellings)
    ]
    rows.append(
        {"patient_id": "P1", "date": "2026-02-14", "headache_hours": "6", "unilateral": "yes", "intensity": "MILD"}
    )
    rows.append(
        {
            "patient_id": "P1",
            "date": "2026-02-15",
            "headache_hours": "6",
            "intensity": "moderate",
            "unilateral": "no",
            "pulsating": "",
            "photophobia": "1",
            "phonophobia": "y",
            "worse_with_activity": "true",
        }
    )
    patient = assess_one(write(rows), "--periods", "1")
    assert patient["periods"][0]["headache_days"] == 5
    assert patient["periods"][0]["migraine_days"] == 4
    assert patient["migraine_attacks"] == 4


@pytest.mark.parametrize(
    ("fields", "migraine", "attack"),
    [
        ({"unilateral": "yes", "pulsating": "yes", "nausea": "yes"}, True, True),
        ({"unilateral": "yes", "nausea": "yes"}, False, False),
        ({"unilateral": "yes", "intensity": "moderate", "vomiting": "yes"}, True, True),
        ({"unilateral": "yes", "intensity": "mild", "vomiting": "yes"}, False, False),
        ({"pulsating": "yes", "worse_with_activity": "yes", "photophobia": "yes", "phonophobia": "yes"}, True, True),
        ({"pulsating": "yes", "worse_with_activity": "yes", "photophobia": "yes"}, False, False),
        ({"pulsating": "yes", "worse_with_activity": "yes", "phonophobia": "yes"}, False, False),
        ({"unilateral": "yes", "pulsating": "yes", "worse_with_activity": "yes"}, False, False),
        ({"unilateral": "yes", "pulsating": "yes", "nausea": "yes", "headache_hours": "3.5"}, True, False),
        ({"aura": "yes", "headache_hours": "1"}, True, True),
        ({"believed_migraine": "yes", "acute_relief": "yes", "acute_medication": "triptan"}, True, False),
        ({"believed_migraine": "yes", "acute_relief": "yes", "acute_medication": "ergot"}, True, False),
        ({"believed_migraine": "yes", "acute_relief": "yes", "acute_medication": "simple_analgesic"}, False, False),
        ({"believed_migraine": "yes", "acute_relief": "yes", "acute_medication": "gepant;ditan"}, False, False),
        ({"believed_migraine": "yes", "acute_medication": "triptan"}, False, False),
        ({"acute_relief": "yes", "acute_medication": "triptan"}, False, False),
    ],
)
def test_migraine_day_and_attack_rules(write: Writer, fields: dict[str, str], migraine: bool, attack: bool) -> None:
    """A 6 h mild headache day is a migraine day by 1.1 C+D (two of four characteristics and nausea/vomiting or
    photo- and phonophobia together), by aura, or believed and relieved by a triptan or ergot; an attack needs
    >= 4 h with 1.1 C+D, or aura."""
    row = {"patient_id": "P1", "date": "2026-03-01", "headache_hours": "6", "intensity": "mild", **fields}
    patient = assess_one(write([row]), "--periods", "1")
    assert patient["periods"][0]["headache_days"] == 1
    assert patient["periods"][0]["migraine_days"] == int(migraine)
    assert patient["migraine_attacks"] == int(attack)


def test_acute_medication_names_are_trimmed_case_free_and_counted_once_per_day(write: Writer) -> None:
    """Class names are trimmed and in any case; a repeat on one day counts once; ``any`` counts days."""
    rows = days("P1", date(2026, 2, 27), 1, acute_medication=" Triptan ; TRIPTAN;ergot")
    rows += days("P1", date(2026, 2, 28), 1, acute_medication="GEPANT")
    rows += days("P1", date(2026, 3, 1), 1, acute_medication="ditan;Other")
    acute = assess_one(write(rows), "--periods", "1")["periods"][0]["acute_medication_days"]
    assert {k: acute[k] for k in ACUTE_KEYS} == {
        "triptan": 1,
        "ergot": 1,
        "simple_analgesic": 0,
        "combination_analgesic": 0,
        "opioid": 0,
        "gepant": 1,
        "ditan": 1,
        "other": 1,
        "any": 3,
    }


# === assess: chronic migraine (ICHD-3 1.3) ========================================================================


def chronic(write: Writer, *specs: dict[str, Any], extra: list[Row] | None = None) -> dict[str, Any]:
    rows = periods_back("P1", AS_OF, *specs) + (extra or [])
    return assess_one(write(rows))["chronic_migraine"]


def test_chronic_migraine_yes_at_the_boundaries(write: Writer) -> None:
    """15 headache days and 8 migraine days in each of 3 complete periods with >= 5 attacks is ``yes``; the reasons
    name 1.3 and leave criterion D to the clinician."""
    verdict = chronic(write, CM_PERIOD, CM_PERIOD, CM_PERIOD)
    assert verdict["verdict"] == "yes"
    text = " ".join(verdict["reasons"])
    assert "ICHD-3 1.3" in text
    assert "clinician" in text
    assert any("D" in reason and "clinician" in reason for reason in verdict["reasons"])


def test_chronic_migraine_no_on_14_headache_days(write: Writer) -> None:
    """A complete period with 14 headache days (< 15) makes it ``no``, the reason naming 1.3 A, the period and 14."""
    low = {"migraine": 8, "headache_4h": 6, "recorded": 28}
    verdict = chronic(write, CM_PERIOD, low, CM_PERIOD)
    assert verdict["verdict"] == "no"
    (reason,) = [r for r in verdict["reasons"] if "1.3 A" in r]
    for part in ("period 2", "2026-01-05..2026-02-01", "14", "15"):
        assert part in reason


def test_chronic_migraine_no_on_7_migraine_days(write: Writer) -> None:
    """A complete period with 7 migraine days (< 8) makes it ``no``, the reason naming 1.3 C, the period and 7."""
    low = {"migraine": 7, "headache_4h": 8}
    verdict = chronic(write, CM_PERIOD, CM_PERIOD, low)
    assert verdict["verdict"] == "no"
    (reason,) = [r for r in verdict["reasons"] if "1.3 C" in r]
    for part in ("period 3", "2025-12-08..2026-01-04", "7", "8"):
        assert part in reason


def test_chronic_migraine_reason_reads_as_the_contract_example(write: Writer) -> None:
    """The contract's example reason is produced word for word for 6 migraine days in period 2."""
    verdict = chronic(write, CM_PERIOD, {"migraine": 6, "headache_4h": 9}, CM_PERIOD)
    assert "ICHD-3 1.3 C: period 2 (2026-01-05..2026-02-01) has 6 migraine days (< 8)" in verdict["reasons"]


def test_chronic_migraine_complete_failing_period_beats_incomplete_one(write: Writer) -> None:
    """A complete period failing makes it ``no`` even when another period is incomplete or missing."""
    assert chronic(write, CM_PERIOD, CM_PERIOD, {"recorded": 19, **CM_PERIOD})["verdict"] == "insufficient_data"
    failing = {"migraine": 8, "headache_4h": 2}
    assert chronic(write, failing, CM_PERIOD, {"recorded": 19, **CM_PERIOD})["verdict"] == "no"
    assert chronic(write, failing, {"recorded": 0})["verdict"] == "no"


def test_chronic_migraine_incomplete_period_does_not_fail(write: Writer) -> None:
    """An incomplete period with few headache days gives ``insufficient_data``, not ``no``."""
    verdict = chronic(write, CM_PERIOD, {"recorded": 19, "headache": 2}, CM_PERIOD)
    assert verdict["verdict"] == "insufficient_data"


def test_chronic_migraine_missing_period_is_insufficient_data(write: Writer) -> None:
    """A period ending before the first diary row is missing: ``insufficient_data`` with 2 good periods."""
    verdict = chronic(write, CM_PERIOD, CM_PERIOD)
    assert verdict["verdict"] == "insufficient_data"
    assert chronic(write, CM_PERIOD, CM_PERIOD, CM_PERIOD)["verdict"] == "yes"


def test_chronic_migraine_period_starting_before_first_row_is_judged_by_row_count(write: Writer) -> None:
    """A period that only starts before the first row is judged by its rows: 20 rows make it complete."""
    late_start = {"recorded": 20, "migraine": 8, "headache_4h": 7}
    rows = periods_back("P1", AS_OF, CM_PERIOD, CM_PERIOD)
    rows += period_rows("P1", date(2025, 12, 16), **late_start)  # 2025-12-16..2026-01-04 inside period 3
    patient = assess_one(write(rows))
    assert patient["periods"][2]["complete"] is True
    assert patient["chronic_migraine"]["verdict"] == "yes"


def test_chronic_migraine_needs_five_attacks(write: Writer) -> None:
    """Periods meeting A and C but only 4 attacks (criterion B) give ``no``; 5 attacks give ``yes``."""
    short = {"short_migraine": 8, "headache_4h": 7}
    attacks = period_rows("P1", date(2025, 1, 1), migraine=4)
    four = chronic(write, short, short, short, extra=attacks)
    assert four["verdict"] == "no"
    assert any("1.3 B" in reason and "4" in reason for reason in four["reasons"])
    five = chronic(write, short, short, short, extra=period_rows("P1", date(2025, 1, 1), migraine=5))
    assert five["verdict"] == "yes"


def test_chronic_migraine_insufficient_data_beats_too_few_attacks(write: Writer) -> None:
    """With no complete period failing and one incomplete, too few attacks still give ``insufficient_data``."""
    short = {"short_migraine": 8, "headache_4h": 7}
    assert chronic(write, short, short, {**short, "recorded": 19})["verdict"] == "insufficient_data"
    assert chronic(write, short, short, short)["verdict"] == "no"


def test_chronic_migraine_uses_the_periods_option(write: Writer) -> None:
    """With ``--periods 1`` one complete good period suffices; with the default 3 the missing ones do not."""
    path = write(periods_back("P1", AS_OF, CM_PERIOD))
    assert assess_one(path, "--periods", "1")["chronic_migraine"]["verdict"] == "yes"
    assert assess_one(path)["chronic_migraine"]["verdict"] == "insufficient_data"


def test_headache_free_aura_is_no_migraine_day(write: Writer) -> None:
    """Aura on a 0-hour day is aura without headache: no headache day, no migraine day (ICHD-3 1.2.1.2)."""
    rows = days("P1", date(2026, 2, 2), 28, **FREE, aura="yes")
    period = assess_one(write(rows), "--periods", "1")["periods"][0]
    assert (period["headache_days"], period["migraine_days"], period["days_recorded"]) == (0, 0, 28)


# === assess: medication overuse (ICHD-3 8.2) ======================================================================


def overuse(write: Writer, *medications: dict[str, Any], recorded: int = 28) -> dict[str, Any]:
    """Medication-overuse verdict for three periods with these medications (period 1 first)."""
    specs = [{**CM_PERIOD, "recorded": recorded if i == 0 else 28, "medication": m} for i, m in enumerate(medications)]
    return assess_one(write(periods_back("P1", AS_OF, *specs)))["medication_overuse"]


@pytest.mark.parametrize(
    ("acute_class", "threshold"),
    [("simple_analgesic", 15), ("triptan", 10), ("ergot", 10), ("opioid", 10), ("combination_analgesic", 10)],
)
def test_overuse_single_class_at_its_threshold(write: Writer, acute_class: str, threshold: int) -> None:
    """A class at its threshold in every complete period is ``suspected`` with that class; one day less is not."""
    at = {acute_class: threshold}
    verdict = overuse(write, at, at, at)
    assert (verdict["verdict"], verdict["classes"]) == ("suspected", [acute_class])
    assert any(acute_class in reason and str(threshold) in reason for reason in verdict["reasons"])
    below = {acute_class: threshold - 1}
    verdict = overuse(write, at, below, at)
    assert (verdict["verdict"], verdict["classes"]) == ("not_suspected", [])


def test_overuse_simple_analgesic_needs_15_days(write: Writer) -> None:
    """Simple analgesics on 14 days (alone) do not meet 8.2.3 even though 14 >= 10."""
    at = {"simple_analgesic": 14}
    assert overuse(write, at, at, at)["verdict"] == "not_suspected"


def test_overuse_multiple_classes_on_ten_distinct_days(write: Writer) -> None:
    """Two counted classes, none at threshold, on >= 10 distinct days in all meet 8.2.6 (class ``multiple``);
    on 9 distinct days they do not."""
    ten = {"triptan": 5, "simple_analgesic": (5, 5)}
    verdict = overuse(write, ten, ten, ten)
    assert (verdict["verdict"], verdict["classes"]) == ("suspected", ["multiple"])
    assert any("8.2.6" in reason for reason in verdict["reasons"])
    nine = {"triptan": 5, "simple_analgesic": (5, 4)}  # one shared day: 9 distinct days
    assert overuse(write, ten, nine, ten)["verdict"] == "not_suspected"


def test_overuse_multiple_needs_two_classes_each_on_a_day(write: Writer) -> None:
    """Triptan 9 days plus opioid 1 other day meets 8.2.6; triptan 9 days plus a gepant day does not."""
    mixed = {"triptan": 9, "opioid": (1, 9)}
    assert overuse(write, mixed, mixed, mixed)["classes"] == ["multiple"]
    gepant = {"triptan": 9, "gepant": (1, 9)}
    assert overuse(write, gepant, gepant, gepant)["verdict"] == "not_suspected"


def test_overuse_class_at_threshold_is_not_multiple(write: Writer) -> None:
    """A class at its own threshold is named itself, not ``multiple``, even with another class taken."""
    meds = {"triptan": 10, "simple_analgesic": (5, 10)}
    verdict = overuse(write, meds, meds, meds)
    assert (verdict["verdict"], verdict["classes"]) == ("suspected", ["triptan"])


@pytest.mark.parametrize("acute_class", ["gepant", "ditan", "other"])
def test_overuse_ignores_gepants_ditans_and_other(write: Writer, acute_class: str) -> None:
    """Gepants, ditans and ``other`` on 20 days are not counted by 8.2 (a triptan on 10 days is)."""
    ignored = {acute_class: 20}
    assert overuse(write, ignored, ignored, ignored)["verdict"] == "not_suspected"
    counted = {"triptan": 10}
    assert overuse(write, counted, counted, counted)["verdict"] == "suspected"


def test_overuse_classes_are_the_union_over_periods(write: Writer) -> None:
    """``classes`` is the union of the classes by which periods met it, ``multiple`` included."""
    verdict = overuse(write, {"triptan": 10}, {"simple_analgesic": 15}, {"ergot": 5, "opioid": (5, 5)})
    assert verdict["verdict"] == "suspected"
    assert sorted(verdict["classes"]) == ["multiple", "simple_analgesic", "triptan"]


def test_overuse_incomplete_period_gives_insufficient_data_with_no_classes(write: Writer) -> None:
    """All complete periods meeting it but one incomplete gives ``insufficient_data`` and ``classes`` []."""
    meds = {"triptan": 10}
    verdict = overuse(write, meds, meds, meds, recorded=19)
    assert (verdict["verdict"], verdict["classes"]) == ("insufficient_data", [])
    assert overuse(write, meds, meds, meds)["verdict"] == "suspected"


def test_overuse_complete_period_not_meeting_it_beats_incomplete_one(write: Writer) -> None:
    """A complete period not meeting 8.2 gives ``not_suspected`` even with an incomplete or missing period."""
    path = write(periods_back("P1", AS_OF, {"medication": {"triptan": 3}}, {"recorded": 10}))
    verdict = assess_one(path)["medication_overuse"]
    assert (verdict["verdict"], verdict["classes"]) == ("not_suspected", [])
    path = write(periods_back("P1", AS_OF, {"medication": {"triptan": 10}}, {"recorded": 10}))
    assert assess_one(path)["medication_overuse"]["verdict"] == "insufficient_data"


def test_overuse_missing_period_gives_insufficient_data(write: Writer) -> None:
    """Periods that end before the first row leave overuse ``insufficient_data``."""
    path = write(periods_back("P1", AS_OF, {"medication": {"triptan": 10}}))
    verdict = assess_one(path)["medication_overuse"]
    assert (verdict["verdict"], verdict["classes"]) == ("insufficient_data", [])
    verdict = assess_one(path, "--periods", "1")["medication_overuse"]
    assert (verdict["verdict"], verdict["classes"]) == ("suspected", ["triptan"])


# === assess: label criteria and age ===============================================================================


def label(path: str, *args: object) -> dict[str, Any]:
    return assess_one(path, *args)["label_criteria"]


def test_label_met_for_adult_with_chronic_migraine(write: Writer) -> None:
    """Chronic migraine ``yes``, >= 15 four-hour days in each period and an adult gives ``met``."""
    path = write(periods_back("P1", AS_OF, CM_PERIOD, CM_PERIOD, CM_PERIOD))
    assert label(path, "--birth-date", "1980-05-17")["verdict"] == "met"


def test_label_without_birth_date_is_insufficient_data(write: Writer) -> None:
    """Without a birth date an otherwise eligible patient is ``insufficient_data``."""
    path = write(periods_back("P1", AS_OF, CM_PERIOD, CM_PERIOD, CM_PERIOD))
    assert label(path)["verdict"] == "insufficient_data"
    assert label(path, "--birth-date", "1980-05-17")["verdict"] == "met"


def test_label_not_met_on_14_four_hour_days(write: Writer) -> None:
    """A complete period with 14 four-hour days (< 15) gives ``not_met`` though chronic migraine is ``yes``."""
    low = {"migraine": 8, "headache_4h": 6, "headache": 1}
    path = write(periods_back("P1", AS_OF, CM_PERIOD, low, CM_PERIOD))
    patient = assess_one(path, "--birth-date", "1980-05-17")
    assert patient["chronic_migraine"]["verdict"] == "yes"
    assert patient["label_criteria"]["verdict"] == "not_met"
    assert any("14" in reason and "15" in reason for reason in patient["label_criteria"]["reasons"])


def test_label_not_met_when_chronic_migraine_is_no(write: Writer) -> None:
    """Chronic migraine ``no`` gives ``not_met`` even without a birth date."""
    path = write(periods_back("P1", AS_OF, CM_PERIOD, {"migraine": 7, "headache_4h": 8}, CM_PERIOD))
    assert label(path)["verdict"] == "not_met"


def test_label_not_met_for_a_minor_even_with_insufficient_data(write: Writer) -> None:
    """A known age under 18 gives ``not_met`` even when chronic migraine is ``insufficient_data``."""
    path = write(periods_back("P1", AS_OF, CM_PERIOD, CM_PERIOD))
    minor = label(path, "--birth-date", "2008-03-02")
    assert minor["verdict"] == "not_met"
    assert any("17" in reason and "18" in reason for reason in minor["reasons"])
    assert label(path, "--birth-date", "2008-03-01")["verdict"] == "insufficient_data"


def test_label_four_hour_failure_in_complete_period_beats_incomplete(write: Writer) -> None:
    """A complete period with < 15 four-hour days gives ``not_met`` even if another period is missing."""
    low = {"migraine": 8, "headache_4h": 6, "headache": 1}
    path = write(periods_back("P1", AS_OF, low, CM_PERIOD))
    assert label(path, "--birth-date", "1980-05-17")["verdict"] == "not_met"


@pytest.mark.parametrize(
    ("birth", "verdict"),
    [("2008-03-01", "met"), ("2008-03-02", "not_met"), ("2008-02-29", "met"), ("1990-03-01", "met")],
)
def test_label_age_in_completed_years_birthday_counts(write: Writer, birth: str, verdict: str) -> None:
    """Age is in completed years on as_of (2026-03-01); the 18th birthday itself counts."""
    path = write(periods_back("P1", AS_OF, CM_PERIOD, CM_PERIOD, CM_PERIOD))
    assert label(path, "--birth-date", birth)["verdict"] == verdict


@pytest.mark.parametrize(("as_of", "verdict"), [("2026-02-28", "not_met"), ("2026-03-01", "met")])
def test_label_29_february_birthday_reached_on_1_march(write: Writer, as_of: str, verdict: str) -> None:
    """A 29 February 2008 birthday makes 18 on 1 March 2026 (a common year), not on 28 February."""
    path = write(days("P1", date(2025, 11, 1), 130, **MIGRAINE))
    patient = assess_one(path, "--as-of", as_of, "--birth-date", "2008-02-29")
    assert patient["chronic_migraine"]["verdict"] == "yes"
    assert patient["label_criteria"]["verdict"] == verdict


def test_label_birth_date_applies_to_every_patient(write: Writer) -> None:
    """``--birth-date`` applies to every patient of the file."""
    rows = periods_back("A", AS_OF, CM_PERIOD, CM_PERIOD, CM_PERIOD)
    rows += periods_back("B", AS_OF, CM_PERIOD, CM_PERIOD, CM_PERIOD)
    patients = assess(write(rows), "--birth-date", "2010-01-01")
    assert [p["label_criteria"]["verdict"] for p in patients] == ["not_met", "not_met"]


# === The diary file: accepted forms ===============================================================================


def test_diary_byte_order_mark_blank_lines_and_trimmed_header_are_accepted(write: Writer) -> None:
    """A BOM, blank lines, spaces around header names and values, and any column order are accepted."""
    text = "\ufeff headache_hours , date,patient_id , intensity\n\n 6 , 2026-02-27 ,P1, severe \n\n\n0,2026-02-28,P1,\n"
    (patient,) = assess(write(text.encode()), "--periods", "1")
    assert patient["periods"][0]["days_recorded"] == 2
    assert patient["periods"][0]["headache_days"] == 1
    assert patient["as_of"] == "2026-02-28"


def test_diary_quoted_multiline_notes_are_one_row(write: Writer) -> None:
    """A quoted field spanning lines is part of one row."""
    text = 'patient_id,date,headache_hours,notes\nP1,2026-02-27,0,"line one\nline two, still notes"\nP1,2026-02-28,0,\n'
    (patient,) = assess(write(text), "--periods", "1")
    assert patient["periods"][0]["days_recorded"] == 2


def test_diary_date_equal_to_today_is_accepted(write: Writer) -> None:
    """A row dated today is accepted; a row dated tomorrow is refused on its line and column."""
    text = header_only() + "P1,2026-06-30,0\n"
    assert assess(write(text))[0]["as_of"] == "2026-06-30"
    assert refused(invoke("assess", write(text), "--json", today="2026-06-29"))[0].startswith("line 2, column date: ")


def test_diary_headache_free_day_may_carry_aura_medication_relief_and_belief(write: Writer) -> None:
    """On a 0-hour day aura, acute_medication, acute_relief and believed_migraine may be given and features may be
    blank or no."""
    row = {
        "patient_id": "P1",
        "date": "2026-02-28",
        "headache_hours": "0",
        "intensity": "",
        "aura": "yes",
        "acute_medication": "triptan",
        "acute_relief": "yes",
        "believed_migraine": "yes",
        "nausea": "no",
        "unilateral": "",
        "photophobia": "n",
    }
    (patient,) = assess(write([row]), "--periods", "1")
    assert patient["periods"][0]["acute_medication_days"]["triptan"] == 1
    assert patient["periods"][0]["headache_days"] == 0


def test_diary_only_required_columns_is_enough(write: Writer) -> None:
    """A file with only patient_id, date and headache_hours is valid (intensity column absent, 0-hour days)."""
    (patient,) = assess(write(header_only() + "P1,2026-02-28,0\n"), "--periods", "1")
    assert patient["periods"][0]["days_recorded"] == 1


def test_diary_hours_decimal_boundaries(write: Writer) -> None:
    """Hours 24, 24.0, 3.99 and 4.0 are accepted; 3.99 is no 4-hour day and 4.0 is one."""
    rows = [
        {"patient_id": "P1", "date": "2026-02-25", "headache_hours": "24", "intensity": "1"},
        {"patient_id": "P1", "date": "2026-02-26", "headache_hours": "24.0", "intensity": "1"},
        {"patient_id": "P1", "date": "2026-02-27", "headache_hours": "3.99", "intensity": "1"},
        {"patient_id": "P1", "date": "2026-02-28", "headache_hours": "4.0", "intensity": "1"},
    ]
    period = assess(write(rows), "--periods", "1")[0]["periods"][0]
    assert (period["headache_days"], period["headache_days_4h"]) == (4, 3)


def test_diary_standard_quoting_allows_commas_and_doubled_quotes(write: Writer) -> None:
    """Standard CSV quoting: a quoted value may hold commas and doubled quotes, and quoted values are trimmed."""
    text = (
        'patient_id,date,headache_hours,intensity,notes\n"P1"," 2026-02-28 ","6","severe","said ""bad"", then slept"\n'
    )
    (patient,) = assess(write(text), "--periods", "1")
    assert (patient["as_of"], patient["periods"][0]["headache_days_4h"]) == ("2026-02-28", 1)


@pytest.mark.parametrize("hours", ["\u0663", "\uff13", "4.", ".5", "+3", " 3 x", "3,5"])
def test_diary_hours_must_be_ascii_digits_with_optional_fraction(write: Writer, hours: str) -> None:
    """headache_hours is digits 0-9 with an optional ``.`` fraction: other numerals and forms are refused."""
    good = {"patient_id": "P1", "date": "2026-02-28", "headache_hours": "3.5", "intensity": "mild"}
    assert assess(write([good]))
    problems = refused(invoke("assess", write([{**good, "headache_hours": hours}]), "--json"))
    assert problems[0].startswith("line 2, column headache_hours: "), problems


def test_diary_patient_id_of_64_allowed_characters_is_accepted(write: Writer) -> None:
    """A patient id of 64 characters from A-Za-z0-9._- is accepted; 65 is refused."""
    ok = "aZ09._-" * 9 + "x"
    assert len(ok) == 64
    assert assess(write(header_only() + f"{ok},2026-02-28,0\n"))[0]["patient_id"] == ok
    problems = refused(invoke("assess", write(header_only() + f"{ok}y,2026-02-28,0\n"), "--json"))
    assert problems[0].startswith("line 2, column patient_id: ")


# === The diary file: refused ======================================================================================

FULL = "patient_id,date,headache_hours,intensity,nausea,aura,acute_medication,acute_relief,believed_migraine"


@pytest.mark.parametrize(
    ("row", "column"),
    [
        ("P1,2026-02-28,25,mild,,,,,", "headache_hours"),
        ("P1,2026-02-28,24.5,mild,,,,,", "headache_hours"),
        ("P1,2026-02-28,-1,mild,,,,,", "headache_hours"),
        ("P1,2026-02-28,abc,mild,,,,,", "headache_hours"),
        ("P1,2026-02-28,1e1,mild,,,,,", "headache_hours"),
        ("P1,2026-02-28,,,,,,,", "headache_hours"),
        ("P1,2026-02-30,0,,,,,,", "date"),
        ("P1,2026/02/28,0,,,,,,", "date"),
        ("P1,2026-2-28,0,,,,,,", "date"),
        ("P1,2026-07-01,0,,,,,,", "date"),
        ("P1,,0,,,,,,", "date"),
        (",2026-02-28,0,,,,,,", "patient_id"),
        ("P/1,2026-02-28,0,,,,,,", "patient_id"),
        ("P é,2026-02-28,0,,,,,,", "patient_id"),
        ("P1,2026-02-28,3,,,,,,", "intensity"),
        ("P1,2026-02-28,3,extreme,,,,,", "intensity"),
        ("P1,2026-02-28,3,4,,,,,", "intensity"),
        ("P1,2026-02-28,0,mild,,,,,", "intensity"),
        ("P1,2026-02-28,0,,yes,,,,", "nausea"),
        ("P1,2026-02-28,3,mild,maybe,,,,", "nausea"),
        ("P1,2026-02-28,3,mild,,2,,,", "aura"),
        ("P1,2026-02-28,3,mild,,,aspirin,,", "acute_medication"),
        ("P1,2026-02-28,3,mild,,,triptan;;ergot,,", "acute_medication"),
        ("P1,2026-02-28,3,mild,,,triptan;,,", "acute_medication"),
        ("P1,2026-02-28,3,mild,,,,nope,", "acute_relief"),
        ("P1,2026-02-28,3,mild,,,,,yess", "believed_migraine"),
    ],
)
def test_diary_invalid_value_is_reported_on_its_line_and_column(write: Writer, row: str, column: str) -> None:
    """Each invalid value is one problem ``line N, column C: ...`` on the row's physical line; nothing on stdout."""
    valid = f"{FULL}\nP1,2026-02-27,3,mild,yes,no,triptan,y,n\n"
    assert assess(write(valid))
    problems = refused(invoke("assess", write(f"{valid}{row}\n"), "--json"))
    assert problems[0].startswith(f"line 3, column {column}: "), problems
    assert len(problems) == 1, problems


def test_diary_every_problem_is_listed_in_file_order(write: Writer) -> None:
    """A file with several invalid rows is refused whole, listing every problem with its line."""
    text = header_only() + "P1,2026-02-26,0\nP1,2026-02-27,x\nP2,2026-02-27,0\nP1,2026-13-01,0\n"
    problems = refused(invoke("assess", write(text), "--json"))
    assert [p.split(": ", 1)[0] for p in problems] == ["line 3, column headache_hours", "line 5, column date"]


def test_diary_second_row_for_a_day_names_the_earlier_line(write: Writer) -> None:
    """A second row for the same patient and date is reported on the later line, naming the earlier line."""
    text = header_only() + "P1,2026-02-27,0\nP2,2026-02-27,0\n\nP1, 2026-02-27 ,0\n"
    (problem,) = refused(invoke("assess", write(text), "--json"))
    assert problem.startswith("line 5, column date: ")
    assert "line 2" in problem
    assert assess(write(header_only() + "P1,2026-02-27,0\nP2,2026-02-27,0\n"))


def test_diary_line_numbers_count_blank_lines_bom_and_quoted_newlines(write: Writer) -> None:
    """N is the physical line where the record starts: blank lines and quoted multi-line fields are counted."""
    text = (
        "\ufeffpatient_id,date,headache_hours,notes\n"  # 1
        "\n"  # 2
        'P1,2026-02-20,0,"one\ntwo\nthree"\n'  # 3-5
        "\n"  # 6
        "P1,2026-02-21,x,\n"  # 7
        'P1,2026-02-22,y,"a\nb"\n'  # 8-9
        "P1,2026-02-23,z,\n"  # 10
    )
    problems = refused(invoke("assess", write(text.encode()), "--json"))
    assert [p.split(": ", 1)[0] for p in problems] == [
        "line 7, column headache_hours",
        "line 8, column headache_hours",
        "line 10, column headache_hours",
    ]


def test_diary_problem_inside_a_multiline_record_is_on_its_first_line(write: Writer) -> None:
    """A problem in a record spanning lines is reported on the line where the record starts."""
    text = 'patient_id,notes,date,headache_hours\nP1,"first\nsecond",2026-02-21,x\n'
    (problem,) = refused(invoke("assess", write(text), "--json"))
    assert problem.startswith("line 2, column headache_hours: ")


@pytest.mark.parametrize(
    ("header", "column"),
    [
        ("patient_id,date,headache_hours,nausia", "nausea_typo"),
        ("patient_id,date,headache_hours,nausea,nausea", "nausea"),
        ("patient_id,date,headache_hours,date", "date"),
        ("patient_id, date ,headache_hours,date", "date"),
        ("patient_id,Date,headache_hours", "Date"),
    ],
)
def test_diary_unknown_or_repeated_column_is_an_error_on_line_1(write: Writer, header: str, column: str) -> None:
    """An unknown or repeated column is a problem on line 1 naming the column (so a typo is never ignored)."""
    expected = "nausia" if column == "nausea_typo" else column
    problems = refused(invoke("assess", write(f"{header}\nP1,2026-02-27,0,\n"), "--json"))
    assert any(p.startswith(f"line 1, column {expected}: ") for p in problems), problems


@pytest.mark.parametrize("missing", ["patient_id", "date", "headache_hours"])
def test_diary_missing_required_column_is_one_problem_on_line_1(write: Writer, missing: str) -> None:
    """A missing required column is exactly one problem, on line 1, naming the column."""
    columns = [c for c in ("patient_id", "date", "headache_hours", "intensity") if c != missing]
    text = ",".join(columns) + "\n" + ",".join("x" for _ in columns) + "\n"
    (problem,) = refused(invoke("assess", write(text), "--json"))
    assert problem.startswith(f"line 1, column {missing}: "), problem


@pytest.mark.parametrize("content", [b"", b"\xef\xbb\xbf", b"\n\n", b"  \n"])
def test_diary_empty_file_is_an_error(write: Writer, content: bytes) -> None:
    """An empty file (no header row) exits 2; a header-only file does not."""
    assert assess(write(header_only())) == []
    problems = refused(invoke("assess", write(content), "--json"))
    assert problems[0].startswith("line 1")


def test_diary_rejected_whole_even_when_one_patient_is_valid(write: Writer) -> None:
    """One invalid row rejects the whole file: no patient is output, not even a valid one."""
    text = header_only() + "P1,2026-02-27,0\nP2,2026-02-27,99\n"
    problems = refused(invoke("assess", write(text), "--json"))
    assert problems == [p for p in problems if p.startswith("line 3, column headache_hours: ")]


def test_diary_missing_file_exits_2(tmp_path: Path) -> None:
    """A diary path that does not exist exits 2 with the problem on stderr."""
    refused(invoke("assess", tmp_path / "nope.csv", "--json"))
    refused(invoke("outcomes", tmp_path / "nope.csv", "--injections", DAY0, "--json"))


def test_diary_errors_refuse_outcomes_too(write: Writer) -> None:
    """``outcomes`` validates the diary the same way: line and column on stderr, exit 2."""
    text = header_only() + "P1,2026-02-27,0\nP1,2026-02-27,0\n"
    (problem,) = refused(invoke("outcomes", write(text), "--injections", DAY0, "--json"))
    assert problem.startswith("line 3, column date: ")


# === outcomes =====================================================================================================


def test_outcomes_patient_has_every_contract_key(write: Writer) -> None:
    """Each patient has patient_id, first_injection, baseline PERIOD, periods with changes, week24 and nice_ta260."""
    patient = outcomes_one(write(treated_rows("P1", DAY0, 20, 15, 15, 15, 15, 15, 10)))
    assert {"patient_id", "first_injection", "baseline", "periods", "week24", "nice_ta260"} <= set(patient)
    assert set(patient["baseline"]) >= PERIOD_KEYS
    for period in patient["periods"]:
        assert set(period) >= PERIOD_KEYS | {"change_headache_days", "percent_change_headache_days"}
    assert {"available", "headache_days", "percent_change", "responder_50", "responder_30"} <= set(patient["week24"])
    assert {"verdict", "reasons"} <= set(patient["nice_ta260"])


def test_outcomes_periods_are_laid_from_day_0(write: Writer) -> None:
    """The baseline is days -28..-1 and period k days 28(k-1)..28k-1 from the first injection."""
    patient = outcomes_one(write(treated_rows("P1", DAY0, 10, 9, 8, 7, 6, 5, 4)))
    baseline = patient["baseline"]
    assert (baseline["start"], baseline["end"], baseline["headache_days"]) == ("2025-12-08", "2026-01-04", 10)
    spans = [(p["index"], p["start"], p["end"], p["headache_days"]) for p in patient["periods"]]
    assert spans == [
        (1, "2026-01-05", "2026-02-01", 9),
        (2, "2026-02-02", "2026-03-01", 8),
        (3, "2026-03-02", "2026-03-29", 7),
        (4, "2026-03-30", "2026-04-26", 6),
        (5, "2026-04-27", "2026-05-24", 5),
        (6, "2026-05-25", "2026-06-21", 4),
    ]


def test_outcomes_day_0_is_the_earliest_injection(write: Writer) -> None:
    """Day 0 is the earliest of several ``--injections``, in whatever order they are given."""
    path = write(treated_rows("P1", DAY0, 10, 9, 8, 7))
    patient = outcomes_one(path, "2026-03-30,2026-01-05,2026-04-01")
    assert patient["first_injection"] == "2026-01-05"
    assert patient["baseline"]["start"] == "2025-12-08"
    assert patient["periods"][0]["start"] == "2026-01-05"


def test_outcomes_repeated_injections_are_all_read(write: Writer) -> None:
    """``--injections`` given twice reads the dates of both, as one comma-separated list would (day 0 the earliest),
    instead of keeping the last and silently moving day 0; a bad date in either still exits 2."""
    path = write(treated_rows("P1", DAY0, 10, 9, 8, 7))
    (patient,) = outcomes(path, "--injections", "2026-03-30", "--injections", DAY0.isoformat())
    assert patient["first_injection"] == DAY0.isoformat()
    assert patient == outcomes_one(path, f"2026-03-30,{DAY0.isoformat()}")
    refused(invoke("outcomes", path, "--json", "--injections", DAY0, "--injections", "soon"))


def test_outcomes_lists_periods_up_to_the_last_holding_a_row(write: Writer) -> None:
    """``periods`` lists 1..K with K the last period holding a row, even incomplete; empty periods before it stay."""
    rows = treated_rows("P1", DAY0, 10, 9) + days("P1", date(2026, 3, 30), 1, **HEADACHE)  # first day of period 4
    patient = outcomes_one(write(rows))
    got = [(p["index"], p["days_recorded"], p["complete"]) for p in patient["periods"]]
    assert got == [(1, 28, True), (2, 0, False), (3, 0, False), (4, 1, False)]


def test_outcomes_without_rows_after_day_0_lists_no_periods(write: Writer) -> None:
    """With no row on or after day 0, ``periods`` is empty."""
    patient = outcomes_one(write(treated_rows("P1", DAY0, 10)))
    assert patient["periods"] == []
    assert patient["week24"]["available"] is False


@pytest.mark.parametrize(
    ("baseline", "current", "change", "percent"),
    [
        (3, 1, -2, -66.7),
        (8, 7, -1, -12.5),
        (16, 15, -1, -6.3),
        (16, 17, 1, 6.3),
        (6, 7, 1, 16.7),
        (3, 2, -1, -33.3),
        (12, 13, 1, 8.3),
        (20, 20, 0, 0.0),
        (7, 0, -7, -100.0),
        (0, 0, 0, None),
        (0, 5, 5, None),
    ],
)
def test_outcomes_change_and_percent_change(
    write: Writer, baseline: int, current: int, change: int, percent: float | None
) -> None:
    """change is period - baseline; percent_change 100 * change / baseline rounded half away from zero to one
    decimal, ``null`` when the baseline has 0 headache days."""
    (period,) = outcomes_one(write(treated_rows("P1", DAY0, baseline, current)))["periods"]
    assert period["change_headache_days"] == change
    assert period["percent_change_headache_days"] == percent
    if percent is not None:
        assert round(period["percent_change_headache_days"], 1) == period["percent_change_headache_days"]


def test_outcomes_percent_change_null_appears_in_json(write: Writer) -> None:
    """A 0-day baseline gives a JSON ``null`` percent change, not a missing key or 0."""
    result = invoke("outcomes", write(treated_rows("P1", DAY0, 0, 3)), "--injections", DAY0, "--json")
    assert '"percent_change_headache_days": null' in result.stdout.replace("\n", "").replace("  ", "")


def six_periods(baseline: int, week24: int | tuple[int, int], before: int = 15) -> list[Row]:
    return treated_rows("P1", DAY0, baseline, before, before, before, before, before, week24)


def test_week24_available_when_period_6_complete(write: Writer) -> None:
    """Week 24 is period 6; with 20 rows it is available and reports headache days and percent change."""
    week24 = outcomes_one(write(six_periods(20, (10, 20))))["week24"]
    assert week24 == {**week24, "available": True, "headache_days": 10, "percent_change": -50.0}


@pytest.mark.parametrize("period_6", [(10, 19), (1, 1)])
def test_week24_unavailable_when_period_6_incomplete(write: Writer, period_6: tuple[int, int]) -> None:
    """With period 6 incomplete, week24.available is false and its other fields are null."""
    week24 = outcomes_one(write(six_periods(20, period_6)))["week24"]
    assert week24 == {
        **week24,
        "available": False,
        "headache_days": None,
        "percent_change": None,
        "responder_50": None,
        "responder_30": None,
    }


def test_week24_unavailable_before_period_6(write: Writer) -> None:
    """With period 6 not reached, week24.available is false and its other fields are null."""
    week24 = outcomes_one(write(treated_rows("P1", DAY0, 20, 15, 15)))["week24"]
    assert [week24[k] for k in ("available", "headache_days", "percent_change", "responder_50", "responder_30")] == [
        False,
        None,
        None,
        None,
        None,
    ]


@pytest.mark.parametrize(
    ("baseline", "week24", "r50", "r30"),
    [
        (20, 10, True, True),
        (20, 11, False, True),
        (10, 7, False, True),
        (10, 8, False, False),
        (10, 5, True, True),
        (3, 2, False, True),
        (3, 1, True, True),
        (7, 3, True, True),
        (7, 4, False, True),
        (7, 5, False, False),
        (0, 0, True, True),
        (0, 1, False, False),
    ],
)
def test_week24_responders_on_exact_integers(write: Writer, baseline: int, week24: int, r50: bool, r30: bool) -> None:
    """responder_50 is 2 * (b - w) >= b and responder_30 is 10 * (b - w) >= 3 * b, on exact integers; the week-24
    percent change is rounded like the periods'."""
    got = outcomes_one(write(six_periods(baseline, week24, before=week24)))["week24"]
    assert (got["available"], got["responder_50"], got["responder_30"]) == (True, r50, r30)
    assert got["headache_days"] == week24
    assert got["percent_change"] == reference_percent(baseline, week24)


def reference_percent(baseline: int, current: int) -> float | None:
    """100 * (current - baseline) / baseline to one decimal, half away from zero, from exact fractions."""
    if baseline == 0:
        return None
    tenths = Fraction(1000 * (current - baseline), baseline)
    rounded = math.floor(abs(tenths) + Fraction(1, 2))
    return math.copysign(rounded, tenths) / 10 if rounded else 0.0


def nice(write: Writer, rows: list[Row]) -> dict[str, Any]:
    return outcomes_one(write(rows))["nice_ta260"]


def test_nice_continue_when_week24_reduction_is_30_percent(write: Writer) -> None:
    """Week 24 with exactly 30 % fewer headache days and no reversion gives ``continue``; 25 % gives ``stop``."""
    assert nice(write, six_periods(20, 14))["verdict"] == "continue"
    stop = nice(write, six_periods(20, 15))
    assert stop["verdict"] == "stop"
    assert any("30" in reason for reason in stop["reasons"])


def test_nice_stop_before_week24_after_three_consecutive_episodic_periods(write: Writer) -> None:
    """Three consecutive complete periods each < 15 headache days give ``stop`` before week 24; 15 in one does not."""
    stop = nice(write, treated_rows("P1", DAY0, 20, 14, 14, 14))
    assert stop["verdict"] == "stop"
    assert any("15" in reason for reason in stop["reasons"])
    assert nice(write, treated_rows("P1", DAY0, 20, 14, 15, 14))["verdict"] == "not_yet_assessable"


def test_nice_episodic_periods_must_be_consecutive(write: Writer) -> None:
    """The three most recent complete periods must be consecutive: an incomplete period between breaks the run."""
    rows = treated_rows("P1", DAY0, 20, 10, 10, (10, 19), 10)
    assert nice(write, rows)["verdict"] == "not_yet_assessable"
    rows = treated_rows("P1", DAY0, 20, 10, 10, (10, 19), 10, 10, 10)
    assert nice(write, rows)["verdict"] == "stop"


def test_nice_episodic_rule_reads_the_three_most_recent_complete_periods(write: Writer) -> None:
    """Only the three most recent complete periods count: a recent period with >= 15 days keeps it assessable."""
    rows = treated_rows("P1", DAY0, 20, 10, 10, 10, 15)
    assert nice(write, rows)["verdict"] == "not_yet_assessable"
    rows = treated_rows("P1", DAY0, 20, 15, 10, 10, 10)
    assert nice(write, rows)["verdict"] == "stop"


def test_nice_not_yet_assessable_before_week24(write: Writer) -> None:
    """Before week 24, with no stopping rule holding, the verdict is ``not_yet_assessable``."""
    verdict = nice(write, treated_rows("P1", DAY0, 20, 16, 15, 14))
    assert verdict["verdict"] == "not_yet_assessable"
    assert verdict["reasons"]


def test_nice_stop_on_week24_even_when_periods_were_good_before(write: Writer) -> None:
    """Week 24 available with < 30 % reduction gives ``stop`` though week 24's own count is < 15."""
    rows = treated_rows("P1", DAY0, 20, 20, 20, 20, 20, 20, 15)
    assert nice(write, rows)["verdict"] == "stop"
    rows = treated_rows("P1", DAY0, 20, 20, 20, 20, 20, 20, 14)
    assert nice(write, rows)["verdict"] == "continue"


def test_nice_incomplete_baseline_is_not_yet_assessable(write: Writer) -> None:
    """An incomplete baseline makes the verdict ``not_yet_assessable`` with a reason naming the baseline."""
    complete = nice(write, six_periods(19, 15))
    assert complete["verdict"] == "stop"
    verdict = nice(write, six_periods((19, 19), 15))
    assert verdict["verdict"] == "not_yet_assessable"
    assert any("baseline" in reason for reason in verdict["reasons"])


def test_outcomes_without_baseline_rows_is_not_yet_assessable(write: Writer) -> None:
    """No rows before day 0 leave the baseline incomplete: ``not_yet_assessable``."""
    rows = treated_rows("P1", DAY0, 0, 20, 20, 20, 20, 20, 15)[28:]
    patient = outcomes_one(write(rows))
    assert patient["baseline"]["days_recorded"] == 0
    assert patient["nice_ta260"]["verdict"] == "not_yet_assessable"


def test_outcomes_patients_sorted_and_patient_option(write: Writer) -> None:
    """outcomes sorts patients by code points, ``--patient`` keeps one, and an unknown one exits 2."""
    rows = treated_rows("a", DAY0, 10, 5) + treated_rows("P2", DAY0, 10, 5) + treated_rows("P10", DAY0, 10, 5)
    path = write(rows)
    assert [p["patient_id"] for p in outcomes(path, "--injections", DAY0)] == ["P10", "P2", "a"]
    assert [p["patient_id"] for p in outcomes(path, "--injections", DAY0, "--patient", "P2")] == ["P2"]
    refused(invoke("outcomes", path, "--injections", DAY0, "--json", "--patient", "P3"))


def test_outcomes_header_only_file_holds_no_patients(write: Writer) -> None:
    """A header-only file gives ``{"patients": []}`` for outcomes too."""
    assert succeeded(invoke("outcomes", write(header_only()), "--injections", DAY0, "--json")) == {"patients": []}


@pytest.mark.parametrize("injections", ["2026-02-30", "2026-1-5", "2026-01-05,", "2026-01-05,soon", ""])
def test_outcomes_bad_injection_dates_exit_2(write: Writer, injections: str) -> None:
    """``--injections`` must be YYYY-MM-DD dates separated by commas, else exit 2."""
    path = write(treated_rows("P1", DAY0, 10, 5))
    assert outcomes(path, "--injections", "2026-01-05,2026-03-30")
    refused(invoke("outcomes", path, "--json", "--injections", injections))


def test_outcomes_injections_are_required(write: Writer) -> None:
    """``outcomes`` without ``--injections`` exits 2."""
    refused(invoke("outcomes", write(treated_rows("P1", DAY0, 10, 5)), "--json"))


def test_outcomes_incomplete_baseline_keeps_its_reason_first_and_names_the_episodic_rule(write: Writer) -> None:
    """A baseline of 13 recorded days before three periods of 5 headache days: ``not_yet_assessable`` with the
    baseline's reason first, then the return to episodic migraine and that the verdict waits for the baseline."""
    verdict = nice(write, treated_rows("P1", DAY0, (10, 13), 5, 5, 5))
    assert verdict["verdict"] == "not_yet_assessable"
    assert verdict["reasons"][0].startswith("NICE TA260 1.2: baseline (2025-12-08..2026-01-04) has 13 of 28 days")
    assert verdict["reasons"][1:] == [
        (
            "NICE TA260 1.2: periods 1, 2, 3 (2026-01-05..2026-03-29) each have < 15 headache days (5, 5, 5): "
            f"changed to episodic migraine for 3 consecutive periods; {EPISODIC_WAITS_FOR_BASELINE}"
        )
    ]


def test_outcomes_says_period_6_has_no_day_when_the_diary_stopped_long_before_today(write: Writer) -> None:
    """A diary that stopped in period 2, read after week 24 has ended, says period 6 has no day recorded rather than
    'not reached yet', and still lists periods 1..K with the incomplete last one (the JSON is otherwise unchanged)."""
    path = write(treated_rows("P1", DAY0, 20, 16, (2, 4)))
    args = ("outcomes", path, "--injections", DAY0, "--json")
    after = succeeded(invoke(*args, today="2026-06-30"))["patients"][0]  # period 6 ended 2026-06-21
    assert after["nice_ta260"]["reasons"] == [
        "NICE TA260 1.2: response is judged at week 24 (period 6): no day of it recorded (< 20)"
    ]
    assert [(p["index"], p["complete"]) for p in after["periods"]] == [(1, True), (2, False)]
    before = succeeded(invoke(*args, today="2026-03-01"))["patients"][0]
    assert before["nice_ta260"]["reasons"] == [
        "NICE TA260 1.2: response is judged at week 24 (period 6): not reached yet"
    ]
    assert {**before, "nice_ta260": None} == {**after, "nice_ta260": None}
    assert before["nice_ta260"]["verdict"] == after["nice_ta260"]["verdict"] == "not_yet_assessable"


@pytest.mark.parametrize(
    ("baseline", "week24", "days", "change", "responders"),
    [
        (0, 1, "1 headache day", cli.WEEK24_NO_PERCENT, ("no", "no")),
        (0, 0, "0 headache days", cli.WEEK24_NO_PERCENT, ("yes", "yes")),
        (20, 10, "10 headache days", "-50.0 % against baseline", ("yes", "yes")),
        (20, 1, "1 headache day", "-95.0 % against baseline", ("yes", "yes")),
        (20, 15, "15 headache days", "-25.0 % against baseline", ("no", "no")),
    ],
)
def test_outcomes_text_week24_line_counts_days_and_has_no_percentage_against_a_baseline_of_0(
    write: Writer, baseline: int, week24: int, days: str, change: str, responders: tuple[str, str]
) -> None:
    """The text's week-24 line, on one line however long, says "1 headache day" (singular) and, against a baseline
    of 0 headache days, no percentage (it printed "None % against baseline")."""
    result = invoke("outcomes", write(six_periods(baseline, week24, before=week24)), "--injections", DAY0)
    assert result.exit_code == 0, result.stderr
    (line,) = [line for line in result.stdout.splitlines() if line.startswith("Week 24:")]
    assert line == cli.WEEK24_LINE.format(
        days=days, change=change, responder_50=responders[0], responder_30=responders[1]
    )
    assert "None" not in result.stdout


def _text_lines(path: str, *, today: str = TODAY) -> list[str]:
    """The text output of ``onaboard outcomes`` (first injection DAY0), line by line."""
    result = invoke("outcomes", path, "--injections", DAY0, today=today)
    assert result.exit_code == 0, result.stderr
    return result.stdout.splitlines()


def _week24_line(path: str, *, today: str = TODAY) -> str:
    (line,) = [line for line in _text_lines(path, today=today) if line.startswith("Week 24:")]
    return line


def test_outcomes_text_week24_line_against_an_incomplete_baseline_gives_no_percentage_or_responder(
    write: Writer,
) -> None:
    """With week 24 complete but a baseline of 13 recorded days, the text gives week 24's headache days and why there
    is no percentage or responder verdict (it printed "-10.0 %" and "responder: no" above the NICE reason saying the
    reduction cannot be measured); the JSON keeps the contract's fields."""
    path = write(treated_rows("P1", DAY0, (10, 13), 9, 9, 9, 9, 9, 9))
    line = _week24_line(path)
    assert line == cli.WEEK24_BASELINE_INCOMPLETE.format(days="9 headache days", recorded=13, period_days=28)
    assert "responder:" not in line
    assert "%" not in line
    week24 = outcomes_one(path)["week24"]
    assert week24 == {
        **week24,
        "available": True,
        "headache_days": 9,
        "percent_change": -10.0,
        "responder_50": False,
        "responder_30": False,
    }


@pytest.mark.parametrize(
    ("rows", "today", "expected"),
    [
        (  # the diary stopped at day 55 and week 24 ended on 2026-06-21
            treated_rows("P1", DAY0, 20, 16, 16),
            "2026-08-01",
            cli.WEEK24_ENDED_INCOMPLETE.format(period=6, recorded=0, period_days=28, needed=20),
        ),
        (
            treated_rows("P1", DAY0, 20, 16, 16, 16, 16, 16, (3, 12)),
            "2026-08-01",
            cli.WEEK24_ENDED_INCOMPLETE.format(period=6, recorded=12, period_days=28, needed=20),
        ),
        (  # today is day 12 of period 6
            treated_rows("P1", DAY0, 20, 16, 16, 16, 16, 16, (3, 12)),
            "2026-06-05",
            cli.WEEK24_UNDER_WAY.format(period=6, recorded=12, period_days=28),
        ),
        (
            treated_rows("P1", DAY0, 20, 16, 16, 16, 16, 16),
            "2026-06-05",
            cli.WEEK24_UNDER_WAY.format(period=6, recorded=0, period_days=28),
        ),
        (treated_rows("P1", DAY0, 20, 16, 16), "2026-03-05", cli.WEEK24_NOT_REACHED.format(period=6)),
    ],
    ids=["ended-without-a-day", "ended-with-12-days", "under-way", "under-way-no-row-yet", "to-come"],
)
def test_outcomes_text_week24_line_says_whether_period_6_ended_is_under_way_or_is_to_come(
    write: Writer, rows: list[Row], today: str, expected: str
) -> None:
    """When week 24 is not available, the text line says what the engine's week-24 reason says: period 6 ended
    without enough days, is in progress, or is still to come (it said "incomplete or not reached" beside "no day of
    it recorded")."""
    assert _week24_line(write(rows), today=today) == expected


def _period_rows(path: str, *, today: str = TODAY) -> dict[str, list[str]]:
    """The text's period table, each row's words by its period's name (the medication table follows it)."""
    lines = _text_lines(path, today=today)
    table = lines[: next(i for i, line in enumerate(lines) if line.startswith(cli.MEDICATION_TITLE))]
    return {words[0]: words for words in (line.split() for line in table) if words and words[0][0].isdigit()}


def test_outcomes_text_gives_a_change_only_for_complete_periods_against_a_complete_baseline(write: Writer) -> None:
    """As the patient page, the text table's change column is blank for a period not complete (6 of 28 days: it
    showed "-25 (-89.3 %)") and for every period when the baseline is incomplete; the JSON keeps every change."""
    path = write(treated_rows("P1", DAY0, 28, 20, (3, 6)))
    rows = _period_rows(path, today="2026-02-10")
    assert rows["1"] == ["1", "2026-01-05..2026-02-01", "28/28", "20", "0", "0", "-8", "(-28.6", "%)"]
    assert rows["2"] == ["2", "2026-02-02..2026-03-01", "6/28", "incomplete", "3", "0", "0"]
    assert [p["change_headache_days"] for p in outcomes_one(path)["periods"]] == [-8, -25]
    incomplete = write(treated_rows("P1", DAY0, (10, 13), 9))
    assert _period_rows(incomplete)["1"] == ["1", "2026-01-05..2026-02-01", "28/28", "9", "0", "0"]
    assert outcomes_one(incomplete)["periods"][0]["percent_change_headache_days"] == -10.0


# === plan =========================================================================================================

FIXED_LAYOUT = [
    ("corrugator", ["left", "right"]),
    ("procerus", ["midline"]),
    ("frontalis", ["left"] * 2 + ["right"] * 2),
    ("temporalis", ["left"] * 4 + ["right"] * 4),
    ("occipitalis", ["left"] * 3 + ["right"] * 3),
    ("cervical_paraspinal", ["left"] * 2 + ["right"] * 2),
    ("trapezius", ["left"] * 3 + ["right"] * 3),
]
EXTRA_SIDES = ["left", "right", "left", "right"]


def expected_sites(extra: dict[str, int] | None = None) -> list[dict[str, Any]]:
    extra = extra or {}
    sites = []
    for muscle, sides in FIXED_LAYOUT:
        sites += [{"muscle": muscle, "side": s, "units": 5, "volume_ml": 0.1, "follow_the_pain": False} for s in sides]
        sites += [
            {"muscle": muscle, "side": s, "units": 5, "volume_ml": 0.1, "follow_the_pain": True}
            for s in EXTRA_SIDES[: extra.get(muscle, 0)]
        ]
    return sites


def site_key(site: dict[str, Any]) -> tuple[Any, ...]:
    return (site["muscle"], site["side"], site["units"], site["volume_ml"], site["follow_the_pain"])


def test_plan_default_is_the_full_preempt_document() -> None:
    """The default plan: 31 fixed 5 U / 0.1 mL sites, 155 U, every muscle's dose, a 200 U vial with 4.0 mL,
    5 U per 0.1 mL, one vial, 45 U discarded, JW."""
    document = plan()
    assert [site_key(s) for s in document["sites"]] == [site_key(s) for s in expected_sites()]
    assert (document["total_units"], document["site_count"]) == (155, 31)
    assert {m: (d["sites"], d["units"]) for m, d in document["by_muscle"].items()} == {
        "corrugator": (2, 10),
        "procerus": (1, 5),
        "frontalis": (4, 20),
        "temporalis": (8, 40),
        "occipitalis": (6, 30),
        "cervical_paraspinal": (4, 20),
        "trapezius": (6, 30),
    }
    assert document["reconstitution"] == {
        **document["reconstitution"],
        "vial_units": 200,
        "saline_ml": 4.0,
        "units_per_0_1_ml": 5,
    }
    assert (document["vials"], document["discarded_units"], document["billing_modifier"]) == (1, 45, "JW")


def test_plan_vial_100_reconstitutes_with_2_ml_and_needs_two_vials() -> None:
    """``--vial 100``: 2.0 mL saline, 5 U per 0.1 mL, two vials for 155 U, 45 U discarded, JW."""
    document = plan("--vial", "100")
    recon = document["reconstitution"]
    assert (recon["vial_units"], recon["saline_ml"], recon["units_per_0_1_ml"]) == (100, 2.0, 5)
    assert (document["vials"], document["discarded_units"], document["billing_modifier"]) == (2, 45, "JW")
    assert plan("--vial", "200")["reconstitution"]["saline_ml"] == 4.0


@pytest.mark.parametrize("vial", ["150", "0", "50", "400"])
def test_plan_vial_other_than_100_or_200_exits_2(vial: str) -> None:
    """``--vial`` accepts only 100 and 200."""
    refused(invoke("plan", "--json", "--vial", vial))


def test_plan_lists_every_problem_of_its_options() -> None:
    """A bad vial, a malformed item and a count above a muscle's limit are all listed (only the first was)."""
    problems = refused(invoke("plan", "--json", "--vial", "150", "--follow-the-pain", "temporalis=3,foo=x"))
    assert problems[:2] == [cli.FOLLOW_THE_PAIN_FORMAT.format(item="foo=x"), cli.VIAL_CHOICE.format(value=150)]
    assert problems[2].startswith("follow-the-pain: temporalis allows at most 2")
    assert len(problems) == 3


def test_schedule_at_the_end_of_the_calendar_exits_2_naming_the_options() -> None:
    """A due date past 9999-12-31 is refused naming the options, not a traceback."""
    assert refused(invoke("schedule", "9999-12-01", "--today", "9999-12-31")) == [
        cli.OUTSIDE_CALENDAR.format(options="sessions, --today, --propose")
    ]


def test_plan_follow_the_pain_sites_alternate_left_then_right_after_fixed_sites() -> None:
    """Follow-the-pain sites follow the muscle's fixed sites, alternately left then right, marked as such."""
    extra = {"temporalis": 2, "occipitalis": 1, "trapezius": 3}
    document = plan("--follow-the-pain", "temporalis=2,occipitalis=1,trapezius=3")
    assert [site_key(s) for s in document["sites"]] == [site_key(s) for s in expected_sites(extra)]
    assert (document["total_units"], document["site_count"]) == (185, 37)
    by_muscle = {m: (d["sites"], d["units"]) for m, d in document["by_muscle"].items()}
    assert by_muscle["temporalis"] == (10, 50)
    assert by_muscle["occipitalis"] == (7, 35)
    assert by_muscle["trapezius"] == (9, 45)


def test_plan_order_of_follow_the_pain_items_does_not_matter() -> None:
    """The sites come in muscle order whatever order the follow-the-pain items are given in."""
    a = plan("--follow-the-pain", "trapezius=4,temporalis=1")
    b = plan("--follow-the-pain", "temporalis=1,trapezius=4")
    assert a["sites"] == b["sites"]
    assert [site_key(s) for s in a["sites"]] == [site_key(s) for s in expected_sites({"temporalis": 1, "trapezius": 4})]


@pytest.mark.parametrize(("muscle", "limit"), [("temporalis", 2), ("occipitalis", 2), ("trapezius", 4)])
def test_plan_follow_the_pain_limit_per_muscle(muscle: str, limit: int) -> None:
    """Each muscle takes up to its limit of extra sites; one more exits 2 with the limit in the message."""
    document = plan("--follow-the-pain", f"{muscle}={limit}")
    assert document["total_units"] == 155 + 5 * limit
    problems = refused(invoke("plan", "--json", "--follow-the-pain", f"{muscle}={limit + 1}"))
    text = "\n".join(problems)
    assert muscle in text
    assert str(limit) in text.replace(str(limit + 1), "")


def test_plan_maximum_is_195_units_over_39_sites() -> None:
    """All follow-the-pain at their limits gives 195 U over 39 sites; 200 U is out of reach (exit 2)."""
    document = plan("--follow-the-pain", "temporalis=2,occipitalis=2,trapezius=4")
    assert (document["total_units"], document["site_count"]) == (195, 39)
    refused(invoke("plan", "--json", "--follow-the-pain", "temporalis=2,occipitalis=2,trapezius=5"))
    refused(invoke("plan", "--json", "--follow-the-pain", "temporalis=3,occipitalis=2,trapezius=4"))


def test_plan_195_units_with_100_unit_vials_discards_5_units() -> None:
    """195 U from 100 U vials takes 2 vials, discards 5 U and bills JW; from a 200 U vial the same."""
    ftp = "temporalis=2,occipitalis=2,trapezius=4"
    document = plan("--follow-the-pain", ftp, "--vial", "100")
    assert (document["vials"], document["discarded_units"], document["billing_modifier"]) == (2, 5, "JW")
    document = plan("--follow-the-pain", ftp, "--vial", "200")
    assert (document["vials"], document["discarded_units"], document["billing_modifier"]) == (1, 5, "JW")


def test_plan_vials_discard_and_modifier_for_every_allowed_combination() -> None:
    """For every allowed follow-the-pain request and vial size, vials is the fewest that hold the dose, the
    discard is what is left, and the modifier is JW when units are discarded, JZ when none (never reachable)."""
    for t, o, tr in itertools.product(range(3), range(3), range(5)):
        total = 155 + 5 * (t + o + tr)
        for vial in (100, 200):
            document = plan("--follow-the-pain", f"temporalis={t},occipitalis={o},trapezius={tr}", "--vial", vial)
            vials = -(-total // vial)
            assert (document["total_units"], document["vials"]) == (total, vials)
            assert document["discarded_units"] == vials * vial - total
            assert document["billing_modifier"] == ("JW" if vials * vial > total else "JZ")


@pytest.mark.parametrize(
    "request_", ["frontalis=1", "frontalis=0", "cervical_paraspinal=1", "procerus=1", "corrugator=1", "masseter=1"]
)
def test_plan_follow_the_pain_other_muscle_exits_2(request_: str) -> None:
    """Follow-the-pain for a muscle other than temporalis, occipitalis or trapezius exits 2, the message giving each
    muscle that takes extra sites with its limit (the contract: 'the limit in the message')."""
    assert plan("--follow-the-pain", "temporalis=1")["total_units"] == 160
    (problem,) = refused(invoke("plan", "--json", "--follow-the-pain", request_))
    assert "temporalis (at most 2), occipitalis (at most 2), trapezius (at most 4)" in problem


def test_plan_follow_the_pain_unknown_muscle_gives_the_limits() -> None:
    """An unknown muscle's message gives each follow-the-pain muscle's limit (the contract: 'the limit in the
    message')."""
    (problem,) = refused(invoke("plan", "--json", "--follow-the-pain", "masseter=1"))
    assert "temporalis (at most 2), occipitalis (at most 2), trapezius (at most 4)" in problem


@pytest.mark.parametrize(
    "request_", ["temporalis=1,temporalis=1", "trapezius=0,trapezius=2", "occipitalis=1,Occipitalis=1"]
)
def test_plan_follow_the_pain_muscle_twice_exits_2(request_: str) -> None:
    """Each muscle may be given at most once."""
    refused(invoke("plan", "--json", "--follow-the-pain", request_))


def test_plan_follow_the_pain_options_add_up_and_a_muscle_counts_once_across_them() -> None:
    """A repeated ``--follow-the-pain`` adds its muscles to the others' (the last one used to replace them), and a
    muscle given in two of them exits 2 as in one."""
    assert plan("--follow-the-pain", "temporalis=1", "--follow-the-pain", "trapezius=1")["total_units"] == 165
    (problem,) = refused(
        invoke("plan", "--json", "--follow-the-pain", "temporalis=1", "--follow-the-pain", "temporalis=2")
    )
    assert "temporalis" in problem


@pytest.mark.parametrize(
    "request_", ["temporalis=-1", "temporalis=1.5", "temporalis=x", "temporalis", "=2", "temporalis=²"]
)
def test_plan_follow_the_pain_count_must_be_a_whole_number_from_0(request_: str) -> None:
    """N must be a whole number >= 0 (0 is accepted); anything else exits 2, never a crash."""
    assert plan("--follow-the-pain", "temporalis=0")["total_units"] == 155
    refused(invoke("plan", "--json", "--follow-the-pain", request_))


def test_plan_follow_the_pain_negative_count_says_0_or_more_not_whole_number() -> None:
    """A negative N is refused with the engine's rule (0 or more), not as if -1 were not a whole number."""
    (problem,) = refused(invoke("plan", "--json", "--follow-the-pain", "temporalis=-1"))
    assert problem == preempt.FTP_NEGATIVE.format(muscle="temporalis", count=-1)


def test_plan_every_site_is_5_units_in_0_1_ml() -> None:
    """Every site carries 5 U in 0.1 mL, so total_units is 5 x site_count."""
    document = plan("--follow-the-pain", "temporalis=2,trapezius=4")
    assert all((s["units"], s["volume_ml"]) == (5, 0.1) for s in document["sites"])
    assert document["total_units"] == 5 * document["site_count"] == 5 * len(document["sites"])
    assert sum(d["units"] for d in document["by_muscle"].values()) == document["total_units"]


# --- schedule and score ------------------------------------------------------------------------------------------


def test_schedule_json_gives_the_next_due_date_12_weeks_after_the_last_session():
    """`schedule` reads the sessions in any order and dates the next one 84 days after the last."""
    result = invoke("schedule", "2026-05-25,2026-03-02", "--today", "2026-08-20", "--json")
    assert result.exit_code == 0
    document = json.loads(result.stdout)
    assert (document["cycle_number"], document["last_session"], document["next_due"]) == (2, "2026-05-25", "2026-08-17")
    assert (document["status"], document["days_overdue"]) == ("due", 0)
    assert document["reasons"][0].startswith("BOTOX label")


@pytest.mark.parametrize(
    ("today", "status"), [("2026-08-16", "not_yet_due"), ("2026-08-24", "due"), ("2026-08-25", "overdue")]
)
def test_schedule_status_around_the_due_date(today, status):
    """A day before the due date is not yet due; the 7-day window after it is due; after that overdue."""
    document = json.loads(invoke("schedule", "2026-05-25", "--today", today, "--json").stdout)
    assert document["status"] == status


def test_schedule_checks_a_proposed_date_against_the_12_week_rule():
    """A proposed date 83 days after the last session is too early; 84 days is allowed."""
    early = json.loads(invoke("schedule", "2026-05-25", "--propose", "2026-08-16", "--json").stdout)["proposed"]
    on_time = json.loads(invoke("schedule", "2026-05-25", "--propose", "2026-08-17", "--json").stdout)["proposed"]
    assert (early["allowed"], early["days_since_previous"]) == (False, 83)
    assert (on_time["allowed"], on_time["days_since_previous"]) == (True, 84)


def test_schedule_refuses_a_proposed_date_before_the_last_session():
    """A proposed date before the last session exits 2 with the rule's message on stderr, not a traceback."""
    result = invoke("schedule", "2026-01-01", "--today", "2026-03-25", "--propose", "2025-12-01", "--json")
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr.strip() == PROPOSED_BEFORE_PREVIOUS.format(proposed="2025-12-01", previous="2026-01-01")


def test_schedule_refuses_bad_and_repeated_dates_listing_each():
    """Every bad session date, and a repeated one, is reported on stderr with exit 2 and nothing on stdout."""
    bad = invoke("schedule", "2026-02-30,yesterday", "--today", "2026-13-01")
    assert bad.exit_code == 2
    assert bad.stdout == ""
    assert bad.stderr.splitlines() == [
        "sessions: '2026-02-30' is not a date in YYYY-MM-DD form",
        "sessions: 'yesterday' is not a date in YYYY-MM-DD form",
        "--today: '2026-13-01' is not a date in YYYY-MM-DD form",
    ]
    repeated = invoke("schedule", "2026-03-02,2026-03-02", "--today", "2026-08-20")
    assert repeated.exit_code == 2
    assert repeated.stderr.strip() == "session dates: 2026-03-02 is listed 2 times"


def test_score_hit6_json_total_and_band():
    """HIT-6 answers in item order give the total and its impact band."""
    result = invoke("score", "hit6", "always", "very often", "sometimes", "sometimes", "rarely", "never", "--json")
    assert result.exit_code == 0
    document = json.loads(result.stdout)
    assert (document["total"], document["impact"]) == (13 + 11 + 10 + 10 + 8 + 6, "substantial_impact")


def test_score_hit6_refuses_a_wrong_answer_naming_the_item():
    """An answer outside the five options exits 2, naming the item."""
    result = invoke("score", "hit6", "always", "often", "sometimes", "sometimes", "rarely", "never")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert "item 2" in result.stderr


def test_score_midas_grade_and_pair_rule():
    """MIDAS sums Q1-Q5 into a grade; Q1 + Q2 over 92 days is refused."""
    document = json.loads(invoke("score", "midas", "3", "2", "4", "1", "11", "--json").stdout)
    assert (document["total"], document["grade"]) == (21, "IV")
    refused = invoke("score", "midas", "60", "40", "0", "0", "0")
    assert refused.exit_code == 2
    assert "Q1" in refused.stderr


def test_the_commands_clock_is_the_callers_day_unless_onaboard_today_is_set(monkeypatch) -> None:
    """Without ONABOARD_TODAY the day comes from the clock given (the app's commands pass the clinic's
    timezone.localdate); with it, the override wins."""
    monkeypatch.delenv("ONABOARD_TODAY", raising=False)
    assert cli.command_today(lambda: date(2031, 5, 6)) == date(2031, 5, 6)
    monkeypatch.setenv("ONABOARD_TODAY", "2026-01-02")
    assert cli.command_today(lambda: date(2031, 5, 6)) == date(2026, 1, 2)


# === text tables and help ==========================================================================================


def test_assess_text_shows_each_acute_medication_class_on_its_own(write: Writer) -> None:
    """The text shows each class ICHD-3 8.2 counts in its own column from the period's acute_medication_days: simple
    and combination analgesics on all 28 days read 28 and 28, never added up to 56 days of a 28-day period."""
    medication = {"simple_analgesic": 28, "combination_analgesic": 28, "triptan": 3, "opioid": 2, "ergot": 1}
    rows = periods_back("P1", AS_OF, {"migraine": 16, "medication": medication})
    result = invoke("assess", write(rows), "--as-of", AS_OF)
    assert result.exit_code == 0, result.stderr
    lines = [line.rstrip() for line in result.stdout.splitlines()]
    at = lines.index(cli.MEDICATION_TITLE)
    assert lines[at + 1] == "period  triptan  ergot  simple analgesic  combination analgesic  opioid  any"
    assert lines[at + 2].split() == ["1", "3", "1", "28", "28", "2", "28"]
    assert "56" not in result.stdout


HELP_OPTION = re.compile(r"^│\s*\*?\s*(--[a-z-]+)\s+(\S+)\s+(.*?)\s*│$")
"""An option's line in Typer's help: the option, its metavar, its help text."""


@pytest.mark.parametrize(
    ("command", "metavars", "dates"),
    [
        (
            "assess",
            {"--patient": "ID", "--as-of": "DATE", "--periods": "N", "--birth-date": "DATE"},
            ["--as-of", "--birth-date"],
        ),
        ("outcomes", {"--injections": "DATE[,DATE...]", "--patient": "ID"}, ["--injections"]),
        ("plan", {"--follow-the-pain": "temporalis=N,occipitalis=N,trapezius=N", "--vial": "100|200"}, []),
    ],
)
def test_help_names_the_values_as_the_contract_does(command: str, metavars: dict[str, str], dates: list[str]) -> None:
    """``--help`` names each value as shared/spec/cli.md writes it (DIARY.csv, ID, DATE, N), and each date option's
    help gives the form YYYY-MM-DD."""
    result = RUNNER.invoke(app, [command, "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    found = [HELP_OPTION.match(line) for line in result.stdout.splitlines()]
    options = {match[1]: (match[2], match[3]) for match in found if match}
    assert {option: options[option][0] for option in metavars} == metavars
    assert [option for option, (_, text) in options.items() if "(YYYY-MM-DD" in text] == dates
    if command != "plan":
        assert re.search(r"^│\s*\*\s+DIARY\.csv\s", result.stdout, re.MULTILINE)  # the argument's line


# === a diary's line ends and quoting, a date after today, standard input, a closed pipe ============================


def test_diary_bad_byte_in_a_file_of_lone_carriage_returns_is_named_on_its_line(write: Writer) -> None:
    """In a file whose lines end in a lone CR, a byte that is not UTF-8 on line 3 is reported on line 3 (it said
    line 1: only LF was counted)."""
    path = write(b"patient_id,date,headache_hours,notes\rP1,2026-01-01,0,ok\rP1,2026-01-02,0,caf\xe9\r")
    assert refused(invoke("assess", path, "--json", today="2026-04-01")) == ["line 3: the file is not UTF-8 text"]


def test_diary_spaces_after_a_closing_quote_are_trimmed(write: Writer) -> None:
    """A space after a closing quote is trimmed like one before an opening quote (the whole file was refused:
    "',' expected after '\"'"); text after a closing quote is still malformed."""
    (patient,) = assess(write('patient_id,date,headache_hours\nP1,2026-01-01,"0" \nP1, "2026-01-02" ,0\n'))
    assert (patient["as_of"], patient["periods"][0]["days_recorded"]) == ("2026-01-02", 2)
    bad = write('patient_id,date,headache_hours\nP1,2026-01-01,"0" x\n')
    assert refused(invoke("assess", bad, "--json")) == ["line 2: malformed CSV: ',' expected after '\"'"]


def test_assess_as_of_after_today_is_judged_with_its_days_not_recorded(write: Writer) -> None:
    """``--as-of`` after today is accepted, as the contract has it (it refuses diary rows after today, not the
    option): the days from the last row to it are not recorded, so its periods are incomplete; ``--as-of`` today is
    accepted too."""
    path = write(days("P1", date(2026, 3, 1), 100))
    (patient,) = assess(path, "--as-of", "2026-07-06")  # the last row is 2026-06-08, today 2026-06-30
    assert patient["as_of"] == "2026-07-06"
    assert [period["days_recorded"] for period in patient["periods"]] == [0, 28, 28]
    assert [period["complete"] for period in patient["periods"]] == [False, True, True]
    assert assess(path, "--as-of", TODAY)[0]["as_of"] == TODAY


def test_outcomes_accepts_an_injection_after_today(write: Writer) -> None:
    """An ``--injections`` date after today (a session planned) is accepted, as the contract has it: day 0 is the
    earliest date, and the periods are laid from it."""
    path = write(treated_rows("P1", DAY0, 10, 5))
    (planned,) = outcomes(path, "--injections", f"{DAY0},2026-07-01")
    (given,) = outcomes(path, "--injections", f"{DAY0}")
    assert planned["injections"] == [str(DAY0), "2026-07-01"]
    assert {k: v for k, v in planned.items() if k != "injections"} == {
        k: v for k, v in given.items() if k != "injections"
    }


@pytest.mark.parametrize("command", [("assess",), ("outcomes", "--injections", DAY0)], ids=["assess", "outcomes"])
def test_diary_dash_reads_standard_input(write: Writer, command: tuple[object, ...]) -> None:
    """``-`` as DIARY.csv reads the diary's bytes from standard input, with the same checks as a file's."""
    rows = treated_rows("P1", DAY0, 10, 5)
    name, *options = command
    args = [name, "-", "--json", *options]
    expected = succeeded(invoke(name, write(rows), "--json", *options))
    from_stdin = RUNNER.invoke(
        app, [str(arg) for arg in args], input=diary_csv(rows).encode(), env={"ONABOARD_TODAY": TODAY}
    )
    assert succeeded(from_stdin) == expected
    refused_stdin = RUNNER.invoke(
        app, [*map(str, args), "--patient", "P9"], input=b"patient_id,date,headache_hours\nP1,2026-01-01,caf\xe9\n"
    )
    assert refused(refused_stdin) == ["line 2: the file is not UTF-8 text"]
    missing = RUNNER.invoke(app, [*map(str, args), "--patient", "P9"], input=diary_csv(rows).encode())
    assert refused(missing) == ["--patient: 'P9' is not in standard input"]


def test_script_dash_reads_standard_input_and_dot_slash_dash_a_file(tmp_path: Path) -> None:
    """The console script reads ``-`` from standard input, while ``./-`` still names a file called "-"."""
    text = diary_csv(days("P1", date(2026, 1, 5), 2))
    (tmp_path / "-").write_text(diary_csv(days("P2", date(2026, 1, 5), 2)))
    env = {**os.environ, "ONABOARD_TODAY": TODAY}
    for argument, patient_id in (("-", "P1"), ("./-", "P2")):
        done = subprocess.run(
            [str(SCRIPT), "assess", argument, "--json"],
            input=text,
            capture_output=True,
            text=True,
            env=env,
            cwd=tmp_path,
            check=False,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr
        assert [p["patient_id"] for p in exactly_one_json(done.stdout)["patients"]] == [patient_id]


@pytest.mark.parametrize(
    ("patients", "options"),
    [(400, ("--json",)), (400, ()), (1, ("--json",)), (1, ())],
    ids=["json-while-writing", "text-while-writing", "json-last-block", "text-last-block"],
)
def test_script_closed_pipe_exits_0_with_nothing_on_stderr(
    write: Writer, patients: int, options: tuple[str, ...]
) -> None:
    """A reader closing the pipe (``onaboard assess big.csv --json | head -1``) ends the command quietly with exit
    0, whether the output was still being written (it exited 1) or its last block was flushed at exit (it printed
    "Exception ignored ... BrokenPipeError" and exited 120)."""
    path = write([row for n in range(patients) for row in days(f"P{n:03d}", date(2026, 1, 5), 1)])
    env = {**os.environ, "ONABOARD_TODAY": TODAY}
    with subprocess.Popen(
        [str(SCRIPT), "assess", path, *options], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env
    ) as process:
        assert process.stdout is not None
        assert process.stderr is not None
        if patients > 1:
            assert process.stdout.readline()  # the output has begun; much more is to come
        process.stdout.close()  # before a single patient's output is written: it meets the closed pipe at exit
        stderr = process.stderr.read()
        assert (process.wait(timeout=60), stderr) == (0, b"")
