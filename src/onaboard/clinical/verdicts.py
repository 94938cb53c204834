"""Verdicts with reasons: chronic migraine (ICHD-3 1.3), medication overuse (ICHD-3 8.2), BOTOX label criteria.

Each verdict is computed from 28-day period summaries (periods.py) and says, in every reason, the rule it
applies and the numbers it saw, e.g. ``ICHD-3 1.3 C: period 2 (2026-01-05..2026-02-01) has 6 migraine days
(< 8)``. onaboard is decision support: the clinician decides; criterion D of 1.3 ("not better accounted for by
another ICHD-3 diagnosis") in particular stays the clinician's.

The decision order follows shared/spec/cli.md (``assess`` rules).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Generic, TypeVar

from onaboard.clinical.diary import AcuteClass
from onaboard.clinical.periods import MIN_RECORDED_DAYS, OVERUSE_CLASSES, PERIOD_DAYS, PeriodSummary
from onaboard.clinical.safety import ADULT_AGE_YEARS

__all__ = [
    "CM_MIN_ATTACKS",
    "CM_MIN_HEADACHE_DAYS",
    "CM_MIN_MIGRAINE_DAYS",
    "CONDITION_PERIODS",
    "LABEL_MIN_HEADACHE_DAYS_4H",
    "MOH_MIN_HEADACHE_DAYS",
    "MULTIPLE",
    "OVERUSE_DAYS",
    "OVERUSE_MULTIPLE_DAYS",
    "ChronicMigraine",
    "LabelCriteria",
    "MedicationOveruse",
    "Verdict",
    "chronic_migraine_verdict",
    "label_criteria_verdict",
    "medication_overuse_verdict",
    "period_overuse",
    "unrecorded_days",
    "unrecorded_doubt",
]

CM_MIN_HEADACHE_DAYS = 15
"""ICHD-3 1.3 A: headache on at least 15 days a month (for more than 3 months)."""

CM_MIN_MIGRAINE_DAYS = 8
"""ICHD-3 1.3 C: on at least 8 days a month the headache has migraine features (for more than 3 months)."""

CM_MIN_ATTACKS = 5
"""ICHD-3 1.3 B: at least five attacks fulfilling 1.1 B-D and/or 1.2 B-C."""

CONDITION_PERIODS = 3
"""ICHD-3 1.3 and 8.2's "for more than 3 months" read as three complete 28-day periods (shared/spec/cli.md); a
caller may judge another number of periods, and the reasons then say what it asked for."""

PERIODS_NEEDED = "{rule}: {condition} for > 3 months needs {periods} complete periods"
"""Why the verdict waits, when the periods judged are the three that "> 3 months" is read as."""
PERIODS_NEEDED_OTHER = (
    "{rule}: {condition} for > 3 months is read as {periods} complete periods; this assessment judges {asked} and "
    "needs {each} complete"
)
"""Why the verdict waits, when the caller judges another number of periods than ``CONDITION_PERIODS``."""
PERIODS_FEWER = (
    "{rule}: {condition} for > 3 months is read as {periods} complete periods; this assessment judges only {asked}, "
    "so the duration is not established by it"
)
"""Beside a verdict that holds (chronic migraine yes, overuse suspected) on fewer periods than ``CONDITION_PERIODS``
(``assess(periods=1)``): the counts hold for the periods judged, the "> 3 months" of the criterion is not shown."""

OVERUSE_DAYS: dict[AcuteClass, int] = {
    AcuteClass.ERGOT: 10,  # ICHD-3 8.2.1 ergotamine-overuse headache: >= 10 days/month
    AcuteClass.TRIPTAN: 10,  # ICHD-3 8.2.2 triptan-overuse headache: >= 10 days/month
    AcuteClass.SIMPLE_ANALGESIC: 15,  # ICHD-3 8.2.3 non-opioid (simple) analgesic: >= 15 days/month
    AcuteClass.OPIOID: 10,  # ICHD-3 8.2.4 opioid-overuse headache: >= 10 days/month
    AcuteClass.COMBINATION_ANALGESIC: 10,  # ICHD-3 8.2.5 combination-analgesic-overuse headache: >= 10 days/month
}
"""Per-class overuse thresholds in days per month (ICHD-3 8.2.1-8.2.5)."""

OVERUSE_MULTIPLE_DAYS = 10
"""ICHD-3 8.2.6: two or more classes, none overused alone, on a total of at least 10 days a month."""

MOH_MIN_HEADACHE_DAYS = 15
"""ICHD-3 8.2 A: headache on at least 15 days a month in a patient with a pre-existing headache disorder."""

MOH_FREQUENCY_MET = "ICHD-3 8.2 A: each of the {n} periods has >= {minimum} headache days ({counts})"
MOH_FREQUENCY_NOT_MET = (
    "ICHD-3 8.2 A: not every period has >= {minimum} headache days ({counts}): the medicines are overused, but "
    "medication-overuse headache needs headache on {minimum} or more days a month"
)
MOH_FREQUENCY_MET_ONE = "ICHD-3 8.2 A: {period} has {count} headache days (>= {minimum})"
MOH_FREQUENCY_NOT_MET_ONE = (
    "ICHD-3 8.2 A: {period} has {count} headache days (< {minimum}): the medicines are overused, but "
    "medication-overuse headache needs headache on {minimum} or more days a month"
)
"""8.2 A beside a suspected overuse judged over a single period (``MOH_FREQUENCY_MET`` / ``_NOT_MET`` otherwise)."""

OVERUSE_SECTION: dict[AcuteClass, str] = {
    AcuteClass.ERGOT: "8.2.1",
    AcuteClass.TRIPTAN: "8.2.2",
    AcuteClass.SIMPLE_ANALGESIC: "8.2.3",
    AcuteClass.OPIOID: "8.2.4",
    AcuteClass.COMBINATION_ANALGESIC: "8.2.5",
}

MULTIPLE = "multiple"
"""The class name a period gets when it meets ICHD-3 8.2.6 (several classes, none overused alone)."""

LABEL_MIN_HEADACHE_DAYS_4H = 15
"""BOTOX US label, Indications (1.x Chronic Migraine): adults with >= 15 days per month with headache lasting
4 hours a day or longer."""

LABEL_DAYS_4H = "days with headache lasting >= 4 hours"
"""What the label's count is of, as its reasons word it."""


