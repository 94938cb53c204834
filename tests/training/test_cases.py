"""Graded cases: seeded synthetic patients whose every step is graded against the engine's own verdicts."""

from __future__ import annotations

import dataclasses
import hashlib
import re
from datetime import timedelta

import pytest

from onaboard.clinical import (
    CM_MIN_HEADACHE_DAYS,
    PERIOD_DAYS,
    LabelCriteria,
    NiceTa260,
    SafetyVerdict,
    assess,
    preempt_plan,
    safety_screen,
    treatment_outcomes,
)
from onaboard.training import cases as cases_module
from onaboard.training.cases import (
    CASE_VERSION,
    CASE_VERSIONS,
    ELIGIBILITY_CHOICES,
    FIRST_VISIT_STEPS,
    NOT_TREATED,
    SAFETY_CHOICES,
    WEEK24_CHOICES,
    Case,
    Decisions,
    Step,
    case_assessment,
    case_outcomes,
    generate_case,
    grade_case,
    not_treated_because,
)
from onaboard.training.quiz import CHILDBEARING_AGES

SEEDS = range(1, 41)
NOT_MET_SEED = 1395005321
"""A stored seed whose diary has 10, 3 and 5 headache days: the label is not met (the hunter's case)."""
CONTRAINDICATED_SEED = 16
"""The label is met but the safety screen is contraindicated."""
BOTH_SEED = 25
"""The label is not met and the safety screen is contraindicated."""


def _engine_decisions(seed: int) -> Decisions:
    case = generate_case(seed)
    plan = preempt_plan(follow_the_pain=case.follow_the_pain, vial_units=case.vial_units)
    return Decisions(
        eligibility=assess(case.diary, as_of=case.first_visit, birth_date=case.birth_date).label_criteria.verdict,
        safety=safety_screen(case.safety, on=case.first_visit).verdict,
        total_units=plan.total_units,
        vials=plan.vials,
        discarded_units=plan.discarded_units,
        week24=(
            treatment_outcomes(case.course, injections=case.injections).nice_ta260.verdict
            if case.course is not None
            else None
        ),
    )


def test_the_same_seed_is_the_same_patient():
    """A case is rebuilt from its seed alone, identical each time."""
    assert generate_case(7) == generate_case(7)
    assert generate_case(7).diary != generate_case(8).diary


def test_the_engines_own_answers_pass_every_case():
    """Deciding exactly what the engine decides passes all four steps of every case."""
    for seed in SEEDS:
        case = generate_case(seed)
        grade = grade_case(case, _engine_decisions(seed))
        assert grade.passed, (seed, grade)
        assert [step.step for step in grade.steps] == list(case.steps)


def test_one_wrong_step_fails_the_case_and_says_which():
    """A wrong plan fails the case; the feedback marks the plan step and gives the engine's reasons."""
    decisions = _engine_decisions(4)
    wrong = Decisions(**{**{k: getattr(decisions, k) for k in Decisions.__slots__}, "total_units": 1})
    grade = grade_case(generate_case(4), wrong)
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
        if decisions.week24 is not None:
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


def test_only_a_patient_the_engine_would_treat_has_a_course():
    """A course (and a week-24 step) exists exactly when the label is met and the screen is not contraindicated."""
    for seed in range(1, 301):
        case = generate_case(seed)
        label = case_assessment(case).label_criteria.verdict
        screen = safety_screen(case.safety, on=case.first_visit).verdict
        treated = label is LabelCriteria.MET and screen is not SafetyVerdict.CONTRAINDICATED
        assert case.treated is treated, seed
        assert (case.course is not None, case.first_injection is not None) == (treated, treated), seed
        assert case.steps == ((*FIRST_VISIT_STEPS, Step.WEEK24) if treated else FIRST_VISIT_STEPS), seed


@pytest.mark.parametrize("seed", [NOT_MET_SEED, CONTRAINDICATED_SEED])
def test_a_patient_not_treated_ends_at_the_first_visit(seed):
    """A case with the label not met, or a contraindicated screen, has three steps: the engine's answers pass it,
    a week-24 answer is not graded, and there are no outcomes to ask for."""
    case = generate_case(seed)
    assert not case.treated
    assert case.injections == ()
    decisions = Decisions(**{**{k: getattr(_engine_decisions(seed), k) for k in Decisions.__slots__}, "week24": "stop"})
    grade = grade_case(case, decisions)
    assert [step.step for step in grade.steps] == list(FIRST_VISIT_STEPS)
    assert grade.passed
    assert not grade_case(case, Decisions(eligibility="met")).passed
    with pytest.raises(ValueError, match=re.escape(NOT_TREATED.format(seed=seed))):
        case_outcomes(case)


