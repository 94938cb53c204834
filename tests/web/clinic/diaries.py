"""Diaries for the web tests, built from ``tests.builders`` rows and read by the engine's own row rules.

``TODAY`` is a fixed day; every diary here ends on or before it, so no test depends on the clock.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, timedelta

from onaboard.clinical import DiaryDay, PatientDiary, diary_day_from_fields
from onaboard.web.clinic.demo import diary_entry_of
from onaboard.web.diary.models import DiaryEntry
from onaboard.web.patients.models import Patient
from tests.builders import PERIOD_DAYS, period_rows, periods_back, treated_rows

TODAY = date(2026, 6, 30)
CHRONIC: Mapping[str, int] = {"migraine": 18}
"""A period meeting ICHD-3 1.3 and the label: 18 six-hour migraine days (attacks) of 28 recorded."""
EPISODIC: Mapping[str, int] = {"migraine": 4}


def engine_days(rows: Iterable[Mapping[str, str]], *, today: date = TODAY) -> tuple[DiaryDay, ...]:
    """The rows up to ``today`` as the engine's days (rows after it are dropped, as an unfinished period would be)."""
    result = []
    for row in rows:
        if date.fromisoformat(row["date"]) > today:
            continue
        day = diary_day_from_fields(row, today=today)
        assert isinstance(day, DiaryDay), day
        result.append(day)
    return tuple(sorted(result, key=lambda d: d.date))


def diary_of(rows: Iterable[Mapping[str, str]], *, today: date = TODAY) -> PatientDiary:
    return PatientDiary("P", engine_days(rows, today=today))


def chronic_rows(*, periods: int = 3, today: date = TODAY) -> list[dict[str, str]]:
    """``periods`` complete chronic periods ending on ``today``."""
    return periods_back("P", today, *([CHRONIC] * periods))


def episodic_rows(*, today: date = TODAY) -> list[dict[str, str]]:
    return periods_back("P", today, EPISODIC, EPISODIC, EPISODIC)


def course_rows(day0: date, baseline: int, *periods: int) -> list[dict[str, str]]:
    """A treated course: ``baseline`` headache days in the 28 days before ``day0``, then each period's count. The
    baseline's headache days are migraine days (``MIGRAINE``: six hours, ICHD-3 1.1 features), as a patient
    starting treatment has: with the two periods before it missing, the label criteria are not enough data before
    the first session (a warning), not "not met" (a check the session screen asks an override reason for)."""
    rows = treated_rows("P", day0, baseline, *periods)
    baseline_rows = period_rows("P", day0 - timedelta(days=PERIOD_DAYS), migraine=baseline)
    return baseline_rows + rows[PERIOD_DAYS:]


def store(patient: Patient, rows: Iterable[Mapping[str, str]], *, today: date = TODAY) -> None:
    """Save the rows as the patient's diary."""
    DiaryEntry.objects.bulk_create(diary_entry_of(patient, day) for day in engine_days(rows, today=today))


def days_before(n: int, *, today: date = TODAY) -> date:
    return today - timedelta(days=n)
