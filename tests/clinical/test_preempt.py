"""The PREEMPT planner: fixed sites, follow-the-pain limits, vials, wastage and billing."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from onaboard.clinical.preempt import (
    CPT_CHRONIC_MIGRAINE_CHEMODENERVATION,
    DOSE_LIMIT,
    FIXED_DOSE_UNITS,
    FIXED_SITE_COUNT,
    FIXED_SITE_COUNT_MISMATCH,
    FIXED_SITES,
    FIXED_SITES_NOT_GIVEN,
    FOLLOW_THE_PAIN_MAX_SITES,
    FTP_LIMIT,
    FTP_NEGATIVE,
    FTP_NOT_ALLOWED,
    FTP_NOT_WHOLE,
    FTP_UNKNOWN_MUSCLE,
    HCPCS_ONABOTULINUMTOXINA,
    MAX_SESSION_SITES,
    MAX_SESSION_UNITS,
    NO_SITE_GIVEN,
    SITE_BILATERAL,
    SITE_MIDLINE_ONLY,
    SITE_NOT_A_SITE,
    SITE_UNITS,
    SITE_VOLUME,
    UNITS_PER_SITE,
    UNKNOWN_MUSCLE,
    UNKNOWN_SIDE,
    VIAL_SIZE,
    BillingLine,
    BillingModifier,
    InjectionPlan,
    InjectionSite,
    Muscle,
    MuscleDose,
    PlanError,
    Side,
    SiteNotGiven,
    follow_the_pain_sites,
    label_dose_departures,
    plan_from_sites,
    preempt_plan,
)

# --- Strategies -------------------------------------------------------------------------------------------------

follow_the_pain_counts = st.fixed_dictionaries(
    {},
    optional={muscle: st.integers(0, limit) for muscle, limit in FOLLOW_THE_PAIN_MAX_SITES.items()},
)
vial_sizes = st.sampled_from([100, 200])
muscles_without_follow_the_pain = st.sampled_from([m for m in Muscle if m not in FOLLOW_THE_PAIN_MAX_SITES])
muscles_with_follow_the_pain = st.sampled_from(list(FOLLOW_THE_PAIN_MAX_SITES))

ALL_MUSCLES = ", ".join(Muscle)


def _problems(error: pytest.ExceptionInfo[PlanError]) -> tuple[str, ...]:
    return error.value.problems


# --- The fixed paradigm -----------------------------------------------------------------------------------------


def test_fixed_layout_holds_31_sites_and_155_units() -> None:
    """The fixed layout has 31 sites of 5 U, 155 U in all (Blumenfeld 2010 Table 1)."""
    assert sum(len(sides) for sides in FIXED_SITES.values()) == FIXED_SITE_COUNT == 31
    assert FIXED_SITE_COUNT * 5 == FIXED_DOSE_UNITS == 155


def test_follow_the_pain_limits_reach_39_sites_and_195_units() -> None:
    """Follow-the-pain adds at most 8 sites (40 U), reaching the 39-site, 195 U maximum."""
    assert sum(FOLLOW_THE_PAIN_MAX_SITES.values()) == 8
    assert FIXED_SITE_COUNT + 8 == MAX_SESSION_SITES == 39
    assert FIXED_DOSE_UNITS + 40 == MAX_SESSION_UNITS == 195


def test_billing_codes_are_j0585_and_64615() -> None:
    """BOTOX is billed as HCPCS J0585 per unit and the procedure as CPT 64615."""
    assert HCPCS_ONABOTULINUMTOXINA == "J0585"
    assert CPT_CHRONIC_MIGRAINE_CHEMODENERVATION == "64615"


def test_standard_plan_is_155_units_at_31_sites() -> None:
    """Without follow-the-pain the plan is 155 U at 31 sites of 5 U in 0.1 mL."""
    plan = preempt_plan()
    assert (plan.total_units, plan.site_count) == (155, 31)
    assert all(site.units == 5 and site.volume_ml == Decimal("0.1") for site in plan.sites)
    assert not any(site.follow_the_pain for site in plan.sites)
    assert plan.is_standard


def test_by_muscle_lists_all_seven_muscles_in_preempt_order() -> None:
    """The per-muscle summary lists all seven muscles in PREEMPT order with the label's sites and units."""
    assert list(preempt_plan().by_muscle.items()) == [
        (Muscle.CORRUGATOR, MuscleDose(2, 10)),
        (Muscle.PROCERUS, MuscleDose(1, 5)),
        (Muscle.FRONTALIS, MuscleDose(4, 20)),
        (Muscle.TEMPORALIS, MuscleDose(8, 40)),
        (Muscle.OCCIPITALIS, MuscleDose(6, 30)),
        (Muscle.CERVICAL_PARASPINAL, MuscleDose(4, 20)),
        (Muscle.TRAPEZIUS, MuscleDose(6, 30)),
    ]


def test_sites_are_grouped_by_muscle_left_then_right() -> None:
    """Fixed sites come muscle by muscle in PREEMPT order, left sites before right, procerus at the midline."""
    sides = [(site.muscle, site.side) for site in preempt_plan().sites]
    assert sides[:7] == [
        (Muscle.CORRUGATOR, Side.LEFT),
        (Muscle.CORRUGATOR, Side.RIGHT),
        (Muscle.PROCERUS, Side.MIDLINE),
        (Muscle.FRONTALIS, Side.LEFT),
        (Muscle.FRONTALIS, Side.LEFT),
        (Muscle.FRONTALIS, Side.RIGHT),
        (Muscle.FRONTALIS, Side.RIGHT),
    ]
    assert [muscle for muscle, _ in sides] == sorted((m for m, _ in sides), key=list(Muscle).index)


# --- Vials, wastage, billing ------------------------------------------------------------------------------------


