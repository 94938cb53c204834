"""Where each PREEMPT injection site is drawn on the schematic head, neck and shoulders map.

Two views, each its own 1000 x 1000 SVG coordinate space (the units ``InjectionSiteRecord.x``/``y`` are stored in):
the **front** view (procerus, corrugator, frontalis, temporalis) shows the patient facing the viewer, so the
patient's right is on the viewer's left; the **back** view (occipitalis, cervical paraspinal, trapezius) shows the
patient from behind, so the patient's left is on the viewer's left.

Placement follows the schematic landmarks of clinical-facts.md section 1.4 (procerus at the glabella midline,
corrugator above the medial brow, frontalis two per side in the mid/upper forehead, temporalis four per side over
the temporal fossa, occipitalis three per side above the occipital protuberance, cervical paraspinal two per side
in the upper posterior neck, trapezius three per side from the neck toward the shoulder). These are drawing
positions, not measured distances: the BOTOX label's injection diagrams stay the clinical reference.

The module knows nothing of requests or the database, so the session screen and the trainer can share it: build
``MapSite`` values with ``plan_map_sites`` (from an engine plan) or ``map_site`` (one stored site) and render them
with the ``injections/_site_map.html`` include.
"""

from __future__ import annotations

import enum
import math
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

from django.utils.translation import gettext, gettext_lazy

from onaboard.clinical import (
    FIXED_SITES,
    FOLLOW_THE_PAIN_DERIVED_LIMITS,
    FOLLOW_THE_PAIN_MAX_SITES,
    FOLLOW_THE_PAIN_MAX_TOTAL_SITES,
    MAX_SESSION_SITES,
    UNITS_PER_SITE,
    InjectionPlan,
    Muscle,
    Side,
    follow_the_pain_refusals,
)

__all__ = [
    "DOT_RADIUS",
    "FIXED_POSITIONS",
    "FOLLOW_THE_PAIN_REGIONS",
    "MAP_SIZE",
    "MIN_DOT_DISTANCE",
    "MUSCLE_LABELS",
    "SIDE_LABELS",
    "SPOTS_PAST_DERIVED_LIMIT",
    "VIEW_OF_MUSCLE",
    "MapPoint",
    "MapSite",
    "Region",
    "SiteGroup",
    "View",
    "fixed_site_key",
    "follow_the_pain_default",
    "follow_the_pain_limit_message",
    "follow_the_pain_total_message",
    "group_sites",
    "map_site",
    "plan_map_sites",
    "recording_limit",
    "region_at",
    "region_for",
    "site_label",
]

MAP_SIZE = 1000
"""Both views use a square 0..1000 coordinate space (the SVG viewBox and the stored x, y)."""

DOT_RADIUS = 30
"""Radius of a site's dot in map units: the ``r`` of ``_site_map_layer.html`` and of the dots session_map.js adds."""

MIN_DOT_DISTANCE = 2 * DOT_RADIUS + 6
"""How far apart the centres of any two dots drawn without a click are (fixed sites and default follow-the-pain
spots, on the same view): the dots' white 4-unit outlines stay 2 units apart, so no dot hides part of another."""

SPOTS_PAST_DERIVED_LIMIT = 2
"""Default spots an area has past its muscle's derived follow-the-pain limit (``FOLLOW_THE_PAIN_DERIVED_LIMITS``:
occipitalis 2). A session may be recorded past it (a departure, with a reason), so the third and fourth extra site
added from the form on one side are drawn apart from the others; more than that wrap round to the first spots, and a
click places them anywhere in the area."""


class View(enum.StrEnum):
    FRONT = "front"
    BACK = "back"


MUSCLE_LABELS: Mapping[Muscle, str] = MappingProxyType(
    {
        Muscle.CORRUGATOR: gettext_lazy("corrugator"),
        Muscle.PROCERUS: gettext_lazy("procerus"),
        Muscle.FRONTALIS: gettext_lazy("frontalis"),
        Muscle.TEMPORALIS: gettext_lazy("temporalis"),
        Muscle.OCCIPITALIS: gettext_lazy("occipitalis"),
        Muscle.CERVICAL_PARASPINAL: gettext_lazy("cervical paraspinal"),
        Muscle.TRAPEZIUS: gettext_lazy("trapezius"),
    }
)

SIDE_LABELS: Mapping[Side, str] = MappingProxyType(
    {Side.LEFT: gettext_lazy("left"), Side.RIGHT: gettext_lazy("right"), Side.MIDLINE: gettext_lazy("midline")}
)

