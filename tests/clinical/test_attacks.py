"""The ICHD-3 attack classifier, read as its specification (ICHD-3, Cephalalgia 2018;38(1):1-211)."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest

from onaboard.clinical.attacks import (
    DURATION_ORDER_ERROR,
    NO_HEADACHE_CONTRADICTION_ERROR,
    AttackFeatures,
    CriterionStatus,
    DiagnosisCode,
    classify_attack,
)
from onaboard.clinical.diary import Intensity

MIGRAINE_ATTACK = AttackFeatures(
    attack_count=5,
    age_years=30,
    headache=True,
    duration_hours_min=6.0,
    duration_hours_max=12.0,
    unilateral=True,
    pulsating=True,
    pressing=False,
    intensity=Intensity.MODERATE,
    worse_with_activity=True,
    nausea=True,
    vomiting=True,
    photophobia=True,
    phonophobia=True,
    aura=False,
)
"""Five attacks of 6-12 h, all four pain features, nausea and vomiting, no aura: 1.1 with room to spare."""

TYPICAL_AURA_ATTACK = replace(
    MIGRAINE_ATTACK,
    attack_count=2,
    aura=True,
    visual_aura=True,
    sensory_aura=False,
    speech_aura=False,
    motor_aura=False,
    retinal_aura=False,
    dysarthria=False,
    vertigo=False,
    tinnitus=False,
    hypacusis=False,
    diplopia=False,
    ataxia=False,
    decreased_consciousness=False,
    aura_spreads_gradually=True,
    aura_symptoms_in_succession=False,
    aura_symptoms_last_5_to_60_min=True,
    aura_unilateral=False,
    aura_positive=True,
    aura_headache_within_60_min=True,
)
"""Two attacks of a visual aura spreading over >= 5 min, 5-60 min, positive, then headache: 1.2.1.1."""

AURA_WITHOUT_HEADACHE = replace(
    TYPICAL_AURA_ATTACK,
    headache=False,
    duration_hours_min=None,
    duration_hours_max=None,
    unilateral=None,
    pulsating=None,
    pressing=None,
    intensity=None,
    worse_with_activity=None,
    aura_headache_within_60_min=False,
)

TENSION_TYPE_ATTACK = AttackFeatures(
    attack_count=12,
    age_years=30,
    headache=True,
    duration_hours_min=2.0,
    duration_hours_max=6.0,
    unilateral=False,
    pulsating=False,
    pressing=True,
    intensity=Intensity.MILD,
    worse_with_activity=False,
    nausea=False,
    vomiting=False,
    photophobia=True,
    phonophobia=False,
    aura=False,
    months_at_frequency=6,
)
"""Twelve bilateral, pressing, mild 2-6 h headaches for 6 months, photophobia only: tension-type."""


def refs(criteria: tuple) -> tuple[str, ...]:
    """The refs of some criteria, for comparing what was unknown."""
    return tuple(criterion.ref for criterion in criteria)


# --- 1.1 Migraine without aura ------------------------------------------------------------------------


def test_five_attacks_with_pain_features_and_nausea_are_migraine_without_aura() -> None:
    """An attack with 3 of 4 pain features and nausea over 5 attacks of 4-72 h is migraine without aura (ICHD-3 1.1)."""
    attack = replace(MIGRAINE_ATTACK, worse_with_activity=False, vomiting=False, photophobia=False, phonophobia=False)
    diagnosis = classify_attack(attack)
    assert diagnosis.code == DiagnosisCode.MIGRAINE_WITHOUT_AURA
    assert diagnosis.name == "Migraine without aura"
    assert not diagnosis.provisional
    assert diagnosis.unknown == ()


def test_pain_criterion_reason_names_the_features_and_the_threshold() -> None:
    """The 1.1 C reason names the criterion, the count, the features met and the threshold."""
    diagnosis = classify_attack(replace(MIGRAINE_ATTACK, worse_with_activity=False))
    pain = next(criterion for criterion in diagnosis.criteria if criterion.ref == "1.1 C")
    assert pain.status is CriterionStatus.MET
    assert pain.reason == (
        "ICHD-3 1.1 C: 3 of 4 pain characteristics (unilateral, pulsating, moderate or severe) (>= 2)"
    )


@pytest.mark.parametrize(
    ("attack_count", "expected"),
    [(4, DiagnosisCode.PROBABLE_MIGRAINE_WITHOUT_AURA), (5, DiagnosisCode.MIGRAINE_WITHOUT_AURA)],
)
def test_five_attacks_make_migraine_without_aura_and_four_only_probable(
    attack_count: int, expected: DiagnosisCode
) -> None:
    """Four otherwise typical attacks are probable migraine (1.5.1); the fifth makes it 1.1 (ICHD-3 1.1 A)."""
    diagnosis = classify_attack(replace(MIGRAINE_ATTACK, attack_count=attack_count))
    assert diagnosis.code == expected
    assert not diagnosis.provisional


@pytest.mark.parametrize(
    ("hours", "expected"),
    [(3.9, DiagnosisCode.PROBABLE_MIGRAINE_WITHOUT_AURA), (4.0, DiagnosisCode.MIGRAINE_WITHOUT_AURA)],
)
def test_adult_attacks_need_four_hours(hours: float, expected: DiagnosisCode) -> None:
    """An adult's 3.9 h attacks miss 1.1 B and are probable migraine; 4 h attacks meet it (ICHD-3 1.1 B)."""
    diagnosis = classify_attack(replace(MIGRAINE_ATTACK, duration_hours_min=hours, duration_hours_max=hours))
    assert diagnosis.code == expected


