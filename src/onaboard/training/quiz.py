"""Quizzes generated from the engine: the engine computes every answer, and the explanation quotes its rule.

Each question kind is a generator ``(rng) -> Question`` that draws a situation (a muscle, a vial, a plan, a diary
day, three 28-day periods, a safety checklist, a treated course), asks the engine about it, and offers the engine's
answer among plausible wrong ones. Explanations are the engine's own reasons or the docstring-cited rule with its
constant, so the quiz and the clinic can never disagree. ``generate_quiz`` is seeded: the same module and seed give
the same questions (a new attempt draws a new seed), and ``grade_quiz`` marks answers with exact integers.

The verdict kinds draw a situation aimed at each verdict in turn (a responder, a poor response, a return to episodic
migraine, a diary with gaps...) and let the engine mark it, so no verdict is the answer to most questions and
answering by rote does not pass. Questions are regenerated from an attempt's seed, so the draws are versioned
(``QUIZ_VERSION``): an attempt keeps the generators it was drawn with.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from onaboard.clinical import (
    CM_MIN_ATTACKS,
    CM_MIN_HEADACHE_DAYS,
    CM_MIN_MIGRAINE_DAYS,
    CONTRAINDICATION_ITEMS,
    CUMULATIVE_LIMIT_UNITS,
    EPISODIC_CONSECUTIVE_PERIODS,
    FIXED_DOSE_UNITS,
    FIXED_SITE_COUNT,
    FIXED_SITES,
    FOLLOW_THE_PAIN_DERIVED_LIMITS,
    FOLLOW_THE_PAIN_MAX_SITES,
    FOUR_HOUR_THRESHOLD_HOURS,
    LABEL_MIN_HEADACHE_DAYS_4H,
    MAX_SESSION_UNITS,
    MIN_PAIN_CHARACTERISTICS,
    MIN_RECORDED_DAYS,
    NICE_MIN_REDUCTION_PERCENT,
    OVERUSE_DAYS,
    PERIOD_DAYS,
    RESPONDER_50_PERCENT,
    RETREATMENT_INTERVAL_DAYS,
    UNITS_PER_0_1_ML,
    UNITS_PER_SITE,
    VIAL_SIZES_UNITS,
    WEEK24_PERIOD,
    AcuteClass,
    AcuteDays,
    DiaryDay,
    Intensity,
    Muscle,
    NiceTa260,
    Outcomes,
    PatientDiary,
    PeriodSummary,
    PlanError,
    SafetyInput,
    Side,
    chronic_migraine_verdict,
    classify_day,
    follow_the_pain_sites,
    interval_check,
    label_criteria_verdict,
    medication_overuse_verdict,
    percent_change,
    preempt_plan,
    reduction_at_least,
    safety_screen,
    treatment_outcomes,
)
from onaboard.clinical.days import pain_characteristics
from onaboard.clinical.outcomes import NICE_CYCLES
from onaboard.training.wording import ACUTE_CLASS_NAMES, MUSCLE_NAMES, ROUTE_NAMES, clinic_words, counted

__all__ = [
    "KINDS",
    "KINDS_BY_VERSION",
    "MUSCLE_NAMES",
    "QUIZ_TOO_FEW_DISTINCT",
    "QUIZ_VERSION",
    "Question",
    "QuestionResult",
    "QuizResult",
    "generate_question",
    "generate_quiz",
    "grade_quiz",
    "passed",
    "plan_description",
]

DAYS_PER_WEEK = 7
RETREATMENT_INTERVAL_WEEKS = RETREATMENT_INTERVAL_DAYS // DAYS_PER_WEEK
"""The engine's retreatment interval in weeks, as questions state it beside the days."""
PERIOD_WEEKS = PERIOD_DAYS // DAYS_PER_WEEK
"""The weeks of one diary period, as a course's periods are named ("Period 2 (weeks 4-8)")."""

REFERENCE_DATE = date(2026, 1, 5)
"""Dates in questions are drawn near this fixed day, so a quiz never depends on the clock."""

SOURCE_PREEMPT = (
    "Blumenfeld et al., Headache 2010;50:1406-18 (PREEMPT injection paradigm); BOTOX US PI, Chronic Migraine"
)
SOURCE_FOLLOW_THE_PAIN = (
    "Blumenfeld et al., Headache 2010;50:1406-18 (PREEMPT injection paradigm: follow-the-pain); EHF guideline, "
    "Bendtsen et al., J Headache Pain 2018;19:91 (155-195 U)"
)
"""The follow-the-pain limits: the method paper states temporalis and trapezius's and allows extra occipitalis
sites without a number; the BOTOX PI gives 155 U and no per-muscle follow-the-pain split (clinical-facts 1.2)."""
SOURCE_DILUTION = "BOTOX US PI, Chronic Migraine: dilution table (5 U per 0.1 mL)"
SOURCE_BILLING = "HCPCS J0585, CPT 64615, CMS JW/JZ single-dose vial policy"
SOURCE_DAYS = "shared/spec/diary-csv.md day definitions: ICHD-3 1.3 C and the BOTOX label's 4-hour headache day"
SOURCE_CM = "ICHD-3 1.3 Chronic migraine"
SOURCE_LABEL = "BOTOX US PI, Indications (chronic migraine) and 8.4 Pediatric Use"
SOURCE_MOH = "ICHD-3 8.2 Medication-overuse headache"
SOURCE_SAFETY = "BOTOX US PI: boxed warning, 4 Contraindications, Warnings and Precautions, 7 Drug Interactions, 8"
SOURCE_OUTCOMES = "PREEMPT (Dodick et al., Headache 2010;50:921-936): week 24 is period 6; NICE TA260 1.2"
SOURCE_INTERVAL = (
    "BOTOX US PI, Chronic Migraine: retreatment every 12 weeks; BOTOX labeling: at most 400 U in 3 months, units not "
    "convertible to other toxins; Medicare LCDs L34635, L39831"
)


@dataclass(frozen=True, slots=True)
class Question:
    """One multiple-choice question: the situation (``facts``), the choices, the engine's answer and why."""

    key: str
    kind: str
    prompt: str
    facts: tuple[str, ...]
    choices: tuple[str, ...]
    answer: int
    """Index into ``choices`` of the engine's answer."""
    explanation: tuple[str, ...]
    """The rule and the numbers behind the answer, in the engine's words."""
    source: str


@dataclass(frozen=True, slots=True)
class QuestionResult:
    question: Question
    chosen: int | None
    correct: bool


@dataclass(frozen=True, slots=True)
class QuizResult:
    results: tuple[QuestionResult, ...]
    correct: int
    total: int
    percent: int
    """Whole percent, rounded down (a pass is decided on exact integers, not on this figure)."""
    passed: bool
    pass_mark: int


def passed(correct: int, total: int, pass_mark: int) -> bool:
    """Whether ``correct`` of ``total`` reaches ``pass_mark`` percent, on exact integers."""
    return total > 0 and 100 * correct >= pass_mark * total


def _shuffle_choices(
    rng: random.Random, answer: str, wrong: Sequence[str], *, count: int = 4
) -> tuple[tuple[str, ...], int]:
    """The answer and up to ``count - 1`` distinct wrong choices, shuffled; the answer's index."""
    others: list[str] = []
    for choice in wrong:
        if choice != answer and choice not in others:
            others.append(choice)
    rng.shuffle(others)
    choices = [answer, *others[: count - 1]]
    rng.shuffle(choices)
    return tuple(choices), choices.index(answer)


def _ordered_choices(answer: str, options: Sequence[str]) -> tuple[tuple[str, ...], int]:
    """Fixed options in their natural order (verdicts), the answer's index."""
    return tuple(options), list(options).index(answer)


# --- PREEMPT sites and dose -------------------------------------------------------------------------------------


def _sites_phrase(sites: int) -> str:
    return f"{sites} site{'s' if sites != 1 else ''}, {sites * UNITS_PER_SITE} U"


