"""Plain values for one patient's record as FHIR carries it: what the exporter reads and the importer returns.

Framework-free: the web app turns its rows into these and back. Diary days are the engine's ``DiaryDay``; the
``patient_id`` of every day is the patient's record number. ``key`` fields are the public UUIDs used as FHIR ids;
an import matches rows by their natural keys (record number, date, instrument ...) instead, so a Bundle can be
loaded into another clinic and loading it twice changes nothing.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from onaboard.clinical import (
    FIXED_SITES,
    MAX_SESSION_UNITS,
    UNITS_PER_0_1_ML,
    VOLUME_PER_SITE_ML,
    DiaryDay,
    InjectionPlan,
    InjectionSite,
    Muscle,
    PlanError,
    SafetyInput,
    Side,
    label_dose_departures,
    vials_for,
)
from onaboard.clinical.preempt import follow_the_pain_refusals

AFTER_TODAY = "{what} on {day} is after today ({today}): only what has happened is imported"
DOSE_ABOVE_LIMIT = "a session of {units} U is above {limit} U, the most a session holds (PREEMPT with follow-the-pain)"
SITES_TOTAL = "the sites add up to {sites} U, not the total of {total} U"
RECORDED_NEEDS = "a recorded session needs {what}"
VIALS_DO_NOT_MATCH = "{given} {what} do not match {total} U from {vial_units} U vials: that is {expected}"
SITE_REFUSED = "site {number} ({muscle} {side}, {units} U): {problem}"
SITE_NOT_GIVEN = (
    "a site at 0 U was not given: leave it out of the sites (the session then departs from the label and needs an "
    "override reason)"
)
TOO_MANY_FIXED_SITES = (
    "{muscle} {side} has {count} sites that are not follow-the-pain; PREEMPT has {expected} (mark the others as "
    "follow-the-pain)"
)
BAD_VIEW = "the map view must be {views} (got {value!r})"
OFF_THE_MAP = "{axis} must be a whole number from 0 to {size}, the site map's range (got {value!r})"
DEPARTURE_NOT_OVERRIDDEN = (
    "the doses depart from the label ({departures}): recording them needs an override reason, and none is given"
)

MAP_VIEWS: tuple[str, ...] = ("front", "back")
MAP_SIZE = 1000
"""The site map's views and its coordinate range (0..``MAP_SIZE`` on both axes), where a site's ``view``, ``x`` and
``y`` place it. They are the web app's (``onaboard.web.injections.sitemap.View`` and ``MAP_SIZE``), which this
framework-free module cannot import; ``tests/interop/test_records.py`` keeps the two equal."""

DEFAULT_VIAL_UNITS: int = next(f.default for f in dataclasses.fields(InjectionPlan) if f.name == "vial_units")
"""The vial size of a session that gives none (a booking; a sessions CSV row without one): the engine's own
default (``InjectionPlan``, ``preempt_plan``), not a copy of it."""

SAFETY_QUESTIONS: tuple[str, ...] = tuple(
    f.name
    for f in dataclasses.fields(SafetyInput)
    if f.name not in {"birth_date", "other_toxin_treatments", "answered_on"}
)
"""The yes/no questions of the safety screen (the engine's ``SafetyInput``), as a record's ``safety`` names them."""


def recorded_session_problems(
    *,
    day: dt.date | None,
    total_units: int | None,
    sites: Sequence[SiteRecord] | None,
    lot: str,
    expiry: dt.date | None,
    today: dt.date,
    vial_units: int = DEFAULT_VIAL_UNITS,
    vials_used: int | None = None,
    discarded_units: int | None = None,
    override_reason: str = "",
) -> list[tuple[str, str]]:
    """What keeps a recorded session read from a file (the sessions CSV or a Bundle) from being stored, as
    ``(what, message)`` with ``what`` one of ``lot``, ``expiry``, ``total_units``, ``sites``, ``date``,
    ``vial_units``, ``vials_used``, ``discarded_units``, or ``sites[i]`` for the ``i``-th (0-based) of ``sites``:
    a missing lot, expiry, total or sites (recording asks for each, and a session without them could not be written
    to the sessions CSV and read back), a day after ``today`` (a session to come is a booking), a total above
    ``MAX_SESSION_UNITS`` (recording allows no more), sites that do not add up to the total. ``sites`` None: the
    sites could not be read (a problem the reader reports), so they are neither required nor checked. Each site
    must be one the session page can show (``site_problems``: the engine's rules and the map's range), and doses
    that depart from the label (the engine's ``label_dose_departures``: sites not at 5 U, muscles above their
    maximum, fixed sites not given, extra occipitalis sites past their derived limit) need an ``override_reason``,
    as recording asks. A vial size the label does not have (``vial_units``), or vials used or units discarded other
    than the engine's for the total (``vials_for``; the procedure note and its claim lines come from them), is
    refused too. Each reader places the message at its own column or Bundle element."""
    problems = [
        (what, RECORDED_NEEDS.format(what=needed))
        for what, value, needed in (
            ("lot", lot.strip(), "a lot"),
            ("expiry", expiry, "an expiry date"),
            ("total_units", total_units is not None, "the total units"),
            ("sites", sites is None or bool(sites), "its sites"),
        )
        if not value
    ]
    if day is not None and day > today:
        problems.append(("date", AFTER_TODAY.format(what="a recorded session", day=day, today=today)))
    if total_units is not None and total_units > MAX_SESSION_UNITS:
        problems.append(("total_units", DOSE_ABOVE_LIMIT.format(units=total_units, limit=MAX_SESSION_UNITS)))
    if sites:
        units = sum(site.units for site in sites)
        if total_units is not None and units != total_units:
            problems.append(("sites", SITES_TOTAL.format(sites=units, total=total_units)))
        refused = site_problems(sites)
        problems.extend(("sites" if index is None else f"sites[{index}]", message) for index, message in refused)
        if not refused and not override_reason.strip():
            departures = label_dose_departures(InjectionPlan(tuple(_engine_site(site) for site in sites)))
            if departures:
                problems.append(("sites", DEPARTURE_NOT_OVERRIDDEN.format(departures="; ".join(departures))))
    problems.extend(_vial_problems(total_units, vial_units, vials_used, discarded_units))
    return problems


def _engine_site(site: SiteRecord) -> InjectionSite:
    """The engine's site for a record (its volume at the label's concentration, as the session pages build it);
    raises ``PlanError`` for a site the engine refuses."""
    units = site.units
    whole = isinstance(units, int) and not isinstance(units, bool) and units > 0
    volume = Decimal(units) * VOLUME_PER_SITE_ML / UNITS_PER_0_1_ML if whole else VOLUME_PER_SITE_ML
    return InjectionSite(site.muscle, site.side, units, volume, follow_the_pain=site.follow_the_pain)


def site_problems(sites: Sequence[SiteRecord]) -> list[tuple[int | None, str]]:
    """What keeps recorded sites from being shown by the session page, as ``(index, message)`` with ``index`` the
    site's place in ``sites`` (0-based): each site must be one the engine accepts (``InjectionSite``: procerus only
    at the midline, every other muscle left or right, at least 1 U), no muscle and side may have more sites that
    are not follow-the-pain than PREEMPT's fixed sites (``FIXED_SITES``), follow-the-pain sites only where and as
    many as recording allows (the engine's ``follow_the_pain_refusals``, said at a muscle's first extra site, or
    for the sites as a whole past 8 in all), and each site's map view and point must be on the site map
    (``MAP_VIEWS``, 0..``MAP_SIZE``). Fewer sites than the paradigm's are not refused here: a record holds what was
    given, and the fixed sites not given, like extra occipitalis sites past their derived limit of 2, are a
    departure from the label (``recorded_session_problems``). A fixed site at 0 U, which the engine takes as not
    given, is refused (``SITE_NOT_GIVEN``): a record lists the sites given, as the session page stores them."""
    problems: list[tuple[int | None, str]] = []
    fixed: Counter[tuple[Muscle, Side]] = Counter()
    extra: dict[Muscle, list[int]] = {}
    for index, site in enumerate(sites):
        found = []
        try:
            engine = _engine_site(site)
        except PlanError as refused:
            found.extend(refused.problems)
            engine = None
        if engine is not None and engine.units == 0:
            found.append(SITE_NOT_GIVEN)
            engine = None
        if site.view not in MAP_VIEWS:
            found.append(BAD_VIEW.format(views=" or ".join(MAP_VIEWS), value=site.view))
        for axis, value in (("x", site.x), ("y", site.y)):
            if value is not None and (
                isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAP_SIZE
            ):
                found.append(OFF_THE_MAP.format(axis=axis, size=MAP_SIZE, value=value))
        problems.extend((index, _site_message(index, site, problem)) for problem in found)
        if engine is None:
            continue
        if engine.follow_the_pain:
            extra.setdefault(engine.muscle, []).append(index)
            continue
        fixed[engine.muscle, engine.side] += 1
        expected = FIXED_SITES[engine.muscle].count(engine.side)
        if fixed[engine.muscle, engine.side] == expected + 1:  # said once, at the first site too many
            count = sum(
                1 for s in sites if (s.muscle, s.side) == (engine.muscle, engine.side) and not s.follow_the_pain
            )
            message = TOO_MANY_FIXED_SITES.format(
                muscle=engine.muscle.value, side=engine.side.value, count=count, expected=expected
            )
            problems.append((index, _site_message(index, site, message)))
    for muscle, problem in follow_the_pain_refusals({muscle: len(indexes) for muscle, indexes in extra.items()}):
        if muscle is None:
            problems.append((None, problem))
        else:
            index = extra[muscle][0]
            problems.append((index, _site_message(index, sites[index], problem)))
    return sorted(problems, key=lambda problem: -1 if problem[0] is None else problem[0])


def _site_message(index: int, site: SiteRecord, problem: str) -> str:
    return SITE_REFUSED.format(number=index + 1, muscle=site.muscle, side=site.side, units=site.units, problem=problem)


def _vial_problems(
    total_units: int | None, vial_units: int, vials_used: int | None, discarded_units: int | None
) -> list[tuple[str, str]]:
    try:
        vials, discarded = vials_for(total_units or 0, vial_units)
    except PlanError as refused:
        return [("vial_units", message) for message in refused.problems]
    if total_units is None:
        return []
    found = []
    for what, given, expected, words in (
        ("vials_used", vials_used, vials, "vials used"),
        ("discarded_units", discarded_units, discarded, "units discarded"),
    ):
        if given is not None and given != expected:
            message = VIALS_DO_NOT_MATCH.format(
                given=given, what=words, total=total_units, vial_units=vial_units, expected=expected
            )
            found.append((what, message))
    return found


@dataclass(frozen=True, slots=True)
class SiteRecord:
    """One injection: muscle, side and units, and where it was drawn on the map."""

    muscle: str
    side: str
    units: int
    follow_the_pain: bool = False
    view: str = "front"
    x: int | None = None
    y: int | None = None


@dataclass(frozen=True, slots=True)
class SessionRecord:
    """A treatment session: ``recorded`` (with product and sites), ``booked`` or ``cancelled``."""

    key: str
    date: dt.date
    status: str
    vial_units: int = DEFAULT_VIAL_UNITS
    vials_used: int | None = None
    total_units: int | None = None
    discarded_units: int | None = None
    lot: str = ""
    expiry: dt.date | None = None
    override_reason: str = ""
    overridden_checks: str = ""
    check_reasons: str = ""
    complications: str = ""
    sites: tuple[SiteRecord, ...] = ()


@dataclass(frozen=True, slots=True)
class QuestionnaireRecord:
    """A HIT-6 (six answers in item order) or MIDAS (q1..q5, a, b) response with the engine's total and band."""

    key: str
    instrument: str
    date: dt.date
    answers: tuple[str, ...] | tuple[tuple[str, int | None], ...]
    total: int
    category: str


