"""The Kostecki-Dillon adapter: a real headache log converted to diary days and counted by the engine."""

from __future__ import annotations

import csv
from collections import defaultdict
from collections.abc import Sequence
from datetime import date, timedelta
from decimal import Decimal
from functools import cache
from pathlib import Path

import pytest

from onaboard.clinical.days import classify_day
from onaboard.clinical.diary import DiaryDay, Intensity, parse_diary, write_diary
from onaboard.clinical.periods import PeriodSummary, treatment_periods
from onaboard.interop.kostecki import (
    ANCHOR_DATE,
    BAD_HEADACHE,
    CONFLICTING_DAY,
    EMPTY_FILE,
    ID_DIGITS,
    ID_TOO_LONG,
    MAX_DIGITS,
    MISSING_COLUMN,
    SOURCE_NOTE,
    START_OUTSIDE_CALENDAR,
    STUDY_DAY_AFTER_CALENDAR,
    TOO_MANY_DIGITS,
    KosteckiError,
    KosteckiLog,
    kostecki_patient_id,
    kostecki_to_diary,
)

DATA_FILE = Path(__file__).resolve().parents[3] / "shared" / "data" / "kostecki_dillon_headache_log.csv"
HEADER = "rownames,id,time,dos,hatype,age,airq,medication,headache,sex"


@cache
def _raw_text() -> str:
    if not DATA_FILE.exists():
        pytest.skip(f"the real Kostecki-Dillon log is not at {DATA_FILE}")
    return DATA_FILE.read_text(encoding="utf-8")


@cache
def _log() -> KosteckiLog:
    return kostecki_to_diary(_raw_text())


def _by_patient(days: Sequence[DiaryDay]) -> dict[str, list[DiaryDay]]:
    patients: dict[str, list[DiaryDay]] = defaultdict(list)
    for day in days:
        patients[day.patient_id].append(day)
    return patients


@cache
def _engine_periods() -> dict[str, tuple[PeriodSummary, tuple[PeriodSummary, ...]]]:
    log = _log()
    return {
        patient_id: treatment_periods([classify_day(day) for day in days], day0=log.treatment_start[patient_id])
        for patient_id, days in _by_patient(log.days).items()
    }


def _raw_period_counts() -> dict[str, dict[int, tuple[int, int]]]:
    """Per id, per period index (0 = baseline), (days recorded, headache days): counted on ``time`` directly."""
    recorded: dict[str, dict[int, set[int]]] = defaultdict(lambda: defaultdict(set))
    headache: dict[str, dict[int, set[int]]] = defaultdict(lambda: defaultdict(set))
    for row in csv.DictReader(_raw_text().splitlines()):
        time = int(row["time"])
        if time < -28:
            continue
        index = 0 if time < 0 else time // 28 + 1
        patient = f"KD{int(row['id']):03d}"
        recorded[patient][index].add(time)
        if row["headache"] == "yes":
            headache[patient][index].add(time)
    return {
        patient: {index: (len(times), len(headache[patient][index])) for index, times in periods.items()}
        for patient, periods in recorded.items()
    }


def _text(*rows: str) -> str:
    return "\n".join((HEADER, *rows)) + "\n"


def test_the_real_log_has_the_documented_size() -> None:
    """4152 rows of 133 patients (KD001..KD133) convert to 4151 days: one exact duplicate row is dropped."""
    log = _log()
    assert log.rows_read == 4152
    assert len(log.days) == 4151
    assert log.dropped_duplicate_lines == (2853,)
    assert sorted(log.treatment_start) == [kostecki_patient_id(n) for n in range(1, 134)]
    assert sorted({day.patient_id for day in log.days}) == sorted(log.treatment_start)


def test_55_patients_have_days_before_treatment_start() -> None:
    """55 patients have at least one day before their day 0, as the data's README says."""
    log = _log()
    before = {day.patient_id for day in log.days if day.date < log.treatment_start[day.patient_id]}
    assert len(before) == 55


def test_only_patient_126_has_a_start_that_the_rows_disagree_on() -> None:
    """Patient 126's time skips 28 while dos runs on, so its 39 rows from time 29 on are listed as disagreeing."""
    disagreements = _log().start_disagreements
    assert list(disagreements) == ["KD126"]
    assert disagreements["KD126"] == tuple(range(3893, 3932))
    assert _log().treatment_start["KD126"] == ANCHOR_DATE + timedelta(days=1128)


