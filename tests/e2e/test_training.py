"""Injector training in the browser: a trainee passes a quiz and the site trainer, joins a full live session's
waitlist, and a certificate's code is verified on the public page by someone not signed in."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
from django.utils import timezone
from playwright.sync_api import Locator, Page, expect

from onaboard.clinical import FIXED_SITE_COUNT, Muscle
from onaboard.web.accounts.models import Role
from onaboard.web.injections.sitemap import MUSCLE_LABELS
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
    """On a desktop, the trainee clicks every PREEMPT site and the case's follow-the-pain sites (ticking the box
    before each: it unticks itself once the site is placed, and the mode line says so), undoes a stray site (named
    by the muscle's label, not the engine's identifier) and passes."""
    page = browsing.open("desktop")
    browsing.sign_in(page, "trainee")
    page.goto("/training/sites/")
    page.get_by_role("button", name="Start an attempt").click()
    expect(page.get_by_role("heading", name="Place the injection sites")).to_be_visible()
    attempt = SiteTrainerAttempt.objects.get(trainee=world.users["trainee"])
    asked = {"trapezius-right": 2, "occipitalis-left": 1}  # the case's request is drawn from a seed: fix one here
    SiteTrainerAttempt.objects.filter(pk=attempt.pk).update(follow_the_pain=asked)
    attempt.refresh_from_db()
    page.reload()
    page.wait_for_load_state("load")  # the map's script listens from DOMContentLoaded: a click before it is lost
    for click in exact_placements():
        page.locator(f"#muscle-{click['muscle']}").check()
        click_map(page, click["view"], click["x"], click["y"])
    extra = ftp_placements(attempt.follow_the_pain)
    mode = page.locator("[data-trainer-mode]")
    for click in extra:
        page.locator(f"#muscle-{click['muscle']}").check()
        page.locator("#ftp-toggle").check()
        expect(mode).to_have_text(f"Next site: {MUSCLE_LABELS[Muscle(click['muscle'])]}, follow-the-pain site")
        click_map(page, click["view"], click["x"], click["y"])
        expect(page.locator("#ftp-toggle")).not_to_be_checked()
        expect(mode).to_have_text(f"Next site: {MUSCLE_LABELS[Muscle(click['muscle'])]}, fixed site")
        expect(page.locator("[data-trainer-status]")).to_contain_text("The next site is a fixed site again.")
    page.locator("#muscle-cervical_paraspinal").check()
    click_map(page, "back", 500, 300)
    page.get_by_role("button", name="Undo the last site").click()
    expect(page.locator("[data-trainer-status]")).to_contain_text("Removed: cervical paraspinal (fixed site)")
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


FOCUSED_JS = "(el) => el === document.activeElement"
BEFORE_FOCUS_JS = (
    "(el) => Boolean(el.compareDocumentPosition(document.activeElement) & Node.DOCUMENT_POSITION_FOLLOWING)"
)


def focus_with_keys(page: Page, target: Locator, *, limit: int = 40) -> None:
    """Press Tab (or Shift+Tab, when ``target`` comes before the focus) until ``target`` has the focus."""
    for _ in range(limit):
        if target.evaluate(FOCUSED_JS):
            return
        page.keyboard.press("Shift+Tab" if target.evaluate(BEFORE_FOCUS_JS) else "Tab")
    raise AssertionError(f"{target} was not reached with {limit} presses of Tab")


def choose_muscle_with_keys(page: Page, muscle: str) -> None:
    """Reach the muscle radio group with Tab and move its choice to ``muscle`` with the arrow keys."""
    focus_with_keys(page, page.locator("input[name='muscle']:checked"))
    values = page.locator("input[name='muscle']").evaluate_all("(radios) => radios.map((radio) => radio.value)")
    current = page.locator("input[name='muscle']:checked").get_attribute("value")
    for _ in range((values.index(muscle) - values.index(current)) % len(values)):
        page.keyboard.press("ArrowRight")
    expect(page.locator(f"#muscle-{muscle}")).to_be_checked()


def move_crosshair_with_keys(page: Page, view: str, x: float, y: float) -> None:
    """Tab to a view of the map and move its crosshair to the nearest step of (x, y) with the arrow keys."""
    svg = page.locator(f"#trainer-map svg[data-view='{view}']")
    focus_with_keys(page, svg)
    for axis, target, less, more in (("x", x, "ArrowLeft", "ArrowRight"), ("y", y, "ArrowUp", "ArrowDown")):
        offset = target - float(svg.get_attribute(f"data-cursor-{axis}") or 0)
        key = more if offset > 0 else less
        big, rest = divmod(abs(offset), KEY_BIG_STEP)
        for _ in range(int(big)):
            page.keyboard.press(f"Shift+{key}")
        for _ in range(round(rest / KEY_STEP)):
            page.keyboard.press(key)
    for axis, target in (("x", x), ("y", y)):
        assert abs(float(svg.get_attribute(f"data-cursor-{axis}") or 0) - target) <= KEY_STEP / 2


KEY_STEP, KEY_BIG_STEP = 20, 100
"""The crosshair's steps in map units (site_trainer.js): an arrow key, and Shift with an arrow key."""


