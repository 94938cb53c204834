"""Scoring the site trainer: the trainee places the 31 PREEMPT sites (and a case's follow-the-pain sites) on the
clinic's site map (by clicking it or from the keyboard), and each true site is matched to the nearest placement on
the same view. How many sites each muscle gets on each side is PREEMPT's (the engine's ``FIXED_SITES``), whatever
the map the caller passes.

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
from types import MappingProxyType

from onaboard.clinical import FIXED_SITES, FOLLOW_THE_PAIN_MAX_SITES, UNITS_PER_SITE, Muscle
from onaboard.clinical.preempt import follow_the_pain_refusals
from onaboard.training.wording import MUSCLE_NAMES, clinic_words

__all__ = [
    "FIXED_COUNT_WRONG",
    "FIXED_GROUP_MISSED",
    "FTP_MISSING",
    "FTP_NOT_ASKED",
    "FTP_NOT_AS_ASKED",
    "FTP_OFF_ITS_AREAS",
    "FTP_OFF_ITS_SITES",
    "FTP_OUTSIDE",
    "FTP_REFUSED",
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
"""Percentage of points needed to pass the site trainer (a training rule, not a clinical one). The follow-the-pain
part must be right besides: every asked site in its area and no other (``SiteScore.failures``)."""


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
    """The follow-the-pain part: sites asked per (muscle, side), sites placed in the right area, the problems a
    trainee reads (per area or per site), how many sites were wrong (``errors``: each site outside its area, in an
    area not asked or beyond the asked number, or in a muscle that takes none, counts once) and the breaches of
    PREEMPT's follow-the-pain rules (``refusals``), each of which fails the attempt."""

    asked: Mapping[tuple[str, str], int]
    placed_right: Mapping[tuple[str, str], int]
    problems: tuple[str, ...]
    errors: int = 0
    refusals: tuple[str, ...] = ()

    @property
    def points(self) -> int:
        return sum(min(self.placed_right.get(key, 0), count) for key, count in self.asked.items())

    @property
    def possible(self) -> int:
        return sum(self.asked.values())

    @property
    def as_asked(self) -> bool:
        """Every asked site in its area, and no other follow-the-pain site."""
        return not self.problems and not self.refusals and self.errors == 0 and self.points == self.possible


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
    failures: tuple[str, ...] = ()
    """Why the attempt fails whatever its mark: a fixed muscle group given more or fewer sites on a side than PREEMPT
    gives it, or none of them placed right, a breach of PREEMPT's follow-the-pain rules, or the follow-the-pain sites
    not as asked."""


# The follow-the-pain problems a trainee reads, in the clinic's words: the muscle a site was marked with, the area
# ("left trapezius") or the view it lies on; never map coordinates or the engine's identifiers.
FTP_OUTSIDE = "follow-the-pain site marked {muscle}, on the {view} view, lies outside both {muscle} areas"
FTP_WRONG_AREA = "follow-the-pain site marked {muscle} lies in the {area} area, which takes {area_muscle} sites"
FTP_NOT_ASKED = "follow-the-pain site in the {area} area: the case asked for none there"
FTP_TOO_MANY = "{count} follow-the-pain sites in the {area} area; the case asked for {asked}"
FTP_MISSING = "{area}: {placed} of the {asked} asked follow-the-pain sites placed there"
# A breach of PREEMPT's follow-the-pain rules fails the attempt: the engine's refusal (``follow_the_pain_refusals``,
# the words recording a session uses) in the clinic's words, and where the trainee put that muscle's extra sites.
FTP_REFUSED = "{refusal}; placed: {sides}"
FTP_NOT_AS_ASKED = (
    "the follow-the-pain sites are not as asked: to pass, each asked site goes in its area and no other is placed"
)
FIXED_COUNT_WRONG = "{area} fixed sites: {placed} placed, PREEMPT gives {preempt} ({units} U)"
"""A fixed muscle group given more or fewer sites on a side than PREEMPT gives it (``FIXED_SITES``) fails the attempt
whatever the mark and however close the clicks: 80 % of 31 sites could otherwise leave out 6 of the 8 temporalis
sites (30 U), a dose error, not a click a little off the schematic map. A fixed placement counts for the muscle it
names, on the side of that muscle's nearest drawn site on its view (none when the view draws none of them);
follow-the-pain sites do not count."""
FIXED_GROUP_MISSED = "no {area} site placed right: every muscle group of the fixed sites is injected on each side"
"""A fixed muscle group given its sites on a side but none of them placed right (all off their drawn sites, or named
as another muscle there) fails the attempt whatever the mark; a group left out there is named by
``FIXED_COUNT_WRONG`` alone."""
FTP_OFF_ITS_AREAS = "off its areas"
"""The 'side' of an extra site that lies in neither of its muscle's areas and near none of its drawn sites."""
FTP_OFF_ITS_SITES = "away from its drawn sites"
"""The 'side' of an extra site in a muscle that takes none, on a view that draws none of that muscle's sites."""