def test_155_units_from_a_200_unit_vial_discards_45_billed_jw() -> None:
    """A 200 U vial for 155 U leaves 45 U discarded, billed with JW."""
    plan = preempt_plan(vial_units=200)
    assert (plan.vials, plan.discarded_units, plan.billing_modifier) == (1, 45, BillingModifier.JW)
    assert plan.billing_modifier == "JW"


def test_155_units_from_100_unit_vials_needs_two_and_discards_45() -> None:
    """155 U from 100 U vials takes 2 vials and leaves 45 U discarded, billed with JW."""
    plan = preempt_plan(vial_units=100)
    assert (plan.vials, plan.discarded_units, plan.billing_modifier) == (2, 45, BillingModifier.JW)


def test_195_units_from_a_200_unit_vial_discards_5() -> None:
    """The full 195 U from one 200 U vial leaves 5 U discarded."""
    plan = preempt_plan(follow_the_pain={Muscle.TEMPORALIS: 2, Muscle.OCCIPITALIS: 2, Muscle.TRAPEZIUS: 4})
    assert (plan.total_units, plan.site_count) == (195, 39)
    assert (plan.vials, plan.discarded_units, plan.billing_modifier) == (1, 5, BillingModifier.JW)


def test_195_units_from_100_unit_vials_discards_5() -> None:
    """The full 195 U from 100 U vials takes 2 vials and leaves 5 U discarded."""
    plan = preempt_plan(
        follow_the_pain={Muscle.TEMPORALIS: 2, Muscle.OCCIPITALIS: 2, Muscle.TRAPEZIUS: 4}, vial_units=100
    )
    assert (plan.vials, plan.discarded_units) == (2, 5)


def test_exactly_one_full_100_unit_vial_is_billed_jz() -> None:
    """A dose that empties its vials exactly (100 U from one 100 U vial) discards nothing and is billed JZ."""
    plan = InjectionPlan(tuple(InjectionSite(Muscle.TEMPORALIS, Side.LEFT) for _ in range(20)), vial_units=100)
    assert (plan.total_units, plan.vials, plan.discarded_units) == (100, 1, 0)
    assert plan.billing_modifier == BillingModifier.JZ
    assert plan.billing_lines == (
        BillingLine("64615", None, 1),
        BillingLine("J0585", BillingModifier.JZ, 100),
    )


def test_billing_lines_report_given_and_discarded_units_separately() -> None:
    """155 U from a 200 U vial is billed as 64615 once, J0585 x 155 and J0585-JW x 45."""
    assert preempt_plan().billing_lines == (
        BillingLine("64615", None, 1),
        BillingLine("J0585", None, 155),
        BillingLine("J0585", BillingModifier.JW, 45),
    )


@pytest.mark.parametrize(("vial_units", "saline_ml"), [(100, Decimal("2.0")), (200, Decimal("4.0"))])
def test_reconstitution_gives_5_units_per_0_1_ml(vial_units: int, saline_ml: Decimal) -> None:
    """A 100 U vial takes 2.0 mL saline and a 200 U vial 4.0 mL, both giving 5 U per 0.1 mL."""
    reconstitution = preempt_plan(vial_units=vial_units).reconstitution
    assert (reconstitution.vial_units, reconstitution.saline_ml, reconstitution.units_per_0_1_ml) == (
        vial_units,
        saline_ml,
        5,
    )
    assert vial_units / (reconstitution.saline_ml * 10) == 5


@pytest.mark.parametrize("vial_units", [0, 50, 150, 300, "200", 200.0, True])
def test_other_vial_sizes_are_refused(vial_units: object) -> None:
    """Only 100 U and 200 U vials are accepted."""
    with pytest.raises(PlanError) as error:
        preempt_plan(vial_units=vial_units)  # type: ignore[arg-type]
    assert str(error.value) == VIAL_SIZE.format(vial_units=vial_units)


def test_constructing_a_plan_directly_checks_the_vial_size() -> None:
    """An InjectionPlan built by hand still refuses a vial size other than 100 or 200 U."""
    with pytest.raises(PlanError) as error:
        InjectionPlan(preempt_plan().sites, vial_units=500)
    assert str(error.value) == VIAL_SIZE.format(vial_units=500)


# --- Follow-the-pain --------------------------------------------------------------------------------------------


def test_follow_the_pain_sites_follow_their_muscles_fixed_sites() -> None:
    """Extra temporalis sites come right after the temporalis fixed sites, first left then right."""
    plan = preempt_plan(follow_the_pain={Muscle.TEMPORALIS: 2})
    temporalis = [(site.side, site.follow_the_pain) for site in plan.sites if site.muscle is Muscle.TEMPORALIS]
    assert temporalis == [(Side.LEFT, False)] * 4 + [(Side.RIGHT, False)] * 4 + [
        (Side.LEFT, True),
        (Side.RIGHT, True),
    ]
    assert [site.muscle for site in plan.sites[15:17]] == [Muscle.TEMPORALIS, Muscle.TEMPORALIS]
    assert plan.sites[17].muscle is Muscle.OCCIPITALIS
    assert (plan.total_units, plan.follow_the_pain_count) == (165, 2)


def test_follow_the_pain_sites_alternate_starting_left() -> None:
    """Three extra trapezius sites are placed left, right, left."""
    sites = follow_the_pain_sites({Muscle.TRAPEZIUS: 3})
    assert [(site.muscle, site.side) for site in sites] == [
        (Muscle.TRAPEZIUS, Side.LEFT),
        (Muscle.TRAPEZIUS, Side.RIGHT),
        (Muscle.TRAPEZIUS, Side.LEFT),
    ]
    assert all(site.follow_the_pain and site.units == 5 for site in sites)


