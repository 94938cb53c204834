"""Seeded synthetic headache diaries: made-up patients for demos, tests and benchmarks, never real people.

Every value comes from a ``random.Random`` seeded by the caller (one generator per patient, seeded from the
caller's seed and the patient id), there is no global random state and no clock read: the caller passes the
dates. The same arguments always give the same diary, on every machine and Python version that keeps
``random.Random``'s documented seeding of strings.

Profiles a headache clinic meets (rates are per *recorded* day, so a fully recorded 28-day period holds about
28 times the rate):

- ``chronic``: 20 headache days in 28 (PREEMPT's pooled baseline was 19.9 headache days per 28 days,
  Dodick et al. Headache 2010;50:921-936, shared/domain/clinical-facts.md §3.2); 70 % of them migraine-like
  (ICHD-3 1.1 C and D met), so about 14 migraine days (ICHD-3 1.3 C asks for at least 8); 90 % last 4 hours
  or more (the BOTOX label's "headache lasting 4 hours a day or longer"). Acute medication on about 7 days in
  28: below every ICHD-3 8.2 threshold.
- ``chronic_overuse``: the same headaches, and the patient takes one class on 90 % of headache days (about
  18 days in 28): a triptan (ICHD-3 8.2.2 counts 10 or more days) or a simple analgesic (8.2.3 counts 15 or
  more days); the class is drawn per patient. PREEMPT's pooled baseline had 65 % of patients overusing.
- ``episodic``: 6 headache days in 28, mostly migraine-like.

A treated course is a chronic patient given ``first_injection``: from that day the chance of a headache day
falls gradually, ``1 - exp(-t / 42 days)`` of the full effect, so the effect is mostly there by the second
cycle (week 12) and nearly complete by week 24. A responder ends 65 % below baseline (about 7 headache days in
28 instead of 20, a 50 % responder at week 24); a non-responder 10 % below (under NICE TA260's 30 %
continuation threshold). For scale: PREEMPT's pooled change at week 24 was -8.4 headache days from 19.9
(-42 %), and 44.8-47.1 % of patients halved their headache days (clinical-facts.md §3.2).

Recording gaps: each day has a row with probability ``completeness``; a day without a row is *not recorded*
(diary-csv.md), never a headache-free day.

``python -m onaboard.synthetic demo OUTDIR --today YYYY-MM-DD`` writes the demo files (see demo/README.md).
"""

from __future__ import annotations

import argparse
import math
import random
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from types import MappingProxyType
from typing import TypeVar

from onaboard.clinical.diary import AcuteClass, DiaryDay, Intensity, write_diary

__all__ = [
    "DEMO_FIRST_INJECTION",
    "DEMO_SECOND_INJECTION",
    "DEMO_SEED",
    "MIX",
    "NON_RESPONDER_REDUCTION",
    "PROFILE_RATES",
    "RESPONDER_REDUCTION",
    "RESPONDER_SHARE",
    "TREATED_SHARE",
    "Profile",
    "ProfileRates",
    "demo_diary_days",
    "demo_treated_days",
    "main",
    "synthetic_diary",
    "synthetic_patient_days",
]

_T = TypeVar("_T")


class Profile(StrEnum):
    """The kinds of patient the generator makes. A treated course is ``chronic`` plus a first injection."""

    CHRONIC = "chronic"
    CHRONIC_OVERUSE = "chronic_overuse"
    EPISODIC = "episodic"


@dataclass(frozen=True, slots=True)
class ProfileRates:
    """Per-day probabilities of one profile (see the module docstring for the figures they follow)."""

    headache_day: float
    """Chance that a recorded day has a headache."""
    migraine_like: float
    """Share of headache days with migraine features (ICHD-3 1.1 C and D)."""
    four_hours_migraine: float
    """Share of migraine-like days lasting 4 hours or more."""
    four_hours_other: float
    """Share of other (tension-type-like) headache days lasting 4 hours or more."""
    triptan: float
    """Chance of a triptan on a migraine-like day (patients without overuse)."""
    simple_analgesic: float
    """Chance of a simple analgesic on a headache day without a triptan (patients without overuse)."""
    overused_class: float
    """Chance of the overused class on a headache day; 0 for profiles without overuse."""
    gepant: float = 0.0
    """Share of the non-triptan treated days on which a gepant is taken instead (ICHD-3 8.2 does not count it)."""


