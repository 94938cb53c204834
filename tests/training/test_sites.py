"""Site-trainer scoring: distance to each true site on the same view, the muscle named, extras and follow-the-pain."""

from __future__ import annotations

import pytest

from onaboard.training.sites import (
    FTP_NO_EXTRA_SITES,
    FTP_NOT_ASKED,
    FTP_OUTSIDE,
    FTP_TOO_MANY,
    FTP_WRONG_AREA,
    SITE_TOLERANCE,
    Placement,
    TargetSite,
    score_sites,
)

TARGETS = [
    TargetSite("temporalis-right-1", "temporalis", "right", "front", 322, 170),
    TargetSite("temporalis-right-2", "temporalis", "right", "front", 292, 228),
    TargetSite("frontalis-right-1", "frontalis", "right", "front", 446, 214),
    TargetSite("trapezius-left-1", "trapezius", "left", "back", 360, 858),
    TargetSite("occipitalis-left-1", "occipitalis", "left", "back", 448, 500),
]


def _on(target: TargetSite, dx: float = 0, muscle: str | None = None) -> Placement:
    return Placement(muscle or target.muscle, target.view, target.x + dx, target.y)


def _area(view: str, x: float, y: float) -> tuple[str, str] | None:
    """A test area: the back view's lower band is the left trapezius area."""
    return ("trapezius", "left") if view == "back" and y > 820 else None


def test_every_site_placed_exactly_scores_full_marks():
    """Clicks on every true site with the right muscles earn every point and pass."""
    score = score_sites(TARGETS, [_on(t) for t in TARGETS])
    assert (score.points, score.possible, score.percent, score.passed) == (5, 5, 100, True)
    assert score.mean_distance == 0


def test_a_click_within_the_tolerance_counts_and_one_beyond_does_not():
    """A click SITE_TOLERANCE units away still counts; one unit further it is too far."""
    near = score_sites(TARGETS[:1], [_on(TARGETS[0], dx=SITE_TOLERANCE)])
    far = score_sites(TARGETS[:1], [_on(TARGETS[0], dx=SITE_TOLERANCE + 1)])
    assert near.results[0].correct
    assert far.results[0].placement is not None
    assert not far.results[0].close_enough
    assert far.points == 0


def test_the_wrong_muscle_loses_the_point_even_on_the_spot():
    """A click on the frontalis site named temporalis is matched but not right."""
    score = score_sites(TARGETS[2:3], [_on(TARGETS[2], muscle="temporalis")])
    assert score.results[0].close_enough
    assert not score.results[0].muscle_right
    assert score.by_muscle == {"frontalis": (0, 1)}


def test_a_click_on_the_other_view_matches_nothing():
    """Views are separate coordinate spaces: a click at the same numbers on the back view is an extra."""
    target = TARGETS[0]
    score = score_sites([target], [Placement(target.muscle, "back", target.x, target.y)])
    assert score.results[0].placement is None
    assert len(score.extra) == 1
    assert score.possible == 2


def test_each_click_matches_at_most_one_site():
    """One click between two sites is matched to the nearer one only; the other site is missed."""
    click = Placement("temporalis", "front", 318, 180)
    score = score_sites(TARGETS[:2], [click])
    matched = [result for result in score.results if result.placement is not None]
    assert [result.target.key for result in matched] == ["temporalis-right-1"]


def test_extra_clicks_cost_points_so_scattering_does_not_pass():
    """Clicks that match no site add to the possible total, so spraying clicks cannot reach the pass mark."""
    scattered = [_on(t) for t in TARGETS] + [Placement("frontalis", "front", 900, 900)] * 3
    score = score_sites(TARGETS, scattered)
    assert (score.points, score.possible) == (5, 8)
    assert not score.passed


def test_follow_the_pain_sites_score_inside_the_right_area():
    """Asked follow-the-pain sites earn points inside the asked area; outside or unasked areas are problems."""
    asked = {("trapezius", "left"): 2}
    placements = [_on(t) for t in TARGETS] + [
        Placement("trapezius", "back", 300, 880, follow_the_pain=True),
        Placement("trapezius", "back", 100, 500, follow_the_pain=True),
    ]
    score = score_sites(TARGETS, placements, follow_the_pain=asked, area_at=_area)
    assert score.follow_the_pain is not None
    assert (score.follow_the_pain.points, score.follow_the_pain.possible) == (1, 2)
    assert score.follow_the_pain.problems == (FTP_OUTSIDE.format(muscle="trapezius", view="back"),)
    assert (score.points, score.possible) == (6, 8)


