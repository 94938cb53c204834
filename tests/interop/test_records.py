"""The shared rules for a recorded session read from a file (onaboard/interop/fhir/records.py): sites the session
page can show, the site map's range, and doses departing from the label only with an override reason."""

from __future__ import annotations

import datetime as dt

from onaboard.clinical import preempt
from onaboard.interop.fhir import records
from onaboard.interop.fhir.records import SiteRecord, recorded_session_problems, site_problems
from onaboard.web.injections import sitemap

TODAY = dt.date(2026, 6, 1)


def _fixed_sites() -> list[SiteRecord]:
    """The 31 PREEMPT fixed sites at 5 U."""
    return [SiteRecord(muscle, side, 5) for muscle, sides in preempt.FIXED_SITES.items() for side in sides]


def _session(sites: list[SiteRecord], override_reason: str = "") -> list[tuple[str, str]]:
    return recorded_session_problems(
        day=TODAY,
        total_units=sum(site.units for site in sites),
        sites=sites,
        lot="C1",
        expiry=dt.date(2027, 1, 1),
        today=TODAY,
        override_reason=override_reason,
    )


def _site(number: int, site: SiteRecord, problem: str) -> str:
    return records.SITE_REFUSED.format(
        number=number, muscle=site.muscle, side=site.side, units=site.units, problem=problem
    )


def test_the_map_range_is_the_web_site_maps():
    """The views and coordinate range checked here are the ones the session page's site map draws in."""
    assert records.MAP_SIZE == sitemap.MAP_SIZE
    assert tuple(view.value for view in sitemap.View) == records.MAP_VIEWS


def test_sites_the_engine_refuses_are_named_with_the_engines_reason():
    """Procerus on the left, trapezius at the midline and a -5 U site are refused with the engine's own message,
    each at its site (the session page raised these and answered 500); a 0 U site, which the engine takes as not
    given, is refused as a site the record should leave out."""
    sites = [
        SiteRecord("procerus", "left", 5),
        SiteRecord("trapezius", "midline", 5),
        SiteRecord("corrugator", "left", 0),
        SiteRecord("corrugator", "right", -5),
    ]
    assert site_problems(sites) == [
        (0, _site(1, sites[0], preempt.SITE_MIDLINE_ONLY.format(side="left"))),
        (1, _site(2, sites[1], preempt.SITE_BILATERAL.format(muscle="trapezius", side="midline"))),
        (2, _site(3, sites[2], records.SITE_NOT_GIVEN)),
        (3, _site(4, sites[3], preempt.SITE_UNITS.format(units=-5))),
    ]


def test_more_sites_of_a_muscle_than_preempt_has_are_refused_at_the_first_too_many():
    """A third corrugator site on one side (PREEMPT has one) and extra sites where or beyond what the engine
    allows are refused; fewer sites than the paradigm's are read (a record holds what was given)."""
    sites = [
        SiteRecord("corrugator", "left", 5),
        SiteRecord("corrugator", "left", 5),
        SiteRecord("corrugator", "left", 5),
        SiteRecord("procerus", "midline", 5, follow_the_pain=True),
    ]
    too_many = records.TOO_MANY_FIXED_SITES.format(muscle="corrugator", side="left", count=3, expected=1)
    assert site_problems(sites) == [
        (1, _site(2, sites[1], too_many)),
        (3, _site(4, sites[3], preempt.FTP_NOT_ALLOWED.format(muscle="procerus"))),
    ]
    extra = [SiteRecord("temporalis", "left", 5, follow_the_pain=True)] * 3
    assert site_problems(extra) == [
        (0, _site(1, extra[0], preempt.FTP_LIMIT.format(muscle="temporalis", limit=2, limit_units=10, count=3)))
    ]
    assert site_problems([SiteRecord("corrugator", "left", 5), SiteRecord("procerus", "midline", 5)]) == []


def test_a_site_off_the_map_is_refused():
    """A view other than front or back and a point outside 0..1000 are refused at the site (the view crashed the
    session page; a negative x answered 500 at the database)."""
    sites = [
        SiteRecord("procerus", "midline", 5, view="side"),
        SiteRecord("corrugator", "left", 5, x=-5, y=1001),
        SiteRecord("corrugator", "right", 5, x=0, y=1000),
    ]
    assert site_problems(sites) == [
        (0, _site(1, sites[0], records.BAD_VIEW.format(views="front or back", value="side"))),
        (1, _site(2, sites[1], records.OFF_THE_MAP.format(axis="x", size=1000, value=-5))),
        (1, _site(2, sites[1], records.OFF_THE_MAP.format(axis="y", size=1000, value=1001))),
    ]