def test_follow_the_pain_sites_come_in_preempt_order_whatever_the_mapping_order() -> None:
    """Extra sites are grouped by muscle in PREEMPT order, not in the order they were asked for."""
    sites = follow_the_pain_sites({"trapezius": 1, "temporalis": 1, "occipitalis": 1})
    assert [site.muscle for site in sites] == [Muscle.TEMPORALIS, Muscle.OCCIPITALIS, Muscle.TRAPEZIUS]


def test_muscle_names_may_be_plain_strings() -> None:
    """A mapping keyed by muscle names gives the same plan as one keyed by Muscle members."""
    assert preempt_plan(follow_the_pain={"temporalis": 1}) == preempt_plan(follow_the_pain={Muscle.TEMPORALIS: 1})


def test_zero_extra_sites_changes_nothing() -> None:
    """Asking for 0 extra sites in every allowed muscle gives the standard plan."""
    assert preempt_plan(follow_the_pain=dict.fromkeys(FOLLOW_THE_PAIN_MAX_SITES, 0)) == preempt_plan()


@pytest.mark.parametrize(("muscle", "limit"), [("temporalis", 2), ("occipitalis", 2), ("trapezius", 4)])
def test_follow_the_pain_limit_is_allowed_at_the_boundary(muscle: str, limit: int) -> None:
    """Each muscle accepts exactly its limit of extra sites (temporalis 2, occipitalis 2, trapezius 4)."""
    plan = preempt_plan(follow_the_pain={muscle: limit})
    assert plan.by_muscle[Muscle(muscle)].sites == len(FIXED_SITES[Muscle(muscle)]) + limit
    assert plan.total_units == 155 + 5 * limit


@pytest.mark.parametrize(("muscle", "limit"), [("temporalis", 2), ("occipitalis", 2), ("trapezius", 4)])
def test_follow_the_pain_one_above_the_limit_is_refused(muscle: str, limit: int) -> None:
    """One extra site above a muscle's limit is refused, the message naming the limit in sites and units."""
    with pytest.raises(PlanError) as error:
        preempt_plan(follow_the_pain={muscle: limit + 1})
    assert str(error.value) == FTP_LIMIT.format(muscle=muscle, limit=limit, limit_units=5 * limit, count=limit + 1)


def test_temporalis_limit_message_reads_as_specified() -> None:
    """Asking for 3 extra temporalis sites gives the message the CLI contract shows."""
    with pytest.raises(PlanError) as error:
        follow_the_pain_sites({Muscle.TEMPORALIS: 3})
    assert str(error.value) == "follow-the-pain: temporalis allows at most 2 extra sites (10 U), asked for 3"


@given(muscle=muscles_with_follow_the_pain, above=st.integers(1, 1000))
def test_any_count_above_the_limit_is_refused(muscle: Muscle, above: int) -> None:
    """Every count above a muscle's follow-the-pain limit is refused."""
    with pytest.raises(PlanError):
        follow_the_pain_sites({muscle: FOLLOW_THE_PAIN_MAX_SITES[muscle] + above})


@given(muscle=muscles_without_follow_the_pain, count=st.integers(0, 10))
def test_muscles_without_follow_the_pain_refuse_extra_sites(muscle: Muscle, count: int) -> None:
    """Corrugator, procerus, frontalis and cervical paraspinal refuse any follow-the-pain request."""
    with pytest.raises(PlanError) as error:
        follow_the_pain_sites({muscle: count})
    assert str(error.value) == FTP_NOT_ALLOWED.format(muscle=muscle)


def test_cervical_paraspinal_follow_the_pain_is_refused_with_a_clear_message() -> None:
    """The neck group takes no follow-the-pain sites (Blumenfeld 2010)."""
    with pytest.raises(PlanError) as error:
        preempt_plan(follow_the_pain={"cervical_paraspinal": 1})
    assert str(error.value) == (
        "follow-the-pain: cervical_paraspinal takes no extra sites; extra sites go only in temporalis (at most 2), "
        "occipitalis (at most 2), trapezius (at most 4)"
    )


def test_negative_follow_the_pain_count_is_refused() -> None:
    """A negative count is refused."""
    with pytest.raises(PlanError) as error:
        follow_the_pain_sites({Muscle.OCCIPITALIS: -1})
    assert str(error.value) == FTP_NEGATIVE.format(muscle="occipitalis", count=-1)


@pytest.mark.parametrize("count", [True, "2", 1.0, None])
def test_follow_the_pain_count_must_be_a_whole_number(count: object) -> None:
    """A count that is not an int (a bool, text, a float) is refused."""
    with pytest.raises(PlanError) as error:
        follow_the_pain_sites({Muscle.TRAPEZIUS: count})  # type: ignore[dict-item]
    assert str(error.value) == FTP_NOT_WHOLE.format(muscle="trapezius", count=count)


def test_unknown_muscle_is_refused_naming_the_known_ones() -> None:
    """An unknown muscle name is refused, listing the seven PREEMPT muscles."""
    with pytest.raises(PlanError) as error:
        InjectionSite("masseter", Side.LEFT)  # type: ignore[arg-type]
    assert str(error.value) == UNKNOWN_MUSCLE.format(name="masseter", known=ALL_MUSCLES)


def test_an_unknown_follow_the_pain_muscle_is_refused_with_each_muscles_limit() -> None:
    """An unknown muscle asked for extra sites is refused, naming the three muscles that take them and their limits."""
    with pytest.raises(PlanError) as error:
        follow_the_pain_sites({"masseter": 1})
    limits = "temporalis (at most 2), occipitalis (at most 2), trapezius (at most 4)"
    assert str(error.value) == FTP_UNKNOWN_MUSCLE.format(name="masseter", limits=limits)


def test_every_problem_is_reported_at_once() -> None:
    """A request with a bad vial and two bad muscles reports all three problems, one per line."""
    with pytest.raises(PlanError) as error:
        preempt_plan(follow_the_pain={"temporalis": 3, "frontalis": 1}, vial_units=300)
    assert _problems(error) == (
        VIAL_SIZE.format(vial_units=300),
        FTP_LIMIT.format(muscle="temporalis", limit=2, limit_units=10, count=3),
        FTP_NOT_ALLOWED.format(muscle="frontalis"),
    )
    assert str(error.value) == "\n".join(_problems(error))


