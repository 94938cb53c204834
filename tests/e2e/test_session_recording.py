"""A clinician records a full PREEMPT session with one follow-the-pain site on a desktop and sees the next date."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import Page, expect

from onaboard.web.accounts.models import User
from onaboard.web.injections.models import InjectionSession, SessionStatus
from onaboard.web.patients.models import SAFETY_FLAGS, Patient
from tests.e2e.browsing import DEVICES, Browsing, tab_until_focused
from tests.web.conftest import World

pytestmark = [pytest.mark.browser, pytest.mark.slow]

FIXED_SITES = 31
NEXT_SESSION_WEEKS = 12
LOT = "C1234AB"

FREE_POINT_IN_REGION_JS = """
(muscle) => {
  for (const region of document.querySelectorAll(`#session-map .ftp-region[data-muscle="${muscle}"]`)) {
    region.scrollIntoView({ block: 'center' });
    const box = region.getBoundingClientRect();
    for (const fy of [0.5, 0.35, 0.65, 0.25, 0.75]) {
      for (const fx of [0.5, 0.3, 0.7, 0.2, 0.8]) {
        const x = box.left + box.width * fx, y = box.top + box.height * fy;
        if (document.elementFromPoint(x, y) === region) return { x, y, side: region.dataset.side };
      }
    }
  }
  return null;
}
"""


@pytest.fixture
def screened_patient(world: World) -> Patient:
    """The patient with every safety-screen question answered "no", so recording needs no override."""
    patient = world.own_patient
    for flag in SAFETY_FLAGS:
        setattr(patient, flag, False)
    patient.other_toxin_asked = True
    patient.save()
    return patient


def click_in_region(page: Page, muscle: str) -> str:
    """Click a free spot (no site marker on it) inside a follow-the-pain area of ``muscle``; the side clicked."""
    spot = page.evaluate(FREE_POINT_IN_REGION_JS, muscle)
    assert spot is not None, f"no free spot to click in the {muscle} area of the map"
    page.mouse.click(spot["x"], spot["y"])
    return spot["side"]


def assert_stored(patient: Patient, injector: User, *, day: date, expiry: date, side: str) -> None:
    """The database holds the recorded session with its 32 sites, and the next session booked 12 weeks on."""
    session = InjectionSession.objects.get(patient=patient, status=SessionStatus.RECORDED)
    assert (session.date, session.total_units, session.injector) == (day, 160, injector)
    assert (session.product_lot, session.product_expiry) == (LOT, expiry)
    assert session.sites.count() == FIXED_SITES + 1
    extra = session.sites.get(follow_the_pain=True)
    assert (extra.muscle, extra.side, extra.units, extra.view) == ("temporalis", side, 5, "front")
    assert extra.x is not None
    assert extra.y is not None
    booked = InjectionSession.objects.get(patient=patient, status=SessionStatus.BOOKED)
    assert booked.date == day + timedelta(weeks=NEXT_SESSION_WEEKS)


def test_a_clinician_records_a_session_with_a_follow_the_pain_site(
    browsing: Browsing, world: World, screened_patient: Patient
) -> None:
    """From the patient page, 31 PREEMPT sites plus one clicked temporalis site are recorded as 160 U at 32 sites,
    and the next session is booked 12 weeks later."""
    today = timezone.localdate()
    expiry = today + timedelta(days=365)
    page = browsing.open("desktop")
    browsing.sign_in(page, "clinician")
    browsing.shot(page, "worklist")
    browsing.shot_at_phone_width(page, "worklist")

    with page.expect_navigation():
        page.get_by_role("link", name="Own, Pat").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Pat")
    browsing.shot(page, "patient-page")
    browsing.shot_at_phone_width(page, "patient-page")

    with page.expect_navigation():
        page.get_by_role("link", name="Record a session").click()
    record = page.get_by_role("button", name="Record session")
    tab_until_focused(page, record, limit=200)
    sites, summary = page.locator("#session-map a.site"), page.locator("#plan-summary")
    expect(sites).to_have_count(FIXED_SITES)
    expect(page.locator("#session-map a.site.ftp")).to_have_count(0)
    expect(summary).to_contain_text("155 U")
    browsing.shot(page, "session-screen")
    browsing.shot_at_phone_width(page, "session-screen")

    side = click_in_region(page, "temporalis")
    expect(sites).to_have_count(FIXED_SITES + 1)
    expect(page.locator("#session-map a.site.ftp")).to_have_count(1)
    expect(page.locator("#ftp-rows [data-ftp-row]")).to_have_count(1)
    expect(page.locator("#ftp-rows")).to_contain_text("temporalis", ignore_case=True)
    expect(summary).to_contain_text("160 U")
    expect(summary).to_contain_text("32")
    browsing.shot(page, "follow-the-pain-added")

    page.get_by_label("Product lot").fill(LOT)
    page.get_by_label("Product expiry").fill(expiry.isoformat())
    browsing.shot(page, "product-entered")
    with page.expect_navigation():
        record.click()

    next_date = today + timedelta(weeks=NEXT_SESSION_WEEKS)
    expect(page.get_by_text(f"Session recorded. Next session booked for {next_date.isoformat()}")).to_be_visible()
    expect(page.get_by_text("160 U").first).to_be_visible()
    expect(page.locator("#detail-map a.site")).to_have_count(FIXED_SITES + 1)
    expect(page.locator("#detail-map a.site.ftp")).to_have_count(1)
    browsing.shot(page, "session-recorded")
    browsing.shot_at_phone_width(page, "session-recorded")
    assert_stored(screened_patient, world.users["clinician"], day=today, expiry=expiry, side=side)


# --- On a tablet ---------------------------------------------------------------------------------------------------

TABLETS = {
    "tablet-portrait": {"width": 768, "height": 1024},
    "tablet-landscape": {"width": 1024, "height": 768},
}
FINGER_PX = 22
"""The farthest from a site's centre a finger's tap is taken as meant for the site (session_map.js)."""
NEAR_DOT_RADII = 1.5
"""Within a shaded area, a finger's tap within this many of the dot's drawn radii is meant for it (session_map.js)."""
MIN_DOT_PX = 20
MIN_FIGURE_PX = 11
TOO_CLOSE = (
    "Not added: too close to {place}. Tap further from the site, zoom in, or use “Add a follow-the-pain site” below."
)
ADDED = "Added: {place}, 5 U"

BESIDE_SITE_JS = """
([key, gap]) => {
  const link = document.querySelector(`#session-map a.site[data-key="${key}"]`);
  link.scrollIntoView({ block: 'center' });
  const centreOf = (dot) => {
    const box = dot.getBoundingClientRect();
    return { x: box.left + box.width / 2, y: box.top + box.height / 2, radius: box.width / 2 };
  };
  const site = centreOf(link.querySelector('circle'));
  const others = Array.from(link.ownerSVGElement.querySelectorAll('a.site circle'))
    .filter((dot) => dot.closest('a.site') !== link).map(centreOf);
  for (let degrees = 0; degrees < 360; degrees += 10) {
    const x = site.x + gap * Math.cos(degrees * Math.PI / 180), y = site.y + gap * Math.sin(degrees * Math.PI / 180);
    const nearest = Math.min(...others.map((other) => Math.hypot(other.x - x, other.y - y)));
    if (document.elementFromPoint(x, y).classList.contains('ftp-region') && nearest > gap + 2) {
      return { x, y, radius: site.radius };
    }
  }
  return null;
}
"""

FAR_FROM_SITES_JS = """
([muscle, reach]) => {
  for (const region of document.querySelectorAll(`#session-map .ftp-region[data-muscle="${muscle}"]`)) {
    region.scrollIntoView({ block: 'center' });
    const box = region.getBoundingClientRect();
    const centres = Array.from(region.ownerSVGElement.querySelectorAll('a.site circle')).map((dot) => {
      const b = dot.getBoundingClientRect();
      return { x: b.left + b.width / 2, y: b.top + b.height / 2 };
    });
    for (let fy = 0.05; fy < 0.96; fy += 0.02) {
      for (let fx = 0.05; fx < 0.96; fx += 0.02) {
        const x = box.left + box.width * fx, y = box.top + box.height * fy;
        const clear = centres.every((c) => Math.hypot(c.x - x, c.y - y) > reach);
        if (clear && document.elementFromPoint(x, y) === region) return { x, y, side: region.dataset.side };
      }
    }
  }
  return null;
}
"""

SITE_SIZES_JS = """
(map) => Array.from(document.querySelectorAll(`${map} a.site`)).map((link) => {
  const text = link.querySelector('text');
  return {
    key: link.dataset.key,
    dot: link.querySelector('circle').getBoundingClientRect().width,
    figure: parseFloat(getComputedStyle(text).fontSize) * link.ownerSVGElement.getScreenCTM().a,
  };
})
"""


def assert_finger_sized(sizes: list[dict[str, float]]) -> None:
    """Each of the 31 sites' dots is at least 20 px across and its units figure at least 11 px high."""
    assert len(sizes) == FIXED_SITES
    small = [size for size in sizes if size["dot"] < MIN_DOT_PX or size["figure"] < MIN_FIGURE_PX]
    assert small == [], small[:3]


