"""The clinic's cohort page, its downloads and its API operation (onaboard/web/analytics/views.py and api.py)."""

from __future__ import annotations

import re
from html import escape

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from onaboard.cohort.backends import CohortSourceError
from onaboard.cohort.report import WEEK24_NOT_REACHED
from onaboard.reports.cohort import (
    AS_OF_NOTE,
    KAPLAN_MEIER_NOTE,
    NEAR_BY_INTERVAL,
    NEAR_BY_TOLERANCE,
    NEAR_NOTE,
    NOT_RECORDED,
    OFF,
    PLOT_LABELS,
    RECORDED_TOGETHER,
    WEEK24_NOT_REACHED_NOTE,
    WEEK24_NOT_REACHED_WORDS,
    near_text,
)
from onaboard.web.accounts.models import ApiToken, Role
from onaboard.web.analytics import api, views
from onaboard.web.analytics.selectors import NOT_FOR_ROLE
from tests.pdfs import pdf_text
from tests.web.factories import UserFactory

PAGE = reverse("analytics:cohort")
PDF = reverse("analytics:cohort_pdf")
HTML = reverse("analytics:cohort_html")
API = "/api/analytics/cohort"


def test_the_page_shows_the_clinics_report_with_its_plots(client, staff):
    """A clinician sees the demo clinic's counts, the week-24 responders and three SVG plots named for readers,
    with no inline script and no id used twice."""
    client.force_login(staff[Role.CLINICIAN])
    response = client.get(PAGE)
    assert response.status_code == 200
    html = response.content.decode()
    report = response.context["report"]
    assert report.patients == 14
    assert report.treated == 7
    assert f"{report.responder_50.count} of {report.responder_50.total}" in html
    assert len(re.findall(r'<svg role="img" aria-label="[^"]+"', html)) == 3
    assert not re.search(r"<script(?![^>]*\bsrc=)", html)
    ids = re.findall(r'\bid="([^"]+)"', html)
    assert len(ids) == len(set(ids))
    for link in (PDF, HTML, API):
        assert f'href="{link}"' in html


@pytest.mark.parametrize("role", [Role.CLINICIAN, Role.NURSE])
def test_clinicians_and_nurses_see_the_page(client, staff, role):
    """The roles that see clinical records may open it."""
    client.force_login(staff[role])
    assert client.get(PAGE).status_code == 200


@pytest.mark.parametrize("role", [Role.ADMIN, Role.BILLING, Role.PATIENT, Role.TRAINEE])
@pytest.mark.parametrize("address", [PAGE, PDF, HTML])
def test_administrators_billing_staff_patients_and_trainees_are_refused(client, world, role, address):
    """Every other role gets 403 on the page and both downloads: an administrator too, who sees no clinical record
    (in a small clinic, or a small cell, the report's figures are named patients' clinical values)."""
    client.force_login(world.users[role])
    assert client.get(address).status_code == 403


def test_signed_out_visitors_are_sent_to_sign_in(client, db):
    """Without a session the page redirects to the sign-in page."""
    response = client.get(PAGE)
    assert response.status_code == 302
    assert reverse("accounts:login") in response["Location"]


def test_the_pdf_download_holds_the_report(client, staff):
    """The PDF is an attachment printed from the report's HTML, with the clinic's name and the responders."""
    client.force_login(staff[Role.NURSE])
    response = client.get(PDF)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith('attachment; filename="cohort-demo-headache-clinic-')
    text = pdf_text(response.content)
    assert "Cohort report" in text
    assert "Demo Headache Clinic" in text


def test_the_html_download_is_the_self_contained_report(client, staff):
    """The HTML download is the report file with its three plots inline."""
    client.force_login(staff[Role.CLINICIAN])
    response = client.get(HTML)
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    assert response.content.decode().count("<svg") == 3


def test_the_api_returns_the_reports_json(staff, demo):
    """A nurse's token gets the report as the CLI's JSON document, over the clinic's own patients."""
    _token, raw = ApiToken.issue(staff[Role.NURSE], "analytics")
    response = Client(headers={"Authorization": f"Bearer {raw}"}).get(API)
    assert response.status_code == 200
    body = response.json()
    assert body["directory"] == demo.name
    assert body["patients"] == 14
    assert set(body["responder_50"]) == {"count", "total", "percent", "low", "high"}


@pytest.mark.parametrize("role", [Role.BILLING, Role.PATIENT, Role.TRAINEE])
def test_the_api_refuses_other_roles(world, role):
    """Billing staff, patients and trainees get 403 with the reason."""
    _token, raw = ApiToken.issue(world.users[role], "analytics")
    response = Client(headers={"Authorization": f"Bearer {raw}"}).get(API)
    assert response.status_code == 403
    assert response.json() == {"detail": str(NOT_FOR_ROLE)}


