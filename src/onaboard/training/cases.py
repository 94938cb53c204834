"""Graded cases: made-up patients (diary, history, safety screen) on which the trainee decides, step by step, what
the clinic's engine decides, and is told per step where they agree and why.

A case is drawn from a seed (``generate_case``), so the same seed is always the same patient; its diary comes from
``onaboard.synthetic`` and every answer from the engine: eligibility is ``assess``'s BOTOX label verdict, the screen
is ``safety_screen``, the plan is ``preempt_plan`` (units, vials, discarded units) and the week-24 decision is the
NICE TA260 verdict of ``treatment_outcomes`` on the patient's treated course. The first three steps are decided at
the first visit; the week-24 step comes later, once the course is shown.

Only a patient the engine would treat has a course: the label's criteria met and a safety screen that is not
contraindicated. Any other case ends after the first visit, whose three steps are then the whole case. The course
is the same patient's diary carried on: the first-visit diary's days unchanged, the days up to the first injection
drawn the same way, and after it the headache days thinned as the treatment takes effect.
"""

from __future__ import annotations

import enum
import random
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from onaboard.clinical import (
    CM_MIN_HEADACHE_DAYS,
    FOLLOW_THE_PAIN_MAX_SITES,
    MIN_RECORDED_DAYS,
    PERIOD_DAYS,
    RETREATMENT_INTERVAL_DAYS,
    UNITS_PER_SITE,
    VIAL_SIZES_UNITS,
    WEEK24_PERIOD,
    Assessment,
    DiaryDay,
    InjectionPlan,
    LabelCriteria,
    Muscle,
    NiceTa260,
    Outcomes,
    PatientDiary,
    SafetyInput,
    SafetyScreen,
    SafetyVerdict,
    assess,
    classify_day,
    preempt_plan,
    safety_screen,
    treatment_outcomes,
)
from onaboard.synthetic import Profile, synthetic_patient_days
from onaboard.training.quiz import random_safety_input
from onaboard.training.wording import MUSCLE_NAMES, clinic_words, counted

__all__ = [
    "CASE_DIARY_DAYS",
    "CASE_VERSION",
    "CASE_VERSIONS",
    "ELIGIBILITY_CHOICES",
    "FIRST_VISIT_STEPS",
    "NOT_TREATED",
    "SAFETY_CHOICES",
    "WEEK24_CHOICES",
    "Case",
    "CaseGrade",
    "Decisions",
    "Step",
    "StepFeedback",
    "case_assessment",
    "case_outcomes",
    "case_plan",
    "case_screen",
    "generate_case",
    "grade_case",
    "not_treated_because",
]

CASE_DIARY_DAYS = 3 * PERIOD_DAYS + 14
"""Diary days before the first visit: three full 28-day periods for the eligibility verdict, and two weeks more."""

CASE_VERSION = 2
"""The version of the draws new case attempts are made with. Version 1 drew the safety checklist before the
patient's sex, each on its own, so a man could be pregnant or breastfeeding and a woman of 61 pregnant; version 2
draws the sex first and a checklist that fits it (``random_safety_input``'s ``sex``). A case is drawn again from its
seed with the version its attempt was made with, so any change to what ``generate_case`` draws for an existing seed
must add a version (keeping the old draws for the versions before it); ``tests/training/test_cases.py`` fingerprints
every version."""

CASE_VERSIONS = (1, CASE_VERSION)
"""Every version ``generate_case`` can still draw."""

FIRST_VISIT = date(2026, 2, 2)
"""Case dates are laid from this fixed day plus a drawn offset, so a case never depends on the clock."""

ELIGIBILITY_CHOICES: tuple[LabelCriteria, ...] = tuple(LabelCriteria)
"""The eligibility step's answers: the engine's label verdicts (met, not met, insufficient data)."""
SAFETY_CHOICES: tuple[SafetyVerdict, ...] = tuple(SafetyVerdict)
"""The safety step's answers: the engine's screen verdicts (contraindicated, caution, unknown, clear)."""
WEEK24_CHOICES: tuple[NiceTa260, ...] = tuple(NiceTa260)
"""The week-24 step's answers: the engine's NICE TA260 verdicts (continue, stop, not yet assessable)."""


