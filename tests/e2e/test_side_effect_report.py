"""A side effect a patient reports on a phone reaches the clinician's patient page on a desktop."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Route, expect

from onaboard.web.injections.models import SessionStatus, SideEffect
from tests.e2e.browsing import Browsing, tab_until_focused, tap_choice
from tests.web.conftest import World
from tests.web.factories import InjectionSessionFactory

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _treated(world: World) -> None:
    """A session recorded for the patient 14 days ago: the report form is for side effects after one."""
    day = timezone.localdate() - timedelta(days=14)
    InjectionSessionFactory(patient=world.own_patient, date=day, status=SessionStatus.RECORDED, total_units=155)


def test_a_side_effect_reported_on_a_phone_appears_on_the_clinicians_patient_page(
    browsing: Browsing, world: World
) -> None:
    """A patient reports a drooping eyelid from their phone two weeks after a session; the clinician sees it, not
    yet reviewed and attributed to that session, on the patient's page."""
    today = timezone.localdate()
    session = InjectionSessionFactory(
        patient=world.own_patient, date=today - timedelta(days=14), status=SessionStatus.RECORDED, total_units=155
    )
    onset = today - timedelta(days=3)

    phone = browsing.open("phone")
    browsing.sign_in(phone, "patient")
    with phone.expect_navigation():
        phone.get_by_role("navigation", name="Main").get_by_role("link", name="Side effect").tap()
    expect(phone.get_by_role("heading", name="Report a side effect")).to_be_visible()
    send = phone.get_by_role("button", name="Send to the clinic")
    tab_until_focused(phone, send)
    browsing.shot(phone, "report-form")

    tap_choice(phone, "radio", "Drooping eyelid")
    phone.get_by_label("When did it start?").fill(onset.isoformat())
    tap_choice(phone, "radio", "Moderate")
    phone.get_by_label("Anything else we should know?").fill("My left eyelid droops by the evening.")
    browsing.shot(phone, "report-filled")
    with phone.expect_navigation():
        send.tap()
    expect(phone.locator("main")).to_contain_text("Drooping eyelid", ignore_case=True)
    browsing.shot(phone, "report-sent")

    reported = SideEffect.objects.get(patient=world.own_patient)
    assert (reported.kind, reported.onset, reported.severity) == ("eyelid_ptosis", onset, "moderate")
    assert reported.reported_by == world.users["patient"]
    assert reported.clinician_grade == ""
    assert reported.session == session

    desktop = browsing.open("desktop")
    browsing.sign_in(desktop, "clinician")
    to_review = desktop.get_by_role("region", name="Side effects to review")
    expect(to_review).to_contain_text("Drooping eyelid")
    expect(to_review).to_contain_text("Own, Pat")
    with desktop.expect_navigation():
        desktop.locator("#worklist-groups").get_by_role("link", name="Own, Pat").click()
    side_effects = desktop.get_by_role("region", name="Side effects")
    expect(side_effects).to_contain_text("Drooping eyelid")
    expect(side_effects).to_contain_text(onset.isoformat())
    expect(side_effects).to_contain_text("moderate")
    expect(side_effects).to_contain_text("not reviewed")
    expect(side_effects).to_contain_text(session.date.isoformat())
    side_effects.scroll_into_view_if_needed()
    browsing.shot(desktop, "patient-page-side-effect")
    browsing.shot_at_phone_width(desktop, "patient-page-side-effect")


def test_a_refused_report_on_a_phone_says_so_at_the_top_and_links_to_the_field(
    browsing: Browsing, world: World
) -> None:
    """ "Something else" sent without saying what happened comes back with the summary at the top, focused and on
    screen (the error by the field was about 1,900 px down a phone's page, with nothing said at the top); its link
    leads to the description."""
    _treated(world)
    phone = browsing.open("phone")
    browsing.sign_in(phone, "patient")
    phone.goto("/sessions/side-effects/report/")
    tap_choice(phone, "radio", "Something else")
    tap_choice(phone, "radio", "Mild")
    with phone.expect_navigation():
        phone.get_by_role("button", name="Send to the clinic").tap()
    summary = phone.get_by_role("group", name="Please check the answers marked below.")
    expect(summary).to_be_focused()
    expect(summary).to_be_in_viewport()
    browsing.shot(phone, "refused-summary")
    link = summary.get_by_role("link", name=re.compile("^Say in a few words what happened"))
    link.tap()
    expect(phone.get_by_label("Anything else we should know?")).to_be_in_viewport()
    expect(phone).to_have_url(re.compile("#id_description$"))
    assert not SideEffect.objects.exists()


WATCH_TAPS_JS = """
() => {
  const button = Array.from(document.querySelectorAll('main form button'))
    .find((b) => b.textContent.trim() === 'Send to the clinic');
  document.addEventListener('touchstart', () => console.log('tap ' + JSON.stringify(
    { disabled: button.disabled, busy: button.form.getAttribute('aria-busy') })), true);
}
"""
"""Report, at each touch, whether Send is disabled and its form busy (read in the page: while the answer is held
back, Playwright's own reads wait for the navigation)."""


def test_send_tapped_twice_on_a_slow_network_sends_one_report(browsing: Browsing, world: World) -> None:
    """Over a slow network (the answer held back) a second tap on "Send to the clinic" 300 ms after the first sends
    nothing more: at the second tap the button is disabled and the form busy; one report is stored and the patient
    lands on it. Back on the form, Send works again."""
    _treated(world)
    phone = browsing.open("phone")
    browsing.sign_in(phone, "patient")
    phone.goto("/sessions/side-effects/report/")
    held: list[Route] = []

    def slow(route: Route) -> None:
        if route.request.method == "POST":
            held.append(route)  # answered below, after the second tap
        else:
            route.continue_()

    phone.route("**/sessions/side-effects/report/", slow)
    taps: list[str] = []
    phone.on("console", lambda message: taps.append(message.text) if message.text.startswith("tap ") else None)
    tap_choice(phone, "radio", "Muscle aches")
    tap_choice(phone, "radio", "Mild")
    send = phone.get_by_role("button", name="Send to the clinic")
    send.scroll_into_view_if_needed()
    browsing.shot(phone, "filled")
    box = send.bounding_box()
    assert box is not None
    middle = (box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    phone.evaluate(WATCH_TAPS_JS)
    phone.touchscreen.tap(*middle)
    phone.wait_for_timeout(300)
    phone.touchscreen.tap(*middle)
    phone.wait_for_timeout(500)
    assert len(held) == 1, f"{len(held)} posts sent"
    assert taps == [
        'tap {"disabled":false,"busy":null}',
        'tap {"disabled":true,"busy":"true"}',
    ]

    held[0].continue_()
    expect(phone.get_by_role("heading", name="Your report was sent")).to_be_visible()
    browsing.shot(phone, "sent")
    assert SideEffect.objects.filter(patient=world.own_patient).count() == 1
    assert len(held) == 1

    phone.unroute("**/sessions/side-effects/report/")
    phone.go_back()
    expect(send).to_be_enabled()
    expect(phone.locator("form[aria-busy]")).to_have_count(0)