def _muscle_name(value: str) -> str:
    """A muscle as the clinic names it ("cervical paraspinal"), from the engine's value ("cervical_paraspinal")."""
    try:
        return MUSCLE_NAMES[Muscle(value)]
    except ValueError:
        return value.replace("_", " ")


def _area_name(area: tuple[str, str]) -> str:
    """A follow-the-pain area as the clinic names it: side first, "left trapezius" (a midline muscle by its name)."""
    muscle, side = area
    return _muscle_name(muscle) if side == "midline" else f"{side} {_muscle_name(muscle)}"


_PREEMPT_COUNTS: Mapping[tuple[str, str], int] = MappingProxyType(
    Counter((muscle.value, side.value) for muscle, sides in FIXED_SITES.items() for side in sides)
)
"""The fixed sites PREEMPT gives each (muscle, side): the engine's ``FIXED_SITES`` (temporalis 4 left, 4 right)."""


def _nearest_side(placement: Placement, targets: Sequence[TargetSite]) -> str | None:
    """The side of the drawn site of the placement's muscle nearest to it on its view (None when the view draws none
    of that muscle's sites)."""
    own = [t for t in targets if t.muscle == placement.muscle and t.view == placement.view]
    if not own:
        return None
    return min(own, key=lambda t: math.hypot(placement.x - t.x, placement.y - t.y)).side


def _fixed_failures(
    results: Sequence[SiteResult],
    targets: Sequence[TargetSite],
    fixed: Sequence[Placement],
    matched: Mapping[int, tuple[int, float]],
) -> list[str]:
    """Per muscle and side of the fixed sites, in map order (then PREEMPT's order for a group the map does not
    draw): ``FIXED_COUNT_WRONG`` when the fixed placements naming the muscle there are not PREEMPT's number, and
    ``FIXED_GROUP_MISSED`` when the map draws the group, it was given sites and none is placed right. A placement
    matched to a site of the muscle it names (``_match``) counts on that site's side, so a medial frontalis click a
    little past the midline still counts for the site it was matched to; any other on its nearest site's side."""
    side_of_match = {
        p: targets[t].side for t, (p, _distance) in matched.items() if fixed[p].muscle == targets[t].muscle
    }
    placed: Counter[tuple[str, str]] = Counter()
    for index, placement in enumerate(fixed):
        side = side_of_match.get(index) or _nearest_side(placement, targets)
        if side is not None:
            placed[placement.muscle, side] += 1
    right: dict[tuple[str, str], bool] = {}
    for result in results:
        area = (result.target.muscle, result.target.side)
        right[area] = right.get(area, False) or result.correct
    failures = []
    for area in dict.fromkeys([*right, *_PREEMPT_COUNTS, *placed]):
        preempt = _PREEMPT_COUNTS.get(area, 0)
        if placed[area] != preempt:
            failures.append(
                FIXED_COUNT_WRONG.format(
                    area=_area_name(area), placed=placed[area], preempt=preempt, units=preempt * UNITS_PER_SITE
                )
            )
        if placed[area] and not right.get(area, True):
            failures.append(FIXED_GROUP_MISSED.format(area=_area_name(area)))
    return failures


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


def _side_of(
    placement: Placement,
    targets: Sequence[TargetSite],
    area: tuple[str, str] | None,
) -> str | None:
    """The side a follow-the-pain site was put on: its area's, when it lies in its own muscle's area, else the side
    of the nearest drawn site of its muscle on that view (None when the view draws none)."""
    if area is not None and area[0] == placement.muscle:
        return area[1]
    return _nearest_side(placement, targets)


def _sides(muscle: str, counts: Mapping[str | None, int]) -> str:
    """ "left 3, right 1": a muscle's extra sites per side, left first."""
    order = [side for side in ("left", "right", "midline") if side in counts] + [None] * (None in counts)
    elsewhere = FTP_OFF_ITS_AREAS if muscle in FOLLOW_THE_PAIN_MAX_SITES else FTP_OFF_ITS_SITES
    return ", ".join(f"{side or elsewhere} {counts[side]}" for side in order)


_MUSCLES = frozenset(muscle.value for muscle in Muscle)


def _refusals(by_muscle: Mapping[str, Counter[str | None]]) -> list[str]:
    """What PREEMPT refuses in the follow-the-pain sites placed: the engine's ``follow_the_pain_refusals`` over their
    count per muscle (a muscle that takes none, past a confirmed limit, past the total), in the clinic's words, each
    refused muscle with its sites per side. Occipitalis past its limit derived from the 40 U cap is no refusal there
    (recording accepts it as a departure with a reason): its sites beyond the asked number are errors, not as asked."""
    counts = {Muscle(muscle): sum(sides.values()) for muscle, sides in by_muscle.items() if muscle in _MUSCLES}
    found = []
    for muscle, refusal in follow_the_pain_refusals(counts):
        if muscle is None:
            found.append(clinic_words(refusal))
        else:
            sides = _sides(muscle.value, by_muscle[muscle.value])
            found.append(FTP_REFUSED.format(refusal=clinic_words(refusal), sides=sides))
    return found