# --- Invariants -------------------------------------------------------------------------------------------------


@given(counts=follow_the_pain_counts, vial_units=vial_sizes)
def test_standard_plans_give_5_units_per_site(counts: dict[Muscle, int], vial_units: int) -> None:
    """A standard plan's units always equal 5 x its sites, with 31 fixed sites and the asked extra sites."""
    plan = preempt_plan(follow_the_pain=counts, vial_units=vial_units)
    assert plan.is_standard
    assert plan.total_units == 5 * plan.site_count
    assert plan.site_count == 31 + sum(counts.values())
    assert plan.follow_the_pain_count == sum(counts.values())


@given(counts=follow_the_pain_counts, vial_units=vial_sizes)
def test_bilateral_fixed_sites_are_balanced(counts: dict[Muscle, int], vial_units: int) -> None:
    """For every bilateral muscle the fixed sites are half left, half right; procerus has one midline site."""
    plan = preempt_plan(follow_the_pain=counts, vial_units=vial_units)
    fixed = Counter((site.muscle, site.side) for site in plan.sites if not site.follow_the_pain)
    for muscle in Muscle:
        if muscle is Muscle.PROCERUS:
            assert (fixed[muscle, Side.MIDLINE], fixed[muscle, Side.LEFT], fixed[muscle, Side.RIGHT]) == (1, 0, 0)
        else:
            assert fixed[muscle, Side.LEFT] == fixed[muscle, Side.RIGHT] > 0
            assert fixed[muscle, Side.MIDLINE] == 0


@given(counts=follow_the_pain_counts, vial_units=vial_sizes)
def test_plans_stay_within_195_units_and_39_sites(counts: dict[Muscle, int], vial_units: int) -> None:
    """No plan exceeds 195 U or 39 sites, nor falls below 155 U."""
    plan = preempt_plan(follow_the_pain=counts, vial_units=vial_units)
    assert 155 <= plan.total_units <= MAX_SESSION_UNITS
    assert plan.site_count <= MAX_SESSION_SITES


@given(counts=follow_the_pain_counts, vial_units=vial_sizes)
def test_vials_hold_the_dose_with_the_least_waste(counts: dict[Muscle, int], vial_units: int) -> None:
    """vials x size - discarded equals the dose, the waste is under one vial, and the modifier follows the waste."""
    plan = preempt_plan(follow_the_pain=counts, vial_units=vial_units)
    assert plan.vials * vial_units - plan.discarded_units == plan.total_units
    assert 0 <= plan.discarded_units < vial_units
    assert plan.billing_modifier == (BillingModifier.JW if plan.discarded_units else BillingModifier.JZ)


@given(counts=follow_the_pain_counts, vial_units=vial_sizes)
def test_by_muscle_adds_up_to_the_plan(counts: dict[Muscle, int], vial_units: int) -> None:
    """The per-muscle summary covers all seven muscles and adds up to the plan's sites and units."""
    plan = preempt_plan(follow_the_pain=counts, vial_units=vial_units)
    summary = plan.by_muscle
    assert list(summary) == list(Muscle)
    assert sum(dose.sites for dose in summary.values()) == plan.site_count
    assert sum(dose.units for dose in summary.values()) == plan.total_units


@given(counts=follow_the_pain_counts, vial_units=vial_sizes)
def test_a_planned_layout_passes_the_edited_plan_check(counts: dict[Muscle, int], vial_units: int) -> None:
    """Any plan preempt_plan makes is accepted unchanged by plan_from_sites."""
    plan = preempt_plan(follow_the_pain=counts, vial_units=vial_units)
    assert plan_from_sites(plan.sites, vial_units=vial_units) == plan


# --- Edited plans -----------------------------------------------------------------------------------------------


def _fixed() -> list[InjectionSite]:
    return list(preempt_plan().sites)


def _extra(muscle: Muscle, side: Side, units: int = 5) -> InjectionSite:
    return InjectionSite(muscle, side, units, Decimal(units) / 50, follow_the_pain=True)


def test_edited_plan_may_place_all_extra_trapezius_sites_on_one_side() -> None:
    """Follow-the-pain sites need not be bilateral: four extra trapezius sites on the right are accepted."""
    plan = plan_from_sites([*_fixed(), *(_extra(Muscle.TRAPEZIUS, Side.RIGHT) for _ in range(4))])
    assert plan.by_muscle[Muscle.TRAPEZIUS] == MuscleDose(10, 50)


def test_edited_plan_refuses_a_fifth_extra_trapezius_site() -> None:
    """A fifth extra trapezius site is refused with the trapezius limit."""
    with pytest.raises(PlanError) as error:
        plan_from_sites([*_fixed(), *(_extra(Muscle.TRAPEZIUS, Side.LEFT) for _ in range(5))])
    assert str(error.value) == FTP_LIMIT.format(muscle="trapezius", limit=4, limit_units=20, count=5)


def test_edited_plan_refuses_follow_the_pain_in_the_neck_group() -> None:
    """An extra site flagged in the cervical paraspinal group is refused."""
    with pytest.raises(PlanError) as error:
        plan_from_sites([*_fixed(), _extra(Muscle.CERVICAL_PARASPINAL, Side.LEFT)])
    assert str(error.value) == FTP_NOT_ALLOWED.format(muscle="cervical_paraspinal")


