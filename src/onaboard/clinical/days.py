"""What each diary day counts as: headache day, 4-hour headache day, migraine day, migraine attack.

Definitions are the diary contract's (shared/spec/diary-csv.md, "Day definitions"), which put ICHD-3 1.3
(chronic migraine) and the BOTOX label's chronic-migraine indication into per-day rules.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum

from onaboard.clinical.diary import AcuteClass, DiaryDay, Intensity

__all__ = [
    "FOUR_HOUR_THRESHOLD_HOURS",
    "MIN_PAIN_CHARACTERISTICS",
    "DayClass",
    "MigraineRoute",
    "classify_day",
    "classify_days",
    "pain_characteristics",
]

FOUR_HOUR_THRESHOLD_HOURS = Decimal(4)
"""A headache lasting 4 hours a day or longer: the BOTOX label's chronic-migraine definition (Indications,
"≥15 days per month with headache lasting 4 hours a day or longer"), PREEMPT's headache-day endpoint, and
ICHD-3 1.1 B's minimum attack duration in adults (4-72 h)."""

MIN_PAIN_CHARACTERISTICS = 2
"""ICHD-3 1.1 C: at least two of unilateral, pulsating, moderate or severe, aggravated by routine activity."""

_MODERATE_OR_SEVERE = frozenset({Intensity.MODERATE, Intensity.SEVERE})
_MIGRAINE_SPECIFIC_ACUTE = frozenset({AcuteClass.TRIPTAN, AcuteClass.ERGOT})


class MigraineRoute(StrEnum):
    """The three ways a headache day counts as a migraine day under ICHD-3 1.3 C."""

    FEATURES = "features"
    """1.3 C1: criteria C and D of 1.1 (migraine without aura)."""
    AURA = "aura"
    """1.3 C2: criteria B and C of 1.2 (migraine with aura)."""
    BELIEVED_AND_RELIEVED = "believed_and_relieved"
    """1.3 C3: believed by the patient to be migraine at onset and relieved by a triptan or ergot derivative."""


@dataclass(frozen=True, slots=True)
class DayClass:
    """What one recorded day counts toward."""

    date: date
    headache: bool
    headache_4h: bool
    migraine_routes: frozenset[MigraineRoute]
    attack: bool
    acute_medication: frozenset[AcuteClass]

    @property
    def migraine(self) -> bool:
        """A migraine day (ICHD-3 1.3 C): a headache day meeting at least one route."""
        return bool(self.migraine_routes)


def pain_characteristics(day: DiaryDay) -> int:
    """How many of ICHD-3 1.1 C's four pain characteristics the day has: unilateral, pulsating, moderate or severe,
    aggravated by routine physical activity (``MIN_PAIN_CHARACTERISTICS`` of them are needed)."""
    return day.unilateral + day.pulsating + (day.intensity in _MODERATE_OR_SEVERE) + day.worse_with_activity


def _meets_1_1_c_and_d(day: DiaryDay) -> bool:
    """ICHD-3 1.1 C (≥ 2 of 4 pain characteristics) and D (nausea and/or vomiting, or photo- and phonophobia)."""
    accompanied = day.nausea or day.vomiting or (day.photophobia and day.phonophobia)
    return pain_characteristics(day) >= MIN_PAIN_CHARACTERISTICS and accompanied


def classify_day(day: DiaryDay) -> DayClass:
    """Classify one diary row (shared/spec/diary-csv.md, "Day definitions").

    - headache day: any headache (ICHD-3 1.3 A counts migraine-like and tension-type-like headache alike);
    - 4-hour headache day: ≥ 4 h (BOTOX label indication; PREEMPT);
    - migraine day (ICHD-3 1.3 C): a headache day meeting 1.1 C+D, or 1.2 B+C (aura), or believed migraine
      relieved by a triptan or ergot taken that day;
    - migraine attack (for ICHD-3 1.3 B): a headache day meeting 1.1 B-D (≥ 4 h and 1.1 C+D) or 1.2 B-C (aura);
      each such day counts once, consecutive days are not merged.

    Aura on a headache-free day is aura without headache (ICHD-3 1.2.1.2): neither a migraine day nor an attack.
    """
    headache = day.headache_hours > 0
    if not headache:
        return DayClass(day.date, False, False, frozenset(), False, day.acute_medication)
    routes: set[MigraineRoute] = set()
    features = _meets_1_1_c_and_d(day)
    if features:
        routes.add(MigraineRoute.FEATURES)
    if day.aura:
        routes.add(MigraineRoute.AURA)
    if day.believed_migraine and day.acute_relief and not _MIGRAINE_SPECIFIC_ACUTE.isdisjoint(day.acute_medication):
        routes.add(MigraineRoute.BELIEVED_AND_RELIEVED)
    four_hours = day.headache_hours >= FOUR_HOUR_THRESHOLD_HOURS
    return DayClass(
        date=day.date,
        headache=True,
        headache_4h=four_hours,
        migraine_routes=frozenset(routes),
        attack=(four_hours and features) or day.aura,
        acute_medication=day.acute_medication,
    )


def classify_days(days: tuple[DiaryDay, ...] | list[DiaryDay]) -> tuple[DayClass, ...]:
    """Classify each day, keeping their order."""
    return tuple(classify_day(day) for day in days)