def test_attacks_over_72_hours_miss_the_duration_criterion() -> None:
    """Attacks lasting 80 h miss 1.1 B and are probable migraine without aura (ICHD-3 1.1 B, 1.5.1)."""
    diagnosis = classify_attack(replace(MIGRAINE_ATTACK, duration_hours_min=80.0, duration_hours_max=80.0))
    assert diagnosis.code == DiagnosisCode.PROBABLE_MIGRAINE_WITHOUT_AURA


@pytest.mark.parametrize(
    ("age_years", "expected"),
    [(17, DiagnosisCode.MIGRAINE_WITHOUT_AURA), (18, DiagnosisCode.PROBABLE_MIGRAINE_WITHOUT_AURA)],
)
def test_two_hour_attacks_count_under_18_only(age_years: int, expected: DiagnosisCode) -> None:
    """Two-hour attacks meet 1.1 B at 17 but not at 18 (ICHD-3 1.1 B, note on children and adolescents)."""
    attack = replace(MIGRAINE_ATTACK, age_years=age_years, duration_hours_min=2.0, duration_hours_max=2.0)
    assert classify_attack(attack).code == expected


def test_two_hour_attacks_at_unknown_age_leave_the_duration_open() -> None:
    """Two-hour attacks at an unknown age leave 1.1 B unknown: migraine, 1.1 or 1.5.1 (ICHD-3 1.1 B)."""
    attack = replace(MIGRAINE_ATTACK, age_years=None, duration_hours_min=2.0, duration_hours_max=2.0)
    diagnosis = classify_attack(attack)
    assert diagnosis.code == DiagnosisCode.MIGRAINE
    assert diagnosis.possible_codes == (
        DiagnosisCode.MIGRAINE_WITHOUT_AURA,
        DiagnosisCode.PROBABLE_MIGRAINE_WITHOUT_AURA,
    )
    assert refs(diagnosis.unknown) == ("1.1 B",)


@pytest.mark.parametrize(
    ("pulsating", "expected"),
    [(False, DiagnosisCode.PROBABLE_MIGRAINE_WITHOUT_AURA), (True, DiagnosisCode.MIGRAINE_WITHOUT_AURA)],
)
def test_two_pain_features_are_needed(pulsating: bool, expected: DiagnosisCode) -> None:
    """One pain feature misses 1.1 C (probable migraine); two meet it (ICHD-3 1.1 C)."""
    attack = replace(
        MIGRAINE_ATTACK, unilateral=True, pulsating=pulsating, intensity=Intensity.MILD, worse_with_activity=False
    )
    assert classify_attack(attack).code == expected