class ChronicMigraine(StrEnum):
    YES = "yes"
    NO = "no"
    INSUFFICIENT_DATA = "insufficient_data"


class MedicationOveruse(StrEnum):
    SUSPECTED = "suspected"
    NOT_SUSPECTED = "not_suspected"
    INSUFFICIENT_DATA = "insufficient_data"


class LabelCriteria(StrEnum):
    MET = "met"
    NOT_MET = "not_met"
    INSUFFICIENT_DATA = "insufficient_data"


V = TypeVar("V", ChronicMigraine, MedicationOveruse, LabelCriteria)


@dataclass(frozen=True, slots=True)
class Verdict(Generic[V]):
    """A verdict, the reasons for it (each naming its rule and numbers) and, for overuse, the classes."""

    verdict: V
    reasons: tuple[str, ...]
    classes: tuple[str, ...] = ()


def _counts(periods: Sequence[PeriodSummary], attribute: str) -> str:
    return ", ".join(str(getattr(period, attribute)) for period in periods)


def _each_has(periods: Sequence[PeriodSummary], attribute: str, minimum: int, what: str) -> str:
    """That every period reaches ``minimum``: "each of the 3 periods has >= 15 headache days (20, 18, 16)", or for a
    single period "period 1 (2026-02-02..2026-03-01) has 20 headache days (>= 15)" (not "each of the 1 periods")."""
    if len(periods) == 1:
        (period,) = periods
        return f"{period.label} has {getattr(period, attribute)} {what} (>= {minimum})"
    return f"each of the {len(periods)} periods has >= {minimum} {what} ({_counts(periods, attribute)})"


def _periods_needed(rule: str, condition: str, periods: Sequence[PeriodSummary]) -> str:
    """The reason a verdict waits for complete periods: "> 3 months" is three periods; another number asked for
    is named as the caller's choice, not as what "> 3 months" means."""
    if len(periods) == CONDITION_PERIODS:
        return PERIODS_NEEDED.format(rule=rule, condition=condition, periods=CONDITION_PERIODS)
    asked = len(periods)
    return PERIODS_NEEDED_OTHER.format(
        rule=rule,
        condition=condition,
        periods=CONDITION_PERIODS,
        asked=f"{asked} period" if asked == 1 else f"{asked} periods",
        each="it" if asked == 1 else "each",
    )


def _fewer_periods(rule: str, condition: str, periods: Sequence[PeriodSummary]) -> tuple[str, ...]:
    """``PERIODS_FEWER`` when fewer periods than ``CONDITION_PERIODS`` are judged, else nothing."""
    if len(periods) >= CONDITION_PERIODS:
        return ()
    asked = f"{len(periods)} period" if len(periods) == 1 else f"{len(periods)} periods"
    return (PERIODS_FEWER.format(rule=rule, condition=condition, periods=CONDITION_PERIODS, asked=asked),)


