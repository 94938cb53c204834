"""Browser fixtures: Debian's chromium driven by Playwright against pytest-django's live server.

``browsing`` (see tests/e2e/browsing.py) opens phone and desktop pages, signs people in through the real login
page and saves a numbered screenshot of each step under ``test-artifacts/e2e/<test name>/``. A JavaScript error,
a console error or a server error on any page it opened fails the test.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Playwright, sync_playwright

from tests.e2e.browsing import CHROMIUM, CHROMIUM_ARGS, Browsing, _slug
from tests.web.conftest import world  # noqa: F401  (two clinics, one user per role, the patients)

# Playwright's sync API runs an event loop in the test thread; Django refuses ORM calls from such a thread unless
# told it is safe (it is: the loop only waits on the browser).
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "e2e"


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: install ops/apt-bookworm.txt (never `playwright install`)")
    chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
    yield chromium
    chromium.close()


@contextlib.contextmanager
def browsing_at(browser: Browser, base_url: str, request: pytest.FixtureRequest) -> Iterator[Browsing]:
    """Pages for one test against the server at ``base_url``, with its screenshot folder emptied first.

    A module whose tests run against another server than the live server (tests/e2e/test_logs.py) overrides the
    ``browsing`` fixture with this, so the checks below still apply to its pages.
    """
    folder = ARTIFACTS / _slug(request.node.name)
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    session = Browsing(browser, base_url, folder)
    yield session
    report = getattr(request.node, "e2e_report_call", None)
    session.close(failed=report is None or report.failed)


@pytest.fixture
def browsing(browser: Browser, live_server: Any, request: pytest.FixtureRequest) -> Iterator[Browsing]:
    """Pages for one test against the live server, with its screenshot folder emptied first."""
    with browsing_at(browser, live_server.url, request) as session:
        yield session


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """Keep each phase's report on the test, so ``browsing`` knows whether to save what the pages showed."""
    report = yield
    setattr(item, f"e2e_report_{report.when}", report)
    return report


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    """Fail a test whose asserts passed when any page it opened reported an error."""
    result = yield
    browsing = getattr(item, "funcargs", {}).get("browsing")
    if isinstance(browsing, Browsing) and browsing.problems:
        pytest.fail("pages reported errors:\n" + "\n".join(browsing.problems), pytrace=False)
    return result