VIEW_OF_MUSCLE: Mapping[Muscle, View] = MappingProxyType(
    {
        Muscle.CORRUGATOR: View.FRONT,
        Muscle.PROCERUS: View.FRONT,
        Muscle.FRONTALIS: View.FRONT,
        Muscle.TEMPORALIS: View.FRONT,
        Muscle.OCCIPITALIS: View.BACK,
        Muscle.CERVICAL_PARASPINAL: View.BACK,
        Muscle.TRAPEZIUS: View.BACK,
    }
)
"""The view each muscle is drawn on: the face and temples from the front, the head, neck and shoulders from behind."""


@dataclass(frozen=True, slots=True)
class MapPoint:
    view: View
    x: int
    y: int


def _mirror(x: int) -> int:
    return MAP_SIZE - x


def _viewer_left_is(view: View) -> Side:
    """Which of the patient's sides appears on the viewer's left in a view."""
    return Side.RIGHT if view is View.FRONT else Side.LEFT


def _sided(view: View, viewer_left: tuple[tuple[int, int], ...]) -> dict[Side, tuple[MapPoint, ...]]:
    """Points given for the side drawn on the viewer's left, and their mirror images for the other side."""
    near = _viewer_left_is(view)
    far = Side.LEFT if near is Side.RIGHT else Side.RIGHT
    return {
        near: tuple(MapPoint(view, x, y) for x, y in viewer_left),
        far: tuple(MapPoint(view, _mirror(x), y) for x, y in viewer_left),
    }


# Points for the side drawn on the viewer's left; the other side is mirrored about x = 500.
_FIXED_LAYOUT: Mapping[Muscle, dict[Side, tuple[MapPoint, ...]]] = {
    # single midline point at the glabella, between the medial ends of the eyebrows
    Muscle.PROCERUS: {Side.MIDLINE: (MapPoint(View.FRONT, 500, 330),)},
    # just above the medial part of each eyebrow
    Muscle.CORRUGATOR: _sided(View.FRONT, ((446, 288),)),
    # mid/upper forehead: medial point above the corrugator site, lateral point further out and up, below the hairline
    Muscle.FRONTALIS: _sided(View.FRONT, ((446, 214), (394, 166))),
    # spread over the temporal fossa, above and in front of the ear, inside the hairline
    Muscle.TEMPORALIS: _sided(View.FRONT, ((326, 146), (300, 260), (366, 282), (300, 326))),
    # just above the occipital protuberance / superior nuchal line, spread laterally
    Muscle.OCCIPITALIS: _sided(View.BACK, ((454, 500), (390, 482), (328, 452))),
    # upper posterior neck, below the protuberance, just lateral to the midline
    Muscle.CERVICAL_PARASPINAL: _sided(View.BACK, ((456, 660), (452, 728))),
    # along the upper trapezius from the neck toward the shoulder (acromion)
    Muscle.TRAPEZIUS: _sided(View.BACK, ((360, 858), (280, 872), (200, 894))),
}

FIXED_POSITIONS: Mapping[tuple[Muscle, Side, int], MapPoint] = MappingProxyType(
    {
        (muscle, side, index): point
        for muscle, sides in _FIXED_LAYOUT.items()
        for side, points in sides.items()
        for index, point in enumerate(points, start=1)
    }
)
"""Drawing position of every fixed PREEMPT site, keyed by (muscle, side, 1-based index within muscle and side)."""


def _check_fixed_positions() -> None:
    expected = Counter((muscle, side) for muscle, sides in FIXED_SITES.items() for side in sides)
    drawn = Counter((muscle, side) for muscle, side, _ in FIXED_POSITIONS)
    if drawn != expected:  # pragma: no cover - guards edits to the layout above
        message = f"site map layout does not match the PREEMPT fixed sites: {drawn} != {expected}"
        raise AssertionError(message)


_check_fixed_positions()