def open_tablet(browsing: Browsing, monkeypatch: pytest.MonkeyPatch, tablet: str) -> Page:
    """A touch screen the size of an iPad (``tablet-portrait`` or ``tablet-landscape``), signed in as a clinician."""
    device = {"viewport": TABLETS[tablet], "is_mobile": True, "has_touch": True, "device_scale_factor": 2}
    monkeypatch.setitem(DEVICES, tablet, device)
    page = browsing.open(tablet)
    browsing.sign_in(page, "clinician")
    return page


@pytest.mark.parametrize("tablet", list(TABLETS))
def test_a_tap_beside_a_fixed_site_on_a_tablet_adds_no_follow_the_pain_site(
    browsing: Browsing, screened_patient: Patient, monkeypatch: pytest.MonkeyPatch, tablet: str
) -> None:
    """On a tablet a tap in a shaded area just off a fixed site's dot (within half its radius of its edge) adds
    nothing and says it was too close, and a tap in the area away from every site adds one."""
    page = open_tablet(browsing, monkeypatch, tablet)
    page.goto(reverse("injections:session_new", args=[screened_patient.external_id]))
    extra_rows, total_forms = page.locator("#ftp-rows [data-ftp-row]"), page.locator("input[name='ftp-TOTAL_FORMS']")
    status, summary = page.locator("[data-map-status]"), page.locator("#plan-summary")
    expect(summary).to_contain_text("155 U")

    radius = page.locator("#session-map a.site[data-key='temporalis-left-2'] circle").bounding_box()["width"] / 2
    gap = min(FINGER_PX, NEAR_DOT_RADII * radius) - 2
    spot = page.evaluate(BESIDE_SITE_JS, ["temporalis-left-2", gap])
    assert spot is not None, "no spot in the temporalis area a few pixels beside temporalis left 2"
    assert spot["radius"] * 1.1 < gap, "the tap beside the site must fall outside its dot and its outline"
    page.touchscreen.tap(spot["x"], spot["y"])
    expect(status).to_have_text(TOO_CLOSE.format(place="temporalis left 2, 5 U"))
    expect(total_forms).to_have_value("0")
    expect(extra_rows).to_have_count(0)
    expect(page.locator("#session-map a.site.ftp")).to_have_count(0)
    browsing.shot(page, "tap-too-close")

    free = page.evaluate(FAR_FROM_SITES_JS, ["trapezius", FINGER_PX + 1])
    assert free is not None, "no spot in a trapezius area a finger's width from every site"
    page.touchscreen.tap(free["x"], free["y"])
    expect(status).to_have_text(ADDED.format(place=f"trapezius {free['side']}, extra site 1"))
    expect(total_forms).to_have_value("1")
    expect(extra_rows).to_have_count(1)
    expect(page.locator("#session-map a.site.ftp")).to_have_count(1)
    expect(summary).to_contain_text("160 U")
    browsing.shot(page, "tap-added")


