"""No patient data in logs: a browser run over the demo clinic on the production server, everything it logged
searched for the demo patients' names, birth dates, record numbers and login names.

``onaboard serve`` (gunicorn, speaking HTTPS itself with a certificate made for the run, as the TLS proxy does in
production) runs on a throwaway SQLite database loaded with the demo clinic, with the production settings except
that every logger is lowered to DEBUG (handlers, format and ``NoPatientDataFilter`` stay as production has them)
and gunicorn's own log at ``--log-level=debug``. Its stdout and stderr go to one file: gunicorn's access and error
logs and every record of Django's, the libraries' and onaboard's loggers, through settings.LOGGING.

Chromium then signs in as every demo login and walks each one's pages (the crawler of tests/e2e/browsing.py),
fetching every kind of file they link to (PDF, CSV, FHIR), with the flows that put patient data into requests: a
worklist search naming a patient (typed, so htmx sends it too), failed sign-ins with a patient's login name and
with a patient's name, addresses that do not exist or are not the caller's, a diary entry and a side-effect
report with free text, a HIT-6, the admin's patient search by name and birth date, the API searched by name, a form
post without its CSRF token, and malformed requests naming a patient sent straight to the socket. A second test
logs a demo name through the same logging configuration and sees the scan report it, so a clean scan means
something.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import re
import shutil
import socket
import ssl
import subprocess
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit
from uuid import uuid4

import httpx
import pytest
from django.utils import timezone
from playwright.sync_api import Browser, Page, Playwright, expect

from onaboard.web.accounts.models import STAFF_ROLES
from onaboard.web.clinic.demo import PASSWORD, STAFF
from tests.e2e.browsing import CHROMIUM, CHROMIUM_ARGS, Browsing, CrawledPage, crawl, page_shape, tap_choice
from tests.e2e.conftest import browsing_at
from tests.ops.serving import PYTHON, REPO, STARTUP_SECONDS, Server, django_json, manage, production_env

pytestmark = [pytest.mark.browser, pytest.mark.slow]

DEBUG_SETTINGS_MODULE = "onaboard_debug_logging"
DEBUG_SETTINGS = '''"""Production settings with every logger at DEBUG: handlers, format and filter as in production."""
from onaboard.web.config.settings.production import *  # noqa: F403
from onaboard.web.config.settings.production import LOGGING as PRODUCTION_LOGGING

LOGGING = {
    **PRODUCTION_LOGGING,
    "root": {**PRODUCTION_LOGGING["root"], "level": "DEBUG"},
    "loggers": {name: {**logger, "level": "DEBUG"} for name, logger in PRODUCTION_LOGGING["loggers"].items()},
}
'''
"""Written next to the throwaway database, not into the repository: only the log levels differ from production."""

PATIENTS_JSON = """
from onaboard.web.patients.models import Patient
result = [
    {
        "external_id": str(p.external_id),
        "record_number": p.record_number,
        "given_name": p.given_name,
        "family_name": p.family_name,
        "birth_date": p.birth_date.isoformat(),
        "username": p.user.username if p.user else "",
        "treated": p.injection_sessions.filter(status="recorded").exists(),
    }
    for p in Patient.objects.select_related("user").order_by("record_number")
]
"""
DIARY_NOTE = "Woke at four with it behind my left eye, pharmacy on Larkspur Road"
SIDE_EFFECT_NOTE = "Heavy brow since Tuesday, worse reading the Larkspur newsletter"
"""Free text typed into the forms: no log may carry what a patient writes either."""

DOWNLOAD_SUFFIXES = (".pdf", ".csv", ".json", ".ics")
DOWNLOAD_LINKS_JS = """
() => Array.from(document.querySelectorAll('a[href]'))
  .map((a) => (typeof a.href === 'string' ? a.href : new URL(a.href.baseVal, document.baseURI).href))
"""
TLS_THREADS = 12
"""Threads per gunicorn worker: chromium keeps up to six connections to a host, some opened before they are used."""
STAFF_HOME = "/"
PATIENT_HOME = "/portal/"


@dataclass(frozen=True, slots=True)
class DemoPatientRow:
    """A demo patient as the server's database holds them."""

    external_id: str
    record_number: str
    given_name: str
    family_name: str
    birth_date: dt.date
    username: str
    treated: bool

    @property
    def full_name(self) -> str:
        return f"{self.given_name} {self.family_name}"


