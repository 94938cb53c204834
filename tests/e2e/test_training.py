"""Injector training in the browser: a trainee passes a quiz and the site trainer, joins a full live session's
waitlist, and a certificate's code is verified on the public page by someone not signed in."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from onaboard.web.accounts.models import Role
from onaboard.web.training import services
from onaboard.web.training.models import CaseAttempt, Certificate, Enrolment, QuizAttempt, SiteTrainerAttempt
from tests.e2e.browsing import Browsing
from tests.web.conftest import World
from tests.web.factories import UserFactory
from tests.web.training.conftest import (
    TREATED_SEED,
    engine_first_visit,
    engine_week24,
    exact_placements,
    ftp_placements,
    pass_all_modules,
    pass_cases,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SVG_TO_SCREEN_JS = """
([mapId, view, x, y]) => {
  const svg = document.querySelector(`#${mapId} svg[data-view="${view}"]`);
  svg.scrollIntoView({ block: 'center' });
  const point = svg.createSVGPoint();
  point.x = x; point.y = y;
  const screen = point.matrixTransform(svg.getScreenCTM());
  return { x: screen.x, y: screen.y };
}
"""


def click_map(page: Page, view: str, x: float, y: float) -> None:
    """Click the trainer's map at a point of its 0..1000 coordinate space."""
    spot = page.evaluate(SVG_TO_SCREEN_JS, ["trainer-map", view, x, y])
    page.mouse.click(spot["x"], spot["y"])


def test_a_trainee_passes_the_first_quiz(browsing: Browsing, world: World) -> None:
    """On a phone, the trainee reads the first module, answers its quiz as the engine would and passes."""
    page = browsing.open("phone")
    browsing.sign_in(page, "trainee")
    page.goto("/training/")
    browsing.shot(page, "course")
    first = services.course()[0]
    page.get_by_role("link", name=first.title).click()
    expect(page.get_by_role("heading", name=first.title, level=1)).to_be_visible()
    browsing.shot(page, "module")
    page.get_by_role("button", name="Take the quiz").click()
    expect(page.get_by_role("button", name="Submit answers")).to_be_visible()
    attempt = QuizAttempt.objects.get(trainee=world.users["trainee"])
    for question in services.quiz_questions(attempt):
        page.locator(f"label[for='{question.key}-{question.answer}']").tap()
        expect(page.locator(f"#{question.key}-{question.answer}")).to_be_checked()
    browsing.shot(page, "quiz-answered")
    page.get_by_role("button", name="Submit answers").click()
    expect(page.locator("[data-quiz-result]")).to_contain_text("Passed")
    browsing.shot(page, "quiz-passed")
    page.goto("/training/")
    second = services.course()[1]
    expect(page.get_by_role("link", name=second.title)).to_be_visible()


def test_a_trainee_passes_the_site_trainer(browsing: Browsing, world: World) -> None:
    """On a desktop, the trainee clicks every PREEMPT site (and the case's follow-the-pain sites) and passes."""
    page = browsing.open("desktop")
    browsing.sign_in(page, "trainee")
    page.goto("/training/sites/")
    page.get_by_role("button", name="Start an attempt").click()
    expect(page.get_by_role("heading", name="Place the injection sites")).to_be_visible()
    page.wait_for_load_state("load")  # the map's script listens from DOMContentLoaded: a click before it is lost
    attempt = SiteTrainerAttempt.objects.get(trainee=world.users["trainee"])
    for click in exact_placements():
        page.locator(f"#muscle-{click['muscle']}").check()
        click_map(page, click["view"], click["x"], click["y"])
    extra = ftp_placements(attempt.follow_the_pain)
    if extra:
        page.locator("#ftp-toggle").check()
        for click in extra:
            page.locator(f"#muscle-{click['muscle']}").check()
            click_map(page, click["view"], click["x"], click["y"])
    expect(page.locator("[data-placed-count]")).to_have_text(str(31 + len(extra)))
    browsing.shot(page, "sites-placed")
    browsing.shot_at_phone_width(page, "sites-placed")
    page.get_by_role("button", name="Submit for scoring").click()
    expect(page.locator("[data-site-result]")).to_contain_text("Passed")
    expect(page.get_by_role("heading", name="The correct map")).to_be_visible()
    browsing.shot(page, "sites-scored")
    attempt.refresh_from_db()
    assert attempt.passed
    assert attempt.points == attempt.possible