def test_the_api_needs_credentials(client, db):
    """Without a token or a session the operation answers 401."""
    assert client.get(API).status_code == 401


def test_the_page_shows_no_impossible_interval_and_no_code_words(client, staff):
    """The demo clinic's periods of 1 or 2 patients show their mean change without an interval (period 5 read
    -97.9 to 79.9 days), every other interval lies within -28..+28 days, and sources are cited in words."""
    client.force_login(staff[Role.CLINICIAN])
    response = client.get(PAGE)
    html = response.content.decode()
    rows = response.context["report"].change_by_period
    assert any(row.n == 2 for row in rows)
    for row in rows:
        if row.n < 3:
            assert (row.change.low, row.change.high) == (None, None)
        else:
            assert -28 <= row.change.low <= row.change.mean <= row.change.high <= 28
    assert "A period of fewer than 3 patients shows its mean without an interval" in html
    assert "clinical-facts" not in html
    assert "the BOTOX US Prescribing Information (the label), adverse reactions table" in html


def test_the_page_says_what_confirmed_and_unconfirmed_mean(client, staff):
    """Every status the page shows beside a source (the label's table, the published figures) is explained in
    words on the page, so a clinician knows UNCONFIRMED means checking the primary source."""
    client.force_login(staff[Role.CLINICIAN])
    html = client.get(PAGE).content.decode()
    report_statuses = {"CONFIRMED", "UNCONFIRMED"} & set(re.findall(r"\b(?:UN)?CONFIRMED\b", html))
    assert report_statuses
    assert (
        html.count(
            "CONFIRMED: seen in a retrieved copy of the source. "
            "UNCONFIRMED: check the primary source before relying on it."
        )
        == 2
    )


def test_the_time_to_response_section_says_what_the_kaplan_meier_share_is(client, staff):
    """Below the time-to-response table the page says the share is the Kaplan-Meier estimate, which can reach 100 %
    while some patients never responded (the demo clinic read "100 %; 5 of 7 so far"), and the plot's caption says
    shaded periods are not drawn; the share is no longer called a "cumulative share of those patients"."""
    client.force_login(staff[Role.CLINICIAN])
    html = client.get(PAGE).content.decode()
    assert f'<p class="note">{escape(KAPLAN_MEIER_NOTE)}</p>' in html
    assert "shaded periods have too few patients at risk to be drawn" in html
    assert "cumulative share of those patients" not in html


def test_each_plot_scrolls_inside_its_figure_named_by_the_caption(client, staff):
    """Each plot sits in a sideways-scrolling wrap (which tables.js makes a focusable region when it scrolls) inside
    a figure labelled by its caption, so the region takes the caption's words as its name."""
    client.force_login(staff[Role.CLINICIAN])
    html = client.get(PAGE).content.decode()
    figures = re.findall(
        r'<figure class="cohort-figure" aria-labelledby="([\w-]+)">\s*<div class="table-wrap"><svg .*?</svg>\s*</div>'
        r'\s*<figcaption id="([\w-]+)"',
        html,
        re.S,
    )
    assert len(figures) == 3
    assert all(labelled_by == caption for labelled_by, caption in figures)


def _row(html: str, first_cell: str) -> str:
    """The table row whose first cell is ``first_cell``, as markup."""
    row = re.search(rf"<tr><td>{re.escape(first_cell)}</td>.*?</tr>", html)
    assert row is not None, first_cell
    return row.group(0)


def test_the_page_states_the_day_it_is_made_as_of(client, staff):
    """Near the top the page says it is made as of today and that a period still running is not counted."""
    client.force_login(staff[Role.CLINICIAN])
    response = client.get(PAGE)
    html = response.content.decode()
    today = timezone.localdate()
    assert response.context["report"].as_of == today
    line = AS_OF_NOTE.format(as_of=today.isoformat())
    assert " ".join(html.split()).index(line) < html.index('id="cohort-patients"')


def test_overuse_at_week24_shows_the_patients_who_have_not_reached_it(client, staff):
    """The overuse table's week-24 row counts the treated patients whose week 24 had not ended today as "not
    reached" (the words of the terminal summary and the file), and a note under the table, on the page and in the
    download, says what that means."""
    client.force_login(staff[Role.CLINICIAN])
    response = client.get(PAGE)
    html = response.content.decode()
    report = response.context["report"]
    not_reached = report.overuse_at_week24[WEEK24_NOT_REACHED]
    assert not_reached > 0
    assert f"{WEEK24_NOT_REACHED_WORDS} {not_reached} (" in _row(html, "At week 24 (periods 4-6)")
    note = escape(WEEK24_NOT_REACHED_NOTE.format(as_of=report.as_of.isoformat()))
    assert note in html
    assert note in client.get(HTML).content.decode()


