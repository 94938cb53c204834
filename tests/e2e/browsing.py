"""The browser side of the end-to-end tests: phone and desktop pages on Debian's chromium, numbered screenshots,
and what every page a flow reaches must meet (labelled inputs, no sideways scrolling at 375 px, keyboard reach);
the crawler that finds every page a signed-in person can reach, and the axe-core accessibility check.

A JavaScript error, a console error or a server error on any page is collected in ``Browsing.problems``; the e2e
conftest fails the test that caused it.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http import HTTPStatus
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Error, Locator, Page, Response, expect

from tests.web.factories import PASSWORD

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
PHONE_WIDTH = 375
DEVICES: dict[str, dict[str, Any]] = {
    "phone": {
        "viewport": {"width": PHONE_WIDTH, "height": 812},
        "is_mobile": True,
        "has_touch": True,
        "device_scale_factor": 2,
    },
    "desktop": {"viewport": {"width": 1366, "height": 900}},
}
ACTION_TIMEOUT_MS = 10_000
NAVIGATION_TIMEOUT_MS = 60_000
"""How long a page may take to load: the cohort page computes its report on request (Ibis on DuckDB, imported on
the first one), several seconds on a loaded machine, where the 10 s of an action timed the crawl out."""

UNLABELLED_INPUTS_JS = """
() => Array.from(document.querySelectorAll('input, select, textarea'))
  .filter((el) => el.type !== 'hidden')
  .filter((el) => {
    if (el.labels && Array.from(el.labels).some((label) => label.textContent.trim())) return false;
    if ((el.getAttribute('aria-label') || '').trim()) return false;
    const ids = (el.getAttribute('aria-labelledby') || '').split(/\\s+/).filter(Boolean);
    return !ids.some((id) => (document.getElementById(id)?.textContent || '').trim());
  })
  .map((el) => el.outerHTML.slice(0, 160))
