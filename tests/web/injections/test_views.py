"""The session screen, session pages and side-effect pages for each role (onaboard/web/injections/views.py)."""

from __future__ import annotations

import datetime as dt
import html
import re

import pytest
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from onaboard.clinical import (
    FOLLOW_THE_PAIN_MAX_SITES,
    FOLLOW_THE_PAIN_MAX_TOTAL_SITES,
    MAX_SESSION_SITES,
    UNITS_PER_SITE,
    Muscle,
    follow_the_pain_refusals,
)
from onaboard.clinical.preempt import DOSE_LIMIT, FTP_TOTAL_LIMIT
from onaboard.web.accounts.models import Role
from onaboard.web.audit.models import Action, AuditEvent
from onaboard.web.coverage.documents import DocumentKind, document_context, fixed_sites_not_given
from onaboard.web.injections import selectors, services, sitemap, views
from onaboard.web.injections.forms import SITE_NOT_GIVEN_HELP, fixed_site_keys
from onaboard.web.injections.models import InjectionSession, InjectionSiteRecord, SessionStatus, SideEffect
from tests.web.factories import PASSWORD, InjectionSessionFactory, UserFactory
from tests.web.injections.conftest import authorisation, fixed_entries, insure, record

STAFF_WHO_RECORD = ["clinician", "nurse"]
CANNOT_RECORD = ["patient", "billing", "admin", "trainee"]
NOT_GIVEN = "PREEMPT: 1 fixed site not given (trapezius right 3): 150 U at 30 sites"


def login(client, world, role):
    assert client.login(username=role, password=PASSWORD)
    return world.users[role]


def today():
    return timezone.localdate()


def screen_data(*, day=None, action="record", lot="C1234AB", expiry=None, override="", ftp=(), **units):
    """The posted session form: every fixed site at 5 U unless ``units`` says otherwise."""
    day = day or today()
    data = {
        "action": action,
        "date": day.isoformat(),
        "vial_units": "200",
        "product_lot": lot,
        "product_expiry": (expiry or day + dt.timedelta(days=300)).isoformat(),
        "complications": "",
        "override_reason": override,
        "version": "",
        "ftp-TOTAL_FORMS": str(len(ftp)),
        "ftp-INITIAL_FORMS": "0",
        "ftp-MIN_NUM_FORMS": "0",
        "ftp-MAX_NUM_FORMS": "50",
    }
    for name, _ in fixed_site_keys():
        data[name] = str(units.get(name, 5))
    for index, row in enumerate(ftp):
        for key, value in row.items():
            data[f"ftp-{index}-{key}"] = str(value)
    return data


def new_url(patient):
    return reverse("injections:session_new", args=[patient.external_id])


# --- The session screen -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", STAFF_WHO_RECORD)
def test_clinicians_and_nurses_open_the_session_screen(client, world, patient, role):
    """The screen shows the plan on the map, every fixed site a labelled, focusable link, and the checks."""
    login(client, world, role)
    response = client.get(new_url(patient))
    assert response.status_code == 200
    html = response.content.decode()
    site_links = re.findall(r'<a href="#site-[^"]+" class="site[^"]*" data-key="[^"]+" aria-label="([^"]+)"', html)
    assert len(site_links) == 31
    assert "temporalis left 3, 5 U" in site_links
    assert 'id="site-temporalis-left-3"' in html
    assert "12-week rule: no previous session" in html
    assert AuditEvent.objects.filter(action=Action.READ, object_type="injection_session_screen").exists()


@pytest.mark.parametrize("role", CANNOT_RECORD)
def test_other_roles_cannot_open_the_session_screen(client, world, patient, role):
    """A patient (even their own record), billing, admin and trainees get "not found"."""
    login(client, world, role)
    assert client.get(new_url(patient)).status_code == 404
    assert client.post(new_url(patient), screen_data()).status_code == 404
    assert not InjectionSession.objects.exists()


def test_staff_cannot_open_the_screen_for_another_clinics_patient(client, world):
    """Another clinic's patient is "not found" for a clinician."""
    login(client, world, "clinician")
    assert client.get(new_url(world.other_clinic_patient)).status_code == 404


def test_recording_redirects_to_the_session_with_the_next_date(client, world, patient):
    """A valid recording lands on the session page, which shows the next session booked 12 weeks later."""
    nurse = login(client, world, "nurse")
    response = client.post(new_url(patient), screen_data(), follow=True)
    session = InjectionSession.objects.get(patient=patient, status=SessionStatus.RECORDED)
    assert response.redirect_chain[-1][0] == reverse("injections:session_detail", args=[session.external_id])
    next_due = (today() + dt.timedelta(days=84)).isoformat()
    html = response.content.decode()
    assert f"Next session booked for {next_due}" in html
    assert f"next due {next_due}" in html
    assert session.injector == nurse
    assert session.total_units == 155


def test_recording_books_the_next_session_and_says_when_no_approval_covers_it(client, world, patient):
    """The approval in force ends before the 12-week date the recording books: the page says so when the session is
    recorded and on the session's page, beside the booking, so the renewal is asked for in time."""
    insure(patient)
    authorisation(
        patient,
        status="approved",
        requested_on=today() - dt.timedelta(days=40),
        decided_on=today() - dt.timedelta(days=30),
        approved_from=today() - dt.timedelta(days=30),
        approved_until=today() + dt.timedelta(days=80),
    )
    login(client, world, "nurse")
    response = client.post(new_url(patient), screen_data(), follow=True)
    page = html.unescape(response.content.decode())
    next_due = (today() + dt.timedelta(days=84)).isoformat()
    gap = f"no prior authorisation is in force on {next_due}: the last approval ended on"
    assert page.count(gap) == 2  # the message after recording, and the booking's line on the session's page
    assert 'id="booking-approval"' in page


def test_an_open_booking_is_recorded_on_its_own_screen(client, world, patient):
    """With a session booked, "new session" goes to that booking's screen."""
    login(client, world, "nurse")
    booking = InjectionSession.objects.create(patient=patient, date=today(), status=SessionStatus.BOOKED)
    response = client.get(new_url(patient))
    assert response.url == reverse("injections:session_record", args=[booking.external_id])


def test_recording_a_booking_checks_its_version(client, world, patient):
    """The booking screen carries the version; a stale one is refused with a clear message and nothing saved."""
    login(client, world, "nurse")
    booking = InjectionSession.objects.create(patient=patient, date=today(), status=SessionStatus.BOOKED, version=2)
    url = reverse("injections:session_record", args=[booking.external_id])
    assert 'name="version" value="2"' in client.get(url).content.decode()
    response = client.post(url, {**screen_data(), "version": "1"})
    assert html.escape(services.BOOKING_TAKEN) in response.content.decode()
    booking.refresh_from_db()
    assert booking.status == SessionStatus.BOOKED
    response = client.post(url, {**screen_data(), "version": "2"})
    assert response.status_code == 302


def test_a_recorded_session_screen_redirects_to_the_session(client, world, patient):
    """Opening the record screen of a session already recorded shows the session instead."""
    login(client, world, "nurse")
    session = record(user=world.users["nurse"], patient=patient, date=today(), today=today())
    response = client.get(reverse("injections:session_record", args=[session.external_id]))
    assert response.url == reverse("injections:session_detail", args=[session.external_id])


def test_a_failed_check_blocks_until_a_reason_is_given(client, world, patient):
    """Within 12 weeks the screen refuses with the reason next to the override field; with a reason it records."""
    login(client, world, "clinician")
    record(user=world.users["nurse"], patient=patient, date=today() - dt.timedelta(days=30), today=today())
    booking = InjectionSession.objects.get(patient=patient, status=SessionStatus.BOOKED)
    url = reverse("injections:session_record", args=[booking.external_id])
    response = client.post(url, {**screen_data(), "version": "1"})
    assert response.status_code == 200
    assert services.OVERRIDE_NEEDED.format(checks="12-week interval") in response.content.decode()
    assert not InjectionSession.objects.filter(date=today(), status=SessionStatus.RECORDED).exists()
    response = client.post(url, {**screen_data(override="Status migrainosus; agreed with Dr Lee"), "version": "1"})
    assert response.status_code == 302
    recorded = InjectionSession.objects.get(date=today())
    assert (recorded.overridden_checks, recorded.override_reason) == (
        "interval",
        "Status migrainosus; agreed with Dr Lee",
    )


def _shown_digest(html: str) -> str:
    return re.search(r'<input type="hidden" name="checks_shown" value="([0-9a-f]*)">', html).group(1)


def test_a_reason_written_for_the_checks_shown_does_not_cover_checks_failing_since(client, world, patient):
    """Two people on one patient's screen: each sees the 12-week interval fail against a session 70 days ago and
    writes a reason. The first records on today; the second's reason, written for that one failure, is refused
    rather than stored for a session one day before another (its interval now fails on that) and 465 U within three
    months (the cumulative dose fails too), and nothing is written. The screen then shows the checks as they stand,
    and recording again with the reason records them as overridden."""
    record(user=world.users["nurse"], patient=patient, date=today() - dt.timedelta(days=70), today=today())
    booking = InjectionSession.objects.get(patient=patient, status=SessionStatus.BOOKED)
    login(client, world, "clinician")
    yesterday = today() - dt.timedelta(days=1)
    new = new_url(patient)
    shown = _shown_digest(client.post(new, screen_data(day=yesterday, action="preview")).content.decode())
    assert shown
    reason = "Travelling abroad for a month; agreed with the patient."
    record(
        user=world.users["clinician"],
        patient=patient,
        date=today(),
        today=today(),
        override_reason=reason,
        booking=booking,
    )
    data = {**screen_data(day=yesterday, override=reason), "checks_shown": shown}
    response = client.post(new, data)
    assert response.status_code == 200
    html = response.content.decode()
    assert "The checks changed after the screen showed them" in html
    assert not InjectionSession.objects.filter(patient=patient, date=yesterday).exists()
    now = _shown_digest(html)
    assert now
    assert now != shown
    assert client.post(new, {**data, "checks_shown": now}).status_code == 302
    stored = InjectionSession.objects.get(patient=patient, date=yesterday)
    assert stored.overridden_checks == "interval,cumulative_dose"  # both seen now, and answered


@pytest.mark.parametrize("typed", ["", "0"])
def test_a_session_that_left_a_site_out_is_recorded_with_a_reason(client, world, patient, typed):
    """A fixed site left empty or at 0 (the patient fainted) is not given: without a reason the screen blocks on the
    dose check naming the site, and with one it records the 150 U at 30 sites given, 50 U discarded."""
    login(client, world, "nurse")
    skipped = {"units_trapezius-right-3": typed}
    page = client.get(new_url(patient)).content.decode()
    assert html.escape(str(SITE_NOT_GIVEN_HELP)) in page
    response = client.post(new_url(patient), {**screen_data(**skipped), "complications": "Fainted; recovered."})
    assert response.status_code == 200
    shown = html.unescape(response.content.decode())
    assert services.OVERRIDE_NEEDED.format(checks=selectors.check_title("site_dose")) in shown
    assert NOT_GIVEN in shown
    assert re.search(
        r'data-key="trapezius-right-3"[^>]*>\s*<title>[^<]*</title>\s*<circle[^>]*/>\s*<text[^>]*>0</text>', shown
    )
    assert not InjectionSession.objects.exists()
    response = client.post(
        new_url(patient),
        {**screen_data(override="Fainted after the second trapezius site.", **skipped), "complications": "Fainted."},
    )
    assert response.status_code == 302
    session = InjectionSession.objects.get(patient=patient, status=SessionStatus.RECORDED)
    assert (session.total_units, session.vials_used, session.discarded_units) == (150, 1, 50)
    assert session.sites.count() == 30
    assert (session.overridden_checks, session.override_reason) == (
        "site_dose",
        "Fainted after the second trapezius site.",
    )
    assert f"site_dose: {NOT_GIVEN}" in session.check_reasons.splitlines()


