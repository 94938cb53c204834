"""The site map's geometry (onaboard/web/injections/sitemap.py)."""

from __future__ import annotations

import itertools
import math
from collections import Counter
from pathlib import Path

import pytest

from onaboard.clinical import (
    FIXED_SITE_COUNT,
    FIXED_SITES,
    FOLLOW_THE_PAIN_DERIVED_LIMITS,
    FOLLOW_THE_PAIN_MAX_SITES,
    FOLLOW_THE_PAIN_MAX_TOTAL_SITES,
    Muscle,
    Side,
    follow_the_pain_refusals,
    preempt_plan,
)
from onaboard.web.injections import sitemap


def test_the_map_places_exactly_the_31_fixed_sites():
    """Every fixed PREEMPT site has one drawing position, no more."""
    assert len(sitemap.FIXED_POSITIONS) == FIXED_SITE_COUNT == 31


@pytest.mark.parametrize(
    ("muscle", "left", "right", "midline"),
    [
        (Muscle.PROCERUS, 0, 0, 1),
        (Muscle.CORRUGATOR, 1, 1, 0),
        (Muscle.FRONTALIS, 2, 2, 0),
        (Muscle.TEMPORALIS, 4, 4, 0),
        (Muscle.OCCIPITALIS, 3, 3, 0),
        (Muscle.CERVICAL_PARASPINAL, 2, 2, 0),
        (Muscle.TRAPEZIUS, 3, 3, 0),
    ],
)
def test_each_muscle_has_its_sites_on_each_side(muscle, left, right, midline):
    """Per muscle and side the map has the counts of PREEMPT's table (clinical-facts 1.1)."""
    counts = Counter(side for m, side, _ in sitemap.FIXED_POSITIONS if m is muscle)
    assert (counts[Side.LEFT], counts[Side.RIGHT], counts[Side.MIDLINE]) == (left, right, midline)
    assert sum(counts.values()) == len(FIXED_SITES[muscle])


def test_face_and_temples_are_on_the_front_view_and_the_rest_on_the_back():
    """Face and temples (procerus, corrugator, frontalis, temporalis) are drawn from the front, the rest from behind."""
    front = {Muscle.PROCERUS, Muscle.CORRUGATOR, Muscle.FRONTALIS, Muscle.TEMPORALIS}
    for (muscle, _, _), point in sitemap.FIXED_POSITIONS.items():
        assert point.view is (sitemap.View.FRONT if muscle in front else sitemap.View.BACK)


def test_sides_are_drawn_as_anatomical_diagrams_are():
    """Facing the viewer the patient's right is on the viewer's left; from behind the patient's left is."""
    for (_, side, _), point in sitemap.FIXED_POSITIONS.items():
        if side is Side.MIDLINE:
            assert point.x == 500
            continue
        on_viewer_left = point.x < 500
        assert on_viewer_left == (side is (Side.RIGHT if point.view is sitemap.View.FRONT else Side.LEFT))


def test_the_two_sides_mirror_each_other():
    """Each left site has a right twin mirrored about the midline."""
    for (muscle, side, index), point in sitemap.FIXED_POSITIONS.items():
        if side is Side.LEFT:
            twin = sitemap.FIXED_POSITIONS[muscle, Side.RIGHT, index]
            assert (twin.x, twin.y, twin.view) == (1000 - point.x, point.y, point.view)


def test_landmarks_order_the_sites_from_top_to_bottom():
    """Frontalis sits above the corrugator, which sits above the procerus; occipitalis above the neck sites, the
    neck above the trapezius (clinical-facts 1.4)."""
    top = {muscle: min(p.y for (m, _, _), p in sitemap.FIXED_POSITIONS.items() if m is muscle) for muscle in Muscle}
    bottom = {muscle: max(p.y for (m, _, _), p in sitemap.FIXED_POSITIONS.items() if m is muscle) for muscle in Muscle}
    assert bottom[Muscle.FRONTALIS] < top[Muscle.CORRUGATOR]
    assert bottom[Muscle.CORRUGATOR] < top[Muscle.PROCERUS]
    assert bottom[Muscle.OCCIPITALIS] < top[Muscle.CERVICAL_PARASPINAL]
    assert bottom[Muscle.CERVICAL_PARASPINAL] < top[Muscle.TRAPEZIUS]