@dataclass(frozen=True, slots=True)
class Region:
    """An ellipse where follow-the-pain sites of one muscle and side may be placed by clicking."""

    view: View
    muscle: Muscle
    side: Side
    cx: int
    cy: int
    rx: int
    ry: int
    defaults: tuple[tuple[int, int], ...]
    """Where sites added without a click (the form row) are drawn, in turn."""

    def contains(self, x: float, y: float) -> bool:
        return ((x - self.cx) / self.rx) ** 2 + ((y - self.cy) / self.ry) ** 2 <= 1

    @property
    def limit(self) -> int:
        """The engine's follow-the-pain maximum for the muscle (both sides together), the one a plan keeps within."""
        return FOLLOW_THE_PAIN_MAX_SITES[self.muscle]

    @property
    def recording_limit(self) -> int:
        """The most extra sites of the muscle (both sides) a session may be recorded with (``recording_limit``)."""
        return recording_limit(self.muscle)

    @property
    def derived_limit(self) -> int | None:
        """The muscle's limit when it is derived, not stated (occipitalis 2): recording past it is a departure that
        needs a reason for overriding; None for a stated limit."""
        return self.limit if self.muscle in FOLLOW_THE_PAIN_DERIVED_LIMITS else None

    @property
    def key(self) -> str:
        return f"{self.muscle}-{self.side}"

    @property
    def label(self) -> str:
        return f"{MUSCLE_LABELS[self.muscle]} {SIDE_LABELS[self.side]}"

    @property
    def muscle_label(self) -> str:
        return str(MUSCLE_LABELS[self.muscle])

    @property
    def side_label(self) -> str:
        return str(SIDE_LABELS[self.side])


def _regions(
    view: View, muscle: Muscle, ellipse: tuple[int, int, int, int], defaults: tuple[tuple[int, int], ...]
) -> tuple[Region, Region]:
    cx, cy, rx, ry = ellipse
    near = _viewer_left_is(view)
    far = Side.LEFT if near is Side.RIGHT else Side.RIGHT
    mirrored = tuple((_mirror(x), y) for x, y in defaults)
    return (
        Region(view, muscle, near, cx, cy, rx, ry, defaults),
        Region(view, muscle, far, _mirror(cx), cy, rx, ry, mirrored),
    )


FOLLOW_THE_PAIN_REGIONS: tuple[Region, ...] = (
    *_regions(View.FRONT, Muscle.TEMPORALIS, (333, 247, 60, 128), ((346, 212), (366, 348))),
    *_regions(View.BACK, Muscle.OCCIPITALIS, (380, 440, 120, 100), ((420, 418), (360, 388), (290, 390), (420, 350))),
    *_regions(View.BACK, Muscle.TRAPEZIUS, (270, 900, 175, 70), ((320, 935), (240, 955), (400, 925), (160, 950))),
)
"""Clickable areas for follow-the-pain sites: the engine allows them only in temporalis, occipitalis and
trapezius (Blumenfeld 2010), one area per muscle and side. Each area holds its muscle's fixed sites on that side, and
its default spots sit between them (occipitalis above the fixed row, trapezius in a second row below it): as many as
the muscle's limit, and for occipitalis, whose limit is derived, ``SPOTS_PAST_DERIVED_LIMIT`` more (a third and fourth
row of spots above the fixed row, up to the crown's side)."""


def _check_regions() -> None:
    muscles = {region.muscle for region in FOLLOW_THE_PAIN_REGIONS}
    if muscles != set(FOLLOW_THE_PAIN_MAX_SITES):  # pragma: no cover - guards edits to the regions above
        message = "follow-the-pain regions must cover exactly the engine's follow-the-pain muscles"
        raise AssertionError(message)
    for region in FOLLOW_THE_PAIN_REGIONS:
        inside = all(region.contains(x, y) for x, y in region.defaults)
        needed = region.limit + (SPOTS_PAST_DERIVED_LIMIT if region.derived_limit is not None else 0)
        if len(region.defaults) < needed or not inside:  # pragma: no cover - guards edits to the regions
            message = f"region {region.key}: needs {needed} default points inside it"
            raise AssertionError(message)
    for (muscle, side, index), point in FIXED_POSITIONS.items():
        found = [r for r in FOLLOW_THE_PAIN_REGIONS if r.view is point.view and r.contains(point.x, point.y)]
        own = [r for r in FOLLOW_THE_PAIN_REGIONS if (r.muscle, r.side) == (muscle, side)]
        if found != own:  # pragma: no cover - guards edits to the layout and the regions
            message = f"{muscle}-{side}-{index} must lie in its own muscle's area or in none"
            raise AssertionError(message)
    dots = [(f"{muscle}-{side}-{index}", point) for (muscle, side, index), point in FIXED_POSITIONS.items()]
    dots += [
        (f"{r.key} default {x},{y}", MapPoint(r.view, x, y)) for r in FOLLOW_THE_PAIN_REGIONS for x, y in r.defaults
    ]
    for number, (name, point) in enumerate(dots):
        for other, near in dots[number + 1 :]:
            apart = math.hypot(point.x - near.x, point.y - near.y)
            if point.view is near.view and apart < MIN_DOT_DISTANCE:  # pragma: no cover - guards edits to the layout
                message = f"site map dots {name} and {other} are {apart:.1f} apart, less than {MIN_DOT_DISTANCE}"
                raise AssertionError(message)


