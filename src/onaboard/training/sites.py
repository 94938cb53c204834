"""Scoring the site trainer: the trainee places the 31 PREEMPT sites (and a case's follow-the-pain sites) on the
clinic's site map (by clicking it or from the keyboard), and each true site is matched to the nearest placement on
the same view.

The true sites and the follow-the-pain areas come from the caller (the web app passes the clinic's own site map,
``onaboard.web.injections.sitemap``), so this module holds no positions of its own. Distances are in the map's
coordinate space (each view 0..1000 on both axes). The map is a schematic, so the tolerance is a teaching choice
about how close a click must be to the drawn site, not a clinical distance.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from onaboard.clinical import FOLLOW_THE_PAIN_MAX_SITES, Muscle
from onaboard.training.wording import MUSCLE_NAMES

__all__ = [
    "FTP_NOT_ASKED",
    "FTP_NO_EXTRA_SITES",
    "FTP_OUTSIDE",
    "FTP_TOO_MANY",
    "FTP_WRONG_AREA",
    "MATCH_RADIUS",
    "SITE_PASS_MARK",
    "SITE_TOLERANCE",
    "FollowThePainResult",
    "Placement",
    "SiteResult",
    "SiteScore",
    "TargetSite",
    "score_sites",
]

SITE_TOLERANCE = 45
"""A placement within 45 map units (4.5 % of the view's width) of a drawn site counts as on it; neighbouring drawn
sites of one muscle lie 55-70 units apart, so a click cannot be on two sites of a muscle at once (sites of two
muscles can be closer: ``_match`` pairs each click with a site of the muscle it names first)."""

MATCH_RADIUS = 120
"""Placements farther than this from a site are never matched to it (they count as extra placements)."""

SITE_PASS_MARK = 80
"""Percentage of points needed to pass the site trainer (a training rule, not a clinical one)."""


@dataclass(frozen=True, slots=True)
class TargetSite:
    """A true site on the map: its key, muscle, side, view and drawing position."""

    key: str
    muscle: str
    side: str
    view: str
    x: int
    y: int


@dataclass(frozen=True, slots=True)
class Placement:
    """A trainee's click: the muscle they said it was, the view and position, and whether it is a follow-the-pain
    site."""

    muscle: str
    view: str
    x: float
    y: float
    follow_the_pain: bool = False


@dataclass(frozen=True, slots=True)
class SiteResult:
    """How one true site was placed: the matched placement (if any), its distance and whether it counts."""

    target: TargetSite
    placement: Placement | None
    distance: float | None
    close_enough: bool
    muscle_right: bool

    @property
    def correct(self) -> bool:
        return self.close_enough and self.muscle_right


@dataclass(frozen=True, slots=True)
class FollowThePainResult:
    """The follow-the-pain part: sites asked per (muscle, side), sites placed in the right area, and problems."""

    asked: Mapping[tuple[str, str], int]
    placed_right: Mapping[tuple[str, str], int]
    problems: tuple[str, ...]

    @property
    def points(self) -> int:
        return sum(min(self.placed_right.get(key, 0), count) for key, count in self.asked.items())

    @property
    def possible(self) -> int:
        return sum(self.asked.values())


@dataclass(frozen=True, slots=True)
class SiteScore:
    """The whole attempt: per-site results, extra placements, the follow-the-pain part and the mark."""

    results: tuple[SiteResult, ...]
    extra: tuple[Placement, ...]
    follow_the_pain: FollowThePainResult | None
    points: int
    possible: int
    percent: int
    passed: bool
    by_muscle: Mapping[str, tuple[int, int]]
    """Per muscle: (sites placed correctly, sites of that muscle)."""
    mean_distance: float | None


# The follow-the-pain problems a trainee reads, in the clinic's words: the muscle a site was marked with, the area
# ("left trapezius") or the view it lies on; never map coordinates or the engine's identifiers.
FTP_NO_EXTRA_SITES = "follow-the-pain site marked {muscle}: {muscle} takes no extra sites (only {allowed} do)"
FTP_OUTSIDE = "follow-the-pain site marked {muscle}, on the {view} view, lies outside both {muscle} areas"
FTP_WRONG_AREA = "follow-the-pain site marked {muscle} lies in the {area} area, which takes {area_muscle} sites"
FTP_NOT_ASKED = "follow-the-pain site in the {area} area: the case asked for none there"
FTP_TOO_MANY = "{count} follow-the-pain sites in the {area} area; the case asked for {asked}"


def _muscle_name(value: str) -> str:
    """A muscle as the clinic names it ("cervical paraspinal"), from the engine's value ("cervical_paraspinal")."""
    try:
        return MUSCLE_NAMES[Muscle(value)]
    except ValueError:
        return value.replace("_", " ")


def _area_name(area: tuple[str, str]) -> str:
    """A follow-the-pain area as the clinic names it: side first, "left trapezius"."""
    muscle, side = area
    return f"{side} {_muscle_name(muscle)}"


def _allowed_muscles() -> str:
    names = [MUSCLE_NAMES[muscle] for muscle in FOLLOW_THE_PAIN_MAX_SITES]
    return f"{', '.join(names[:-1])} and {names[-1]}" if len(names) > 1 else "".join(names)


def _match(targets: Sequence[TargetSite], placements: Sequence[Placement]) -> dict[int, tuple[int, float]]:
    """Greedy one-to-one matching on the same view: target index -> (placement index, distance).

    Pairs that score (the placement names the target's muscle and lies within ``SITE_TOLERANCE``) are matched
    first, closest first; then the rest, closest first (a placement naming the target's muscle wins a tie). Sites of
    two muscles can lie closer than twice the tolerance (frontalis and temporalis at the temple), so matching on
    distance alone could pair a right click with the other muscle's site and mark both wrong.
    """
    pairs = []
    for t, target in enumerate(targets):
        for p, placement in enumerate(placements):
            if placement.view != target.view:
                continue
            distance = math.hypot(placement.x - target.x, placement.y - target.y)
            if distance <= MATCH_RADIUS:
                other_muscle = placement.muscle != target.muscle
                scores = not other_muscle and distance <= SITE_TOLERANCE
                pairs.append((not scores, distance, other_muscle, t, p))
    pairs.sort()
    matched: dict[int, tuple[int, float]] = {}
    used: set[int] = set()
    for _, distance, _, t, p in pairs:
        if t in matched or p in used:
            continue
        matched[t] = (p, distance)
        used.add(p)
    return matched


def _follow_the_pain(
    placements: Sequence[Placement],
    asked: Mapping[tuple[str, str], int],
    area_at: Callable[[str, float, float], tuple[str, str] | None],
) -> FollowThePainResult:
    placed: Counter[tuple[str, str]] = Counter()
    problems = []
    for placement in placements:
        muscle = _muscle_name(placement.muscle)
        if placement.muscle not in FOLLOW_THE_PAIN_MAX_SITES:
            problems.append(FTP_NO_EXTRA_SITES.format(muscle=muscle, allowed=_allowed_muscles()))
            continue
        area = area_at(placement.view, placement.x, placement.y)
        if area is None:
            problems.append(FTP_OUTSIDE.format(muscle=muscle, view=placement.view))
            continue
        if area[0] != placement.muscle:
            problems.append(
                FTP_WRONG_AREA.format(muscle=muscle, area=_area_name(area), area_muscle=_muscle_name(area[0]))
            )
            continue
        if area not in asked:
            problems.append(FTP_NOT_ASKED.format(area=_area_name(area)))
            continue
        placed[area] += 1
    for area, count in placed.items():
        if count > asked[area]:
            problems.append(FTP_TOO_MANY.format(count=count, area=_area_name(area), asked=asked[area]))
    return FollowThePainResult(dict(asked), dict(placed), tuple(problems))


def score_sites(
    targets: Sequence[TargetSite],
    placements: Sequence[Placement],
    *,
    follow_the_pain: Mapping[tuple[str, str], int] | None = None,
    area_at: Callable[[str, float, float], tuple[str, str] | None] | None = None,
    pass_mark: int = SITE_PASS_MARK,
) -> SiteScore:
    """Score an attempt.

    Fixed sites: each true site is matched to at most one placement (closest pairs first, same view, within
    ``MATCH_RADIUS``); it earns a point when the placement is within ``SITE_TOLERANCE`` and names the right muscle.
    Every unmatched fixed placement is an extra and costs a point of the possible total. Follow-the-pain (when a
    case asks for sites, as ``{(muscle, side): count}``): a point per asked site placed inside the right muscle and
    side's area (``area_at(view, x, y)`` gives the area's (muscle, side)); the engine allows extra sites only in
    temporalis, occipitalis and trapezius. The attempt passes at ``pass_mark`` percent of the possible points.
    """
    fixed = [p for p in placements if not p.follow_the_pain]
    extra_sites = [p for p in placements if p.follow_the_pain]
    matched = _match(targets, fixed)
    results = []
    for t, target in enumerate(targets):
        if t in matched:
            p, distance = matched[t]
            placement = fixed[p]
            results.append(
                SiteResult(target, placement, distance, distance <= SITE_TOLERANCE, placement.muscle == target.muscle)
            )
        else:
            results.append(SiteResult(target, None, None, False, False))
    used = {p for p, _ in matched.values()}
    extra = tuple(placement for p, placement in enumerate(fixed) if p not in used)
    ftp = None
    if follow_the_pain:
        unknown = [muscle for muscle, _ in follow_the_pain if Muscle(muscle) not in FOLLOW_THE_PAIN_MAX_SITES]
        if unknown or area_at is None:
            raise ValueError("follow-the-pain is scored only in its muscles, with an area_at function")
        ftp = _follow_the_pain(extra_sites, follow_the_pain, area_at)
    elif extra_sites:
        extra = (*extra, *extra_sites)
    points = sum(result.correct for result in results) + (ftp.points if ftp else 0)
    possible = len(targets) + len(extra) + (ftp.possible if ftp else 0) + (len(ftp.problems) if ftp else 0)
    percent = 100 * points // possible if possible else 0
    by_muscle: dict[str, tuple[int, int]] = {}
    for result in results:
        right, total = by_muscle.get(result.target.muscle, (0, 0))
        by_muscle[result.target.muscle] = (right + result.correct, total + 1)
    distances = [result.distance for result in results if result.distance is not None]
    return SiteScore(
        results=tuple(results),
        extra=extra,
        follow_the_pain=ftp,
        points=points,
        possible=possible,
        percent=percent,
        passed=possible > 0 and 100 * points >= pass_mark * possible,
        by_muscle=by_muscle,
        mean_distance=sum(distances) / len(distances) if distances else None,
    )
