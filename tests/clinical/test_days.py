"""Day classification (shared/spec/diary-csv.md "Day definitions"; ICHD-3 1.3, BOTOX label)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from onaboard.clinical.days import MigraineRoute, classify_day
from onaboard.clinical.diary import Intensity
from tests.clinical.factories import make_day, migraine_day
from tests.clinical.strategies import diary_days

DAY = date(2026, 1, 5)


def test_any_headache_makes_a_headache_day():
    """Any headache, however short or mild, is a headache day (ICHD-3 1.3 A)."""
    result = classify_day(make_day(DAY, "0.1"))
    assert result.headache
    assert not result.headache_4h
    assert not result.migraine


def test_a_headache_free_day_counts_for_nothing():
    """A 0-hour day is neither a headache, migraine nor attack day."""
    result = classify_day(make_day(DAY, 0))
    assert not (result.headache)
    assert not (result.headache_4h)
    assert not (result.migraine)
    assert not (result.attack)


@pytest.mark.parametrize(("hours", "four_hour"), [("3.99", False), ("4", True), ("24", True)])
def test_four_hour_headache_day_starts_at_exactly_4_hours(hours, four_hour):
    """A headache lasting 4 hours or longer is a 4-hour headache day (BOTOX label); 3.99 hours is not."""
    assert classify_day(make_day(DAY, hours)).headache_4h is four_hour


def test_route_1_alone_pain_features_and_nausea():
    """Two pain characteristics with nausea make a migraine day by route 1 alone (ICHD-3 1.3 C1)."""
    day = make_day(DAY, 2, unilateral=True, pulsating=True, nausea=True)
    assert classify_day(day).migraine_routes == {MigraineRoute.FEATURES}


def test_route_1_needs_two_pain_characteristics():
    """One pain characteristic with nausea is not enough for 1.1 C (>= 2 of 4)."""
    assert not classify_day(make_day(DAY, 2, unilateral=True, nausea=True)).migraine
    assert classify_day(
        make_day(DAY, 2, intensity=Intensity.MODERATE, worse_with_activity=True, vomiting=True)
    ).migraine


def test_moderate_or_severe_intensity_is_a_pain_characteristic_but_mild_is_not():
    """Intensity counts toward 1.1 C only when moderate or severe."""
    assert classify_day(make_day(DAY, 2, intensity=Intensity.SEVERE, pulsating=True, nausea=True)).migraine
    assert not classify_day(make_day(DAY, 2, intensity=Intensity.MILD, pulsating=True, nausea=True)).migraine


def test_route_1_needs_photophobia_and_phonophobia_together():
    """Photophobia alone does not meet 1.1 D; photophobia with phonophobia does."""
    base = make_day(DAY, 2, unilateral=True, pulsating=True)
    assert not classify_day(replace(base, photophobia=True)).migraine
    assert classify_day(replace(base, photophobia=True, phonophobia=True)).migraine


def test_route_2_alone_aura_on_a_headache_day():
    """Aura on a headache day makes a migraine day and an attack by route 2 alone (ICHD-3 1.3 C2, 1.2 B-C)."""
    result = classify_day(make_day(DAY, 1, aura=True))
    assert result.migraine_routes == {MigraineRoute.AURA}
    assert result.attack


def test_aura_without_headache_is_not_a_migraine_day():
    """Aura on a 0-hour day is typical aura without headache (ICHD-3 1.2.1.2): no migraine day, no attack."""
    result = classify_day(make_day(DAY, 0, aura=True))
    assert not result.migraine
    assert not result.attack


@pytest.mark.parametrize("drug", ["triptan", "ergot"])
def test_route_3_alone_believed_migraine_relieved_by_triptan_or_ergot(drug):
    """Believed migraine relieved by a triptan or ergot is a migraine day by route 3 alone (ICHD-3 1.3 C3)."""
    day = make_day(DAY, 2, believed_migraine=True, acute_relief=True, acute_medication=[drug])
    result = classify_day(day)
    assert result.migraine_routes == {MigraineRoute.BELIEVED_AND_RELIEVED}
    assert not result.attack


@pytest.mark.parametrize(
    "fields",
    [
        {"believed_migraine": False, "acute_relief": True, "acute_medication": ["triptan"]},
        {"believed_migraine": True, "acute_relief": False, "acute_medication": ["triptan"]},
        {"believed_migraine": True, "acute_relief": True, "acute_medication": ["simple_analgesic", "gepant"]},
    ],
)
def test_route_3_needs_belief_relief_and_a_triptan_or_ergot(fields):
    """Route 3 fails without belief, without relief, or with relief from another class."""
    assert not classify_day(make_day(DAY, 2, **fields)).migraine


@pytest.mark.parametrize(("hours", "attack"), [("3.9", False), ("4", True)])
def test_an_attack_by_features_needs_4_hours(hours, attack):
    """A migraine-feature day is an attack (1.1 B-D) only when the headache lasts 4 hours or more."""
    result = classify_day(migraine_day(DAY, hours))
    assert result.migraine
    assert result.attack is attack


def test_routes_combine():
    """A day can meet several routes at once; it still counts as one migraine day."""
    day = migraine_day(DAY, 6, aura=True, believed_migraine=True, acute_relief=True, acute_medication=["triptan"])
    assert classify_day(day).migraine_routes == set(MigraineRoute)


@given(diary_days(), st.integers(min_value=1, max_value=40))
def test_adding_headache_hours_never_lowers_a_count(day, tenths):
    """More hours of headache never turn a headache, 4-hour, migraine or attack day off."""
    before = classify_day(day)
    more = min(day.headache_hours + Decimal(tenths) / 10, Decimal(24))
    intensity = day.intensity or Intensity.MILD
    after = classify_day(replace(day, headache_hours=more, intensity=intensity))
    for attribute in ("headache", "headache_4h", "migraine", "attack"):
        assert getattr(after, attribute) >= getattr(before, attribute)


@given(diary_days())
def test_migraine_and_attack_days_are_headache_days(day):
    """Every migraine day and every attack day is a headache day; every 4-hour day is a headache day."""
    result = classify_day(day)
    assert result.headache >= result.migraine
    assert result.headache >= result.attack
    assert result.headache >= result.headache_4h