@pytest.mark.parametrize(
    ("seed", "because"),
    [
        (4, ()),
        (NOT_MET_SEED, (Step.ELIGIBILITY,)),
        (CONTRAINDICATED_SEED, (Step.SAFETY,)),
        (BOTH_SEED, (Step.ELIGIBILITY, Step.SAFETY)),
    ],
)
def test_a_case_says_which_verdict_rules_treatment_out(seed, because):
    """The label not met, a contraindicated screen, or both are named as what rules treatment out; a treated
    patient has none."""
    case = generate_case(seed)
    assert not_treated_because(case) == because
    assert case.treated is (because == ())


@pytest.mark.parametrize("seed", [4, NOT_MET_SEED, CONTRAINDICATED_SEED, BOTH_SEED])
def test_what_rules_treatment_out_reuses_an_assessment_already_made(seed, monkeypatch):
    """Given the case's assessment, ``not_treated_because`` answers as it does alone without assessing the diary
    again."""
    case = generate_case(seed)
    assessment = case_assessment(case)
    expected = not_treated_because(case)
    monkeypatch.setattr(cases_module, "assess", _no_assess)
    assert not_treated_because(case, assessment=assessment) == expected


def _no_assess(*args, **kwargs):
    raise AssertionError("the diary was assessed again")


def test_follow_the_pain_sites_are_worded_as_what_a_session_would_add():
    """Whether to treat is the trainee's call, so the history says what a session "would add", never that "the
    clinic plans" sites (a patient not treated had sites "planned")."""
    for seed in SEEDS:
        case = generate_case(seed)
        assert "the clinic plans" not in " ".join(case.history), seed
        if case.follow_the_pain:
            assert "(a session would add " in case.history[2], seed


def test_the_hunters_case_is_not_met_and_not_treated():
    """Seed 1395005321 (diary 10, 3 and 5 headache days) is not met, has no course, and its history does not say
    "most days" (chronic migraine needs 15 or more headache days a month, ICHD-3 1.3 A)."""
    case = generate_case(NOT_MET_SEED)
    assert case_assessment(case).label_criteria.verdict is LabelCriteria.NOT_MET
    assert case.course is None
    assert "most days" not in case.history[0]


def test_the_course_carries_on_the_first_visit_diary():
    """Every day of the first-visit diary is in the course unchanged (so the baseline before the first injection
    counts those same days), later days follow in order, and the course ends with week 24."""
    treated = [case for case in map(generate_case, range(1, 61)) if case.treated]
    assert len(treated) >= 20
    for case in treated:
        assert case.course is not None
        assert case.first_injection is not None
        course = {day.date: day for day in case.course.days}
        assert all(course.get(day.date) == day for day in case.diary.days), case.seed
        later = [day.date for day in case.course.days if day.date > case.first_visit]
        assert later == sorted(set(later))
        assert min(course) == case.diary.days[0].date
        assert max(course) < case.first_injection + timedelta(days=6 * PERIOD_DAYS)


def test_the_history_says_most_days_only_when_the_diary_does():
    """The history's "headaches on most days" appears exactly when the diary's recorded days hold headaches at
    the chronic rate (15 or more in 28, ICHD-3 1.3 A); a diary with an incomplete period is said to have gaps."""
    for seed in range(1, 121):
        case = generate_case(seed)
        periods = [p for p in case_assessment(case).periods if not p.missing]
        headache = sum(p.headache_days for p in periods)
        recorded = sum(p.days_recorded for p in periods)
        assert ("most days" in case.history[0]) is (headache * PERIOD_DAYS >= CM_MIN_HEADACHE_DAYS * recorded), seed
        assert ("gaps" in case.history[0]) is (not all(p.complete for p in periods)), seed


ONE_VIAL_SEED = 1
"""A 60-year-old woman treated from one 200 U vial, with one follow-the-pain site."""


