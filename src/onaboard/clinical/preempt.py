"""The PREEMPT injection paradigm for chronic migraine: fixed sites, follow-the-pain, vials and billing.

Sources:
- Blumenfeld A, et al. "Method of injection of onabotulinumtoxinA for chronic migraine: a safe, well-tolerated,
  and effective treatment paradigm based on the PREEMPT clinical program." Headache 2010;50:1406-18
  (the 31 fixed sites / 155 U, the follow-the-pain add-on and its muscles).
- BOTOX (onabotulinumtoxinA) US Prescribing Information, Dosage and Administration, Chronic Migraine
  (155 U as 0.1 mL = 5 U injections per site; 100 U vial + 2 mL or 200 U vial + 4 mL saline, 5 U per 0.1 mL).
- HCPCS J0585 (onabotulinumtoxinA, 1 unit), CPT 64615 (chemodenervation for chronic migraine, bilateral, once per
  session), modifiers JW (amount discarded from a single-dose vial) and JZ (none discarded): CMS HCPCS/JW-JZ policy
  as summarised in shared/domain/clinical-facts.md section 7.1.

Everything here is a pure function over frozen values; the caller decides what to do with a refused plan.
"""

from __future__ import annotations

import enum
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from types import MappingProxyType

from onaboard.clinical.errors import RefusedError

__all__ = [
    "CPT_CHRONIC_MIGRAINE_CHEMODENERVATION",
    "FIXED_DOSE_UNITS",
    "FIXED_SITES",
    "FIXED_SITE_COUNT",
    "FOLLOW_THE_PAIN_DERIVED_LIMITS",
    "FOLLOW_THE_PAIN_MAX_SITES",
    "FOLLOW_THE_PAIN_MAX_TOTAL_SITES",
    "HCPCS_ONABOTULINUMTOXINA",
    "MAX_MUSCLE_UNITS",
    "MAX_SESSION_SITES",
    "MAX_SESSION_UNITS",
    "SALINE_ML_BY_VIAL_UNITS",
    "UNITS_PER_0_1_ML",
    "UNITS_PER_SITE",
    "VIAL_SIZES_UNITS",
    "VOLUME_PER_SITE_ML",
    "BillingLine",
    "BillingModifier",
    "InjectionPlan",
    "InjectionSite",
    "Muscle",
    "MuscleDose",
    "PlanError",
    "Reconstitution",
    "Side",
    "SiteNotGiven",
    "follow_the_pain_refusals",
    "follow_the_pain_sites",
    "label_dose_departures",
    "plan_from_sites",
    "preempt_plan",
    "vials_for",
]


class Muscle(enum.StrEnum):
    """The seven PREEMPT muscle areas, in the order the paradigm injects them (Blumenfeld 2010, Table 1)."""

    CORRUGATOR = "corrugator"
    PROCERUS = "procerus"
    FRONTALIS = "frontalis"
    TEMPORALIS = "temporalis"
    OCCIPITALIS = "occipitalis"
    CERVICAL_PARASPINAL = "cervical_paraspinal"
    TRAPEZIUS = "trapezius"


class Side(enum.StrEnum):
    """Where a site lies: procerus is the one midline site, every other muscle is injected left and right."""

    LEFT = "left"
    RIGHT = "right"
    MIDLINE = "midline"


class BillingModifier(enum.StrEnum):
    """HCPCS drug-wastage modifiers for single-dose vials (CMS JW/JZ policy; clinical-facts.md 7.1)."""

    JW = "JW"  # drug amount discarded / not administered
    JZ = "JZ"  # zero drug amount discarded


# --- Clinical constants -----------------------------------------------------------------------------------------

UNITS_PER_SITE = 5
"""BOTOX PI, Chronic Migraine: each site receives 0.1 mL = 5 U (Blumenfeld 2010: 5 U per site)."""

VOLUME_PER_SITE_ML = Decimal("0.1")
"""BOTOX PI, Chronic Migraine: 0.1 mL per site, at the final concentration of 5 U per 0.1 mL."""

UNITS_PER_0_1_ML = 5
"""BOTOX PI, Chronic Migraine: the reconstituted concentration, 5 U per 0.1 mL (50 U/mL), for either vial size."""

SALINE_ML_BY_VIAL_UNITS: Mapping[int, Decimal] = MappingProxyType({100: Decimal("2.0"), 200: Decimal("4.0")})
"""BOTOX PI, Chronic Migraine: 100 U vial with 2 mL, 200 U vial with 4 mL preservative-free 0.9% saline."""

VIAL_SIZES_UNITS: tuple[int, ...] = tuple(SALINE_ML_BY_VIAL_UNITS)
"""The therapeutic BOTOX vial sizes the chronic-migraine dilution table covers: 100 U and 200 U."""