def test_a_plan_missing_a_fixed_site_is_valid_and_departs_from_the_label_naming_the_site() -> None:
    """A session that left out the third right trapezius site (the patient fainted) is a valid plan of 150 U at 30
    sites, whose departure from the label names the site not given, for the recorder to override with a reason."""
    sites = _fixed()
    sites.remove(InjectionSite(Muscle.TRAPEZIUS, Side.RIGHT))
    plan = plan_from_sites(sites)
    assert (plan.total_units, plan.site_count) == (150, 30)
    assert plan.not_given == (SiteNotGiven(Muscle.TRAPEZIUS, Side.RIGHT, 3),)
    assert label_dose_departures(plan) == ("PREEMPT: 1 fixed site not given (trapezius right 3): 150 U at 30 sites",)


def test_a_plan_that_left_a_fixed_site_out_is_not_the_standard_paradigm() -> None:
    """A session that gave 30 of the 31 fixed sites at 5 U each is not the PREEMPT paradigm (``is_standard`` is
    false), whether the site is missing or listed at 0 U."""
    missing = _fixed()
    missing.remove(InjectionSite(Muscle.TRAPEZIUS, Side.RIGHT))
    at_zero = _fixed()
    at_zero[0] = InjectionSite(Muscle.CORRUGATOR, Side.LEFT, 0)
    assert (plan_from_sites(missing).is_standard, plan_from_sites(at_zero).is_standard) == (False, False)
    assert plan_from_sites(_fixed()).is_standard


def test_sites_not_given_are_added_back_at_the_label_dose_keeping_the_sites_given() -> None:
    """A partial session with a follow-the-pain site, its fixed sites not given added back, is the paradigm again
    (160 U at 32 sites, nothing not given) from the same vial, its given sites first as they were; a plan that left
    nothing out comes back unchanged."""
    sites = [*_fixed(), _extra(Muscle.TEMPORALIS, Side.RIGHT)]
    sites.remove(InjectionSite(Muscle.TRAPEZIUS, Side.RIGHT))
    sites[0] = InjectionSite(Muscle.CORRUGATOR, Side.LEFT, 0)
    partial = plan_from_sites(sites, vial_units=100)
    restored = partial.with_sites_not_given()
    assert (restored.total_units, restored.site_count, restored.vial_units) == (160, 32, 100)
    assert (restored.not_given, restored.is_standard, restored.follow_the_pain_count) == ((), True, 1)
    assert restored.sites[: partial.site_count] == partial.sites
    assert restored.sites[partial.site_count :] == (
        InjectionSite(Muscle.CORRUGATOR, Side.LEFT),
        InjectionSite(Muscle.TRAPEZIUS, Side.RIGHT),
    )
    full = preempt_plan()
    assert full.with_sites_not_given() is full


def test_a_fixed_site_at_0_units_is_not_given_and_keeps_its_number() -> None:
    """A fixed site listed at 0 U is not given: it leaves the plan's sites, holds no volume, and is named by its own
    number (temporalis left 2), not as the last site of its side; a follow-the-pain site not given is not listed,
    so at 0 U it is refused."""
    sites = _fixed()
    second = [i for i, site in enumerate(sites) if (site.muscle, site.side) == (Muscle.TEMPORALIS, Side.LEFT)][1]
    sites[second] = InjectionSite(Muscle.TEMPORALIS, Side.LEFT, 0)
    assert sites[second].volume_ml == 0
    plan = plan_from_sites(sites)
    assert (plan.total_units, plan.site_count) == (150, 30)
    assert all(site.units for site in plan.sites)
    assert plan.not_given == (SiteNotGiven(Muscle.TEMPORALIS, Side.LEFT, 2),)
    assert label_dose_departures(plan) == (
        FIXED_SITES_NOT_GIVEN.format(not_given="1 fixed site", names="temporalis left 2", units=150, given="30 sites"),
    )
    with pytest.raises(PlanError) as error:
        InjectionSite(Muscle.TEMPORALIS, Side.LEFT, 0, follow_the_pain=True)
    assert str(error.value) == SITE_UNITS.format(units=0)


def test_sites_not_given_are_named_in_preempt_order_with_runs_of_numbers_joined() -> None:
    """Two fixed sites at 0 U and a missing side are listed by muscle in PREEMPT order, a run of numbers as its
    ends, beside the sites that depart from 5 U."""
    sites = [site for site in _fixed() if (site.muscle, site.side) != (Muscle.OCCIPITALIS, Side.LEFT)]
    sites[0] = InjectionSite(Muscle.CORRUGATOR, Side.LEFT, 0)
    sites[2] = InjectionSite(Muscle.PROCERUS, Side.MIDLINE, 10, Decimal("0.2"))
    plan = plan_from_sites(sites)
    assert label_dose_departures(plan)[0] == FIXED_SITES_NOT_GIVEN.format(
        not_given="4 fixed sites", names="corrugator left 1, occipitalis left 1-3", units=140, given="27 sites"
    )
    assert len(label_dose_departures(plan)) == 3  # the sites not given, procerus at 10 U, procerus above 5 U


def test_a_partial_session_bills_and_discards_what_was_given() -> None:
    """150 U given from a 200 U vial bills J0585 150 U and 50 U discarded with JW; from 100 U vials, 2 vials and
    50 U discarded."""
    sites = _fixed()
    sites.remove(InjectionSite(Muscle.TRAPEZIUS, Side.RIGHT))
    plan = plan_from_sites(sites)
    assert (plan.vials, plan.discarded_units, plan.billing_modifier) == (1, 50, BillingModifier.JW)
    assert plan.billing_lines == (
        BillingLine(CPT_CHRONIC_MIGRAINE_CHEMODENERVATION, None, 1),
        BillingLine(HCPCS_ONABOTULINUMTOXINA, None, 150),
        BillingLine(HCPCS_ONABOTULINUMTOXINA, BillingModifier.JW, 50),
    )
    assert (plan_from_sites(sites, vial_units=100).vials, plan_from_sites(sites, vial_units=100).discarded_units) == (
        2,
        50,
    )