@pytest.mark.parametrize(
    ("phonophobia", "expected"),
    [(False, DiagnosisCode.PROBABLE_MIGRAINE_WITHOUT_AURA), (True, DiagnosisCode.MIGRAINE_WITHOUT_AURA)],
)
def test_photophobia_counts_only_with_phonophobia(phonophobia: bool, expected: DiagnosisCode) -> None:
    """Without nausea or vomiting, photophobia alone misses 1.1 D; with phonophobia it meets it (ICHD-3 1.1 D)."""
    attack = replace(MIGRAINE_ATTACK, nausea=False, vomiting=False, photophobia=True, phonophobia=phonophobia)
    assert classify_attack(attack).code == expected


# --- 1.2 Migraine with aura and subtypes ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("attack_count", "expected"),
    [(1, DiagnosisCode.PROBABLE_MIGRAINE_WITH_AURA), (2, DiagnosisCode.TYPICAL_AURA_WITH_HEADACHE)],
)
def test_two_aura_attacks_are_needed(attack_count: int, expected: DiagnosisCode) -> None:
    """A single typical aura attack is probable migraine with aura; the second makes 1.2.1.1 (ICHD-3 1.2 A)."""
    diagnosis = classify_attack(replace(TYPICAL_AURA_ATTACK, attack_count=attack_count))
    assert diagnosis.code == expected
    assert not diagnosis.provisional


def test_typical_aura_followed_by_headache_is_typical_aura_with_headache() -> None:
    """Visual aura followed within 60 min by headache is typical aura with headache (ICHD-3 1.2.1.1)."""
    diagnosis = classify_attack(TYPICAL_AURA_ATTACK)
    assert diagnosis.code == DiagnosisCode.TYPICAL_AURA_WITH_HEADACHE
    assert diagnosis.name == "Typical aura with headache"


def test_typical_aura_without_headache_is_typical_aura_without_headache() -> None:
    """Visual aura with no headache within 60 min is typical aura without headache (ICHD-3 1.2.1.2)."""
    diagnosis = classify_attack(AURA_WITHOUT_HEADACHE)
    assert diagnosis.code == DiagnosisCode.TYPICAL_AURA_WITHOUT_HEADACHE


@pytest.mark.parametrize(
    ("aura_positive", "expected"),
    [(False, DiagnosisCode.PROBABLE_MIGRAINE_WITH_AURA), (True, DiagnosisCode.TYPICAL_AURA_WITHOUT_HEADACHE)],
)
def test_three_aura_characteristics_are_needed(aura_positive: bool, expected: DiagnosisCode) -> None:
    """Two of six aura characteristics miss 1.2 C (final 2018); three meet it (ICHD-3 1.2 C)."""
    diagnosis = classify_attack(replace(AURA_WITHOUT_HEADACHE, aura_positive=aura_positive))
    assert diagnosis.code == expected
    characteristics = next(criterion for criterion in diagnosis.criteria if criterion.ref == "1.2 C")
    assert characteristics.reason.startswith(f"ICHD-3 1.2 C: {2 + aura_positive} of 6 aura characteristics")


def test_two_brainstem_symptoms_make_brainstem_aura() -> None:
    """Visual aura with vertigo and tinnitus and no motor or retinal aura is brainstem aura (ICHD-3 1.2.2)."""
    diagnosis = classify_attack(replace(TYPICAL_AURA_ATTACK, vertigo=True, tinnitus=True))
    assert diagnosis.code == DiagnosisCode.MIGRAINE_WITH_BRAINSTEM_AURA


def test_brainstem_symptoms_alone_make_brainstem_aura() -> None:
    """Dysarthria and diplopia without visual, sensory or speech aura are brainstem aura (ICHD-3 1.2.2 B)."""
    attack = replace(TYPICAL_AURA_ATTACK, visual_aura=False, dysarthria=True, diplopia=True)
    assert classify_attack(attack).code == DiagnosisCode.MIGRAINE_WITH_BRAINSTEM_AURA


