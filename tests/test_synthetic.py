"""Synthetic diaries: valid under the diary contract, deterministic, and shaped like the profiles they name."""

from __future__ import annotations

import random
import time
from collections.abc import Sequence
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from onaboard.clinical.days import classify_day
from onaboard.clinical.diary import AcuteClass, DiaryDay, parse_diary, write_diary
from onaboard.clinical.periods import PeriodSummary, periods_before, treatment_periods
from onaboard.synthetic import (
    DEMO_FIRST_INJECTION,
    Profile,
    demo_diary_days,
    demo_treated_days,
    main,
    synthetic_diary,
    synthetic_patient_days,
)

START = date(2024, 1, 1)
TODAY = date(2026, 11, 27)
DEMO_DIR = Path(__file__).resolve().parents[1] / "demo"


def _days(
    profile: Profile = Profile.CHRONIC, *, seed: int = 7, days: int = 28 * 6, **options: Any
) -> tuple[DiaryDay, ...]:
    return synthetic_patient_days("P1", start=START, days=days, profile=profile, seed=seed, **options)


def _of(days: Sequence[DiaryDay], patient_id: str) -> list[DiaryDay]:
    return [day for day in days if day.patient_id == patient_id]


def _periods_before(days: Sequence[DiaryDay], as_of: date, count: int) -> tuple[PeriodSummary, ...]:
    return periods_before([classify_day(day) for day in days], as_of=as_of, count=count)


def _per_28_days(days: Sequence[DiaryDay], count: float) -> float:
    return 28 * count / len(days)


@pytest.mark.parametrize("profile", list(Profile))
def test_every_generated_day_survives_the_csv_contract(profile: Profile) -> None:
    """Writing generated days as a diary CSV and parsing it back gives the same days, so every row is valid."""
    days = _days(profile, days=28 * 12)
    (diary,) = parse_diary(write_diary(days), today=TODAY)
    assert diary.days == days


def test_a_mixed_diary_with_treated_patients_survives_the_csv_contract() -> None:
    """A mixed many-patient diary round-trips through write_diary and parse_diary unchanged."""
    days = synthetic_diary(12, start=START, days=400, seed=3)
    parsed = parse_diary(write_diary(days), today=TODAY)
    assert [day for diary in parsed for day in diary.days] == days


def test_the_same_seed_gives_the_same_diary() -> None:
    """Two calls with the same arguments give identical days."""
    assert synthetic_diary(5, start=START, days=200, seed=11) == synthetic_diary(5, start=START, days=200, seed=11)


def test_a_different_seed_gives_a_different_diary() -> None:
    """Changing only the seed changes the days."""
    assert _days(seed=1) != _days(seed=2)


def test_global_random_state_is_neither_used_nor_changed() -> None:
    """Reseeding the random module changes nothing, and generating leaves its state alone."""
    random.seed(1)
    first = _days()
    random.seed(2)
    state = random.getstate()
    assert _days() == first
    assert random.getstate() == state


def test_adding_patients_leaves_the_earlier_patients_unchanged() -> None:
    """Each patient has its own generator, so a longer patient list starts with the shorter one."""
    few = synthetic_diary(3, start=START, days=100, seed=5)
    many = synthetic_diary(6, start=START, days=100, seed=5)
    assert many[: len(few)] == few


def test_days_are_in_date_order_within_the_requested_range() -> None:
    """A patient's days are strictly increasing dates from start to start + days - 1."""
    days = _days(days=300)
    dates = [day.date for day in days]
    assert dates == sorted(set(dates))
    assert dates[0] >= START
    assert dates[-1] <= START + timedelta(days=299)


def test_full_completeness_records_every_day_and_zero_records_none() -> None:
    """completeness 1 gives a row for each day; completeness 0 gives no rows."""
    assert len(_days(days=90, completeness=1.0)) == 90
    assert _days(days=90, completeness=0.0) == ()


