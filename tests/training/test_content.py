"""The course text agrees with the engine: every safety finding a quiz can draw is taught before it is asked, the
billing examples are the engine's plans, and the stopping rules explain the return to episodic migraine."""

from __future__ import annotations

import itertools
import random
import re

import pytest

from onaboard.clinical import FOLLOW_THE_PAIN_MAX_SITES, VIAL_SIZES_UNITS, BillingModifier, Muscle, preempt_plan
from onaboard.clinical import safety as screen
from onaboard.training.course import load_course
from onaboard.training.quiz import generate_question

SAFETY_MODULE = "patient-selection-and-safety"
TAUGHT_AS = {
    screen.MESSAGE_INFECTION: "infection at the proposed injection sites",
    screen.MESSAGE_HYPERSENSITIVITY: "known hypersensitivity to any botulinum toxin product",
    screen.MESSAGE_NMJ: "myasthenia gravis or Lambert-Eaton syndrome",
    screen.MESSAGE_NEUROPATHY: "peripheral motor neuropathy, ALS",
    screen.MESSAGE_DYSPHAGIA: "pre-existing swallowing or breathing difficulty",
    screen.MESSAGE_BREATHING: "pre-existing swallowing or breathing difficulty",
    screen.MESSAGE_CARDIOVASCULAR: "pre-existing cardiovascular disease: the label flags it",
    screen.MESSAGE_AMINOGLYCOSIDE: "aminoglycoside antibiotics",
    screen.MESSAGE_ANTICHOLINERGIC: "anticholinergic drugs",
    screen.MESSAGE_MUSCLE_RELAXANT: "muscle relaxants",
    screen.MESSAGE_PREGNANT: "pregnancy (no adequate human data)",
    screen.MESSAGE_BREASTFEEDING: "breastfeeding (no data on transfer to milk)",
    screen.MESSAGE_UNDER_18: "under 18, safety and effectiveness in chronic migraine are not established",
    screen.MESSAGE_UNANSWERED: '"not asked" is recorded as unknown',
    screen.REASON_CLEAR: "*clear* only when every question was answered and nothing was found",
}
"""Each reason the safety screen can give, and the words of the safety module that teach it."""


def _text(module_id: str) -> str:
    """A module's body with its line breaks read as spaces."""
    module = next(module for module in load_course() if module.id == module_id)
    return " ".join(module.body.split())


def _message(reason: str) -> str:
    """The screen's message constant a reason starts with (its text up to the first placeholder)."""
    found = [message for message in TAUGHT_AS if reason.startswith(message.split("{")[0])]
    assert found, f"a safety reason no module is checked to teach: {reason}"
    return found[0]


def test_every_safety_finding_the_quizzes_draw_is_taught_in_the_safety_module():
    """Every reason of the safety screens drawn by the quizzes (the cardiovascular warning among them) is taught in
    the safety module's own words, with the label section the screen cites for the cardiovascular warning."""
    drawn = set()
    for seed in range(600):
        question = generate_question("safety", random.Random(seed))  # noqa: S311 - reproducible test draws
        drawn.update(_message(reason) for reason in question.explanation)
    assert screen.MESSAGE_CARDIOVASCULAR in drawn
    text = _text(SAFETY_MODULE)
    for message in drawn:
        assert TAUGHT_AS[message] in text, message
    assert screen.SOURCE_CARDIOVASCULAR in text


def test_the_cardiovascular_warning_states_only_what_the_facts_file_records():
    """The safety module says of cardiovascular disease only that the label flags it (clinical-facts.md 2, Dysphagia /
    breathing row), naming no event, outcome or risk factor the facts file does not record."""
    text = _text(SAFETY_MODULE)
    assert "pre-existing cardiovascular disease: the label flags it" in text
    for unrecorded in ("arrhythmia", "myocardial infarction", "fatal", "risk factors"):
        assert unrecorded not in text, unrecorded


def test_the_safety_module_comes_before_every_module_that_asks_safety_questions():
    """The modules that set safety questions are unlocked only after the module that teaches the screen."""
    course = load_course()
    first = next(position for position, module in enumerate(course) if module.id == SAFETY_MODULE)
    asking = [position for position, module in enumerate(course) if "safety" in module.quiz]
    assert asking
    assert min(asking) >= first