def test_a_trainee_joins_the_waitlist_of_a_full_session(browsing: Browsing, world: World) -> None:
    """The only place is taken: the trainee's enrolment puts them on the waitlist, and the page says so."""
    session = services.live_session_create(
        trainer=world.users["clinician"],
        title="PREEMPT workshop",
        starts_at=timezone.now() + dt.timedelta(days=7),
        place="Teaching room 2",
        capacity=1,
    )
    first = UserFactory(username="early", role=Role.TRAINEE, clinic=world.clinic)
    services.enrolment_create(session=session, trainee=first)
    page = browsing.open("phone")
    browsing.sign_in(page, "trainee")
    page.goto("/training/sessions/")
    expect(page.get_by_text("1 of 1 places taken")).to_be_visible()
    browsing.shot(page, "sessions")
    page.get_by_role("link", name="PREEMPT workshop").click()
    page.get_by_role("button", name="Join the waitlist").click()
    expect(page.get_by_role("status").first).to_contain_text("you are on the waitlist")
    expect(page.locator("[data-enrolment-status]")).to_contain_text("position 1")
    browsing.shot(page, "waitlisted")
    assert Enrolment.objects.get(session=session, trainee=world.users["trainee"]).status == "waitlisted"


def test_a_certificate_verifies_on_the_public_page(browsing: Browsing, world: World) -> None:
    """A trainee with everything passed issues the certificate and downloads its PDF; a visitor who is not signed
    in checks the code and sees the holder's name, the date and that it is valid."""
    trainee = world.users["trainee"]
    trainee.first_name, trainee.last_name = "Tam", "Oyelaran"
    trainee.save()
    pass_all_modules(trainee)
    attempt = services.site_attempt_start(user=trainee)
    clicks = exact_placements() + ftp_placements(attempt.follow_the_pain)
    services.site_attempt_submit(attempt=attempt, placements=services.parse_placements(clicks))
    pass_cases(trainee, 3)

    page = browsing.open("phone")
    browsing.sign_in(page, "trainee")
    page.goto("/training/certificate/")
    page.get_by_role("button", name="Issue my certificate").click()
    code = page.locator("[data-certificate-code]").inner_text()
    assert code == Certificate.objects.get(trainee=trainee).code
    browsing.shot(page, "certificate")
    with page.expect_download() as download:
        page.get_by_role("link", name="Download the certificate (PDF)").click()
    assert download.value.suggested_filename == f"onaboard-certificate-{code}.pdf"

    visitor = browsing.open("desktop")
    visitor.goto("/training/verify/")
    visitor.get_by_label("Verification code").fill(code.lower())
    visitor.get_by_role("button", name="Check").click()
    result = visitor.locator("[data-verify-result]")
    expect(result).to_contain_text("Valid")
    expect(result).to_contain_text("Tam Oyelaran")
    expect(result).to_contain_text(timezone.localdate().strftime("%Y"))
    browsing.shot(visitor, "verified")
    browsing.shot_at_phone_width(visitor, "verified")
    visitor.get_by_label("Verification code").fill("ZZZZ-ZZZZ-ZZZZ")
    visitor.get_by_role("button", name="Check").click()
    expect(visitor.locator("[data-verify-result]")).to_contain_text("Not found")


def test_a_trainee_works_through_a_graded_case(browsing: Browsing, world: World) -> None:
    """On a phone, the trainee decides a case's first visit and its week-24 review as the engine does, and passes."""
    page = browsing.open("phone")
    browsing.sign_in(page, "trainee")
    page.goto("/training/cases/")
    page.get_by_role("button", name="Start a new case").click()
    page.wait_for_url(re.compile(r"/training/cases/[0-9a-f-]{36}/$"))  # the POST's redirect has landed
    attempt = CaseAttempt.objects.get(trainee=world.users["trainee"])
    CaseAttempt.objects.filter(pk=attempt.pk).update(seed=TREATED_SEED)  # a patient the engine treats: week 24 too
    attempt.refresh_from_db()
    page.reload()
    first = engine_first_visit(attempt)
    browsing.shot(page, "case")
    page.locator(f"input[name='eligibility'][value='{first['eligibility']}']").check()
    page.locator(f"input[name='safety'][value='{first['safety']}']").check()
    page.get_by_label("Units given").fill(str(first["total_units"]))
    page.get_by_label("Vials opened").fill(str(first["vials"]))
    page.get_by_label("Units discarded").fill(str(first["discarded_units"]))
    page.get_by_role("button", name="Submit the first visit").click()
    expect(page.get_by_role("heading", name="Later: the treated course")).to_be_visible()
    browsing.shot(page, "case-week24")
    page.locator(f"input[name='week24'][value='{engine_week24(attempt)['week24']}']").check()
    page.get_by_role("button", name="Submit the week-24 review").click()
    expect(page.get_by_role("status").last).to_contain_text("Case passed")
    browsing.shot(page, "case-graded")