def test_one_brainstem_symptom_fits_no_subtype() -> None:
    """Visual aura with vertigo alone is neither typical nor brainstem aura: it stays 1.2 (ICHD-3 1.2.1 B, 1.2.2 B)."""
    diagnosis = classify_attack(replace(TYPICAL_AURA_ATTACK, vertigo=True))
    assert diagnosis.code == DiagnosisCode.MIGRAINE_WITH_AURA
    assert not diagnosis.provisional
    assert any(reason.startswith("ICHD-3 1.2: aura fits no subtype") for reason in diagnosis.reasons)


@pytest.mark.parametrize(
    ("family_history", "expected"),
    [
        (True, DiagnosisCode.FAMILIAL_HEMIPLEGIC_MIGRAINE),
        (False, DiagnosisCode.SPORADIC_HEMIPLEGIC_MIGRAINE),
    ],
)
def test_motor_aura_is_hemiplegic_familial_or_sporadic(family_history: bool, expected: DiagnosisCode) -> None:
    """Motor weakness with visual aura is hemiplegic migraine, familial or sporadic by family history (ICHD-3 1.2.3)."""
    attack = replace(TYPICAL_AURA_ATTACK, motor_aura=True, family_history_hemiplegic=family_history)
    assert classify_attack(attack).code == expected


def test_motor_aura_without_family_history_is_hemiplegic_migraine_provisionally() -> None:
    """Motor aura with unknown family history is 1.2.3, with 1.2.3.1 and 1.2.3.2 left open (ICHD-3 1.2.3)."""
    diagnosis = classify_attack(replace(TYPICAL_AURA_ATTACK, motor_aura=True))
    assert diagnosis.code == DiagnosisCode.HEMIPLEGIC_MIGRAINE
    assert diagnosis.provisional
    assert diagnosis.possible_codes == (
        DiagnosisCode.FAMILIAL_HEMIPLEGIC_MIGRAINE,
        DiagnosisCode.SPORADIC_HEMIPLEGIC_MIGRAINE,
    )
    assert refs(diagnosis.unknown) == ("1.2.3.1 B", "1.2.3.2 B")


def test_motor_aura_outranks_brainstem_symptoms() -> None:
    """Motor aura with two brainstem symptoms is hemiplegic, not brainstem, migraine (ICHD-3 1.2.2 note 6)."""
    attack = replace(TYPICAL_AURA_ATTACK, motor_aura=True, vertigo=True, diplopia=True, family_history_hemiplegic=False)
    assert classify_attack(attack).code == DiagnosisCode.SPORADIC_HEMIPLEGIC_MIGRAINE


def test_monocular_aura_is_retinal_migraine() -> None:
    """Monocular visual aura spreading over >= 5 min and lasting 5-60 min is retinal migraine (ICHD-3 1.2.4)."""
    attack = replace(TYPICAL_AURA_ATTACK, visual_aura=False, retinal_aura=True)
    assert classify_attack(attack).code == DiagnosisCode.RETINAL_MIGRAINE


# --- 2 Tension-type headache and the hierarchy ----------------------------------------------------------


@pytest.mark.parametrize(
    ("days_per_month", "expected"),
    [
        (0.5, DiagnosisCode.INFREQUENT_EPISODIC_TTH),
        (6.0, DiagnosisCode.FREQUENT_EPISODIC_TTH),
        (20.0, DiagnosisCode.CHRONIC_TTH),
    ],
)
def test_tension_type_subtype_follows_headache_days(days_per_month: float, expected: DiagnosisCode) -> None:
    """Bilateral pressing mild headache is 2.1 under 1 day a month, 2.2 at 1-14, 2.3 at 15 or more (ICHD-3 2.1-2.3)."""
    diagnosis = classify_attack(replace(TENSION_TYPE_ATTACK, headache_days_per_month=days_per_month))
    assert diagnosis.code == expected
    assert not diagnosis.provisional