class Step(enum.StrEnum):
    """The decisions of a case, in the order they are taken."""

    ELIGIBILITY = "eligibility"
    SAFETY = "safety"
    PLAN = "plan"
    WEEK24 = "week24"


FIRST_VISIT_STEPS = (Step.ELIGIBILITY, Step.SAFETY, Step.PLAN)

NOT_TREATED = "case {seed} ends at the first visit: the patient is not treated, so there is no course to review"

_SEXES = ("woman", "man")
_POSSESSIVE = {"woman": "her", "man": "his"}
"""The possessive pronoun that agrees with the case's sex ("a woman with migraine since her teens")."""
_PREVENTIVES = (
    "topiramate (stopped: tingling and word-finding trouble)",
    "propranolol (no benefit after 3 months)",
    "amitriptyline (stopped: drowsiness)",
    "candesartan (no benefit after 3 months)",
    "flunarizine (stopped: weight gain)",
    "sodium valproate (not suitable)",
)
_PAIN = {
    Muscle.TEMPORALIS: "the temples",
    Muscle.OCCIPITALIS: "the back of the head",
    Muscle.TRAPEZIUS: "the top of the shoulders",
}


@dataclass(frozen=True, slots=True)
class Case:
    """One made-up patient and what the trainee is shown."""

    seed: int
    title: str
    """The patient and the first visit's day ("A 22-year-old woman, first visit 2026-03-14"); the seed is an internal
    number and is not shown."""
    sex: str
    """"woman" or "man"."""
    age: int
    """The patient's age in years at the first visit."""
    history: tuple[str, ...]
    first_visit: date
    birth_date: date
    diary: PatientDiary
    safety: SafetyInput
    safety_facts: tuple[str, ...]
    follow_the_pain: Mapping[Muscle, int]
    pain: str
    vial_units: int
    first_injection: date | None
    """The first session's day; ``None`` when the patient is not treated."""
    course: PatientDiary | None
    """The diary carried on through week 24 after the first injection (the first-visit diary's days unchanged);
    ``None`` when the patient is not treated."""

    @property
    def treated(self) -> bool:
        """Whether the engine would treat the patient: label met and a screen that is not contraindicated."""
        return self.course is not None

    @property
    def steps(self) -> tuple[Step, ...]:
        """The steps of this case: the week-24 review only for a treated patient."""
        return (*FIRST_VISIT_STEPS, Step.WEEK24) if self.treated else FIRST_VISIT_STEPS

    @property
    def injections(self) -> tuple[date, ...]:
        """The two sessions 12 weeks apart; none for a patient not treated."""
        if self.first_injection is None:
            return ()
        return (self.first_injection, self.first_injection + timedelta(days=RETREATMENT_INTERVAL_DAYS))


@dataclass(frozen=True, slots=True)
class Decisions:
    """What the trainee decided; ``None`` for a step not decided (yet)."""

    eligibility: str | None = None
    safety: str | None = None
    total_units: int | None = None
    vials: int | None = None
    discarded_units: int | None = None
    week24: str | None = None


@dataclass(frozen=True, slots=True)
class StepFeedback:
    """One step: what the trainee said, what the engine says, whether they agree, and the engine's reasons."""

    step: Step
    given: str
    expected: str
    correct: bool
    reasons: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class CaseGrade:
    steps: tuple[StepFeedback, ...]
    case_steps: tuple[Step, ...] = tuple(Step)
    """Every step of the case (``Case.steps``): three for a patient not treated, four otherwise."""

    @property
    def correct(self) -> int:
        return sum(step.correct for step in self.steps)

    @property
    def passed(self) -> bool:
        """A case passes when every one of its steps is graded and agrees with the engine."""
        graded = tuple(step.step for step in self.steps)
        return graded == self.case_steps and all(step.correct for step in self.steps)