def test_follow_the_pain_in_an_area_not_asked_is_named():
    """An extra site in an area the case did not ask for is reported as such."""
    score = score_sites(
        TARGETS,
        [Placement("trapezius", "back", 300, 880, follow_the_pain=True)],
        follow_the_pain={("temporalis", "left"): 1},
        area_at=_area,
    )
    assert score.follow_the_pain is not None
    assert score.follow_the_pain.problems == (FTP_NOT_ASKED.format(area="left trapezius"),)


def test_follow_the_pain_is_refused_in_a_muscle_without_extra_sites():
    """A request for extra frontalis sites is refused: the engine allows none there."""
    with pytest.raises(ValueError, match="only in its muscles"):
        score_sites(TARGETS, [], follow_the_pain={("frontalis", "left"): 1}, area_at=_area)


def test_right_clicks_on_close_sites_of_two_muscles_both_score():
    """Sites of two muscles closer than twice the tolerance (frontalis and temporalis at the temple lie about 52
    units apart): a frontalis click 40 units from its site, toward the temporalis one, and a temporalis click 40
    units from its site, away from it, each score on the site of the muscle they name (matched on distance alone,
    the frontalis click took the temporalis site and both were marked wrong)."""
    frontalis = TargetSite("frontalis-left-2", "frontalis", "left", "front", 300, 200)
    temporalis = TargetSite("temporalis-left-3", "temporalis", "left", "front", 352, 200)
    clicks = [Placement("frontalis", "front", 340, 200), Placement("temporalis", "front", 392, 200)]
    score = score_sites([frontalis, temporalis], clicks)
    assert [(r.target.key, r.placement.muscle, r.correct) for r in score.results] == [
        ("frontalis-left-2", "frontalis", True),
        ("temporalis-left-3", "temporalis", True),
    ]


def _ftp_problems(*placements: Placement, asked: dict[tuple[str, str], int] | None = None) -> tuple[str, ...]:
    score = score_sites(TARGETS, list(placements), follow_the_pain=asked or {("trapezius", "left"): 1}, area_at=_area)
    assert score.follow_the_pain is not None
    return score.follow_the_pain.problems


def test_follow_the_pain_feedback_names_muscles_and_areas_not_map_coordinates():
    """Each follow-the-pain problem is worded in the clinic's terms (the muscle, the side and the view), never in
    map coordinates or the engine's identifiers."""
    outside = _ftp_problems(Placement("trapezius", "front", 500, 300, follow_the_pain=True))
    wrong = _ftp_problems(Placement("occipitalis", "back", 300, 880, follow_the_pain=True))
    not_asked = _ftp_problems(
        Placement("trapezius", "back", 300, 880, follow_the_pain=True), asked={("occipitalis", "left"): 1}
    )
    too_many = _ftp_problems(*[Placement("trapezius", "back", 300 + i, 880, follow_the_pain=True) for i in range(3)])
    assert outside == ("follow-the-pain site marked trapezius, on the front view, lies outside both trapezius areas",)
    assert wrong == (
        "follow-the-pain site marked occipitalis lies in the left trapezius area, which takes trapezius sites",
    )
    assert not_asked == ("follow-the-pain site in the left trapezius area: the case asked for none there",)
    assert too_many == ("3 follow-the-pain sites in the left trapezius area; the case asked for 1",)
    assert (outside, wrong, not_asked, too_many) == (
        (FTP_OUTSIDE.format(muscle="trapezius", view="front"),),
        (FTP_WRONG_AREA.format(muscle="occipitalis", area="left trapezius", area_muscle="trapezius"),),
        (FTP_NOT_ASKED.format(area="left trapezius"),),
        (FTP_TOO_MANY.format(count=3, area="left trapezius", asked=1),),
    )


@pytest.mark.parametrize(
    ("muscle", "name"),
    [("procerus", "procerus"), ("cervical_paraspinal", "cervical paraspinal"), ("frontalis", "frontalis")],
)
def test_a_follow_the_pain_site_in_a_muscle_without_extra_sites_says_so(muscle: str, name: str):
    """A follow-the-pain site marked with a muscle the engine gives no extra sites is told so by the muscle's name,
    wherever it was placed (even inside another muscle's area)."""
    for view, x, y in (("front", 500, 330), ("back", 300, 880)):
        problems = _ftp_problems(Placement(muscle, view, x, y, follow_the_pain=True))
        assert problems == (FTP_NO_EXTRA_SITES.format(muscle=name, allowed="temporalis, occipitalis and trapezius"),)
        assert problems[0] == (
            f"follow-the-pain site marked {name}: {name} takes no extra sites (only temporalis, occipitalis and "
            "trapezius do)"
        )