def _muscle_sites(rng: random.Random) -> Question:
    muscle = rng.choice(list(Muscle))
    sides = FIXED_SITES[muscle]
    plan = preempt_plan()
    dose = plan.by_muscle[muscle]
    answer = f"{dose.sites} site{'s' if dose.sites != 1 else ''}, {dose.units} U"
    wrong = [_sites_phrase(n) for n in (1, 2, 3, 4, 6, 8, 10) if n != dose.sites]
    choices, index = _shuffle_choices(rng, answer, wrong)
    left = sides.count(Side.LEFT)
    placement = "a single midline site" if Side.MIDLINE in sides else f"{left} on the left and {left} on the right"
    return Question(
        "",
        "muscle_sites",
        f"In the fixed-site PREEMPT paradigm, how many sites and units does the {MUSCLE_NAMES[muscle]} receive?",
        (),
        choices,
        index,
        (
            (
                f"PREEMPT gives the {MUSCLE_NAMES[muscle]} {placement}: "
                f"{dose.sites} x {UNITS_PER_SITE} U = {dose.units} U."
            ),
            f"All {len(plan.sites)} fixed sites take {UNITS_PER_SITE} U in 0.1 mL: {plan.total_units} U in all.",
        ),
        SOURCE_PREEMPT,
    )


def _extra_phrase(sites: int) -> str:
    if not sites:
        return "none"
    return f"{sites} extra site{'s' if sites != 1 else ''} ({sites * UNITS_PER_SITE} U)"


def _plan_refusal(muscle: Muscle, limit: int) -> str:
    """The engine's refusal of a plan with one extra site more than ``limit`` in ``muscle``, in clinic words."""
    try:
        follow_the_pain_sites({muscle: limit + 1})
    except PlanError as error:
        return clinic_words(error.problems[0])
    return ""


def _derived_limit_explanation(muscle: Muscle, limit: int) -> tuple[str, ...]:
    """Why a derived follow-the-pain limit (``FOLLOW_THE_PAIN_DERIVED_LIMITS``: occipitalis) is a planning limit:
    what the cap leaves after the stated limits, which a plan keeps and a session recorded as given may pass (a
    departure from the label's dose, ``label_dose_departures``, overridden with a reason), in the engine's numbers."""
    cap = MAX_SESSION_UNITS - FIXED_DOSE_UNITS
    stated = " and ".join(
        f"{MUSCLE_NAMES[other]} {sites * UNITS_PER_SITE} U"
        for other, sites in FOLLOW_THE_PAIN_MAX_SITES.items()
        if other not in FOLLOW_THE_PAIN_DERIVED_LIMITS
    )
    name = MUSCLE_NAMES[muscle]
    return (
        (
            f"The limit of {_extra_phrase(limit)} is derived, not stated: it is what the {cap} U follow-the-pain "
            f"cap leaves after {stated}. Blumenfeld 2010 allows extra {name} sites but states no number."
        ),
        f"A plan keeps within it: the engine refuses one more in a plan (\u201c{_plan_refusal(muscle, limit)}\u201d).",
        (
            "A session recorded as given may go past it: that is a departure from the label's dose, recorded with "
            "an override reason."
        ),
    )


def _follow_the_pain_limit(rng: random.Random, *, plan_prompt: bool = True) -> Question:
    """How many extra sites a muscle takes, the engine's refusal of one more quoted. A limit stated in Blumenfeld
    2010 (temporalis, trapezius, none elsewhere) is refused in a plan and in a recorded session alike; a derived one
    (occipitalis, ``FOLLOW_THE_PAIN_DERIVED_LIMITS``) is asked about as a plan's limit (``plan_prompt``; versions
    before 4 asked "may be added", and keep that prompt) and explained as derived (``_derived_limit_explanation``).
    The BOTOX PI gives no per-muscle follow-the-pain split, so it is not the source."""
    muscle = rng.choice(list(Muscle))
    limit = FOLLOW_THE_PAIN_MAX_SITES.get(muscle, 0)
    answer = _extra_phrase(limit)
    wrong = [_extra_phrase(n) for n in (0, 1, 2, 3, 4, 6, 8)]
    choices, index = _shuffle_choices(rng, answer, wrong)
    cap = (
        f"Follow-the-pain adds at most {MAX_SESSION_UNITS - FIXED_DOSE_UNITS} U, only in temporalis, occipitalis and "
        f"trapezius: up to {MAX_SESSION_UNITS} U per session."
    )
    derived = muscle in FOLLOW_THE_PAIN_DERIVED_LIMITS
    if derived:
        explanation = (*_derived_limit_explanation(muscle, limit), cap)
    else:
        explanation = (f"The engine refuses one more: \u201c{_plan_refusal(muscle, limit)}\u201d.", cap)
    if derived and plan_prompt:
        prompt = f"How many follow-the-pain sites may a plan add to the {MUSCLE_NAMES[muscle]} at most?"
    else:
        prompt = f"How many follow-the-pain sites may be added to the {MUSCLE_NAMES[muscle]} at most?"
    return Question("", "follow_the_pain_limit", prompt, (), choices, index, explanation, SOURCE_FOLLOW_THE_PAIN)


def _follow_the_pain_limit_v3(rng: random.Random) -> Question:
    """Versions 1 to 3: the occipitalis question asked how many sites "may be added", as those attempts showed it;
    its explanation is the current one (the limit is derived, a plan's)."""
    return _follow_the_pain_limit(rng, plan_prompt=False)


def _dilution(rng: random.Random) -> Question:
    vial = rng.choice(VIAL_SIZES_UNITS)
    plan = preempt_plan(vial_units=vial)
    saline = plan.reconstitution.saline_ml
    answer = f"{saline} mL"
    wrong = [f"{Decimal(ml)} mL" for ml in ("1.0", "2.0", "2.5", "4.0", "5.0", "8.0")]
    choices, index = _shuffle_choices(rng, answer, wrong)
    return Question(
        "",
        "dilution",
        f"How much preservative-free 0.9% saline reconstitutes a {vial} U vial of BOTOX for chronic migraine?",
        (),
        choices,
        index,
        (
            (
                f"A {vial} U vial takes {saline} mL, giving {plan.reconstitution.units_per_0_1_ml} U per 0.1 mL: "
                f"{vial} U / {saline} mL = {UNITS_PER_0_1_ML * 10} U/mL."
            ),
            "Every site then receives 0.1 mL (5 U).",
        ),
        SOURCE_DILUTION,
    )


def _random_follow_the_pain(rng: random.Random) -> dict[Muscle, int]:
    counts = {}
    for muscle, limit in FOLLOW_THE_PAIN_MAX_SITES.items():
        if rng.random() < 0.5:
            counts[muscle] = rng.randint(1, limit)
    return counts


def plan_description(follow_the_pain: Mapping[Muscle, int], vial_units: int) -> str:
    """How a question states a plan: the fixed sites, the extra sites per muscle, the vial size."""
    extra = ", ".join(f"{count} extra in {MUSCLE_NAMES[muscle]}" for muscle, count in follow_the_pain.items())
    return f"{FIXED_SITE_COUNT} fixed sites{' + ' + extra if extra else ''}; {vial_units} U vials"


_WRONG_WASTE_UNITS = 9 * UNITS_PER_SITE
"""A plausible but wrong amount of waste for the wrong choices (nine sites' worth, 45 U): not a rule of the clinic,
only a distractor, so it is named rather than typed into each choice."""