def test_extra_occipitalis_sites_past_the_derived_limit_are_recorded_with_a_reason(client, world, patient):
    """A session posted with 3 extra occipitalis and 2 extra trapezius sites (180 U) is blocked on the dose check,
    naming the occipitalis limit as derived (Blumenfeld 2010 states no number), not refused; with a reason it
    records all 36 sites."""
    login(client, world, "nurse")
    places = [("occipitalis", "left"), ("occipitalis", "right"), ("occipitalis", "left")]
    places += [("trapezius", "left"), ("trapezius", "right")]
    rows = [{"muscle": m, "side": side, "units": 5, "view": "back", "x": "", "y": ""} for m, side in places]
    response = client.post(new_url(patient), screen_data(ftp=rows))
    assert response.status_code == 200
    shown = html.unescape(response.content.decode())
    assert services.OVERRIDE_NEEDED.format(checks=selectors.check_title("site_dose")) in shown
    assert "follow-the-pain: occipitalis has 3 extra sites (45 U in the muscle)" in shown
    assert not InjectionSession.objects.exists()
    response = client.post(new_url(patient), screen_data(ftp=rows, override="Pain mostly at the back of the head."))
    assert response.status_code == 302
    session = InjectionSession.objects.get(patient=patient, status=SessionStatus.RECORDED)
    assert (session.total_units, session.sites.count(), session.overridden_checks) == (180, 36, "site_dose")


def _left_a_site_out(world, patient, reason):
    """A session recorded today by the nurse without trapezius right 3, the site-dose check overridden with
    ``reason``."""
    return record(
        user=world.users["nurse"],
        patient=patient,
        date=today(),
        today=today(),
        sites=fixed_entries(trapezius_right_3=0),
        override_reason=reason,
    )


def test_the_checks_at_recording_are_shown_under_their_titles_not_their_codes(client, world, patient):
    """The session page lists the reasons stored at recording under each check's title (they were shown as
    "site_dose: ..."), and a line naming no known check, as an import may carry, as it is."""
    session = _left_a_site_out(world, patient, "Fainted.")
    session.check_reasons += "\nweighed elsewhere: on paper"
    session.save()
    login(client, world, "clinician")
    page = html.unescape(client.get(reverse("injections:session_detail", args=[session.external_id])).content.decode())
    start = page.index("Checks at recording")
    notes = page[start : page.index("</details>", start)]
    for code in selectors.CheckCode:
        assert f"{code}: " not in notes
    stored = [line.partition(": ")[0] for line in session.check_reasons.splitlines()]
    codes = [code for code in dict.fromkeys(stored) if code in set(selectors.CheckCode)]
    assert "site_dose" in codes
    titles = [selectors.check_title(selectors.CheckCode(code)) for code in codes]
    shown = re.findall(r"<li><strong>([^<]*)</strong><ul>", notes)
    assert shown == [title[0].upper() + title[1:] for title in titles]
    assert f"<li>{NOT_GIVEN}</li>" in notes
    assert "<li>weighed elsewhere: on paper</li>" in notes


def test_billing_sees_the_units_given_and_discarded_of_a_partial_session(client, world, patient):
    """A session that left a site out is billed on the units given: J0585 150 U and 50 U discarded with JW."""
    sites = fixed_entries(trapezius_right_3=0)
    session = record(
        user=world.users["nurse"], patient=patient, date=today(), today=today(), sites=sites, override_reason="Fainted."
    )
    login(client, world, "billing")
    page = client.get(reverse("injections:session_detail", args=[session.external_id])).content.decode()
    assert '<tr><td>J0585</td><td>—</td><td class="num">150</td></tr>' in page
    assert '<tr><td>J0585</td><td>JW</td><td class="num">50</td></tr>' in page


def test_more_than_195_units_is_refused_on_the_screen(client, world, patient):
    """The engine's dose message is shown with the sites and the typed values are kept."""
    login(client, world, "nurse")
    response = client.post(new_url(patient), screen_data(**{"units_trapezius-right-3": 50}))
    html = response.content.decode()
    assert DOSE_LIMIT.format(total=200, sites=31, limit=195) in html
    assert 'name="units_trapezius-right-3" value="50"' in html
    assert not InjectionSession.objects.exists()


def test_errors_stay_next_to_their_fields(client, world, patient):
    """An expired product is refused next to the expiry field; the lot typed is kept."""
    login(client, world, "nurse")
    expired = today() - dt.timedelta(days=1)
    response = client.post(new_url(patient), screen_data(expiry=expired, lot="LOT-77"))
    html = response.content.decode()
    assert services.PRODUCT_EXPIRED.format(expiry=expired, date=today()) in html
    assert 'value="LOT-77"' in html
    assert not InjectionSession.objects.exists()


def test_a_follow_the_pain_site_is_added_without_javascript(client, world, patient):
    """ "Add site" re-renders the screen with a new extra site at 5 U, on the map and in the totals."""
    login(client, world, "nurse")
    data = {**screen_data(action="add_site"), "add-muscle": "trapezius", "add-side": "left"}
    response = client.post(new_url(patient), data)
    html = response.content.decode()
    assert 'name="ftp-0-muscle" value="trapezius"' in html
    assert 'aria-label="trapezius left, extra site 1, 5 U"' in html
    assert "160 U" in html
    assert not InjectionSession.objects.exists()


def test_adding_beyond_the_engines_limit_shows_its_message(client, world, patient):
    """A third temporalis extra site is refused with the engine's limit message."""
    login(client, world, "nurse")
    rows = [{"muscle": "temporalis", "side": "left", "units": 5, "view": "front", "x": "", "y": ""}] * 2
    data = {**screen_data(action="add_site", ftp=rows), "add-muscle": "temporalis", "add-side": "right"}
    html = client.post(new_url(patient), data).content.decode()
    assert "follow-the-pain: temporalis allows at most 2 extra sites (10 U), asked for 3" in html
    assert 'name="ftp-2-muscle"' not in html


def _ftp_row(muscle, side):
    region = sitemap.region_for(muscle, side)
    return {"muscle": muscle, "side": side, "units": 5, "view": region.view.value, "x": "", "y": ""}


def _dot(page, key):
    """The centre of the dot the map draws for ``key`` (e.g. "ftp-2")."""
    found = re.search(rf'data-key="{key}"[^>]*>\s*<title>[^<]*</title>\s*<circle cx="(\d+)" cy="(\d+)"', page)
    assert found is not None, key
    return int(found[1]), int(found[2])


def test_a_third_extra_occipitalis_site_is_added_as_a_departure_on_its_own_spot(client, world, patient):
    """Recording allows occipitalis past its derived limit of 2 extra sites: "Add site" adds a third (the planner's
    refusal is not shown), the screen says it needs a reason for overriding, the summary names the departure, and the
    third site on one side is drawn on its own default spot, not on the first."""
    login(client, world, "nurse")
    rows = [_ftp_row("occipitalis", "left")] * 2
    data = {**screen_data(action="add_site", ftp=rows), "add-muscle": "occipitalis", "add-side": "left"}
    page = html.unescape(client.post(new_url(patient), data).content.decode())
    assert 'name="ftp-2-muscle" value="occipitalis"' in page
    assert "occipitalis allows at most" not in page
    note = re.search(r"<p [^>]*data-ftp-departure[^>]*>([^<]*)</p>", page)
    assert note is not None
    assert note[1].strip() == views.derived_limit_message(Muscle.OCCIPITALIS)
    assert "follow-the-pain: occipitalis has 3 extra sites (45 U in the muscle)" in page
    assert 'aria-label="occipitalis left, extra site 3, 5 U"' in page
    third = sitemap.follow_the_pain_default("occipitalis", "left", 3)
    assert _dot(page, "ftp-2") == (third.x, third.y) != _dot(page, "ftp-0")
    assert not InjectionSession.objects.exists()


def test_within_the_derived_limit_the_screen_says_nothing_of_it(client, world, patient):
    """Two extra occipitalis sites are within every limit: no departure note."""
    login(client, world, "nurse")
    rows = [_ftp_row("occipitalis", "left"), _ftp_row("occipitalis", "right")]
    page = html.unescape(client.post(new_url(patient), screen_data(action="preview", ftp=rows)).content.decode())
    assert "data-ftp-departure" not in page


def test_adding_a_ninth_extra_site_is_refused_with_the_engines_total_limit(client, world, patient):
    """With 8 extra sites (2 temporalis, 2 trapezius, 4 occipitalis) another occipitalis site is refused with the
    engine's limit of 8 extra sites in all; the rows are kept."""
    login(client, world, "nurse")
    rows = [_ftp_row("temporalis", "left")] * 2 + [_ftp_row("trapezius", "right")] * 2
    rows += [_ftp_row("occipitalis", "left"), _ftp_row("occipitalis", "right")] * 2
    data = {**screen_data(action="add_site", ftp=rows), "add-muscle": "occipitalis", "add-side": "right"}
    page = html.unescape(client.post(new_url(patient), data).content.decode())
    total = FOLLOW_THE_PAIN_MAX_TOTAL_SITES
    message = FTP_TOTAL_LIMIT.format(
        limit=total, limit_units=total * UNITS_PER_SITE, max_sites=MAX_SESSION_SITES, count=total + 1
    )
    assert message in page
    assert 'name="ftp-7-muscle" value="occipitalis"' in page
    assert 'name="ftp-8-muscle"' not in page


def test_the_map_areas_carry_the_recording_limits(client, world, patient):
    """Each clickable area tells the map script the most extra sites recording allows in its muscle and the engine's
    refusal past them (temporalis 2; occipitalis only the 8 in all), and occipitalis its derived limit of 2 with the
    note that going past it needs a reason; the form carries the limit of 8 extra sites in all."""
    login(client, world, "nurse")
    page = html.unescape(client.get(new_url(patient)).content.decode())
    areas = {
        (found["muscle"], found["side"]): found
        for found in (
            match.groupdict()
            for match in re.finditer(
                r'data-muscle="(?P<muscle>\w+)" data-side="(?P<side>\w+)" data-view="\w+" '
                r'data-limit="(?P<limit>\d+)"\s+data-limit-message="(?P<message>[^"]*)"\s+'
                r'data-derived-limit="(?P<derived>\d*)" data-derived-message="(?P<derived_message>[^"]*)"',
                page,
            )
        )
    }
    assert len(areas) == 2 * len(FOLLOW_THE_PAIN_MAX_SITES)
    temporalis, occipitalis = areas["temporalis", "left"], areas["occipitalis", "right"]
    assert (temporalis["limit"], temporalis["derived"], temporalis["derived_message"]) == ("2", "", "")
    assert temporalis["message"] == follow_the_pain_refusals({Muscle.TEMPORALIS: 3})[0][1]
    assert occipitalis["limit"] == str(FOLLOW_THE_PAIN_MAX_TOTAL_SITES)
    assert occipitalis["message"] == follow_the_pain_refusals({Muscle.OCCIPITALIS: 9})[0][1]
    assert occipitalis["derived"] == str(FOLLOW_THE_PAIN_MAX_SITES[Muscle.OCCIPITALIS])
    assert occipitalis["derived_message"] == views.derived_limit_message(Muscle.OCCIPITALIS)
    assert f'data-ftp-total-limit="{FOLLOW_THE_PAIN_MAX_TOTAL_SITES}"' in page
    assert f'data-ftp-total-message="{follow_the_pain_refusals({Muscle.OCCIPITALIS: 9})[0][1]}"' in page


