"""A seeded, vectorised synthetic cohort of treated chronic-migraine patients: made-up people, never real ones.

``onaboard synth --patients N --days D --seed S --out DIR [--csv]`` writes the five tables of tables.py as Parquet
(and CSV on request; the diary as the diary CSV contract, so ``onaboard assess`` reads it). Patients are made in
chunks of ``CHUNK_PATIENTS`` with numpy, one random generator per chunk seeded from ``(seed, chunk number)``, and
each chunk is written as one Parquet row group, so memory stays flat however many patients are asked for. A chunk
is always drawn whole and then cut, so patient ``C0000042`` is the same person in a cohort of 100 or of 100,000.

The figures it aims at are in ``calibration.toml`` (PREEMPT pooled baseline 19.9 headache days per 28 days, change
at week 24 of -8.4, 44.8-47.1 % halving their headache days, 64.8 % overusing acute medication at baseline, HIT-6
65.5 at baseline and 40.8 % dropping 5 points or more, 3.8 % stopping for an adverse event, PREEMPT's entry
criteria, which every trial patient met and most of the cohort meets before the first injection, and the label's
adverse-reaction table, which is UNCONFIRMED). The parameters below are not published figures: each was tuned,
by generating cohorts and reading them with the cohort report, until the targets were met; each says which target
it serves. tests/cohort/test_synth.py checks that a cohort of a few thousand patients lands near every target.

The course of one patient (all days are "window days", 0 being the first day the registry observed):

- a pre-treatment diary of one to three 28-day periods, then the first injection (day 0 of the outcome periods);
  most patients (``ON_LABEL_SHARE``) were started because those periods met the label's chronic-migraine
  definition, so each complete one holds the label's days with headache lasting 4 hours or more;
- sessions every 12 weeks (``RETREATMENT_INTERVAL_DAYS``), never early, often a little late and sometimes much
  later (``LATENESS``); the effect wears off when a session is overdue;
- the chance of a headache day falls from the first injection by the patient's own effect size, reached with a
  time constant of ``ONSET_TIME_CONSTANT_DAYS`` (PREEMPT: separation from week 1-4, full benefit by week 24);
- stopping: lost to follow-up (``LOST_PER_CYCLE`` per cycle), an adverse event that leads to discontinuation
  (first two cycles), or no session 3 when the latent effect is below NICE TA260's 30 % (the clinic judges the
  response at the week-24 visit); after a stop the diary ends;
- HIT-6 and MIDAS at each 12-weekly visit; adverse events after each session at the label's per-cycle rates.

A day with no row is not recorded (the diary contract): a patient's recording habit (``RECORDING_BETA``) leaves
gaps, so some periods are incomplete, as in a real registry.
"""

from __future__ import annotations

import math
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from onaboard.clinical import (
    FIXED_DOSE_UNITS,
    FIXED_SITE_COUNT,
    HIT6_POINTS,
    LABEL_MIN_HEADACHE_DAYS_4H,
    MAX_SESSION_UNITS,
    MIDAS_MAX_DAYS,
    MIDAS_MAX_PAIN,
    MIN_RECORDED_DAYS,
    NICE_MIN_REDUCTION_PERCENT,
    PERIOD_DAYS,
    RETREATMENT_INTERVAL_DAYS,
    UNITS_PER_SITE,
    WEEK24_PERIOD,
    AcuteClass,
    Intensity,
)
from onaboard.cohort.calibration import calibration
from onaboard.cohort.tables import (
    ACUTE_COLUMNS,
    DIARY_WRITTEN_SCHEMA,
    HIT6_ITEM_COLUMNS,
    MIDAS_COLUMNS,
    SCHEMAS,
    TABLES,
    diary_csv_table,
    with_answers,
)

__all__ = [
    "CHUNK_PATIENTS",
    "DEFAULT_END",
    "CohortFiles",
    "cohort_chunk",
    "patient_id",
    "write_cohort",
]

CHUNK_PATIENTS = 1024
"""Patients drawn together (one random generator, one Parquet row group). Fixed, so output never depends on N."""

DEFAULT_END = date(2025, 12, 31)
"""The registry's data cut-off: every patient's observation window ends on or before it (no clock is read)."""

ENROLMENT_DAYS = 730
"""Patients enter over two years: a window ends up to this many days before the cut-off."""

ID_PREFIX = "C"
ID_DIGITS = 7

# --- who the patients are ------------------------------------------------------------------------------------------

AGE_MEAN_YEARS = 41.0
AGE_SD_YEARS = 11.0
"""Age at the first injection; clipped to the ``age_range`` target (COMPEL 18-73). The PREEMPT mean of about 41 is
from recall (UNCONFIRMED)."""
DAYS_PER_YEAR = 365.2425

PRE_TREATMENT_PERIODS = (1, 2, 3)
PRE_TREATMENT_WEIGHTS = (0.10, 0.15, 0.75)
"""28-day periods of diary before the first injection: most clinics ask for three months, some start sooner (so
some chronic-migraine verdicts at the first injection are ``insufficient_data``)."""

PREVENTIVE_CLASSES = (
    "beta_blocker",
    "anticonvulsant",
    "tricyclic_antidepressant",
    "snri",
    "calcium_channel_blocker",
    "angiotensin",
    "cgrp_monoclonal_antibody",
)
"""Preventive classes, in the web app's vocabulary (patients ``PreventiveClass``)."""
PREVENTIVE_WEIGHTS = (0.9, 0.95, 0.85, 0.4, 0.25, 0.3, 0.35)
"""How often each class is among those tried (an assumption: beta blockers, topiramate and amitriptyline first)."""
PREVENTIVES_EXTRA_MEAN = 2.2
"""Failed preventives = 1 + Poisson(``PREVENTIVES_EXTRA_MEAN``), at most the number of classes (NICE TA260 asks for
three)."""

RECORDING_BETA = (14.0, 1.0)
"""A patient's chance of writing a diary row on a given day: Beta(*``RECORDING_BETA``), so a few patients record
fewer than 20 days in 28 on average."""

# --- headache days (target: baseline_headache_days) ----------------------------------------------------------------

