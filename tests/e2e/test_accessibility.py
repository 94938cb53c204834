"""Every page, for every role, at phone and desktop width: axe-core finds no serious or critical violation.

The pages are not listed by hand: for each role the test signs in to the demo clinic and crawls every same-origin
link from the role's start page (``browsing.crawl``, one visit per page shape), so a page added later is checked
as soon as something links to it. Pages reached only through a form (an error state, a set-up step, a confirmation)
are added by ``FORM_STEPS``. Each page is checked at 1280 px, then at 390 px.

axe-core comes from the npm registry (``npm ci``; package.json pins it). What each role's crawl saw is written to
``test-artifacts/e2e/accessibility/<role>.txt``: pages, skipped links and every violation of any impact.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import Page

from onaboard.web.clinic.demo import PASSWORD, demo_clinic_load
from onaboard.web.patients.models import Patient
from tests.e2e.browsing import (
    AXE_JS,
    Browsing,
    CrawledPage,
    axe_violations,
    crawl,
    describe_violation,
    serious_violations,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]

WIDTHS = (1280, 390)
HEIGHT = 900
REPORTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "e2e" / "accessibility"

ROLES = {
    "anonymous": None,
    "patient": "patient8.demo",
    "clinician": "dr.demo",
    "nurse": "nurse.demo",
    "billing": "billing.demo",
    "admin": "admin.demo",
    "trainee": "trainee.demo",
}
"""The demo login each role crawls as (patient 8 has sessions, side effects and questionnaires to show)."""


def _wrong_password(page: Page) -> None:
    page.goto(reverse("accounts:login"))
    page.get_by_label("User name").fill("nobody")
    page.get_by_label("Password").fill("not the password")
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in").click()


def _two_step_set_up(page: Page) -> None:
    page.goto(reverse("accounts:otp_device_detail"))
    with page.expect_navigation():
        page.get_by_role("button", name="Set up two-step sign-in").click()
    page.get_by_label("6-digit code").fill("12")
    with page.expect_navigation():
        page.get_by_role("button", name="Confirm and turn on").click()


def _close_portal_unconfirmed(page: Page) -> None:
    page.goto(reverse("accounts:portal_close"))
    with page.expect_navigation():
        page.get_by_role("button", name="Close the portal account").click()


def _staff_close_portal_page(page: Page) -> None:
    patient = Patient.objects.get(record_number="DEMO-0008")
    page.goto(reverse("accounts:patient_portal_close", kwargs={"external_id": patient.external_id}))


def _empty_new_patient(page: Page) -> None:
    page.goto(reverse("patients:new"))
    with page.expect_navigation():  # the form is novalidate: the server answers with its errors
        page.locator("main form[method=post] button[type=submit]").first.click()


FORM_STEPS: dict[str, list[tuple[str, Callable[[Page], None]]]] = {
    "anonymous": [("sign-in refused", _wrong_password)],
    "patient": [("closing the portal, not confirmed", _close_portal_unconfirmed)],
    "clinician": [
        ("two-step set-up, wrong code", _two_step_set_up),
        ("closing a patient's portal", _staff_close_portal_page),
        ("new patient, nothing filled in", _empty_new_patient),
    ],
    "nurse": [("closing a patient's portal", _staff_close_portal_page)],
    "billing": [("two-step set-up, wrong code", _two_step_set_up)],
    "admin": [],
    "trainee": [],
}
"""Pages reached only by submitting a form: error states, a set-up step, a confirmation page."""


@pytest.fixture
def demo_clinic(transactional_db: None) -> None:
    demo_clinic_load(today=timezone.localdate())


@pytest.mark.parametrize("role", list(ROLES))
def test_every_page_has_no_serious_accessibility_violation(browsing: Browsing, demo_clinic: None, role: str) -> None:
    """Every page the role can reach (by links, and by the forms listed) has 0 serious or critical axe violations
    at 1280 px and at 390 px wide."""
    assert AXE_JS.exists(), f"{AXE_JS} is missing: run `npm ci` at the repository root"
    page = browsing.open("desktop")
    page.set_viewport_size({"width": WIDTHS[0], "height": HEIGHT})
    username = ROLES[role]
    if username is not None:
        browsing.sign_in(page, username, PASSWORD)
    failures: list[str] = []
    lines: list[str] = []

    def check(page: Page, crawled: CrawledPage) -> None:
        for width in WIDTHS:
            page.set_viewport_size({"width": width, "height": HEIGHT})
            violations = axe_violations(page)
            where = f"{role} {width}px {crawled.shape} ({crawled.url})"
            lines.extend(describe_violation(where, v) for v in violations)
            failures.extend(describe_violation(where, v) for v in serious_violations(violations))
        page.set_viewport_size({"width": WIDTHS[0], "height": HEIGHT})

    result = crawl(page, "/", base_url=browsing.base_url, visit=check)
    for name, step in FORM_STEPS[role]:
        step(page)
        check(page, CrawledPage(page.url, f"form: {name}", "form step"))

    REPORTS.mkdir(parents=True, exist_ok=True)
    (REPORTS / f"{role}.txt").write_text(
        f"{role}: {len(result.pages)} pages crawled, {len(FORM_STEPS[role])} form steps, "
        f"{len(failures)} serious or critical violation(s) at {WIDTHS} px\n\n"
        + "".join(f"page  {p.shape}  (from {p.found_on})\n" for p in result.pages)
        + "".join(f"skip  {shape}  ({why})\n" for shape, why in result.skipped.items())
        + "\n"
        + "\n".join(lines)
        + "\n",
        encoding="utf-8",
    )
    assert result.pages, f"{role}: the crawl found no page"
    assert not failures, f"{len(failures)} serious or critical accessibility violation(s):\n" + "\n".join(failures)