@dataclass(frozen=True, slots=True)
class Identifier:
    """One piece of patient data to look for, and what it is."""

    what: str
    text: str

    def pattern(self) -> re.Pattern[str]:
        """The text on its own (not inside a longer word or number), any case."""
        return re.compile(rf"(?<![A-Za-z0-9]){re.escape(self.text)}(?![A-Za-z0-9])", re.IGNORECASE)


def birth_date_texts(day: dt.date) -> list[str]:
    """A birth date as stored (ISO), as the pages show it ("17 May 1984", "17 Sep 1984") and in the usual
    numeric forms a person or a library might write."""
    return [
        day.isoformat(),
        f"{day.day} {day:%B %Y}",
        f"{day.day} {day:%b %Y}",
        f"{day:%d %B %Y}",
        f"{day:%d %b %Y}",
        f"{day:%d/%m/%Y}",
        f"{day:%m/%d/%Y}",
        f"{day:%d.%m.%Y}",
        f"{day:%Y/%m/%d}",
        f"{day:%Y%m%d}",
    ]


def patient_identifiers(patients: Iterable[DemoPatientRow]) -> list[Identifier]:
    """Every demo patient's names, birth date, record number and login name, and the free text the run types."""
    found: list[Identifier] = []
    for patient in patients:
        who = patient.record_number
        found += [
            Identifier(f"given name of {who}", patient.given_name),
            Identifier(f"family name of {who}", patient.family_name),
            Identifier(f"full name of {who}", patient.full_name),
            Identifier(f"record number of {who}", patient.record_number),
            *(Identifier(f"birth date of {who}", text) for text in birth_date_texts(patient.birth_date)),
        ]
        if patient.username:
            found.append(Identifier(f"login name of {who}", patient.username))
    found += [Identifier("a diary note", DIARY_NOTE), Identifier("a side-effect report", SIDE_EFFECT_NOTE)]
    return found


def leaks(log: Path, identifiers: Iterable[Identifier]) -> list[str]:
    """Each line of ``log`` holding patient data, as ``file:line: what 'text': the line``."""
    patterns = [(identifier, identifier.pattern()) for identifier in identifiers]
    found = []
    for number, line in enumerate(log.read_text(encoding="utf-8", errors="replace").splitlines(), start=1):
        found += [
            f"{log.name}:{number}: {identifier.what} {identifier.text!r}: {line}"
            for identifier, pattern in patterns
            if pattern.search(line)
        ]
    return found


# --- The server ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DemoSite:
    """The throwaway database with the demo loaded, the environment to serve it, and its patients."""

    env: dict[str, str]
    folder: Path
    patients: tuple[DemoPatientRow, ...]

    @property
    def identifiers(self) -> list[Identifier]:
        return patient_identifiers(self.patients)


@pytest.fixture(scope="module")
def demo_site(tmp_path_factory: pytest.TempPathFactory) -> DemoSite:
    """A migrated SQLite database holding the demo clinic, and the DEBUG-logging settings module beside it."""
    folder = tmp_path_factory.mktemp("logs")
    env = production_env(folder / "data")
    (folder / f"{DEBUG_SETTINGS_MODULE}.py").write_text(DEBUG_SETTINGS, encoding="utf-8")
    env["PYTHONPATH"] = f"{REPO}:{folder}"
    manage(env, "migrate", "--noinput")
    manage(env, "load_demo")
    rows = django_json(env, PATIENTS_JSON)
    assert isinstance(rows, list)
    patients = tuple(DemoPatientRow(**{**row, "birth_date": dt.date.fromisoformat(row["birth_date"])}) for row in rows)
    assert patients, "load_demo created no patients"
    return DemoSite(env, folder, patients)


class TlsServer(Server):
    """`onaboard serve` speaking HTTPS itself (gunicorn's ``--certfile``), as the TLS proxy does in production.

    The browser then sends what it sends to the real site (an https ``Origin`` on form posts, ``Secure`` cookies
    back), and Django sees a secure request without the proxy's ``X-Forwarded-Proto``.
    """

    def _wait_ready(self) -> None:
        self.url = self.url.replace("http://", "https://", 1)
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"onaboard serve exited {self.process.returncode}:\n{self.log.read_text()}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{self.url}/accounts/login/", verify=False, timeout=2).status_code == 200:  # noqa: S501
                    return
            time.sleep(0.3)
        self.kill()
        raise AssertionError(f"onaboard serve did not answer within {STARTUP_SECONDS} s:\n{self.log.read_text()}")