"""

OVERFLOW_JS = """
() => {
  const width = document.documentElement.clientWidth;
  const classes = (el) => (typeof el.className === 'string' ? el.className.trim().split(/\\s+/) : [])
    .filter(Boolean).map((c) => '.' + c).join('');
  const name = (el) => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + classes(el);
  return {
    scrollWidth: document.documentElement.scrollWidth,
    tooWide: Array.from(document.body.querySelectorAll('*'))
      .filter((el) => el.getBoundingClientRect().right > width + 1 && !el.closest('.table-wrap'))
      .slice(0, 5)
      .map((el) => `${name(el)} right=${Math.round(el.getBoundingClientRect().right)}`),
  };
}
"""


def assert_inputs_labelled(page: Page) -> None:
    """Every input, select and textarea that is not hidden has a label, an aria-label or an aria-labelledby."""
    unlabelled = page.evaluate(UNLABELLED_INPUTS_JS)
    assert unlabelled == [], f"inputs without an accessible label on {page.url}: {unlabelled}"


def assert_fits_phone(page: Page) -> None:
    """The page body does not scroll sideways at 375 CSS pixels (wide tables scroll inside their .table-wrap)."""
    found = page.evaluate(OVERFLOW_JS)
    assert found["scrollWidth"] <= PHONE_WIDTH + 1, (
        f"{page.url} scrolls sideways at {PHONE_WIDTH} px: scrollWidth {found['scrollWidth']}; "
        f"wider than the screen: {found['tooWide']}"
    )


def tab_until_focused(page: Page, target: Locator, *, limit: int = 120) -> int:
    """Press Tab on a freshly loaded page until ``target`` has the focus; how many presses it took."""
    for presses in range(1, limit + 1):
        page.keyboard.press("Tab")
        if target.evaluate("(el) => el === document.activeElement"):
            return presses
    raise AssertionError(f"{target} was not reached with {limit} presses of Tab on {page.url}")


def tap_choice(page: Page, role: str, name: str) -> None:
    """Tap the label of a radio button or checkbox, as a thumb does, and see it ticked."""
    choice = page.get_by_role(role, name=name, exact=True)
    page.locator(f"label[for='{choice.get_attribute('id')}']").tap()
    expect(choice).to_be_checked()


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-").lower()


class Browsing:
    """The pages one test opens, the problems they reported, and the numbered screenshots of its steps."""

    def __init__(self, browser: Browser, base_url: str, folder: Path) -> None:
        self.browser = browser
        self.base_url = base_url
        self.folder = folder
        self.problems: list[str] = []
        self.contexts: list[BrowserContext] = []
        self.devices: dict[Page, str] = {}
        self.step = 0

    def open(self, device: str) -> Page:
        """A fresh browser (its own cookies) on a ``"phone"`` or a ``"desktop"``, its errors collected."""
        context = self.browser.new_context(base_url=self.base_url, locale="en-GB", **DEVICES[device])
        context.set_default_timeout(ACTION_TIMEOUT_MS)
        context.set_default_navigation_timeout(NAVIGATION_TIMEOUT_MS)
        self.contexts.append(context)
        page = context.new_page()
        self.devices[page] = device
        page.on("pageerror", lambda error: self.problems.append(f"{device} {page.url}: JavaScript error: {error}"))
        page.on("console", lambda message: self._console(device, page, message))
        page.on("response", lambda response: self._response(device, response))
        return page

    def _console(self, device: str, page: Page, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.problems.append(f"{device} {page.url}: console error: {message.text} ({message.location})")

    def _response(self, device: str, response: Response) -> None:
        if response.status >= 500:
            self.problems.append(
                f"{device}: server error {response.status} from {response.request.method} {response.url}"
            )

    def sign_in(self, page: Page, username: str, password: str = PASSWORD) -> None:
        """Sign in through the real login page and wait for the page it leads to.

        A sign-in page that did not come (a server error, a refusal) fails here with its status, what it said and
        the problems the pages reported, not later as a timeout waiting for a "User name" field that is not there.
        """
        response = page.goto("/accounts/login/")
        status = response.status if response is not None else "no response"
        assert status == HTTPStatus.OK, (
            f"the sign-in page answered {status} for {username}: {page.locator('body').inner_text()[:500]!r}; "
            f"problems reported: {self.problems}"
        )
        self.shot(page, f"sign-in-{username}")
        page.get_by_label("User name").fill(username)
        page.get_by_label("Password").fill(password)
        with page.expect_navigation():
            page.get_by_role("button", name="Sign in").click()
        assert "/accounts/login/" not in page.url, f"{username} could not sign in"

    def _path(self, name: str) -> Path:
        self.step += 1
        return self.folder / f"{self.step:02d}-{_slug(name)}.png"

    def shot(self, page: Page, name: str) -> Path:
        """Save ``NN-name.png`` of the whole page and check it: labelled inputs; on a phone, no sideways scrolling."""
        path = self._path(name)
        page.screenshot(path=str(path), full_page=True)
        assert_inputs_labelled(page)
        if self.devices.get(page) == "phone":
            assert_fits_phone(page)
        return path

    def shot_at_phone_width(self, page: Page, name: str) -> Path:
        """Narrow a desktop page to 375 px, save ``NN-name-375px.png``, check it does not scroll sideways, widen it."""
        size = page.viewport_size
        page.set_viewport_size({"width": PHONE_WIDTH, "height": 812})
        try:
            path = self._path(f"{name}-375px")
            page.screenshot(path=str(path), full_page=True)
            assert_fits_phone(page)
        finally:
            if size is not None:
                page.set_viewport_size(size)
        return path

    def close(self, *, failed: bool) -> None:
        """Close every browser opened; after a failure, first save what each page showed."""
        for page, device in self.devices.items():
            if failed and not page.is_closed():
                # The page may have gone with the failure; the test's own report then says why.
                with contextlib.suppress(Error):
                    page.screenshot(path=str(self.folder / f"failed-{device}.png"), full_page=True)
        for context in self.contexts:
            context.close()


# --- Finding every page: the crawler -------------------------------------------------------------------------------

CRAWL_SKIP_PREFIXES = ("/admin/", "/api/", "/static/", "/fhir/", "/accounts/logout/")
"""Not pages of onaboard's own: Django's admin (its own markup, administrators only), the API and FHIR endpoints
(JSON), static files; signing out ends the crawl's session."""
DOWNLOAD_SUFFIXES = (".pdf", ".csv", ".ics", ".json", ".zip")
"""Addresses of files to download, noted without being fetched: a crawl opening one waits for the whole file to be
made (the cohort report's PDF takes seconds on a busy machine) only to learn it is a download. The documents are
tested by their own suites."""
CRAWL_LIMIT = 200
"""Distinct page shapes one crawl visits at most, so a link loop cannot run away."""
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
NUMBER_SEGMENT = re.compile(r"/\d+(?=/|$)")

LINKS_JS = """
() => Array.from(document.querySelectorAll('a[href]'))
  .filter((a) => !a.hasAttribute('download'))
  .map((a) => (typeof a.href === 'string' ? a.href : new URL(a.href.baseVal, document.baseURI).href))
"""