def test_completeness_is_the_share_of_days_with_a_row() -> None:
    """Over ten years, the share of recorded days is close to the completeness asked for."""
    days = _days(days=3650, completeness=0.6)
    assert 0.57 < len(days) / 3650 < 0.63


@pytest.mark.parametrize(("days", "completeness"), [(-1, 0.9), (10, 1.5), (10, -0.1)])
def test_impossible_arguments_are_refused(days: int, completeness: float) -> None:
    """A negative length or a completeness outside 0-1 raises ValueError."""
    with pytest.raises(ValueError, match="must be"):
        _days(days=days, completeness=completeness)


@pytest.mark.parametrize(("profile", "low", "high"), [(Profile.CHRONIC, 18.5, 21.5), (Profile.EPISODIC, 5.0, 7.0)])
def test_headache_days_per_28_follow_the_profile(profile: Profile, low: float, high: float) -> None:
    """Chronic patients have about 20 headache days per 28 recorded days (PREEMPT 19.9), episodic about 6."""
    days = _days(profile, days=3650)
    headache_days = sum(day.headache_hours > 0 for day in days)
    assert low < _per_28_days(days, headache_days) < high


def test_chronic_headache_days_are_mostly_long_migraine_days() -> None:
    """A chronic diary has well over 8 migraine days and 15 four-hour days per 28 days."""
    classes = [classify_day(day) for day in _days(days=3650)]
    migraine = sum(day.migraine for day in classes)
    four_hours = sum(day.headache_4h for day in classes)
    assert 12 < 28 * migraine / len(classes) < 16
    assert 16 < 28 * four_hours / len(classes) < 20


def test_chronic_without_overuse_stays_below_the_overuse_thresholds() -> None:
    """Without overuse, triptans and simple analgesics are taken on far fewer days than ICHD-3 8.2 counts."""
    days = _days(days=3650)
    triptan = sum(AcuteClass.TRIPTAN in day.acute_medication for day in days)
    simple = sum(AcuteClass.SIMPLE_ANALGESIC in day.acute_medication for day in days)
    assert _per_28_days(days, triptan) < 6
    assert _per_28_days(days, simple) < 6


def test_overuse_patients_overuse_a_triptan_or_a_simple_analgesic() -> None:
    """Each chronic_overuse patient takes a triptan on >= 10 or a simple analgesic on >= 15 days per 28."""
    for seed in range(8):
        days = _days(Profile.CHRONIC_OVERUSE, seed=seed, days=28 * 24)
        triptan = _per_28_days(days, sum(AcuteClass.TRIPTAN in day.acute_medication for day in days))
        simple = _per_28_days(days, sum(AcuteClass.SIMPLE_ANALGESIC in day.acute_medication for day in days))
        assert triptan >= 12 or simple >= 16, (seed, triptan, simple)


def _week24_change(*, responder: bool, seeds: range) -> float:
    """Mean fractional change in headache days, baseline to period 6, over patients treated on day 28."""
    changes = []
    for seed in seeds:
        days = _days(
            seed=seed,
            days=28 * 7,
            first_injection=START + timedelta(days=28),
            responder=responder,
            completeness=1.0,
        )
        baseline, after = treatment_periods([classify_day(day) for day in days], day0=START + timedelta(days=28))
        changes.append((after[5].headache_days - baseline.headache_days) / baseline.headache_days)
    return sum(changes) / len(changes)


def test_responders_halve_their_headache_days_by_week_24() -> None:
    """Treated responders average more than a 50 % fall in headache days at week 24 (period 6)."""
    assert _week24_change(responder=True, seeds=range(20)) < -0.5


def test_non_responders_fall_by_less_than_30_percent() -> None:
    """Treated non-responders average less than a 30 % fall at week 24 (NICE TA260's threshold)."""
    assert _week24_change(responder=False, seeds=range(20)) > -0.3


def test_headache_days_before_the_first_injection_are_untouched_by_treatment() -> None:
    """Days before the first injection are the same whether or not the patient is later treated."""
    injection = START + timedelta(days=56)
    treated = _days(first_injection=injection)
    untreated = _days()
    assert [day for day in treated if day.date < injection] == [day for day in untreated if day.date < injection]


