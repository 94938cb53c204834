"""The demo clinic on an iPad (768 px upright, 1024 px on its side, touch): tables fit their cards, controls are a
thumb's size, and the site trainer's map stays where the finger left it."""

from __future__ import annotations

import pytest
from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import Page, expect

from onaboard.web.clinic.demo import PASSWORD, demo_clinic_load
from onaboard.web.injections.models import SessionStatus
from onaboard.web.patients.models import Patient
from tests.e2e.browsing import DEVICES, SETTLED_JS, Browsing

pytestmark = [pytest.mark.browser, pytest.mark.slow]

TABLETS = {"tablet-portrait": {"width": 768, "height": 1024}, "tablet-landscape": {"width": 1024, "height": 768}}
SPLIT_VIEW = {"width": 700, "height": 1024}
"""An iPad upright sharing its screen with another app: the worklist hid 70 px of every group here."""
TAP_PX = 44
"""The least height of a thumb's target (WCAG 2.5.5, Apple's guideline)."""
CHECKBOX_PX = 22
HIT6_ANSWERS = 6 * 5
"""Six HIT-6 items, five answers each."""
FIGURE_COLUMN_MIN_PX = 96
"""The published figures' first column keeps at least 6rem (it was squeezed to about 90 px, sliced mid-word)."""
PAGE_TIMEOUT_MS = 60_000
"""The cohort page computes its report on request: slower than the browser's default wait on a loaded machine."""

WRAPS_JS = """
(selector) => Array.from(document.querySelectorAll(selector)).map((wrap) => ({
  section: wrap.closest('section')?.getAttribute('aria-labelledby') || '',
  scrolls: wrap.scrollWidth > wrap.clientWidth + 1,
  width: wrap.scrollWidth,
  card: wrap.clientWidth,
  regions: wrap.getAttribute('role'),
}))
"""
PAGE_WIDTH_JS = "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
HEIGHTS_JS = "(els) => els.map((el) => ({text: el.textContent.trim(), height: el.getBoundingClientRect().height}))"
RECORD_NUMBERS_JS = """
(cells) => cells.map((cell) => {
  const range = document.createRange();
  range.selectNodeContents(cell);
  const rects = Array.from(range.getClientRects());
  return {
    text: cell.textContent.trim(),
    lines: new Set(rects.map((r) => Math.round(r.top))).size,
    spills: Math.max(...rects.map((r) => r.right)) > cell.getBoundingClientRect().right + 0.5,
    nowrap: getComputedStyle(cell).whiteSpace === 'nowrap',
  };
})
"""
NAMED_JS = """
(cells) => cells.map((cell) => ({label: cell.dataset.label, before: getComputedStyle(cell, '::before').content}))
"""
MAP_JS = """
() => ({
  bar: document.querySelector('.trainer-bar').getBoundingClientRect().height,
  map: document.querySelector('#trainer-map svg').getBoundingClientRect().top + window.scrollY,
})
"""
TAP_MAP_JS = """
([x, y]) => {
  const svg = document.querySelector('#trainer-map svg[data-view="front"]');
  const point = svg.createSVGPoint();
  point.x = x; point.y = y;
  const screen = point.matrixTransform(svg.getScreenCTM());
  return {x: screen.x, y: screen.y};
}
"""
CHECKBOX_JS = """
(input) => {
  const label = input.closest('label');
  if (label === null) return {inLabel: false, id: input.id};
  const range = document.createRange();
  range.selectNodeContents(label);
  const box = input.getBoundingClientRect();
  const text = Array.from(range.getClientRects()).filter((r) => r.width > 0 && r.left > box.right);
  return {
    inLabel: label.htmlFor === input.id,
    width: box.width, height: box.height, label: label ? label.getBoundingClientRect().height : 0,
    middle: box.top + box.height / 2,
    textMiddle: text.length ? text[0].top + text[0].height / 2 : null,
  };
}
"""


@pytest.fixture
def demo_clinic(transactional_db: None) -> None:
    demo_clinic_load(today=timezone.localdate())


def open_tablet(browsing: Browsing, monkeypatch: pytest.MonkeyPatch, tablet: str, username: str) -> Page:
    """An iPad-sized touch screen (``tablet-portrait`` or ``tablet-landscape``) signed in as a demo user."""
    device = {"viewport": TABLETS[tablet], "is_mobile": True, "has_touch": True, "device_scale_factor": 2}
    monkeypatch.setitem(DEVICES, tablet, device)
    page = browsing.open(tablet)
    browsing.sign_in(page, username, PASSWORD)
    return page