def test_a_follow_the_pain_site_is_removed_without_javascript(client, world, patient):
    """ "Remove" drops the row and renumbers the rest."""
    login(client, world, "nurse")
    rows = [
        {"muscle": "trapezius", "side": "left", "units": 5, "view": "back", "x": 240, "y": 908},
        {"muscle": "occipitalis", "side": "right", "units": 5, "view": "back", "x": "", "y": ""},
    ]
    html = client.post(new_url(patient), {**screen_data(action="preview", ftp=rows), "remove": "0"}).content.decode()
    assert 'name="ftp-0-muscle" value="occipitalis"' in html
    assert "trapezius left, extra site" not in html


def test_a_site_clicked_on_the_map_is_recorded_where_it_was_placed(client, world, patient):
    """An extra site posted with its map point is stored with it."""
    login(client, world, "nurse")
    rows = [{"muscle": "trapezius", "side": "left", "units": 5, "view": "back", "x": 240, "y": 908}]
    assert client.post(new_url(patient), screen_data(ftp=rows)).status_code == 302
    site = InjectionSession.objects.get(status=SessionStatus.RECORDED).sites.get(follow_the_pain=True)
    assert (site.muscle, site.side, site.view, site.x, site.y) == ("trapezius", "left", "back", 240, 908)