def _follow_the_pain(
    placements: Sequence[Placement],
    asked: Mapping[tuple[str, str], int],
    area_at: Callable[[str, float, float], tuple[str, str] | None],
    targets: Sequence[TargetSite],
) -> FollowThePainResult:
    placed: Counter[tuple[str, str]] = Counter()
    by_muscle: dict[str, Counter[str | None]] = {}
    problems = []
    errors = 0
    for placement in placements:
        muscle = _muscle_name(placement.muscle)
        area = area_at(placement.view, placement.x, placement.y)
        by_muscle.setdefault(placement.muscle, Counter())[_side_of(placement, targets, area)] += 1
        if placement.muscle not in FOLLOW_THE_PAIN_MAX_SITES:
            errors += 1  # named, per muscle and side, by the refusals
            continue
        if area is None:
            problems.append(FTP_OUTSIDE.format(muscle=muscle, view=placement.view))
            errors += 1
            continue
        if area[0] != placement.muscle:
            problems.append(
                FTP_WRONG_AREA.format(muscle=muscle, area=_area_name(area), area_muscle=_muscle_name(area[0]))
            )
            errors += 1
            continue
        if area not in asked:
            problems.append(FTP_NOT_ASKED.format(area=_area_name(area)))
            errors += 1
            continue
        placed[area] += 1
    for area, count in placed.items():
        if count > asked[area]:
            problems.append(FTP_TOO_MANY.format(count=count, area=_area_name(area), asked=asked[area]))
            errors += count - asked[area]
    for area, count in asked.items():
        if placed[area] < count:
            problems.append(FTP_MISSING.format(area=_area_name(area), placed=placed[area], asked=count))
    return FollowThePainResult(dict(asked), dict(placed), tuple(problems), errors, tuple(_refusals(by_muscle)))


def _check_request(asked: Mapping[tuple[str, str], int]) -> None:
    """A request stays within the engine's follow-the-pain muscles and limits (the trainer asks, it never breaches)."""
    per_muscle: Counter[str] = Counter()
    for (muscle, _side), count in asked.items():
        per_muscle[muscle] += count
    for muscle, count in per_muscle.items():
        limit = FOLLOW_THE_PAIN_MAX_SITES.get(Muscle(muscle))
        if limit is None or count > limit:
            message = "follow-the-pain is scored only in its muscles, within their limits"
            raise ValueError(message)


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
    Every unmatched fixed placement is an extra and costs a point of the possible total. Follow-the-pain (asked as
    ``{(muscle, side): count}``, or nothing asked): a point per asked site placed inside the right muscle and side's
    area (``area_at(view, x, y)`` gives the area's (muscle, side)); every placed follow-the-pain site that is wrong
    (outside its area, in an area not asked, beyond the asked number, in a muscle that takes none) costs a point of
    the possible total on its own, asked or not. The attempt passes at ``pass_mark`` percent of the possible points,
    only with every fixed muscle group given PREEMPT's number of sites on each of its sides, however close the
    clicks (``FIXED_COUNT_WRONG``), at least one of them placed right (``FIXED_GROUP_MISSED``), and only with the
    follow-the-pain part as asked: a breach of the engine's follow-the-pain rules
    (``follow_the_pain_refusals``: a muscle that takes none, past a confirmed limit or past
    ``FOLLOW_THE_PAIN_MAX_TOTAL_SITES`` in all; occipitalis past its derived limit is not one), an asked site
    missing or any other follow-the-pain site fails it (``SiteScore.failures`` says why): the request is the dose
    the clinician ordered, so a site short or over is a dose error, unlike a fixed site a little off on a schematic
    map.
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
    if follow_the_pain or extra_sites:
        if area_at is None:
            message = "follow-the-pain is scored only in its muscles, with an area_at function"
            raise ValueError(message)
        _check_request(follow_the_pain or {})
        ftp = _follow_the_pain(extra_sites, follow_the_pain or {}, area_at, targets)
    points = sum(result.correct for result in results) + (ftp.points if ftp else 0)
    possible = len(targets) + len(extra) + (ftp.possible + ftp.errors if ftp else 0)
    percent = 100 * points // possible if possible else 0
    ftp_failures = (*ftp.refusals, *(() if ftp.as_asked else (FTP_NOT_AS_ASKED,))) if ftp else ()
    failures = (*_fixed_failures(results, targets, fixed, matched), *ftp_failures)
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
        passed=possible > 0 and 100 * points >= pass_mark * possible and not failures,
        by_muscle=by_muscle,
        mean_distance=sum(distances) / len(distances) if distances else None,
        failures=failures,
    )