def test_the_plan_feedback_counts_one_vial_and_one_site_in_the_singular():
    """One vial and one follow-the-pain site read "1 vial" and "1 follow-the-pain site", not "1 vials" or "1 ...
    sites", in what the trainee said, what the engine says and why; one vial is reconstituted without "each"."""
    case = generate_case(ONE_VIAL_SEED)
    plan = preempt_plan(follow_the_pain=case.follow_the_pain, vial_units=case.vial_units)
    assert (plan.vials, plan.follow_the_pain_count) == (1, 1)
    decided = Decisions(total_units=plan.total_units, vials=1, discarded_units=plan.discarded_units)
    (step,) = grade_case(case, decided, steps=(Step.PLAN,)).steps
    assert step.given == step.expected == f"{plan.total_units} U, 1 vial, {plan.discarded_units} U discarded"
    assert step.reasons[0] == f"32 sites x 5 U = {plan.total_units} U (1 follow-the-pain site; Blumenfeld 2010)"
    assert step.reasons[1] == "1 x 200 U vial, reconstituted with 4.0 mL (BOTOX PI dilution table)"
    two = Decisions(total_units=plan.total_units, vials=2, discarded_units=None)
    (step,) = grade_case(case, two, steps=(Step.PLAN,)).steps
    assert step.given == f"{plan.total_units} U, 2 vials, ? U discarded"


def test_the_history_pronoun_agrees_with_the_patients_sex():
    """A woman has had migraine since her teens and a man since his, never "their"."""
    seen = set()
    for seed in SEEDS:
        history = generate_case(seed).history[0]
        sex = re.match(r"A \d+-year-old (woman|man) ", history).group(1)
        assert f"since {'her' if sex == 'woman' else 'his'} teens" in history
        seen.add(sex)
    assert seen == {"woman", "man"}


def test_a_case_title_names_the_patient_and_the_first_visit_not_the_seed():
    """A case's title is its patient and first visit ("A 60-year-old woman, first visit 2026-05-28"); the seed,
    an internal number, is not shown."""
    case = generate_case(ONE_VIAL_SEED)
    assert case.title == "A 60-year-old woman, first visit 2026-05-28"
    for seed in SEEDS:
        case = generate_case(seed)
        assert re.fullmatch(rf"A \d+-year-old (woman|man), first visit {case.first_visit.isoformat()}", case.title)


def test_no_case_text_shows_an_engine_identifier_or_a_single_count_in_the_plural():
    """The history, the screen, the planned extra sites and every step's feedback name muscles and medicines in
    clinic words and count "1 extra site", never "1 extra temporalis" or "1 vials"."""
    identifier = re.compile(r"\b[a-z0-9]+_[a-z0-9_]+\b")
    one_plural = re.compile(r"(?<![\d.])1 (?:extra |follow-the-pain )?(?:sites|vials)\b")
    for seed in range(1, 121):
        case = generate_case(seed)
        grade = grade_case(case, _engine_decisions(seed))
        texts = [case.title, *case.history, *case.safety_facts]
        texts += [text for step in grade.steps for text in (step.given, step.expected, *step.reasons)]
        for text in texts:
            assert not identifier.search(text), (seed, text)
            assert not one_plural.search(text), (seed, text)
        for muscle, count in case.follow_the_pain.items():
            extra = f"{count} extra site{'s' if count != 1 else ''} in the {muscle.value.replace('_', ' ')}"
            assert extra in case.history[2]


CHILDBEARING_AGES_AT_VISIT = {age - before_birthday for age in CHILDBEARING_AGES for before_birthday in (0, 1)}
"""The ages a woman drawn at a childbearing age can be at the first visit (her birthday may not have come yet)."""


def test_no_case_shows_an_impossible_patient():
    """Across 1,500 seeds no case is a pregnant or breastfeeding man, or a pregnant or breastfeeding woman outside
    the childbearing ages: the sex is drawn first and the checklist fits it (version 1 drew them apart)."""
    seen = set()
    for seed in range(1, 1501):
        case = generate_case(seed)
        if case.safety.pregnant or case.safety.breastfeeding:
            assert case.sex == "woman", (seed, case.title, case.safety_facts[0])
            assert case.age in CHILDBEARING_AGES_AT_VISIT, (seed, case.title, case.safety_facts[0])
            seen.add("pregnant" if case.safety.pregnant else "breastfeeding")
        assert case.title.startswith(f"A {case.age}-year-old {case.sex}, "), seed
    assert seen == {"pregnant", "breastfeeding"}