BASELINE_MEAN_DAYS = 20.7
BASELINE_SD_DAYS = 3.0
BASELINE_MIN_DAYS = 13.0
"""Each patient's underlying headache days per 28 fully recorded days: Normal(``BASELINE_MEAN_DAYS``,
``BASELINE_SD_DAYS``) clipped to ``BASELINE_MIN_DAYS``..28. With diary gaps, and the on-label patients' periods
before treatment drawn to hold the label's 4-hour days (which raises the low ones, as PREEMPT's screening did), the
observed baseline mean lands on PREEMPT's published figure (calibration.toml ``baseline_headache_days``)."""

MIGRAINE_SHARE_BETA = (16.0, 2.0)
"""Share of a patient's headache days that are migraine-like: Beta(*``MIGRAINE_SHARE_BETA``). PREEMPT enrolled
patients with at least half of their baseline headache days migraine or probable migraine (calibration.toml
``label_criteria_met``); the share is high enough that nearly every patient has ICHD-3 1.3 C's migraine days
(``CM_MIN_MIGRAINE_DAYS``) in each of the three periods the label verdict reads (target: label_criteria_met)."""
AURA_PRONE_SHARE = 0.3
AURA_ON_MIGRAINE_DAY = 0.3
AURA_WITHOUT_HEADACHE = 0.005
"""Aura-prone patients have aura on 30 % of their migraine-like days, and rarely aura alone (ICHD-3 1.2.1.2)."""

# --- the treatment effect (targets: week24_change_headache_days, responder_50_week24) ------------------------------

RESPONDER_SHARE = 0.49
RESPONDER_EFFECT = (0.72, 0.14)
NON_RESPONDER_EFFECT = (0.12, 0.15)
EFFECT_LIMITS = (-0.25, 0.95)
"""A patient's full effect (fraction of headache days lost) comes from a two-part mixture: a share
``RESPONDER_SHARE`` drawn from Normal(*``RESPONDER_EFFECT``) (mean, SD), the rest from
Normal(*``NON_RESPONDER_EFFECT``), clipped to ``EFFECT_LIMITS``. The mixture gives PREEMPT's mean change and
responder share together. The on-label patients' baseline is drawn to meet the label (``ON_LABEL_SHARE``), so it
lies a little above their usual rate and falls back after it, as a trial's selected baseline does: that fall is
part of the mean change, and the mixture is set with it."""
ONSET_TIME_CONSTANT_DAYS = 21.0
"""The effect reaches 63 % after 3 weeks and is complete by week 24 (PREEMPT; early-onset post hoc, week 1-4)."""
WEAR_OFF_AFTER_DAYS = RETREATMENT_INTERVAL_DAYS + 14
WEAR_OFF_TIME_CONSTANT_DAYS = 28.0
"""Two weeks after a session is due the effect starts to fade (time constant 4 weeks) until the next session."""

# --- sessions and stopping (targets: discontinued_adverse_event; the rest are assumptions) -------------------------

LATENESS = ((0.75, 0, 7), (0.20, 8, 28), (0.05, 29, 84))
"""Days a session falls after its due date: 75 % within COMPEL's 7-day window, 20 % one to four weeks late,
5 % up to 12 weeks late (an assumption; sessions are never early, as the label and payers require)."""
LOST_PER_CYCLE = 0.06
"""Chance of not coming back for the next session (lost to follow-up); with the other stops, roughly COMPEL's
52.1 % completing nine cycles (an assumption fitted loosely to that figure)."""
WEEK24_VISIT = WEEK24_PERIOD * PERIOD_DAYS // RETREATMENT_INTERVAL_DAYS + 1
"""The visit at week 24 (visit 3): where the clinic judges the response after two cycles (NICE TA260)."""
NICE_STOP_BELOW = NICE_MIN_REDUCTION_PERCENT / 100
"""A patient whose latent effect is under NICE's 30 % gets no session at the week-24 visit."""
ADVERSE_EVENT_CYCLES = 2
"""Adverse-event rates and discontinuation are calibrated over two cycles, like the label's 24-week table."""
ADVERSE_EVENT_ONSET_DAYS = 14
"""An adverse event starts within two weeks of its session."""
FOLLOW_THE_PAIN_SHARE = 0.3
"""Sessions with follow-the-pain sites added to the 31 fixed ones (an assumption)."""

# --- days' features (no published target; chosen so every migraine-day route and the attack rule occur) ----------

LONG_MIGRAINE_HOURS = (4.0, 4.5, 5.0, 6.0, 8.0, 10.0, 12.0, 16.0, 24.0)
SHORT_MIGRAINE_HOURS = (1.0, 2.0, 3.0, 3.5)
LONG_OTHER_HOURS = (4.0, 4.5, 5.0, 6.0, 8.0)
SHORT_OTHER_HOURS = (0.5, 1.0, 2.0, 3.0)
LONG_SHARE = (0.97, 0.8)
"""Share of migraine-like and of other headache days lasting 4 hours or more. PREEMPT counted a headache day as one
with headache lasting 4 hours or more (clinical-facts.md 3.1 and 4.3), so short days are few: the cohort's
baseline headache days, which count any headache, stay close to the trial's (targets: baseline_headache_days,
label_criteria_met)."""

# --- who is treated (target: label_criteria_met) -------------------------------------------------------------------

ON_LABEL_SHARE = 0.95
"""Patients the clinic started because their diary met the BOTOX label's chronic-migraine criteria; the rest were
treated on the clinician's judgement (an assumption: PREEMPT enrolled only the former, no source gives a clinic's
share). An on-label patient's complete periods before the first injection hold at least
``LABEL_MIN_HEADACHE_DAYS_4H`` days with headache lasting 4 hours or more (``_headache_rows``), as PREEMPT's
baseline did: the trial selected on that month's diary, so its baseline headache days are those of the patients who
passed. Off-label patients are drawn as they come, and some of them meet the criteria too."""
MIGRAINE_FEATURES = {
    "unilateral": (0.60, 0.12),
    "pulsating": (0.75, 0.10),
    "worse_with_activity": (0.70, 0.15),
    "nausea": (0.65, 0.03),
    "photophobia": (0.70, 0.12),
    "phonophobia": (0.60, 0.10),
    "believed_migraine": (0.85, 0.10),
}
"""Chance of each feature on a migraine-like and on another headache day."""
VOMITING_WITH_NAUSEA = (0.30, 0.10)
INTENSITY_CUTS = ((0.05, 0.55), (0.65, 0.98))
"""Migraine-like days: mild below 0.05, moderate below 0.55, else severe; other days: mild below 0.65, moderate
below 0.98, else severe."""