@given(counts=follow_the_pain_counts)
def test_a_planned_layout_leaves_no_fixed_site_out(counts: dict[Muscle, int]) -> None:
    """Every plan preempt_plan makes gives all 31 fixed sites."""
    assert preempt_plan(follow_the_pain=counts).not_given == ()


def test_edited_plan_refuses_an_extra_site_not_flagged_follow_the_pain() -> None:
    """A fifth left frontalis site not marked follow-the-pain breaks the fixed layout."""
    with pytest.raises(PlanError) as error:
        plan_from_sites([*_fixed(), InjectionSite(Muscle.FRONTALIS, Side.LEFT)])
    assert str(error.value) == FIXED_SITE_COUNT_MISMATCH.format(muscle="frontalis", side="left", count=3, expected=2)


def test_edited_plan_refuses_a_plan_that_gives_no_site() -> None:
    """A plan with no site, or with every fixed site at 0 U, gives nothing and is refused."""
    for sites in ([], [InjectionSite(site.muscle, site.side, 0) for site in _fixed()]):
        with pytest.raises(PlanError) as error:
            plan_from_sites(sites)
        assert _problems(error) == (NO_SITE_GIVEN,)


def test_edited_plan_accepts_exactly_195_units_with_heavier_sites() -> None:
    """A non-standard plan of exactly 195 U (four 10 U extra sites) is accepted and marked non-standard."""
    heavier = [_extra(Muscle.TEMPORALIS, Side.LEFT, 10), _extra(Muscle.TEMPORALIS, Side.RIGHT, 10)]
    heavier += [_extra(Muscle.TRAPEZIUS, Side.LEFT, 10), _extra(Muscle.TRAPEZIUS, Side.RIGHT, 10)]
    plan = plan_from_sites([*_fixed(), *heavier])
    assert (plan.total_units, plan.site_count, plan.is_standard) == (195, 35, False)
    assert (plan.vials, plan.discarded_units) == (1, 5)


def test_edited_plan_refuses_196_units() -> None:
    """One unit above the 195 U session maximum is refused with the total, site count and limit."""
    heavier = [_extra(Muscle.TEMPORALIS, Side.LEFT, 10), _extra(Muscle.TEMPORALIS, Side.RIGHT, 10)]
    heavier += [_extra(Muscle.TRAPEZIUS, Side.LEFT, 10), _extra(Muscle.TRAPEZIUS, Side.RIGHT, 11)]
    with pytest.raises(PlanError) as error:
        plan_from_sites([*_fixed(), *heavier])
    assert str(error.value) == DOSE_LIMIT.format(total=196, sites=35, limit=195)
    assert str(error.value) == (
        "dose: the plan totals 196 U over 35 sites, above the PREEMPT maximum of 195 U per session"
    )


def test_edited_plan_refuses_doubled_fixed_doses() -> None:
    """31 fixed sites at 10 U each (310 U) are refused by the dose check."""
    doubled = [InjectionSite(site.muscle, site.side, 10, Decimal("0.2")) for site in _fixed()]
    with pytest.raises(PlanError) as error:
        plan_from_sites(doubled)
    assert str(error.value) == DOSE_LIMIT.format(total=310, sites=31, limit=195)


def test_edited_plan_keeps_the_clinicians_site_order() -> None:
    """An edited plan keeps its sites in the order the clinician recorded them."""
    reversed_sites = tuple(reversed(_fixed()))
    assert plan_from_sites(reversed_sites).sites == reversed_sites


def test_edited_plan_refuses_things_that_are_not_sites() -> None:
    """A list holding something other than an InjectionSite is refused, naming its position."""
    with pytest.raises(PlanError) as error:
        plan_from_sites([*_fixed(), "temporalis"])  # type: ignore[list-item]
    assert str(error.value) == SITE_NOT_A_SITE.format(index=32, value="temporalis")


def test_edited_plan_checks_the_vial_size() -> None:
    """plan_from_sites refuses a vial size other than 100 or 200 U."""
    with pytest.raises(PlanError) as error:
        plan_from_sites(_fixed(), vial_units=50)
    assert str(error.value) == VIAL_SIZE.format(vial_units=50)


# --- Sites ------------------------------------------------------------------------------------------------------


def test_site_defaults_to_5_units_in_0_1_ml() -> None:
    """A site defaults to the label's 5 U in 0.1 mL, not follow-the-pain."""
    site = InjectionSite(Muscle.FRONTALIS, Side.LEFT)
    assert (site.units, site.volume_ml, site.follow_the_pain) == (5, Decimal("0.1"), False)


def test_site_accepts_names_and_a_float_volume() -> None:
    """Muscle and side may be given as text and the volume as a float; they are stored as enum and Decimal."""
    site = InjectionSite("occipitalis", "right", 5, 0.1)  # type: ignore[arg-type]
    assert (site.muscle, site.side, site.volume_ml) == (Muscle.OCCIPITALIS, Side.RIGHT, Decimal("0.1"))


@pytest.mark.parametrize("units", [-5, True, 5.0, "5"])
def test_site_units_must_be_a_whole_number_from_0(units: object) -> None:
    """Negative units, a bool or a non-int are refused at a fixed site."""
    with pytest.raises(PlanError) as error:
        InjectionSite(Muscle.FRONTALIS, Side.LEFT, units)  # type: ignore[arg-type]
    assert str(error.value) == SITE_UNITS.format(units=units)


def test_site_volume_must_match_units_at_5_units_per_0_1_ml() -> None:
    """10 U recorded in 0.1 mL is refused: at 5 U per 0.1 mL it is 0.2 mL."""
    with pytest.raises(PlanError) as error:
        InjectionSite(Muscle.FRONTALIS, Side.LEFT, 10, Decimal("0.1"))
    assert str(error.value) == SITE_VOLUME.format(units=10, expected=Decimal("0.2"), volume=Decimal("0.1"))