def _vials_and_waste(rng: random.Random) -> Question:
    counts = _random_follow_the_pain(rng)
    vial = rng.choice(VIAL_SIZES_UNITS)
    plan = preempt_plan(follow_the_pain=counts, vial_units=vial)

    def phrase(vials: int, discarded: int) -> str:
        return f"{vials} vial{'s' if vials != 1 else ''}, {discarded} U discarded"

    answer = phrase(plan.vials, plan.discarded_units)
    wrong = [
        phrase(plan.vials + 1, plan.discarded_units + vial),
        phrase(max(1, plan.vials - 1), abs(max(1, plan.vials - 1) * vial - plan.total_units)),
        phrase(plan.vials, (plan.discarded_units + _WRONG_WASTE_UNITS) % vial or UNITS_PER_SITE),
        phrase(plan.vials, 0),
        phrase(plan.vials, abs(max(VIAL_SIZES_UNITS) - plan.total_units)),
    ]
    choices, index = _shuffle_choices(rng, answer, wrong)
    return Question(
        "",
        "vials_and_waste",
        "How many vials are opened and how many units are discarded?",
        (plan_description(counts, vial), f"{plan.site_count} sites x {UNITS_PER_SITE} U = {plan.total_units} U"),
        choices,
        index,
        (
            (
                f"{plan.total_units} U from {vial} U vials needs {plan.vials} vial{'s' if plan.vials != 1 else ''} "
                f"({plan.vials * vial} U); {plan.vials * vial} - {plan.total_units} = "
                f"{plan.discarded_units} U discarded."
            ),
            f"Billing modifier: {plan.billing_modifier} (JW when units are discarded, JZ when none are).",
        ),
        SOURCE_PREEMPT + "; " + SOURCE_BILLING,
    )


def _plan_total(rng: random.Random) -> Question:
    counts = _random_follow_the_pain(rng)
    plan = preempt_plan(follow_the_pain=counts)
    volume = sum(site.volume_ml for site in plan.sites)
    answer = f"{plan.total_units} U in {volume} mL at {plan.site_count} sites"
    wrong = []
    for delta in (-10, -5, 5, 10, 20):
        sites = plan.site_count + delta // UNITS_PER_SITE
        if sites > 0:
            wrong.append(f"{plan.total_units + delta} U in {Decimal(sites) / 10} mL at {sites} sites")
    wrong.append(f"{plan.total_units} U in {volume * 2} mL at {plan.site_count} sites")
    choices, index = _shuffle_choices(rng, answer, wrong)
    return Question(
        "",
        "plan_total",
        "What does this plan deliver in total?",
        (plan_description(counts, plan.vial_units),),
        choices,
        index,
        (
            (
                f"{FIXED_DOSE_UNITS} U at the {FIXED_SITE_COUNT} fixed sites plus "
                f"{counted(plan.follow_the_pain_count, 'follow-the-pain site')} x "
                f"{UNITS_PER_SITE} U = {plan.total_units} U (at most {MAX_SESSION_UNITS} U)."
            ),
            f"Each site is 0.1 mL, so {plan.site_count} sites take {volume} mL.",
        ),
        SOURCE_PREEMPT,
    )


def _billing(rng: random.Random) -> Question:
    counts = _random_follow_the_pain(rng)
    vial = rng.choice(VIAL_SIZES_UNITS)
    plan = preempt_plan(follow_the_pain=counts, vial_units=vial)

    def lines(plan_lines: Sequence[tuple[str, str | None, int]]) -> str:
        return "; ".join(
            f"{code}{'-' + modifier if modifier else ''} x {units}" for code, modifier, units in plan_lines
        )

    engine_lines = [
        (line.code, line.modifier.value if line.modifier else None, line.units) for line in plan.billing_lines
    ]
    answer = lines(engine_lines)
    total, waste = plan.total_units, plan.discarded_units
    wrong = [
        lines([("64615", None, 1), ("J0585", "JZ", total)]),
        lines([("64615", None, 1), ("J0585", None, total), ("J0585", "JW", waste or UNITS_PER_SITE)]),
        lines([("64615", None, 1), ("J0585", None, total + waste)]),
        lines([("64615", "50", 1), ("J0585", None, total), ("J0585", "JW", waste or _WRONG_WASTE_UNITS)]),
        lines([("64615", None, plan.site_count), ("J0585", None, total)]),
    ]
    choices, index = _shuffle_choices(rng, answer, wrong)
    return Question(
        "",
        "billing",
        "Which claim lines does this session produce?",
        (plan_description(counts, vial), f"{total} U given from {plan.vials} x {vial} U"),
        choices,
        index,
        (
            "CPT 64615 is reported once per session, bilateral by definition (no modifier 50).",
            f"J0585 is one unit per BOTOX unit: {total} given; "
            + (f"{waste} U discarded are billed on a JW line." if waste else "none discarded, so the line carries JZ."),
        ),
        SOURCE_BILLING,
    )


# --- Diary days and verdicts ------------------------------------------------------------------------------------

DAY_CATEGORIES = (
    "migraine day, headache 4 hours or longer",
    "migraine day, headache under 4 hours",
    "headache day (not migraine), 4 hours or longer",
    "headache day (not migraine), under 4 hours",
)


def _random_day(rng: random.Random) -> DiaryDay:
    hours = Decimal(rng.choice(("1", "2", "3", "3.5", "4", "5", "6", "8", "12")))
    intensity = rng.choice(list(Intensity))
    medication = frozenset(rng.sample([AcuteClass.TRIPTAN, AcuteClass.SIMPLE_ANALGESIC], k=rng.randint(0, 1)))
    return DiaryDay(
        patient_id="quiz",
        date=REFERENCE_DATE + timedelta(days=rng.randint(0, 60)),
        headache_hours=hours,
        intensity=intensity,
        unilateral=rng.random() < 0.5,
        pulsating=rng.random() < 0.5,
        worse_with_activity=rng.random() < 0.4,
        nausea=rng.random() < 0.35,
        vomiting=rng.random() < 0.1,
        photophobia=rng.random() < 0.5,
        phonophobia=rng.random() < 0.4,
        aura=rng.random() < 0.12,
        acute_medication=medication,
        acute_relief=bool(medication) and rng.random() < 0.7,
        believed_migraine=rng.random() < 0.4,
    )


def describe_day(day: DiaryDay) -> tuple[str, ...]:
    """A diary row as a person reads it."""
    features = [
        name
        for name, present in (
            ("one-sided", day.unilateral),
            ("pulsating", day.pulsating),
            ("worse with activity", day.worse_with_activity),
            ("nausea", day.nausea),
            ("vomiting", day.vomiting),
            ("light sensitivity", day.photophobia),
            ("sound sensitivity", day.phonophobia),
            ("aura", day.aura),
        )
        if present
    ]
    medication = ", ".join(sorted(ACUTE_CLASS_NAMES[cls] for cls in day.acute_medication)) or "none"
    return (
        f"Headache for {counted(day.headache_hours, 'hour')}, {day.intensity.value if day.intensity else 'no'} pain",
        f"Features: {', '.join(features) or 'none'}",
        f"Acute medication: {medication}{' (relieved it)' if day.acute_relief else ''}",
        f"Believed by the patient to be migraine at onset: {'yes' if day.believed_migraine else 'no'}",
    )


def _migraine_day(rng: random.Random) -> Question:
    day = _random_day(rng)
    classified = classify_day(day)
    long = classified.headache_4h
    answer = DAY_CATEGORIES[(0 if long else 1) if classified.migraine else (2 if long else 3)]
    choices, index = _ordered_choices(answer, DAY_CATEGORIES)
    characteristics = pain_characteristics(day)
    routes = ", ".join(sorted(ROUTE_NAMES[route] for route in classified.migraine_routes)) or "none"
    return Question(
        "",
        "migraine_day",
        "How does this diary day count?",
        describe_day(day),
        choices,
        index,
        (
            (
                f"ICHD-3 1.1 C: {counted(characteristics, 'pain characteristic')} of one-sided, pulsating, "
                f"moderate or severe, worse with activity (at least {MIN_PAIN_CHARACTERISTICS} needed), "
                "and 1.1 D needs nausea or vomiting, or light and sound sensitivity together."
            ),
            f"ICHD-3 1.3 C routes met: {routes} (features; aura; believed migraine relieved by a triptan or ergot).",
            (
                f"A headache lasting {FOUR_HOUR_THRESHOLD_HOURS} hours or longer is a 4-hour headache day "
                "(BOTOX label); "
                f"this one lasted {day.headache_hours} h."
            ),
        ),
        SOURCE_DAYS,
    )