def assert_fits(page: Page, selector: str) -> list[dict]:
    """Neither the page nor any of the ``selector`` table wraps scrolls sideways; the wraps found."""
    scroll_width, width = page.evaluate(PAGE_WIDTH_JS)
    assert scroll_width <= width + 1, f"{page.url} scrolls sideways: {scroll_width} px in {width}"
    wraps = page.evaluate(WRAPS_JS, selector)
    assert wraps
    assert [wrap for wrap in wraps if wrap["scrolls"] or wrap["regions"]] == [], wraps
    return wraps


def assert_tall(sizes: list[dict], least: float = TAP_PX) -> None:
    assert sizes
    assert [size for size in sizes if size["height"] < least - 0.5] == [], sizes


def most_treated() -> Patient:
    """The demo patient with the most recorded sessions (the longest billing table)."""
    recorded = Count("injection_sessions", filter=Q(injection_sessions__status=SessionStatus.RECORDED))
    return Patient.objects.annotate(recorded=recorded).order_by("-recorded", "record_number").first()


@pytest.mark.parametrize("tablet", list(TABLETS))
def test_the_worklist_fits_a_tablet_with_thumb_sized_filters(
    browsing: Browsing, demo_clinic: None, monkeypatch: pytest.MonkeyPatch, tablet: str
) -> None:
    """On an iPad, upright, on its side or sharing the screen, no worklist group scrolls sideways (a 704 px table
    sat in a 702 px card), each record number stays on one line inside its cell (never "DEMO-" over "0011"), and
    the state and prior-authorisation filters, the name's link home and the footer's links are at least 44 px tall,
    each filter's current choice outlined."""
    page = open_tablet(browsing, monkeypatch, tablet, "dr.demo")
    page.goto(reverse("clinic:worklist"))
    expect(page.locator("table.worklist").first).to_be_visible()
    browsing.shot(page, "worklist")
    sizes = [page.viewport_size] + ([SPLIT_VIEW] if tablet == "tablet-portrait" else [])
    for size in sizes:
        page.set_viewport_size(size)
        page.evaluate(SETTLED_JS)
        assert_fits(page, "#worklist-groups .table-wrap")
        numbers = page.evaluate(RECORD_NUMBERS_JS, page.locator("table.worklist td.record-number").element_handles())
        assert numbers
        assert [cell for cell in numbers if cell["lines"] != 1 or cell["spills"] or not cell["nowrap"]] == []

    chips = page.locator("nav.chips a")
    assert_tall(page.evaluate(HEIGHTS_JS, chips.element_handles()))
    navs = page.locator("nav.chips")
    expect(navs).to_have_count(2)  # the pathway states, the prior authorisation
    for nav in navs.all():
        current = nav.locator("a[aria-current]")
        expect(current).to_have_count(1)
        assert current.evaluate("(el) => getComputedStyle(el).outlineStyle") == "solid"
    assert_tall(page.evaluate(HEIGHTS_JS, page.locator(".top .brand, .foot-links a").element_handles()))


@pytest.mark.parametrize("tablet", list(TABLETS))
def test_a_patients_billed_sessions_fit_a_tablet(
    browsing: Browsing, demo_clinic: None, monkeypatch: pytest.MonkeyPatch, tablet: str
) -> None:
    """On an iPad the billing page's sessions fit the card (the ten-column table was 934 px in a 702 px card, the
    injector and the claim lines cut off); upright, each session is a block whose fields are named beside their
    values."""
    patient = most_treated()
    assert patient.recorded >= 2
    page = open_tablet(browsing, monkeypatch, tablet, "billing.demo")
    page.goto(reverse("patients:billing", args=[patient.external_id]))
    sessions = page.locator("section[aria-labelledby='sessions-heading']")
    expect(sessions.locator("tbody tr").first).to_be_visible()
    browsing.shot(page, "billing")
    assert_fits(page, "section[aria-labelledby='sessions-heading'] .table-wrap")
    if tablet == "tablet-portrait":
        named = page.evaluate(NAMED_JS, sessions.locator("td[data-label]").element_handles())
        assert {cell["label"] for cell in named} >= {"Injector", "Claim lines", "Units discarded"}
        assert [cell for cell in named if cell["before"] != f'"{cell["label"]} "'] == []