def unrecorded_days(period: PeriodSummary) -> int:
    """The days of a period without a diary row: not recorded, never headache-free (shared/spec/diary-csv.md), so
    any count from the period is a floor."""
    return max(0, PERIOD_DAYS - period.days_recorded)


def unrecorded_doubt(period: PeriodSummary, what: str, target: str, *, whose: str = "its") -> str:
    """The note appended to a reason whose verdict could be undone by the period's unrecorded days, e.g. "; its 8
    unrecorded days could hold enough headache days for 15 or more": the verdict reads the days recorded, and the
    clinician weighs how much rests on the days that were not. ``whose`` names the period when "its" would not."""
    return f"; {whose} {unrecorded_days(period)} unrecorded days could hold enough {what} for {target}"


def _below(period: PeriodSummary, count: int, minimum: int, what: str) -> str:
    """A count under its threshold ("12 headache days (< 15)"), with ``unrecorded_doubt`` when the period's
    unrecorded days could bring it to ``minimum``."""
    doubt = unrecorded_doubt(period, what, f"{minimum} or more") if count + unrecorded_days(period) >= minimum else ""
    return f"{count} {what} (< {minimum}){doubt}"


def _unusable(periods: Sequence[PeriodSummary], rule: str) -> list[str]:
    """A reason for each period that is missing or incomplete, naming ``rule`` (the criterion that needs it), as
    every reason names its rule (shared/spec/cli.md)."""
    reasons = []
    for period in periods:
        if period.missing:
            reasons.append(f"{rule}: {period.label} ends before the first diary row: missing")
        elif not period.complete:
            reasons.append(
                f"{rule}: {period.label} has {period.days_recorded} of {PERIOD_DAYS} days recorded "
                f"(< {MIN_RECORDED_DAYS}): incomplete"
            )
    return reasons


def chronic_migraine_verdict(periods: Sequence[PeriodSummary], *, attacks: int) -> Verdict[ChronicMigraine]:
    """ICHD-3 1.3 Chronic migraine over the given periods (">3 months" read as N complete 28-day periods).

    ``no`` if any complete period has < 15 headache days (1.3 A) or < 8 migraine days (1.3 C); otherwise
    ``insufficient_data`` if any period is incomplete or missing; otherwise ``no`` if fewer than 5 migraine
    attacks were recorded (1.3 B); otherwise ``yes``. Criterion D stays the clinician's.
    """
    failures = []
    for period in periods:
        if not period.complete:
            continue
        if period.headache_days < CM_MIN_HEADACHE_DAYS:
            failures.append(
                f"ICHD-3 1.3 A: {period.label} has "
                f"{_below(period, period.headache_days, CM_MIN_HEADACHE_DAYS, 'headache days')}"
            )
        if period.migraine_days < CM_MIN_MIGRAINE_DAYS:
            failures.append(
                f"ICHD-3 1.3 C: {period.label} has "
                f"{_below(period, period.migraine_days, CM_MIN_MIGRAINE_DAYS, 'migraine days')}"
            )
    if failures:
        return Verdict(ChronicMigraine.NO, tuple(failures))
    unusable = _unusable(periods, "ICHD-3 1.3 A")
    if unusable:
        return Verdict(
            ChronicMigraine.INSUFFICIENT_DATA,
            (_periods_needed("ICHD-3 1.3 A", "headache", periods), *unusable),
        )
    if attacks < CM_MIN_ATTACKS:
        return Verdict(
            ChronicMigraine.NO,
            (f"ICHD-3 1.3 B: {attacks} migraine attacks (1.1 B-D or 1.2 B-C) recorded (< {CM_MIN_ATTACKS})",),
        )
    return Verdict(
        ChronicMigraine.YES,
        (
            f"ICHD-3 1.3 A: {_each_has(periods, 'headache_days', CM_MIN_HEADACHE_DAYS, 'headache days')}",
            f"ICHD-3 1.3 C: {_each_has(periods, 'migraine_days', CM_MIN_MIGRAINE_DAYS, 'migraine days')}",
            f"ICHD-3 1.3 B: {attacks} migraine attacks recorded (>= {CM_MIN_ATTACKS})",
            (
                "ICHD-3 1.3 D: whether another ICHD-3 diagnosis accounts better for the headache is the "
                "clinician's judgement"
            ),
            *_fewer_periods("ICHD-3 1.3 A", "headache", periods),
        ),
    )


