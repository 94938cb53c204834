"""Builders of diary days for engine tests: a day is a headache-free day unless the test says otherwise."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from onaboard.clinical.diary import AcuteClass, DiaryDay, Intensity, PatientDiary

MIGRAINE_FEATURES: dict[str, Any] = {
    "intensity": Intensity.SEVERE,
    "unilateral": True,
    "pulsating": True,
    "nausea": True,
}
"""A day meeting ICHD-3 1.1 C and D: three pain characteristics and nausea."""


def make_day(day: date, hours: float | str = 0, *, patient_id: str = "P001", **fields: Any) -> DiaryDay:
    """One diary day; a headache day gets a mild intensity unless given."""
    headache_hours = Decimal(str(hours))
    if headache_hours > 0:
        fields.setdefault("intensity", Intensity.MILD)
    if "acute_medication" in fields:
        fields["acute_medication"] = frozenset(AcuteClass(c) for c in fields["acute_medication"])
    return DiaryDay(patient_id=patient_id, date=day, headache_hours=headache_hours, **fields)


def migraine_day(day: date, hours: float | str = 6, **fields: Any) -> DiaryDay:
    """A 1.1 C+D migraine day (an ICHD-3 1.3 B attack when it lasts 4 hours or more)."""
    return make_day(day, hours, **{**MIGRAINE_FEATURES, **fields})


def span(start: date, count: int) -> list[date]:
    """``count`` consecutive dates from ``start``."""
    return [start + timedelta(days=i) for i in range(count)]


def period_days(
    start: date,
    *,
    recorded: int = 28,
    headache: int = 0,
    migraine: int = 0,
    hours: float = 6,
    patient_id: str = "P001",
    **fields: Any,
) -> list[DiaryDay]:
    """The days of one 28-day period from ``start``: the first ``migraine`` days are migraine days, the next
    ``headache - migraine`` are plain (tension-type-like) headache days, then headache-free days, up to ``recorded``
    rows; the rest of the 28 days have no row. ``fields`` apply to every headache day."""
    assert migraine <= headache <= recorded <= 28
    days = []
    for i, day in enumerate(span(start, recorded)):
        if i < migraine:
            days.append(migraine_day(day, hours, patient_id=patient_id, **fields))
        elif i < headache:
            days.append(make_day(day, hours, patient_id=patient_id, **fields))
        else:
            days.append(make_day(day, 0, patient_id=patient_id))
    return days


def diary(days: Iterable[DiaryDay], patient_id: str = "P001") -> PatientDiary:
    """A patient's diary from days in any order."""
    return PatientDiary(patient_id, tuple(sorted(days, key=lambda d: d.date)))