PROFILE_RATES = MappingProxyType(
    {
        Profile.CHRONIC: ProfileRates(
            headache_day=20 / 28,
            migraine_like=0.7,
            four_hours_migraine=0.95,
            four_hours_other=0.8,
            triptan=0.25,
            simple_analgesic=0.2,
            overused_class=0.0,
        ),
        Profile.CHRONIC_OVERUSE: ProfileRates(
            headache_day=20 / 28,
            migraine_like=0.7,
            four_hours_migraine=0.95,
            four_hours_other=0.8,
            triptan=0.25,
            simple_analgesic=0.2,
            overused_class=0.9,
        ),
        Profile.EPISODIC: ProfileRates(
            headache_day=6 / 28,
            migraine_like=0.7,
            four_hours_migraine=0.85,
            four_hours_other=0.5,
            triptan=0.6,
            simple_analgesic=0.4,
            overused_class=0.0,
            gepant=0.1,
        ),
    }
)
"""The rates of each profile, by profile."""

RESPONDER_REDUCTION = 0.65
"""Fraction of headache days a responder loses once the effect is complete (about 20 -> 7 in 28 days)."""
NON_RESPONDER_REDUCTION = 0.10
"""Fraction a non-responder loses: under NICE TA260's 30 % continuation threshold."""
EFFECT_TIME_CONSTANT_DAYS = 42.0
"""Days for the effect to reach 63 % of its full size (PREEMPT: separation from week 1-4, full by week 24)."""
AURA_PRONE_SHARE = 0.3
"""Share of patients who sometimes have aura; they have it on 30 % of their migraine-like days."""
AURA_ON_MIGRAINE_DAY = 0.3

DEMO_FIRST_INJECTION = date(2026, 3, 2)
DEMO_SECOND_INJECTION = date(2026, 5, 25)
"""The demo treated course: two PREEMPT cycles 12 weeks apart (``make run`` passes both to ``outcomes``)."""
DEMO_BASELINE_DAYS = 28
DEMO_TREATED_DAYS_AFTER = 196
"""Days after the first injection in demo/treated.csv: through period 7 (week 24 is period 6, days 140-167)."""
DEMO_DIARY_DAYS = 140
"""Length of each diary in demo/diary.csv: five 28-day periods ending on today."""

_LONG_MIGRAINE_HOURS = tuple(Decimal(h) for h in ("4", "5", "6", "8", "10", "12", "16", "24"))
_SHORT_MIGRAINE_HOURS = tuple(Decimal(h) for h in ("2", "3", "3.5"))
_LONG_OTHER_HOURS = tuple(Decimal(h) for h in ("4", "4.5", "5", "6", "8"))
_SHORT_OTHER_HOURS = tuple(Decimal(h) for h in ("0.5", "1", "2", "3"))
_NO_HEADACHE = Decimal(0)
_NO_MEDICATION: frozenset[AcuteClass] = frozenset()
_TRIPTAN = frozenset({AcuteClass.TRIPTAN})
_SIMPLE = frozenset({AcuteClass.SIMPLE_ANALGESIC})
_GEPANT = frozenset({AcuteClass.GEPANT})
_TRIPTAN_AND_SIMPLE = frozenset({AcuteClass.TRIPTAN, AcuteClass.SIMPLE_ANALGESIC})


@dataclass(frozen=True, slots=True)
class _Traits:
    """What stays the same for one patient across the diary."""

    rates: ProfileRates
    aura_prone: bool
    overused: frozenset[AcuteClass]


def _patient_rng(patient_id: str, seed: int) -> random.Random:
    """One generator per patient: adding a patient never changes another's diary."""
    return random.Random(f"onaboard.synthetic:{seed}:{patient_id}")  # noqa: S311 - simulation, not secrets


