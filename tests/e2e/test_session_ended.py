"""A session that ends while a page is open: the session screen's live totals say so in their box, with a link to
sign in, and an htmx search opens the sign-in page, instead of either showing the sign-in page inside the page; the
sign-in page then still says why."""

from __future__ import annotations

import html
import re

import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.urls import reverse
from playwright.sync_api import Page, expect

from onaboard.web.accounts.middleware import SEEN_AT_KEY, SIGN_IN_AGAIN, SIGNED_OUT_SCRIPTED
from onaboard.web.accounts.views import SESSION_EXPIRED, SESSION_EXPIRED_UNSAVED
from tests.e2e.browsing import Browsing
from tests.e2e.test_session_recording import click_in_region, screened_patient  # noqa: F401  (fixture)
from tests.web.conftest import World
from tests.web.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def end_session(page: Page, *, idle_seconds: int = 31 * 60) -> None:
    """As if the browser had been left ``idle_seconds``: the stored session's last activity moves back."""
    cookie = next(cookie for cookie in page.context.cookies() if cookie["name"] == "sessionid")
    session = SessionStore(session_key=cookie["value"])
    session[SEEN_AT_KEY] -= idle_seconds
    session.save()


def expected_401(browsing: Browsing, path: str) -> None:
    """Drop the one error the pages were expected to report: Chromium logs each 4xx answer to a script in the
    console, and the totals of an ended session are answered 401 by design (accounts/middleware.py)."""
    expected = re.compile(
        r"console error: Failed to load resource: the server responded with a status of 401 \(Unauthorized\) "
        rf"\({{'url': 'http://[^/]+{re.escape(path)}'"
    )
    found = [problem for problem in browsing.problems if expected.search(problem)]
    assert found, f"no 401 from {path} was reported: {browsing.problems}"
    browsing.problems[:] = [problem for problem in browsing.problems if problem not in found]


def test_the_live_totals_of_an_ended_session_say_so_and_link_to_sign_in(
    browsing: Browsing,
    world: World,
    screened_patient,  # noqa: F811  (the fixture imported above)
) -> None:
    """After the session ends, a site clicked on the map asks for the totals: the summary box says the user was
    signed out and nothing was saved, with a link to sign in, not the sign-in page pasted in; the link leads to the
    sign-in page saying why, and signing in comes back to the session screen."""
    page = browsing.open("desktop")
    browsing.sign_in(page, "nurse")
    screen = reverse("injections:session_new", args=[screened_patient.external_id])
    page.goto(screen)
    summary = page.locator("[data-plan-summary]")
    expect(summary).to_contain_text("155 U")

    end_session(page)
    click_in_region(page, "temporalis")
    expect(summary).to_contain_text(str(SIGNED_OUT_SCRIPTED))
    expect(summary.locator("form, input[name='password']")).to_have_count(0)
    browsing.shot(page, "signed-out-in-the-totals")
    expected_401(browsing, screen)

    summary.get_by_role("link", name=str(SIGN_IN_AGAIN)).click()
    expect(page.locator(".messages")).to_contain_text(html.unescape(str(SESSION_EXPIRED_UNSAVED["idle"])))
    browsing.shot(page, "sign-in-says-why")
    page.get_by_label("User name").fill("nurse")
    page.get_by_label("Password").fill(PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(re.escape(screen) + "$"))
    expect(page.locator("#session-form")).to_be_visible()


def test_a_search_typed_after_the_session_ended_opens_the_sign_in_page_saying_why(
    browsing: Browsing, world: World
) -> None:
    """The worklist's search (htmx) after the session ends opens the sign-in page, which says why, rather than
    pasting it into the list; signing in comes back to the worklist."""
    page = browsing.open("desktop")
    browsing.sign_in(page, "nurse")
    worklist = reverse("clinic:worklist")
    page.goto(worklist)
    end_session(page)
    page.get_by_label("Search by name or record number").fill("DEMO")
    expect(page).to_have_url(re.compile(re.escape(reverse("accounts:login"))))
    expect(page.locator(".messages")).to_contain_text(html.unescape(str(SESSION_EXPIRED["idle"])))
    browsing.shot(page, "sign-in-after-search")
    expected_401(browsing, f"{worklist}?q=DEMO")
    page.get_by_label("User name").fill("nurse")
    page.get_by_label("Password").fill(PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(re.escape(worklist)))