def test_tension_type_with_unknown_frequency_is_coded_two() -> None:
    """Tension-type headache with unknown headache days a month is coded 2 with 2.1-2.3 left open (ICHD-3 2)."""
    diagnosis = classify_attack(TENSION_TYPE_ATTACK)
    assert diagnosis.code == DiagnosisCode.TENSION_TYPE_HEADACHE
    assert diagnosis.possible_codes == (
        DiagnosisCode.INFREQUENT_EPISODIC_TTH,
        DiagnosisCode.FREQUENT_EPISODIC_TTH,
        DiagnosisCode.CHRONIC_TTH,
    )
    assert refs(diagnosis.unknown) == ("2.1 A", "2.2 A", "2.3 A")


def test_tension_type_outranks_probable_migraine() -> None:
    """An attack meeting both 2.2 and 1.5.1 is coded 2.2: definite beats probable (ICHD-3 1.5, 2.2 comment)."""
    attack = replace(
        TENSION_TYPE_ATTACK,
        headache_days_per_month=6.0,
        duration_hours_min=6.0,
        duration_hours_max=6.0,
        intensity=Intensity.MODERATE,
        worse_with_activity=True,
    )
    diagnosis = classify_attack(attack)
    assert diagnosis.code == DiagnosisCode.FREQUENT_EPISODIC_TTH
    probable = next(criterion for criterion in diagnosis.criteria if criterion.ref == "1.5.1 A")
    assert probable.status is CriterionStatus.MET


def test_nausea_rules_out_episodic_tension_type() -> None:
    """Nausea rules out episodic tension-type headache, leaving probable migraine (ICHD-3 2.2 D, 1.5.1)."""
    attack = replace(
        TENSION_TYPE_ATTACK,
        headache_days_per_month=6.0,
        duration_hours_min=6.0,
        duration_hours_max=6.0,
        nausea=True,
        nausea_moderate_or_severe=True,
    )
    diagnosis = classify_attack(attack)
    assert diagnosis.code == DiagnosisCode.PROBABLE_MIGRAINE_WITHOUT_AURA
    assert not diagnosis.provisional
    assert "Not 2.2" in " ".join(diagnosis.reasons)


# --- Unknowns ------------------------------------------------------------------------------------------


def test_unknown_attack_count_leaves_definite_or_probable_open() -> None:
    """Migraine features with an unknown attack count are migraine (1), 1.1 or 1.5.1, with 1.1 A missing."""
    diagnosis = classify_attack(replace(MIGRAINE_ATTACK, attack_count=None))
    assert diagnosis.code == DiagnosisCode.MIGRAINE
    assert diagnosis.provisional
    assert diagnosis.possible_codes == (
        DiagnosisCode.MIGRAINE_WITHOUT_AURA,
        DiagnosisCode.PROBABLE_MIGRAINE_WITHOUT_AURA,
    )
    assert refs(diagnosis.unknown) == ("1.1 A",)
    assert diagnosis.unknown[0].status is CriterionStatus.UNKNOWN
    assert "Missing: ICHD-3 1.1 A: number of attacks not recorded (>= 5)" in diagnosis.reasons


def test_unknown_aura_characteristics_are_not_assumed() -> None:
    """Visual aura whose 1.2 C characteristics were not asked is not called typical aura (ICHD-3 1.2 C)."""
    attack = replace(
        TYPICAL_AURA_ATTACK,
        attack_count=5,
        aura_spreads_gradually=None,
        aura_symptoms_in_succession=None,
        aura_symptoms_last_5_to_60_min=None,
        aura_unilateral=None,
        aura_positive=None,
        aura_headache_within_60_min=None,
    )
    diagnosis = classify_attack(attack)
    assert diagnosis.code == DiagnosisCode.MIGRAINE
    assert diagnosis.possible_codes == (
        DiagnosisCode.TYPICAL_AURA_WITH_HEADACHE,
        DiagnosisCode.TYPICAL_AURA_WITHOUT_HEADACHE,
        DiagnosisCode.PROBABLE_MIGRAINE_WITH_AURA,
    )
    assert "1.2 C" in refs(diagnosis.unknown)