def _period(
    index: int,
    *,
    headache: int,
    headache_4h: int,
    migraine: int,
    recorded: int = PERIOD_DAYS,
    acute: AcuteDays | None = None,
) -> PeriodSummary:
    start = REFERENCE_DATE - timedelta(days=PERIOD_DAYS * index - 1)
    acute = acute or AcuteDays()
    overuse_days = min(
        recorded, acute.triptan + acute.simple_analgesic + acute.opioid + acute.ergot + acute.combination_analgesic
    )
    return PeriodSummary(
        index=index,
        start=start,
        end=start + timedelta(days=PERIOD_DAYS - 1),
        days_recorded=recorded,
        headache_days=headache,
        headache_days_4h=headache_4h,
        migraine_days=migraine,
        acute_medication_days=acute,
        overuse_class_days=overuse_days,
        missing=False,
    )


def _random_periods(rng: random.Random) -> tuple[PeriodSummary, ...]:
    chronic = rng.random() < 0.55
    periods = []
    for index in (1, 2, 3):
        if chronic:
            headache = rng.randint(CM_MIN_HEADACHE_DAYS - 1 if rng.random() < 0.2 else CM_MIN_HEADACHE_DAYS, 24)
            migraine = rng.randint(CM_MIN_MIGRAINE_DAYS - 2 if rng.random() < 0.2 else CM_MIN_MIGRAINE_DAYS, headache)
        else:
            headache = rng.randint(4, 16)
            migraine = rng.randint(1, headache)
        migraine = min(migraine, headache)
        headache_4h = rng.randint(max(0, headache - 6), headache)
        recorded = PERIOD_DAYS if rng.random() < 0.85 else rng.randint(12, 19)
        headache = min(headache, recorded)
        headache_4h = min(headache_4h, headache)
        migraine = min(migraine, headache)
        periods.append(_period(index, headache=headache, headache_4h=headache_4h, migraine=migraine, recorded=recorded))
    return tuple(periods)


def _period_facts(
    periods: Sequence[PeriodSummary], *, attacks: int | None = None, extra: Sequence[str] = ()
) -> tuple[str, ...]:
    facts = [
        f"{p.label}: {p.days_recorded} of {PERIOD_DAYS} days recorded, {counted(p.headache_days, 'headache day')} "
        f"({p.headache_days_4h} lasting 4 h or more), {counted(p.migraine_days, 'migraine day')}"
        for p in periods
    ]
    if attacks is not None:
        facts.append(f"Migraine attacks recorded in the diary: {attacks}")
    return (*facts, *extra)


def _chronic_migraine_question(periods: Sequence[PeriodSummary], attacks: int) -> Question:
    """The chronic-migraine question on drawn periods and attacks, marked by the engine (every version)."""
    verdict = chronic_migraine_verdict(periods, attacks=attacks)
    answer = verdict.verdict.value.replace("_", " ")
    choices, index = _ordered_choices(answer, ("yes", "no", "insufficient data"))
    return Question(
        "",
        "chronic_migraine",
        "Does this diary show chronic migraine (ICHD-3 1.3) over the last three 28-day periods?",
        _period_facts(periods, attacks=attacks),
        choices,
        index,
        verdict.reasons,
        SOURCE_CM,
    )


def _chronic_migraine_v1(rng: random.Random) -> Question:
    """Version 1, kept so attempts drawn with it are drawn again as they were shown."""
    periods = _random_periods(rng)
    attacks = rng.choice((CM_MIN_ATTACKS - 2, CM_MIN_ATTACKS + 3, CM_MIN_ATTACKS + 10, CM_MIN_ATTACKS + 20))
    return _chronic_migraine_question(periods, attacks)


def _label_eligibility_question(periods: Sequence[PeriodSummary], attacks: int, age: int | None) -> Question:
    """The label-criteria question on drawn periods, attacks and age (None: no birth date), marked by the engine
    (every version)."""
    chronic = chronic_migraine_verdict(periods, attacks=attacks)
    verdict = label_criteria_verdict(periods, chronic_migraine=chronic, age_years=age, as_of=REFERENCE_DATE)
    answer = verdict.verdict.value.replace("_", " ")
    choices, index = _ordered_choices(answer, ("met", "not met", "insufficient data"))
    return Question(
        "",
        "label_eligibility",
        "Does this patient meet the BOTOX label's chronic-migraine criteria?",
        _period_facts(
            periods, attacks=attacks, extra=(f"Age: {age if age is not None else 'no birth date recorded'}",)
        ),
        choices,
        index,
        (*verdict.reasons, *(reason for reason in chronic.reasons if reason not in verdict.reasons)),
        SOURCE_LABEL + "; " + SOURCE_CM,
    )


def _label_eligibility_v1(rng: random.Random) -> Question:
    """Version 1, kept so attempts drawn with it are drawn again as they were shown."""
    periods = _random_periods(rng)
    attacks = CM_MIN_ATTACKS + rng.randint(0, 20)
    age = rng.choice((16, 17, 24, 38, 52, 67))
    return _label_eligibility_question(periods, attacks, age)


def _medication_overuse_question(
    periods: Sequence[PeriodSummary],
    acute_class: AcuteClass,
    *,
    show_recorded: bool,
    show_headache_days: bool = False,
) -> Question:
    """The medication-overuse question on drawn periods of one acute class, marked by the engine (every version;
    version 2 also says how many days each period recorded, ``show_recorded``; version 3 also each period's headache
    days, ``show_headache_days``, which ICHD-3 8.2 A asks for and the engine's explanation quotes)."""
    verdict = medication_overuse_verdict(periods)
    answer = verdict.verdict.value.replace("_", " ")
    choices, index = _ordered_choices(answer, ("suspected", "not suspected", "insufficient data"))
    name = ACUTE_CLASS_NAMES[acute_class]
    facts = tuple(
        f"{p.label}: "
        + (f"{p.days_recorded} of {PERIOD_DAYS} days recorded, " if show_recorded else "")
        + (f"headache on {counted(p.headache_days, 'day')}, " if show_headache_days else "")
        + f"{name} taken on {counted(p.acute_medication_days.of(acute_class), 'day')}"
        for p in periods
    )
    return Question(
        "",
        "medication_overuse",
        "Is medication-overuse headache (ICHD-3 8.2) suspected from these three periods?",
        facts,
        choices,
        index,
        verdict.reasons,
        SOURCE_MOH,
    )


def _medication_overuse_v1(rng: random.Random) -> Question:
    """Version 1, kept so attempts drawn with it are drawn again as they were shown."""
    periods = []
    acute_class = rng.choice((AcuteClass.TRIPTAN, AcuteClass.SIMPLE_ANALGESIC, AcuteClass.OPIOID))
    threshold = OVERUSE_DAYS[acute_class]
    for index in (1, 2, 3):
        days = max(0, threshold + rng.choice((-4, -1, 0, 2, 5)))
        acute = AcuteDays(**{acute_class.value: days, "any": days})
        periods.append(_period(index, headache=20, headache_4h=18, migraine=12, acute=acute))
    return _medication_overuse_question(periods, acute_class, show_recorded=False)


_SAFETY_ITEMS: tuple[tuple[str, str], ...] = (
    ("injection_site_infection", "infection of the skin at the forehead injection sites"),
    ("hypersensitivity_to_botulinum_toxin", "an allergic reaction to a botulinum toxin product in the past"),
    ("neuromuscular_junction_disorder", "myasthenia gravis"),
    ("motor_neuropathy_or_als", "a peripheral motor neuropathy"),
    ("dysphagia", "difficulty swallowing"),
    ("breathing_problems", "breathing problems"),
    ("cardiovascular_disease", "a myocardial infarction two years ago"),
    ("aminoglycoside_or_nmj_drug", "currently on gentamicin (an aminoglycoside)"),
    ("anticholinergic_drug", "takes an anticholinergic drug"),
    ("muscle_relaxant", "takes a muscle relaxant"),
    ("pregnant", "pregnant"),
    ("breastfeeding", "breastfeeding"),
)