def period_overuse(period: PeriodSummary) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The classes by which one period meets ICHD-3 8.2 (``multiple`` for 8.2.6), and the reasons.

    A class meets it at its own threshold (8.2.1-8.2.5). Otherwise 8.2.6 holds when two or more of the five
    counted classes were each taken on at least one day, on >= 10 distinct days in all. Gepants, ditans and
    other classes are not counted.
    """
    acute = period.acute_medication_days
    classes = []
    reasons = []
    for acute_class in OVERUSE_CLASSES:
        days, threshold = acute.of(acute_class), OVERUSE_DAYS[acute_class]
        if days >= threshold:
            classes.append(acute_class.value)
            reasons.append(
                f"ICHD-3 {OVERUSE_SECTION[acute_class]}: {period.label} has {acute_class.value} on "
                f"{days} days (>= {threshold})"
            )
    if classes:
        return tuple(classes), tuple(reasons)
    used = [cls for cls in OVERUSE_CLASSES if acute.of(cls) > 0]
    if len(used) >= 2 and period.overuse_class_days >= OVERUSE_MULTIPLE_DAYS:
        names = ", ".join(f"{cls.value} {acute.of(cls)}" for cls in used)
        return (MULTIPLE,), (
            (
                f"ICHD-3 8.2.6: {period.label} has {len(used)} classes ({names}) on {period.overuse_class_days} "
                f"days in all (>= {OVERUSE_MULTIPLE_DAYS}), none at its own threshold"
            ),
        )
    return (), ()


def _no_overuse_reason(period: PeriodSummary) -> str:
    """Why a period meets no overuse threshold; when its unrecorded days could bring a class to its own threshold
    (8.2.1-8.2.5) or the counted classes to 8.2.6 (two or more classes, one unrecorded day enough to add a second,
    on >= 10 distinct days in all), the reason names those criteria with ``unrecorded_doubt``."""
    acute = period.acute_medication_days
    counts = ", ".join(f"{cls.value} {acute.of(cls)}" for cls in OVERUSE_CLASSES)
    reason = (
        f"ICHD-3 8.2: {period.label} meets no overuse threshold ({counts} days; "
        f"{period.overuse_class_days} with any counted class)"
    )
    unrecorded = unrecorded_days(period)
    reachable = [
        f"{OVERUSE_SECTION[cls]} ({cls.value} on >= {OVERUSE_DAYS[cls]} days)"
        for cls in OVERUSE_CLASSES
        if acute.of(cls) + unrecorded >= OVERUSE_DAYS[cls]
    ]
    used = sum(1 for cls in OVERUSE_CLASSES if acute.of(cls) > 0)
    if period.overuse_class_days + unrecorded >= OVERUSE_MULTIPLE_DAYS and (used >= 2 or unrecorded > 0):
        reachable.append(f"8.2.6 (2 or more classes on >= {OVERUSE_MULTIPLE_DAYS} days in all)")
    if reachable:
        reason += unrecorded_doubt(period, "medication days", " or ".join(reachable))
    return reason


def medication_overuse_verdict(periods: Sequence[PeriodSummary]) -> Verdict[MedicationOveruse]:
    """ICHD-3 8.2 Medication-overuse headache, criterion B (regular overuse for > 3 months) over the periods.

    ``not_suspected`` if any complete period does not meet it (the reasons name those periods first, then any
    period that does meet a threshold); otherwise ``insufficient_data`` if any period is
    incomplete or missing; otherwise ``suspected``, with the union of the classes by which periods met it. The
    verdict screens criterion B only; a suspected one states criterion A (headache on >= 15 days a month) with the
    periods' headache days, and leaves C (not better accounted for) to the clinician. A patient meeting both 1.3
    and 8.2 receives both diagnoses (ICHD-3 1.3 notes).
    """
    met: list[tuple[tuple[str, ...], tuple[str, ...]]] = [period_overuse(period) for period in periods]
    not_met = [
        _no_overuse_reason(period)
        for period, (classes, _) in zip(periods, met, strict=True)
        if period.complete and not classes
    ]
    if not_met:
        # A period that did meet a threshold is named too: criterion B fails for want of *regular* overuse, and
        # the month of overuse is still the clinician's to see.
        overused = tuple(reason for _, period_reasons in met for reason in period_reasons)
        return Verdict(MedicationOveruse.NOT_SUSPECTED, (*not_met, *overused))
    unusable = _unusable(periods, "ICHD-3 8.2 B")
    if unusable:
        return Verdict(
            MedicationOveruse.INSUFFICIENT_DATA,
            (_periods_needed("ICHD-3 8.2 B", "overuse", periods), *unusable),
        )
    order = [cls.value for cls in OVERUSE_CLASSES] + [MULTIPLE]
    union = {name for classes, _ in met for name in classes}
    reasons = tuple(reason for _, period_reasons in met for reason in period_reasons)
    return Verdict(
        MedicationOveruse.SUSPECTED,
        (
            *reasons,
            _headache_frequency_reason(periods),
            "ICHD-3 8.2 C: whether another diagnosis accounts better is the clinician's judgement",
            *_fewer_periods("ICHD-3 8.2 B", "overuse", periods),
        ),
        classes=tuple(name for name in order if name in union),
    )


def _headache_frequency_reason(periods: Sequence[PeriodSummary]) -> str:
    """Criterion 8.2 A beside a suspected overuse: the verdict screens criterion B (the medicines), and a patient
    with headache on fewer than 15 days a month overuses them without medication-overuse headache."""
    counts = _counts(periods, "headache_days")
    met = all(period.headache_days >= MOH_MIN_HEADACHE_DAYS for period in periods)
    if len(periods) == 1:
        (period,) = periods
        template = MOH_FREQUENCY_MET_ONE if met else MOH_FREQUENCY_NOT_MET_ONE
        return template.format(period=period.label, count=period.headache_days, minimum=MOH_MIN_HEADACHE_DAYS)
    template = MOH_FREQUENCY_MET if met else MOH_FREQUENCY_NOT_MET
    return template.format(n=len(periods), minimum=MOH_MIN_HEADACHE_DAYS, counts=counts)


LABEL_CHRONIC_MIGRAINE_MET = (
    "BOTOX label (Indications): chronic migraine, judged by ICHD-3 1.3 (onaboard's reading: the label defines no "
    "criteria of its own)"
)


def label_criteria_verdict(
    periods: Sequence[PeriodSummary],
    *,
    chronic_migraine: Verdict[ChronicMigraine],
    age_years: int | None,
    as_of: date,
) -> Verdict[LabelCriteria]:
    """BOTOX US label, chronic-migraine indication: adults with chronic migraine, >= 15 days a month with
    headache lasting 4 hours a day or longer. The label names chronic migraine without criteria of its own; onaboard
    judges it by ICHD-3 1.3 (``chronic_migraine``), as the command's contract (spec/cli.md, label_criteria) asks, and
    the reasons say that this is onaboard's reading, not the label's text.

    ``not_met`` when chronic migraine is ``no``, a complete period has < 15 four-hour headache days, or a known
    age is under 18; otherwise ``insufficient_data`` when chronic migraine is ``insufficient_data`` or no birth
    date is known; otherwise ``met``.
    """
    failures = []
    if chronic_migraine.verdict is ChronicMigraine.NO:
        failures.append(
            "BOTOX label (Indications): chronic migraine is not established (ICHD-3 1.3 verdict: no; the label defines "
            "no criteria of its own, so onaboard judges chronic migraine by ICHD-3 1.3)"
        )
    failures.extend(
        f"BOTOX label (Indications): {period.label} has "
        f"{_below(period, period.headache_days_4h, LABEL_MIN_HEADACHE_DAYS_4H, LABEL_DAYS_4H)}"
        for period in periods
        if period.complete and period.headache_days_4h < LABEL_MIN_HEADACHE_DAYS_4H
    )
    if age_years is not None and age_years < ADULT_AGE_YEARS:
        failures.append(
            f"BOTOX label 8.4: age {age_years} on {as_of.isoformat()} (< {ADULT_AGE_YEARS}); "
            "safety and effectiveness in chronic migraine are established in adults only"
        )
    if failures:
        return Verdict(LabelCriteria.NOT_MET, tuple(failures))
    missing = []
    if chronic_migraine.verdict is ChronicMigraine.INSUFFICIENT_DATA:
        missing.append("BOTOX label (Indications): chronic migraine cannot be judged yet (insufficient data)")
    if age_years is None:
        missing.append(f"BOTOX label 8.4: no birth date known; the indication is for adults (>= {ADULT_AGE_YEARS})")
    if missing:
        return Verdict(LabelCriteria.INSUFFICIENT_DATA, tuple(missing))
    return Verdict(
        LabelCriteria.MET,
        (
            f"BOTOX label 8.4: adult (age {age_years} on {as_of.isoformat()}, >= {ADULT_AGE_YEARS})",
            LABEL_CHRONIC_MIGRAINE_MET,
            "BOTOX label (Indications): "
            + _each_has(periods, "headache_days_4h", LABEL_MIN_HEADACHE_DAYS_4H, LABEL_DAYS_4H),
        ),
    )
