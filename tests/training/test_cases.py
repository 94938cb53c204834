"""Graded cases: seeded synthetic patients whose every step is graded against the engine's own verdicts."""

from __future__ import annotations

from onaboard.clinical import assess, preempt_plan, safety_screen, treatment_outcomes
from onaboard.training.cases import (
    ELIGIBILITY_CHOICES,
    SAFETY_CHOICES,
    WEEK24_CHOICES,
    Decisions,
    Step,
    generate_case,
    grade_case,
)

SEEDS = range(1, 41)


def _engine_decisions(seed: int) -> Decisions:
    case = generate_case(seed)
    plan = preempt_plan(follow_the_pain=case.follow_the_pain, vial_units=case.vial_units)
    return Decisions(
        eligibility=assess(case.diary, as_of=case.first_visit, birth_date=case.birth_date).label_criteria.verdict,
        safety=safety_screen(case.safety, on=case.first_visit).verdict,
        total_units=plan.total_units,
        vials=plan.vials,
        discarded_units=plan.discarded_units,
        week24=treatment_outcomes(case.course, injections=case.injections).nice_ta260.verdict,
    )


def test_the_same_seed_is_the_same_patient():
    """A case is rebuilt from its seed alone, identical each time."""
    assert generate_case(7) == generate_case(7)
    assert generate_case(7).diary != generate_case(8).diary


def test_the_engines_own_answers_pass_every_case():
    """Deciding exactly what the engine decides passes all four steps of every case."""
    for seed in SEEDS:
        grade = grade_case(generate_case(seed), _engine_decisions(seed))
        assert grade.passed, (seed, grade)
        assert [step.step for step in grade.steps] == list(Step)


def test_one_wrong_step_fails_the_case_and_says_which():
    """A wrong plan fails the case; the feedback marks the plan step and gives the engine's reasons."""
    decisions = _engine_decisions(3)
    wrong = Decisions(**{**{k: getattr(decisions, k) for k in Decisions.__slots__}, "total_units": 1})
    grade = grade_case(generate_case(3), wrong)
    assert not grade.passed
    plan_step = next(step for step in grade.steps if step.step is Step.PLAN)
    assert not plan_step.correct
    assert plan_step.reasons
    assert grade.correct == 3


def test_cases_vary_over_every_verdict():
    """Across seeds the cases cover every eligibility verdict, every week-24 verdict and several screen verdicts."""
    seen = {"eligibility": set(), "safety": set(), "week24": set()}
    for seed in range(1, 80):
        decisions = _engine_decisions(seed)
        seen["eligibility"].add(decisions.eligibility)
        seen["safety"].add(decisions.safety)
        seen["week24"].add(decisions.week24)
    assert seen["eligibility"] == set(ELIGIBILITY_CHOICES)
    assert seen["week24"] == set(WEEK24_CHOICES)
    assert len(seen["safety"]) >= 3
    assert seen["safety"] <= set(SAFETY_CHOICES)


def test_only_the_steps_asked_for_are_graded():
    """At the first visit only eligibility, safety and the plan are graded."""
    grade = grade_case(generate_case(5), Decisions(), steps=(Step.ELIGIBILITY, Step.SAFETY, Step.PLAN))
    assert [step.step for step in grade.steps] == [Step.ELIGIBILITY, Step.SAFETY, Step.PLAN]
    assert all(step.given == "no answer" for step in grade.steps)
    assert not grade.passed