def test_the_published_figures_say_which_rule_made_them_near(client, staff):
    """The published figures show the clinic's 95 % interval, its age range, and "near (tolerance)", "near (inside
    CI)" or "off" per row, explained in the note (no longer "near uses the tolerance written beside each figure")."""
    client.force_login(staff[Role.CLINICIAN])
    response = client.get(PAGE)
    html = response.content.decode()
    for row in response.context["report"].reference:
        cells = re.findall(r"<td[^>]*>(.*?)</td>", _row(html, escape(row.description)))
        word = near_text(row)
        assert re.sub(r"<[^>]+>", "", cells[4]) == ("" if word is None else word), row.name
        if row.cohort_low is not None:
            assert cells[3] == f"{row.cohort_low:.1f} to {row.cohort_high:.1f}", row.name
    (age,) = [row for row in response.context["report"].reference if row.name == "age_range"]
    assert re.findall(r"<td[^>]*>(.*?)</td>", _row(html, escape(age.description)))[2] == age.cohort_text
    assert {NEAR_BY_TOLERANCE, NEAR_BY_INTERVAL, OFF} <= set(map(near_text, response.context["report"].reference))
    assert NEAR_NOTE in html
    assert "near uses the tolerance written beside each figure" not in html


def test_label_rows_the_app_cannot_record_or_records_as_one_kind_say_so(client, staff):
    """Musculoskeletal pain, bronchitis and hypertension read "not recorded by the app" with no verdict on the label;
    headache and migraine name each other as one kind, likewise without a verdict; the plot's caption and name say
    how such rows are drawn."""
    client.force_login(staff[Role.CLINICIAN])
    html = client.get(PAGE).content.decode()
    for name in ("Musculoskeletal pain", "Bronchitis", "Hypertension"):
        cells = re.findall(r"<td[^>]*>(.*?)</td>", _row(html, name))
        assert (cells[1], cells[4]) == (NOT_RECORDED, ""), name
    for name, other in (("Headache", "migraine"), ("Migraine", "headache")):
        cells = re.findall(r"<td[^>]*>(.*?)</td>", _row(html, name))
        assert cells[1].endswith(f"; {RECORDED_TOGETHER.format(names=other)}"), name
        assert cells[4] == "", name
    assert "0 of 0" not in html
    assert "Label rows the app records as one kind are drawn once, without the label's percentage" in html
    assert escape(PLOT_LABELS["adverse"]) in html


def test_the_published_discontinuation_figure_reads_not_recorded_on_the_page(client, staff):
    """The published figures table says the clinic's share of stops for an adverse event is not recorded by the app,
    instead of a 0 judged near the trial's figure."""
    client.force_login(staff[Role.CLINICIAN])
    html = client.get(PAGE).content.decode()
    row = re.search(r"<tr>\s*<td>Share of patients who stopped treatment for an adverse event.*?</tr>", html, re.S)
    assert row is not None
    assert '<span class="words">not recorded by the app</span>' in row.group(0)  # wraps in its numbers column
    assert "near" not in row.group(0)


def test_stops_for_an_adverse_event_read_not_recorded_wherever_the_page_shows_them(client, staff):
    """The adverse-events table's "Discontinued for an adverse event" and the stopping reason of the same name say
    not recorded by the app, not a measured 0 % with an interval: the app records no decision to stop."""
    client.force_login(staff[Role.CLINICIAN])
    html = client.get(PAGE).content.decode()
    for label in ("Discontinued for an adverse event</td>", "Discontinued for an adverse event (recorded)</td>"):
        row = re.search(rf"<tr>\s*<td>{re.escape(label)}.*?</tr>", html, re.S)
        assert row is not None, label
        assert '<span class="words">not recorded by the app</span>' in row.group(0)
        assert "0 of" not in row.group(0)


def test_a_clinic_of_one_patient_reads_1_patient_not_1_patients(client, world):
    """The count in the page's opening line takes its noun in the right number: a clinic with one patient on its
    first day reads "1 patient, 0 treated", not "1 patients"."""
    clinician = UserFactory(username="south.clinician", role=Role.CLINICIAN, clinic=world.other_clinic)
    client.force_login(clinician)
    html = " ".join(client.get(PAGE).content.decode().split())
    assert "1 patient, 0 treated" in html
    assert "1 patients" not in html