def _pick(rng: random.Random, options: Sequence[_T]) -> _T:
    """One of ``options``, uniformly (one ``random()`` draw: cheaper than ``Random.choice``)."""
    return options[int(rng.random() * len(options))]


def _traits(rng: random.Random, profile: Profile) -> _Traits:
    rates = PROFILE_RATES[profile]
    aura_prone = rng.random() < AURA_PRONE_SHARE
    overused = _NO_MEDICATION
    if rates.overused_class > 0:
        overused = _TRIPTAN if rng.random() < 0.5 else _SIMPLE
    return _Traits(rates=rates, aura_prone=aura_prone, overused=overused)


def _effect(day_number: int, reduction: float) -> float:
    """Multiplier of the headache-day chance ``day_number`` days after the first injection (< 0: none)."""
    if day_number < 0:
        return 1.0
    return 1.0 - reduction * (1.0 - math.exp(-day_number / EFFECT_TIME_CONSTANT_DAYS))


def _medication(rng: random.Random, traits: _Traits, *, migraine_like: bool) -> frozenset[AcuteClass]:
    """Acute medication classes of one headache day."""
    rates = traits.rates
    if traits.overused and rng.random() < rates.overused_class:
        if migraine_like and traits.overused is _SIMPLE and rng.random() < rates.triptan:
            return _TRIPTAN_AND_SIMPLE
        return traits.overused
    if migraine_like and rng.random() < rates.triptan:
        return _TRIPTAN
    if rng.random() < rates.simple_analgesic:
        if rates.gepant and rng.random() < rates.gepant:
            return _GEPANT
        return _SIMPLE
    return _NO_MEDICATION


def _migraine_like_day(rng: random.Random, traits: _Traits, patient_id: str, day: date) -> DiaryDay:
    """A headache day meeting ICHD-3 1.1 C (two or more of four) and D (one or more of two)."""
    long = rng.random() < traits.rates.four_hours_migraine
    hours = _pick(rng, _LONG_MIGRAINE_HOURS if long else _SHORT_MIGRAINE_HOURS)
    intensity = Intensity.SEVERE if rng.random() < 0.45 else Intensity.MODERATE
    unilateral = rng.random() < 0.6
    pulsating = rng.random() < 0.8
    worse_with_activity = rng.random() < 0.7
    if not (unilateral or pulsating or worse_with_activity):
        pulsating = True  # with moderate-or-severe intensity: two of criterion C
    nausea = rng.random() < 0.7
    light_and_sound = rng.random() < 0.6
    if not (nausea or light_and_sound):
        nausea = True  # criterion D
    medication = _medication(rng, traits, migraine_like=True)
    return DiaryDay(
        patient_id=patient_id,
        date=day,
        headache_hours=hours,
        intensity=intensity,
        unilateral=unilateral,
        pulsating=pulsating,
        worse_with_activity=worse_with_activity,
        nausea=nausea,
        vomiting=nausea and rng.random() < 0.25,
        photophobia=light_and_sound or rng.random() < 0.3,
        phonophobia=light_and_sound,
        aura=traits.aura_prone and rng.random() < AURA_ON_MIGRAINE_DAY,
        acute_medication=medication,
        acute_relief=bool(medication) and rng.random() < 0.7,
        believed_migraine=rng.random() < 0.85,
    )


