"""The session screen after a refusal, without JavaScript: where the page lands and what has the focus, the error
summary of a refused recording, the live summary's unreadable units and each check's reason said once
(onaboard/web/injections/views.py and templates/injections/session_record.html)."""

from __future__ import annotations

import datetime as dt
import html
import re

from onaboard.clinical.preempt import DOSE_LIMIT
from onaboard.web.coverage.selectors import approval_on
from tests.web.injections.test_views import login, new_url, screen_data, today

ADD_SITE_BUTTON = re.compile(r"<button [^>]*value=\"add_site\"[^>]*>")
SUMMARY = re.compile(r'<div class="error-summary[^"]*"[^>]*>.*?</div>', flags=re.DOTALL)


def _text(fragment: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", fragment)).split())


def _ftp_row(muscle, side, units=5):
    view = "front" if muscle == "temporalis" else "back"
    return {"muscle": muscle, "side": side, "units": units, "view": view, "x": "", "y": ""}


def _tag(page: str, name: str) -> str:
    """The opening tag of the input named ``name``."""
    found = re.search(rf'<input [^>]*name="{re.escape(name)}"[^>]*>', page)
    assert found is not None, name
    return found[0]


def test_add_site_and_remove_come_back_to_the_follow_the_pain_table(client, world, patient):
    """Without JavaScript, "Add site" and each "Remove" post the form to the follow-the-pain table's anchor, so the
    page that comes back is shown there, not 2,500 px above it."""
    login(client, world, "nurse")
    page = client.post(new_url(patient), screen_data(action="preview", ftp=[_ftp_row("trapezius", "left")]))
    page = page.content.decode()
    assert 'id="ftp-table"' in page
    button = ADD_SITE_BUTTON.search(page)
    assert button is not None
    assert 'formaction="#ftp-table"' in button[0]
    remove = re.search(r'<button [^>]*name="remove"[^>]*>', page)
    assert remove is not None
    assert 'formaction="#ftp-table"' in remove[0]


def test_a_site_added_without_javascript_has_the_focus(client, world, patient):
    """The row "Add site" added has its units field focused when the page loads; no other field is."""
    login(client, world, "nurse")
    rows = [_ftp_row("trapezius", "left")]
    data = {**screen_data(action="add_site", ftp=rows), "add-muscle": "occipitalis", "add-side": "right"}
    page = client.post(new_url(patient), data).content.decode()
    assert "autofocus" in _tag(page, "ftp-1-units")
    assert "autofocus" not in _tag(page, "ftp-0-units")
    assert page.count("autofocus") == 1


def test_a_refused_site_without_javascript_has_the_focus_on_its_reason(client, world, patient):
    """A third temporalis site is refused beside the "Add site" button, and that refusal has the focus."""
    login(client, world, "nurse")
    rows = [_ftp_row("temporalis", "left")] * 2
    data = {**screen_data(action="add_site", ftp=rows), "add-muscle": "temporalis", "add-side": "right"}
    page = client.post(new_url(patient), data).content.decode()
    refusal = re.search(r"<div [^>]*id=\"add-site-errors\"[^>]*>(.*?)</div>", page, flags=re.DOTALL)
    assert refusal is not None
    assert "autofocus" in refusal[0]
    assert 'tabindex="-1"' in refusal[0]
    assert "temporalis allows at most 2 extra sites" in _text(refusal[1])
    assert page.count("autofocus") == 1


def test_a_refused_recording_lists_every_error_with_a_link_to_its_field(client, world, patient):
    """A recording refused on a fixed site typed "2.5", an empty extra site and a product expired lists each error
    in the focused summary at the top, naming its field and linking to it; the old banner is gone."""
    login(client, world, "nurse")
    data = screen_data(
        expiry=today() - dt.timedelta(days=1),
        ftp=[_ftp_row("trapezius", "left", units="")],
        **{"units_temporalis-left-2": "2.5"},
    )
    page = client.post(new_url(patient), data).content.decode()
    assert "Not recorded: please correct the fields marked below." not in page
    summary = SUMMARY.search(page)
    assert summary is not None
    assert "autofocus" in summary[0]
    assert 'tabindex="-1"' in summary[0]
    links = dict(re.findall(r'<a href="#([^"]+)">([^<]*)</a>', summary[0]))
    assert html.unescape(links["id_units_temporalis-left-2"]) == "Units, temporalis left 2: Enter a whole number."
    assert html.unescape(links["id_ftp-0-units"]).startswith("Units, trapezius left, extra site 1: ")
    assert "id_product_expiry" not in links  # the expiry is the service's check: it runs once the form is valid


def test_a_plan_refused_by_the_service_is_in_the_summary_with_a_link_to_the_sites(client, world, patient):
    """Refusals of the service (an expired product beside its field, the engine's dose limit on the sites) are in
    the summary too, each linking to where it is shown."""
    login(client, world, "nurse")
    expired = today() - dt.timedelta(days=1)
    page = client.post(new_url(patient), screen_data(expiry=expired)).content.decode()
    summary = SUMMARY.search(page)
    assert summary is not None
    assert 'href="#id_product_expiry"' in summary[0]
    page = client.post(new_url(patient), screen_data(**{"units_trapezius-right-3": 50})).content.decode()
    summary = SUMMARY.search(page)
    assert summary is not None
    assert 'href="#site-table"' in summary[0]
    assert DOSE_LIMIT.format(total=200, sites=31, limit=195) in _text(summary[0])


def test_the_live_summary_says_how_many_sites_have_units_it_cannot_read(client, world, patient):
    """A fixed site typed "2.5" and an extra site left empty are left out of the totals, and the summary says so:
    2 sites, named, whose units cannot be read; the partial the script fetches says the same."""
    login(client, world, "nurse")
    data = screen_data(action="preview", ftp=[_ftp_row("trapezius", "left", units="")])
    data["units_temporalis-left-2"] = "2.5"
    for headers in ({}, {"HTTP_HX_REQUEST": "true"}):
        page = _text(client.post(new_url(patient), data, **headers).content.decode())
        assert "150 U" in page
        assert "2 sites have units that cannot be read and are left out of these totals:" in page
        assert "temporalis left 2" in page
        assert "trapezius left, extra site 1" in page
    clean = _text(client.post(new_url(patient), screen_data(action="preview")).content.decode())
    assert "cannot be read" not in clean


def test_a_check_not_answered_says_its_reason_once(client, world, patient):
    """The prior-authorisation check of a patient with no insurance recorded says why once, not twice."""
    login(client, world, "nurse")
    reason = approval_on(patient, today()).reason
    assert reason
    page = html.unescape(client.get(new_url(patient)).content.decode())
    assert page.count(reason) == 1
