"""A clinician records a full PREEMPT session with one follow-the-pain site on a desktop and sees the next date."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from onaboard.web.accounts.models import User
from onaboard.web.injections.models import InjectionSession, SessionStatus
from onaboard.web.patients.models import SAFETY_FLAGS, Patient
from tests.e2e.browsing import Browsing, tab_until_focused
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