_check_regions()


def region_for(muscle: Muscle | str, side: Side | str) -> Region | None:
    """The follow-the-pain area of a muscle and side, or None where the engine allows no extra sites."""
    for region in FOLLOW_THE_PAIN_REGIONS:
        if region.muscle == muscle and region.side == side:
            return region
    return None


def region_at(view: View | str, x: float, y: float) -> Region | None:
    """The follow-the-pain area containing a point of a view, or None (a click outside every area)."""
    for region in FOLLOW_THE_PAIN_REGIONS:
        if region.view == view and region.contains(x, y):
            return region
    return None


def clicked_point(muscle: str, side: str, view: str | None, x: int | None, y: int | None) -> MapPoint | None:
    """Where a follow-the-pain site was clicked, when that point lies in its muscle's area on the area's view;
    otherwise None, and the site is drawn on its default spot. The one rule for the session screen and the API (a
    fixed site always sits on its drawing position)."""
    region = region_for(muscle, side)
    if region is None or x is None or y is None or view != region.view or not region.contains(x, y):
        return None
    return MapPoint(region.view, x, y)


def follow_the_pain_default(muscle: Muscle | str, side: Side | str, number: int) -> MapPoint:
    """Where the ``number``-th (1-based) extra site of a muscle and side is drawn when it was not placed by a click.

    Raises ``ValueError`` for a muscle without follow-the-pain sites.
    """
    region = region_for(muscle, side)
    if region is None:
        message = f"no follow-the-pain area for {muscle} {side}"
        raise ValueError(message)
    x, y = region.defaults[(number - 1) % len(region.defaults)]
    return MapPoint(region.view, x, y)


def recording_limit(muscle: Muscle | str) -> int:
    """The most extra sites of a muscle (both sides together) a session may be recorded with: the largest count the
    engine's ``follow_the_pain_refusals`` accepts. Temporalis 2 and trapezius 4, their stated limits; occipitalis,
    whose limit of 2 is derived (past it is a departure, not a refusal), the 8 extra sites allowed in all; 0 for a
    muscle that takes none. A plan made ahead keeps within ``Region.limit`` instead."""
    counts: dict[Muscle, int] = {Muscle(muscle): 0}
    for count in range(1, MAX_SESSION_SITES + 1):
        counts[Muscle(muscle)] = count
        if follow_the_pain_refusals(counts):
            return count - 1
    return MAX_SESSION_SITES  # pragma: no cover - the engine refuses more than 8 extra sites in all


def follow_the_pain_limit_message(muscle: Muscle | str) -> str:
    """The engine's own refusal for one extra site of a muscle more than recording allows (``recording_limit``):
    its stated limit, or, for occipitalis, the limit of extra sites in all."""
    refused = follow_the_pain_refusals({Muscle(muscle): recording_limit(muscle) + 1})
    return refused[0][1] if refused else ""


def follow_the_pain_total_message() -> str:
    """The engine's own refusal for one extra site more than ``FOLLOW_THE_PAIN_MAX_TOTAL_SITES`` in all."""
    muscle = next(iter(FOLLOW_THE_PAIN_MAX_SITES))
    refused = follow_the_pain_refusals({muscle: FOLLOW_THE_PAIN_MAX_TOTAL_SITES + 1})
    return next((problem for place, problem in refused if place is None), "")  # the refusal of no one muscle


def fixed_site_key(muscle: Muscle | str, side: Side | str, index: int) -> str:
    """The stable name of a fixed site, e.g. ``temporalis-left-3``: form fields and map anchors use it."""
    return f"{Muscle(muscle)}-{Side(side)}-{index}"


def site_label(muscle: Muscle | str, side: Side | str, index: int, units: int | None, *, follow_the_pain: bool) -> str:
    """What a screen reader says for a site: "temporalis left 3, 5 U" or "trapezius right, extra site 1, 5 U"."""
    muscle_name = MUSCLE_LABELS[Muscle(muscle)]
    side_name = SIDE_LABELS[Side(side)]
    if Side(side) is Side.MIDLINE:
        place = gettext("%(muscle)s midline") % {"muscle": muscle_name}
    elif follow_the_pain:
        place = gettext("%(muscle)s %(side)s, extra site %(index)s") % {
            "muscle": muscle_name,
            "side": side_name,
            "index": index,
        }
    else:
        place = gettext("%(muscle)s %(side)s %(index)s") % {"muscle": muscle_name, "side": side_name, "index": index}
    if units is None:
        return place
    return gettext("%(place)s, %(units)s U") % {"place": place, "units": units}


