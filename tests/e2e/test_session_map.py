"""The session screen's map script takes the label's units per site from the page, never from its own copy."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from onaboard.web.injections import views
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