def page_shape(url: str) -> str:
    """The page a URL shows, whoever it is about: ids, dates and numbers replaced, query values dropped.

    ``/patients/<uuid>/`` of one patient and of another are the same page; ``?state=due`` and ``?state=booked`` of
    the worklist too, while ``?day=`` differs from no query at all.
    """
    parts = urlsplit(url)
    path = NUMBER_SEGMENT.sub("/<n>", ISO_DATE.sub("<date>", UUID.sub("<id>", parts.path)))
    keys = sorted({key for key, _ in parse_qsl(parts.query, keep_blank_values=True)})
    return path + ("?" + "&".join(keys) if keys else "")


@dataclass
class CrawledPage:
    url: str
    shape: str
    found_on: str


@dataclass
class Crawl:
    """What a crawl visited (one URL per page shape) and what it passed over, with why."""

    pages: list[CrawledPage] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)


def crawl(
    page: Page,
    start: str,
    *,
    base_url: str,
    visit: Callable[[Page, CrawledPage], None],
    extra: Iterable[str] = (),
) -> Crawl:
    """Visit every same-origin page reachable by links from ``start`` (and the ``extra`` paths), one per page shape.

    ``visit`` is called on each HTML page once it has loaded. Downloads (by their suffix, ``DOWNLOAD_SUFFIXES``, or
    as the browser starts one) and non-HTML answers are noted in ``skipped``, as are the prefixes in
    ``CRAWL_SKIP_PREFIXES``.
    """
    origin = urlsplit(base_url)._replace(path="", query="", fragment="").geturl()
    result = Crawl()
    queue: list[tuple[str, str]] = [(start, "start"), *((path, "form-only list") for path in extra)]
    seen: set[str] = set()
    while queue and len(result.pages) < CRAWL_LIMIT:
        url, found_on = queue.pop(0)
        absolute = url if url.startswith("http") else origin + url
        parts = urlsplit(absolute)
        if f"{parts.scheme}://{parts.netloc}" != origin:
            continue
        absolute = parts._replace(fragment="").geturl()
        shape = page_shape(absolute)
        if shape in seen:
            continue
        seen.add(shape)
        if parts.path.startswith(CRAWL_SKIP_PREFIXES):
            result.skipped[shape] = "not an onaboard page"
            continue
        if parts.path.endswith(DOWNLOAD_SUFFIXES):
            result.skipped[shape] = "a download"
            continue
        try:
            response = page.goto(absolute)
        except Error as error:
            if "Download is starting" not in str(error):
                raise
            result.skipped[shape] = "a download"
            continue
        content_type = response.headers.get("content-type", "") if response is not None else ""
        if not content_type.startswith("text/html"):
            result.skipped[shape] = content_type or "no response"
            continue
        landed = page_shape(page.url)
        if landed != shape and landed in seen:
            continue  # a redirect to a page already seen (a role sent back to its home page)
        seen.add(landed)
        crawled = CrawledPage(page.url, landed, found_on)
        result.pages.append(crawled)
        visit(page, crawled)
        queue.extend((link, crawled.url) for link in page.evaluate(LINKS_JS))
    return result


# --- Accessibility: axe-core ---------------------------------------------------------------------------------------

AXE_JS = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
"""Installed from the npm registry by ``npm ci`` (package.json pins the version)."""
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]
SETTLED_JS = "() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)))"
"""Two animation frames: scripts reacting to a resize (tables.js) have run."""
AXE_FAILING_IMPACTS = frozenset({"serious", "critical"})
AXE_RUN_JS = """
async (tags) => {
  const result = await axe.run(document, { runOnly: { type: 'tag', values: tags }, resultTypes: ['violations'] });
  return result.violations.map((v) => ({
    id: v.id, impact: v.impact, help: v.help,
    targets: v.nodes.slice(0, 4).map(
      (n) => n.target.join(' ') + ' :: ' + (n.failureSummary || '').split('\\n').slice(1, 2).join('').trim()),
    count: v.nodes.length,
  }));
}
"""


def axe_violations(page: Page) -> list[dict[str, Any]]:
    """axe-core's violations on the page as it is now (WCAG 2.2 A/AA and best practice), every impact.

    The script is evaluated through the DevTools protocol, which the page's Content-Security-Policy
    (``script-src 'self'``) does not govern, so pages are checked under their real policy.
    """
    page.evaluate(SETTLED_JS)
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.evaluate(AXE_JS.read_text(encoding="utf-8") + "\n;undefined")
    return page.evaluate(AXE_RUN_JS, AXE_TAGS)


def serious_violations(violations: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    return [v for v in violations if v["impact"] in AXE_FAILING_IMPACTS]


def describe_violation(where: str, violation: dict[str, Any]) -> str:
    """One readable paragraph: where, the rule, its impact, how many elements, the first few of them."""
    targets = "\n      ".join(violation["targets"])
    return (
        f"{where}: {violation['id']} ({violation['impact']}, {violation['count']} element(s)): {violation['help']}"
        f"\n      {targets}"
    )