PREGNANCY_ITEMS = ("pregnant", "breastfeeding")
"""The checklist items only a woman of childbearing age can answer "yes"."""


def random_safety_input(
    rng: random.Random,
    *,
    on: date,
    finding_chance: float = 0.7,
    minor_chance: float = 0.28,
    sex: str | None = None,
) -> tuple[SafetyInput, tuple[str, ...]]:
    """A checklist with every item answered, at most one of them "yes" (with ``finding_chance``), and an age (under
    18 with ``minor_chance``); and what a person reads of it.

    With ``sex`` ("woman" or "man") the checklist fits the patient: a man is never pregnant or breastfeeding, and a
    woman who is has an age of ``CHILDBEARING_AGES``. Without it (the quiz's version 1) the draws are as they were,
    the patient's sex unstated."""
    items = _SAFETY_ITEMS if sex in (None, "woman") else tuple(i for i in _SAFETY_ITEMS if i[0] not in PREGNANCY_ITEMS)
    answers: dict[str, object] = {field: False for field, _ in _SAFETY_ITEMS}
    facts = []
    roll = rng.random()
    field = None
    if roll < finding_chance:
        field, text = rng.choice(items)
        answers[field] = True
        facts.append(f"Checklist: {text}; every other item answered no")
    else:
        facts.append("Checklist: every item answered no")
    if sex is not None and field in PREGNANCY_ITEMS:
        age = rng.choice(CHILDBEARING_AGES)
    else:
        age = rng.choice((16, 17)) if rng.random() < minor_chance else rng.choice((23, 35, 48, 61))
    birth = date(on.year - age, 1 + rng.randint(0, 11), 1 + rng.randint(0, 27))
    facts.append(f"Born {birth.isoformat()}; screened on {on.isoformat()}")
    facts.append("No other botulinum toxin in the last 3 months")
    checklist = SafetyInput(birth_date=birth, other_toxin_treatments=(), answered_on=on, **answers)  # type: ignore[arg-type]
    return checklist, tuple(facts)


def _safety_question(patient: SafetyInput, facts: tuple[str, ...], on: date) -> Question:
    """The safety-screen question on a drawn checklist, marked by the engine (every version)."""
    screen = safety_screen(patient, on=on)
    answer = screen.verdict.value
    choices, index = _ordered_choices(answer, ("contraindicated", "caution", "unknown", "clear"))
    return Question(
        "",
        "safety",
        "What is the pre-injection safety screen's verdict?",
        facts,
        choices,
        index,
        screen.reasons,
        SOURCE_SAFETY,
    )


def _safety_v1(rng: random.Random) -> Question:
    """Version 1, kept so attempts drawn with it are drawn again as they were shown."""
    on = REFERENCE_DATE + timedelta(days=rng.randint(0, 200))
    return _safety_question(*random_safety_input(rng, on=on), on)


# --- Outcomes ---------------------------------------------------------------------------------------------------


def course_diary(
    day0: date,
    headache_days: Sequence[int],
    *,
    recorded: Sequence[int] | None = None,
    rng: random.Random | None = None,
    patient_id: str = "course",
) -> PatientDiary:
    """A diary around a first injection on ``day0``: ``headache_days[0]`` headache days in the baseline (days
    -28..-1), then one count per 28-day period after it; each headache day lasts 6 h. ``recorded`` gives the days
    with a row per period (default all 28); with ``rng`` the recorded and headache days are scattered in the period,
    otherwise they come first."""
    days = []
    for k, count in enumerate(headache_days):
        start = day0 + timedelta(days=PERIOD_DAYS * (k - 1))
        rows = recorded[k] if recorded is not None else PERIOD_DAYS
        offsets = list(range(PERIOD_DAYS))
        if rng is not None:
            rng.shuffle(offsets)
        kept = sorted(offsets[:rows])
        ill = set(offsets[: min(count, rows)])
        for offset in kept:
            headache = offset in ill
            days.append(
                DiaryDay(
                    patient_id=patient_id,
                    date=start + timedelta(days=offset),
                    headache_hours=Decimal(6 if headache else 0),
                    intensity=Intensity.MODERATE if headache else None,
                )
            )
    return PatientDiary(patient_id, tuple(days))