ROOT = Path(__file__).resolve().parents[3]
LAYER = ROOT / "src/onaboard/web/injections/templates/injections/_site_map_layer.html"
SCRIPT = ROOT / "src/onaboard/web/injections/static/injections/session_map.js"


def _drawn_dots():
    """Every dot the map can show at once without a click: the fixed sites and every default follow-the-pain spot."""
    names = [f"{muscle} {side} {index}" for muscle, side, index in sitemap.FIXED_POSITIONS]
    points = list(sitemap.FIXED_POSITIONS.values())
    for region in sitemap.FOLLOW_THE_PAIN_REGIONS:
        names += [f"{region.key} extra {n}" for n in range(1, len(region.defaults) + 1)]
        points += [sitemap.MapPoint(region.view, x, y) for x, y in region.defaults]
    return list(zip(names, points, strict=True))


def test_the_dot_radius_is_the_one_the_map_draws():
    """The geometry's dot radius is the r of the template's circles and of the dots session_map.js adds."""
    assert f'r="{sitemap.DOT_RADIUS}"' in LAYER.read_text()
    assert f'var DOT_RADIUS = "{sitemap.DOT_RADIUS}";' in SCRIPT.read_text()
    assert sitemap.MIN_DOT_DISTANCE >= 2 * sitemap.DOT_RADIUS + 4  # the dots' white 4-unit outlines do not touch


def test_no_two_dots_overlap():
    """Any two dots of a view (fixed sites and default follow-the-pain spots, either side) are at least two radii and
    a gap apart: follow-the-pain sites added from the form sat on frontalis, trapezius and occipitalis sites, and
    frontalis right 2 on temporalis right 3."""
    too_close = [
        (a, b, round(math.dist((p.x, p.y), (q.x, q.y)), 1))
        for (a, p), (b, q) in itertools.combinations(_drawn_dots(), 2)
        if p.view is q.view and math.dist((p.x, p.y), (q.x, q.y)) < sitemap.MIN_DOT_DISTANCE
    ]
    assert too_close == []


def test_a_fixed_site_lies_in_its_own_muscles_area_or_in_none():
    """A fixed site of temporalis, occipitalis or trapezius lies inside its muscle's follow-the-pain area on its side;
    every other fixed site lies outside all areas, so the area drawn around a muscle is where its dots are."""
    for (muscle, side, _), point in sitemap.FIXED_POSITIONS.items():
        found = sitemap.region_at(point.view, point.x, point.y)
        expected = sitemap.region_for(muscle, side)
        assert found is expected, (muscle, side, point)


def test_follow_the_pain_areas_cover_exactly_the_engines_muscles():
    """Clickable areas exist for temporalis, occipitalis and trapezius, one per side, and for no other muscle."""
    areas = Counter(region.muscle for region in sitemap.FOLLOW_THE_PAIN_REGIONS)
    assert areas == dict.fromkeys(FOLLOW_THE_PAIN_MAX_SITES, 2)


def test_a_click_inside_an_area_names_its_muscle_and_side():
    """region_at maps a clicked point to the muscle and side of the area it falls in."""
    region = sitemap.region_for(Muscle.TRAPEZIUS, Side.LEFT)
    found = sitemap.region_at("back", region.cx, region.cy)
    assert (found.muscle, found.side) == (Muscle.TRAPEZIUS, Side.LEFT)
    assert sitemap.region_at("front", 500, 330) is None


def test_sites_added_without_a_click_go_inside_their_area():
    """Each default spot for an extra site lies in its muscle's area, enough for the engine's limit."""
    for region in sitemap.FOLLOW_THE_PAIN_REGIONS:
        assert len(region.defaults) >= region.limit
        for number in range(1, len(region.defaults) + 1):
            point = sitemap.follow_the_pain_default(region.muscle, region.side, number)
            assert region.contains(point.x, point.y)