class Scenario(enum.StrEnum):
    """What kind of patient a case draws, before the engine judges it."""

    ELIGIBLE = "eligible"
    OVERUSE = "overuse"
    EPISODIC = "episodic"
    SPARSE_DIARY = "sparse_diary"


_SCENARIOS = (
    (Scenario.ELIGIBLE, 0.5, Profile.CHRONIC, 0.97),
    (Scenario.OVERUSE, 0.2, Profile.CHRONIC_OVERUSE, 0.96),
    (Scenario.EPISODIC, 0.15, Profile.EPISODIC, 0.95),
    (Scenario.SPARSE_DIARY, 0.15, Profile.CHRONIC, 0.55),
)

_LABEL_TRIES = 25
"""Diaries drawn for a chronic scenario until one meets the label (seeded, so a case stays the same)."""


def _diary(rng: random.Random, seed: int, first_visit: date, scenario: Scenario) -> tuple[PatientDiary, int]:
    """The first-visit diary and the generator seed that drew it (the course carries on from the same seed)."""
    profile, completeness = _profile(scenario)
    patient_id = f"case-{seed}"
    start = first_visit - timedelta(days=CASE_DIARY_DAYS - 1)
    adult = date(first_visit.year - 40, 1, 1)
    diary, drawn = PatientDiary(patient_id, ()), 0
    for attempt in range(_LABEL_TRIES):
        drawn = rng.randint(1, 10**9) + attempt
        days = synthetic_patient_days(
            patient_id, start=start, days=CASE_DIARY_DAYS, profile=profile, seed=drawn, completeness=completeness
        )
        diary = PatientDiary(patient_id, days)
        if scenario not in (Scenario.ELIGIBLE, Scenario.OVERUSE):
            break
        if assess(diary, as_of=first_visit, birth_date=adult).label_criteria.verdict is LabelCriteria.MET:
            break
    return diary, drawn


def _profile(scenario: Scenario) -> tuple[Profile, float]:
    return next((p, c) for s, _, p, c in _SCENARIOS if s is scenario)


_COURSE_KINDS = ("continue", "continue", "poor", "episodic", "unrecorded")
"""The courses drawn: continue (a 30-40 % fall that stays chronic until week 24), stop for a poor response, stop
after three episodic periods, or not yet assessable (week 24 poorly recorded)."""


def _is_headache(day: DiaryDay) -> bool:
    return classify_day(day).headache