@dataclass(frozen=True, slots=True)
class SideEffectRecord:
    key: str
    kind: str
    onset: dt.date
    severity: str
    description: str = ""
    clinician_grade: str = ""
    related_to_treatment: bool | None = None
    session_date: dt.date | None = None
    """The recorded session it is attributed to, by date (one recorded session per patient per day)."""


@dataclass(frozen=True, slots=True)
class PreventiveRecord:
    key: str
    drug: str
    drug_class: str
    start: dt.date
    stop: dt.date | None
    stop_reason: str
    dose: str = ""


@dataclass(frozen=True, slots=True)
class OtherToxinRecord:
    key: str
    date: dt.date
    product: str
    units: int
    indication: str = ""


@dataclass(frozen=True, slots=True)
class DecisionRecord:
    """A clinician's decision to continue or stop treatment (``continue`` or ``stop``), by whom (their name), why,
    and the engine's NICE TA260 verdict and reasons that day, which it followed or went against. Not imported: a
    decision is recorded by a clinician of the clinic holding the record, so an import reads it (without the NICE
    TA260 verdict) only to say in its summary that it was skipped."""

    key: str
    decided_on: dt.date
    decision: str
    reason: str
    decided_by: str
    nice_verdict: str
    nice_reasons: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ConditionRecord:
    """The engine's chronic-migraine verdict (ICHD-3 1.3) on ``as_of``, with its reasons. Export only: an import
    recomputes it from the diary."""

    as_of: dt.date
    reasons: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class PatientRecord:
    key: str
    record_number: str
    given_name: str
    family_name: str
    birth_date: dt.date
    sex: str | None
    """The record's sex; None when a Patient read from a Bundle gives no ``gender`` (the stored value is kept)."""
    safety: tuple[tuple[str, bool | None], ...] = ()
    """Each safety-screen question and its answer (None: not asked), in ``SAFETY_FLAGS`` order."""
    other_toxin_asked: bool | None = False
    """Whether other botulinum toxins were asked about; None when a Bundle's Patient does not say (kept as stored)."""
    diary: tuple[DiaryDay, ...] = ()
    sessions: tuple[SessionRecord, ...] = ()
    questionnaires: tuple[QuestionnaireRecord, ...] = ()
    side_effects: tuple[SideEffectRecord, ...] = ()
    preventives: tuple[PreventiveRecord, ...] = ()
    other_toxins: tuple[OtherToxinRecord, ...] = ()
    condition: ConditionRecord | None = field(default=None, compare=False)
    decisions: tuple[DecisionRecord, ...] = field(default=(), compare=False)
    """The decisions to continue or stop, oldest first: exported; read on import for its summary only (not
    compared, as ``condition``)."""