def test_a_derived_limit_has_default_spots_past_it():
    """Recording may go past occipitalis's derived limit of 2 extra sites (a departure with a reason), so its area
    has ``SPOTS_PAST_DERIVED_LIMIT`` more default spots on each side: a third and fourth extra site added from the form
    on one side are drawn apart from the first two (they sat on the first and second), and those spots are checked
    against every other dot like the rest (test_no_two_dots_overlap)."""
    assert sitemap.SPOTS_PAST_DERIVED_LIMIT >= 1
    for region in sitemap.FOLLOW_THE_PAIN_REGIONS:
        past = sitemap.SPOTS_PAST_DERIVED_LIMIT if region.muscle in FOLLOW_THE_PAIN_DERIVED_LIMITS else 0
        assert len(region.defaults) >= region.limit + past
        count = region.limit + past
        spots = {sitemap.follow_the_pain_default(region.muscle, region.side, n) for n in range(1, count + 1)}
        assert len(spots) == count, region.key


def test_the_recording_limits_are_the_engines():
    """A session may be recorded with the extra sites ``follow_the_pain_refusals`` accepts: temporalis 2, trapezius
    4, and occipitalis (a derived limit, no refusal of its own) up to the 8 extra sites in all."""
    limits = {region.muscle: region.recording_limit for region in sitemap.FOLLOW_THE_PAIN_REGIONS}
    assert limits == {
        Muscle.TEMPORALIS: FOLLOW_THE_PAIN_MAX_SITES[Muscle.TEMPORALIS],
        Muscle.OCCIPITALIS: FOLLOW_THE_PAIN_MAX_TOTAL_SITES,
        Muscle.TRAPEZIUS: FOLLOW_THE_PAIN_MAX_SITES[Muscle.TRAPEZIUS],
    }
    for muscle, limit in limits.items():
        assert follow_the_pain_refusals({muscle: limit}) == ()
        assert follow_the_pain_refusals({muscle: limit + 1}) != ()
    derived = {region.muscle: region.derived_limit for region in sitemap.FOLLOW_THE_PAIN_REGIONS}
    assert derived == {Muscle.TEMPORALIS: None, Muscle.OCCIPITALIS: 2, Muscle.TRAPEZIUS: None}


def test_a_muscle_without_follow_the_pain_has_no_default_spot():
    """Cervical paraspinal takes no extra sites, so asking for a spot is an error."""
    with pytest.raises(ValueError, match="no follow-the-pain area"):
        sitemap.follow_the_pain_default(Muscle.CERVICAL_PARASPINAL, Side.LEFT, 1)


def test_site_labels_name_muscle_side_number_and_units():
    """A screen reader hears "temporalis left 3, 5 U"; procerus is "procerus midline"; extra sites say so."""
    assert sitemap.site_label("temporalis", "left", 3, 5, follow_the_pain=False) == "temporalis left 3, 5 U"
    assert sitemap.site_label("procerus", "midline", 1, 5, follow_the_pain=False) == "procerus midline, 5 U"
    assert (
        sitemap.site_label("trapezius", "right", 1, 10, follow_the_pain=True) == "trapezius right, extra site 1, 10 U"
    )


def test_an_engine_plan_becomes_map_sites():
    """plan_map_sites numbers the plan's sites per muscle and side and places each one."""
    plan = preempt_plan(follow_the_pain={"trapezius": 2})
    sites = sitemap.plan_map_sites(plan)
    assert len(sites) == 33
    assert [s.key for s in sites if s.follow_the_pain] == ["ftp-trapezius-left-1", "ftp-trapezius-right-1"]
    assert sites[0].key == "corrugator-left-1"
    assert all(0 <= s.x <= 1000 and 0 <= s.y <= 1000 for s in sites)


def test_the_limit_message_is_the_engines():
    """Refusing a click beyond what recording allows shows the engine's own message: temporalis's limit, and for
    occipitalis (whose limit of 2 is derived, so no refusal) the limit of 8 extra sites in all."""
    assert sitemap.follow_the_pain_limit_message(Muscle.TEMPORALIS) == (
        "follow-the-pain: temporalis allows at most 2 extra sites (10 U), asked for 3"
    )
    assert sitemap.follow_the_pain_limit_message(Muscle.OCCIPITALIS) == (
        "follow-the-pain: at most 8 extra sites in all (40 U; 39 sites a session), got 9"
    )
    assert sitemap.follow_the_pain_total_message() == sitemap.follow_the_pain_limit_message(Muscle.OCCIPITALIS)