def _course_targets(rng: random.Random, kind: str, baseline: int) -> list[int]:
    """Headache days wanted in periods 1..6 after the first injection (at most: days are only ever taken away)."""
    fall_30 = (baseline * 3 + 9) // 10  # the fewest days that make a 30 % fall (NICE TA260 1.2)
    if kind in ("continue", "unrecorded"):
        final = baseline - rng.randint(fall_30, max(fall_30, baseline * 4 // 10))
    elif kind == "poor":
        final = baseline - rng.randint(0, max(0, fall_30 - 1))
    else:
        final = rng.randint(5, 11)
    targets = []
    for k in range(1, WEEK24_PERIOD + 1):
        step = round(baseline + (final - baseline) * min(1.0, k / 3))
        if kind in ("continue", "unrecorded") and k < WEEK24_PERIOD:
            step = max(step, CM_MIN_HEADACHE_DAYS)  # stays chronic: never three episodic periods in a row
        targets.append(max(0, step))
    return targets


def _course(
    rng: random.Random,
    diary: PatientDiary,
    *,
    scenario: Scenario,
    drawn: int,
    first_visit: date,
    first_injection: date,
) -> PatientDiary:
    """The patient's diary carried on to the end of week 24: the first-visit diary's days, then the same generator
    and seed drawing the days after them, untreated up to the first injection; after it each period keeps at most the
    course's number of headache days, the others becoming headache-free. A poorly recorded week 24 loses rows."""
    profile, completeness = _profile(scenario)
    start = first_visit - timedelta(days=CASE_DIARY_DAYS - 1)
    end = first_injection + timedelta(days=WEEK24_PERIOD * PERIOD_DAYS)
    untreated = synthetic_patient_days(
        diary.patient_id,
        start=start,
        days=(end - start).days,
        profile=profile,
        seed=drawn,
        completeness=completeness,
    )
    before = diary.days + tuple(day for day in untreated if first_visit < day.date < first_injection)
    baseline = treatment_outcomes(PatientDiary(diary.patient_id, before), injections=(first_injection,)).baseline
    kind = rng.choice(_COURSE_KINDS)
    targets = _course_targets(rng, kind, baseline.headache_days)
    days = list(before)
    for k, target in enumerate(targets, start=1):
        period_start = first_injection + timedelta(days=PERIOD_DAYS * (k - 1))
        period_end = period_start + timedelta(days=PERIOD_DAYS)
        rows = [day for day in untreated if period_start <= day.date < period_end]
        if kind == "unrecorded" and k == WEEK24_PERIOD:
            kept = sorted(rng.sample(range(len(rows)), k=min(len(rows), rng.randint(8, MIN_RECORDED_DAYS - 1))))
            rows = [rows[i] for i in kept]
        headache = [i for i, day in enumerate(rows) if _is_headache(day)]
        spared = set(rng.sample(headache, k=min(target, len(headache))))
        days += [day if i in spared or i not in headache else _headache_free(day) for i, day in enumerate(rows)]
    return PatientDiary(diary.patient_id, tuple(days))


def _headache_free(day: DiaryDay) -> DiaryDay:
    return DiaryDay(patient_id=day.patient_id, date=day.date, headache_hours=Decimal(0))


def _history_line(age: int, sex: str, assessment: Assessment) -> str:
    """How often the patient has headaches, as their own diary shows it: "most days" at the rate of chronic
    migraine (15 or more headache days a month, ICHD-3 1.3 A), "fewer than 15 days in 28" otherwise (14 in 28 is
    half the days, not fewer), on average over the periods recorded; gaps when a period is incomplete."""
    periods = [p for p in assessment.periods if not p.missing]
    recorded = sum(p.days_recorded for p in periods)
    headache = sum(p.headache_days for p in periods)
    most_days = recorded > 0 and headache * PERIOD_DAYS >= CM_MIN_HEADACHE_DAYS * recorded
    often = (
        f"headaches on most days ({CM_MIN_HEADACHE_DAYS} or more in {PERIOD_DAYS} on average)"
        if most_days
        else f"headaches on fewer than {CM_MIN_HEADACHE_DAYS} days in {PERIOD_DAYS} on average"
    )
    gaps = "" if all(p.complete for p in periods) else "; the diary has gaps"
    return f"A {age}-year-old {sex} with migraine since {_POSSESSIVE[sex]} teens, {often}{gaps}."


def generate_case(seed: int, *, version: int = CASE_VERSION) -> Case:
    """The case of ``seed``: the same seed always gives the same patient and course. Only a patient the engine
    would treat (label met, screen not contraindicated) has a first injection and a course. ``version`` picks the
    draws (``CASE_VERSION``): an attempt passes the version it was drawn with, so it is shown the patient it was
    decided on."""
    if version not in CASE_VERSIONS:
        raise ValueError(f"unknown case version {version}")
    rng = random.Random(f"onaboard.training.cases:{seed}")  # noqa: S311 - teaching, not secrets
    first_visit = FIRST_VISIT + timedelta(days=rng.randint(0, 300))
    scenarios = [s for s, _, _, _ in _SCENARIOS]
    scenario = rng.choices(scenarios, [w for _, w, _, _ in _SCENARIOS])[0]
    diary, drawn = _diary(rng, seed, first_visit, scenario)
    if version == 1:  # the safety answers drawn before the sex, each on its own (a man could be pregnant)
        safety, safety_facts = random_safety_input(rng, on=first_visit, finding_chance=0.35, minor_chance=0.08)
        sex = None
    else:
        sex = rng.choice(_SEXES)
        safety, safety_facts = random_safety_input(rng, on=first_visit, finding_chance=0.35, minor_chance=0.08, sex=sex)
    birth = safety.birth_date or first_visit
    age = first_visit.year - birth.year - ((first_visit.month, first_visit.day) < (birth.month, birth.day))
    sex = sex or rng.choice(_SEXES)
    tried = rng.sample(_PREVENTIVES, k=rng.randint(1, 4))
    follow_the_pain = {
        muscle: rng.randint(1, limit) for muscle, limit in FOLLOW_THE_PAIN_MAX_SITES.items() if rng.random() < 0.4
    }
    pain = (
        "Pain and tenderness are worst at " + " and ".join(_PAIN[muscle] for muscle in follow_the_pain)
        if follow_the_pain
        else "No area of pain stands out: the fixed sites only"
    )
    extra = ", ".join(
        f"{counted(count, 'extra site')} in the {MUSCLE_NAMES[muscle]}" for muscle, count in follow_the_pain.items()
    )  # "would": whether the patient is treated at all is the trainee's decision, and the case must not give it away
    vial_units = rng.choice(VIAL_SIZES_UNITS)
    planned_injection = first_visit + timedelta(days=rng.randint(14, 35))
    assessment = assess(diary, as_of=first_visit, birth_date=birth)
    treated = not _ruled_out(assessment.label_criteria.verdict, safety_screen(safety, on=first_visit).verdict)
    course = (
        _course(rng, diary, scenario=scenario, drawn=drawn, first_visit=first_visit, first_injection=planned_injection)
        if treated
        else None
    )
    history = (
        _history_line(age, sex, assessment),
        "Preventives tried: " + "; ".join(tried) + ".",
        f"{pain}{' (a session would add ' + extra + ')' if extra else ''}.",
    )
    return Case(
        seed=seed,
        title=f"A {age}-year-old {sex}, first visit {first_visit.isoformat()}",
        sex=sex,
        age=age,
        history=history,
        first_visit=first_visit,
        birth_date=birth,
        diary=diary,
        safety=safety,
        safety_facts=safety_facts,
        follow_the_pain=follow_the_pain,
        pain=pain,
        vial_units=vial_units,
        first_injection=planned_injection if treated else None,
        course=course,
    )


def case_assessment(case: Case) -> Assessment:
    """The engine's eligibility assessment at the first visit."""
    return assess(case.diary, as_of=case.first_visit, birth_date=case.birth_date)


def not_treated_because(case: Case, *, assessment: Assessment | None = None) -> tuple[Step, ...]:
    """The first-visit steps whose engine verdict rules treatment out, in step order: ``ELIGIBILITY`` when the BOTOX
    label's criteria are not met (``not met`` or ``insufficient data``), ``SAFETY`` when the screen is
    contraindicated. Empty for a patient the engine would treat. ``assessment``: the case's ``case_assessment``
    when the caller has it already, so the diary is not assessed again."""
    label = (assessment or case_assessment(case)).label_criteria.verdict
    return _ruled_out(label, case_screen(case).verdict)


def _ruled_out(label: LabelCriteria, screen: SafetyVerdict) -> tuple[Step, ...]:
    """The rule of who is treated, once: the label's criteria met and a screen that is not contraindicated. Returns
    the steps that rule treatment out (none: treated)."""
    because = []
    if label is not LabelCriteria.MET:
        because.append(Step.ELIGIBILITY)
    if screen is SafetyVerdict.CONTRAINDICATED:
        because.append(Step.SAFETY)
    return tuple(because)


def case_screen(case: Case) -> SafetyScreen:
    return safety_screen(case.safety, on=case.first_visit)


def case_plan(case: Case) -> InjectionPlan:
    return preempt_plan(follow_the_pain=case.follow_the_pain, vial_units=case.vial_units)


def case_outcomes(case: Case) -> Outcomes:
    """The engine's outcomes of the treated course (two sessions 12 weeks apart); ``ValueError`` (``NOT_TREATED``)
    for a patient not treated."""
    if case.course is None:
        raise ValueError(NOT_TREATED.format(seed=case.seed))
    return treatment_outcomes(case.course, injections=case.injections)


def _choice_feedback(step: Step, given: str | None, expected: str, reasons: tuple[str, ...]) -> StepFeedback:
    shown = (given or "").replace("_", " ") or "no answer"
    worded = tuple(clinic_words(reason) for reason in reasons)
    return StepFeedback(step, shown, expected.replace("_", " "), given == expected, worded)


def _plan_phrase(total_units: int | None, vials: int | None, discarded_units: int | None) -> str:
    """A plan's three figures as a person reads them ("160 U, 1 vial, 40 U discarded"); a figure not given reads
    "?"."""
    vials_phrase = "? vials" if vials is None else counted(vials, "vial")
    total = "?" if total_units is None else total_units
    discarded = "?" if discarded_units is None else discarded_units
    return f"{total} U, {vials_phrase}, {discarded} U discarded"


def _plan_reasons(plan: InjectionPlan) -> tuple[str, ...]:
    """Why the plan delivers what it does: its sites, its vials and their saline, its waste and billing modifier."""
    each = " each" if plan.vials != 1 else ""
    return (
        (
            f"{plan.site_count} sites x {UNITS_PER_SITE} U = {plan.total_units} U "
            f"({counted(plan.follow_the_pain_count, 'follow-the-pain site')}; Blumenfeld 2010)"
        ),
        (
            f"{plan.vials} x {plan.vial_units} U vial{'' if plan.vials == 1 else 's'}, reconstituted with "
            f"{plan.reconstitution.saline_ml} mL{each} (BOTOX PI dilution table)"
        ),
        f"{plan.discarded_units} U discarded, billed with {plan.billing_modifier} (CMS JW/JZ policy)",
    )


def grade_case(case: Case, decisions: Decisions, *, steps: tuple[Step, ...] | None = None) -> CaseGrade:
    """Compare the trainee's decisions on ``steps`` (default: every step of the case) with the engine's, with the
    engine's reasons for each. A step the case does not have (the week-24 review of a patient not treated) is not
    graded, whatever was decided for it."""
    steps = tuple(step for step in (case.steps if steps is None else steps) if step in case.steps)
    feedback = []
    if Step.ELIGIBILITY in steps:
        label = case_assessment(case).label_criteria
        feedback.append(_choice_feedback(Step.ELIGIBILITY, decisions.eligibility, label.verdict.value, label.reasons))
    if Step.SAFETY in steps:
        screen = case_screen(case)
        feedback.append(_choice_feedback(Step.SAFETY, decisions.safety, screen.verdict.value, screen.reasons))
    if Step.PLAN in steps:
        plan = case_plan(case)
        expected = (plan.total_units, plan.vials, plan.discarded_units)
        given = (decisions.total_units, decisions.vials, decisions.discarded_units)
        shown = "no answer" if given == (None, None, None) else _plan_phrase(*given)
        feedback.append(StepFeedback(Step.PLAN, shown, _plan_phrase(*expected), given == expected, _plan_reasons(plan)))
    if Step.WEEK24 in steps:
        nice = case_outcomes(case).nice_ta260
        feedback.append(_choice_feedback(Step.WEEK24, decisions.week24, nice.verdict.value, nice.reasons))
    return CaseGrade(tuple(feedback), case.steps)