FIXED_SITES: Mapping[Muscle, tuple[Side, ...]] = MappingProxyType(
    {
        Muscle.CORRUGATOR: (Side.LEFT, Side.RIGHT),
        Muscle.PROCERUS: (Side.MIDLINE,),
        Muscle.FRONTALIS: (Side.LEFT,) * 2 + (Side.RIGHT,) * 2,
        Muscle.TEMPORALIS: (Side.LEFT,) * 4 + (Side.RIGHT,) * 4,
        Muscle.OCCIPITALIS: (Side.LEFT,) * 3 + (Side.RIGHT,) * 3,
        Muscle.CERVICAL_PARASPINAL: (Side.LEFT,) * 2 + (Side.RIGHT,) * 2,
        Muscle.TRAPEZIUS: (Side.LEFT,) * 3 + (Side.RIGHT,) * 3,
    }
)
"""The 31 fixed sites, left sites before right per muscle (Blumenfeld 2010 Table 1; BOTOX PI, Chronic Migraine:
procerus is a single midline site, every other muscle is injected bilaterally, half the sites on each side)."""

FIXED_SITE_COUNT = 31
"""Blumenfeld 2010 / BOTOX PI: the fixed-site, fixed-dose paradigm has 31 sites."""

FIXED_DOSE_UNITS = 155
"""BOTOX PI, Chronic Migraine: the recommended dose is 155 U (31 sites x 5 U)."""

FOLLOW_THE_PAIN_MAX_SITES: Mapping[Muscle, int] = MappingProxyType(
    {Muscle.TEMPORALIS: 2, Muscle.OCCIPITALIS: 2, Muscle.TRAPEZIUS: 4}
)
"""Extra follow-the-pain sites (5 U each) allowed per muscle, up to 40 U in all (Blumenfeld 2010).

Confirmed from the article's text: temporalis may take 10 U more (2 sites) and trapezius up to 20 U more (4 sites,
one or both sides); the cervical paraspinal group takes none. Occipitalis 10 U (2 sites) is what remains of the
40 U cap (40 - 10 - 20): the article allows extra occipital dosing but that number is derived, not stated
(``FOLLOW_THE_PAIN_DERIVED_LIMITS``). A plan (``preempt_plan``, ``follow_the_pain_sites``) keeps within every limit
here; a session recorded as given (``plan_from_sites``) is refused only past the confirmed ones, and going past a
derived one is a departure (``label_dose_departures``) the recorder overrides with a reason.
"""

FOLLOW_THE_PAIN_DERIVED_LIMITS: frozenset[Muscle] = frozenset({Muscle.OCCIPITALIS})
"""The muscles whose limit in ``FOLLOW_THE_PAIN_MAX_SITES`` (and so ``MAX_MUSCLE_UNITS``) is derived from the 40 U
follow-the-pain cap less the confirmed limits of the others, not stated in Blumenfeld 2010 (clinical-facts 1.2)."""

MAX_SESSION_UNITS = 195
"""PREEMPT maximum per session: 155 U fixed + 40 U follow-the-pain (Blumenfeld 2010; EHF guideline, Bendtsen et al.
J Headache Pain 2018;19:91: 155-195 U)."""

MAX_SESSION_SITES = 39
"""PREEMPT maximum per session: 31 fixed + 8 follow-the-pain sites (Blumenfeld 2010; EHF 2018: 31-39 sites)."""

FOLLOW_THE_PAIN_MAX_TOTAL_SITES = MAX_SESSION_SITES - FIXED_SITE_COUNT
"""Follow-the-pain adds at most 8 sites (40 U at 5 U a site) in all, whichever muscles take them: 39 sites at most
per session (Blumenfeld 2010; EHF 2018: 31-39 sites)."""

MAX_MUSCLE_UNITS: Mapping[Muscle, int] = MappingProxyType(
    {
        muscle: (len(FIXED_SITES[muscle]) + FOLLOW_THE_PAIN_MAX_SITES.get(muscle, 0)) * UNITS_PER_SITE
        for muscle in Muscle
    }
)
"""The most a muscle takes in one PREEMPT session: its fixed sites plus its follow-the-pain sites, 5 U each
(Blumenfeld 2010: temporalis 50 U, occipitalis 40 U, trapezius 50 U, the other muscles their fixed dose; the
occipitalis figure is derived, see ``FOLLOW_THE_PAIN_MAX_SITES``)."""

HCPCS_ONABOTULINUMTOXINA = "J0585"
"""HCPCS J0585: injection, onabotulinumtoxinA, 1 unit (one BOTOX unit is one billing unit)."""

CPT_CHRONIC_MIGRAINE_CHEMODENERVATION = "64615"
"""CPT 64615: chemodenervation of muscles innervated by facial, trigeminal, cervical spinal and accessory nerves,
bilateral (e.g. for chronic migraine); reported once per session, without modifier 50."""

# --- Error messages (format strings; tests assert them exactly) ------------------------------------------------