def _plan(total_units: int, vial_units: int):
    """The engine's plan for a session of ``total_units``, the extra sites spread over the follow-the-pain muscles."""
    extra = (total_units - preempt_plan().total_units) // 5
    counts = {}
    for muscle, limit in FOLLOW_THE_PAIN_MAX_SITES.items():
        counts[muscle] = min(limit, extra)
        extra -= counts[muscle]
    assert extra == 0
    return preempt_plan(follow_the_pain={m: n for m, n in counts.items() if n}, vial_units=vial_units)


VIAL_WORDS = {"a": 1, "one": 1, "two": 2}
JW_EXAMPLE = re.compile(r"(\d+) U from (a|one|two) (\d+) U vials? is J0585 x (\d+) and J0585-JW x (\d+)")
WASTE_EXAMPLE = re.compile(r"(\d+) U session from (a|one|two) (\d+) U vials? wastes (\d+) U")
JZ_EXAMPLE = re.compile(r"(\d+) U given from (a|one|two) (\d+) U vials? is J0585-JZ x (\d+)")


def test_the_insurance_modules_billing_examples_are_the_engines_plans():
    """Each "N U from V U vials" example of the insurance module gives the engine's vials, discarded units and claim
    lines (155 U from a 200 U vial is J0585 x 155 and J0585-JW x 45)."""
    text = _text("insurance")
    jw = JW_EXAMPLE.findall(text)
    waste = WASTE_EXAMPLE.findall(text)
    assert len(jw) >= 2
    assert waste
    for total, vials, vial, given, discarded in jw:
        plan = _plan(int(total), int(vial))
        assert plan.vials == VIAL_WORDS[vials]
        lines = [(line.code, line.modifier, line.units) for line in plan.billing_lines]
        assert lines[1:] == [("J0585", None, int(given)), ("J0585", BillingModifier.JW, int(discarded))]
    for total, vials, vial, discarded in waste:
        plan = _plan(int(total), int(vial))
        assert (plan.vials, plan.discarded_units) == (VIAL_WORDS[vials], int(discarded))


def test_the_jz_example_discards_nothing_and_no_chronic_migraine_session_can():
    """The module's JZ example gives a whole vial with nothing left (exactly 100 U from a 100 U vial, as CMS's
    example), since every chronic-migraine plan the engine makes, 155-195 U from 100 U or 200 U vials, discards some
    and carries JW (the old example, 200 U from two 100 U vials, is above the 195 U maximum)."""
    text = _text("insurance")
    examples = JZ_EXAMPLE.findall(text)
    assert examples
    for total, vials, vial, given in examples:
        assert int(total) == int(given) == VIAL_WORDS[vials] * int(vial)
        assert int(vial) in VIAL_SIZES_UNITS
    assert "J0585-JZ x 200" not in text
    limits = [
        range(FOLLOW_THE_PAIN_MAX_SITES[m] + 1) for m in (Muscle.TEMPORALIS, Muscle.OCCIPITALIS, Muscle.TRAPEZIUS)
    ]
    for counts, vial in itertools.product(itertools.product(*limits), VIAL_SIZES_UNITS):
        plan = preempt_plan(
            follow_the_pain=dict(zip((Muscle.TEMPORALIS, Muscle.OCCIPITALIS, Muscle.TRAPEZIUS), counts, strict=True)),
            vial_units=vial,
        )
        assert plan.discarded_units > 0
        assert plan.billing_modifier is BillingModifier.JW


@pytest.mark.parametrize(
    "taught",
    [
        "Treatment stops because the migraine is **no longer chronic**",
        "not established in episodic migraine",
        "The clinician reviews the decision with the patient and watches for relapse",
        "re-evaluates 4-5 months after that pause to catch a relapse to chronic migraine",
    ],
)
def test_the_stopping_rules_explain_the_return_to_episodic_migraine(taught):
    """The outcomes module says why a return to episodic migraine stops treatment (the migraine is no longer
    chronic), that the clinician reviews it with the patient, and that EHF re-checks for a relapse."""
    assert taught in _text("outcomes-and-when-to-stop")


def test_the_ehf_re_check_follows_the_ehf_pause_not_the_nice_stop():
    """The outcomes module ties EHF's re-evaluation 4-5 months later to EHF's own pause (headache days below 10 a
    month for 3 months, clinical-facts.md 5.2), not to NICE's stop at fewer than 15 headache days."""
    text = _text("outcomes-and-when-to-stop")
    assert "re-evaluates 4-5 months after stopping" not in text
    pause = text.index("pauses treatment when headache days fall below 10 a month for 3 months")
    assert pause < text.index("re-evaluates 4-5 months after that pause")
