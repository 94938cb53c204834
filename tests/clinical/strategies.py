"""Hypothesis strategies for diaries and dates, shared by the engine's property tests."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from hypothesis import strategies as st

from onaboard.clinical.diary import AcuteClass, DiaryDay, Intensity

TODAY = date(2026, 11, 28)

dates = st.dates(min_value=date(2015, 1, 1), max_value=TODAY)

headache_hours = st.one_of(
    st.just(Decimal(0)),
    st.integers(min_value=1, max_value=240).map(lambda tenths: Decimal(tenths) / 10),
)

acute_classes = st.frozensets(st.sampled_from(list(AcuteClass)), max_size=3)


@st.composite
def diary_days(draw: st.DrawFn, day: date | None = None, patient_id: str = "P001") -> DiaryDay:
    """Any valid diary day (a 0-hour day carries no pain features, as the contract demands)."""
    hours = draw(headache_hours)
    when = day if day is not None else draw(dates)
    headache = hours > 0

    def flag() -> bool:
        return draw(st.booleans()) if headache else False

    return DiaryDay(
        patient_id=patient_id,
        date=when,
        headache_hours=hours,
        intensity=draw(st.sampled_from(list(Intensity))) if headache else None,
        unilateral=flag(),
        pulsating=flag(),
        worse_with_activity=flag(),
        nausea=flag(),
        vomiting=flag(),
        photophobia=flag(),
        phonophobia=flag(),
        aura=draw(st.booleans()),
        acute_medication=draw(acute_classes),
        acute_relief=draw(st.booleans()),
        believed_migraine=draw(st.booleans()),
        notes=draw(st.text(max_size=20).filter(lambda s: s == s.strip() and "\x00" not in s and "\r" not in s)),
    )


@st.composite
def patient_days(draw: st.DrawFn, patient_id: str = "P001", max_days: int = 120) -> list[DiaryDay]:
    """A run of days with gaps, one row per date, in date order."""
    start = draw(st.dates(min_value=date(2020, 1, 1), max_value=TODAY - timedelta(days=max_days)))
    length = draw(st.integers(min_value=0, max_value=max_days))
    kept = draw(st.lists(st.booleans(), min_size=length, max_size=length))
    return [
        draw(diary_days(day=start + timedelta(days=i), patient_id=patient_id)) for i, keep in enumerate(kept) if keep
    ]