UNKNOWN_MUSCLE = "unknown muscle {name!r}; the PREEMPT muscles are {known}"
UNKNOWN_SIDE = "unknown side {name!r}; sides are left, right, midline"
FOLLOW_THE_PAIN_LIMITS_TEXT = ", ".join(
    f"{muscle} (at most {most})" for muscle, most in FOLLOW_THE_PAIN_MAX_SITES.items()
)
"""Where extra sites go, each muscle with its limit: "temporalis (at most 2), occipitalis (at most 2), trapezius (at
most 4)" (``FOLLOW_THE_PAIN_MAX_SITES``), for the messages refusing another muscle."""
FTP_NOT_ALLOWED = (
    "follow-the-pain: {muscle} takes no extra sites; extra sites go only in " + FOLLOW_THE_PAIN_LIMITS_TEXT
)
FTP_UNKNOWN_MUSCLE = "follow-the-pain: unknown muscle {name!r}; extra sites go only in {limits}"
FTP_NOT_WHOLE = "follow-the-pain: {muscle} count must be a whole number, got {count!r}"
FTP_NEGATIVE = "follow-the-pain: {muscle} count must be 0 or more, asked for {count}"
FTP_LIMIT = "follow-the-pain: {muscle} allows at most {limit} extra sites ({limit_units} U), asked for {count}"
FTP_TOTAL_LIMIT = (
    "follow-the-pain: at most {limit} extra sites in all ({limit_units} U; {max_sites} sites a session), got {count}"
)
FTP_ABOVE_DERIVED_LIMIT = (
    "follow-the-pain: {muscle} has {count} extra sites ({units} U in the muscle), more than the {limit} "
    "({limit_units} U; {muscle_limit} U in the muscle) derived from the {cap} U follow-the-pain cap less {others}: "
    "Blumenfeld 2010 allows extra {muscle} sites but states no number"
)
MUSCLE_ABOVE_DERIVED_MAXIMUM = (
    "site dose: {muscle} totals {units} U, above {limit} U, its maximum derived from the {cap} U follow-the-pain cap "
    "less {others}: Blumenfeld 2010 states no number"
)
VIAL_SIZE = "vial_units must be 100 or 200 (BOTOX vial sizes), got {vial_units!r}"
SITE_NOT_A_SITE = "site {index}: expected an InjectionSite, got {value!r}"
SITE_UNITS = "site: units must be a whole number of at least 1 (0 for a fixed site not given), got {units!r}"
SITE_VOLUME = "site: {units} U is {expected} mL at 5 U per 0.1 mL, got {volume} mL"
SITE_MIDLINE_ONLY = "site: procerus is a single midline site, got side {side}"
SITE_BILATERAL = "site: {muscle} is injected left or right, got side {side}"
FIXED_SITE_COUNT_MISMATCH = "fixed sites: {muscle} {side} has {count}, more than PREEMPT's {expected}"
NO_SITE_GIVEN = "sites: none given; a session records at least one injection"
FIXED_SITES_NOT_GIVEN = "PREEMPT: {not_given} not given ({names}): {units} U at {given}"
SITES_NOT_LABEL_DOSE = (
    "site dose: {muscle} {side} has {count} of {sites} sites not at the label's {per_site} U (0.1 mL): {units} U there"
)
MUSCLE_ABOVE_MAXIMUM = "site dose: {muscle} totals {units} U, above the PREEMPT maximum of {limit} U for that muscle"
LABEL_SITE_DOSE = "site dose: every site is the label's {per_site} U (0.1 mL)"
DOSE_LIMIT = "dose: the plan totals {total} U over {sites} sites, above the PREEMPT maximum of {limit} U per session"


class PlanError(RefusedError):
    """A PREEMPT plan refused; ``problems`` lists every reason, one message each."""


# --- Values -----------------------------------------------------------------------------------------------------


def _as_muscle(value: object) -> Muscle:
    try:
        return Muscle(value)
    except ValueError:
        raise PlanError(UNKNOWN_MUSCLE.format(name=value, known=", ".join(Muscle))) from None


def _as_side(value: object) -> Side:
    try:
        return Side(value)
    except ValueError:
        raise PlanError(UNKNOWN_SIDE.format(name=value)) from None


def _volume_for(units: int) -> Decimal:
    """Volume holding ``units`` at the label's 5 U per 0.1 mL."""
    return Decimal(units) * VOLUME_PER_SITE_ML / UNITS_PER_0_1_ML