def test_a_keyboard_user_passes_the_site_trainer(browsing: Browsing, world: World) -> None:
    """With the keyboard alone (Tab, the arrow keys, Space and Enter) the trainee chooses each muscle, moves the
    map's crosshair to every PREEMPT site and the case's follow-the-pain sites, hears each position and placement
    in words, undoes a stray site (named by the muscle's label) and passes."""
    trainee = world.users["trainee"]
    attempt = services.site_attempt_start(user=trainee)
    SiteTrainerAttempt.objects.filter(pk=attempt.pk).update(
        follow_the_pain={"trapezius-left": 2, "temporalis-right": 1}
    )
    attempt.refresh_from_db()
    page = browsing.open("desktop")
    browsing.sign_in(page, "trainee")
    page.goto(f"/training/sites/{attempt.external_id}/")
    page.wait_for_load_state("load")
    status = page.locator("[data-trainer-status]")
    muscle = page.locator("input[name='muscle']:checked").get_attribute("value")
    for place in exact_placements() + ftp_placements(attempt.follow_the_pain):
        if place["muscle"] != muscle or place["ftp"]:
            choose_muscle_with_keys(page, place["muscle"])
            muscle = place["muscle"]
        if place["ftp"]:
            focus_with_keys(page, page.locator("#ftp-toggle"))
            page.keyboard.press("Space")
            expect(page.locator("[data-trainer-mode]")).to_contain_text("follow-the-pain site")
        move_crosshair_with_keys(page, place["view"], place["x"], place["y"])
        expect(status).to_contain_text(f"{place['view']} view, ")
        page.keyboard.press("Enter")
        kind = "follow-the-pain site" if place["ftp"] else "fixed site"
        expect(status).to_contain_text(f"Placed: {MUSCLE_LABELS[Muscle(place['muscle'])]} ({kind}), ")
    expect(page.locator("#ftp-toggle")).not_to_be_checked()
    move_crosshair_with_keys(page, "front", 322, 170)
    expect(status).to_have_text(re.compile(r"^front view, temple, patient's right: 3[1-3] % across, 1[6-8] % down$"))
    browsing.shot(page, "keyboard-crosshair")
    choose_muscle_with_keys(page, "cervical_paraspinal")
    move_crosshair_with_keys(page, "back", 900, 100)
    page.keyboard.press("Space")
    expect(page.locator("[data-placed-count]")).to_have_text("35")
    focus_with_keys(page, page.get_by_role("button", name="Undo the last site"))
    page.keyboard.press("Enter")
    expect(status).to_contain_text("Removed: cervical paraspinal (fixed site), back view, outside the outline")
    expect(page.locator("[data-placed-count]")).to_have_text("34")
    focus_with_keys(page, page.get_by_role("button", name="Submit for scoring"))
    page.keyboard.press("Enter")
    expect(page.locator("[data-site-result]")).to_contain_text("Passed")
    browsing.shot(page, "keyboard-scored")
    attempt.refresh_from_db()
    assert attempt.passed
    assert attempt.points == attempt.possible == 34