def _random_course(rng: random.Random) -> tuple[date, list[int]]:
    baseline = rng.randint(15, 26)
    kind = rng.random()
    if kind < 0.4:  # responder
        final = rng.randint(max(1, baseline // 4), baseline * 6 // 10)
    elif kind < 0.75:  # poor response
        final = rng.randint(baseline * 75 // 100, baseline)
    else:  # near the 30 % line
        final = baseline - (baseline * 3 + 9) // 10 + rng.choice((0, 1))
    counts = [baseline]
    for k in range(1, WEEK24_PERIOD + 1):
        counts.append(round(baseline + (final - baseline) * min(1.0, k / 4)) + rng.choice((-1, 0, 0, 1)))
    counts[WEEK24_PERIOD] = final
    counts = [max(0, min(PERIOD_DAYS, count)) for count in counts]
    day0 = REFERENCE_DATE + timedelta(days=rng.randint(0, 120))
    return day0, counts


def course_facts(day0: date, counts: Sequence[int], *, recorded: Sequence[int] | None = None) -> tuple[str, ...]:
    """The headache days per period of a course as a person reads them; with ``recorded``, a period with fewer than
    28 days recorded says how many."""

    def gaps(k: int) -> str:
        days = PERIOD_DAYS if recorded is None else recorded[k]
        return f" ({days} of {PERIOD_DAYS} days recorded)" if days < PERIOD_DAYS else ""

    injections = [day0 + timedelta(days=RETREATMENT_INTERVAL_DAYS * n) for n in range(2)]
    rows = [
        f"Injections on {', '.join(day.isoformat() for day in injections)} ({RETREATMENT_INTERVAL_WEEKS} weeks apart)"
    ]
    rows.append(f"Baseline ({PERIOD_DAYS} days before the first injection): {counts[0]} headache days{gaps(0)}")
    rows += [
        f"Period {k} (weeks {PERIOD_WEEKS * (k - 1)}-{PERIOD_WEEKS * k}): {count} headache days{gaps(k)}"
        for k, count in enumerate(counts[1:], 1)
    ]
    return tuple(rows)


REVERSION_EXPLAINED = (
    "NICE TA260 1.2: the migraine is no longer chronic (fewer than {days} headache days in each of {periods} "
    "consecutive periods), so the rule stops treatment; the clinician reviews the decision with the patient and "
    "watches for a return to chronic migraine"
)
"""What a stop on the return to episodic migraine means, after the engine's reasons (NICE TA260 1.2; the watch for a
relapse is the EHF guideline's re-check after stopping, module "Outcomes and when to stop")."""

NICE_STOP_RULES = (
    "NICE TA260 1.2 stops treatment when headache days have fallen by less than {percent} % after {cycles} treatment "
    "cycles (week {week}), or when the migraine has changed to episodic (fewer than {days} headache days in each of "
    "{periods} consecutive periods): a reduction of {percent} % or more does not by itself continue treatment."
)
"""Both NICE TA260 1.2 stop rules, as the engine applies them (``nice_ta260_verdict``), filled in with its constants:
the week-24 response question asks only for the change and the PREEMPT responder, so it states NICE's rules whole
rather than the reduction threshold alone, which would seem to continue treatment on its own."""


def _nice_explanation(outcomes: Outcomes) -> tuple[str, ...]:
    """The engine's NICE TA260 reasons, and what a stop on the return to episodic migraine means."""
    verdict = outcomes.nice_ta260
    if verdict.verdict is NiceTa260.STOP and verdict.reverted_to_episodic:
        meaning = REVERSION_EXPLAINED.format(days=CM_MIN_HEADACHE_DAYS, periods=EPISODIC_CONSECUTIVE_PERIODS)
        return (*verdict.reasons, meaning)
    return verdict.reasons


def _continue_or_stop_question(day0: date, counts: Sequence[int], recorded: Sequence[int] | None) -> Question:
    """The week-24 NICE TA260 question on a drawn course (``recorded`` None: every day recorded), marked by the
    engine (every version)."""
    diary = course_diary(day0, counts, recorded=recorded)
    outcomes = treatment_outcomes(diary, injections=[day0, day0 + timedelta(days=RETREATMENT_INTERVAL_DAYS)])
    answer = outcomes.nice_ta260.verdict.value.replace("_", " ")
    choices, index = _ordered_choices(answer, ("continue", "stop", "not yet assessable"))
    return Question(
        "",
        "continue_or_stop",
        "At the week-24 review, what do the NICE TA260 stopping rules say?",
        course_facts(day0, counts, recorded=recorded),
        choices,
        index,
        _nice_explanation(outcomes),
        SOURCE_OUTCOMES,
    )


def _continue_or_stop_v1(rng: random.Random) -> Question:
    """Version 1, kept so attempts drawn with it are drawn again as they were shown."""
    day0, counts = _random_course(rng)
    return _continue_or_stop_question(day0, counts, None)


def _week24_response(rng: random.Random) -> Question:
    baseline = rng.randint(15, 26)
    week24 = rng.randint(2, baseline)
    change = percent_change(baseline, week24)
    responder = reduction_at_least(baseline, week24, RESPONDER_50_PERCENT)

    def phrase(percent: Decimal | None, is_responder: bool) -> str:
        return f"{percent} % change; {'a' if is_responder else 'not a'} {RESPONDER_50_PERCENT} % responder"

    answer = phrase(change, responder)
    wrong = [phrase(change, not responder)]
    other = percent_change(week24, baseline)
    wrong.append(phrase(other, responder))
    if change:  # the sign turned round; no change has none to turn (-0.0 would be the answer again)
        wrong.append(phrase(-change, responder))
    wrong.append(phrase(percent_change(baseline, max(0, week24 - 3)), not responder))
    choices, index = _shuffle_choices(rng, answer, wrong)
    return Question(
        "",
        "week24_response",
        "What is the change in headache days at week 24, and is the patient a responder?",
        (
            f"Baseline: {baseline} headache days in {PERIOD_DAYS}",
            f"Period {WEEK24_PERIOD} (week {WEEK24_PERIOD * PERIOD_WEEKS}): {week24} headache days",
        ),
        choices,
        index,
        (
            f"Change = 100 x ({week24} - {baseline}) / {baseline} = {change} %.",
            f"A responder has at least {RESPONDER_50_PERCENT} % fewer headache days (PREEMPT).",
            NICE_STOP_RULES.format(
                percent=NICE_MIN_REDUCTION_PERCENT,
                cycles=NICE_CYCLES,
                week=WEEK24_PERIOD * PERIOD_WEEKS,
                days=CM_MIN_HEADACHE_DAYS,
                periods=EPISODIC_CONSECUTIVE_PERIODS,
            ),
        ),
        SOURCE_OUTCOMES,
    )


def _retreatment_interval(rng: random.Random) -> Question:
    previous = REFERENCE_DATE + timedelta(days=rng.randint(0, 90))
    gap = rng.choice((70, 77, 83, 84, 85, 90))
    check = interval_check(previous, previous + timedelta(days=gap))
    answer = "yes" if check.allowed else "no"
    choices, index = _ordered_choices(answer, ("yes", "no"))
    return Question(
        "",
        "retreatment_interval",
        "May the next session go ahead on the proposed date?",
        (f"Previous session: {previous.isoformat()}", f"Proposed session: {check.proposed.isoformat()}"),
        choices,
        index,
        (
            check.reason,
            (
                f"Sessions are at least {RETREATMENT_INTERVAL_DAYS} days ({RETREATMENT_INTERVAL_WEEKS} weeks) apart; "
                f"all BOTOX (onabotulinumtoxinA) given in any 3 months, for any indication, stays within "
                f"{CUMULATIVE_LIMIT_UNITS} U; other toxins' units cannot be converted to BOTOX units."
            ),
        ),
        SOURCE_INTERVAL,
    )


# --- Version 2: situations aimed at each verdict in turn, marked by the engine -----------------------------------

ADULT_AGES = (24, 38, 52, 67)
MINOR_AGES = (16, 17)
CHILDBEARING_AGES = (23, 35)


def _chronic_period(rng: random.Random, index: int, *, recorded: int = PERIOD_DAYS) -> PeriodSummary:
    """A period of chronic migraine that meets the label's 4-hour rule too (the ranges of ``_random_periods``), with
    at most ``recorded`` days counted."""
    headache = rng.randint(CM_MIN_HEADACHE_DAYS, 24)
    migraine = rng.randint(CM_MIN_MIGRAINE_DAYS, headache)
    headache_4h = rng.randint(max(LABEL_MIN_HEADACHE_DAYS_4H, headache - 6), headache)
    return _period(
        index,
        headache=min(headache, recorded),
        headache_4h=min(headache_4h, recorded),
        migraine=min(migraine, recorded),
        recorded=recorded,
    )


def _aimed_periods(rng: random.Random, aim: str) -> tuple[PeriodSummary, ...]:
    """Three 28-day periods of chronic migraine, one or more of them changed by ``aim``: ``episodic`` (fewer than 15
    headache days), ``few_migraine_days`` (fewer than 8 migraine days), ``short_headaches`` (fewer than 15 days of 4
    hours or longer), ``incomplete`` (12 to 19 days recorded); ``chronic`` changes none."""
    changed = set(rng.sample((1, 2, 3), k=rng.randint(1, 3) if aim == "episodic" else 1))
    periods = []
    for index in (1, 2, 3):
        if index not in changed or aim == "chronic":
            periods.append(_chronic_period(rng, index))
        elif aim == "incomplete":
            periods.append(_chronic_period(rng, index, recorded=rng.randint(12, MIN_RECORDED_DAYS - 1)))
        elif aim == "episodic":
            headache = rng.randint(4, CM_MIN_HEADACHE_DAYS - 1)
            migraine = rng.randint(1, headache)
            periods.append(
                _period(
                    index, headache=headache, headache_4h=rng.randint(max(0, headache - 6), headache), migraine=migraine
                )
            )
        elif aim == "few_migraine_days":
            headache = rng.randint(CM_MIN_HEADACHE_DAYS, 24)
            headache_4h = rng.randint(max(LABEL_MIN_HEADACHE_DAYS_4H, headache - 6), headache)
            migraine = rng.randint(CM_MIN_MIGRAINE_DAYS - 4, CM_MIN_MIGRAINE_DAYS - 1)
            periods.append(_period(index, headache=headache, headache_4h=headache_4h, migraine=migraine))
        else:  # short_headaches: headache on 15 days or more, fewer of them lasting 4 hours
            headache = rng.randint(CM_MIN_HEADACHE_DAYS, LABEL_MIN_HEADACHE_DAYS_4H + 5)
            headache_4h = rng.randint(headache - 6, LABEL_MIN_HEADACHE_DAYS_4H - 1)
            migraine = rng.randint(CM_MIN_MIGRAINE_DAYS, headache)
            periods.append(_period(index, headache=headache, headache_4h=headache_4h, migraine=migraine))
    return tuple(periods)


def _chronic_migraine(rng: random.Random) -> Question:
    aim = rng.choice(("chronic", "chronic", "episodic", "few_migraine_days", "few_attacks", "incomplete", "incomplete"))
    periods = _aimed_periods(rng, "chronic" if aim == "few_attacks" else aim)
    if aim == "few_attacks":
        attacks = rng.randint(1, CM_MIN_ATTACKS - 1)
    else:
        attacks = rng.choice((CM_MIN_ATTACKS + 3, CM_MIN_ATTACKS + 10, CM_MIN_ATTACKS + 20))
    return _chronic_migraine_question(periods, attacks)


def _label_eligibility(rng: random.Random) -> Question:
    aim = rng.choice(("chronic", "chronic", "short_headaches", "episodic", "under_18", "incomplete", "no_birth_date"))
    periods = _aimed_periods(rng, "chronic" if aim in ("under_18", "no_birth_date") else aim)
    attacks = CM_MIN_ATTACKS + rng.randint(0, 20)
    age = None if aim == "no_birth_date" else rng.choice(MINOR_AGES if aim == "under_18" else ADULT_AGES)
    return _label_eligibility_question(periods, attacks, age)


def _medication_overuse(rng: random.Random) -> Question:
    """Version 3: version 2's periods, each also with its headache days (ICHD-3 8.2 A)."""
    periods, acute_class = _medication_overuse_periods(rng)
    return _medication_overuse_question(periods, acute_class, show_recorded=True, show_headache_days=True)


def _medication_overuse_v2(rng: random.Random) -> Question:
    """Version 2, kept so attempts drawn with it are drawn again as they were shown (no headache days)."""
    periods, acute_class = _medication_overuse_periods(rng)
    return _medication_overuse_question(periods, acute_class, show_recorded=True)


def _medication_overuse_periods(rng: random.Random) -> tuple[list[PeriodSummary], AcuteClass]:
    """Three periods of one acute class aimed at each verdict in turn (versions 2 and 3)."""
    acute_class = rng.choice((AcuteClass.TRIPTAN, AcuteClass.SIMPLE_ANALGESIC, AcuteClass.OPIOID))
    threshold = OVERUSE_DAYS[acute_class]
    aim = rng.choice(("suspected", "not_suspected", "incomplete"))
    offsets = [rng.choice((0, 2, 5)) for _ in range(3)]
    if aim == "not_suspected":
        for below in rng.sample(range(3), k=rng.randint(1, 3)):
            offsets[below] = rng.choice((-4, -1))
    gap = rng.randrange(3) if aim == "incomplete" else None
    periods = []
    for position, offset in enumerate(offsets):
        recorded = rng.randint(12, MIN_RECORDED_DAYS - 1) if position == gap else PERIOD_DAYS
        days = min(recorded, max(0, threshold + offset))
        acute = AcuteDays(**{acute_class.value: days, "any": days})
        periods.append(
            _period(
                position + 1,
                headache=min(20, recorded),
                headache_4h=min(18, recorded),
                migraine=12,
                recorded=recorded,
                acute=acute,
            )
        )
    return periods, acute_class


_SAFETY_TOPICS: Mapping[str, str] = {
    "injection_site_infection": "infection at the injection sites",
    "hypersensitivity_to_botulinum_toxin": "allergy to botulinum toxin products",
    "neuromuscular_junction_disorder": "neuromuscular junction disorders (myasthenia gravis, Lambert-Eaton)",
    "motor_neuropathy_or_als": "motor neuropathy or ALS",
    "dysphagia": "difficulty swallowing",
    "breathing_problems": "breathing problems",
    "cardiovascular_disease": "heart disease",
    "aminoglycoside_or_nmj_drug": "aminoglycosides and other drugs acting on neuromuscular transmission",
    "anticholinergic_drug": "anticholinergic drugs",
    "muscle_relaxant": "muscle relaxants",
    "pregnant": "pregnancy",
    "breastfeeding": "breastfeeding",
}
"""What each checklist item asks about, for a question where it was not asked."""


def aimed_safety_input(rng: random.Random, *, on: date) -> tuple[SafetyInput, tuple[str, ...]]:
    """A checklist aimed at each verdict in turn: a contraindication, a warning or an age under 18, a question not
    asked (a checklist item, the birth date or other botulinum toxins), or nothing found; and what a person reads."""
    answers: dict[str, bool | None] = {field: False for field, _ in _SAFETY_ITEMS}
    texts = dict(_SAFETY_ITEMS)
    aim = rng.choice(("contraindication", "warning", "not_asked", "nothing"))
    finding = None
    if aim == "contraindication":
        finding = rng.choice(CONTRAINDICATION_ITEMS)
    elif aim == "warning":
        finding = rng.choice([field for field in texts if field not in CONTRAINDICATION_ITEMS] + ["under_18"])
    elif aim == "not_asked":
        finding = rng.choice([*texts, "birth_date", "other_toxins"])
    facts = []
    if finding in texts and aim != "not_asked":
        answers[finding] = True
        facts.append(f"Checklist: {texts[finding]}; every other item answered no")
    elif finding in texts:
        answers[finding] = None
        facts.append(f"Checklist: {_SAFETY_TOPICS[finding]} not asked; every other item answered no")
    else:
        facts.append("Checklist: every item answered no")
    if finding == "under_18":
        age = rng.choice(MINOR_AGES)
    else:
        age = rng.choice(CHILDBEARING_AGES if finding in ("pregnant", "breastfeeding") else ADULT_AGES)
    birth = date(on.year - age, 1 + rng.randint(0, 11), 1 + rng.randint(0, 27))
    if finding == "birth_date":
        facts.append(f"Birth date not recorded; screened on {on.isoformat()}")
    else:
        facts.append(f"Born {birth.isoformat()}; screened on {on.isoformat()}")
    if finding == "other_toxins":
        facts.append("Other botulinum toxin in the last 3 months: not asked")
    else:
        facts.append("No other botulinum toxin in the last 3 months")
    patient = SafetyInput(
        birth_date=None if finding == "birth_date" else birth,
        other_toxin_treatments=None if finding == "other_toxins" else (),
        answered_on=on,  # the checklist is asked on the screening day, as the facts read
        **answers,  # type: ignore[arg-type]
    )
    return patient, tuple(facts)


def _safety(rng: random.Random) -> Question:
    on = REFERENCE_DATE + timedelta(days=rng.randint(0, 200))
    return _safety_question(*aimed_safety_input(rng, on=on), on)


def _aimed_course(rng: random.Random) -> tuple[date, list[int], list[int]]:
    """A treated course aimed at each NICE TA260 outcome in turn: a response of 30 % or more with headache on 15 days
    or more in a recent period (continue), less than 30 % (stop), a return to episodic migraine in the three periods
    to week 24 (stop), or a week-24 period or baseline with fewer than 20 days recorded (not yet assessable).
    Baselines are 15-26 headache days (PREEMPT entry >= 15, pooled mean about 20, COMPEL 22.0 SD 4.8). Returns the
    first injection day, the headache days per period from the baseline and the days recorded per period."""
    aim = rng.choice(("continue", "continue", "poor_response", "episodic", "week24_gaps", "baseline_gaps"))
    # a course that continues needs room for a 30 % fall that still leaves a period of chronic migraine
    baseline = rng.randint(CM_MIN_HEADACHE_DAYS if aim in {"poor_response", "episodic"} else 18, 26)
    most_kept = baseline * (100 - NICE_MIN_REDUCTION_PERCENT) // 100  # the most headache days of a 30 % fall
    if aim == "poor_response":
        final = rng.randint(most_kept + 1, baseline)
    elif aim == "episodic":
        final = rng.randint(max(2, baseline // 4), min(CM_MIN_HEADACHE_DAYS - 1, most_kept))
    else:
        final = rng.randint(baseline // 2, most_kept)
    reached = 3 if aim == "episodic" else WEEK24_PERIOD  # the period by which the week-24 count is reached
    counts = [baseline]
    for k in range(1, WEEK24_PERIOD + 1):
        counts.append(round(baseline + (final - baseline) * min(1.0, k / reached)) + rng.choice((-1, 0, 0, 1)))
    counts[WEEK24_PERIOD] = final
    if aim == "episodic":
        for k in range(WEEK24_PERIOD - EPISODIC_CONSECUTIVE_PERIODS + 1, WEEK24_PERIOD):
            counts[k] = min(counts[k], CM_MIN_HEADACHE_DAYS - 1)
    elif aim != "poor_response" and max(counts[4], counts[5]) < CM_MIN_HEADACHE_DAYS:
        counts[rng.choice((4, 5))] = CM_MIN_HEADACHE_DAYS + rng.randint(0, 2)  # a bad month: still chronic
    recorded = [PERIOD_DAYS] * (WEEK24_PERIOD + 1)
    if aim == "week24_gaps":
        recorded[WEEK24_PERIOD] = rng.randint(8, MIN_RECORDED_DAYS - 1)
    elif aim == "baseline_gaps":
        recorded[0] = rng.randint(10, MIN_RECORDED_DAYS - 1)
    counts = [max(0, min(days, count)) for count, days in zip(counts, recorded, strict=True)]
    day0 = REFERENCE_DATE + timedelta(days=rng.randint(0, 120))
    return day0, counts, recorded


def _continue_or_stop(rng: random.Random) -> Question:
    return _continue_or_stop_question(*_aimed_course(rng))


KINDS: Mapping[str, Callable[[random.Random], Question]] = {
    "muscle_sites": _muscle_sites,
    "follow_the_pain_limit": _follow_the_pain_limit,
    "dilution": _dilution,
    "vials_and_waste": _vials_and_waste,
    "plan_total": _plan_total,
    "billing": _billing,
    "migraine_day": _migraine_day,
    "chronic_migraine": _chronic_migraine,
    "label_eligibility": _label_eligibility,
    "medication_overuse": _medication_overuse,
    "safety": _safety,
    "week24_response": _week24_response,
    "continue_or_stop": _continue_or_stop,
    "retreatment_interval": _retreatment_interval,
}
"""Every question kind a module may list in its front matter, by name (the current version's generators)."""

QUIZ_VERSION = 4
"""The version of the generators new attempts are drawn with. Version 1 drew one verdict for most questions of a
kind (week 24 "stop" 94 %, label "not met" 84 %, safety "caution" 70 %) and never "not yet assessable", "unknown"
or "insufficient data" for medication overuse; version 2 aims at each verdict in turn. Version 3 shows each period's
headache days in the medication-overuse question (ICHD-3 8.2 A, which the engine's explanation quotes). Version 4
asks how many follow-the-pain sites a plan may add to the occipitalis, a limit derived from the 40 U cap, not stated
(``FOLLOW_THE_PAIN_DERIVED_LIMITS``), where earlier versions asked how many "may be added"."""

KINDS_BY_VERSION: Mapping[int, Mapping[str, Callable[[random.Random], Question]]] = {
    1: {
        **KINDS,
        "follow_the_pain_limit": _follow_the_pain_limit_v3,
        "chronic_migraine": _chronic_migraine_v1,
        "label_eligibility": _label_eligibility_v1,
        "medication_overuse": _medication_overuse_v1,
        "safety": _safety_v1,
        "continue_or_stop": _continue_or_stop_v1,
    },
    2: {**KINDS, "follow_the_pain_limit": _follow_the_pain_limit_v3, "medication_overuse": _medication_overuse_v2},
    3: {**KINDS, "follow_the_pain_limit": _follow_the_pain_limit_v3},
    QUIZ_VERSION: KINDS,
}
"""The generators of each version: an attempt is drawn again with the version it was first drawn with, so its stored
answers are marked against the questions it showed. Version 1 shares every generator but its five ``_v1`` ones and
``_follow_the_pain_limit_v3`` with the current version, version 2 every one but ``_medication_overuse_v2`` and
``_follow_the_pain_limit_v3``, version 3 every one but ``_follow_the_pain_limit_v3``, so a change to what any
generator draws, shared or not, must add a version (keeping the old generator for the versions before it);
``tests/training/test_quiz.py`` fingerprints every kind of every version. Explanations and sources are not part of
what a version keeps: an old version's question is explained as the engine explains it now."""


def generate_question(kind: str, rng: random.Random, *, key: str = "q1", version: int = QUIZ_VERSION) -> Question:
    """One question of ``kind`` drawn with ``rng`` by the generators of ``version``; the engine's reasons it quotes
    are in the clinic's words (``clinic_words``: "cervical paraspinal", not the engine's ``cervical_paraspinal``)."""
    question = KINDS_BY_VERSION[version][kind](rng)
    fields = {name: getattr(question, name) for name in Question.__slots__}  # type: ignore[attr-defined]
    fields["explanation"] = tuple(clinic_words(line) for line in question.explanation)
    return Question(**{**fields, "key": key})


QUIZ_TOO_FEW_DISTINCT = "quiz {module}: its kinds ({kinds}) give only {found} different questions, {count} are asked"
DRAWS_PER_KIND = 64
"""Draws of one kind in a row that may all repeat a question already asked before the kind counts as exhausted for
the attempt (a kind with 2 situations, such as the two vial sizes of ``dilution``, runs out after 2)."""


def _identity(question: Question) -> tuple[str, str, tuple[str, ...]]:
    """What makes two questions the same question for a trainee: the same prompt on the same facts (the engine then
    gives the same answer; the order of the choices does not make it another question)."""
    return (question.kind, question.prompt, question.facts)


def generate_quiz(
    module_id: str, kinds: Sequence[str], count: int, seed: int, *, distinct: bool = True, version: int = QUIZ_VERSION
) -> tuple[Question, ...]:
    """``count`` different questions for a module, kinds taken in turn from a shuffled ``kinds``; the same arguments
    always give the same questions. Keys are ``q1``, ``q2``...

    No question is asked twice in one attempt (``_identity``): a draw that repeats one already asked is drawn again
    from the same seeded generator, and a kind with no new question left in ``DRAWS_PER_KIND`` draws gives its turn
    to the module's next kind. ``ValueError`` (``QUIZ_TOO_FEW_DISTINCT``) when the kinds together cannot give
    ``count`` different questions. While no draw repeats, the questions are those of the first draws, so the
    questions of an attempt are unchanged by the redraws it never needed. ``distinct=False`` draws as attempts made
    before this rule did (repeats allowed), so those attempts keep the questions they were shown and answered.
    ``version`` picks the generators (``KINDS_BY_VERSION``): an attempt passes the version it was drawn with.
    """
    rng = random.Random(f"onaboard.training.quiz:{module_id}:{seed}")  # noqa: S311 - teaching, not secrets
    order = list(kinds)
    rng.shuffle(order)
    if not distinct:
        return tuple(
            generate_question(order[i % len(order)], rng, key=f"q{i + 1}", version=version) for i in range(count)
        )
    questions: list[Question] = []
    asked: set[tuple[str, str, tuple[str, ...]]] = set()
    exhausted: set[str] = set()
    for i in range(count):
        turn = order[i % len(order) :] + order[: i % len(order)]
        drawn = None
        for kind in (kind for kind in turn if kind not in exhausted):
            for _ in range(DRAWS_PER_KIND):
                question = generate_question(kind, rng, key=f"q{i + 1}", version=version)
                if _identity(question) not in asked:
                    drawn = question
                    break
            if drawn is not None:
                break
            exhausted.add(kind)
        if drawn is None:
            raise ValueError(
                QUIZ_TOO_FEW_DISTINCT.format(
                    module=module_id, kinds=", ".join(kinds), found=len(questions), count=count
                )
            )
        asked.add(_identity(drawn))
        questions.append(drawn)
    return tuple(questions)


def grade_quiz(questions: Sequence[Question], answers: Mapping[str, int | None], *, pass_mark: int) -> QuizResult:
    """Mark each question: right when the chosen index is the engine's answer; unanswered counts as wrong."""
    results = []
    for question in questions:
        chosen = answers.get(question.key)
        valid = chosen if chosen is not None and 0 <= chosen < len(question.choices) else None
        results.append(QuestionResult(question, valid, valid == question.answer))
    correct = sum(result.correct for result in results)
    total = len(results)
    return QuizResult(
        tuple(results),
        correct,
        total,
        100 * correct // total if total else 0,
        passed(correct, total, pass_mark),
        pass_mark,
    )