@dataclass(frozen=True, slots=True)
class InjectionSite:
    """One intramuscular injection: muscle, side, units and volume at 5 U per 0.1 mL (BOTOX PI, Chronic Migraine).

    ``follow_the_pain`` marks the optional extra sites (Blumenfeld 2010); the others are the fixed sites. Strings
    are accepted for ``muscle`` and ``side``; the volume must match the units at the label concentration.

    A fixed site at 0 U is one of the paradigm's sites not given (the patient fainted, the site could not be
    reached): nothing was drawn up for it, so its volume is 0 mL whatever was passed. ``plan_from_sites`` keeps it
    out of the plan's sites and names it in ``InjectionPlan.not_given``. A follow-the-pain site not given is simply
    not listed, so it takes at least 1 U.
    """

    muscle: Muscle
    side: Side
    units: int = UNITS_PER_SITE
    volume_ml: Decimal = VOLUME_PER_SITE_ML
    follow_the_pain: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "muscle", _as_muscle(self.muscle))
        object.__setattr__(self, "side", _as_side(self.side))
        least = 1 if self.follow_the_pain else 0
        if isinstance(self.units, bool) or not isinstance(self.units, int) or self.units < least:
            raise PlanError(SITE_UNITS.format(units=self.units))
        if self.units == 0:
            object.__setattr__(self, "volume_ml", Decimal(0))
        expected = _volume_for(self.units)
        if not isinstance(self.volume_ml, Decimal):
            try:
                object.__setattr__(self, "volume_ml", Decimal(str(self.volume_ml)))
            except InvalidOperation:
                raise PlanError(
                    SITE_VOLUME.format(units=self.units, expected=expected, volume=self.volume_ml)
                ) from None
        if self.volume_ml != expected:
            raise PlanError(SITE_VOLUME.format(units=self.units, expected=expected, volume=self.volume_ml))
        if self.muscle is Muscle.PROCERUS and self.side is not Side.MIDLINE:
            raise PlanError(SITE_MIDLINE_ONLY.format(side=self.side))
        if self.muscle is not Muscle.PROCERUS and self.side is Side.MIDLINE:
            raise PlanError(SITE_BILATERAL.format(muscle=self.muscle, side=self.side))


@dataclass(frozen=True, slots=True)
class SiteNotGiven:
    """A fixed PREEMPT site a session left out: its muscle, side and number on that side (1 for the first), counted
    in the order the fixed sites were listed, a site listed at 0 U keeping its number and a missing one taking the
    numbers after the last listed; ``str`` gives "trapezius right 3"."""

    muscle: Muscle
    side: Side
    number: int

    def __str__(self) -> str:
        return f"{self.muscle.value} {self.side.value} {self.number}"


def _place_order(muscle: Muscle, side: Side) -> tuple[int, int]:
    """PREEMPT order: muscles as the paradigm injects them, left before right (procerus is midline)."""
    return list(Muscle).index(muscle), list(Side).index(side)


def _sites_not_given(listed: Iterable[InjectionSite]) -> tuple[SiteNotGiven, ...]:
    """The fixed sites ``listed`` leaves out, in PREEMPT order: each fixed site at 0 U, numbered where it was
    listed, and each muscle and side's fixed sites missing after the last listed (Blumenfeld 2010 Table 1)."""
    numbered: Counter[tuple[Muscle, Side]] = Counter()
    missing = []
    for site in listed:
        if site.follow_the_pain:
            continue
        numbered[site.muscle, site.side] += 1
        if site.units == 0:
            missing.append(SiteNotGiven(site.muscle, site.side, numbered[site.muscle, site.side]))
    for muscle, sides in FIXED_SITES.items():
        for side, expected in Counter(sides).items():
            missing.extend(SiteNotGiven(muscle, side, n) for n in range(numbered[muscle, side] + 1, expected + 1))
    return tuple(sorted(missing, key=lambda site: (*_place_order(site.muscle, site.side), site.number)))


@dataclass(frozen=True, slots=True)
class MuscleDose:
    """Sites and units given to one muscle in a plan."""

    sites: int
    units: int


@dataclass(frozen=True, slots=True)
class Reconstitution:
    """How to reconstitute the chosen vial (BOTOX PI, Chronic Migraine dilution)."""

    vial_units: int
    saline_ml: Decimal
    units_per_0_1_ml: int


@dataclass(frozen=True, slots=True)
class BillingLine:
    """One claim line: a CPT/HCPCS code, its modifier (if any) and its units."""

    code: str
    modifier: BillingModifier | None
    units: int


