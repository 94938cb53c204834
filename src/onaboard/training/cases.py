"""Graded cases: made-up patients (diary, history, safety screen) on which the trainee decides, step by step, what
the clinic's engine decides, and is told per step where they agree and why.

A case is drawn from a seed (``generate_case``), so the same seed is always the same patient; its diary comes from
``onaboard.synthetic`` and every answer from the engine: eligibility is ``assess``'s BOTOX label verdict, the screen
is ``safety_screen``, the plan is ``preempt_plan`` (units, vials, discarded units) and the week-24 decision is the
NICE TA260 verdict of ``treatment_outcomes`` on the patient's treated course. The first three steps are decided at
the first visit; the week-24 step comes later, once the course is shown.
"""

from __future__ import annotations

import enum
import random
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta

from onaboard.clinical import (
    CM_MIN_HEADACHE_DAYS,
    FOLLOW_THE_PAIN_MAX_SITES,
    MIN_RECORDED_DAYS,
    PERIOD_DAYS,
    RETREATMENT_INTERVAL_DAYS,
    VIAL_SIZES_UNITS,
    WEEK24_PERIOD,
    Assessment,
    InjectionPlan,
    LabelCriteria,
    Muscle,
    Outcomes,
    PatientDiary,
    SafetyInput,
    SafetyScreen,
    assess,
    preempt_plan,
    safety_screen,
    treatment_outcomes,
)
from onaboard.synthetic import Profile, synthetic_patient_days
from onaboard.training.quiz import MUSCLE_NAMES, course_diary, random_safety_input

__all__ = [
    "CASE_DIARY_DAYS",
    "ELIGIBILITY_CHOICES",
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
]

CASE_DIARY_DAYS = 3 * PERIOD_DAYS + 14
"""Diary days before the first visit: three full 28-day periods for the eligibility verdict, and two weeks more."""

FIRST_VISIT = date(2026, 2, 2)
"""Case dates are laid from this fixed day plus a drawn offset, so a case never depends on the clock."""

ELIGIBILITY_CHOICES = ("met", "not_met", "insufficient_data")
SAFETY_CHOICES = ("contraindicated", "caution", "unknown", "clear")
WEEK24_CHOICES = ("continue", "stop", "not_yet_assessable")


class Step(enum.StrEnum):
    """The decisions of a case, in the order they are taken."""

    ELIGIBILITY = "eligibility"
    SAFETY = "safety"
    PLAN = "plan"
    WEEK24 = "week24"


FIRST_VISIT_STEPS = (Step.ELIGIBILITY, Step.SAFETY, Step.PLAN)

_SEXES = ("woman", "man")
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
    history: tuple[str, ...]
    first_visit: date
    birth_date: date
    diary: PatientDiary
    safety: SafetyInput
    safety_facts: tuple[str, ...]
    follow_the_pain: Mapping[Muscle, int]
    pain: str
    vial_units: int
    first_injection: date
    course: PatientDiary

    @property
    def injections(self) -> tuple[date, date]:
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

    @property
    def correct(self) -> int:
        return sum(step.correct for step in self.steps)

    @property
    def passed(self) -> bool:
        """A case passes when every one of its four steps agrees with the engine."""
        return len(self.steps) == len(Step) and all(step.correct for step in self.steps)


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


def _diary(rng: random.Random, seed: int, first_visit: date, scenario: Scenario) -> PatientDiary:
    profile, completeness = next((p, c) for s, _, p, c in _SCENARIOS if s is scenario)
    patient_id = f"case-{seed}"
    start = first_visit - timedelta(days=CASE_DIARY_DAYS - 1)
    adult = date(first_visit.year - 40, 1, 1)
    diary = PatientDiary(patient_id, ())
    for attempt in range(_LABEL_TRIES):
        days = synthetic_patient_days(
            patient_id,
            start=start,
            days=CASE_DIARY_DAYS,
            profile=profile,
            seed=rng.randint(1, 10**9) + attempt,
            completeness=completeness,
        )
        diary = PatientDiary(patient_id, days)
        if scenario not in (Scenario.ELIGIBLE, Scenario.OVERUSE):
            break
        if assess(diary, as_of=first_visit, birth_date=adult).label_criteria.verdict is LabelCriteria.MET:
            break
    return diary