@pytest.mark.slow
def test_a_hundred_patients_over_ten_years_are_generated_in_seconds() -> None:
    """365,000 patient-days (100 patients x 3650 days) take well under 15 seconds on a 2-core machine."""
    began = time.perf_counter()
    days = synthetic_diary(100, start=START, days=3650, seed=1)
    assert time.perf_counter() - began < 15
    assert 0.9 * 365_000 < len(days) < 365_000


def test_demo_chronic_patient_meets_the_chronic_migraine_counts() -> None:
    """P001's three periods before today are complete with >= 15 headache, >= 15 four-hour, >= 8 migraine days."""
    for period in _periods_before(_of(demo_diary_days(TODAY), "P001"), TODAY, 3):
        assert period.complete
        assert period.headache_days >= 15
        assert period.headache_days_4h >= 15
        assert period.migraine_days >= 8
        assert period.overuse_class_days < 10


def test_demo_episodic_patient_has_few_headache_days() -> None:
    """P002's complete periods each have fewer than 15 headache days."""
    for period in _periods_before(_of(demo_diary_days(TODAY), "P002"), TODAY, 3):
        assert period.complete
        assert period.headache_days < 15


def test_demo_overuse_patient_overuses_in_every_period() -> None:
    """P003 has chronic-migraine counts and a triptan >= 10 or simple analgesic >= 15 days in each period."""
    for period in _periods_before(_of(demo_diary_days(TODAY), "P003"), TODAY, 3):
        acute = period.acute_medication_days
        assert period.complete
        assert period.headache_days >= 15
        assert period.migraine_days >= 8
        assert acute.triptan >= 10 or acute.simple_analgesic >= 15


def test_demo_sparse_patient_has_no_complete_period() -> None:
    """P004 records too few days: none of the five periods before today has 20 rows."""
    assert not any(p.complete for p in _periods_before(_of(demo_diary_days(TODAY), "P004"), TODAY, 5))


def test_demo_diaries_end_on_today() -> None:
    """Every demo patient's last recorded day is the given today, so assessments default to as_of = today."""
    days = demo_diary_days(TODAY)
    for patient_id in ("P001", "P002", "P003", "P004"):
        assert _of(days, patient_id)[-1].date == TODAY


@pytest.mark.parametrize(("patient_id", "responder"), [("T001", True), ("T002", False)])
def test_demo_treated_patients_respond_as_named(patient_id: str, responder: bool) -> None:
    """T001 halves its headache days by week 24 and T002 falls by under 30 %, both baselines complete."""
    days = _of(demo_treated_days(), patient_id)
    baseline, after = treatment_periods([classify_day(day) for day in days], day0=DEMO_FIRST_INJECTION)
    week24 = after[5]
    assert baseline.complete
    assert week24.complete
    assert len(after) >= 7
    fall = baseline.headache_days - week24.headache_days
    assert (2 * fall >= baseline.headache_days) is responder
    assert (10 * fall >= 3 * baseline.headache_days) is responder


def test_committed_demo_files_are_what_the_documented_command_writes(tmp_path: Path) -> None:
    """``python -m onaboard.synthetic demo OUT --today 2026-11-27`` rewrites demo/*.csv byte for byte."""
    assert main(["demo", str(tmp_path), "--today", TODAY.isoformat()]) == 0
    for name in ("diary.csv", "treated.csv"):
        assert (tmp_path / name).read_bytes() == (DEMO_DIR / name).read_bytes(), name


def test_demo_refuses_a_today_before_the_treated_course_ends(tmp_path: Path) -> None:
    """A --today earlier than the last treated day would make treated.csv invalid, so it stops with a message."""
    with pytest.raises(SystemExit, match="--today must be"):
        main(["demo", str(tmp_path), "--today", "2026-06-01"])
    assert not (tmp_path / "treated.csv").exists()