def test_site_volume_that_is_not_a_number_is_refused() -> None:
    """A volume that is not a number is refused with the expected volume."""
    with pytest.raises(PlanError) as error:
        InjectionSite(Muscle.FRONTALIS, Side.LEFT, 5, "a lot")  # type: ignore[arg-type]
    assert str(error.value) == SITE_VOLUME.format(units=5, expected=Decimal("0.1"), volume="a lot")


def test_procerus_is_only_injected_at_the_midline() -> None:
    """A procerus site on the left is refused."""
    with pytest.raises(PlanError) as error:
        InjectionSite(Muscle.PROCERUS, Side.LEFT)
    assert str(error.value) == SITE_MIDLINE_ONLY.format(side="left")


@pytest.mark.parametrize("muscle", [m for m in Muscle if m is not Muscle.PROCERUS])
def test_bilateral_muscles_are_never_at_the_midline(muscle: Muscle) -> None:
    """Every muscle but procerus refuses a midline site."""
    with pytest.raises(PlanError) as error:
        InjectionSite(muscle, Side.MIDLINE)
    assert str(error.value) == SITE_BILATERAL.format(muscle=muscle, side="midline")


def test_unknown_side_is_refused() -> None:
    """A side other than left, right or midline is refused."""
    with pytest.raises(PlanError) as error:
        InjectionSite(Muscle.FRONTALIS, "top")  # type: ignore[arg-type]
    assert str(error.value) == UNKNOWN_SIDE.format(name="top")


def test_plan_error_is_a_value_error() -> None:
    """PlanError is a ValueError, so callers that catch bad input catch it."""
    assert issubclass(PlanError, ValueError)


def test_a_plan_of_label_doses_departs_from_nothing():
    """The 31 fixed sites, and every follow-the-pain plan the engine allows, are at the label's dose everywhere."""
    assert label_dose_departures(preempt_plan()) == ()
    assert label_dose_departures(preempt_plan(follow_the_pain=dict(FOLLOW_THE_PAIN_MAX_SITES))) == ()


def test_sites_off_the_label_dose_and_muscles_over_their_maximum_are_named():
    """40 U at one temporalis follow-the-pain site is named by muscle and side, and temporalis at 80 U is above
    its 50 U maximum (40 U fixed + 10 U follow-the-pain, Blumenfeld 2010); 10 U neck sites take the neck past 20 U."""
    from onaboard.clinical.preempt import (
        MAX_MUSCLE_UNITS,
        MUSCLE_ABOVE_MAXIMUM,
        SITES_NOT_LABEL_DOSE,
        _volume_for,
    )

    assert (MAX_MUSCLE_UNITS[Muscle.TEMPORALIS], MAX_MUSCLE_UNITS[Muscle.CERVICAL_PARASPINAL]) == (50, 20)
    sites = [
        InjectionSite(s.muscle, s.side, 40, follow_the_pain=True, volume_ml=_volume_for(40)) if s.follow_the_pain else s
        for s in preempt_plan(follow_the_pain={"temporalis": 1}).sites
    ]
    assert label_dose_departures(plan_from_sites(sites)) == (
        SITES_NOT_LABEL_DOSE.format(muscle="temporalis", side="left", count=1, sites=5, per_site=5, units="40"),
        MUSCLE_ABOVE_MAXIMUM.format(muscle="temporalis", units=80, limit=50),
    )
    neck = [
        InjectionSite(s.muscle, s.side, 10, volume_ml=_volume_for(10)) if s.muscle is Muscle.CERVICAL_PARASPINAL else s
        for s in preempt_plan().sites
    ]
    departures = label_dose_departures(plan_from_sites(neck))
    assert departures[-1] == MUSCLE_ABOVE_MAXIMUM.format(muscle="cervical_paraspinal", units=40, limit=20)
    assert len(departures) == 3  # left, right, and the muscle's total


# --- Follow-the-pain limits: confirmed ones refuse, the derived occipitalis one is a departure -------------------

OCCIPITALIS_DEPARTURE = (
    "follow-the-pain: occipitalis has 3 extra sites (45 U in the muscle), more than the 2 (10 U; 40 U in the muscle) "
    "derived from the 40 U follow-the-pain cap less temporalis 10 U and trapezius 20 U: Blumenfeld 2010 allows extra "
    "occipitalis sites but states no number"
)


def _with_extra(sites: list[InjectionSite], **counts: int) -> list[InjectionSite]:
    """``sites`` followed by ``counts`` extra 5 U sites per muscle, alternately left and right."""
    sides = (Side.LEFT, Side.RIGHT)
    return [*sites, *(_extra(Muscle(m), sides[i % 2]) for m, count in counts.items() for i in range(count))]


def test_three_extra_occipitalis_sites_are_recorded_as_a_departure_from_the_derived_limit() -> None:
    """31 fixed sites, 3 extra occipitalis and 2 extra trapezius (180 U at 36 sites, 5 extra: within every confirmed
    limit) make a plan: the occipitalis limit of 2 sites is derived from the 40 U cap, not stated (Blumenfeld 2010),
    so going past it is a departure a recorder overrides with a reason, named once, not refused."""
    from onaboard.clinical.preempt import FOLLOW_THE_PAIN_DERIVED_LIMITS, FTP_ABOVE_DERIVED_LIMIT

    assert frozenset({Muscle.OCCIPITALIS}) == FOLLOW_THE_PAIN_DERIVED_LIMITS
    plan = plan_from_sites(_with_extra(_fixed(), occipitalis=3, trapezius=2))
    assert (plan.total_units, plan.site_count, plan.follow_the_pain_count) == (180, 36, 5)
    assert label_dose_departures(plan) == (OCCIPITALIS_DEPARTURE,)
    (departure,) = label_dose_departures(plan)
    assert departure == FTP_ABOVE_DERIVED_LIMIT.format(
        muscle="occipitalis",
        count=3,
        units=45,
        limit=2,
        limit_units=10,
        muscle_limit=40,
        cap=MAX_SESSION_UNITS - FIXED_DOSE_UNITS,
        others="temporalis 10 U and trapezius 20 U",
    )