def self_signed_certificate(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and its key, made by openssl for this run."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.fail("openssl is missing (Debian's ca-certificates, which openjdk-17-jre-headless pulls in, needs it)")
    certificate, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(certificate)],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return certificate, key


@pytest.fixture
def demo_server(demo_site: DemoSite) -> Iterator[tuple[Server, Path]]:
    """``onaboard serve`` over HTTPS on the demo database, every log at DEBUG, its stdout and stderr in one file."""
    log = demo_site.folder / "serve.log"
    log.unlink(missing_ok=True)
    certificate, key = self_signed_certificate(demo_site.folder)
    gunicorn = f"--log-level=debug --certfile={certificate} --keyfile={key}"
    env = {**demo_site.env, "GUNICORN_CMD_ARGS": gunicorn}
    # Chromium opens spare connections ahead of need; over TLS each one holds a gunicorn thread until it speaks.
    server = TlsServer(env, settings=DEBUG_SETTINGS_MODULE, workers=2, threads=TLS_THREADS, log=log)
    try:
        yield server, log
    finally:
        server.stop()


@pytest.fixture(scope="module")
def tls_browser(playwright: Playwright) -> Iterator[Browser]:
    """Debian's chromium trusting the run's self-signed certificate."""
    chromium = playwright.chromium.launch(
        executable_path=str(CHROMIUM), headless=True, args=[*CHROMIUM_ARGS, "--ignore-certificate-errors"]
    )
    yield chromium
    chromium.close()


@pytest.fixture
def browsing(
    tls_browser: Browser, demo_server: tuple[Server, Path], request: pytest.FixtureRequest
) -> Iterator[Browsing]:
    """Pages against the demo server rather than the live server, checked as every browser test's pages are."""
    server, _log = demo_server
    with browsing_at(tls_browser, server.url, request) as session:
        yield session


# --- The browser run -----------------------------------------------------------------------------------------------


FETCH_STATUS_JS = """
async ([href, method, body]) => {
  const options = { method, credentials: 'same-origin' };
  if (body !== null) options.body = new URLSearchParams(body);
  return (await fetch(href, options)).status;
}
"""
"""Fetch through the page (its cookies, its TLS exceptions): the status."""


def fetch_status(page: Page, href: str, *, method: str = "GET", form: dict[str, str] | None = None) -> int:
    return page.evaluate(FETCH_STATUS_JS, [href, method, form])


def download_links(page: Page, base_url: str) -> list[str]:
    """Same-origin links on the page to files (PDF, CSV, FHIR JSON, calendar feeds)."""
    origin = urlsplit(base_url).netloc
    return [
        href
        for href in page.evaluate(DOWNLOAD_LINKS_JS)
        if urlsplit(href).netloc == origin and urlsplit(href).path.endswith(DOWNLOAD_SUFFIXES)
    ]


def walk(page: Page, start: str, base_url: str) -> tuple[int, list[str]]:
    """Crawl every page reachable from ``start``, then fetch one of each kind of file it links to.

    Returns how many pages and files were opened, and the files that did not come back.
    """
    files: dict[str, str] = {}

    def collect(visited: Page, _crawled: CrawledPage) -> None:
        for href in download_links(visited, base_url):
            files.setdefault(page_shape(href), href)

    result = crawl(page, start, base_url=base_url, visit=collect)
    failed = []
    for href in files.values():
        status = fetch_status(page, href)
        if status != 200:
            failed.append(f"{status} {urlsplit(href).path}")
    return len(result.pages) + len(files), failed


def search_worklist(page: Page, patient: DemoPatientRow) -> None:
    """Open the worklist with a search for the patient's family name, then type their given name into the search
    box (htmx asks the server for the filtered list with ``?q=``)."""
    page.goto(f"/worklist/?q={quote(patient.family_name)}")
    expect(page.locator("main")).to_contain_text(patient.family_name)
    with page.expect_response(lambda answer: "/worklist/?" in answer.url):
        page.get_by_label("Search by name or record number").fill(patient.given_name)


def fail_sign_in(page: Page, username: str) -> None:
    """A sign-in with a wrong password, left on the login page."""
    page.goto("/accounts/login/")
    page.get_by_label("User name").fill(username)
    page.get_by_label("Password").fill("not-the-password")
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in").click()
    assert "/accounts/login/" in page.url


def keep_diary(page: Page) -> None:
    """Open today's diary, change the hours, the pain and the notes, save."""
    page.goto(PATIENT_HOME)
    tap_choice(page, "radio", "4")
    tap_choice(page, "radio", "moderate: it got in the way")
    page.get_by_label("Notes (optional)").fill(DIARY_NOTE)
    with page.expect_navigation():
        page.locator("button.save").click()
    expect(page.get_by_text("Saved: your diary for")).to_be_visible()


def report_side_effect(page: Page) -> None:
    """Report a drooping eyelid with a free-text note."""
    page.goto("/sessions/side-effects/report/")
    tap_choice(page, "radio", "Drooping eyelid")
    page.get_by_label("When did it start?").fill((timezone.localdate() - dt.timedelta(days=2)).isoformat())
    tap_choice(page, "radio", "Moderate")
    page.get_by_label("Anything else we should know?").fill(SIDE_EFFECT_NOTE)
    with page.expect_navigation():
        page.get_by_role("button", name="Send to the clinic").click()
    expect(page.locator("main")).to_contain_text("Drooping eyelid", ignore_case=True)


def answer_hit6(page: Page) -> None:
    """Answer every HIT-6 item with its first answer and save."""
    page.goto("/outcomes/hit6/")
    for fieldset in page.locator("form fieldset").all():
        fieldset.locator("label").first.click()
    with page.expect_navigation():
        page.get_by_role("button", name="Save my answers").click()
    assert "/outcomes/hit6/" not in page.url, page.locator("main").inner_text()


def admin_search(page: Page, patient: DemoPatientRow) -> None:
    """The admin's patient list searched by birth date and by family name, and the first patient found opened.

    In a second tab: Django's admin pages are not onaboard's (they ask for a /favicon.ico that is not there).
    """
    side = page.context.new_page()
    for query in (patient.birth_date.isoformat(), patient.family_name):
        response = side.goto(f"/admin/patients/patient/?q={quote(query)}")
        assert response is not None
        assert response.status == 200
    with side.expect_navigation():
        side.locator("#result_list tbody a").first.click()
    assert "/change/" in side.url
    side.close()


def ask_for_refusals(page: Page, patient: DemoPatientRow) -> list[str]:
    """What a signed-in person may be refused, asked from a second tab of the same browser (its 4xx answers are the
    point, so they are not the page errors ``browsing`` reports): the worklist searched for the patient (403 to
    patients and trainees), an unknown patient's page and the patient's own page (404 unless the caller may see
    them), the API searched by name and by a state that does not exist, and a form post without its CSRF token.

    Returns the requests that answered with a server error.
    """
    side = page.context.new_page()
    side.goto("/")  # a page of the site, so the fetches below are same-origin
    statuses = {
        path: fetch_status(side, path)
        for path in (
            f"/worklist/?q={quote(patient.family_name)}",
            f"/patients/{uuid4()}/",
            f"/patients/{patient.external_id}/?q={quote(patient.full_name)}",
            f"/api/worklist?q={quote(patient.full_name)}",
            f"/api/worklist?state={quote(patient.family_name)}",
            "/api/patients",
            f"/api/patients/{patient.external_id}",
        )
    }
    statuses["POST /portal/"] = fetch_status(side, "/portal/", method="POST", form={"notes": patient.full_name})
    side.close()
    return [f"{status} {path}" for path, status in statuses.items() if status >= 500]


def malformed_requests(patient: DemoPatientRow) -> list[bytes]:
    """Requests no browser sends but a careless script or client does, each naming the patient: a search with an
    unencoded space, a header gunicorn cannot parse, a request line over gunicorn's limit."""
    host = b"Host: 127.0.0.1\r\n"
    name = patient.full_name.encode()
    return [
        b"GET /worklist/?q=" + name + b" HTTP/1.1\r\n" + host + b"\r\n",
        b"GET /worklist/ HTTP/1.1\r\n" + host + b"X-Patient: " + name.replace(b" ", b"\x01") + b"\r\n\r\n",
        b"GET /worklist/?q=" + name.replace(b" ", b"+") * 600 + b" HTTP/1.1\r\n" + host + b"\r\n",
    ]


def send_raw(base_url: str, request: bytes) -> bytes:
    """Send ``request`` as it is over TLS; the status line of the answer."""
    parts = urlsplit(base_url)
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE  # the run's own self-signed certificate
    with (
        socket.create_connection((parts.hostname, parts.port), timeout=10) as plain,
        context.wrap_socket(plain, server_hostname=parts.hostname) as tls,
    ):
        tls.sendall(request)
        return tls.recv(200).split(b"\r\n", 1)[0]


def test_a_browser_run_over_the_demo_clinic_logs_no_patient_data(
    browsing: Browsing, demo_site: DemoSite, demo_server: tuple[Server, Path]
) -> None:
    """Every demo login's pages, searches, failed sign-ins, unknown addresses, forms and exports on the production
    server leave no patient's name, birth date, record number or login name in its access log or any log record."""
    server, log = demo_server
    patients = demo_site.patients
    searched = patients[0]
    treated = next(p for p in patients if p.treated)
    opened: dict[str, int] = {}
    problems: list[str] = []

    stranger = browsing.open("desktop")
    fail_sign_in(stranger, searched.username)
    fail_sign_in(stranger, searched.full_name)
    stranger.goto(f"/patients/{searched.external_id}/")  # signed out: sent to the login page with ?next=
    refused = {send_raw(server.url, request) for request in malformed_requests(searched)}
    assert refused == {b"HTTP/1.1 400 Bad Request", b"HTTP/1.1 414 URI Too Long"}, refused

    for member in STAFF:
        page = browsing.open("desktop")
        browsing.sign_in(page, member.username, PASSWORD)
        if member.role in STAFF_ROLES:
            search_worklist(page, searched)
        problems += [f"{member.username}: {request}" for request in ask_for_refusals(page, searched)]
        opened[member.username], failed = walk(page, STAFF_HOME, server.url)
        problems += [f"{member.username}: {file}" for file in failed]
        if member.superuser:
            admin_search(page, searched)
        page.context.close()

    for patient in patients:
        page = browsing.open("phone")
        browsing.sign_in(page, patient.username, PASSWORD)
        problems += [f"{patient.username}: {request}" for request in ask_for_refusals(page, searched)]
        if patient == treated:
            keep_diary(page)
            report_side_effect(page)
            answer_hit6(page)
        opened[patient.username], failed = walk(page, PATIENT_HOME, server.url)
        problems += [f"{patient.username}: {file}" for file in failed]
        page.context.close()

    server.stop()
    assert problems == [], "\n".join(problems)
    text = log.read_text(encoding="utf-8", errors="replace")
    # The capture holds what the run produced: gunicorn's access log, its debug log and Django's records.
    assert '"GET /worklist/ HTTP/1.1" 200' in text, text[-3000:]
    assert "[DEBUG] GET /portal/" in text, text[-3000:]
    assert re.search(r" WARNING django\.request Not Found: /patients/[0-9a-f-]{36}/", text), text[-3000:]
    assert "[WARNING] Invalid request from ip=127.0.0.1: Invalid HTTP Version: [request text removed]" in text
    found = leaks(log, demo_site.identifiers)
    assert found == [], f"patient data in the server's output ({log}):\n" + "\n".join(found[:80])
    assert sum(opened.values()) > len(opened) * 3, opened


def test_the_scan_reports_a_patient_name_logged_through_the_production_logging(demo_site: DemoSite) -> None:
    """A demo patient's name logged through the server's own logging configuration is caught by the scan with its
    line, and a search address naming the patient comes out of the same configuration without its query."""
    patient = demo_site.patients[0]
    log = demo_site.folder / "planted.log"
    script = (
        "import logging, django\n"
        "django.setup()\n"
        f"logging.getLogger('onaboard.planted').debug('planted: %s', {patient.full_name!r})\n"
        f"logging.getLogger('django.request').warning('Not Found: %s', '/worklist/?q=' + {patient.family_name!r})\n"
    )
    env: dict[str, Any] = {**demo_site.env, "DJANGO_SETTINGS_MODULE": DEBUG_SETTINGS_MODULE}
    with log.open("wb") as out:
        subprocess.run([PYTHON, "-c", script], cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT, check=True)

    found = leaks(log, demo_site.identifiers)
    lines = log.read_text(encoding="utf-8").splitlines()

    assert lines[0].endswith(f" DEBUG onaboard.planted planted: {patient.full_name}")
    assert found == [
        f"planted.log:1: given name of {patient.record_number} {patient.given_name!r}: {lines[0]}",
        f"planted.log:1: family name of {patient.record_number} {patient.family_name!r}: {lines[0]}",
        f"planted.log:1: full name of {patient.record_number} {patient.full_name!r}: {lines[0]}",
    ]
    assert lines[1].endswith(" WARNING django.request Not Found: /worklist/?[query removed]")
