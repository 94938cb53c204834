"""The clinic's cohort page on a phone and a desktop: its plots keep legible lettering and the page keeps its width."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from onaboard.web.clinic.demo import PASSWORD, demo_clinic_load
from tests.e2e.browsing import Browsing, tab_until_focused

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PLOT_MIN_WIDTH_PX = 36 * 16
"""The narrowest a plot is drawn (36rem): its 10-point labels stay about 11 px high."""
DESKTOP_PLOT_WIDTH_PX = 44 * 16
"""A plot's width on a desktop (44rem at most), as before plots got a narrowest width."""

PAGE_TIMEOUT_MS = 60_000
"""The page computes the cohort report on request (Ibis on DuckDB, imported on the first one): slower than the
browser's default wait on a loaded machine."""

PLOTS_JS = """
() => Array.from(document.querySelectorAll('.cohort-figure')).map((figure) => {
  const wrap = figure.querySelector('.table-wrap');
  const svg = figure.querySelector('svg');
  return {
    width: Math.round(svg.getBoundingClientRect().width),
    scrolls: wrap.scrollWidth > wrap.clientWidth + 1,
    tabindex: wrap.getAttribute('tabindex'),
    role: wrap.getAttribute('role'),
    name: (wrap.getAttribute('aria-label') || '').replace(/\\s+/g, ' '),
    caption: figure.querySelector('figcaption').textContent.trim().replace(/\\s+/g, ' '),
  };
})
"""


@pytest.fixture
def demo_clinic(transactional_db: None) -> None:
    demo_clinic_load(today=timezone.localdate())


def test_the_plots_scroll_inside_their_figure_on_a_phone_and_keep_their_width_on_a_desktop(
    browsing: Browsing, demo_clinic: None
) -> None:
    """On a phone each plot is drawn at least 36rem wide (it was shrunk to the screen, its labels about 4 px high)
    and scrolls sideways inside its figure, a region reached by Tab and named by the caption, while the page itself
    does not scroll sideways; on a desktop the plots are 44rem wide and nothing scrolls."""
    phone = browsing.open("phone")
    browsing.sign_in(phone, "dr.demo", PASSWORD)
    phone.goto(reverse("analytics:cohort"), timeout=PAGE_TIMEOUT_MS)
    expect(phone.locator(".cohort-figure svg")).to_have_count(3)
    browsing.shot(phone, "cohort page")  # asserts the page does not scroll sideways

    plots = phone.evaluate(PLOTS_JS)
    assert [plot["width"] >= PLOT_MIN_WIDTH_PX for plot in plots] == [True] * 3, plots
    for plot in plots:
        assert plot["scrolls"], plot
        assert (plot["tabindex"], plot["role"], plot["name"]) == ("0", "region", plot["caption"])
    tab_until_focused(phone, phone.locator(".cohort-figure .table-wrap").first)

    desktop = browsing.open("desktop")
    browsing.sign_in(desktop, "dr.demo", PASSWORD)
    desktop.goto(reverse("analytics:cohort"), timeout=PAGE_TIMEOUT_MS)
    browsing.shot(desktop, "cohort page")
    plots = desktop.evaluate(PLOTS_JS)
    assert [(plot["width"], plot["scrolls"], plot["tabindex"]) for plot in plots] == [
        (DESKTOP_PLOT_WIDTH_PX, False, None)
    ] * 3