def test_planning_still_refuses_a_third_extra_occipitalis_site() -> None:
    """Asking the planner (and so the command line) for 3 extra occipitalis sites is still refused with the limit:
    a plan keeps within every limit, derived or not; only recording what was given lets it be overridden."""
    with pytest.raises(PlanError) as error:
        preempt_plan(follow_the_pain={"occipitalis": 3})
    assert str(error.value) == FTP_LIMIT.format(muscle="occipitalis", limit=2, limit_units=10, count=3)
    with pytest.raises(PlanError):
        follow_the_pain_sites({Muscle.OCCIPITALIS: 3})


def test_edited_plan_still_refuses_a_third_extra_temporalis_site() -> None:
    """Temporalis's 2 extra sites (10 U) is stated in Blumenfeld 2010: a third is refused outright."""
    with pytest.raises(PlanError) as error:
        plan_from_sites(_with_extra(_fixed(), temporalis=3))
    assert str(error.value) == FTP_LIMIT.format(muscle="temporalis", limit=2, limit_units=10, count=3)


def test_edited_plan_refuses_more_than_8_extra_sites_in_all() -> None:
    """Follow-the-pain adds at most 8 sites (39 in all): 6 extra occipitalis and 2 temporalis (195 U at 39 sites) is
    a departure, 7 occipitalis and 2 temporalis is refused even with 2 fixed sites left out (190 U at 38 sites)."""
    from onaboard.clinical.preempt import FTP_TOTAL_LIMIT

    plan = plan_from_sites(_with_extra(_fixed(), occipitalis=6, temporalis=2))
    assert (plan.total_units, plan.site_count) == (MAX_SESSION_UNITS, MAX_SESSION_SITES)
    assert label_dose_departures(plan)[0].startswith("follow-the-pain: occipitalis has 6 extra sites (60 U")
    with pytest.raises(PlanError) as error:
        plan_from_sites(_with_extra(_fixed()[2:], occipitalis=7, temporalis=2))
    assert str(error.value) == FTP_TOTAL_LIMIT.format(limit=8, limit_units=40, max_sites=39, count=9)


def test_occipitalis_above_its_derived_maximum_in_units_says_the_maximum_is_derived() -> None:
    """2 extra occipitalis sites at 10 U (50 U in the muscle) keep within the sites but not the muscle's 40 U, a
    maximum derived from the 40 U cap: the departure says so rather than calling it PREEMPT's."""
    from onaboard.clinical.preempt import MUSCLE_ABOVE_DERIVED_MAXIMUM

    sites = [*_fixed(), _extra(Muscle.OCCIPITALIS, Side.LEFT, 10), _extra(Muscle.OCCIPITALIS, Side.RIGHT, 10)]
    assert label_dose_departures(plan_from_sites(sites))[-1] == MUSCLE_ABOVE_DERIVED_MAXIMUM.format(
        muscle="occipitalis", units=50, limit=40, cap=40, others="temporalis 10 U and trapezius 20 U"
    )


def test_a_plan_past_a_derived_limit_is_not_the_standard_paradigm() -> None:
    """31 fixed sites and 3 extra occipitalis sites, every one at 5 U, is not the PREEMPT paradigm: the third extra
    occipitalis site is a departure (``label_dose_departures``), so ``is_standard`` is false and the prior-auth
    letter does not call it the paradigm. The same within the derived limit (2 extra occipitalis sites) is."""
    past = plan_from_sites(_with_extra(_fixed(), occipitalis=3))
    within = plan_from_sites(_with_extra(_fixed(), occipitalis=2))
    assert all(site.units == UNITS_PER_SITE for site in past.sites)
    assert (bool(label_dose_departures(past)), past.is_standard) == (True, False)
    assert (label_dose_departures(within), within.is_standard) == ((), True)


@given(
    st.lists(
        st.tuples(st.sampled_from(list(FOLLOW_THE_PAIN_MAX_SITES)), st.sampled_from([Side.LEFT, Side.RIGHT])),
        max_size=8,
    ),
    st.dictionaries(st.integers(0, FIXED_SITE_COUNT - 1), st.sampled_from([0, 10]), max_size=2),
)
def test_a_plan_is_standard_exactly_when_it_has_no_label_dose_departure(extras, changed) -> None:
    """``is_standard`` is true exactly when ``label_dose_departures`` is empty, for fixed sites at 5 U but up to two
    (at 0 U: not given, or 10 U) and any extra 5 U sites the recording rules accept."""
    fixed = _fixed()
    for index, units in changed.items():
        fixed[index] = InjectionSite(fixed[index].muscle, fixed[index].side, units, Decimal(units or 5) / 50)
    try:
        plan = plan_from_sites([*fixed, *(_extra(muscle, side) for muscle, side in extras)])
    except PlanError:
        return
    assert plan.is_standard == (not label_dose_departures(plan))


def test_the_engine_package_exports_every_public_preempt_name() -> None:
    """``onaboard.clinical`` exports all of ``preempt.__all__``, the recording limits of 7c212f6 included
    (``follow_the_pain_refusals``, ``FOLLOW_THE_PAIN_DERIVED_LIMITS``, ``FOLLOW_THE_PAIN_MAX_TOTAL_SITES``), so callers
    import them from the engine's public API."""
    import onaboard.clinical
    from onaboard.clinical import preempt

    assert sorted(set(preempt.__all__) - set(onaboard.clinical.__all__)) == []
    for name in preempt.__all__:
        assert getattr(onaboard.clinical, name) is getattr(preempt, name)