# --- acute medication (target: baseline_overuse) -------------------------------------------------------------------

OVERUSE_SHARE = 0.585
"""Patients who overuse acute medication; with the days below, 64.8 % of baseline periods meet ICHD-3 8.2."""
OVERUSE_KINDS: tuple[tuple[tuple[AcuteClass, ...], float], ...] = (
    ((AcuteClass.TRIPTAN,), 0.40),
    ((AcuteClass.SIMPLE_ANALGESIC,), 0.30),
    ((AcuteClass.COMBINATION_ANALGESIC,), 0.12),
    ((AcuteClass.OPIOID,), 0.05),
    ((AcuteClass.ERGOT,), 0.03),
    ((AcuteClass.TRIPTAN, AcuteClass.SIMPLE_ANALGESIC), 0.10),
)
"""What an overuser overuses; the last kind takes two classes, each on half the days (ICHD-3 8.2.6)."""
OVERUSE_DAYS_BETA = (8.0, 1.5)
"""Share of an overuser's headache days with the overused class: Beta(*``OVERUSE_DAYS_BETA``)."""
BACKGROUND_ACUTE: tuple[tuple[AcuteClass, float, float], ...] = (
    (AcuteClass.TRIPTAN, 0.25, 0.0),
    (AcuteClass.ERGOT, 0.005, 0.0),
    (AcuteClass.SIMPLE_ANALGESIC, 0.15, 0.15),
    (AcuteClass.COMBINATION_ANALGESIC, 0.02, 0.02),
    (AcuteClass.OPIOID, 0.01, 0.01),
    (AcuteClass.GEPANT, 0.04, 0.0),
    (AcuteClass.DITAN, 0.01, 0.0),
    (AcuteClass.OTHER, 0.02, 0.02),
)
"""Occasional use on migraine-like and on other headache days, on top of any overuse."""
ACUTE_ON_HEADACHE_FREE_DAY = 0.01
"""A simple analgesic on a headache-free day (another pain)."""
RELIEF_SHARE = 0.7

# --- HIT-6 and MIDAS (targets: hit6_baseline, hit6_responders_week24) ----------------------------------------------

HIT6_LEVEL = (10.95, 0.75)
"""A patient's HIT-6 level in points per item at baseline: Normal(*``HIT6_LEVEL``) (mean, SD); six items give
PREEMPT's baseline (calibration.toml ``hit6_baseline``)."""
HIT6_ITEM_SD = 1.1
HIT6_EFFECT_POINTS = 1.5
"""Points per item lost at the full effect (1.0); with the noise below, 40.8 % drop 5 points by week 24."""
HIT6_VISIT_SD = 0.35
MIDAS_PER_HEADACHE_DAY = (0.10, 0.12, 0.15, 0.12, 0.10)
"""MIDAS Q1-Q5 as shares of the headache days in the 3-month recall (no published target: an assumption)."""
MIDAS_PAIN = (6.5, 2.0, 1.5)
"""Average pain (B): Normal(m - s x effect, sd) for ``MIDAS_PAIN`` = (m, s, sd), clipped to 0-10."""

_EPOCH = date(1970, 1, 1)
_ADVERSE_EVENTS = tuple(reaction.event for reaction in calibration().adverse_reactions)
_INTENSITY_NAMES = pa.array([Intensity.MILD.value, Intensity.MODERATE.value, Intensity.SEVERE.value])
_HIT6_ANSWERS = sorted(HIT6_POINTS, key=HIT6_POINTS.__getitem__)
_HIT6_POINT_VALUES = np.array([HIT6_POINTS[answer] for answer in _HIT6_ANSWERS], dtype=float)
_HIT6_CUTS = (_HIT6_POINT_VALUES[:-1] + _HIT6_POINT_VALUES[1:]) / 2
_HIT6_NAMES = pa.array([answer.value for answer in _HIT6_ANSWERS])
_MAX_EXTRA_SITES = (MAX_SESSION_UNITS - FIXED_DOSE_UNITS) // UNITS_PER_SITE


def patient_id(number: int) -> str:
    """The id of the ``number``-th patient (1-based): ``C0000001``."""
    return f"{ID_PREFIX}{number:0{ID_DIGITS}d}"


def _adverse_event_rates() -> tuple[np.ndarray, float]:
    """Per-session chance of each label adverse reaction, and the chance that a session with one ends treatment.

    The label counts patients over two cycles, but not every patient reaches the second session: with ``s`` the
    share who do, a per-session chance q gives 1 - (1 - q)(1 - s q) = the label's rate r, so
    q = ((1 + s) - sqrt((1 + s)^2 - 4 s r)) / (2 s). The discontinuation chance d makes 1 - (1 - a d)^2 = 3.8 %,
    a being the chance of any reaction after one session.
    """
    calib = calibration()
    rates = np.array([reaction.botox_percent / 100 for reaction in calib.adverse_reactions])
    stopping = calib.targets["discontinued_adverse_event"].centre / 100
    per_cycle_stop = 1 - (1 - stopping) ** (1 / ADVERSE_EVENT_CYCLES)
    reach = (1 - LOST_PER_CYCLE) * (1 - per_cycle_stop)
    per_session = ((1 + reach) - np.sqrt((1 + reach) ** 2 - 4 * reach * rates)) / (2 * reach)
    any_event = 1 - np.prod(1 - per_session)
    return per_session, per_cycle_stop / any_event


