"""A side effect a patient reports on a phone reaches the clinician's patient page on a desktop."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from onaboard.web.injections.models import SessionStatus, SideEffect
from tests.e2e.browsing import Browsing, tab_until_focused, tap_choice
from tests.web.conftest import World
from tests.web.factories import InjectionSessionFactory

pytestmark = [pytest.mark.browser, pytest.mark.slow]


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