def test_the_real_log_round_trips_through_the_diary_csv() -> None:
    """The converted days written with write_diary and read with parse_diary are the same days."""
    days = _log().days
    parsed = parse_diary(write_diary(days), today=max(day.date for day in days))
    assert [day for diary in parsed for day in diary.days] == list(days)


def test_presence_only_days_carry_placeholders_that_count_as_nothing_more() -> None:
    """Headache days are 1 h, mild, featureless and noted as placeholders: never 4-hour, migraine or attack days."""
    for day in _log().days:
        assert day.notes == SOURCE_NOTE
        assert day.headache_hours in {Decimal(0), Decimal(1)}
        assert day.intensity == (Intensity.MILD if day.headache_hours else None)
        classified = classify_day(day)
        assert not classified.headache_4h
        assert not classified.migraine
        assert not classified.attack


def test_period_headache_days_match_a_count_straight_from_the_raw_rows() -> None:
    """The engine's baseline and post-treatment periods hold the days and headache days counted on ``time``."""
    raw = _raw_period_counts()
    engine = _engine_periods()
    assert engine.keys() == raw.keys()
    for patient, (baseline, after) in engine.items():
        assert len(after) == max(raw[patient]), patient
        for period in (baseline, *after):
            expected = raw[patient].get(period.index, (0, 0))
            assert (period.days_recorded, period.headache_days) == expected, (patient, period.label)
            start = _log().treatment_start[patient]
            assert period.start == start + timedelta(days=28 * (period.index - 1))
            assert period.end == period.start + timedelta(days=27)


def test_honest_summary_of_what_the_real_log_can_show() -> None:
    """Few patients have complete periods: 10 complete baselines, 69/18/2/0 complete periods 1-4, one pair."""
    engine = _engine_periods()
    with_baseline_rows = sum(baseline.days_recorded > 0 for baseline, _ in engine.values())
    complete_baselines = sorted(p for p, (baseline, _) in engine.items() if baseline.complete)
    complete_after = [
        sum(len(after) >= k and after[k - 1].complete for _, after in engine.values()) for k in range(1, 5)
    ]
    compared = {
        patient: (baseline.headache_days, after[2].headache_days)
        for patient, (baseline, after) in engine.items()
        if baseline.complete and len(after) >= 3 and after[2].complete
    }
    summary = (
        f"{with_baseline_rows} patients with a baseline row, {len(complete_baselines)} complete baselines "
        f"(>= 20 of 28 days), complete periods 1-4: {complete_after}, baseline vs period 3: {compared}"
    )
    print(summary)
    assert with_baseline_rows == 54, summary  # KD060's only pre-treatment day is day -29
    assert len(complete_baselines) == 10, summary
    assert complete_after == [69, 18, 2, 0], summary
    assert compared == {"KD055": (16, 5)}, summary


def test_ids_are_padded_and_study_days_counted_from_the_anchor() -> None:
    """id 7 becomes KD007, dos 0 is 2000-01-01, and day 0 is dos - time."""
    log = kostecki_to_diary(_text("1,7,-2,0,Aura,30,9,none,yes,female", "2,7,3,5,Aura,30,9,none,no,female"))
    assert [(day.patient_id, day.date, day.headache_hours) for day in log.days] == [
        ("KD007", date(2000, 1, 1), Decimal(1)),
        ("KD007", date(2000, 1, 6), Decimal(0)),
    ]
    assert dict(log.treatment_start) == {"KD007": date(2000, 1, 3)}
    assert log.rows_read == 2


def test_an_exact_duplicate_row_is_dropped_and_named() -> None:
    """A second row agreeing in every column but rownames is dropped and its line reported."""
    log = kostecki_to_diary(_text("1,7,0,5,Aura,30,9,none,yes,female", "2,7,0,5,Aura,30,9,none,yes,female"))
    assert len(log.days) == 1
    assert log.dropped_duplicate_lines == (3,)


def test_a_conflicting_duplicate_row_refuses_the_file() -> None:
    """A second row for the same patient and study day saying something else is an error naming both lines."""
    with pytest.raises(KosteckiError) as caught:
        kostecki_to_diary(_text("1,7,0,5,Aura,30,9,none,yes,female", "2,7,0,5,Aura,30,9,none,no,female"))
    (problem,) = caught.value.problems
    assert (problem.line, problem.column) == (3, "dos")
    assert problem.message == CONFLICTING_DAY.format(id="KD007", dos=5, first_line=2)