def _lateness(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    kind = rng.random(shape)
    result = np.zeros(shape, dtype=np.int64)
    floor = 0.0
    for share, low, high in LATENESS:
        days = rng.integers(low, high + 1, shape)
        result = np.where((kind >= floor) & (kind < floor + share), days, result)
        floor += share
    return result


def _pick(values: tuple[float, ...], draws: np.ndarray) -> np.ndarray:
    return np.asarray(values)[np.minimum((draws * len(values)).astype(np.int64), len(values) - 1)]


def _dates(ordinals: np.ndarray) -> pa.Array:
    return pa.array((ordinals - _EPOCH.toordinal()).astype(np.int32), type=pa.int32()).cast(pa.date32())


def _preventive_strings() -> pa.Array:
    """Every subset of the preventive classes as its ``;``-joined text, indexed by bit mask."""
    names = []
    for mask in range(2 ** len(PREVENTIVE_CLASSES)):
        names.append(";".join(name for bit, name in enumerate(PREVENTIVE_CLASSES) if mask >> bit & 1))
    return pa.array(names)


_PREVENTIVE_TEXT = _preventive_strings()


@dataclass(frozen=True, slots=True)
class _Patients:
    """Per-patient draws of one chunk (arrays of ``CHUNK_PATIENTS``)."""

    window_start: np.ndarray
    day0: np.ndarray
    female: np.ndarray
    birth: np.ndarray
    completeness: np.ndarray
    headache_rate: np.ndarray
    migraine_share: np.ndarray
    aura_prone: np.ndarray
    effect: np.ndarray
    overuse_kind: np.ndarray
    overuse_days: np.ndarray
    preventives: np.ndarray
    hit6_level: np.ndarray
    on_label: np.ndarray


def _draw_patients(rng: np.random.Generator, *, days: int, end: date) -> _Patients:
    n = CHUNK_PATIENTS
    calib = calibration()
    age_low, age_high = calib.targets["age_range"].bounds
    enrolment = rng.integers(0, ENROLMENT_DAYS, n)
    window_start = end.toordinal() - (days - 1) - enrolment
    day0 = rng.choice(np.array(PRE_TREATMENT_PERIODS), size=n, p=PRE_TREATMENT_WEIGHTS) * PERIOD_DAYS
    female = rng.random(n) < calib.targets["female_share"].centre / 100
    age_years = np.clip(rng.normal(AGE_MEAN_YEARS, AGE_SD_YEARS, n), age_low + 0.01, age_high + 0.99)
    birth = window_start + day0 - np.round(age_years * DAYS_PER_YEAR).astype(np.int64)
    completeness = rng.beta(*RECORDING_BETA, n)
    rate = np.clip(rng.normal(BASELINE_MEAN_DAYS, BASELINE_SD_DAYS, n), BASELINE_MIN_DAYS, PERIOD_DAYS) / PERIOD_DAYS
    migraine_share = rng.beta(*MIGRAINE_SHARE_BETA, n)
    aura_prone = rng.random(n) < AURA_PRONE_SHARE
    responder = rng.random(n) < RESPONDER_SHARE
    effect = np.where(responder, rng.normal(*RESPONDER_EFFECT, n), rng.normal(*NON_RESPONDER_EFFECT, n)).clip(
        *EFFECT_LIMITS
    )
    overuser = rng.random(n) < OVERUSE_SHARE
    weights = np.array([weight for _, weight in OVERUSE_KINDS])
    kind = rng.choice(len(OVERUSE_KINDS), size=n, p=weights / weights.sum())
    overuse_days = rng.beta(*OVERUSE_DAYS_BETA, n)
    count = np.minimum(1 + rng.poisson(PREVENTIVES_EXTRA_MEAN, n), len(PREVENTIVE_CLASSES))
    keys = rng.random((n, len(PREVENTIVE_CLASSES))) ** (1 / np.asarray(PREVENTIVE_WEIGHTS))
    ranks = np.argsort(np.argsort(-keys, axis=1), axis=1)
    chosen = ranks < count[:, None]
    preventives = (chosen * (1 << np.arange(len(PREVENTIVE_CLASSES)))).sum(axis=1)
    hit6_level = rng.normal(*HIT6_LEVEL, n)
    on_label = rng.random(n) < ON_LABEL_SHARE
    return _Patients(
        window_start=window_start,
        day0=day0,
        female=female,
        birth=birth,
        completeness=completeness,
        headache_rate=rate,
        migraine_share=migraine_share,
        aura_prone=aura_prone,
        effect=effect,
        overuse_kind=np.where(overuser, kind, -1),
        overuse_days=overuse_days,
        preventives=preventives,
        hit6_level=hit6_level,
        on_label=on_label,
    )


@dataclass(frozen=True, slots=True)
class _Course:
    """Sessions and stops of one chunk: session days (window days), which were given, the diary's end."""

    session_day: np.ndarray
    given: np.ndarray
    diary_end: np.ndarray
    exit_slot: np.ndarray
    adverse: np.ndarray
    adverse_onset: np.ndarray
    stopped_for_event: np.ndarray
    extra_sites: np.ndarray


def _draw_course(rng: np.random.Generator, patients: _Patients, *, days: int) -> _Course:
    n = CHUNK_PATIENTS
    slots = days // RETREATMENT_INTERVAL_DAYS + 2
    gaps = RETREATMENT_INTERVAL_DAYS + _lateness(rng, (n, slots))
    gaps[:, 0] = 0
    session_day = patients.day0[:, None] + np.cumsum(gaps, axis=1)
    per_session, stop_chance = _adverse_event_rates()
    adverse = rng.random((n, slots, len(per_session))) < per_session
    adverse_onset = rng.integers(0, ADVERSE_EVENT_ONSET_DAYS + 1, (n, slots, len(per_session)))
    lost_draw = rng.random((n, slots)) < LOST_PER_CYCLE
    lost_when = rng.random((n, slots))
    stop_draw = rng.random((n, slots)) < stop_chance
    extra = np.where(
        rng.random((n, slots)) < FOLLOW_THE_PAIN_SHARE, rng.integers(1, _MAX_EXTRA_SITES + 1, (n, slots)), 0
    )

    given = np.zeros((n, slots), dtype=bool)
    diary_end = np.full(n, days, dtype=np.int64)
    exit_slot = np.full(n, -1, dtype=np.int64)
    stopped_for_event = np.full(n, -1, dtype=np.int64)
    active = np.ones(n, dtype=bool)
    for slot in range(slots - 1):
        give = active & (session_day[:, slot] < days)
        given[:, slot] = give
        following = session_day[:, slot + 1]
        event_stop = give & (slot < ADVERSE_EVENT_CYCLES) & adverse[:, slot].any(axis=1) & stop_draw[:, slot]
        nice_stop = give & (slot + 2 == WEEK24_VISIT) & (patients.effect < NICE_STOP_BELOW) & ~event_stop
        lost = give & lost_draw[:, slot] & ~event_stop & ~nice_stop
        decided = event_stop | nice_stop
        diary_end = np.where(decided, np.minimum(days, following + 1), diary_end)
        exit_slot = np.where(decided & (following < days), slot + 1, exit_slot)
        stopped_for_event = np.where(event_stop, slot, stopped_for_event)
        gap = following - session_day[:, slot]
        lost_end = session_day[:, slot] + 1 + np.floor(lost_when[:, slot] * gap).astype(np.int64)
        diary_end = np.where(lost, np.minimum(days, lost_end), diary_end)
        active &= give & ~decided & ~lost
    return _Course(
        session_day=session_day,
        given=given,
        diary_end=diary_end,
        exit_slot=exit_slot,
        adverse=adverse & given[:, :, None],
        adverse_onset=adverse_onset,
        stopped_for_event=stopped_for_event,
        extra_sites=extra,
    )


def _realised_effect(patients: _Patients, last_session: np.ndarray, day: np.ndarray, who: np.ndarray) -> np.ndarray:
    """Fraction of headache days lost on ``day`` (window days) for patients ``who``, given their last session day."""
    treated = last_session >= 0
    since_first = np.maximum(day - patients.day0[who], 0)
    ramp = np.where(treated, 1 - np.exp(-since_first / ONSET_TIME_CONSTANT_DAYS), 0.0)
    overdue = np.maximum(day - last_session - WEAR_OFF_AFTER_DAYS, 0)
    wear = np.exp(-overdue / WEAR_OFF_TIME_CONSTANT_DAYS)
    return patients.effect[who] * ramp * wear


def _recorded_rows(
    rng: np.random.Generator, patients: _Patients, course: _Course, *, days: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The recorded (patient, window day) pairs in patient then date order, and the effect realised on each."""
    n = CHUNK_PATIENTS
    window = np.arange(days)
    recorded = rng.random((n, days), dtype=np.float32) < patients.completeness[:, None].astype(np.float32)
    recorded &= window[None, :] < course.diary_end[:, None]
    marks = np.full((n, days), -1, dtype=np.int32)
    who_session, slot = np.nonzero(course.given)
    marks[who_session, course.session_day[who_session, slot]] = course.session_day[who_session, slot]
    last_session = np.maximum.accumulate(marks, axis=1)
    who, day = np.nonzero(recorded)
    return who, day, _realised_effect(patients, last_session[who, day], day, who)


def _long_share(patients: _Patients) -> np.ndarray:
    """Each patient's share of headache days lasting 4 hours or more (``LONG_SHARE`` by their migraine share)."""
    return patients.migraine_share * LONG_SHARE[0] + (1 - patients.migraine_share) * LONG_SHARE[1]


_COMBINATIONS = np.array([[math.comb(n, k) for k in range(PERIOD_DAYS + 1)] for n in range(PERIOD_DAYS + 1)], float)


def _at_least_label_days(rng: np.random.Generator, recorded: np.ndarray, chance: np.ndarray) -> np.ndarray:
    """Binomial(``recorded``, ``chance``) draws conditioned on reaching ``LABEL_MIN_HEADACHE_DAYS_4H`` (inverse CDF
    over the truncated probabilities; ``recorded`` is at most ``PERIOD_DAYS`` and at least the minimum)."""
    k = np.arange(PERIOD_DAYS + 1)
    power = np.maximum(recorded[:, None] - k, 0)
    pmf = _COMBINATIONS[recorded] * chance[:, None] ** k * (1 - chance[:, None]) ** power
    pmf[:, :LABEL_MIN_HEADACHE_DAYS_4H] = 0.0
    cdf = np.cumsum(pmf, axis=1)
    return (cdf < rng.random(len(recorded))[:, None] * cdf[:, -1:]).sum(axis=1)


def _headache_rows(
    rng: np.random.Generator, patients: _Patients, who: np.ndarray, day: np.ndarray, effect: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Which recorded rows are headache days, and which of those last 4 hours or more.

    A row is a headache day with chance rate x (1 - effect), lasting 4 hours or more with the patient's
    ``_long_share``. For an on-label patient (``ON_LABEL_SHARE``) each complete period before the first injection
    (``MIN_RECORDED_DAYS`` recorded, the periods the clinic judged) is drawn given that it holds at least
    ``LABEL_MIN_HEADACHE_DAYS_4H`` such days: their number from the binomial cut below that, placed at random among
    the period's recorded days, and each other day a shorter headache day with the chance left. That is the same
    as drawing periods until one passes, as a trial's screening does, without drawing them again.
    """
    long_share = _long_share(patients)[who]
    chance = np.clip(patients.headache_rate[who] * (1 - effect), 0.0, 1.0)
    draw = rng.random(len(who))
    long = draw < chance * long_share
    headache = draw < chance

    day0 = patients.day0[who]
    periods = max(PRE_TREATMENT_PERIODS)
    (judged,) = np.nonzero((day < day0) & patients.on_label[who])
    group = who[judged] * periods + (day0[judged] - 1 - day[judged]) // PERIOD_DAYS
    recorded = np.bincount(group, minlength=CHUNK_PATIENTS * periods)
    kept = recorded[group] >= MIN_RECORDED_DAYS
    judged, group = judged[kept], group[kept]
    (complete,) = np.nonzero(recorded >= MIN_RECORDED_DAYS)
    patient = complete // periods
    wanted = _at_least_label_days(
        rng, recorded[complete], patients.headache_rate[patient] * _long_share(patients)[patient]
    )
    # The wanted number of a period's recorded days, at random: those whose key is among its smallest (a period's
    # rows are consecutive, so a row's place in its period is its distance from the period's first row).
    keys = rng.random((len(complete), PERIOD_DAYS))
    keys[np.arange(PERIOD_DAYS) >= recorded[complete][:, None]] = 2.0
    cut = np.sort(keys, axis=1)[np.arange(len(complete)), wanted - 1]
    place = np.zeros(len(recorded), dtype=np.int64)
    place[complete] = np.arange(len(complete))
    rows = np.arange(len(judged))
    first = np.maximum.accumulate(np.where(np.r_[True, group[1:] != group[:-1]], rows, 0))
    long[judged] = keys[place[group], rows - first] <= cut[place[group]]
    short_chance = chance[judged] * (1 - long_share[judged]) / (1 - chance[judged] * long_share[judged])
    headache[judged] = long[judged] | (rng.random(len(judged)) < short_chance)
    return headache, long


def _headache_columns(
    rng: np.random.Generator, patients: _Patients, who: np.ndarray, head: np.ndarray, long: np.ndarray
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Whether each headache row (``long``: lasting 4 hours or more) is migraine-like, and the rows' hours,
    intensity code and feature columns. Migraine-like days are ``LONG_SHARE[0]`` long, other days ``LONG_SHARE[1]``,
    so a long day is migraine-like with the chance Bayes' rule gives."""
    rows, heads = len(who), len(head)
    share = patients.migraine_share[who[head]]
    long_share = _long_share(patients)[who[head]]
    migraine_chance = np.where(long, share * LONG_SHARE[0] / long_share, share * (1 - LONG_SHARE[0]) / (1 - long_share))
    migraine_like = rng.random(heads) < migraine_chance
    kind = np.where(migraine_like, 0, 1)
    pick = rng.random(heads)
    hours = np.zeros(rows)
    hours[head] = np.where(
        migraine_like,
        np.where(long, _pick(LONG_MIGRAINE_HOURS, pick), _pick(SHORT_MIGRAINE_HOURS, pick)),
        np.where(long, _pick(LONG_OTHER_HOURS, pick), _pick(SHORT_OTHER_HOURS, pick)),
    )
    cuts = np.asarray(INTENSITY_CUTS)[kind]
    level = rng.random(heads)
    intensity = np.full(rows, -1, dtype=np.int8)
    intensity[head] = (level >= cuts[:, 0]).astype(np.int8) + (level >= cuts[:, 1])
    columns: dict[str, np.ndarray] = {"headache_hours": hours, "intensity": intensity}
    for name, chances in MIGRAINE_FEATURES.items():
        values = np.zeros(rows, dtype=bool)
        values[head] = rng.random(heads) < np.asarray(chances)[kind]
        columns[name] = values
    vomiting = np.zeros(rows, dtype=bool)
    vomiting[head] = columns["nausea"][head] & (rng.random(heads) < np.asarray(VOMITING_WITH_NAUSEA)[kind])
    columns["vomiting"] = vomiting
    aura = patients.aura_prone[who] & (rng.random(rows) < AURA_WITHOUT_HEADACHE)
    aura[head] = migraine_like & patients.aura_prone[who[head]] & (rng.random(heads) < AURA_ON_MIGRAINE_DAY)
    columns["aura"] = aura
    return migraine_like, columns


def _medication_columns(
    rng: np.random.Generator, patients: _Patients, who: np.ndarray, head: np.ndarray, migraine_like: np.ndarray
) -> dict[str, np.ndarray]:
    """Each acute class's column (background use, overuse) and ``acute_relief``."""
    rows, heads = len(who), len(head)
    headache = np.zeros(rows, dtype=bool)
    headache[head] = True
    acute = {cls: np.zeros(rows, dtype=bool) for cls in AcuteClass}
    for cls, on_migraine, on_other in BACKGROUND_ACUTE:
        acute[cls][head] = rng.random(heads) < np.where(migraine_like, on_migraine, on_other)
    acute[AcuteClass.SIMPLE_ANALGESIC] |= ~headache & (rng.random(rows) < ACUTE_ON_HEADACHE_FREE_DAY)
    overuse_kind = patients.overuse_kind[who[head]]
    overuse_draw = rng.random(heads)
    for number, (classes, _) in enumerate(OVERUSE_KINDS):
        share = patients.overuse_days[who[head]] / len(classes)
        for position, cls in enumerate(classes):
            low = share * position
            acute[cls][head] |= (overuse_kind == number) & (overuse_draw >= low) & (overuse_draw < low + share)
    any_acute = np.logical_or.reduce(list(acute.values()))
    relief = np.zeros(rows, dtype=bool)
    relief[head] = any_acute[head] & (rng.random(heads) < RELIEF_SHARE)
    return {**{ACUTE_COLUMNS[cls]: values for cls, values in acute.items()}, "acute_relief": relief}


def _diary(rng: np.random.Generator, patients: _Patients, course: _Course, ids: pa.Array, *, days: int) -> pa.Table:
    who, day, effect = _recorded_rows(rng, patients, course, days=days)
    headache, long = _headache_rows(rng, patients, who, day, effect)
    (head,) = np.nonzero(headache)
    migraine_like, columns = _headache_columns(rng, patients, who, head, long[head])
    columns |= _medication_columns(rng, patients, who, head, migraine_like)
    code = columns.pop("intensity")
    data: dict[str, pa.Array] = {
        "patient_id": ids.take(pa.array(who.astype(np.int32))),
        "date": _dates(patients.window_start[who] + day),
        "intensity": pa.DictionaryArray.from_arrays(pa.array(code, mask=code < 0), _INTENSITY_NAMES).cast(pa.string()),
        **{name: pa.array(values) for name, values in columns.items()},
    }
    written = DIARY_WRITTEN_SCHEMA
    return with_answers(pa.Table.from_pydict({name: data[name] for name in written.names}, schema=written))


def _patients_table(patients: _Patients, ids: pa.Array, *, days: int) -> pa.Table:
    counts = np.array([bin(mask).count("1") for mask in range(2 ** len(PREVENTIVE_CLASSES))])
    return pa.Table.from_pydict(
        {
            "patient_id": ids,
            "sex": pa.array(np.where(patients.female, "female", "male")),
            "birth_date": _dates(patients.birth),
            "observed_from": _dates(patients.window_start),
            "observed_until": _dates(patients.window_start + days - 1),
            "prior_preventives_failed": pa.array(counts[patients.preventives].astype(np.int16)),
            "prior_preventive_classes": _PREVENTIVE_TEXT.take(pa.array(patients.preventives)),
        },
        schema=SCHEMAS["patients"],
    )


def _sessions_table(patients: _Patients, course: _Course, ids: pa.Array) -> pa.Table:
    """Every session given: all 31 fixed sites and its extra sites, each of them a follow-the-pain site."""
    who, slot = np.nonzero(course.given)
    extra = course.extra_sites[who, slot]
    return pa.Table.from_pydict(
        {
            "patient_id": ids.take(pa.array(who)),
            "session_number": pa.array((slot + 1).astype(np.int16)),
            "session_date": _dates(patients.window_start[who] + course.session_day[who, slot]),
            "dose_units": pa.array((FIXED_DOSE_UNITS + UNITS_PER_SITE * extra).astype(np.int16)),
            "sites": pa.array((FIXED_SITE_COUNT + extra).astype(np.int16)),
            "follow_the_pain_sites": pa.array(extra.astype(np.int16)),
        },
        schema=SCHEMAS["sessions"],
    )


def _prom_table(
    rng: np.random.Generator, patients: _Patients, course: _Course, ids: pa.Array, *, days: int
) -> pa.Table:
    n, slots = course.given.shape
    held = course.given.copy()
    exits = np.nonzero(course.exit_slot >= 0)[0]
    held[exits, course.exit_slot[exits]] = True
    held &= course.session_day < days
    level_noise = rng.normal(0.0, HIT6_VISIT_SD, (n, slots))
    item_noise = rng.normal(0.0, HIT6_ITEM_SD, (n, slots, len(HIT6_ITEM_COLUMNS)))
    pain_noise = rng.normal(0.0, MIDAS_PAIN[2], (n, slots))

    who, slot = np.nonzero(held)
    day = course.session_day[who, slot]
    previous = np.where(slot > 0, course.session_day[who, np.maximum(slot - 1, 0)], -1)
    effect = _realised_effect(patients, previous, day, who)
    level = patients.hit6_level[who] - HIT6_EFFECT_POINTS * effect + level_noise[who, slot]
    answers = np.digitize(level[:, None] + item_noise[who, slot], _HIT6_CUTS)
    data: dict[str, pa.Array] = {
        "patient_id": ids.take(pa.array(who)),
        "visit": pa.array((slot + 1).astype(np.int16)),
        "assessed_on": _dates(patients.window_start[who] + day),
    }
    for item, column in enumerate(HIT6_ITEM_COLUMNS):
        data[column] = _HIT6_NAMES.take(pa.array(answers[:, item]))
    headache_days = np.minimum(
        rng.poisson(3 * PERIOD_DAYS * patients.headache_rate[who] * (1 - effect)), MIDAS_MAX_DAYS
    )
    q = [rng.poisson(share * headache_days) for share in MIDAS_PER_HEADACHE_DAY]
    q[0] = np.minimum(q[0], MIDAS_MAX_DAYS)
    q[1] = np.minimum(q[1], MIDAS_MAX_DAYS - q[0])
    q[2] = np.minimum(q[2], MIDAS_MAX_DAYS)
    q[3] = np.minimum(q[3], MIDAS_MAX_DAYS - q[2])
    q[4] = np.minimum(q[4], MIDAS_MAX_DAYS)
    pain = np.clip(np.round(MIDAS_PAIN[0] - MIDAS_PAIN[1] * effect + pain_noise[who, slot]), 0, MIDAS_MAX_PAIN)
    for column, values in zip(MIDAS_COLUMNS, (*q, headache_days, pain), strict=True):
        data[column] = pa.array(np.asarray(values).astype(np.int16))
    return pa.Table.from_pydict(data, schema=SCHEMAS["prom"])


def _adverse_events_table(patients: _Patients, course: _Course, ids: pa.Array, *, days: int) -> pa.Table:
    onset = course.session_day[:, :, None] + course.adverse_onset
    happened = course.adverse & (onset < days)
    who, slot, event = np.nonzero(happened)
    stopping = course.stopped_for_event[who] == slot
    first_of_session = np.ones(len(who), dtype=bool)
    first_of_session[1:] = (who[1:] != who[:-1]) | (slot[1:] != slot[:-1])
    return pa.Table.from_pydict(
        {
            "patient_id": ids.take(pa.array(who)),
            "session_number": pa.array((slot + 1).astype(np.int16)),
            "onset_date": _dates(patients.window_start[who] + onset[who, slot, event]),
            "event": pa.array(np.asarray(_ADVERSE_EVENTS, dtype=object)[event]),
            "led_to_discontinuation": pa.array(stopping & first_of_session),
        },
        schema=SCHEMAS["adverse_events"],
    )


def cohort_chunk(index: int, *, seed: int, days: int, end: date = DEFAULT_END) -> dict[str, pa.Table]:
    """The five tables of chunk ``index`` (patients ``index * CHUNK_PATIENTS + 1`` onwards), all drawn whole."""
    if days < 1:
        raise ValueError("days must be at least 1")
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(index,)))
    ids = pa.array([patient_id(index * CHUNK_PATIENTS + i + 1) for i in range(CHUNK_PATIENTS)])
    patients = _draw_patients(rng, days=days, end=end)
    course = _draw_course(rng, patients, days=days)
    return {
        "patients": _patients_table(patients, ids, days=days),
        "diary": _diary(rng, patients, course, ids, days=days),
        "sessions": _sessions_table(patients, course, ids),
        "prom": _prom_table(rng, patients, course, ids, days=days),
        "adverse_events": _adverse_events_table(patients, course, ids, days=days),
    }


def _first_patients(table: pa.Table, count: int, first_number: int) -> pa.Table:
    """The rows of the first ``count`` patients of a chunk (rows are in patient order)."""
    if count >= CHUNK_PATIENTS:
        return table
    limit = patient_id(first_number + count)
    ids = table["patient_id"]
    import pyarrow.compute as pc

    return table.filter(pc.less(ids, limit))


@dataclass(slots=True)
class CohortFiles:
    """What ``write_cohort`` wrote: the files and the rows of each table."""

    directory: Path
    paths: dict[str, Path] = field(default_factory=dict)
    rows: dict[str, int] = field(default_factory=dict)
    csv_paths: list[Path] = field(default_factory=list)
    """The CSV files, with ``csv``."""


HISTORY_MARGIN_DAYS = 150 * 366
"""Room the calendar must leave before a cohort's observation windows for births and treatment histories: more
than the oldest age drawn (``calibration.toml``'s age range) with its preventive history."""


def fits_the_calendar(*, days: int, end: date) -> bool:
    """Whether a cohort of ``days`` observed days ending by ``end`` keeps every date it draws (windows up to
    ``ENROLMENT_DAYS`` earlier, births and histories before them) on or after 0001-01-01."""
    return end.toordinal() - (days - 1) - ENROLMENT_DAYS - HISTORY_MARGIN_DAYS >= date.min.toordinal()


TABLE_FILES = frozenset(f"{name}{suffix}" for name in TABLES for suffix in (".parquet", ".csv"))
"""The files a synthetic cohort is made of: each table as Parquet, and as CSV with ``csv``."""

PARTIAL_PREFIX = ".partial-"
"""The work folder of a run (``.partial-<pid>``), inside ``out`` until its tables are moved up."""

OTHER_FILES = "{path} holds files that are not a synthetic cohort's tables ({names})"


SYNTH_MARK = b"onaboard.synth"
"""The key of the Parquet key-value metadata every table ``onaboard synth`` writes carries: a same-named file
without it is another registry's table, never replaced."""


def _synthetic(path: Path) -> bool:
    """Whether ``path`` is a table file a synthetic cohort wrote: a Parquet file whose footer carries
    ``SYNTH_MARK``, or a CSV file beside such a Parquet file of the same table."""
    parquet = path.with_suffix(".parquet")
    if not parquet.is_file():
        return False
    try:
        metadata = pq.read_schema(parquet).metadata or {}
    except (OSError, pa.ArrowException):
        return False
    return SYNTH_MARK in metadata


def foreign_entries(out: Path) -> list[str]:
    """The names in ``out`` that no synthetic cohort writes (anything but ``TABLE_FILES`` carrying ``SYNTH_MARK``
    and a run's work folder), sorted; none when ``out`` is not a directory. ``write_cohort`` refuses a directory
    holding any, so a new cohort is never mixed with other files (another registry's tables of the same names, a
    report, notes)."""
    if not out.is_dir():
        return []
    return sorted(
        entry.name
        for entry in out.iterdir()
        if not entry.name.startswith(PARTIAL_PREFIX)
        and not (entry.name in TABLE_FILES and (entry.is_dir() or _synthetic(entry)))  # a folder: write_cohort says
    )


def write_cohort(
    out: Path,
    *,
    patients: int,
    days: int,
    seed: int,
    end: date = DEFAULT_END,
    csv: bool = False,
    progress: Callable[[int], None] | None = None,
) -> CohortFiles:
    """Generate ``patients`` patients with ``days`` observed days each and write the cohort to ``out``.

    ``<table>.parquet`` for each of ``TABLES``, one row group per chunk; with ``csv`` also ``<table>.csv`` (the
    diary as the diary CSV contract). ``progress`` is called with the number of patients finished so far.

    ``out`` is new, empty, or holds an earlier synthetic cohort: its tables are replaced, and its table files this
    run does not write (the CSV files, without ``csv``) are removed, so the directory holds one cohort. Anything
    else in it (``foreign_entries``) is refused with ``ValueError`` before a file is touched.

    The files are written in a hidden folder inside ``out`` and moved up into it only when every one is complete
    (a rename on the same disk), so an interrupted or failed run leaves no part of a cohort for a report to read.
    Raises ``OSError`` when ``out`` cannot be written.
    """
    if patients < 1 or days < 1:
        raise ValueError("patients and days must be at least 1")
    out.mkdir(parents=True, exist_ok=True)
    foreign = foreign_entries(out)
    if foreign:
        raise ValueError(OTHER_FILES.format(path=out, names=", ".join(foreign)))
    for name in TABLES:
        for suffix in (".parquet", ".csv"):
            if (out / f"{name}{suffix}").is_dir():
                raise IsADirectoryError(21, "a folder holds a table's name", str(out / f"{name}{suffix}"))
    partial = out / f"{PARTIAL_PREFIX}{os.getpid()}"
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir()
    try:
        result = _write_cohort_files(
            partial, patients=patients, days=days, seed=seed, end=end, csv=csv, progress=progress
        )
        for written in sorted(partial.iterdir()):
            written.replace(out / written.name)
        fresh = {path.name for path in result.paths.values()} | {path.name for path in result.csv_paths}
        for stale in sorted(TABLE_FILES - fresh):
            (out / stale).unlink(missing_ok=True)  # an earlier cohort's file this run did not write
    finally:
        shutil.rmtree(partial, ignore_errors=True)
    return CohortFiles(
        directory=out,
        paths={name: out / path.name for name, path in result.paths.items()},
        rows=result.rows,
        csv_paths=[out / path.name for path in result.csv_paths],
    )


def _write_cohort_files(
    out: Path,
    *,
    patients: int,
    days: int,
    seed: int,
    end: date,
    csv: bool,
    progress: Callable[[int], None] | None,
) -> CohortFiles:
    result = CohortFiles(directory=out)
    writers: dict[str, pq.ParquetWriter] = {}
    csv_writers: dict[str, pacsv.CSVWriter] = {}
    try:
        for name in TABLES:
            result.paths[name] = out / f"{name}.parquet"
            result.rows[name] = 0
            schema = SCHEMAS[name].with_metadata({SYNTH_MARK: b"1"})
            writers[name] = pq.ParquetWriter(result.paths[name], schema, compression="snappy")
        chunks = math.ceil(patients / CHUNK_PATIENTS)
        for index in range(chunks):
            count = min(CHUNK_PATIENTS, patients - index * CHUNK_PATIENTS)
            tables = cohort_chunk(index, seed=seed, days=days, end=end)
            for name in TABLES:
                table = _first_patients(tables[name], count, index * CHUNK_PATIENTS + 1)
                writers[name].write_table(table, row_group_size=max(len(table), 1))
                result.rows[name] += len(table)
                if csv:
                    text = diary_csv_table(table) if name == "diary" else table
                    if name not in csv_writers:
                        options = pacsv.WriteOptions(quoting_style="needed")
                        csv_writers[name] = pacsv.CSVWriter(out / f"{name}.csv", text.schema, write_options=options)
                        result.csv_paths.append(out / f"{name}.csv")
                    csv_writers[name].write_table(text)
            if progress is not None:
                progress(index * CHUNK_PATIENTS + count)
    finally:
        for writer in (*writers.values(), *csv_writers.values()):
            writer.close()
    return result