@dataclass(frozen=True, slots=True)
class MapSite:
    """One site as the map draws it: where, how many units, and the name that links it to its form field or row."""

    key: str
    muscle: Muscle
    side: Side
    index: int
    units: int | None
    follow_the_pain: bool
    view: View
    x: int
    y: int

    @property
    def label(self) -> str:
        return site_label(self.muscle, self.side, self.index, self.units, follow_the_pain=self.follow_the_pain)

    @property
    def place(self) -> str:
        """The label without the units: "temporalis left 3"."""
        return site_label(self.muscle, self.side, self.index, None, follow_the_pain=self.follow_the_pain)

    @property
    def muscle_label(self) -> str:
        return str(MUSCLE_LABELS[self.muscle])

    @property
    def side_label(self) -> str:
        return str(SIDE_LABELS[self.side])

    @property
    def standard(self) -> bool:
        """True when the site has the label's 5 U (the map marks other doses)."""
        return self.units is None or self.units == UNITS_PER_SITE


def map_site(
    *,
    key: str,
    muscle: Muscle | str,
    side: Side | str,
    index: int,
    units: int | None,
    follow_the_pain: bool,
    point: MapPoint | None = None,
) -> MapSite:
    """One site for the map; without ``point`` a fixed site goes to its drawing position and an extra site to its
    area's ``index``-th default spot."""
    muscle, side = Muscle(muscle), Side(side)
    if point is None:
        point = (
            follow_the_pain_default(muscle, side, index) if follow_the_pain else FIXED_POSITIONS[muscle, side, index]
        )
    return MapSite(key, muscle, side, index, units, follow_the_pain, point.view, point.x, point.y)


def plan_map_sites(plan: InjectionPlan | Iterable[object]) -> list[MapSite]:
    """Every site of an engine plan (``InjectionPlan`` or its sites), numbered per muscle and side, ready to draw.

    Fixed sites are keyed ``<muscle>-<side>-<n>``; follow-the-pain sites ``ftp-<muscle>-<side>-<n>``.
    """
    sites = plan.sites if isinstance(plan, InjectionPlan) else tuple(plan)
    fixed_count: Counter[tuple[Muscle, Side]] = Counter()
    extra_count: Counter[tuple[Muscle, Side]] = Counter()
    drawn = []
    for site in sites:
        counter = extra_count if site.follow_the_pain else fixed_count
        counter[site.muscle, site.side] += 1
        index = counter[site.muscle, site.side]
        key = (
            f"ftp-{site.muscle}-{site.side}-{index}"
            if site.follow_the_pain
            else fixed_site_key(site.muscle, site.side, index)
        )
        drawn.append(
            map_site(
                key=key,
                muscle=site.muscle,
                side=site.side,
                index=index,
                units=site.units,
                follow_the_pain=site.follow_the_pain,
            )
        )
    return drawn


@dataclass(frozen=True, slots=True)
class SiteGroup:
    """The sites of one muscle and side, fixed ones first: one row of a sites table."""

    muscle: Muscle
    side: Side
    sites: tuple[MapSite, ...]

    @property
    def muscle_label(self) -> str:
        return str(MUSCLE_LABELS[self.muscle])

    @property
    def side_label(self) -> str:
        return str(SIDE_LABELS[self.side])

    @property
    def units(self) -> int:
        return sum(site.units or 0 for site in self.sites)


def group_sites(sites: Iterable[MapSite]) -> list[SiteGroup]:
    """Sites grouped by muscle (PREEMPT order) and side (left, right, midline), fixed before follow-the-pain."""
    listed = list(sites)
    order = list(Muscle)
    sides = [Side.LEFT, Side.RIGHT, Side.MIDLINE]
    keys = sorted({(site.muscle, site.side) for site in listed}, key=lambda k: (order.index(k[0]), sides.index(k[1])))
    return [
        SiteGroup(
            muscle,
            side,
            tuple(
                sorted(
                    (site for site in listed if (site.muscle, site.side) == (muscle, side)),
                    key=lambda site: (site.follow_the_pain, site.index),
                )
            ),
        )
        for muscle, side in keys
    ]