def test_unreadable_values_are_all_listed() -> None:
    """Every bad value of the file is reported with its line and column, and nothing is converted."""
    with pytest.raises(KosteckiError) as caught:
        kostecki_to_diary(_text("1,7,x,5,Aura,30,9,none,maybe,female", "2,0,1,-1,Aura,30,9,none,no,female"))
    assert [(p.line, p.column) for p in caught.value.problems] == [
        (2, "time"),
        (2, "headache"),
        (3, "id"),
        (3, "dos"),
    ]
    assert caught.value.problems[1].message == BAD_HEADACHE.format(value="maybe")


def test_days_outside_the_calendar_are_problems_of_their_row_not_crashes() -> None:
    """A study day past 9999-12-31 (dos 3000000), a dos of more digits than any calendar day needs (30 digits, past
    timedelta's range; 5000, past Python's int conversion limit), and a time putting the treatment start before
    0001-01-01 or after 9999-12-31 are each refused at their column, while a row on 9999-12-31 whose start is
    0001-01-01, the calendar's edges, is converted."""
    last = (date.max - ANCHOR_DATE).days
    first = (date.min - ANCHOR_DATE).days
    edges = f"1,7,{last - first},{last},Aura,30,9,none,yes,female"
    log = kostecki_to_diary(_text(edges))
    assert ([day.date for day in log.days], dict(log.treatment_start)) == ([date.max], {"KD007": date.min})
    with pytest.raises(KosteckiError) as caught:
        kostecki_to_diary(
            _text(
                edges,
                "2,7,0,3000000,Aura,30,9,none,yes,female",
                f"3,7,0,{'9' * 30},Aura,30,9,none,yes,female",
                f"4,7,0,{'9' * 5000},Aura,30,9,none,yes,female",
                "5,7,3000000,5,Aura,30,9,none,yes,female",
                f"6,7,-{last},5,Aura,30,9,none,yes,female",
            )
        )
    assert [(p.line, p.column, p.message) for p in caught.value.problems] == [
        (3, "dos", STUDY_DAY_AFTER_CALENDAR.format(limit=last, last=date.max, value=3000000)),
        (4, "dos", TOO_MANY_DIGITS.format(limit=MAX_DIGITS, digits=30)),
        (5, "dos", TOO_MANY_DIGITS.format(limit=MAX_DIGITS, digits=5000)),
        (6, "time", START_OUTSIDE_CALENDAR.format(start=5 - 3000000, first=first, last=last, first_date=date.min,
                                                 last_date=date.max)),
        (7, "time", START_OUTSIDE_CALENDAR.format(start=5 + last, first=first, last=last, first_date=date.min,
                                                 last_date=date.max)),
    ]  # fmt: skip


def test_an_id_too_long_for_the_diarys_patient_id_is_refused() -> None:
    """An id of 70 digits would make a patient id of 72 characters, past the diary contract's 64, so it is refused
    at the id column; 62 digits (with leading zeros besides) make exactly 64 and are converted."""
    with pytest.raises(KosteckiError) as caught:
        kostecki_to_diary(_text(f"1,{'9' * 70},0,5,Aura,30,9,none,yes,female"))
    assert [(p.line, p.column, p.message) for p in caught.value.problems] == [
        (2, "id", ID_TOO_LONG.format(limit=ID_DIGITS, length=64, digits=70))
    ]
    log = kostecki_to_diary(_text(f"1,000{'9' * ID_DIGITS},0,5,Aura,30,9,none,yes,female"))
    assert [len(day.patient_id) for day in log.days] == [64]


def test_a_missing_column_or_an_empty_file_is_refused() -> None:
    """A header without ``headache`` is one problem on line 1; an empty file is an error too."""
    with pytest.raises(KosteckiError) as caught:
        kostecki_to_diary("id,time,dos\n1,0,5\n")
    assert [(p.line, p.column, p.message) for p in caught.value.problems] == [(1, "headache", MISSING_COLUMN)]
    with pytest.raises(KosteckiError) as empty:
        kostecki_to_diary("")
    assert [p.message for p in empty.value.problems] == [EMPTY_FILE]