def _course(rng: random.Random, patient_id: str, first_injection: date) -> PatientDiary:
    """The treated course to week 24: one of continue (a 30-40 % fall that stays chronic), stop for a poor
    response, stop after three episodic periods, or not yet assessable (week 24 poorly recorded)."""
    baseline = rng.randint(22, 27)
    kind = rng.choice(("continue", "continue", "poor", "episodic", "unrecorded"))
    if kind == "continue":
        final = max(CM_MIN_HEADACHE_DAYS, baseline - rng.randint((baseline * 3 + 9) // 10, baseline * 4 // 10))
    elif kind == "poor":
        final = baseline - rng.randint(0, (baseline * 3) // 10 - 1)
    else:
        final = rng.randint(5, 11)
    counts = [baseline]
    for k in range(1, WEEK24_PERIOD + 1):
        step = baseline + (final - baseline) * min(1.0, k / 3)
        counts.append(round(step) + (rng.choice((0, 1)) if k < WEEK24_PERIOD else 0))
    if kind == "continue":
        counts = [max(count, CM_MIN_HEADACHE_DAYS) for count in counts]
    recorded = [PERIOD_DAYS - rng.randint(0, 3) for _ in counts]
    if kind == "unrecorded":
        recorded[WEEK24_PERIOD] = rng.randint(8, MIN_RECORDED_DAYS - 1)
        counts[WEEK24_PERIOD - 1] = max(counts[WEEK24_PERIOD - 1], CM_MIN_HEADACHE_DAYS)
    counts = [min(count, rows) for count, rows in zip(counts, recorded, strict=True)]
    return course_diary(first_injection, counts, recorded=recorded, rng=rng, patient_id=patient_id)


def generate_case(seed: int) -> Case:
    """The case of ``seed``: the same seed always gives the same patient and course."""
    rng = random.Random(f"onaboard.training.cases:{seed}")  # noqa: S311 - teaching, not secrets
    first_visit = FIRST_VISIT + timedelta(days=rng.randint(0, 300))
    scenarios = [s for s, _, _, _ in _SCENARIOS]
    scenario = rng.choices(scenarios, [w for _, w, _, _ in _SCENARIOS])[0]
    diary = _diary(rng, seed, first_visit, scenario)
    safety, safety_facts = random_safety_input(rng, on=first_visit, finding_chance=0.35, minor_chance=0.08)
    birth = safety.birth_date or first_visit
    age = first_visit.year - birth.year - ((first_visit.month, first_visit.day) < (birth.month, birth.day))
    sex = rng.choice(_SEXES)
    tried = rng.sample(_PREVENTIVES, k=rng.randint(1, 4))
    follow_the_pain = {
        muscle: rng.randint(1, limit) for muscle, limit in FOLLOW_THE_PAIN_MAX_SITES.items() if rng.random() < 0.4
    }
    pain = (
        "Pain and tenderness are worst at " + " and ".join(_PAIN[muscle] for muscle in follow_the_pain)
        if follow_the_pain
        else "No area of pain stands out: the fixed sites only"
    )
    extra = ", ".join(f"{count} extra {MUSCLE_NAMES[muscle]}" for muscle, count in follow_the_pain.items())
    vial_units = rng.choice(VIAL_SIZES_UNITS)
    first_injection = first_visit + timedelta(days=rng.randint(14, 35))
    history = (
        f"A {age}-year-old {sex} with migraine since their teens, headaches on most days for the past year.",
        "Preventives tried: " + "; ".join(tried) + ".",
        f"{pain}{' (the clinic plans ' + extra + ')' if extra else ''}.",
    )
    return Case(
        seed=seed,
        title=f"Case {seed}: a {age}-year-old {sex}",
        history=history,
        first_visit=first_visit,
        birth_date=birth,
        diary=diary,
        safety=safety,
        safety_facts=safety_facts,
        follow_the_pain=follow_the_pain,
        pain=pain,
        vial_units=vial_units,
        first_injection=first_injection,
        course=_course(rng, diary.patient_id, first_injection),
    )


def case_assessment(case: Case) -> Assessment:
    """The engine's eligibility assessment at the first visit."""
    return assess(case.diary, as_of=case.first_visit, birth_date=case.birth_date)


def case_screen(case: Case) -> SafetyScreen:
    return safety_screen(case.safety, on=case.first_visit)


def case_plan(case: Case) -> InjectionPlan:
    return preempt_plan(follow_the_pain=case.follow_the_pain, vial_units=case.vial_units)


def case_outcomes(case: Case) -> Outcomes:
    """The engine's outcomes of the treated course (two sessions 12 weeks apart)."""
    return treatment_outcomes(case.course, injections=case.injections)


def _choice_feedback(step: Step, given: str | None, expected: str, reasons: tuple[str, ...]) -> StepFeedback:
    shown = (given or "").replace("_", " ") or "no answer"
    return StepFeedback(step, shown, expected.replace("_", " "), given == expected, reasons)


def grade_case(case: Case, decisions: Decisions, *, steps: tuple[Step, ...] = tuple(Step)) -> CaseGrade:
    """Compare the trainee's decisions on ``steps`` with the engine's, with the engine's reasons for each."""
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
        shown = "no answer" if given == (None, None, None) else "{} U, {} vials, {} U discarded".format(*given)
        feedback.append(
            StepFeedback(
                Step.PLAN,
                shown,
                f"{plan.total_units} U, {plan.vials} vials, {plan.discarded_units} U discarded",
                given == expected,
                (
                    (
                        f"{plan.site_count} sites x 5 U = {plan.total_units} U "
                        f"({plan.follow_the_pain_count} follow-the-pain sites; Blumenfeld 2010)"
                    ),
                    (
                        f"{plan.vials} x {plan.vial_units} U vial(s), reconstituted with "
                        f"{plan.reconstitution.saline_ml} mL each (BOTOX PI dilution table)"
                    ),
                    f"{plan.discarded_units} U discarded, billed with {plan.billing_modifier} (CMS JW/JZ policy)",
                ),
            )
        )
    if Step.WEEK24 in steps:
        nice = case_outcomes(case).nice_ta260
        feedback.append(_choice_feedback(Step.WEEK24, decisions.week24, nice.verdict.value, nice.reasons))
    return CaseGrade(tuple(feedback))