def _other_headache_day(rng: random.Random, traits: _Traits, patient_id: str, day: date) -> DiaryDay:
    """A tension-type-like headache day that meets none of the migraine-day rules of diary-csv.md."""
    long = rng.random() < traits.rates.four_hours_other
    hours = _pick(rng, _LONG_OTHER_HOURS if long else _SHORT_OTHER_HOURS)
    moderate = rng.random() < 0.4
    # At most one feature of criterion C, and no nausea and at most one of photophobia/phonophobia (D unmet).
    feature = "" if moderate or rng.random() >= 0.3 else _pick(rng, ("unilateral", "pulsating", "activity"))
    sensitivity = rng.random()
    medication = _medication(rng, traits, migraine_like=False)
    takes_specific = bool(medication & {AcuteClass.TRIPTAN, AcuteClass.ERGOT})
    return DiaryDay(
        patient_id=patient_id,
        date=day,
        headache_hours=hours,
        intensity=Intensity.MODERATE if moderate else Intensity.MILD,
        unilateral=feature == "unilateral",
        pulsating=feature == "pulsating",
        worse_with_activity=feature == "activity",
        photophobia=sensitivity < 0.1,
        phonophobia=0.1 <= sensitivity < 0.2,
        acute_medication=medication,
        acute_relief=bool(medication) and rng.random() < 0.5,
        # Rule 3 (believed migraine relieved by a triptan or ergot) stays unmet on these days.
        believed_migraine=not takes_specific and rng.random() < 0.1,
    )


def _headache_free_day(patient_id: str, day: date) -> DiaryDay:
    return DiaryDay(patient_id=patient_id, date=day, headache_hours=_NO_HEADACHE)


def synthetic_patient_days(
    patient_id: str,
    *,
    start: date,
    days: int,
    profile: Profile,
    seed: int,
    first_injection: date | None = None,
    responder: bool = True,
    completeness: float = 0.95,
) -> tuple[DiaryDay, ...]:
    """One made-up patient's recorded days from ``start`` for ``days`` calendar days, in date order.

    ``first_injection`` turns on the treated course (meant for the chronic profiles): headache days fall
    gradually from that day, to 65 % below baseline for a responder and 10 % for a non-responder.
    ``completeness`` is the chance that a day has a row. Deterministic in all arguments.
    """
    if days < 0:
        raise ValueError("days must be 0 or more")
    if not 0.0 <= completeness <= 1.0:
        raise ValueError("completeness must be between 0 and 1")
    rng = _patient_rng(patient_id, seed)
    traits = _traits(rng, profile)
    reduction = RESPONDER_REDUCTION if responder else NON_RESPONDER_REDUCTION
    offset = (first_injection - start).days if first_injection is not None else None
    rates = traits.rates
    result: list[DiaryDay] = []
    for number in range(days):
        recorded = rng.random() < completeness
        headache = rng.random()
        migraine_like = rng.random() < rates.migraine_like
        if not recorded:
            continue
        day = start + timedelta(days=number)
        chance = rates.headache_day
        if offset is not None:
            chance *= _effect(number - offset, reduction)
        if headache >= chance:
            result.append(_headache_free_day(patient_id, day))
        elif migraine_like:
            result.append(_migraine_like_day(rng, traits, patient_id, day))
        else:
            result.append(_other_headache_day(rng, traits, patient_id, day))
    return tuple(result)


MIX: tuple[tuple[Profile, float], ...] = (
    (Profile.CHRONIC, 0.45),
    (Profile.CHRONIC_OVERUSE, 0.3),
    (Profile.EPISODIC, 0.25),
)
"""How ``synthetic_diary`` mixes profiles: a headache clinic's referrals are mostly chronic."""
TREATED_SHARE = 0.5
"""Share of chronic patients in ``synthetic_diary`` who start injections partway through their diary."""
RESPONDER_SHARE = 0.47
"""Share of treated patients who respond (PREEMPT pooled 50 % responders: 44.8-47.1 %, facts §3.2)."""