def test_a_site_placed_from_the_keyboard_is_the_same_as_a_click_there(browsing: Browsing, world: World) -> None:
    """A site placed with the crosshair and Enter is sent as a click on the same spot is (muscle, view, x, y and
    the follow-the-pain mark) and announced in the same words."""
    attempt = services.site_attempt_start(user=world.users["trainee"])
    page = browsing.open("desktop")
    browsing.sign_in(page, "trainee")
    page.goto(f"/training/sites/{attempt.external_id}/")
    page.wait_for_load_state("load")
    status = page.locator("[data-trainer-status]")
    move_crosshair_with_keys(page, "front", 400, 300)
    page.keyboard.press("Enter")
    by_keys = status.inner_text()
    click_map(page, "front", 400, 300)
    expect(page.locator("[data-placed-count]")).to_have_text("2")
    keyed, clicked = json.loads(page.locator("[data-placements]").input_value())
    assert keyed == {"muscle": "corrugator", "view": "front", "x": 400, "y": 300, "ftp": False}
    assert keyed.keys() == clicked.keys()
    assert (clicked["muscle"], clicked["view"], clicked["ftp"]) == ("corrugator", "front", False)
    assert abs(clicked["x"] - 400) <= 2  # a mouse lands on whole screen pixels, about 2 map units each here
    assert abs(clicked["y"] - 300) <= 2
    assert by_keys == (
        "Placed: corrugator (fixed site), front view, forehead, patient's right: 40 % across, 30 % down. "
        "Sites placed: 1."
    )
    expect(status).to_have_text(by_keys.replace("Sites placed: 1.", "Sites placed: 2."))


def test_submitting_too_few_sites_asks_first_and_no_site_is_refused(browsing: Browsing, world: World) -> None:
    """ "Submit for scoring" with fewer sites than the attempt asks for (the engine's fixed sites plus the case's
    follow-the-pain sites) asks first: declining sends nothing; with no site at all, sending anyway is refused by
    the server with a message and the attempt stays open, unscored (it was recorded as a failed 0 % attempt)."""
    attempt = services.site_attempt_start(user=world.users["trainee"])
    SiteTrainerAttempt.objects.filter(pk=attempt.pk).update(follow_the_pain={"trapezius-left": 2})
    expected = FIXED_SITE_COUNT + 2
    page = browsing.open("desktop")
    browsing.sign_in(page, "trainee")
    page.goto(f"/training/sites/{attempt.external_id}/")
    page.wait_for_load_state("load")
    asked: list[str] = []

    page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.accept()))
    with page.expect_navigation():
        page.get_by_role("button", name="Submit for scoring").click()
    assert asked == [f"Sites placed: 0 of the {expected} this attempt asks for. Submit for scoring anyway?"]
    expect(page.get_by_role("alert")).to_contain_text(str(services.NO_SITES_PLACED))
    browsing.shot(page, "no-site-refused")
    attempt.refresh_from_db()
    assert (attempt.submitted, attempt.points) == (None, None)

    page.wait_for_load_state("load")
    click_map(page, "front", 400, 300)
    expect(page.locator("[data-placed-count]")).to_have_text("1")
    page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.dismiss()))
    page.get_by_role("button", name="Submit for scoring").click()
    expect(page.locator("[data-placed-count]")).to_have_text("1")
    assert asked[1:] == [f"Sites placed: 1 of the {expected} this attempt asks for. Submit for scoring anyway?"]
    attempt.refresh_from_db()
    assert attempt.submitted is None


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
    expect(page.get_by_text("1 of 1 place taken")).to_be_visible()
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
    page.get_by_label("Units planned").fill(str(first["total_units"]))
    page.get_by_label("Vials to open").fill(str(first["vials"]))
    page.get_by_label("Units to discard").fill(str(first["discarded_units"]))
    page.get_by_role("button", name="Submit the first visit").click()
    expect(page.get_by_role("heading", name="Later: the treated course")).to_be_visible()
    browsing.shot(page, "case-week24")
    page.locator(f"input[name='week24'][value='{engine_week24(attempt)['week24']}']").check()
    page.get_by_role("button", name="Submit the week-24 review").click()
    expect(page.get_by_role("status").last).to_contain_text("Case passed")
    browsing.shot(page, "case-graded")