def test_the_live_summary_is_a_partial(client, world, patient):
    """The screen's script posts the form and gets back only the engine's summary."""
    login(client, world, "nurse")
    data = screen_data(action="preview", **{"units_temporalis-left-1": 10})
    response = client.post(new_url(patient), data, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert "<html" not in html
    assert "160 U" in html
    assert "40 U" in html  # discarded from the 200 U vial
    assert not InjectionSession.objects.exists()


def test_the_checks_say_a_failed_check_will_be_overridden_once_a_reason_is_typed(client, world, patient):
    """A session 10 days after the last fails the 12-week check: the live checks say recording is blocked until a
    reason is given, and once one is typed, that the check will be recorded as overridden with it."""
    InjectionSessionFactory(patient=patient, date=today() - dt.timedelta(days=10), status=SessionStatus.RECORDED)
    login(client, world, "clinician")
    blocked = client.post(new_url(patient), screen_data(action="preview"), HTTP_HX_REQUEST="true").content.decode()
    assert "Recording is blocked" in blocked
    assert "failed — recording needs an override reason" in blocked
    data = screen_data(action="preview", override="flare after a missed dose; agreed with the patient")
    given = client.post(new_url(patient), data, HTTP_HX_REQUEST="true").content.decode()
    assert "Recording is blocked" not in given
    assert "To be recorded as overridden, with your reason:" in given
    assert "failed — to be recorded as overridden, with your reason" in given


def test_a_date_after_today_is_refused_by_the_form(client, world, patient):
    """The date field refuses a future day."""
    login(client, world, "nurse")
    response = client.post(new_url(patient), screen_data(day=today() + dt.timedelta(days=2)))
    assert "This date is after today." in response.content.decode()


# --- The recorded session -----------------------------------------------------------------------------------------


@pytest.fixture
def recorded(world, patient):
    return record(
        user=world.users["nurse"],
        patient=patient,
        date=today(),
        today=today(),
        complications="Vasovagal episode, recovered lying flat",
    )


def detail_url(session):
    return reverse("injections:session_detail", args=[session.external_id])


def test_clinicians_see_the_whole_session(client, world, recorded):
    """The clinician sees the sites, product, vials, JW wastage, who injected and the complications."""
    login(client, world, "clinician")
    html = client.get(detail_url(recorded)).content.decode()
    assert "C1234AB" in html
    assert "45 U" in html
    assert "JW" in html
    assert "nurse" in html
    assert "Vasovagal episode" in html
    assert len(re.findall(r'<a href="#site-', html)) == 31


TRAPEZIUS_RIGHT_LEFT_OUT = {f"units_trapezius-right-{index}": "0" for index in (1, 2, 3)}


def _not_given_cells(page):
    """The keys of the sites table's cells marked "not given"."""
    return re.findall(
        r'<span class="site-cell not-given" id="site-([a-z-]+-\d)"><span class="muted">\d:</span> '
        r'<span class="badge">not given</span></span>',
        page,
    )


def test_the_session_page_shows_the_fixed_sites_not_given_as_the_procedure_note_names_them(client, world, patient):
    """A session recorded with trapezius right 1-3 at 0 U (overridden with a reason): the sites table has a trapezius
    right row marking each "not given" (0 U in all), the map draws each as a hollow marker linked to its cell and
    named "trapezius right 1, not given", and the page says "Fixed sites not given (3): ..." in the procedure note's
    words, from the same rule (``coverage.documents.fixed_sites_not_given``), so page and PDF agree."""
    login(client, world, "nurse")
    data = screen_data(override="Patient fainted after the left side.", **TRAPEZIUS_RIGHT_LEFT_OUT)
    assert client.post(new_url(patient), data).status_code == 302
    session = InjectionSession.objects.get(patient=patient, status=SessionStatus.RECORDED)
    login(client, world, "clinician")
    page = client.get(detail_url(session)).content.decode()
    keys = [f"trapezius-right-{index}" for index in (1, 2, 3)]
    assert _not_given_cells(page) == keys
    assert re.search(
        r'<td>right</td>\s*<td><div class="site-cells">(?:(?!</tr>).)*<td class="num">0 U</td>', page, re.S
    )
    for index, key in enumerate(keys, start=1):
        marker = re.search(
            rf'<a href="#site-{key}" class="site not-given" data-key="{key}" aria-label="([^"]+)">', page
        )
        assert marker, key
        assert marker.group(1) == f"trapezius right {index}, not given"
    assert len(re.findall(r'<a href="#site-', page)) == 31  # 28 given, 3 not given: every fixed site once
    names = fixed_sites_not_given(session, selectors.session_plan(session))
    assert names == ["trapezius right 1", "trapezius right 2", "trapezius right 3"]
    assert f"Fixed sites not given (3): {', '.join(names)}." in page
    assert '<span class="dot not-given"></span>fixed site not given</li>' in page


def test_a_fixed_site_stored_at_0_units_is_shown_not_given_once(client, world, recorded):
    """A site stored at 0 U (an import may store one) is not given: one "not given" cell and one hollow marker, not
    also a "0 U" dot; a session giving every fixed site shows neither, nor the legend's entry."""
    login(client, world, "clinician")
    full = client.get(detail_url(recorded)).content.decode()
    assert "not-given" not in full
    assert "Fixed site not given" not in full
    assert "Fixed sites not given" not in full
    recorded.sites.filter(muscle="temporalis", side="left").order_by("pk")[1:2].get().delete()
    InjectionSiteRecord.objects.filter(session=recorded, muscle="frontalis", side="right").update(units=0)
    page = client.get(detail_url(recorded)).content.decode()
    assert _not_given_cells(page) == ["frontalis-right-1", "frontalis-right-2", "temporalis-left-2"]
    assert len(re.findall(r'<a href="#site-', page)) == 31
    assert "Fixed sites not given (3): frontalis right 1, frontalis right 2, temporalis left 2." in page


# --- Who injected: the session form's "Injected by" ---------------------------------------------------------------


@pytest.fixture
def other_staff(world):
    """A clinician of another clinic and a nurse of this one whose account is closed."""
    return {
        "far.clinician": UserFactory(username="far.clinician", role=Role.CLINICIAN, clinic=world.other_clinic),
        "gone.nurse": UserFactory(username="gone.nurse", role=Role.NURSE, clinic=world.clinic, is_active=False),
    }


def _injector_options(page):
    select = re.search(r'<select name="injector"[^>]*>(.*?)</select>', page, re.S)
    assert select, "no injector field"
    return re.findall(r'<option value="([0-9a-f-]{36})"( selected)?>([^<]*)</option>', select.group(1))


def test_the_session_form_offers_the_clinics_injectors_and_defaults_to_the_user(client, world, patient, other_staff):
    """ "Injected by" lists the active clinicians and nurses of the patient's clinic (who may record sessions), by
    name and role, the nurse recording chosen; no billing, administrator's, patient's or trainee's account, no other
    clinic's clinician, no closed account."""
    nurse = login(client, world, "nurse")
    options = _injector_options(client.get(new_url(patient)).content.decode())
    clinician = world.users["clinician"]
    assert options == [
        (str(clinician.external_id), "", "clinician (Clinician)"),
        (str(nurse.external_id), " selected", "nurse (Nurse)"),
    ]
    assert '<label for="id_injector">Injected by</label>' in client.get(new_url(patient)).content.decode()


def test_a_nurse_charting_for_the_clinician_records_the_clinician_as_injector(client, world, patient):
    """A nurse records the session the clinician injected: the session, its page, the procedure note (its name line
    the clinician's, the nurse as who prepared it) and the after-care sheet name the clinician; the audit trail
    names the nurse as who recorded, and the injector in its detail."""
    nurse = login(client, world, "nurse")
    clinician = world.users["clinician"]
    response = client.post(new_url(patient), {**screen_data(), "injector": str(clinician.external_id)})
    assert response.status_code == 302
    session = InjectionSession.objects.get(patient=patient, status=SessionStatus.RECORDED)
    assert session.injector == clinician
    event = AuditEvent.objects.get(object_type="injection_session", object_id=str(session.external_id))
    assert event.user == nurse
    assert event.detail.endswith("; injected by clinician")
    page = client.get(detail_url(session)).content.decode()
    assert "<dt>Injected by</dt><dd>clinician</dd>" in page
    note = document_context(DocumentKind.PROCEDURE, patient=patient, today=today(), user=nurse)
    assert (note["sign_name"], note["prepared_by"]) == ("clinician", "nurse")
    sheet = render_to_string(
        DocumentKind.PATIENT_SUMMARY.template,
        document_context(DocumentKind.PATIENT_SUMMARY, patient=patient, today=today(), user=nurse),
    )
    assert "The injections were given by clinician." in sheet


def test_a_session_form_without_the_injector_field_records_the_user(client, world, patient):
    """A screen opened before the field existed posts no injector: the one recording injected, as before, and the
    audit detail names no one else."""
    nurse = login(client, world, "nurse")
    assert client.post(new_url(patient), screen_data()).status_code == 302
    session = InjectionSession.objects.get(patient=patient, status=SessionStatus.RECORDED)
    assert session.injector == nurse
    event = AuditEvent.objects.get(object_type="injection_session", object_id=str(session.external_id))
    assert "injected by" not in event.detail


@pytest.mark.parametrize("who", ["billing", "admin", "patient", "trainee", "far.clinician", "gone.nurse"])
def test_a_tampered_injector_is_refused_on_its_field(client, world, patient, other_staff, who):
    """A post naming as injector a billing, administrator's, patient's or trainee's account, another clinic's
    clinician or a closed nurse's account is refused with INJECTOR_NOT_ALLOWED on the field (and in the summary at
    the top); nothing is recorded. The service refuses them too, for any caller (the API's path)."""
    login(client, world, "nurse")
    account = other_staff.get(who) or world.users[who]
    response = client.post(new_url(patient), {**screen_data(), "injector": str(account.external_id)})
    assert response.status_code == 200
    page = html.unescape(response.content.decode())
    assert f'<ul class="errorlist" id="id_injector_error"><li>{services.INJECTOR_NOT_ALLOWED}</li></ul>' in page
    assert f'<a href="#id_injector">Injected by: {services.INJECTOR_NOT_ALLOWED}</a>' in page
    assert not InjectionSession.objects.filter(status=SessionStatus.RECORDED).exists()
    with pytest.raises(services.SessionRefusedError) as refused:
        record(user=world.users["nurse"], patient=patient, date=today(), today=today(), injector=account)
    assert refused.value.problems == (("injector", services.INJECTOR_NOT_ALLOWED),)


LEGEND = '<span class="dot nonstandard"></span>not {units} U</li>'
FTP_LIMITS = (
    "Up to {temporalis} in temporalis and {trapezius} in trapezius, {total} in all ({units} U). More than "
    "{occipitalis} in occipitalis is a departure: that limit is derived from the {units} U cap, not stated in "
    "Blumenfeld 2010, so recording it needs a reason for overriding."
)


def engine_numbers(monkeypatch):
    """Give the views other label numbers than the engine's (6 U per site; 1, 3 and 2 follow-the-pain sites, 6 in
    all)."""
    monkeypatch.setattr(views, "UNITS_PER_SITE", 6)
    sites = {Muscle.TEMPORALIS: 1, Muscle.OCCIPITALIS: 3, Muscle.TRAPEZIUS: 2}
    monkeypatch.setattr(views, "FOLLOW_THE_PAIN_MAX_SITES", sites)
    monkeypatch.setattr(views, "FOLLOW_THE_PAIN_MAX_TOTAL_SITES", 6)


def test_the_session_screen_prints_the_engines_label_dose(client, world, patient):
    """The screen's legend, its follow-the-pain note and the units the map script gives an added site are the
    engine's: 5 U per site; 2 and 4 extra sites, 8 in all (40 U), occipitalis's derived 2 (``UNITS_PER_SITE``,
    ``FOLLOW_THE_PAIN_MAX_SITES``, ``FOLLOW_THE_PAIN_MAX_TOTAL_SITES``)."""
    login(client, world, "nurse")
    page = html.unescape(client.get(new_url(patient)).content.decode())
    limits = {muscle.value: count for muscle, count in FOLLOW_THE_PAIN_MAX_SITES.items()}
    total = FOLLOW_THE_PAIN_MAX_TOTAL_SITES
    assert f'data-units-per-site="{UNITS_PER_SITE}"' in page
    assert LEGEND.format(units=UNITS_PER_SITE) in page
    assert FTP_LIMITS.format(total=total, units=total * UNITS_PER_SITE, **limits) in page
    assert "None added." in page


def test_the_session_screen_follows_the_label_dose_constants(client, world, patient, monkeypatch):
    """Were the label's numbers different, the screen would print them: none of them is retyped in the template."""
    engine_numbers(monkeypatch)
    login(client, world, "nurse")
    page = html.unescape(client.get(new_url(patient)).content.decode())
    assert 'data-units-per-site="6"' in page
    assert LEGEND.format(units=6) in page
    assert FTP_LIMITS.format(temporalis=1, occipitalis=3, trapezius=2, total=6, units=36) in page


def test_the_session_page_legend_follows_the_label_dose(client, world, recorded, monkeypatch):
    """The recorded session's map legend names the engine's units per site, whatever that is."""
    login(client, world, "clinician")
    assert LEGEND.format(units=UNITS_PER_SITE) in client.get(detail_url(recorded)).content.decode()
    engine_numbers(monkeypatch)
    assert LEGEND.format(units=6) in client.get(detail_url(recorded)).content.decode()


def test_billing_sees_product_units_and_codes_but_no_clinical_notes(client, world, recorded):
    """Billing staff see lot, units, vials and codes; not complications, check reasons or side effects."""
    login(client, world, "billing")
    response = client.get(detail_url(recorded))
    html = response.content.decode()
    assert response.status_code == 200
    assert "C1234AB" in html
    assert "J0585" in html
    assert "64615" in html
    assert "Vasovagal" not in html
    assert "Clinical notes" not in html
    assert "12-week rule" not in html
    event = AuditEvent.objects.get(action=Action.READ, object_type="injection_session")
    assert event.detail == "billing view"


def test_billing_is_shown_only_the_overrides_a_claim_turns_on_without_the_reason(client, world, recorded):
    """Which checks a clinician overrode (a contraindication on the safety screen among them) and why is clinical,
    as the API, the admin and the PDF treat it: the clinician's page names them all; the billing view names only
    the overrides a claim turns on (here the 12-week interval: payers cover no more often), by title, never the
    reason typed for overriding."""
    from onaboard.web.injections.selectors import CheckCode, check_title

    InjectionSession.objects.filter(pk=recorded.pk).update(
        overridden_checks=f"{CheckCode.INTERVAL.value},{CheckCode.CONTRAINDICATION.value}",
        override_reason="Agreed with the patient",
    )
    title = html.escape(check_title(CheckCode.CONTRAINDICATION))
    login(client, world, "clinician")
    assert title in client.get(detail_url(recorded)).content.decode()
    login(client, world, "billing")
    page = client.get(detail_url(recorded)).content.decode()
    assert title not in page
    assert "Agreed with the patient" not in page
    assert "Checks overridden when the session was recorded, which the claim may turn on" in page
    assert f"<strong>{html.escape(check_title(CheckCode.INTERVAL)).capitalize()}</strong>" in page


def test_a_patient_sees_their_own_session_only(client, world, recorded):
    """The patient opens their own session; another patient's is not found."""
    login(client, world, "patient")
    assert client.get(detail_url(recorded)).status_code == 200
    other = record(user=world.users["nurse"], patient=world.same_clinic_patient, date=today(), today=today())
    assert client.get(detail_url(other)).status_code == 404


def test_trainees_and_other_clinics_see_no_session(client, world, recorded):
    """A trainee, and a clinician of another clinic, get "not found"."""
    login(client, world, "trainee")
    assert client.get(detail_url(recorded)).status_code == 404
    UserFactory(username="far-clinician", role=Role.CLINICIAN, clinic=world.other_clinic)
    assert client.login(username="far-clinician", password=PASSWORD)
    assert client.get(detail_url(recorded)).status_code == 404


def test_an_override_shows_on_the_session(client, world, patient):
    """The overridden check and its reason are on the session page for clinicians; billing sees the 12-week
    interval a claim turns on, with the record's figures, never the reason (as in the API, the admin and the PDF)."""
    record(user=world.users["nurse"], patient=patient, date=today() - dt.timedelta(days=20), today=today())
    session = record(
        user=world.users["clinician"],
        patient=patient,
        date=today(),
        today=today(),
        override_reason="Agreed with Dr Lee",
    )
    login(client, world, "clinician")
    html = client.get(detail_url(session)).content.decode()
    assert "12-week interval" in html
    assert "Agreed with Dr Lee" in html
    client.logout()
    login(client, world, "billing")
    html = client.get(detail_url(session)).content.decode()
    earlier = (today() - dt.timedelta(days=20)).isoformat()
    assert f"12-week interval</strong>: given 20 days after the session of {earlier} (at least 84 days apart)" in html
    assert "Agreed with Dr Lee" not in html


# --- Booking --------------------------------------------------------------------------------------------------------


def test_the_next_session_date_can_be_changed(client, world, recorded):
    """A nurse moves the booking; the session page then shows the new date."""
    login(client, world, "nurse")
    booking = InjectionSession.objects.get(status=SessionStatus.BOOKED)
    url = reverse("injections:session_book", args=[booking.external_id])
    assert client.get(url).status_code == 200
    new_date = booking.date + dt.timedelta(days=2)
    response = client.post(url, {"date": new_date.isoformat(), "version": "1"}, follow=True)
    assert f"Booked for <strong>{new_date.isoformat()}</strong>" in response.content.decode()
    booking.refresh_from_db()
    assert (booking.date, booking.version) == (new_date, 2)


def test_a_booking_in_the_past_is_refused_next_to_the_date(client, world, recorded):
    """The date field shows why the booking was not moved."""
    login(client, world, "nurse")
    booking = InjectionSession.objects.get(status=SessionStatus.BOOKED)
    past = today() - dt.timedelta(days=1)
    url = reverse("injections:session_book", args=[booking.external_id])
    html = client.post(url, {"date": past.isoformat(), "version": "1"}).content.decode()
    assert services.BOOKING_IN_PAST.format(date=past, today=today()) in html


@pytest.mark.parametrize("role", CANNOT_RECORD)
def test_only_clinicians_and_nurses_move_bookings(client, world, recorded, role):
    """Every other role gets "not found" on the booking form."""
    login(client, world, role)
    booking = InjectionSession.objects.get(status=SessionStatus.BOOKED)
    assert client.get(reverse("injections:session_book", args=[booking.external_id])).status_code == 404


# --- Side effects -----------------------------------------------------------------------------------------------------

REPORT_URL = "injections:report_side_effect"


def report(client, kind="neck_pain", onset=None, severity="moderate"):
    data = {"kind": kind, "onset": (onset or today()).isoformat(), "severity": severity, "description": "since Tuesday"}
    return client.post(reverse(REPORT_URL), data, follow=True)


def test_the_patient_reports_a_side_effect_attributed_to_their_last_session(client, world, recorded):
    """The report is saved for the patient's own record and attributed to the session before it started."""
    login(client, world, "patient")
    form = client.get(reverse(REPORT_URL))
    assert form.status_code == 200
    assert "Seek medical care now if you have:" in form.content.decode()
    response = report(client)
    effect = SideEffect.objects.get()
    assert (effect.patient, effect.session, effect.reported_by) == (world.own_patient, recorded, world.users["patient"])
    assert "Your report was sent" in response.content.decode()
    assert "Seek medical care now</h2>" not in response.content.decode()


def test_an_urgent_side_effect_tells_the_patient_to_seek_care_now(client, world, recorded):
    """Trouble swallowing (possible distant spread of toxin effect) shows the urgent advice after sending."""
    login(client, world, "patient")
    html = report(client, kind="dysphagia", severity="severe").content.decode()
    assert "Seek medical care now</h2>" in html
    assert 'role="alert"' in html


def test_a_side_effect_report_keeps_what_was_typed_when_refused(client, world, recorded):
    """An onset after today is refused next to the field; the choice made is kept."""
    login(client, world, "patient")
    response = report(client, onset=today() + dt.timedelta(days=3))
    html = response.content.decode()
    assert "This date is after today." in html
    assert re.search(r'<input[^>]*value="neck_pain"[^>]*checked', html)
    assert not SideEffect.objects.exists()


@pytest.mark.parametrize("role", ["billing", "admin", "trainee"])
def test_roles_without_a_diary_cannot_report(client, world, role):
    """Billing, admin and trainees cannot report side effects."""
    login(client, world, role)
    assert client.get(reverse(REPORT_URL), {"patient": world.own_patient.external_id}).status_code == 404


def test_a_nurse_reports_for_a_patient_of_the_clinic(client, world, recorded):
    """Staff report on a patient's behalf with ?patient=<id>; another clinic's patient is not found."""
    login(client, world, "nurse")
    url = reverse(REPORT_URL) + f"?patient={world.own_patient.external_id}"
    data = {"kind": "eyelid_ptosis", "onset": today().isoformat(), "severity": "mild", "description": ""}
    assert client.post(url, data).status_code == 302
    assert SideEffect.objects.get().reported_by == world.users["nurse"]
    far = reverse(REPORT_URL) + f"?patient={world.other_clinic_patient.external_id}"
    assert client.get(far).status_code == 404


def test_a_clinician_grades_and_attributes_a_side_effect(client, world, recorded):
    """The review form saves grade, relatedness and session, and is audited."""
    effect = services.side_effect_report(
        user=world.users["patient"], patient=world.own_patient, kind="neck_pain", onset=today(), severity="severe"
    )
    login(client, world, "clinician")
    url = reverse("injections:side_effect_review", args=[effect.external_id])
    form = client.get(url).content.decode()
    assert f'value="{recorded.external_id}" selected' in form
    data = {"grade": "moderate", "related": "yes", "session": str(recorded.external_id)}
    assert client.post(url, data).status_code == 302
    effect.refresh_from_db()
    assert (effect.clinician_grade, effect.related_to_treatment, effect.session) == ("moderate", True, recorded)
    assert AuditEvent.objects.filter(object_type="side_effect", action=Action.UPDATE).exists()


def test_a_stale_review_does_not_overwrite_a_newer_one(client, world, recorded):
    """Two clinicians open the review; the second to save is refused (nothing saved, the reason shown) instead of
    silently replacing the first one's grade and relatedness."""
    effect = services.side_effect_report(
        user=world.users["patient"], patient=world.own_patient, kind="dysphagia", onset=today(), severity="severe"
    )
    login(client, world, "clinician")
    url = reverse("injections:side_effect_review", args=[effect.external_id])
    seen = re.search(r'name="seen" value="([^"]+)"', client.get(url).content.decode()).group(1)
    first = {"grade": "severe", "related": "yes", "session": str(recorded.external_id), "seen": seen}
    assert client.post(url, first).status_code == 302
    stale = {"grade": "mild", "related": "no", "session": "", "seen": seen}
    response = client.post(url, stale)
    assert response.status_code == 200
    assert "nothing was saved" in response.content.decode()
    effect.refresh_from_db()
    assert (effect.clinician_grade, effect.related_to_treatment, effect.session) == ("severe", True, recorded)


def test_a_review_lowering_the_last_asks_why_and_the_pages_keep_every_review(client, world, recorded):
    """A nurse's review grading mild what a nurse graded severe comes back asking for the reason (at the reason
    field, the earlier review named), and is saved with one; the side effect's page then lists both reviews, who and
    why, for staff, and says who gave the grade; the patient's page lists none. A clinician's grade, the nurse may
    not lower: the form says so, naming the clinician's review, and keeps nothing. (The patient reported it mild: a
    nurse may not grade below the patient's own severity before a clinician has reviewed it.)"""
    effect = services.side_effect_report(
        user=world.users["patient"], patient=world.own_patient, kind="eyelid_ptosis", onset=today(), severity="mild"
    )
    services.side_effect_review(
        user=world.users["nurse"], side_effect=effect, grade="severe", related_to_treatment=True, session=recorded
    )
    login(client, world, "nurse")
    url = reverse("injections:side_effect_review", args=[effect.external_id])
    data = {"grade": "mild", "related": "yes", "session": str(recorded.external_id)}
    refused = html.unescape(client.post(url, data).content.decode())
    assert re.search(r'<ul class="errorlist" id="id_reason_error"><li>Give the reason for this change: ', refused)
    assert client.post(url, {**data, "reason": "Examined: slight droop, resolving."}).status_code == 302
    detail = reverse("injections:side_effect_detail", args=[effect.external_id])
    page = html.unescape(client.get(detail).content.decode())
    table = page[page.index('id="side-effect-reviews"') :]
    assert table.index("Severe") < table.index("Mild") < table.index("Examined: slight droop, resolving.")
    assert "(by nurse, " in page
    services.side_effect_review(
        user=world.users["clinician"], side_effect=effect, grade="severe", related_to_treatment=True, session=recorded
    )
    overruled = html.unescape(client.post(url, {**data, "reason": "Looks better to me."}).content.decode())
    assert "a clinician, reviewed it on " in overruled
    assert "Only a clinician may lower that grade" in overruled
    assert effect.reviews.count() == 3
    login(client, world, "patient")
    assert 'id="side-effect-reviews"' not in client.get(detail).content.decode()


@pytest.mark.parametrize("role", ["patient", "billing", "admin", "trainee"])
def test_only_clinical_staff_review_side_effects(client, world, recorded, role):
    """A patient (even for their own report), billing, admin and trainees cannot review."""
    effect = services.side_effect_report(
        user=world.users["patient"], patient=world.own_patient, kind="neck_pain", onset=today(), severity="severe"
    )
    login(client, world, role)
    url = reverse("injections:side_effect_review", args=[effect.external_id])
    assert client.get(url).status_code == 404
    assert client.post(url, {"grade": "mild", "related": "no", "session": ""}).status_code == 404


def test_billing_cannot_read_a_side_effect(client, world, recorded):
    """Side effects are clinical: billing staff get "not found"."""
    effect = services.side_effect_report(
        user=world.users["patient"], patient=world.own_patient, kind="neck_pain", onset=today(), severity="mild"
    )
    login(client, world, "billing")
    assert client.get(reverse("injections:side_effect_detail", args=[effect.external_id])).status_code == 404


def test_a_session_recorded_elsewhere_without_sites_or_injector_still_shows(client, world, patient):
    """A recorded session imported without its sites or injector renders with blanks, not an error."""
    session = InjectionSession.objects.create(
        patient=patient, date=today(), status=SessionStatus.RECORDED, total_units=155, vials_used=1, discarded_units=45
    )
    login(client, world, "clinician")
    response = client.get(detail_url(session))
    assert response.status_code == 200
    assert "155 U" in response.content.decode()


def test_something_else_without_a_description_asks_what_happened(client, world, recorded):
    """A report of "something else" with an empty description is refused on the description, the choice kept."""
    login(client, world, "patient")
    data = {"kind": "other", "onset": today().isoformat(), "severity": "moderate", "description": "  "}
    response = client.post(reverse(REPORT_URL), data)
    html = response.content.decode()
    assert response.status_code == 200
    assert re.search(r'<ul class="errorlist" id="id_description_error"><li>Say in a few words what happened', html)
    assert re.search(r'<input[^>]*value="other"[^>]*checked', html)
    assert not SideEffect.objects.exists()
    data["description"] = "A rash on my forehead"
    assert client.post(reverse(REPORT_URL), data).status_code == 302
    assert SideEffect.objects.get().description == "A rash on my forehead"


def test_an_allergic_reaction_tells_the_patient_to_seek_care_now(client, world, recorded):
    """The report form lists an allergic reaction among the kinds needing care now, and sending one shows the urgent
    advice worded for an allergic reaction, not for spread of the medicine."""
    login(client, world, "patient")
    form = client.get(reverse(REPORT_URL)).content.decode()
    urgent_list = re.search(r'<div class="urgent" id="urgent-advice">.*?</ul>', form, flags=re.DOTALL).group(0)
    assert "<li>Allergic reaction</li>" in urgent_list
    html = report(client, kind="hypersensitivity", severity="moderate").content.decode()
    assert "Seek medical care now</h2>" in html
    assert "An allergic reaction to the medicine can become serious quickly." in html
    assert "spread beyond where it was injected" not in html


def test_the_review_form_leaves_the_clinicians_grade_unchosen(client, world, recorded):
    """An unreviewed side effect's review form has no grade chosen (the patient's severity is shown beside it, not
    pre-selected as the clinician's), and saving without choosing one is refused with nothing stored."""
    effect = services.side_effect_report(
        user=world.users["patient"], patient=world.own_patient, kind="neck_pain", onset=today(), severity="severe"
    )
    login(client, world, "clinician")
    url = reverse("injections:side_effect_review", args=[effect.external_id])
    form = client.get(url).content.decode()
    assert not re.search(r'<input[^>]*name="grade"[^>]*checked', form)
    assert "The patient reported it as severe." in form
    seen = re.search(r'name="seen" value="([^"]+)"', form).group(1)
    response = client.post(url, {"related": "yes", "session": str(recorded.external_id), "seen": seen})
    assert response.status_code == 200
    assert "Choose the clinician&#x27;s grade." in response.content.decode()
    effect.refresh_from_db()
    assert (effect.clinician_grade, effect.reviewed_by) == ("", None)
    assert client.post(url, {"grade": "mild", "related": "yes", "session": "", "seen": seen}).status_code == 302
    again = client.get(url).content.decode()
    assert re.search(r'<input[^>]*name="grade"[^>]*value="mild"[^>]*checked', again)


def test_the_review_of_an_allergic_reaction_says_what_the_label_asks(client, world, recorded):
    """An allergic reaction's review names a possible hypersensitivity reaction (stop further injection), not distant
    spread of toxin effect."""
    effect = services.side_effect_report(
        user=world.users["patient"], patient=world.own_patient, kind="hypersensitivity", onset=today(), severity="mild"
    )
    login(client, world, "clinician")
    html = client.get(reverse("injections:side_effect_review", args=[effect.external_id])).content.decode()
    assert "possible hypersensitivity reaction (BOTOX Warnings and Precautions)" in html
    assert "distant spread" not in html


# --- A stale booking screen, the message after recording, moving and cancelling a booking --------------------------


def test_a_stale_booking_screen_records_nothing_whatever_its_date(client, world, patient):
    """A second tab on a booking recorded meanwhile, sent with an earlier date and an override reason, writes nothing
    and says the booking is already recorded instead of showing checks that passed; the screen's live totals say
    the same where the totals go, not a whole page; a cancelled booking says it was cancelled."""
    nurse = login(client, world, "nurse")
    record(user=nurse, patient=patient, date=today() - dt.timedelta(days=90), today=today())
    booking = InjectionSession.objects.get(patient=patient, status=SessionStatus.BOOKED)
    booking.date = today()
    booking.save()
    url = reverse("injections:session_record", args=[booking.external_id])
    assert client.post(url, {**screen_data(), "version": "1"}).status_code == 302
    before = InjectionSession.objects.filter(patient=patient).count()
    stale = screen_data(day=today() - dt.timedelta(days=1), override="the patient travels tomorrow")
    response = client.post(url, {**stale, "version": "1"}, follow=True)
    assert html.escape(services.BOOKING_ALREADY_RECORDED) in response.content.decode()
    assert response.redirect_chain[-1][0] == reverse("injections:session_detail", args=[booking.external_id])
    assert InjectionSession.objects.filter(patient=patient).count() == before
    assert not InjectionSession.objects.filter(patient=patient, date=today() - dt.timedelta(days=1)).exists()
    preview = client.post(url, {**stale, "action": "preview", "version": "1"}, headers={"HX-Request": "true"})
    assert preview.status_code == 200
    assert "<html" not in preview.content.decode()
    assert html.escape(services.BOOKING_ALREADY_RECORDED) in preview.content.decode()
    cancelled = InjectionSession.objects.create(patient=patient, date=today(), status=SessionStatus.CANCELLED)
    gone = client.get(reverse("injections:session_record", args=[cancelled.external_id]), follow=True)
    assert html.escape(services.BOOKING_CANCELLED) in gone.content.decode()


def test_an_earlier_session_entered_late_does_not_claim_the_booking_is_12_weeks_later(client, world, patient):
    """After an earlier session entered late, the message names the open booking as it stays, not "12 weeks
    later"."""
    nurse = login(client, world, "nurse")
    record(user=nurse, patient=patient, date=today() - dt.timedelta(days=100), today=today())
    booking = InjectionSession.objects.get(patient=patient, status=SessionStatus.BOOKED)
    response = client.post(new_url(patient), screen_data(day=today() - dt.timedelta(days=200)), follow=True)
    page = response.content.decode()
    assert "Session recorded. The next session stays booked for " + booking.date.isoformat() in page
    assert "12 weeks later" not in page


def test_a_late_entered_latest_session_says_the_new_booking_is_today_to_be_moved(client, world, patient):
    """The latest session recorded 100 days after it was given books the next one on today (its 12-week date has
    passed): the message says it was booked so, not that a booking "stays"."""
    login(client, world, "nurse")
    late = today() - dt.timedelta(days=100)
    response = client.post(
        new_url(patient), screen_data(day=late, expiry=today() + dt.timedelta(days=300)), follow=True
    )
    page = response.content.decode()
    assert f"Session recorded. Next session booked for {today().isoformat()}: the 12-week date had passed." in page
    assert "stays booked" not in page


def test_recording_on_the_day_says_12_weeks_later(client, world, patient):
    """Recorded on the day, the new booking is 84 days later and the message says "12 weeks later"."""
    login(client, world, "nurse")
    response = client.post(new_url(patient), screen_data(), follow=True)
    due = (today() + dt.timedelta(days=84)).isoformat()
    assert f"Session recorded. Next session booked for {due} (12 weeks later)." in response.content.decode()


def _booking(patient, nurse, *, days_ago=30):
    record(user=nurse, patient=patient, date=today() - dt.timedelta(days=days_ago), today=today())
    return InjectionSession.objects.get(patient=patient, status=SessionStatus.BOOKED)


def test_moving_a_booking_within_12_weeks_is_saved_with_a_warning(client, world, patient):
    """A booking moved to tomorrow, 31 days after the last session, is saved and a warning names the earliest due
    date."""
    nurse = login(client, world, "nurse")
    booking = _booking(patient, nurse)
    tomorrow = today() + dt.timedelta(days=1)
    url = reverse("injections:session_book", args=[booking.external_id])
    response = client.post(url, {"date": tomorrow.isoformat(), "version": "1"}, follow=True)
    booking.refresh_from_db()
    assert booking.date == tomorrow
    earliest = (today() + dt.timedelta(days=54)).isoformat()
    assert f"the earliest due date is {earliest}" in response.content.decode()


def test_moving_a_booking_years_ahead_is_refused_on_the_field(client, world, patient):
    """9999-12-31 is refused at the date field as implausible, and the booking keeps its date."""
    nurse = login(client, world, "nurse")
    booking = _booking(patient, nurse)
    url = reverse("injections:session_book", args=[booking.external_id])
    response = client.post(url, {"date": "9999-12-31", "version": "1"})
    limit = services.booking_horizon(today())
    message = services.BOOKING_TOO_FAR.format(date="9999-12-31", years=2, limit=limit)
    assert re.search(r'<ul class="errorlist"[^>]*><li>' + re.escape(html.escape(message)), response.content.decode())
    old = booking.date
    booking.refresh_from_db()
    assert booking.date == old


def test_the_booking_page_goes_back_without_saying_cancel(client, world, patient):
    """The booking page's way out says it keeps the booking; the booked session's page offers to cancel it."""
    nurse = login(client, world, "nurse")
    booking = _booking(patient, nurse)
    page = client.get(reverse("injections:session_book", args=[booking.external_id])).content.decode()
    assert "Back, keeping the booking" in page
    assert ">Cancel<" not in page
    detail = client.get(reverse("injections:session_detail", args=[booking.external_id])).content.decode()
    assert reverse("injections:session_cancel", args=[booking.external_id]) in detail


@pytest.mark.parametrize("role", STAFF_WHO_RECORD)
def test_staff_cancel_a_booking_after_confirming_its_date(client, world, patient, role):
    """The confirmation names the date; the POST cancels the booking, audited, and the page says so."""
    booking = _booking(patient, world.users["nurse"])
    login(client, world, role)
    url = reverse("injections:session_cancel", args=[booking.external_id])
    assert f"Cancel the booking for {booking.date.isoformat()}" in client.get(url).content.decode()
    response = client.post(url, {"version": "1"}, follow=True)
    booking.refresh_from_db()
    assert booking.status == SessionStatus.CANCELLED
    assert f"The booking for {booking.date.isoformat()} is cancelled." in response.content.decode()
    assert AuditEvent.objects.filter(object_id=str(booking.external_id), detail__contains="cancelled").exists()


def test_a_stale_cancel_is_refused(client, world, patient):
    """A booking moved since the confirmation page was shown (version 2) is not cancelled from version 1."""
    nurse = login(client, world, "nurse")
    booking = _booking(patient, nurse, days_ago=90)
    services.injection_session_book(
        user=nurse, session=booking, date=booking.date + dt.timedelta(days=1), expected_version=1
    )
    response = client.post(reverse("injections:session_cancel", args=[booking.external_id]), {"version": "1"})
    assert response.status_code == 302
    booking.refresh_from_db()
    assert booking.status == SessionStatus.BOOKED


@pytest.mark.parametrize("role", CANNOT_RECORD)
def test_others_cannot_cancel_a_booking(client, world, patient, role):
    """Billing staff, patients, trainees and administrators cannot cancel a booking."""
    booking = _booking(patient, world.users["nurse"])
    login(client, world, role)
    response = client.post(reverse("injections:session_cancel", args=[booking.external_id]), {"version": "1"})
    assert response.status_code in (403, 404)
    booking.refresh_from_db()
    assert booking.status == SessionStatus.BOOKED


def test_a_side_effect_before_birth_is_refused_on_the_start_date(client, world, recorded):
    """A side effect starting on 1900-01-01, before the patient's birth, is refused at the start date; none saved."""
    login(client, world, "patient")
    data = {"kind": "neck_pain", "onset": "1900-01-01", "severity": "mild", "description": ""}
    response = client.post(reverse("injections:report_side_effect"), data)
    assert "is before the birth date on the record" in response.content.decode()
    assert not SideEffect.objects.exists()


# --- The session screen: unasked contraindications and what to weigh before injecting -----------------------------


def _check_line(page, title):
    """The text after a check's or a warning's title on the session screen, up to its list, in one line."""
    found = re.search(rf"<strong>{re.escape(title)}:</strong>(.*?)<ul>", page, flags=re.DOTALL)
    assert found, title
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", found.group(1))).split())


def test_a_never_asked_contraindication_is_shown_as_not_answered_not_passed(client, world):
    """A new patient whose safety screen was never answered: the contraindication check says which label
    contraindication questions were not answered, not "passed", and the session records without an override."""
    patient = world.same_clinic_patient
    login(client, world, "nurse")
    page = client.get(new_url(patient)).content.decode()
    line = _check_line(page, "Safety screen contraindication")
    assert line.startswith("not answered: injection-site infection, hypersensitivity — ask before injecting")
    assert "passed" not in line
    response = client.post(new_url(patient), screen_data())
    assert response.status_code == 302
    stored = InjectionSession.objects.get(patient=patient, status=SessionStatus.RECORDED).check_reasons
    assert "contraindication: not answered: injection-site infection, hypersensitivity" in stored


def test_the_session_screen_shows_the_prior_authorisation_check_and_asks_for_a_reason(client, world, patient):
    """A commercial payer's patient whose only request was denied: the screen shows the prior-authorisation check
    failed with the denial's day, and records only with an override reason, storing the check as overridden."""
    requested, denied = today() - dt.timedelta(days=12), today() - dt.timedelta(days=4)
    insure(patient)
    authorisation(patient, status="denied", requested_on=requested, decided_on=denied)
    login(client, world, "nurse")
    page = client.get(new_url(patient)).content.decode()
    assert _check_line(page, "Prior authorisation") == "failed — recording needs an override reason"
    reason = f"the payer denied the initial request of {requested} on {denied}"
    assert reason in html.unescape(page)
    refused = client.post(new_url(patient), screen_data())
    assert services.OVERRIDE_NEEDED.format(checks="prior authorisation") in html.unescape(refused.content.decode())
    assert not InjectionSession.objects.filter(patient=patient, status=SessionStatus.RECORDED).exists()
    response = client.post(new_url(patient), screen_data(override="Self-funded after the denial."))
    assert response.status_code == 302
    session = InjectionSession.objects.get(patient=patient, status=SessionStatus.RECORDED)
    assert session.overridden_checks == "prior_authorisation"


def test_the_session_screen_shows_the_eligibility_before_a_first_session(client, world, patient):
    """Before a first session with no diary, the screen shows chronic migraine "not enough data" with the engine's
    reason, as a warning that blocks nothing."""
    login(client, world, "nurse")
    page = client.get(new_url(patient)).content.decode()
    line = _check_line(page, "Chronic migraine (ICHD-3 1.3) before the first session")
    assert line.startswith("not enough data")
    assert "ICHD-3 1.3 A: headache for &gt; 3 months needs 3 complete periods" in page
    assert 'id="override-needed"' not in page


def test_the_session_screen_shows_a_nice_stop(client, world, patient):
    """A patient whose week-24 reduction is under 30 % sees NICE TA260's "stop suggested" and its reason on the next
    session's screen, also in the live preview."""
    from tests.web.clinic.diaries import course_rows, store

    day0 = today() - dt.timedelta(days=170)
    store(patient, course_rows(day0, 20, 19, 19, 18, 18, 18, 18), today=today())
    for day in (day0, day0 + dt.timedelta(days=84)):
        record(user=world.users["nurse"], patient=patient, date=day, today=today())
    login(client, world, "clinician")
    screen = client.get(new_url(patient), follow=True)  # to the open booking's screen
    page = screen.content.decode()
    assert _check_line(page, "NICE TA260 stopping rules").startswith("stop suggested")
    assert "NICE TA260 1.2: headache days from 20 at baseline to 18 at week 24" in page
    booking = screen.redirect_chain[-1][0]
    preview = client.post(booking, screen_data(action="preview"), headers={"HX-Request": "true"})
    assert "NICE TA260 1.2: headache days from 20 at baseline to 18 at week 24" in preview.content.decode()


def _decided_after_week24(world, patient, decision, reason):
    """Week 24 under 30 % fewer headache days (NICE TA260: stop), then the clinician's ``decision`` yesterday."""
    from onaboard.web.outcomes.services import treatment_decision_record
    from tests.web.clinic.diaries import course_rows, store

    day0 = today() - dt.timedelta(days=170)
    store(patient, course_rows(day0, 20, 19, 19, 18, 18, 18, 18), today=today())
    for day in (day0, day0 + dt.timedelta(days=84)):
        record(user=world.users["nurse"], patient=patient, date=day, today=today())
    clinician = world.users["clinician"]
    decided_on = today() - dt.timedelta(days=1)
    treatment_decision_record(
        user=clinician, patient=patient, decision=decision, reason=reason, decided_on=decided_on, today=today()
    )
    return f"on {decided_on.isoformat()} by {clinician.get_full_name() or clinician.username}: {reason}"


def _warning_box(page, code):
    """The opening tag of a warning's box on the session screen and its text, in one line."""
    found = re.search(rf'(<div class="[^"]*" data-warning="{code}">)(.*?)</div>', page, flags=re.DOTALL)
    assert found, code
    return found.group(1), " ".join(html.unescape(re.sub(r"<[^>]+>", " ", found.group(2))).split())


def test_the_session_screen_shows_the_continue_that_answered_the_nice_stop_calmly(client, world, patient):
    """After a clinician's "continue" answering week 24's stop, the screen still shows NICE TA260's verdict, now
    with the decision (who, when, why) and in the neutral tone, not the warning one."""
    decided = _decided_after_week24(world, patient, "continue", "HIT-6 down 8 points; she wants to go on")
    login(client, world, "nurse")
    page = client.get(new_url(patient), follow=True).content.decode()
    tag, text = _warning_box(page, "nice_ta260")
    assert tag == '<div class="verdict " data-warning="nice_ta260">'
    assert text.startswith("NICE TA260 stopping rules: stop suggested")
    assert "NICE TA260 1.2: headache days from 20 at baseline to 18 at week 24" in text
    assert text.endswith(f"Continued against the stopping rule {decided}")
    assert 'data-warning="treatment_stopped"' not in page


def test_the_session_screen_shows_that_treatment_was_stopped(client, world, patient):
    """A clinician's decision to stop shows on the session screen as a failed check naming who stopped treatment,
    when and why: recording needs an override reason, which only a clinician may give (a nurse is told so)."""
    decided = _decided_after_week24(world, patient, "stop", "no benefit after two cycles; agreed with the patient")
    login(client, world, "clinician")
    page = client.get(new_url(patient), follow=True).content.decode()
    assert _check_line(page, "Decision to stop treatment") == "failed — recording needs an override reason"
    assert f"Treatment stopped {decided}" in " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())
    assert 'data-warning="treatment_stopped"' not in page
    assert 'id="override-needed"' in page
    assert 'id="clinician-override"' not in page
    login(client, world, "nurse")
    page = client.get(new_url(patient), follow=True).content.decode()
    assert _check_line(page, "Decision to stop treatment") == "failed — only a clinician may override it"
    assert 'id="override-needed"' not in page  # no reason of the nurse's is asked
    found = re.search(r'<p class="verdict bad" id="clinician-override">(.*?)</p>', page, flags=re.DOTALL)
    assert found
    assert " ".join(html.unescape(re.sub(r"<[^>]+>", " ", found.group(1))).split()) == (
        "Only a clinician may override: decision to stop treatment. Going ahead anyway is a prescribing decision: "
        "ask the treating clinician to record this session."
    )


def test_the_session_screen_shows_an_urgent_side_effect_since_the_last_session(client, world, patient):
    """Trouble swallowing graded severe and related since the last session is shown on the next session's screen
    with the boxed warning it may signal."""
    last = today() - dt.timedelta(days=90)
    record(user=world.users["nurse"], patient=patient, date=last, today=today())
    onset = last + dt.timedelta(days=5)
    SideEffect.objects.create(
        patient=patient,
        kind="dysphagia",
        onset=onset,
        severity="severe",
        clinician_grade="severe",
        related_to_treatment=True,
    )
    login(client, world, "nurse")
    page = client.get(new_url(patient), follow=True).content.decode()
    assert _check_line(page, "Side effects since the last session").startswith("urgent")
    assert (
        f"Trouble swallowing, started {onset.isoformat()}: graded severe on review, related to treatment: "
        "possible distant spread of toxin effect (BOTOX boxed warning)"
    ) in page


# --- The side-effect page: advice for the patient, the clinical line for staff ------------------------------------


@pytest.mark.parametrize("role", ["clinician", "nurse"])
def test_staff_see_the_urgent_kind_not_the_patients_advice(client, world, recorded, role):
    """Staff opening an urgent report see the clinical line (possible distant spread, boxed warning), not the advice
    to seek care now that the patient who reported it sees."""
    effect = services.side_effect_report(
        user=world.users["patient"], patient=world.own_patient, kind="dysphagia", onset=today(), severity="severe"
    )
    url = reverse("injections:side_effect_detail", args=[effect.external_id])
    login(client, world, role)
    staff = client.get(url).content.decode()
    assert "Seek medical care now" not in staff
    assert "Call your emergency number" not in staff
    assert "possible distant spread of toxin effect (BOTOX boxed warning)." in staff
    client.logout()
    login(client, world, "patient")
    own = client.get(url).content.decode()
    assert "Seek medical care now</h2>" in own
    assert "Call your emergency number or go to the nearest emergency department now." in own
    assert "Urgent kind" not in own


def test_staff_see_an_allergic_reactions_clinical_line(client, world, recorded):
    """Staff opening an allergic reaction see the label's hypersensitivity line, not the patient's advice."""
    effect = services.side_effect_report(
        user=world.users["patient"], patient=world.own_patient, kind="hypersensitivity", onset=today(), severity="mild"
    )
    login(client, world, "clinician")
    page = client.get(reverse("injections:side_effect_detail", args=[effect.external_id])).content.decode()
    assert "possible hypersensitivity reaction (BOTOX Warnings and Precautions)" in page
    assert "An allergic reaction to the medicine can become serious quickly." not in page


def test_the_report_page_and_the_sent_report_name_every_sign_of_distant_spread(client, world, recorded):
    """The side-effect report page lists every sign of distant spread the boxed warning names among the urgent
    kinds; a report that is not urgent tells the patient those signs too."""
    login(client, world, "patient")
    form = client.get(reverse(REPORT_URL)).content.decode()
    for sign in (
        "Trouble swallowing",
        "Weakness all over or loss of strength",
        "Hoarseness or a change of voice",
        "Trouble speaking",
        "Loss of bladder control",
    ):
        assert f"<li>{sign}</li>" in form
    sent = report(client).content.decode()
    assert (
        "If it gets worse, or you have trouble swallowing, breathing, speaking or seeing, weakness all over, a change "
        "of voice, loss of bladder control, or signs of an allergic reaction, seek medical care now."
    ) in sent


@pytest.mark.parametrize("kind", ["dysphonia", "dysarthria", "urinary_incontinence"])
def test_a_voice_speech_or_bladder_problem_is_an_urgent_report_the_clinic_sees_first(client, world, recorded, kind):
    """Hoarseness, trouble speaking and loss of bladder control (the boxed warning's dysphonia, dysarthria and
    urinary incontinence) are kinds a patient can choose: the patient is told to seek care now and the report is
    urgent, first in the clinic's list of side effects to review."""
    login(client, world, "patient")
    report(client, kind="neck_pain", severity="severe")  # reported first: the urgent one must still come first
    sent = report(client, kind=kind).content.decode()
    assert "can mean the medicine has spread beyond where it was injected" in sent
    effect = SideEffect.objects.get(patient=recorded.patient, kind=kind)
    assert effect.urgent
    listed, count = selectors.side_effects_to_review(world.users["clinician"])
    assert count == 2
    assert listed[0].pk == effect.pk


def test_urgent_advice_blames_no_medicine_before_any_session(client, world, patient):
    """A patient with no session recorded opening the report form is told to seek care now for the urgent signs,
    without "an allergic reaction to the medicine" or "spread beyond where it was injected" (no medicine was
    injected), and, in the form's place, that the form is for side effects after a session and to contact the
    clinic; sending it anyway stores nothing. A report stored without a session (an import's) says so on its page,
    in words, blaming no medicine. Once a session is recorded the form gives the label's reasons and is there."""
    login(client, world, "patient")
    form = client.get(reverse(REPORT_URL)).content.decode()
    assert "Call your emergency number or go to the nearest emergency department now, then tell the clinic." in form
    assert "spread beyond where it was injected" not in form
    assert "allergic reaction to the medicine" not in form
    assert html.escape(services.NO_SESSION_YET) in form
    assert 'name="submission"' not in form
    sent = report(client, kind="breathing_difficulty").content.decode()
    assert html.escape(services.NO_SESSION_YET) in sent
    assert not SideEffect.objects.exists()
    onset = today() - dt.timedelta(days=3)
    stored = SideEffect.objects.create(
        patient=patient, kind="breathing_difficulty", onset=onset, severity="severe", reported_by=world.users["patient"]
    )
    page = client.get(reverse("injections:side_effect_detail", args=[stored.external_id])).content.decode()
    assert "Call your emergency number or go to the nearest emergency department now." in page
    assert "spread beyond where it was injected" not in page
    assert "no earlier session" in page
    assert f"<dd>{onset.day} {onset:%B %Y}</dd>" in page
    record(user=world.users["nurse"], patient=patient, date=today(), today=today())
    treated = client.get(reverse(REPORT_URL)).content.decode()
    assert "mean it has spread beyond where it was injected" in treated
    assert 'name="submission"' in treated
    assert html.escape(services.NO_SESSION_YET) not in treated


def test_staff_reporting_for_a_patient_never_treated_are_told_to_record_the_session_first(client, world, patient):
    """A nurse opening the report form for a patient with no recorded session reads, in the form's place, that it is
    for side effects after a session and to record the session first; the urgent advice blames no medicine."""
    login(client, world, "nurse")
    url = f"{reverse(REPORT_URL)}?patient={patient.external_id}"
    page = client.get(url).content.decode()
    assert html.escape(services.NO_SESSION_YET_STAFF) in page
    assert "Arrange emergency care now.</p>" in page
    assert "distant spread of its effect" not in page
    assert 'name="submission"' not in page


@pytest.mark.parametrize("role", ["patient", "nurse"])
def test_a_side_effect_that_began_before_the_first_session_is_refused_at_the_start_date(client, world, recorded, role):
    """A report whose start date is the day before the patient's first session comes back refused at the start
    date, naming that day and the session's (the patient's words, or staff's), and nothing is stored."""
    login(client, world, role)
    url = reverse(REPORT_URL) + ("" if role == "patient" else f"?patient={recorded.patient.external_id}")
    before = recorded.date - dt.timedelta(days=1)
    data = {"kind": "neck_pain", "onset": before.isoformat(), "severity": "mild", "description": ""}
    page = html.unescape(client.post(url, data).content.decode())
    message = services.ONSET_BEFORE_FIRST_SESSION if role == "patient" else services.ONSET_BEFORE_FIRST_SESSION_STAFF
    named = message.format(
        onset=f"{before:%A} {before.day} {before:%B %Y}",
        first=f"{recorded.date:%A} {recorded.date.day} {recorded.date:%B %Y}",
    )
    assert named in page
    assert 'aria-describedby="id_onset_error' in page or 'id="id_onset_error"' in page
    assert not SideEffect.objects.exists()


def test_the_interval_the_pages_name_is_the_engines(client, world, patient, monkeypatch):
    """The booking's page, the booking form and the message after recording name the interval in weeks from the
    engine (``selectors.interval_weeks``), not a retyped 12: with another interval they say it."""
    monkeypatch.setattr(views.selectors, "interval_weeks", lambda: 13)
    nurse = login(client, world, "nurse")
    booking = _booking(patient, nurse)
    detail = client.get(reverse("injections:session_detail", args=[booking.external_id])).content.decode()
    assert f"Next due {booking.date.isoformat()} (13 weeks after the last session)." in detail
    form = client.get(reverse("injections:session_book", args=[booking.external_id])).content.decode()
    assert "A date less than 13 weeks after the last session can be booked" in form
    given = InjectionSession(date=today() - dt.timedelta(days=100))
    on_due_date = InjectionSession(pk=1, date=given.date + dt.timedelta(days=84))
    on_today = InjectionSession(pk=1, date=today())
    assert "(13 weeks later)" in views.recorded_message(given, on_due_date, booked_before=None)
    assert "the 13-week date had passed" in views.recorded_message(given, on_today, booked_before=None)


# --- The report form sent twice ---------------------------------------------------------------------------------------

TOKEN = re.compile(r'<input type="hidden" name="submission" value="([0-9a-f-]{36})"[^>]*>')


def _token(page: str) -> str:
    """The submission token the report form carries (there must be one)."""
    found = TOKEN.search(page)
    assert found, "no submission token on the form"
    return found.group(1)


def _answers(token, kind="myalgia", severity="moderate"):
    return {"kind": kind, "onset": today().isoformat(), "severity": severity, "description": "", "submission": token}


def test_each_report_form_carries_a_fresh_token_the_browser_does_not_restore(client, world, treated):
    """Each opening of the report form carries its own submission token in a hidden field, marked autocomplete off
    so a browser does not put an old one back into a reopened form."""
    login(client, world, "patient")
    first, second = (client.get(reverse(REPORT_URL)).content.decode() for _ in range(2))
    assert _token(first) != _token(second)
    assert 'autocomplete="off"' in TOKEN.search(first).group(0)


@pytest.mark.parametrize("kind", ["myalgia", "dysphagia"])
def test_a_report_form_sent_twice_stores_one_report_and_both_land_on_it(client, world, recorded, kind):
    """Send tapped twice (the same form, the same token, posted twice) stores one side effect, and both posts
    redirect to it: for an urgent kind, to the page telling the patient to seek care now."""
    login(client, world, "patient")
    token = _token(client.get(reverse(REPORT_URL)).content.decode())
    first, second = (client.post(reverse(REPORT_URL), _answers(token, kind=kind)) for _ in range(2))
    effect = SideEffect.objects.get()
    assert (first.status_code, second.status_code) == (302, 302)
    assert first.url == second.url == reverse("injections:side_effect_detail", args=[effect.external_id])
    assert AuditEvent.objects.filter(object_type="side_effect", action=Action.CREATE).count() == 1
    if kind == "dysphagia":
        assert "Seek medical care now</h2>" in client.get(second.url).content.decode()


def test_a_new_report_form_with_the_same_answers_sends_no_second_report(client, world, recorded):
    """The same answers from a form opened again (a new token: Back after sending reloads the form) are the report
    already sent, not a second one (same kind, onset, severity and description: the same side effect)."""
    login(client, world, "patient")
    for _ in range(2):
        token = _token(client.get(reverse(REPORT_URL)).content.decode())
        assert client.post(reverse(REPORT_URL), _answers(token)).status_code == 302
    assert SideEffect.objects.count() == 1


def test_staff_sending_a_report_twice_for_a_patient_store_one(client, world, recorded):
    """A nurse reporting for a patient (?patient=) with the same form twice stores one side effect."""
    login(client, world, "nurse")
    url = reverse(REPORT_URL) + f"?patient={world.own_patient.external_id}"
    token = _token(client.get(url).content.decode())
    first, second = (client.post(url, _answers(token)) for _ in range(2))
    assert first.url == second.url
    assert SideEffect.objects.get().reported_by == world.users["nurse"]


def test_a_sent_form_changed_and_sent_again_is_refused_with_a_new_token(client, world, recorded):
    """A form sent, then changed and sent again with its old token, is shown again with the answers kept, a message
    that it was already sent and a new token, so sending it once more reports the second side effect."""
    login(client, world, "patient")
    token = _token(client.get(reverse(REPORT_URL)).content.decode())
    client.post(reverse(REPORT_URL), _answers(token))
    again = client.post(reverse(REPORT_URL), _answers(token, kind="diplopia", severity="severe"))
    page = again.content.decode()
    assert again.status_code == 200
    assert html.escape(services.ALREADY_SENT) in page
    assert re.search(r'<input[^>]*value="diplopia"[^>]*checked', page)
    renewed = _token(page)
    assert renewed != token
    assert SideEffect.objects.count() == 1
    assert client.post(reverse(REPORT_URL), _answers(renewed, kind="diplopia", severity="severe")).status_code == 302
    assert sorted(SideEffect.objects.values_list("kind", flat=True)) == ["diplopia", "myalgia"]


def _stopped_with_booking(world, patient):
    """A session given today, its booking 12 weeks ahead still held, and a clinician's decision to stop today
    stored as it stands (a stop made through the service would cancel the booking)."""
    from tests.web.factories import TreatmentDecisionFactory

    session = record(user=world.users["nurse"], patient=patient, date=today(), today=today())
    clinician = world.users["clinician"]
    TreatmentDecisionFactory(patient=patient, decided_on=today(), reason="no benefit", decided_by=clinician)
    booking = InjectionSession.objects.get(patient=patient, status=SessionStatus.BOOKED)
    name = clinician.get_full_name() or clinician.username
    return session, booking, f"Treatment stopped on {today().isoformat()} by {name}"


def _stopped_box(page):
    found = re.search(r'<div class="verdict warn" data-schedule="stopped">(.*?)</div>', page, flags=re.DOTALL)
    assert found, page
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", found.group(1))).split())


def test_the_session_and_booking_pages_show_the_stop_instead_of_the_due_date(client, world, patient):
    """After a stop, the recorded session's page, the booking's page and the booking screen say treatment stopped
    (who, when; the booking still held to cancel) where they named the next due date."""
    session, booking, stopped = _stopped_with_booking(world, patient)
    login(client, world, "nurse")
    booked = booking.date.isoformat()
    book_url = reverse("injections:session_book", args=[booking.external_id])
    for url in (detail_url(session), detail_url(booking), book_url):
        page = client.get(url).content.decode()
        text = _stopped_box(page)
        assert text.startswith(f"{stopped}: no session is due"), url
        assert f"a session is still booked for {booked}: cancel it, as treatment has stopped" in text
        assert "Next due" not in page, url
        assert "next due" not in page, url
        assert '<div class="verdict ok" role="status">' not in page, url


def test_moving_a_booking_after_a_stop_warns_that_treatment_stopped(client, world, patient):
    """A booking moved after a stop is saved, and the message names the stop and what to do."""
    _session, booking, stopped = _stopped_with_booking(world, patient)
    login(client, world, "nurse")
    moved = booking.date + dt.timedelta(days=7)
    url = reverse("injections:session_book", args=[booking.external_id])
    response = client.post(url, {"date": moved.isoformat(), "version": str(booking.version)}, follow=True)
    booking.refresh_from_db()
    assert booking.date == moved
    message = (
        f"{stopped}. The booking is saved; record a decision to continue treatment before this session, or cancel "
        "the booking."
    )
    assert html.escape(message) in response.content.decode()


def test_a_patient_is_not_shown_the_stop_on_their_session_pages(client, world, patient):
    """The decision's reason is a clinical note and cancelling the booking is the clinic's to do: the patient's own
    session pages show neither the stop nor a next due date (the portal promises no next treatment either)."""
    session, booking, _stopped = _stopped_with_booking(world, patient)
    login(client, world, "patient")
    for url in (detail_url(session), detail_url(booking)):
        response = client.get(url)
        assert response.status_code == 200, url
        page = response.content.decode()
        assert 'data-schedule="stopped"' not in page, url
        assert "no benefit" not in page, url
        assert "next due" not in page.lower(), url


def test_a_patient_is_not_shown_the_checks_or_the_override_reason_of_their_session(client, world, patient):
    """The checks at recording and the reason for overriding one are the care team's notes on their decision:
    the patient's own session page shows neither."""
    session = _left_a_site_out(world, patient, "Fainted before the last site.")
    login(client, world, "patient")
    page = client.get(detail_url(session)).content.decode()
    assert "Checks at recording" not in page
    assert "Checks overridden" not in page
    assert "Fainted before the last site." not in page
    login(client, world, "clinician")
    assert "Fainted before the last site." in client.get(detail_url(session)).content.decode()


def test_a_missed_booking_is_not_one_to_cancel_after_a_stop(client, world, patient):
    """A booking whose day has passed (missed, or given and not yet recorded) is left as it is by a stop: the
    notice says treatment stopped, in the neutral tone, without asking to cancel it."""
    _session, booking, _stopped = _stopped_with_booking(world, patient)
    InjectionSession.objects.filter(pk=booking.pk).update(date=today() - dt.timedelta(days=1))
    login(client, world, "nurse")
    page = client.get(detail_url(booking)).content.decode()
    assert '<div class="verdict" data-schedule="stopped">' in page
    assert "still booked" not in page


def test_the_warnings_shown_before_injecting_are_kept_with_the_session(client, world, patient):
    """A first session recorded for a patient whose chronic migraine the engine cannot confirm (no diary) keeps the
    screen's warnings with its checks: the session page lists them under their titles, marked as not blocking."""
    session = record(user=world.users["nurse"], patient=patient, date=today(), today=today())
    stored = session.check_reasons.splitlines()
    assert any(line.startswith("chronic_migraine: ICHD-3 1.3 A: ") for line in stored), stored
    assert any(line.startswith("label_criteria: ") for line in stored), stored
    login(client, world, "clinician")
    page = html.unescape(client.get(detail_url(session)).content.decode())
    start = page.index("Checks at recording")
    notes = page[start : page.index("</details>", start)]
    title = str(selectors.WARNING_TITLES[selectors.WarningCode.CHRONIC_MIGRAINE])
    assert (
        f'<li><strong>{title[0].upper()}{title[1:]}</strong> <span class="badge warn">warning, did not block '
        "recording</span>"
    ) in notes
    assert "chronic_migraine: " not in notes


def test_the_procedure_note_gives_the_safety_screen_the_session_was_recorded_with(client, world, patient):
    """A muscle relaxant is a caution (PI 7), not a block: the session records without an override, and its
    procedure note (clinical copy) says what the safety screen was when it was recorded; the billing copy does not."""
    from onaboard.web.coverage.documents import DocumentKind, document_context
    from onaboard.web.injections.recorded_checks import safety_at_recording

    type(patient).objects.filter(pk=patient.pk).update(muscle_relaxant=True)
    login(client, world, "nurse")
    assert client.post(new_url(patient), screen_data()).status_code == 302
    session = InjectionSession.objects.get(status=SessionStatus.RECORDED)
    safety = safety_at_recording(session)
    assert safety is not None
    assert any("relaxant" in reason for reason in safety.reasons)
    for role, shown in (("clinician", safety), ("billing", None)):
        user, day, session_id = world.users[role], today(), session.external_id
        note = document_context(DocumentKind.PROCEDURE, patient=patient, today=day, user=user, session_id=session_id)
        assert note["safety_at_recording"] == shown, role