@pytest.mark.parametrize("tablet", list(TABLETS))
def test_a_tap_on_the_edge_of_a_sites_dot_selects_its_units_on_a_tablet(
    browsing: Browsing, screened_patient: Patient, monkeypatch: pytest.MonkeyPatch, tablet: str
) -> None:
    """On a tablet a tap 10 px from a fixed site's centre lands on its dot: the site's units field is selected and
    no follow-the-pain site is added."""
    page = open_tablet(browsing, monkeypatch, tablet)
    page.goto(reverse("injections:session_new", args=[screened_patient.external_id]))
    dot = page.locator("#session-map a.site[data-key='temporalis-left-2'] circle")
    dot.evaluate("(el) => el.scrollIntoView({ block: 'center' })")
    box = dot.bounding_box()
    assert box is not None
    page.touchscreen.tap(box["x"] + box["width"] / 2 + 10, box["y"] + box["height"] / 2)
    expect(page.locator("input[name='units_temporalis-left-2']")).to_be_focused()
    expect(page.locator("input[name='ftp-TOTAL_FORMS']")).to_have_value("0")


@pytest.mark.parametrize("tablet", list(TABLETS))
def test_the_site_map_is_finger_sized_on_a_tablet(
    browsing: Browsing, screened_patient: Patient, monkeypatch: pytest.MonkeyPatch, tablet: str
) -> None:
    """On a tablet, portrait or landscape, every site's dot is at least 20 px across and its units at least 11 px
    high, on the session screen and on the recorded session's page."""
    page = open_tablet(browsing, monkeypatch, tablet)
    page.goto(reverse("injections:session_new", args=[screened_patient.external_id]))
    assert_finger_sized(page.evaluate(SITE_SIZES_JS, "#session-map"))
    browsing.shot(page, "session-screen")

    page.get_by_label("Product lot").fill(LOT)
    page.get_by_label("Product expiry").fill((timezone.localdate() + timedelta(days=365)).isoformat())
    with page.expect_navigation():
        page.get_by_role("button", name="Record session").click()
    expect(page.locator("#detail-map a.site")).to_have_count(FIXED_SITES)
    assert_finger_sized(page.evaluate(SITE_SIZES_JS, "#detail-map"))
    browsing.shot(page, "session-recorded")
