"""Adding follow-the-pain sites on the session screen: "Add site" in place, a finger's tap in the crowded temporalis
area on a phone, and a recorded session's long words on a phone (injections/static/injections/session_map.js)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from onaboard.web.injections import sitemap
from onaboard.web.injections.models import InjectionSession, SessionStatus
from onaboard.web.patients.models import Patient
from tests.e2e import test_session_recording as recording
from tests.e2e.browsing import DEVICES, Browsing, assert_fits_phone
from tests.web.conftest import World

pytestmark = [pytest.mark.browser, pytest.mark.slow]

screened_patient = recording.screened_patient
BESIDE_SITE_JS = recording.BESIDE_SITE_JS
PHONE_390 = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True, "device_scale_factor": 3}
ADDED = (("trapezius", 1), ("temporalis", 1), ("temporalis", 2))
"""The extra sites the button adds on the right side, with their numbers there."""
EXPIRY = (timezone.localdate() + timedelta(days=365)).isoformat()
OLD_FINGER_GAP_PX = 18
"""A tap this far from a temporalis site's centre was refused under the fixed 22 px rule; on a phone the site's dot
is about 10 px in radius, so the tap is well clear of it."""


def test_add_site_adds_the_row_in_place_and_says_so_beside_the_button(
    browsing: Browsing, world: World, screened_patient: Patient
) -> None:
    """With JavaScript "Add site" loads no page: the row is added at 5 U, its dot drawn on the area's first default
    spot, the totals updated and the addition said beside the button, which keeps the focus; a third temporalis
    site is refused there with the engine's message. The sites are recorded on their default spots, as without
    JavaScript."""
    page = browsing.open("desktop")
    browsing.sign_in(page, "clinician")
    page.goto(reverse("injections:session_new", args=[screened_patient.external_id]))
    page.evaluate("() => { window.stillHere = true; }")
    added_status = page.locator("[data-add-status]")
    button = page.get_by_role("button", name="Add site", exact=True)

    page.get_by_label("Muscle", exact=True).select_option("trapezius")
    page.get_by_label("Side", exact=True).select_option("right")
    button.click()
    expect(added_status).to_have_text("Added: trapezius right, extra site 1, 5 U")
    expect(page.locator("#ftp-rows [data-ftp-row]")).to_have_count(1)
    expect(page.locator("input[name='ftp-0-units']")).to_have_value("5")
    expect(page.locator("input[name='ftp-0-x']")).to_have_value("")
    expect(page.locator("#plan-summary")).to_contain_text("160 U")
    spot = sitemap.follow_the_pain_default("trapezius", "right", 1)
    dot = page.locator("#session-map a.site.ftp circle")
    expect(dot).to_have_attribute("cx", str(spot.x))
    expect(dot).to_have_attribute("cy", str(spot.y))
    expect(button).to_be_focused()
    assert page.evaluate("() => window.stillHere === true"), "Add site loaded a page"

    page.get_by_label("Muscle", exact=True).select_option("temporalis")
    for number in (1, 2):
        button.click()
        expect(added_status).to_have_text(f"Added: temporalis right, extra site {number}, 5 U")
    button.click()
    expect(added_status).to_contain_text("temporalis allows at most 2 extra sites")
    expect(page.locator("#ftp-rows [data-ftp-row]")).to_have_count(3)
    browsing.shot(page, "added-with-the-button")

    page.get_by_label("Product lot").fill(recording.LOT)
    page.get_by_label("Product expiry").fill(EXPIRY)
    with page.expect_navigation():
        page.get_by_role("button", name="Record session").click()
    session = InjectionSession.objects.get(patient=screened_patient, status=SessionStatus.RECORDED)
    extra = session.sites.filter(follow_the_pain=True).order_by("pk")
    spots = [sitemap.follow_the_pain_default(muscle, "right", number) for muscle, number in ADDED]
    assert [(site.muscle, site.x, site.y) for site in extra] == [
        (muscle, spot.x, spot.y) for (muscle, _number), spot in zip(ADDED, spots, strict=True)
    ]


def test_a_tap_in_the_temporalis_area_clear_of_the_dots_adds_a_site_on_a_phone(
    browsing: Browsing, screened_patient: Patient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On a 390 px phone a finger's tap in the temporalis area 18 px from a fixed site's centre, clear of its dot,
    adds a follow-the-pain site there (a fixed 22 px rule refused almost every tap in that crowded area)."""
    monkeypatch.setitem(DEVICES, "phone-390", PHONE_390)
    page = browsing.open("phone-390")
    browsing.sign_in(page, "clinician")
    page.goto(reverse("injections:session_new", args=[screened_patient.external_id]))
    radius = page.locator("#session-map a.site[data-key='temporalis-left-2'] circle").bounding_box()["width"] / 2
    assert radius * 1.5 < OLD_FINGER_GAP_PX
    spot = page.evaluate(BESIDE_SITE_JS, ["temporalis-left-2", OLD_FINGER_GAP_PX])
    assert spot is not None, "no spot in the temporalis area 18 px beside temporalis left 2"
    page.touchscreen.tap(spot["x"], spot["y"])
    expect(page.locator("[data-map-status]")).to_have_text("Added: temporalis left, extra site 1, 5 U")
    expect(page.locator("#ftp-rows [data-ftp-row]")).to_have_count(1)
    expect(page.locator("input[name='ftp-0-x']")).not_to_have_value("")
    browsing.shot(page, "tap-in-temporalis")


def test_a_session_with_long_words_fits_a_phone(
    browsing: Browsing, world: World, screened_patient: Patient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A session recorded with a 40-character lot and complications and an override reason typed as one long word
    does not make its page scroll sideways on a phone."""
    long_word = "Vasovagalepisodeafterthesecondtrapeziussite" * 3
    page = browsing.open("phone")
    browsing.sign_in(page, "clinician")
    page.goto(reverse("injections:session_new", args=[screened_patient.external_id]))
    page.get_by_label("Product lot").fill("L" * 40)
    page.get_by_label("Product expiry").fill(EXPIRY)
    page.locator("input[name='units_trapezius-right-3']").fill("0")
    page.get_by_label("Complications during the session").fill(long_word)
    page.get_by_label("Reason for overriding a failed check").fill(long_word)
    with page.expect_navigation():
        page.get_by_role("button", name="Record session").click()
    expect(page.get_by_text("Checks overridden")).to_be_visible()
    assert_fits_phone(page)
    browsing.shot(page, "long-words")