@pytest.mark.parametrize("tablet", list(TABLETS))
def test_the_published_figures_fit_a_tablet(
    browsing: Browsing, demo_clinic: None, monkeypatch: pytest.MonkeyPatch, tablet: str
) -> None:
    """On an iPad the cohort's published figures fit their card (797 px in 702 px upright, the source sliced at the
    card's edge) and the figure's name keeps a column at least 6rem wide."""
    page = open_tablet(browsing, monkeypatch, tablet, "dr.demo")
    page.goto(reverse("analytics:cohort"), timeout=PAGE_TIMEOUT_MS)
    published = page.locator("section[aria-labelledby='cohort-published']")
    expect(published.locator("tbody tr").first).to_be_visible()
    published.scroll_into_view_if_needed()
    browsing.shot(page, "cohort")
    assert_fits(page, "section[aria-labelledby='cohort-published'] .table-wrap")
    figure_column = published.locator("tbody tr td:first-child").first.bounding_box()
    assert figure_column is not None
    assert figure_column["width"] >= FIGURE_COLUMN_MIN_PX


def test_the_site_trainers_map_stays_still_after_the_first_placement_on_a_tablet(
    browsing: Browsing, demo_clinic: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On an iPad upright, placing the first site puts a two-line announcement in the bar above the map without
    making the bar taller, so the map does not move under the finger (it moved 20 px down)."""
    page = open_tablet(browsing, monkeypatch, "tablet-portrait", "trainee.demo")
    page.goto(reverse("training:site_trainer"))
    page.get_by_role("button", name="Start an attempt").click()
    expect(page.locator("#trainer-map svg").first).to_be_visible()
    before = page.evaluate(MAP_JS)
    page.locator("#trainer-map svg[data-view='front']").scroll_into_view_if_needed()
    spot = page.evaluate(TAP_MAP_JS, [380, 300])
    page.touchscreen.tap(spot["x"], spot["y"])
    status = page.locator("[data-trainer-status]")
    expect(status).to_contain_text("Placed:")
    after = page.evaluate(MAP_JS)
    browsing.shot(page, "trainer-placed")
    assert after["bar"] == pytest.approx(before["bar"], abs=0.5)
    assert after["map"] == pytest.approx(before["map"], abs=0.5)


def test_checkboxes_files_disclosures_and_pagers_are_thumb_sized_on_a_tablet(
    browsing: Browsing, demo_clinic: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On an iPad upright, the insurance form's and the import form's checkboxes are 22 px, inside their label and
    on its line (they sat 13 px on a line of their own), the file chooser and the chart's "Show the numbers"
    toggle are 44 px tall, the toggle keeping its triangle, the diary's pager links are 44 px tall and the HIT-6
    form's radio buttons 22 px (they were the browser's 13 px)."""
    patient = most_treated()
    page = open_tablet(browsing, monkeypatch, "tablet-portrait", "dr.demo")
    for url in (
        reverse("coverage:insurance_edit", args=[patient.external_id]),
        reverse("interop:patient", args=[patient.external_id]),
    ):
        page.goto(url)
        boxes = page.locator("main form input[type=checkbox]")
        expect(boxes.first).to_be_visible()
        browsing.shot(page, url)
        for box in boxes.element_handles():
            found = page.evaluate(CHECKBOX_JS, box)
            assert found["inLabel"], found
            assert found["width"] >= CHECKBOX_PX, found
            assert found["height"] >= CHECKBOX_PX, found
            assert found["label"] >= TAP_PX - 0.5, found
            assert found["textMiddle"] == pytest.approx(found["middle"], abs=4), found
    assert_tall(page.evaluate(HEIGHTS_JS, page.locator("input[type=file]").element_handles()))

    page.goto(reverse("patients:detail", args=[patient.external_id]))
    summaries = page.locator("main summary")
    expect(summaries.first).to_be_visible()
    assert_tall(page.evaluate(HEIGHTS_JS, summaries.element_handles()))
    assert {summary.evaluate("(el) => getComputedStyle(el).display") for summary in summaries.all()} == {"list-item"}

    portal = open_tablet(browsing, monkeypatch, "tablet-portrait", "patient8.demo")
    portal.goto(reverse("diary:history"))
    pager = portal.locator("nav.pager a")
    expect(pager.first).to_be_visible()
    browsing.shot(portal, "diary-history")
    assert_tall(portal.evaluate(HEIGHTS_JS, pager.element_handles()))

    portal.goto(reverse("outcomes:hit6"))
    radios = portal.locator("main input[type=radio]")
    expect(radios.first).to_be_visible()
    sizes = radios.evaluate_all("(els) => els.map((el) => el.getBoundingClientRect().width)")
    assert len(sizes) == HIT6_ANSWERS
    assert min(sizes) >= CHECKBOX_PX