def synthetic_diary(
    n_patients: int,
    *,
    start: date,
    days: int,
    seed: int,
    completeness: float = 0.95,
    id_prefix: str = "S",
) -> list[DiaryDay]:
    """Days of ``n_patients`` made-up patients (ids ``S0001``...), profiles mixed as ``MIX`` says.

    Half the chronic patients (with or without overuse) get a first injection between a quarter and half of
    the way into their diary, 47 % of those as responders. Patients are in id order, days in date order.
    """
    chooser = random.Random(f"onaboard.synthetic.mix:{seed}")  # noqa: S311 - simulation, not secrets
    profiles = [profile for profile, _ in MIX]
    weights = [weight for _, weight in MIX]
    result: list[DiaryDay] = []
    for number in range(1, n_patients + 1):
        patient_id = f"{id_prefix}{number:04d}"
        profile = chooser.choices(profiles, weights)[0]
        first_injection = None
        responder = True
        if profile is not Profile.EPISODIC and chooser.random() < TREATED_SHARE:
            first_injection = start + timedelta(days=chooser.randint(days // 4, days // 2))
            responder = chooser.random() < RESPONDER_SHARE
        result.extend(
            synthetic_patient_days(
                patient_id,
                start=start,
                days=days,
                profile=profile,
                seed=seed,
                first_injection=first_injection,
                responder=responder,
                completeness=completeness,
            )
        )
    return result


# The demo patients. The seed was picked once (a search over seeds 1-3000) so that each patient shows what its
# id promises with some margin, then frozen; tests/test_synthetic.py checks it by counting days. A change to the
# generator may need a new seed. The draws do not depend on the dates, so any --today gives the same patterns.
DEMO_SEED = 233
_DEMO_DIARY: tuple[tuple[str, Profile, float], ...] = (
    ("P001", Profile.CHRONIC, 0.97),  # chronic migraine that qualifies
    ("P002", Profile.EPISODIC, 0.95),  # episodic migraine
    ("P003", Profile.CHRONIC_OVERUSE, 0.95),  # chronic migraine with medication overuse
    ("P004", Profile.CHRONIC, 0.5),  # too few recorded days to judge
)


def demo_diary_days(today: date, *, seed: int = DEMO_SEED) -> list[DiaryDay]:
    """The patients of demo/diary.csv, each diary ``DEMO_DIARY_DAYS`` long and ending on ``today``."""
    start = today - timedelta(days=DEMO_DIARY_DAYS - 1)
    result: list[DiaryDay] = []
    for patient_id, profile, completeness in _DEMO_DIARY:
        days = synthetic_patient_days(
            patient_id, start=start, days=DEMO_DIARY_DAYS, profile=profile, seed=seed, completeness=completeness
        )
        result.extend(days)
    return result


def demo_treated_days(*, seed: int = DEMO_SEED) -> list[DiaryDay]:
    """The patients of demo/treated.csv: T001 responds, T002 does not; first injection ``DEMO_FIRST_INJECTION``.

    Each diary runs from 28 days before the first injection (the baseline) through day 195 after it.
    """
    start = DEMO_FIRST_INJECTION - timedelta(days=DEMO_BASELINE_DAYS)
    result: list[DiaryDay] = []
    for patient_id, responder in (("T001", True), ("T002", False)):
        result.extend(
            synthetic_patient_days(
                patient_id,
                start=start,
                days=DEMO_BASELINE_DAYS + DEMO_TREATED_DAYS_AFTER,
                profile=Profile.CHRONIC,
                seed=seed,
                first_injection=DEMO_FIRST_INJECTION,
                responder=responder,
                completeness=0.95,
            )
        )
    return result


def _write_demo(outdir: Path, today: date) -> list[Path]:
    treated = demo_treated_days()
    last = max(day.date for day in treated)
    if last > today:
        raise SystemExit(f"--today must be {last.isoformat()} or later (the end of the demo treated course)")
    outdir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, days in (("diary.csv", demo_diary_days(today)), ("treated.csv", treated)):
        path = outdir / name
        path.write_text(write_diary(days), encoding="utf-8", newline="")
        written.append(path)
    return written


def _parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m onaboard.synthetic", description="Write synthetic (made-up) headache diaries."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser("demo", help="write OUTDIR/diary.csv and OUTDIR/treated.csv")
    demo.add_argument("outdir", type=Path)
    demo.add_argument("--today", type=date.fromisoformat, required=True, help="YYYY-MM-DD, last diary day")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m onaboard.synthetic demo OUTDIR --today YYYY-MM-DD``."""
    args = _parse_args(argv)
    for path in _write_demo(args.outdir, args.today):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