def vials_for(total_units: int, vial_units: int) -> tuple[int, int]:
    """The fewest single-dose vials of ``vial_units`` that hold ``total_units``, and the units left in them
    (discarded, billed with JW). Raises ``PlanError`` for a vial size the label does not have."""
    problem = _vial_problem(vial_units)
    if problem is not None:
        raise PlanError(problem)
    vials = -(-total_units // vial_units)
    return vials, vials * vial_units - total_units


def _vial_problem(vial_units: object) -> str | None:
    if isinstance(vial_units, bool) or not isinstance(vial_units, int) or vial_units not in SALINE_ML_BY_VIAL_UNITS:
        return VIAL_SIZE.format(vial_units=vial_units)
    return None


@dataclass(frozen=True, slots=True)
class InjectionPlan:
    """A session's injection sites and the vials that supply them.

    Build it with ``preempt_plan`` or ``plan_from_sites``, which check the PREEMPT rules; constructing it directly
    checks only the vial size. ``sites`` keeps the sites given, in the order listed; the fixed sites not given (at
    0 U, or missing) are ``not_given``. Derived values (totals, vials, wastage, billing) are computed from the sites
    given, so a session that left a site out bills and discards what was given.
    """

    sites: tuple[InjectionSite, ...]
    vial_units: int = 200
    not_given: tuple[SiteNotGiven, ...] = field(init=False, default=())

    def __post_init__(self) -> None:
        listed = tuple(self.sites)
        object.__setattr__(self, "sites", tuple(site for site in listed if site.units))
        object.__setattr__(self, "not_given", _sites_not_given(listed))
        problem = _vial_problem(self.vial_units)
        if problem is not None:
            raise PlanError(problem)

    @property
    def total_units(self) -> int:
        """Units injected over all sites."""
        return sum(site.units for site in self.sites)

    @property
    def site_count(self) -> int:
        """Number of injection sites."""
        return len(self.sites)

    @property
    def follow_the_pain_count(self) -> int:
        """Number of optional follow-the-pain sites."""
        return sum(1 for site in self.sites if site.follow_the_pain)

    @property
    def is_standard(self) -> bool:
        """True when the plan has no departure from the label's dose (``label_dose_departures`` is empty): every
        fixed site given, every site the label's 5 U in 0.1 mL, and the follow-the-pain sites within every limit, the
        derived occipitalis one included: the PREEMPT paradigm (31 fixed sites, plus follow-the-pain), so units equal
        5 x sites. A session that left a fixed site out (``not_given``) or gave 3 extra occipitalis sites is not the
        paradigm, even at 5 U a site (BOTOX PI, Chronic Migraine; Blumenfeld 2010; clinical-facts 1.2)."""
        return not label_dose_departures(self)

    def with_sites_not_given(self) -> InjectionPlan:
        """This plan with each fixed site it did not give added back at the label's 5 U in 0.1 mL, after the sites
        it gave (kept as they were, follow-the-pain included), from the same vial size: what the session meant to
        give, for planning the next one. The plan itself when no fixed site is missing."""
        if not self.not_given:
            return self
        restored = tuple(InjectionSite(site.muscle, site.side) for site in self.not_given)
        return InjectionPlan((*self.sites, *restored), self.vial_units)

    @property
    def by_muscle(self) -> Mapping[Muscle, MuscleDose]:
        """Sites and units per muscle, for all seven muscles in PREEMPT order (zero where none)."""
        sites: Counter[Muscle] = Counter()
        units: Counter[Muscle] = Counter()
        for site in self.sites:
            sites[site.muscle] += 1
            units[site.muscle] += site.units
        return MappingProxyType({muscle: MuscleDose(sites[muscle], units[muscle]) for muscle in Muscle})

    @property
    def reconstitution(self) -> Reconstitution:
        """Saline volume for the chosen vial, giving 5 U per 0.1 mL (BOTOX PI, Chronic Migraine)."""
        return Reconstitution(self.vial_units, SALINE_ML_BY_VIAL_UNITS[self.vial_units], UNITS_PER_0_1_ML)

    @property
    def vials(self) -> int:
        """The fewest vials of the chosen size that hold the dose."""
        return vials_for(self.total_units, self.vial_units)[0]

    @property
    def discarded_units(self) -> int:
        """Units left in the opened single-dose vials (reported with JW)."""
        return vials_for(self.total_units, self.vial_units)[1]

    @property
    def billing_modifier(self) -> BillingModifier:
        """JW when units are discarded, JZ when none are (CMS single-dose vial wastage policy)."""
        return BillingModifier.JW if self.discarded_units > 0 else BillingModifier.JZ

    @property
    def billing_lines(self) -> tuple[BillingLine, ...]:
        """Claim lines: CPT 64615 once per session; J0585 for units given, plus a JW line for the units discarded,
        or the given units with JZ when nothing is discarded (clinical-facts.md 7.1)."""
        procedure = BillingLine(CPT_CHRONIC_MIGRAINE_CHEMODENERVATION, None, 1)
        if self.discarded_units > 0:
            return (
                procedure,
                BillingLine(HCPCS_ONABOTULINUMTOXINA, None, self.total_units),
                BillingLine(HCPCS_ONABOTULINUMTOXINA, BillingModifier.JW, self.discarded_units),
            )
        return (procedure, BillingLine(HCPCS_ONABOTULINUMTOXINA, BillingModifier.JZ, self.total_units))


# --- Rules ------------------------------------------------------------------------------------------------------


def _counted(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def _named(sites: Iterable[SiteNotGiven]) -> str:
    """Sites not given by muscle, side and number, a run of numbers as its ends: "temporalis left 1-4, trapezius
    right 3"."""
    runs: list[tuple[Muscle, Side, int, int]] = []
    for site in sites:
        if runs and runs[-1][:2] == (site.muscle, site.side) and runs[-1][3] == site.number - 1:
            runs[-1] = (*runs[-1][:3], site.number)
        else:
            runs.append((site.muscle, site.side, site.number, site.number))
    return ", ".join(
        f"{muscle.value} {side.value} {first}" + (f"-{last}" if last != first else "")
        for muscle, side, first, last in runs
    )


def label_dose_departures(plan: InjectionPlan) -> tuple[str, ...]:
    """Where a plan's doses depart from the label: fixed sites not given (``InjectionPlan.not_given``, named, with
    what was given instead of 155 U at 31 sites), sites not at its 5 U (0.1 mL) per site, per muscle and side,
    muscles with more follow-the-pain sites than their derived limit (``FOLLOW_THE_PAIN_DERIVED_LIMITS``: occipitalis
    past 2 sites, with the muscle's units; its units maximum then goes unsaid), and muscles above their maximum
    (``MAX_MUSCLE_UNITS``; for occipitalis the message says that maximum is derived). Empty for the 31 fixed sites
    at 5 U with follow-the-pain sites within every limit (any plan ``preempt_plan`` makes).

    The BOTOX PI (Chronic Migraine) gives 155 U as 0.1 mL = 5 U at each of 31 sites (Blumenfeld 2010 Table 1), and
    clinical-facts 1.1 lists "every site = 5 U" among the invariants. Blumenfeld 2010 allows extra occipitalis
    sites but states no number for them: their limit of 2 (10 U) is what the 40 U follow-the-pain cap leaves after
    temporalis's 10 U and trapezius's 20 U (clinical-facts 1.2). ``plan_from_sites`` still records other doses, a
    session that left fixed sites out (the patient fainted) and occipitalis past its derived limit, because the
    record must hold what was given; these departures are what a recorder must knowingly override, with a reason.
    """
    problems = []
    if plan.not_given:
        problems.append(
            FIXED_SITES_NOT_GIVEN.format(
                not_given=_counted(len(plan.not_given), "fixed site"),
                names=_named(plan.not_given),
                units=plan.total_units,
                given=_counted(plan.site_count, "site"),
            )
        )
    for (muscle, side), units in _units_by_place(plan.sites).items():
        departing = [u for u in units if u != UNITS_PER_SITE]
        if departing:
            problems.append(
                SITES_NOT_LABEL_DOSE.format(
                    muscle=muscle.value,
                    side=side.value,
                    count=len(departing),
                    sites=len(units),
                    per_site=UNITS_PER_SITE,
                    units=" + ".join(str(u) for u in departing),
                )
            )
    extra = Counter(site.muscle for site in plan.sites if site.follow_the_pain)
    for muscle, dose in plan.by_muscle.items():
        limit = FOLLOW_THE_PAIN_MAX_SITES.get(muscle, 0)
        if muscle in FOLLOW_THE_PAIN_DERIVED_LIMITS and extra[muscle] > limit:
            problems.append(
                FTP_ABOVE_DERIVED_LIMIT.format(
                    muscle=muscle.value,
                    count=extra[muscle],
                    units=dose.units,
                    limit=limit,
                    limit_units=limit * UNITS_PER_SITE,
                    muscle_limit=MAX_MUSCLE_UNITS[muscle],
                    cap=MAX_SESSION_UNITS - FIXED_DOSE_UNITS,
                    others=_confirmed_limits(),
                )
            )
        elif muscle in FOLLOW_THE_PAIN_DERIVED_LIMITS and dose.units > MAX_MUSCLE_UNITS[muscle]:
            problems.append(
                MUSCLE_ABOVE_DERIVED_MAXIMUM.format(
                    muscle=muscle.value,
                    units=dose.units,
                    limit=MAX_MUSCLE_UNITS[muscle],
                    cap=MAX_SESSION_UNITS - FIXED_DOSE_UNITS,
                    others=_confirmed_limits(),
                )
            )
        elif dose.units > MAX_MUSCLE_UNITS[muscle]:
            problems.append(
                MUSCLE_ABOVE_MAXIMUM.format(muscle=muscle.value, units=dose.units, limit=MAX_MUSCLE_UNITS[muscle])
            )
    return tuple(problems)


def _confirmed_limits() -> str:
    """The follow-the-pain limits stated in Blumenfeld 2010, in units: "temporalis 10 U and trapezius 20 U"."""
    named = [
        f"{muscle.value} {limit * UNITS_PER_SITE} U"
        for muscle, limit in FOLLOW_THE_PAIN_MAX_SITES.items()
        if muscle not in FOLLOW_THE_PAIN_DERIVED_LIMITS
    ]
    return " and ".join((", ".join(named[:-1]), named[-1])) if len(named) > 1 else "".join(named)


def _units_by_place(sites: Iterable[InjectionSite]) -> dict[tuple[Muscle, Side], list[int]]:
    """Each muscle and side's site units, in PREEMPT muscle order."""
    found: dict[tuple[Muscle, Side], list[int]] = {}
    for site in sorted(sites, key=lambda s: _place_order(s.muscle, s.side)):
        found.setdefault((site.muscle, site.side), []).append(site.units)
    return found


def _follow_the_pain_problem(muscle: Muscle, count: int) -> str | None:
    """Check one muscle's extra-site count against Blumenfeld 2010's follow-the-pain limits."""
    limit = FOLLOW_THE_PAIN_MAX_SITES.get(muscle)
    if limit is None:
        return FTP_NOT_ALLOWED.format(muscle=muscle)
    if count < 0:
        return FTP_NEGATIVE.format(muscle=muscle, count=count)
    if count > limit:
        return FTP_LIMIT.format(muscle=muscle, limit=limit, limit_units=limit * UNITS_PER_SITE, count=count)
    return None


def _parse_follow_the_pain(counts: Mapping[Muscle, int] | Mapping[str, int]) -> tuple[dict[Muscle, int], list[str]]:
    parsed: dict[Muscle, int] = {}
    problems: list[str] = []
    for name, count in counts.items():
        try:
            muscle = Muscle(name)
        except ValueError:
            problems.append(FTP_UNKNOWN_MUSCLE.format(name=name, limits=FOLLOW_THE_PAIN_LIMITS_TEXT))
            continue
        if isinstance(count, bool) or not isinstance(count, int):
            problems.append(FTP_NOT_WHOLE.format(muscle=muscle, count=count))
            continue
        problem = _follow_the_pain_problem(muscle, count)
        if problem is not None:
            problems.append(problem)
            continue
        parsed[muscle] = count
    return parsed, problems


def _extra_sites(muscle: Muscle, count: int) -> tuple[InjectionSite, ...]:
    sides = (Side.LEFT, Side.RIGHT)
    return tuple(InjectionSite(muscle, sides[index % 2], follow_the_pain=True) for index in range(count))


def follow_the_pain_sites(counts: Mapping[Muscle, int] | Mapping[str, int]) -> tuple[InjectionSite, ...]:
    """Extra 5 U sites per muscle, placed alternately left then right (first extra site on the left).

    Follow-the-pain is optional and limited to temporalis (2 sites / 10 U), occipitalis (2 / 10 U) and trapezius
    (4 / 20 U), 40 U in all (Blumenfeld et al., Headache 2010;50:1406-18; see ``FOLLOW_THE_PAIN_MAX_SITES`` for
    what is confirmed). Sites come back grouped by muscle in PREEMPT order. Raises ``PlanError`` listing every
    unknown muscle, muscle without follow-the-pain, negative count or count above the muscle's limit.
    """
    parsed, problems = _parse_follow_the_pain(counts)
    if problems:
        raise PlanError(*problems)
    return tuple(site for muscle in Muscle for site in _extra_sites(muscle, parsed.get(muscle, 0)))


def _fixed_sites(muscle: Muscle) -> tuple[InjectionSite, ...]:
    return tuple(InjectionSite(muscle, side) for side in FIXED_SITES[muscle])


def preempt_plan(
    *, follow_the_pain: Mapping[Muscle, int] | Mapping[str, int] | None = None, vial_units: int = 200
) -> InjectionPlan:
    """The PREEMPT plan: 31 fixed sites (155 U) plus the requested follow-the-pain sites, from one vial size.

    Sites are grouped by muscle in PREEMPT order; within a muscle the fixed sites come left then right, followed
    by that muscle's follow-the-pain sites placed alternately left then right (Blumenfeld 2010; BOTOX PI, Chronic
    Migraine). ``vial_units`` is 100 or 200. Raises ``PlanError`` listing every problem with the request.
    """
    problems: list[str] = []
    vial_problem = _vial_problem(vial_units)
    if vial_problem is not None:
        problems.append(vial_problem)
    parsed, ftp_problems = _parse_follow_the_pain(follow_the_pain or {})
    problems.extend(ftp_problems)
    if problems:
        raise PlanError(*problems)
    sites = tuple(
        site for muscle in Muscle for site in (*_fixed_sites(muscle), *_extra_sites(muscle, parsed.get(muscle, 0)))
    )
    return plan_from_sites(sites, vial_units=vial_units)


def _fixed_site_problems(sites: Iterable[InjectionSite]) -> list[str]:
    """No muscle may have more fixed (not follow-the-pain) sites on a side than PREEMPT's (Blumenfeld 2010 Table
    1); sites listed at 0 U count, as they hold a fixed site's place. Fewer is a departure, not a refusal."""
    actual: Counter[tuple[Muscle, Side]] = Counter(
        (site.muscle, site.side) for site in sites if not site.follow_the_pain
    )
    problems = []
    for muscle in Muscle:
        expected = Counter(FIXED_SITES[muscle])
        for side in Side:
            count = actual[muscle, side]
            if count > expected[side]:
                problems.append(
                    FIXED_SITE_COUNT_MISMATCH.format(muscle=muscle, side=side, count=count, expected=expected[side])
                )
    return problems


def follow_the_pain_refusals(counts: Mapping[Muscle, int]) -> tuple[tuple[Muscle | None, str], ...]:
    """What ``plan_from_sites`` refuses in a session's follow-the-pain sites, given their count per muscle: extra
    sites in a muscle that takes none, more than a confirmed limit (temporalis 2, trapezius 4), each keyed by its
    muscle, and more than ``FOLLOW_THE_PAIN_MAX_TOTAL_SITES`` (8) in all, keyed by None (Blumenfeld 2010). A
    derived limit (``FOLLOW_THE_PAIN_DERIVED_LIMITS``: occipitalis) refuses nothing here: past it is a departure
    (``label_dose_departures``). Muscles in PREEMPT order; a count of 0 or less refuses nothing."""
    found: list[tuple[Muscle | None, str]] = []
    for muscle in Muscle:
        count = counts.get(muscle, 0)
        if count <= 0:
            continue
        if muscle not in FOLLOW_THE_PAIN_MAX_SITES:
            found.append((muscle, FTP_NOT_ALLOWED.format(muscle=muscle)))
        elif muscle not in FOLLOW_THE_PAIN_DERIVED_LIMITS:
            problem = _follow_the_pain_problem(muscle, count)
            if problem is not None:
                found.append((muscle, problem))
    total = sum(count for count in counts.values() if count > 0)
    if total > FOLLOW_THE_PAIN_MAX_TOTAL_SITES:
        found.append(
            (
                None,
                FTP_TOTAL_LIMIT.format(
                    limit=FOLLOW_THE_PAIN_MAX_TOTAL_SITES,
                    limit_units=FOLLOW_THE_PAIN_MAX_TOTAL_SITES * UNITS_PER_SITE,
                    max_sites=MAX_SESSION_SITES,
                    count=total,
                ),
            )
        )
    return tuple(found)


def plan_from_sites(sites: Iterable[InjectionSite], *, vial_units: int = 200) -> InjectionPlan:
    """Check a clinician-edited plan, or a session as given, against PREEMPT and return it; site order is kept.

    Rules (Blumenfeld et al., Headache 2010;50:1406-18; BOTOX PI, Chronic Migraine):
    - no muscle has more fixed (non follow-the-pain) sites on a side than the 31-site paradigm's;
    - follow-the-pain sites only in temporalis (at most 2), occipitalis and trapezius (at most 4), on either side,
      at most ``FOLLOW_THE_PAIN_MAX_TOTAL_SITES`` (8) in all, so at most ``MAX_SESSION_SITES`` (39) sites
      (``follow_the_pain_refusals``);
    - the session totals at most ``MAX_SESSION_UNITS`` (195 U), and gives at least one site.
    Fewer fixed sites than the paradigm's, missing or listed at 0 U (a site not given: the patient fainted), are
    accepted and named in ``InjectionPlan.not_given``: like units per site other than the label's 5 U and more
    than 2 extra occipitalis sites (a limit derived from the 40 U cap, not stated: ``FOLLOW_THE_PAIN_DERIVED_LIMITS``),
    they are recorded as given and reported by ``label_dose_departures``, which a recorder overrides with a reason.
    A plan made ahead (``preempt_plan``) keeps within the occipitalis limit too. Each site's volume must match its
    units at 5 U per 0.1 mL. Raises ``PlanError`` listing every problem.
    """
    listed = tuple(sites)
    problems: list[str] = []
    vial_problem = _vial_problem(vial_units)
    if vial_problem is not None:
        problems.append(vial_problem)
    not_sites = [
        SITE_NOT_A_SITE.format(index=index, value=site)
        for index, site in enumerate(listed, start=1)
        if not isinstance(site, InjectionSite)
    ]
    if not_sites:
        raise PlanError(*problems, *not_sites)
    problems.extend(_fixed_site_problems(listed))
    extra = Counter(site.muscle for site in listed if site.follow_the_pain)
    problems.extend(problem for _, problem in follow_the_pain_refusals(extra))
    given = [site for site in listed if site.units]
    total = sum(site.units for site in given)
    if not given:
        problems.append(NO_SITE_GIVEN)
    if total > MAX_SESSION_UNITS:
        problems.append(DOSE_LIMIT.format(total=total, sites=len(given), limit=MAX_SESSION_UNITS))
    if problems:
        raise PlanError(*problems)
    return InjectionPlan(listed, vial_units)