def test_site_problems_are_located_by_the_session_rules():
    """recorded_session_problems names each refused site as sites[i], so each reader can place it."""
    sites = [SiteRecord("procerus", "midline", 5), SiteRecord("procerus", "left", 5)]
    assert _session(sites) == [("sites[1]", _site(2, sites[1], preempt.SITE_MIDLINE_ONLY.format(side="left")))]


def test_doses_departing_from_the_label_need_an_override_reason():
    """One 155 U site departs from the label's 5 U a site and from the muscle's maximum: as recording, it is read
    only with an override reason; the 31 fixed sites at 5 U need none."""
    sites = [SiteRecord("corrugator", "left", 155)]
    (problem,) = _session(sites)
    assert problem[0] == "sites"
    assert "; site dose: corrugator left has 1 of 1 sites not at the label's 5 U" in problem[1]
    assert problem[1].endswith(records.DEPARTURE_NOT_OVERRIDDEN.split("}", 1)[1])
    assert _session(sites, override_reason="agreed with the patient") == []
    assert _session(_fixed_sites()) == []


def test_a_session_that_left_a_fixed_site_out_needs_an_override_reason_as_on_the_session_page():
    """30 of the 31 fixed sites (150 U) are read only with an override reason, the departure naming the site not
    given in the engine's words the session page shows (``label_dose_departures``)."""
    sites = _fixed_sites()[:-1]
    departure = "PREEMPT: 1 fixed site not given (trapezius right 3): 150 U at 30 sites"
    assert _session(sites) == [("sites", records.DEPARTURE_NOT_OVERRIDDEN.format(departures=departure))]
    assert _session(sites, override_reason="the patient fainted") == []


def _extra_sites(**counts: int) -> list[SiteRecord]:
    """``counts`` extra 5 U follow-the-pain sites per muscle, alternately left and right."""
    sides = ("left", "right")
    return [
        SiteRecord(muscle, sides[i % 2], 5, follow_the_pain=True)
        for muscle, count in counts.items()
        for i in range(count)
    ]


def test_extra_occipitalis_sites_past_the_derived_limit_are_a_departure_read_with_an_override_reason():
    """31 fixed sites, 3 extra occipitalis and 2 extra trapezius (180 U) are sites the session page can show: the
    occipitalis limit of 2 is derived, not stated (Blumenfeld 2010), so, as when recording, the record is read only
    with an override reason, the departure in the engine's words."""
    sites = [*_fixed_sites(), *_extra_sites(occipitalis=3, trapezius=2)]
    assert site_problems(sites) == []
    plan = preempt.InjectionPlan(tuple(records._engine_site(site) for site in sites))
    (departure,) = preempt.label_dose_departures(plan)
    assert departure.startswith("follow-the-pain: occipitalis has 3 extra sites")
    assert _session(sites) == [("sites", records.DEPARTURE_NOT_OVERRIDDEN.format(departures=departure))]
    assert _session(sites, override_reason="pain mostly at the back of the head") == []


def test_extra_sites_past_a_confirmed_limit_or_8_in_all_are_refused_even_with_a_reason():
    """A third extra temporalis site is refused at the first temporalis extra site whatever the reason; 9 extra
    sites in all (7 occipitalis, 2 temporalis; PREEMPT adds at most 8, 39 sites a session) are refused for the
    sites as a whole."""
    temporalis = [*_fixed_sites(), *_extra_sites(temporalis=3)]
    limit = preempt.FTP_LIMIT.format(muscle="temporalis", limit=2, limit_units=10, count=3)
    assert site_problems(temporalis) == [(31, _site(32, temporalis[31], limit))]
    assert _session(temporalis, override_reason="agreed") == [("sites[31]", _site(32, temporalis[31], limit))]
    many = [*_fixed_sites()[2:], *_extra_sites(occipitalis=7, temporalis=2)]
    total = preempt.FTP_TOTAL_LIMIT.format(limit=8, limit_units=40, max_sites=39, count=9)
    assert site_problems(many) == [(None, total)]
    assert _session(many, override_reason="agreed") == [("sites", total)]