def test_unknown_headache_timing_after_typical_aura_gives_typical_aura() -> None:
    """Typical aura meeting 1.2 C without the headache's timing is 1.2.1, with 1.2.1.1 and 1.2.1.2 open."""
    diagnosis = classify_attack(replace(TYPICAL_AURA_ATTACK, aura_headache_within_60_min=None))
    assert diagnosis.code == DiagnosisCode.MIGRAINE_WITH_TYPICAL_AURA
    assert diagnosis.possible_codes == (
        DiagnosisCode.TYPICAL_AURA_WITH_HEADACHE,
        DiagnosisCode.TYPICAL_AURA_WITHOUT_HEADACHE,
    )
    assert refs(diagnosis.unknown) == ("1.2.1.1 B", "1.2.1.2 B")


def test_unasked_aura_keeps_migraine_without_aura_open() -> None:
    """Migraine features with aura not asked about are migraine (1), not yet migraine without aura (ICHD-3 1.1)."""
    diagnosis = classify_attack(replace(MIGRAINE_ATTACK, aura=None))
    assert diagnosis.code == DiagnosisCode.MIGRAINE
    assert DiagnosisCode.MIGRAINE_WITHOUT_AURA in diagnosis.possible_codes
    assert "1.1 (without aura)" in refs(diagnosis.unknown)


def test_nothing_known_is_unclassifiable_and_provisional() -> None:
    """An attack with no recorded features is unclassifiable, provisionally, with every diagnosis still open."""
    diagnosis = classify_attack(AttackFeatures())
    assert diagnosis.code == DiagnosisCode.UNCLASSIFIABLE
    assert diagnosis.provisional
    assert diagnosis.possible_codes[-1] == DiagnosisCode.UNCLASSIFIABLE
    assert diagnosis.reasons[0].startswith("Undecided: ")


def test_headache_without_any_criteria_set_met_is_unclassifiable() -> None:
    """A fully described headache meeting no criteria set in scope is unclassifiable, not provisional."""
    attack = replace(
        TENSION_TYPE_ATTACK,
        attack_count=1,
        headache_days_per_month=0.5,
        nausea=True,
        vomiting=True,
        nausea_moderate_or_severe=True,
    )
    diagnosis = classify_attack(attack)
    assert diagnosis.code == DiagnosisCode.UNCLASSIFIABLE
    assert not diagnosis.provisional
    assert diagnosis.reasons[0].startswith("Unclassifiable: ")


def test_settled_diagnosis_lists_its_criteria_and_what_was_ruled_out() -> None:
    """A settled diagnosis gives its criteria as reasons and the criterion that ruled out each code above it."""
    diagnosis = classify_attack(MIGRAINE_ATTACK)
    assert diagnosis.reasons[0] == "ICHD-3 1.1 Migraine without aura: criteria met"
    assert "ICHD-3 1.1 A: 5 attacks (>= 5)" in diagnosis.reasons
    assert (
        "Not 1.2.3.1, 1.2.3.2, 1.2.2, 1.2.4, 1.2.1.1, 1.2.1.2, 1.2: "
        "ICHD-3 1.2 B: 0 of 6 aura symptom types (none) (>= 1)"
    ) in diagnosis.reasons


# --- Input ---------------------------------------------------------------------------------------------


def test_reversed_duration_range_is_refused() -> None:
    """A duration range whose minimum exceeds its maximum is refused with the module's message."""
    with pytest.raises(ValueError, match=f"^{re.escape(DURATION_ORDER_ERROR.format(low=8.0, high=4.0))}$"):
        AttackFeatures(duration_hours_min=8.0, duration_hours_max=4.0)


def test_pain_features_without_headache_are_refused() -> None:
    """An attack said to have no headache but a unilateral one is refused with the module's message."""
    with pytest.raises(ValueError, match=f"^{re.escape(NO_HEADACHE_CONTRADICTION_ERROR.format(field='unilateral'))}$"):
        AttackFeatures(headache=False, unilateral=True)


def test_features_are_frozen() -> None:
    """Attack features cannot be changed after they are made."""
    with pytest.raises(AttributeError):
        MIGRAINE_ATTACK.attack_count = 6  # type: ignore[misc]
