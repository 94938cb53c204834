"""The session screen's map script takes the label's units per site from the page, never from its own copy."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from onaboard.clinical import Muscle
from onaboard.web.injections import sitemap, views
from tests.e2e.browsing import Browsing
from tests.e2e.test_session_recording import click_in_region
from tests.web.conftest import World

pytestmark = [pytest.mark.browser, pytest.mark.slow]

NONSTANDARD = re.compile(r"\bnonstandard\b")
OTHER_UNITS_PER_SITE = 6
"""Not the engine's 5 U, so a script that still wrote 5 itself would show it."""


def test_the_map_gives_an_added_site_and_marks_doses_by_the_engines_units_per_site(
    browsing: Browsing, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With the page saying 6 U per site, a site added on the map gets 6 U (field, dot and announcement), a fixed
    site typed at 6 U is not marked as off the label's dose and one typed at 5 U is."""
    monkeypatch.setattr(views, "UNITS_PER_SITE", OTHER_UNITS_PER_SITE)
    units = str(OTHER_UNITS_PER_SITE)
    page = browsing.open("desktop")
    browsing.sign_in(page, "clinician")
    page.goto(reverse("injections:session_new", args=[world.own_patient.external_id]))
    expect(page.locator("#session-form")).to_have_attribute("data-units-per-site", units)

    side = click_in_region(page, "temporalis")
    added = page.locator("#session-map a.site.ftp")
    expect(added).to_have_count(1)
    expect(added.locator("text")).to_have_text(units)
    expect(added).not_to_have_class(NONSTANDARD)
    expect(page.locator("input[name='ftp-0-units']")).to_have_value(units)
    place = f"temporalis {side}, extra site 1"
    expect(page.locator("[data-map-status]")).to_have_text(f"Added: {place}, {units} U")
    expect(added).to_have_attribute("aria-label", f"{place}, {units} U")

    field = page.locator("#site-temporalis-left-1 input.units")
    fixed = page.locator("#session-map a.site[data-key='temporalis-left-1']")
    field.fill(units)
    expect(fixed).not_to_have_class(NONSTANDARD)
    expect(fixed.locator("text")).to_have_text(units)
    field.fill("5")
    expect(fixed).to_have_class(NONSTANDARD)


def test_a_third_occipitalis_site_clicked_on_the_map_is_added_and_said_to_need_a_reason(
    browsing: Browsing, world: World
) -> None:
    """Recording's limits, not the planner's: a third extra occipitalis site clicked on the map is added (occipitalis's
    limit of 2 is derived, not stated), and the announcement says recording it needs a reason for overriding; the
    first two say nothing of it. A third temporalis site is still refused with the engine's message."""
    page = browsing.open("desktop")
    browsing.sign_in(page, "clinician")
    page.goto(reverse("injections:session_new", args=[world.own_patient.external_id]))
    status = page.locator("[data-map-status]")
    added = page.locator("#session-map a.site.ftp")
    derived = views.derived_limit_message(Muscle.OCCIPITALIS)
    for count in (1, 2, 3):
        click_in_region(page, "occipitalis")
        expect(added).to_have_count(count)
        expect(status).to_contain_text("Added: occipitalis")
        if count < 3:
            expect(status).not_to_contain_text(derived)
    expect(status).to_contain_text(derived)
    expect(page.locator("#ftp-rows [data-ftp-row][data-muscle='occipitalis']")).to_have_count(3)
    browsing.shot(page, "third-occipitalis")

    for _ in range(3):
        click_in_region(page, "temporalis")
    expect(page.locator("#ftp-rows [data-ftp-row][data-muscle='temporalis']")).to_have_count(2)
    expect(status).to_have_text(sitemap.follow_the_pain_limit_message(Muscle.TEMPORALIS))