def _canonical(value: object) -> object:
    """``value`` with every set sorted and every dataclass spelled out, so its ``repr`` does not depend on the
    process's string hashing (a diary day's acute medication is a frozenset)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return (type(value).__name__, *(_canonical(getattr(value, f.name)) for f in dataclasses.fields(value)))
    if isinstance(value, set | frozenset):
        return ("set", *sorted(repr(_canonical(item)) for item in value))
    if isinstance(value, dict):
        return ("dict", *sorted((repr(_canonical(k)), _canonical(v)) for k, v in value.items()))
    if isinstance(value, tuple | list):
        return tuple(_canonical(item) for item in value)
    return value


def _drawn_checklist(case: Case) -> tuple[object, ...]:
    """The case's checklist as drawn, spelled out as ``_canonical`` spells it, without the day it was answered: that
    is the first visit (asserted here), already in the fingerprint, and the field came after the fingerprints."""
    assert case.safety.answered_on == case.first_visit
    fields = (f.name for f in dataclasses.fields(case.safety) if f.name != "answered_on")
    return (type(case.safety).__name__, *(getattr(case.safety, name) for name in fields))


def _case_fingerprint(version: int) -> str:
    """A digest of what ``version`` draws for seeds 1 to 40: every field a page shows or the grading uses."""
    digest = hashlib.sha256()
    for seed in SEEDS:
        case = generate_case(seed, version=version)
        shown = (case.title, case.history, case.first_visit, case.birth_date, case.diary, _drawn_checklist(case))
        rest = (case.safety_facts, case.follow_the_pain, case.pain, case.vial_units, case.first_injection, case.course)
        digest.update(repr(_canonical((*shown, *rest))).encode())
    return digest.hexdigest()


CASE_FINGERPRINTS = {
    1: "1e020fb5af9bdf0edc0dae55efbe827ac9cce2b0897e3b41f8cc46d7c49b6747",
    2: "a25a506aeaacd58678fc3890aa965d9f71473ee069d1526bd4c44b19348afba6",
}
"""What each version draws for seeds 1 to 40 (version 1's taken from the code before version 2 was added). Both
were taken again when the history line's wording changed ("fewer than half the days" was false at 14 in 28): the
same digest without the history line was unchanged, so every draw is as it was."""


@pytest.mark.parametrize("version", CASE_VERSIONS)
def test_every_case_version_draws_its_patients_as_it_did(version):
    """Every case version still draws the patients, diaries and courses it drew when its fingerprint was taken, so
    an attempt stored with it is marked against the patient it was shown; a changed draw needs a new version."""
    assert set(CASE_FINGERPRINTS) == set(CASE_VERSIONS)
    assert max(CASE_VERSIONS) == CASE_VERSION
    assert _case_fingerprint(version) == CASE_FINGERPRINTS[version]


def test_an_attempt_of_version_1_is_shown_the_patient_it_was_decided_on():
    """Seed 17 drawn with version 1 is still the 34-year-old man with "breastfeeding" ticked that its attempts were
    shown (and marked against); the current version draws a woman with a checklist that fits her."""
    old = generate_case(17, version=1)
    assert old.title == "A 34-year-old man, first visit 2026-05-26"
    assert old.safety.breastfeeding
    new = generate_case(17)
    assert new.sex == "woman"
    assert not new.safety.breastfeeding
    with pytest.raises(ValueError, match="unknown case version 9"):
        generate_case(17, version=9)


@pytest.mark.parametrize(
    ("choices", "verdicts", "today"),
    [
        (ELIGIBILITY_CHOICES, LabelCriteria, ("met", "not_met", "insufficient_data")),
        (SAFETY_CHOICES, SafetyVerdict, ("contraindicated", "caution", "unknown", "clear")),
        (WEEK24_CHOICES, NiceTa260, ("continue", "stop", "not_yet_assessable")),
    ],
    ids=["eligibility", "safety", "week24"],
)
def test_the_choices_of_a_case_are_the_engines_verdicts_in_their_order(choices, verdicts, today):
    """Each step's choices are the engine's verdict enum's members (LabelCriteria, SafetyVerdict, NiceTa260), not
    retyped strings, in the order the pages have always shown them."""
    assert choices == tuple(verdicts)
    assert all(type(choice) is verdicts for choice in choices)
    assert choices == today