CHECK_FAILED = "patient P-1: side effect 2026-01-03 begins before the patient's first session (2026-02-01)"


@pytest.mark.parametrize("address", [PAGE, PDF, HTML])
def test_records_failing_the_reports_checks_give_a_page_naming_them_not_a_server_error(
    client, world, monkeypatch, address
):
    """When the clinic's own records fail one of the cohort report's input checks, the page and both downloads
    answer 409 with a page listing every problem and what to do, instead of a server error."""
    monkeypatch.setattr(views, "clinic_cohort_report", _failing_report)
    client.force_login(world.users[Role.CLINICIAN])
    response = client.get(address)
    assert response.status_code == 409
    html = response.content.decode()
    assert escape(CHECK_FAILED) in html
    assert escape(str(views.CHECKS_FAILED)) in html


def test_the_api_answers_409_with_the_problems_when_the_records_fail_the_checks(world, monkeypatch):
    """The JSON operation answers 409 with the same problems."""
    monkeypatch.setattr(api, "clinic_cohort_report", _failing_report)
    _token, raw = ApiToken.issue(world.users[Role.CLINICIAN], "test")
    response = Client().get(API, headers={"Authorization": f"Bearer {raw}"})
    assert response.status_code == 409
    assert response.json() == {"detail": str(views.CHECKS_FAILED), "problems": [CHECK_FAILED]}


def _failing_report(*, user, today):
    raise CohortSourceError([CHECK_FAILED])


def test_the_stopping_section_counts_the_clinicians_latest_decisions(client, staff):
    """Beside the rules' stopping table the page counts the clinicians' latest decisions: treatment stopped, and
    continued against NICE TA260's stop; a later decision replaces an earlier one of the same patient."""
    from onaboard.web.outcomes.models import Decision, TreatmentDecision
    from onaboard.web.outcomes.selectors import latest_decision

    client.force_login(staff[Role.CLINICIAN])
    today = timezone.localdate()

    def shown() -> str:
        html = client.get(PAGE).content.decode()
        found = re.search(r'<div id="cohort-decisions">(.*?)</div>', html, re.S)
        assert found is not None
        return " ".join(re.sub(r"<[^>]+>", " ", found.group(1)).split())

    clinic = staff[Role.CLINICIAN].clinic
    latest = [latest_decision(patient, today) for patient in clinic.patients.all()]
    stopped = sum(1 for d in latest if d is not None and d.decision is Decision.STOP)
    against = sum(1 for d in latest if d is not None and d.decision is Decision.CONTINUE and d.saw_stop)
    assert stopped >= 1  # the demo clinic has a patient whose treatment a clinician stopped
    text = shown()
    assert f"treatment stopped: {stopped} patient{'s' if stopped != 1 else ''}" in text
    assert f"continued against NICE TA260's stopping rule: {against} patient{'s' if against != 1 else ''}" in text
    record = TreatmentDecision.objects.filter(patient__clinic=clinic, decision=Decision.STOP).first()
    TreatmentDecision.objects.create(
        patient=record.patient,
        decided_on=today,
        decision=Decision.CONTINUE,
        reason="restarting after a year",
        decided_by=record.decided_by,
        nice_verdict="stop",
    )
    text = shown()
    assert f"treatment stopped: {stopped - 1} patient{'s' if stopped - 1 != 1 else ''}" in text
    assert f"stopping rule: {against + 1} patient{'s' if against + 1 != 1 else ''}" in text


def test_a_continue_made_while_the_episodic_rule_held_counts_as_against_the_rule(client, staff):
    """A "continue" recorded while the engine's verdict waited for a complete baseline but the return to episodic
    migraine held (``nice_reverted_to_episodic``) counts as continued against the stopping rule, as the pathway reads
    it (``TreatmentDecision.saw_stop``); one that saw neither counts as a plain continue."""
    from onaboard.web.analytics.selectors import clinic_decisions
    from onaboard.web.outcomes.models import Decision, TreatmentDecision

    clinician = staff[Role.CLINICIAN]
    today = timezone.localdate()
    before = clinic_decisions(user=clinician, today=today).continued_against_rule
    patients = [p for p in clinician.clinic.patients.all() if not p.treatment_decisions.exists()][:2]
    for patient, reverted in zip(patients, (True, False), strict=True):
        TreatmentDecision.objects.create(
            patient=patient,
            decided_on=today,
            decision=Decision.CONTINUE,
            reason="the patient wants to go on",
            decided_by=clinician,
            nice_verdict="not_yet_assessable",
            nice_reverted_to_episodic=reverted,
        )
    assert clinic_decisions(user=clinician, today=today).continued_against_rule == before + 1
