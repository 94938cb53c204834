"""The coverage pages (onaboard/web/coverage/views.py): who sees what, what each page shows, and the forms."""

from __future__ import annotations

import html
import re
import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse

from onaboard.web.audit.models import Action, AuditEvent
from onaboard.web.coverage.documents import NO_SESSION, NO_TREATMENT
from onaboard.web.coverage.forms import (
    DATE_AFTER_TODAY,
    DATE_TOO_EARLY,
    MAX_YEARS_BEFORE_TODAY,
    NO_POLICY_CHOSEN,
    REQUIRED_POLICY,
)
from onaboard.web.coverage.models import ClinicPrice, PatientInsurance, PriceItem, PriorAuthorisation
from onaboard.web.coverage.selectors import ASSUME_TERMS_AFTER_SESSIONS, NO_POLICY, add_months, approval_end
from onaboard.web.injections.models import InjectionSession, SessionStatus
from tests.pdfs import pdf_text
from tests.web.coverage.conftest import POLICY
from tests.web.factories import TreatmentDecisionFactory

pytestmark = pytest.mark.django_db


def _coverage_url(patient, **query) -> str:
    url = reverse("coverage:patient", args=[patient.external_id])
    if query:
        url += "?" + "&".join(f"{key}={value}" for key, value in query.items())
    return url


def _document_url(patient, kind: str) -> str:
    return reverse("coverage:document", args=[patient.external_id, kind])


@pytest.mark.parametrize("role", ["clinician", "nurse", "billing", "admin"])
def test_staff_of_the_clinic_see_the_coverage_page_with_every_criterion_and_the_cost(client, world, treated, role):
    """Clinical and billing staff see the policy's criteria with outcome and evidence, and the cost with its
    assumptions beside the figures."""
    client.force_login(world.users[role])
    response = client.get(_coverage_url(treated.patient))
    assert response.status_code == 200
    body = response.content.decode()
    assert "US commercial policy A (modelled on Aetna CPB 0113) (continuation)" in body
    assert "Treatment cycles given" in body
    assert "Response" in body
    assert "Assumptions" in body
    assert "Patient pays" in body
    assert "1008.43" in body  # J0585 x 155 at $6.506
    initial = client.get(_coverage_url(treated.patient, stage="initial")).content.decode()
    assert "Failed preventive treatments" in initial
    assert "topiramate as prescribed" in initial


def test_the_cost_warns_when_no_approval_is_in_force_on_the_planned_date(client, world, treated):
    """The approval ends before the next session is due: the cost section says so once, as a warning above the
    figures, naming the day it ended."""
    client.force_login(world.users["billing"])
    body = html.unescape(client.get(_coverage_url(treated.patient)).content.decode())
    end = treated.today + timedelta(days=20)
    assert 'id="cost-approval"' in body
    assert body.count(f"the last approval ended on {end}") == 1


def test_the_cost_says_after_which_sessions_the_insurance_terms_are_taken(client, world, treated):
    """Terms checked on the day of the second of three sessions: the assumptions beside the next session name the
    two sessions taken off the terms checked, and the recorded sessions' table is still there, its footnote naming
    the day the terms were checked (not "today's terms"), the session before it saying its share is not known."""
    from django.utils.formats import date_format

    second, third = treated.sessions[1].date, treated.sessions[2].date
    PatientInsurance.objects.filter(patient=treated.patient).update(terms_as_of=second)
    client.force_login(world.users["billing"])
    body = html.unescape(client.get(_coverage_url(treated.patient)).content.decode())
    sessions = f"{second.isoformat()} and {third.isoformat()}"
    assert ASSUME_TERMS_AFTER_SESSIONS.format(day=second.isoformat(), sessions=sessions) in body
    assert "Recorded sessions, at the prices in force on their day" in body
    assert "today's insurance terms" not in body
    footnote = re.search(r'<p class="small muted" id="recorded-share">(.*?)</p>', body, re.S).group(1)
    assert f"the insurance terms were checked on {date_format(second, 'j M Y')} is worked out" in " ".join(
        footnote.split()
    )
    assert f"Share not known: given before the insurance terms were checked on {second.isoformat()}" in body


@pytest.mark.parametrize("role", ["patient", "trainee"])
def test_patients_and_trainees_get_not_found_on_every_coverage_page(client, world, treated, role):
    """The staff pages answer 404 to a patient (even for their own record) and to a trainee."""
    client.force_login(world.users[role])
    for patient in (treated.patient, world.own_patient):
        assert client.get(_coverage_url(patient)).status_code == 404
        assert client.get(_document_url(patient, "prior-auth")).status_code == 404
        assert client.get(reverse("coverage:insurance_edit", args=[patient.external_id])).status_code == 404


def test_a_patient_of_another_clinic_is_not_found_and_the_refusal_is_audited(client, world, treated):
    """Staff of one clinic get 404 for another clinic's patient, and the refusal is in the audit trail."""
    client.force_login(world.users["billing"])
    far = world.other_clinic_patient
    assert client.get(_coverage_url(far)).status_code == 404
    assert client.get(_document_url(far, "procedure")).status_code == 404
    assert AuditEvent.objects.filter(action=Action.DENIED, object_id=str(far.external_id)).exists()


def test_billing_staff_download_letters_and_procedure_notes_but_not_the_after_care_sheet(client, world, treated):
    """Billing staff get the prior-auth and continuation letters and the procedure note; the patient's after-care
    sheet is clinical and answers 404 to them."""
    client.force_login(world.users["billing"])
    for kind in ("prior-auth", "continuation", "procedure"):
        response = client.get(_document_url(treated.patient, kind))
        assert response.status_code == 200, kind
        assert response["Content-Type"] == "application/pdf"
        assert "attachment" in response["Content-Disposition"]
    assert client.get(_document_url(treated.patient, "patient-summary")).status_code == 404


def test_a_clinician_downloads_the_after_care_sheet_of_a_chosen_session(client, world, treated):
    """``?session=`` picks the session whose after-care sheet is written."""
    client.force_login(world.users["clinician"])
    first = treated.sessions[0]
    response = client.get(_document_url(treated.patient, "patient-summary") + f"?session={first.external_id}")
    assert response.status_code == 200
    text = " ".join(pdf_text(response.content).split())
    assert f"On {first.date.day} {first.date:%B %Y} you had 155 units" in text


def test_a_document_that_cannot_be_written_answers_409_with_the_reason_not_a_redirect(client, world, eligible):
    """A continuation letter before any session, or a letter without a policy, answers 409 with the reason on a
    plain page (a redirect would be saved by a download link as the coverage page's HTML, its message lost)."""
    client.force_login(world.users["clinician"])
    for kind, reason in (("continuation", NO_TREATMENT), ("procedure", NO_SESSION), ("prior-auth", NO_POLICY)):
        response = client.get(_document_url(eligible, kind))
        assert response.status_code == 409, kind
        assert response["Content-Type"].startswith("text/html")
        assert "attachment" not in response.get("Content-Disposition", "")
        body = html.unescape(" ".join(response.content.decode().split()))
        assert reason in body
        assert _coverage_url(eligible) in body


def test_the_coverage_page_offers_no_download_that_cannot_work_and_says_why(client, world, eligible):
    """Before treatment and without insurance, every document button is shown disabled with its reason beside it
    and no download link; choosing a policy makes the prior-authorisation letter downloadable."""
    client.force_login(world.users["billing"])
    body = html.unescape(" ".join(client.get(_coverage_url(eligible)).content.decode().split()))
    for kind in ("prior-auth", "continuation", "procedure"):
        assert _document_url(eligible, kind) not in body, kind
    assert " download" not in body
    for reason in (NO_POLICY, NO_TREATMENT, NO_SESSION):
        assert reason in body
    assert 'aria-disabled="true"' in body
    chosen = html.unescape(client.get(_coverage_url(eligible, policy="nice-ta260")).content.decode())
    assert f'{_document_url(eligible, "prior-auth")}?policy=nice-ta260" download' in chosen
    assert _document_url(eligible, "continuation") not in chosen


def test_the_patient_pages_documents_card_disables_letters_that_cannot_be_written(client, world, eligible):
    """The documents card on the patient pages shows a letter that cannot be written disabled, with the reason,
    and without a download link."""
    client.force_login(world.users["clinician"])
    body = client.get(reverse("patients:detail", args=[eligible.external_id])).content.decode()
    body = html.unescape(" ".join(body.split()))
    assert _document_url(eligible, "prior-auth") not in body
    assert _document_url(eligible, "continuation") not in body
    assert NO_POLICY in body
    assert NO_TREATMENT in body


def test_an_unknown_document_is_not_found(client, world, treated):
    """Only the four documents exist."""
    client.force_login(world.users["clinician"])
    assert client.get(_document_url(treated.patient, "invoice")).status_code == 404


@pytest.mark.parametrize("session", ["not-a-uuid", "own-patient"])
def test_a_session_id_naming_no_session_of_the_patient_is_not_found(client, world, treated, session):
    """``?session=`` naming no recorded session of the patient (not an id, or another patient's) is a missing
    resource, 404, not a document the record cannot give (409)."""
    client.force_login(world.users["clinician"])
    session_id = world.own_patient.external_id if session == "own-patient" else session
    response = client.get(_document_url(treated.patient, "procedure") + f"?session={session_id}")
    assert response.status_code == 404
    assert "attachment" not in response.get("Content-Disposition", "")


def test_the_patient_pages_offer_the_documents_each_role_may_download(client, world, treated):
    """The clinician's page links all four documents per session; the billing page leaves out the after-care
    sheet."""
    client.force_login(world.users["clinician"])
    body = client.get(reverse("patients:detail", args=[treated.patient.external_id])).content.decode()
    assert _document_url(treated.patient, "prior-auth") in body
    assert _document_url(treated.patient, "patient-summary") + f"?session={treated.sessions[0].external_id}" in body
    client.force_login(world.users["billing"])
    body = client.get(reverse("patients:billing", args=[treated.patient.external_id])).content.decode()
    assert _document_url(treated.patient, "procedure") in body
    assert "patient-summary" not in body
    assert "approved" in body


def test_the_coverage_page_says_which_days_prices_priced_the_next_session(client, world, treated):
    """A price set after today but before the planned session is the one the page's next session uses, and the
    page names the day whose prices it used."""
    due = treated.sessions[-1].date + timedelta(days=84)
    ClinicPrice.objects.create(
        clinic=world.clinic, item=PriceItem.ADMINISTRATION, amount=Decimal("300"), set_on=treated.today + timedelta(1)
    )
    client.force_login(world.users["billing"])
    body = " ".join(client.get(_coverage_url(treated.patient)).content.decode().split())
    day = f"{due.day} {due:%b %Y}"
    assert f"The next session and the year are priced with the prices in force on {day}, the planned date." in body
    assert "1721.20 USD" in body


def test_choosing_a_policy_and_stage_evaluates_against_it(client, world, eligible):
    """The policy and stage chosen on the page are the ones evaluated, and the read is audited."""
    client.force_login(world.users["clinician"])
    body = client.get(_coverage_url(eligible, policy="nice-ta260", stage="initial")).content.decode()
    assert "NICE TA260" in body
    event = AuditEvent.objects.filter(object_type="coverage").latest("id")
    assert event.detail.startswith("nice-ta260 initial: ")


def test_without_a_policy_the_page_asks_for_one(client, world, eligible):
    """A patient without insurance and no policy chosen: the page says to choose one."""
    client.force_login(world.users["billing"])
    body = client.get(_coverage_url(eligible)).content.decode()
    assert "Choose a coverage policy, or record the patient" in body


def test_without_a_policy_the_criteria_dropdown_shows_none_chosen(client, world, eligible):
    """With no insurance and no policy chosen, the criteria's Policy dropdown starts on an empty choice, agreeing with
    the page's "Choose a coverage policy" (a browser shows the first option of a list with none selected: the AHS
    consensus statement, as if it were the patient's policy); a chosen policy stays selected."""
    client.force_login(world.users["billing"])
    body = client.get(_coverage_url(eligible)).content.decode()
    assert '<option value="" selected>— choose a policy —</option>' in body
    chosen = client.get(_coverage_url(eligible, policy="nice-ta260")).content.decode()
    assert '<option value="nice-ta260" selected>' in chosen
    assert '<option value="" selected>' not in chosen


def test_recording_insurance_saves_the_terms_and_audits_the_change(client, world, eligible, today):
    """Posting the insurance form saves the terms; the patient's share then appears in the cost."""
    client.force_login(world.users["billing"])
    url = reverse("coverage:insurance_edit", args=[eligible.external_id])
    data = {
        "policy_id": "us-commercial-b",
        "payer": "Plan B",
        "member_id": "B-1",
        "deductible_remaining": "100",
        "coinsurance_percent": "10",
        "copay_per_session": "0",
        "out_of_pocket_remaining": "",
        "savings_programme": "",
        "savings_remaining": "0",
        "bill_discarded_units": "on",
        "sessions_per_year": "4",
        "terms_as_of": today.isoformat(),
        "version": "0",
    }
    response = client.post(url, data)
    assert response.status_code == 302
    insurance = PatientInsurance.objects.get(patient=eligible)
    assert insurance.coinsurance_percent == Decimal("10")
    assert AuditEvent.objects.filter(object_type="insurance", action=Action.CREATE).exists()
    body = client.get(_coverage_url(eligible)).content.decode()
    assert "deductible: $100.00 applied of $100.00 remaining" in body


def test_insurance_refuses_more_sessions_than_fit_in_a_year_and_a_coinsurance_over_100(client, world, eligible, today):
    """Six sessions a year and 120 % coinsurance are refused with their field named."""
    client.force_login(world.users["billing"])
    url = reverse("coverage:insurance_edit", args=[eligible.external_id])
    response = client.post(
        url,
        {
            "policy_id": "us-commercial-b",
            "deductible_remaining": "0",
            "coinsurance_percent": "120",
            "copay_per_session": "0",
            "savings_remaining": "0",
            "sessions_per_year": "6",
            "terms_as_of": today.isoformat(),
        },
    )
    assert response.status_code == 200
    form = response.context["form"]
    assert "sessions_per_year" in form.errors
    assert "coinsurance_percent" in form.errors
    assert not PatientInsurance.objects.filter(patient=eligible).exists()


def test_insurance_saved_without_choosing_a_policy_is_refused_and_stores_nothing(client, world, eligible, today):
    """The reviewer's first day: a new insurance form shows no policy chosen, and saving it with only the payer
    typed is refused with "Choose the coverage policy." instead of storing the first shipped policy (a consensus
    statement, not the payer's)."""
    client.force_login(world.users["clinician"])
    url = reverse("coverage:insurance_edit", args=[eligible.external_id])
    page = client.get(url).content.decode()
    assert f'<option value="" selected>{html.escape(NO_POLICY_CHOSEN)}</option>' in page
    data = {
        "policy_id": "",
        "payer": "Medicare Part B",
        "deductible_remaining": "0",
        "coinsurance_percent": "20",
        "copay_per_session": "0",
        "savings_remaining": "0",
        "sessions_per_year": "4",
        "terms_as_of": today.isoformat(),
        "version": "0",
    }
    response = client.post(url, data)
    assert response.status_code == 200
    assert response.context["form"].errors == {"policy_id": [REQUIRED_POLICY]}
    assert not PatientInsurance.objects.filter(patient=eligible).exists()


@pytest.mark.parametrize("checked_on", ["0026-12-01", "tomorrow", "9026-12-01"])
def test_insurance_terms_checked_in_a_mistyped_year_or_after_today_are_refused_and_the_stored_terms_kept(
    client, world, treated, checked_on
):
    """Terms with a $400 deductible checked on 0026-12-01 (for 2026: the cost then took every session off the terms
    and applied $0 of the deductible), tomorrow or on 9026-12-01 are refused on the date, naming the earliest or
    latest day allowed, and the stored terms stay as they were; the same terms checked today are saved."""
    client.force_login(world.users["billing"])
    url = reverse("coverage:insurance_edit", args=[treated.patient.external_id])
    stored = PatientInsurance.objects.get(patient=treated.patient)
    data = {
        "policy_id": stored.policy_id,
        "payer": stored.payer,
        "deductible_remaining": "400",
        "coinsurance_percent": "20",
        "copay_per_session": "0",
        "savings_remaining": "0",
        "sessions_per_year": "4",
        "version": str(stored.version),
    }
    if checked_on == "tomorrow":
        checked_on = (treated.today + timedelta(days=1)).isoformat()
    response = client.post(url, {**data, "terms_as_of": checked_on})
    assert response.status_code == 200
    label = response.context["form"].fields["terms_as_of"].label
    if checked_on.startswith("0026"):
        earliest = add_months(treated.today, -12 * MAX_YEARS_BEFORE_TODAY).isoformat()
        expected = DATE_TOO_EARLY % {"field": label, "years": MAX_YEARS_BEFORE_TODAY, "earliest": earliest}
    else:
        expected = DATE_AFTER_TODAY % {"field": label, "today": treated.today.isoformat()}
    assert response.context["form"].errors == {"terms_as_of": [expected]}
    assert html.escape(expected) in response.content.decode()
    kept = PatientInsurance.objects.get(patient=treated.patient)
    assert (kept.terms_as_of, kept.deductible_remaining, kept.version) == (
        stored.terms_as_of,
        stored.deductible_remaining,
        stored.version,
    )
    assert client.post(url, {**data, "terms_as_of": treated.today.isoformat()}).status_code == 302
    assert PatientInsurance.objects.get(patient=treated.patient).deductible_remaining == Decimal("400")


def test_a_request_dated_after_today_is_refused_and_stores_nothing(client, world, eligible, today):
    """A new request dated tomorrow is refused on its date, naming today as the latest day, and nothing is stored;
    the same request dated today is recorded."""
    client.force_login(world.users["billing"])
    new = reverse("coverage:authorisation_new", args=[eligible.external_id])
    form = _request_form(eligible, today)
    response = client.post(new, {**form, "requested_on": (today + timedelta(days=1)).isoformat()})
    assert response.status_code == 200
    label = response.context["form"].fields["requested_on"].label
    assert response.context["form"].errors == {
        "requested_on": [DATE_AFTER_TODAY % {"field": label, "today": today.isoformat()}]
    }
    assert not PriorAuthorisation.objects.filter(patient=eligible).exists()
    assert client.post(new, form).status_code == 302
    assert PriorAuthorisation.objects.filter(patient=eligible).count() == 1


def test_a_new_request_preselects_the_insurance_policy_and_otherwise_none(client, world, treated):
    """The new prior-authorisation form shows the patient's insurance policy chosen; once the patient has no
    insurance it shows the empty choice, so the request's policy is chosen, not the first shipped one."""
    client.force_login(world.users["billing"])
    url = reverse("coverage:authorisation_new", args=[treated.patient.external_id])
    insured = client.get(url).content.decode()
    assert f'<option value="{POLICY}" selected>' in insured
    PatientInsurance.objects.filter(patient=treated.patient).delete()
    uninsured = client.get(url).content.decode()
    assert f'<option value="" selected>{html.escape(NO_POLICY_CHOSEN)}</option>' in uninsured


def test_a_pending_request_then_its_approval_fills_the_end_from_the_policy(client, world, eligible, today):
    """A request is recorded as awaiting the payer; recording the approval, answered today and starting in three
    days, without an end date uses the policy's approval period (6 months for us-commercial-a)."""
    client.force_login(world.users["billing"])
    new = reverse("coverage:authorisation_new", args=[eligible.external_id])
    base = {
        "stage": "initial",
        "policy_id": "us-commercial-a",
        "diagnosis_code": "G43.709",
        "requested_on": today.isoformat(),
        "medication_overuse_managed": "unknown",
        "prescriber_attests_benefit": "unknown",
    }
    assert client.post(new, {**base, "status": "requested"}).status_code == 302
    request = PriorAuthorisation.objects.get(patient=eligible)
    assert request.status == "requested"
    body = client.get(_coverage_url(eligible)).content.decode()
    assert "awaiting the payer" in body
    edit = reverse("coverage:authorisation_edit", args=[eligible.external_id, request.external_id])
    start = today + timedelta(days=3)
    answer = {"status": "approved", "decided_on": today.isoformat(), "approved_from": start.isoformat()}
    response = client.post(edit, {**base, **answer, "version": request.version})
    assert response.status_code == 302
    request.refresh_from_db()
    assert request.status == "approved"
    assert request.approved_until is not None
    assert (request.approved_until - start).days in range(180, 185)
    assert AuditEvent.objects.filter(object_type="prior_authorisation", action=Action.UPDATE).exists()


def test_an_approval_needs_the_answer_date_and_its_start(client, world, eligible, today):
    """An approval without the day of the answer or the first day covered is refused, naming both fields."""
    client.force_login(world.users["billing"])
    new = reverse("coverage:authorisation_new", args=[eligible.external_id])
    response = client.post(
        new,
        {
            "stage": "initial",
            "policy_id": "us-commercial-a",
            "diagnosis_code": "G43.709",
            "requested_on": today.isoformat(),
            "status": "approved",
        },
    )
    assert response.status_code == 200
    assert {"decided_on", "approved_from"} <= set(response.context["form"].errors)
    assert not PriorAuthorisation.objects.exists()


# --- Prices -------------------------------------------------------------------------------------------------------


def test_billing_staff_set_a_price_which_applies_from_its_date_and_keeps_the_history(client, world, today):
    """A new price is added (never overwriting), audited, and shown in force and in the history."""
    client.force_login(world.users["billing"])
    url = reverse("coverage:prices")
    ClinicPrice.objects.create(
        clinic=world.clinic, item=PriceItem.DRUG_PER_UNIT, amount=Decimal("6.512"), set_on=today - timedelta(days=90)
    )
    response = client.post(
        url, {"item": "drug_per_unit", "amount": "6.506", "currency": "USD", "set_on": today.isoformat(), "note": "Q3"}
    )
    assert response.status_code == 302
    assert ClinicPrice.objects.filter(clinic=world.clinic, item="drug_per_unit").count() == 2
    body = client.get(url).content.decode()
    assert "6.506 USD" in body
    assert "6.512 USD" in body
    assert AuditEvent.objects.filter(object_type="clinic_price", action=Action.CREATE).exists()


@pytest.mark.parametrize(("days", "saved"), [(0, False), (1, True)], ids=["today", "tomorrow"])
def test_a_price_in_a_new_currency_is_saved_only_from_a_day_after_today_with_what_is_left(
    client, world, today, days, saved
):
    """A price in another currency than the others is refused from today (costs would break at once) and saved from
    a day after today with a warning naming the items still to price anew (the first step of a change of currency)."""
    client.force_login(world.users["billing"])
    ClinicPrice.objects.create(
        clinic=world.clinic, item=PriceItem.DRUG_PER_UNIT, amount=Decimal("6.512"), set_on=today - timedelta(days=90)
    )
    day = (today + timedelta(days=days)).isoformat()
    response = client.post(
        reverse("coverage:prices"), {"item": "visit", "amount": "95", "currency": "GBP", "set_on": day}, follow=True
    )
    body = response.content.decode()
    assert ClinicPrice.objects.filter(currency="GBP").exists() is saved
    assert ("priced in GBP from that day too" in body) is saved
    assert ("To change the clinic&#x27;s currency" in body) is not saved


@pytest.mark.parametrize("role", ["clinician", "nurse"])
def test_clinical_staff_read_the_prices_but_may_not_set_them(client, world, role, today):
    """Clinicians and nurses see the price page without the form; a POST is forbidden and saves nothing."""
    client.force_login(world.users[role])
    url = reverse("coverage:prices")
    response = client.get(url)
    assert response.status_code == 200
    assert "Billing staff and administrators set the prices." in response.content.decode()
    response = client.post(url, {"item": "visit", "amount": "1", "currency": "USD", "set_on": today.isoformat()})
    assert response.status_code == 403
    assert not ClinicPrice.objects.exists()


@pytest.mark.parametrize("role", ["patient", "trainee"])
def test_patients_and_trainees_may_not_see_the_prices(client, world, role):
    """The price page is for clinic staff only."""
    client.force_login(world.users[role])
    assert client.get(reverse("coverage:prices")).status_code == 403


def test_a_negative_price_is_refused(client, world, today):
    """A price below zero is refused on its field."""
    client.force_login(world.users["admin"])
    response = client.post(
        reverse("coverage:prices"), {"item": "visit", "amount": "-1", "currency": "USD", "set_on": today.isoformat()}
    )
    assert response.status_code == 200
    assert "amount" in response.context["form"].errors


def test_the_edit_forms_are_audited_as_reads(world, treated, client):
    """Opening an edit form shows the stored record, so each form's GET is a read in the trail, like a page's."""
    from onaboard.web.patients.models import PreventiveTrial

    patient = treated.patient
    trial = PreventiveTrial.objects.filter(patient=patient).first()
    authorisation = PriorAuthorisation.objects.get(patient=patient)
    pages = {
        ("clinician", reverse("patients:edit", args=[patient.external_id])): "patient",
        ("clinician", reverse("patients:safety_edit", args=[patient.external_id])): "patient",
        ("clinician", reverse("patients:preventive_edit", args=[patient.external_id, trial.external_id])): (
            "preventive_trial"
        ),
        ("billing", reverse("coverage:insurance_edit", args=[patient.external_id])): "insurance",
        ("billing", reverse("coverage:authorisation_edit", args=[patient.external_id, authorisation.external_id])): (
            "prior_authorisation"
        ),
    }
    for (role, url), object_type in pages.items():
        client.force_login(world.users[role])
        before = AuditEvent.objects.count()
        assert client.get(url).status_code == 200, url
        (event,) = AuditEvent.objects.order_by("id")[before:]
        assert (event.action, event.object_type, event.patient_id, event.username) == (
            Action.READ,
            object_type,
            patient.external_id,
            role,
        ), url


@pytest.mark.parametrize("whose", ["same_clinic", "other_clinic", "nobody"])
def test_another_patients_authorisation_id_is_refused_in_the_audit_trail_naming_that_patient(
    client, world, treated, today, whose
):
    """Opening or saving the prior-authorisation form of a patient billing staff may see with the request id of
    another patient (of the same clinic or another) is the same 404 as an id of nobody, and each refusal is a DENIED
    event naming the patient whose request it is (none for an id of nobody), as a refused session id is; nothing
    is changed."""
    owner, asked = {
        "same_clinic": lambda: (treated.patient, PriorAuthorisation.objects.get(patient=treated.patient).external_id),
        "other_clinic": lambda: (
            world.other_clinic_patient,
            _approve_without_end(world.other_clinic_patient, today).external_id,
        ),
        "nobody": lambda: (None, uuid.uuid4()),
    }[whose]()
    before = {a.pk: a.version for a in PriorAuthorisation.objects.all()}
    client.force_login(world.users["billing"])
    url = reverse("coverage:authorisation_edit", args=[world.own_patient.external_id, asked])
    assert client.get(url).status_code == 404
    assert client.post(url, _request_form(world.own_patient, today)).status_code == 404
    refusals = AuditEvent.objects.filter(action=Action.DENIED, object_type="prior_authorisation")
    owner_id = owner.external_id if owner is not None else None
    assert [(e.object_id, e.patient_id, e.detail, e.username) for e in refusals] == [
        (str(asked), owner_id, "view_billing", "billing")
    ] * 2
    assert not AuditEvent.objects.filter(action=Action.READ, object_type="prior_authorisation").exists()
    assert {a.pk: a.version for a in PriorAuthorisation.objects.all()} == before


# --- Wording: values shown in words, not as codes -------------------------------------------------------------------


def _approve_without_end(patient, today, policy_id: str = "nice-ta260") -> PriorAuthorisation:
    return PriorAuthorisation.objects.create(
        patient=patient,
        stage="initial",
        policy_id=policy_id,
        diagnosis_code="G43.709",
        requested_on=today - timedelta(days=20),
        status="approved",
        decided_on=today - timedelta(days=10),
        approved_from=today - timedelta(days=10),
    )


def test_an_approval_without_an_end_date_says_so_on_the_coverage_page_and_the_patient_page(
    client, world, eligible, today
):
    """An approval the payer gave no end date (NICE TA260 sets no approval length) reads "no end date given" on the
    coverage page, in its table and in the patient page's documents card, never "to" or "until" with nothing after
    it."""
    from django.template import Context, Template

    _approve_without_end(eligible, today)
    client.force_login(world.users["billing"])
    body = " ".join(client.get(_coverage_url(eligible)).content.decode().split())
    start = today - timedelta(days=10)
    shown = f"{start.day} {start:%b %Y}"
    assert f"Approved from {shown}, no end date given" in body
    assert f"{shown} \N{EN DASH} no end date given" in body
    assert "…" not in body
    card = Template("{% load coverage_documents %}{% patient_documents patient %}").render(
        Context({"user": world.users["billing"], "patient": eligible})
    )
    card = " ".join(card.split())
    assert f"from {shown}, no end date given" in card
    assert "until </p>" not in card


def test_the_coverage_page_names_policies_and_unconfirmed_fields_in_words(client, world, treated):
    """Billing staff read the insurance's and each request's policy by its name, and the fields a policy file marks
    unconfirmed in words ("maximum units per session"), with the approval length marked as not confirmed: never
    the policy id, the field paths or the engine's UNCONFIRMED mark."""
    client.force_login(world.users["billing"])
    body = " ".join(client.get(_coverage_url(treated.patient, stage="initial")).content.decode().split())
    assert '<dd style="margin:0">US commercial policy A (modelled on Aetna CPB 0113)</dd>' in body
    assert "<td>US commercial policy A (modelled on Aetna CPB 0113)</td>" in body
    assert "us-commercial-a" not in body.replace('value="us-commercial-a"', "").replace("policy=us-commercial-a", "")
    assert "not confirmed in a source: maximum units per session" in body
    assert "Approval length if approved: 6 months (not confirmed in a source)" in body
    assert "UNCONFIRMED" not in body
    assert "session.max_units" not in body
    assert "approval length if approved" not in body


def _approved_without_an_end(start):
    """The form's answers for an initial us-commercial-a request approved from ``start``, its end left empty."""
    return {
        "stage": "initial",
        "policy_id": "us-commercial-a",
        "diagnosis_code": "G43.709",
        "requested_on": (start - timedelta(days=7)).isoformat(),
        "status": "approved",
        "decided_on": start.isoformat(),
        "approved_from": start.isoformat(),
        "medication_overuse_managed": "unknown",
        "prescriber_attests_benefit": "unknown",
    }


def test_an_end_date_filled_from_an_unconfirmed_approval_length_is_not_shown_as_the_payers(
    client, world, eligible, today
):
    """Recording an approval without its end fills it from the policy's 6 months, which us-commercial-a's file marks
    unconfirmed: the save warns that the date is the policy's, not the payer's answer, and the page says so beside
    it; an end date the user then gives is the payer's."""
    client.force_login(world.users["billing"])
    start = today - timedelta(days=3)
    data = _approved_without_an_end(start)
    response = client.post(reverse("coverage:authorisation_new", args=[eligible.external_id]), data, follow=True)
    request = PriorAuthorisation.objects.get(patient=eligible)
    assert request.approved_until_from_policy
    end = request.approved_until
    body = " ".join(response.content.decode().split())
    assert (
        f"The approval&#x27;s end date, {end.day} {end:%b %Y}, is the policy&#x27;s approval length (6 months, a "
        "length not confirmed in a source), not the payer&#x27;s answer" in body
    )
    assert (
        "End date from the policy&#x27;s approval length, not the payer&#x27;s answer; not confirmed in a source."
        in body
    )
    edit = reverse("coverage:authorisation_edit", args=[eligible.external_id, request.external_id])
    given = end - timedelta(days=30)
    client.post(edit, {**data, "approved_until": given.isoformat(), "version": request.version})
    request.refresh_from_db()
    assert (request.approved_until, request.approved_until_from_policy) == (given, False)
    assert "approval length, not the payer" not in client.get(_coverage_url(eligible)).content.decode()


def test_the_diagnosis_choices_show_the_icd10_code_first(client, world, eligible):
    """The diagnosis list offers each ICD-10-CM code before its words (the code is what the claim and the letters
    carry, and Medicare policy A reads intractability from it): "G43.719 — Chronic migraine without aura,
    intractable, ..."."""
    client.force_login(world.users["billing"])
    page = client.get(reverse("coverage:authorisation_new", args=[eligible.external_id])).content.decode()
    assert (
        '<option value="G43.719">G43.719 \N{EM DASH} Chronic migraine without aura, intractable, without status '
        "migrainosus</option>"
    ) in page


def test_an_approval_saved_without_an_end_under_a_policy_without_a_period_is_warned_of(client, world, eligible, today):
    """An initial approval under us-commercial-c (whose file sets no approval period) saved with its end left empty
    keeps no end (nothing to fill it from), and the save warns that it will show in force with no end and no renewal
    will fall due; one whose end is given is not warned of."""
    client.force_login(world.users["billing"])
    start = today - timedelta(days=3)
    data = {**_approved_without_an_end(start), "policy_id": "us-commercial-c"}
    response = client.post(reverse("coverage:authorisation_new", args=[eligible.external_id]), data, follow=True)
    request = PriorAuthorisation.objects.get(patient=eligible)
    assert (request.approved_until, request.approved_until_from_policy) == (None, False)
    body = " ".join(response.content.decode().split())
    assert "This approval has no end date: US commercial policy C" in body
    assert "sets no approval period for initial requests, so none could be filled in." in body
    assert "no renewal will fall due. Enter the last day from the payer&#x27;s letter." in body
    edit = reverse("coverage:authorisation_edit", args=[eligible.external_id, request.external_id])
    end = start + timedelta(days=180)
    given = {**data, "approved_until": end.isoformat(), "version": request.version}
    answered = client.post(edit, given, follow=True).content.decode()
    assert "This approval has no end date" not in answered


def test_the_prior_authorisation_form_has_sentence_case_labels_and_plain_required_messages(client, world, eligible):
    """The form's labels start with a capital as the rest of the app's do, and a missing diagnosis, policy or
    request date is asked for by name, not with "This field is required."."""
    client.force_login(world.users["billing"])
    url = reverse("coverage:authorisation_new", args=[eligible.external_id])
    page = client.get(url).content.decode()
    assert ">Coverage policy:</label>" in page
    assert ">Medication overuse managed (clinician attests):</label>" in page
    assert ">Clinically meaningful benefit (prescriber attests):</label>" in page
    assert ">coverage policy:" not in page
    response = client.post(url, {"stage": "initial", "status": "requested", "policy_id": ""})
    errors = response.context["form"].errors
    assert errors["diagnosis_code"] == ["Choose the diagnosis (ICD-10-CM code)."]
    assert errors["policy_id"] == ["Choose the coverage policy."]
    assert errors["requested_on"] == ["Give the day the request was sent."]
    assert "This field is required." not in response.content.decode()


def test_a_filled_end_date_follows_a_corrected_start_and_stays_the_policys(client, world, eligible, today):
    """Correcting only the start of an approval whose end was filled from the policy fills the end again from the
    new start, still marked as the policy's: the old end, worked out from the old start, is not kept as the payer's."""
    client.force_login(world.users["billing"])
    start = today - timedelta(days=40)
    data = _approved_without_an_end(start)
    client.post(reverse("coverage:authorisation_new", args=[eligible.external_id]), data)
    request = PriorAuthorisation.objects.get(patient=eligible)
    first_end = request.approved_until
    edit = reverse("coverage:authorisation_edit", args=[eligible.external_id, request.external_id])
    corrected = start + timedelta(days=10)
    typed = {"approved_from": corrected.isoformat(), "approved_until": first_end.isoformat()}
    client.post(edit, {**data, **typed, "version": request.version})
    request.refresh_from_db()
    assert request.approved_until == approval_end(corrected, 6) != first_end
    assert request.approved_until_from_policy


def _day(day) -> str:
    return f"{day.day} {day:%b %Y}"


def _card(world, patient, role: str = "billing") -> str:
    """The patient pages' documents card as ``role`` sees it, as text, whitespace collapsed."""
    from django.template import Context, Template
    from django.utils.html import strip_tags

    card = Template("{% load coverage_documents %}{% patient_documents patient %}").render(
        Context({"user": world.users[role], "patient": patient})
    )
    return html.unescape(" ".join(strip_tags(card).split()))


def _page(client, world, patient) -> str:
    client.force_login(world.users["billing"])
    return html.unescape(" ".join(client.get(_coverage_url(patient)).content.decode().split()))


def _authorisation(patient, today, *, status: str, requested: int, start=None, end=None, stage="initial"):
    """A request ``requested`` days before today, under the patient's insurance (us-commercial-a without one);
    approved from ``start`` to ``end`` days from today."""
    insured = PatientInsurance.objects.filter(patient=patient).values_list("policy_id", flat=True).first()
    return PriorAuthorisation.objects.create(
        patient=patient,
        stage=stage,
        policy_id=insured or "us-commercial-a",
        diagnosis_code="G43.719",
        requested_on=today - timedelta(days=requested),
        status=status,
        decided_on=None if status == "requested" else today - timedelta(days=requested - 2),
        approved_from=None if start is None else today + timedelta(days=start),
        approved_until=None if end is None else today + timedelta(days=end),
    )


def test_a_denied_request_is_shown_on_the_coverage_page_and_the_patient_pages(client, world, eligible, today):
    """The payer's denial of the latest request reads "denied on <date>" in the summary and the documents card, not
    only in the table."""
    _authorisation(eligible, today, status="denied", requested=12)
    decided = _day(today - timedelta(days=10))
    requested = _day(today - timedelta(days=12))
    assert f"Request of {requested} denied on {decided}" in _page(client, world, eligible)
    assert f"denied request of {requested} denied on {decided}" in _card(world, eligible)


def test_an_ended_approval_says_none_is_in_force(client, world, eligible, today):
    """An approval that ended yesterday reads "approval ended <date>; none in force" on both pages."""
    _authorisation(eligible, today, status="approved", requested=200, start=-190, end=-1)
    ended = _day(today - timedelta(days=1))
    assert f"Approval ended {ended}; none in force" in _page(client, world, eligible)
    assert f"approval ended {ended}; none in force" in _card(world, eligible)


def test_a_payer_asking_no_approval_at_the_clinics_site_says_so_and_an_ended_one_is_not_alarming(
    client, world, eligible, today
):
    """Medicare asks for prior authorisation in a hospital outpatient department only: for a physician's office the
    prior-authorisation card says so (the worklist's "not needed"), and an approval that ended is history, not a red
    "none in force"; in a hospital outpatient department the same ended approval is red."""
    PatientInsurance.objects.create(patient=eligible, policy_id="us-medicare-a", payer="Medicare", terms_as_of=today)
    _authorisation(eligible, today, status="approved", requested=200, start=-190, end=-1)
    ended = _day(today - timedelta(days=1))
    type(world.clinic).objects.filter(pk=world.clinic.pk).update(site_of_service="office")
    client.force_login(world.users["billing"])
    office = client.get(_coverage_url(eligible)).content.decode()
    from django.utils.html import strip_tags

    text = html.unescape(" ".join(strip_tags(office).split()))
    assert "asks for no prior authorisation in a physician's office (only in a hospital outpatient department)" in text
    assert f"Approval ended {ended}; none in force" in text
    assert '<div class="verdict bad"><strong>Approval ended' not in office
    type(world.clinic).objects.filter(pk=world.clinic.pk).update(site_of_service="hospital_outpatient")
    hospital = client.get(_coverage_url(eligible)).content.decode()
    assert '<div class="verdict bad"><strong>Approval ended' in hospital
    assert "asks for no prior authorisation" not in hospital


def test_a_stopped_treatment_needs_no_approval_and_raises_no_alarm(client, world, treated):
    """After a clinician's decision to stop, the coverage page says treatment stopped (on which day, by whom) and
    that no approval or renewal is needed; the approval falling due for renewal is no longer flagged on the page or
    on the patient pages' documents card, and an approval that ended since is history, not a red alarm."""
    today = treated.today
    assert "Renewal due from" in _page(client, world, treated.patient)
    assert "renewal due" in _card(world, treated.patient)
    TreatmentDecisionFactory(
        patient=treated.patient, decided_on=today - timedelta(days=1), decided_by=world.users["clinician"]
    )
    name = world.users["clinician"].get_full_name() or world.users["clinician"].username
    page = _page(client, world, treated.patient)
    assert (
        f"Treatment stopped on {_day(today - timedelta(days=1))} by {name}, and no session is booked: no approval or "
        "renewal is needed."
    ) in page
    assert "can be withdrawn" not in page
    assert "Renewal due from" not in page
    assert (
        f"Treatment stopped on {_day(today - timedelta(days=1))}: no session is planned. The figures below are what "
        "one more session, and a year of them, would cost if treatment resumed."
    ) in page
    assert "renewal due" not in _card(world, treated.patient)
    PriorAuthorisation.objects.filter(patient=treated.patient).update(approved_until=today - timedelta(days=1))
    client.force_login(world.users["billing"])
    raw = client.get(_coverage_url(treated.patient)).content.decode()
    assert '<div class="verdict"><strong>Approval ended' in raw
    assert '<span class="badge">no approval in force</span>' in _raw_card(world, treated.patient)
    # the cost section prices a further session without planning one: no planned date, no approval alarm
    assert 'id="cost-approval"' not in raw
    text = html.unescape(" ".join(raw.split()))
    assert "the planned date" not in text
    assert "the earliest a further session could be given" in text
    assert f"planned date: none (treatment stopped on {(today - timedelta(days=1)).isoformat()}), taken as" in text
    cost = client.get(f"/api/patients/{treated.patient.external_id}/cost").json()
    assert cost["stopped_on"] == (today - timedelta(days=1)).isoformat()
    assert not any("no prior authorisation" in note.lower() for note in cost["assumptions"])


def test_a_booking_still_held_after_a_stop_keeps_the_approvals_as_they_are(client, world, treated):
    """A session still booked after a decision to stop is the clinic's to cancel: until it is, the coverage page
    says nothing of a stop, the renewal falling due is flagged and the worklist shows it, as for a patient on
    treatment; cancelling the booking quiets them."""
    from onaboard.web.clinic.selectors import ApprovalStatus, worklist

    today = treated.today
    booking = InjectionSession.objects.create(
        patient=treated.patient, date=today + timedelta(days=3), status=SessionStatus.BOOKED
    )
    TreatmentDecisionFactory(patient=treated.patient, decided_on=today, decided_by=world.users["clinician"])

    def line():
        rows = [row for group in worklist(user=world.users["billing"], today=today).groups for row in group.rows]
        return next(row for row in rows if row.patient.pk == treated.patient.pk).approval.status

    page = _page(client, world, treated.patient)
    assert "Treatment stopped on" not in page
    assert "Renewal due from" in page
    assert "renewal due" in _card(world, treated.patient)
    assert line() is ApprovalStatus.RENEWAL_DUE
    assert "no session is planned" not in page
    cost = client.get(f"/api/patients/{treated.patient.external_id}/cost").json()
    assert cost["stopped_on"] is None
    booking.status = SessionStatus.CANCELLED
    booking.save()
    assert "Treatment stopped on" in _page(client, world, treated.patient)
    assert "renewal due" not in _card(world, treated.patient)
    assert line() is ApprovalStatus.STOPPED


def test_a_renewal_the_policy_does_not_ask_for_is_not_flagged_on_the_coverage_page(client, world, treated):
    """Under a policy asking no approval at the clinic's site (Medicare in a physician's office), an approval about
    to end is shown without "Renewal due from" and its warning, on the coverage page as on the documents card."""
    PatientInsurance.objects.filter(patient=treated.patient).update(policy_id="us-medicare-a")
    PriorAuthorisation.objects.filter(patient=treated.patient).update(policy_id="us-medicare-a")  # asked of Medicare
    type(world.clinic).objects.filter(pk=world.clinic.pk).update(site_of_service="office")
    client.force_login(world.users["billing"])
    raw = client.get(_coverage_url(treated.patient)).content.decode()
    assert "Renewal due from" not in raw
    assert '<div class="verdict ok">\n    <strong>Approved from' in raw
    assert "renewal due" not in _card(world, treated.patient)
    type(world.clinic).objects.filter(pk=world.clinic.pk).update(site_of_service="hospital_outpatient")
    raw = client.get(_coverage_url(treated.patient)).content.decode()
    assert "Renewal due from" in raw
    assert '<div class="verdict warn">\n    <strong>Approved from' in raw


def _raw_card(world, patient, role: str = "billing") -> str:
    from django.template import Context, Template

    return Template("{% load coverage_documents %}{% patient_documents patient %}").render(
        Context({"user": world.users[role], "patient": patient})
    )


def test_the_documents_card_does_not_alarm_over_an_approval_the_policy_does_not_ask_for(world, eligible, today):
    """A Medicare patient of a physician's office needs no prior authorisation: an ended approval or a denial on
    the documents card is shown without the red badge, as on the coverage page; at a hospital outpatient
    department they stay red."""
    PatientInsurance.objects.create(patient=eligible, policy_id="us-medicare-a", payer="Medicare", terms_as_of=today)
    _authorisation(eligible, today, status="approved", requested=200, start=-190, end=-1)
    _authorisation(eligible, today, status="denied", requested=12)
    type(world.clinic).objects.filter(pk=world.clinic.pk).update(site_of_service="office")
    office = _raw_card(world, eligible)
    assert '<span class="badge">no approval in force</span>' in office
    assert '<span class="badge">denied</span>' in office
    type(world.clinic).objects.filter(pk=world.clinic.pk).update(site_of_service="hospital_outpatient")
    hospital = _raw_card(world, eligible)
    assert '<span class="badge bad">no approval in force</span>' in hospital
    assert '<span class="badge bad">denied</span>' in hospital


def test_an_approval_starting_later_is_in_the_summary(client, world, eligible, today):
    """An approval whose first day is after today is in the summary as not in force yet, not only in the table."""
    _authorisation(eligible, today, status="approved", requested=3, start=10, end=190)
    start, end = _day(today + timedelta(days=10)), _day(today + timedelta(days=190))
    assert f"Approved from {start} to {end} (not in force yet)" in _page(client, world, eligible)
    assert f"approved from {start}, not in force yet" in _card(world, eligible)


def test_renewal_is_not_flagged_when_continued_or_requested(client, world, treated):
    """Renewal due is shown for an approval ending within 30 days; a continuation request awaiting the payer shows
    the renewal as pending instead, and an approved continuation as continuing the approval."""
    today = treated.today
    assert "Renewal due from" in _page(client, world, treated.patient)
    assert "renewal due" in _card(world, treated.patient)
    request = _authorisation(treated.patient, today, status="requested", requested=1, stage="continuation")
    page, card = _page(client, world, treated.patient), _card(world, treated.patient)
    assert "Renewal due" not in page
    assert "renewal due" not in card
    assert f"Renewal pending: the request of {_day(today - timedelta(days=1))} awaits the payer's answer" in page
    assert f"renewal pending request of {_day(today - timedelta(days=1))}" in card
    request.status, request.decided_on = "approved", today
    request.approved_from, request.approved_until = today + timedelta(days=21), today + timedelta(days=200)
    request.save()
    page, card = _page(client, world, treated.patient), _card(world, treated.patient)
    start, end = _day(today + timedelta(days=21)), _day(today + timedelta(days=200))
    assert f"Continued by the approval from {start} to {end}: no renewal needed" in page
    assert "Renewal due" not in page
    assert "not in force yet" not in page
    assert f"continued by the approval from {start}" in card
    assert "renewal due" not in card


# --- Attestations -------------------------------------------------------------------------------------------------

ATTESTED = {"medication_overuse_managed": "true", "prescriber_attests_benefit": "true"}


def _request_form(patient, today) -> dict[str, str]:
    return {
        "stage": "continuation",
        "policy_id": "us-commercial-a",
        "diagnosis_code": "G43.709",
        "requested_on": today.isoformat(),
        "status": "requested",
        "medication_overuse_managed": "unknown",
        "prescriber_attests_benefit": "unknown",
    }


@pytest.mark.parametrize(("role", "kept"), [("clinician", True), ("nurse", True), ("billing", None), ("admin", None)])
def test_only_clinical_staff_set_the_clinicians_attestations(client, world, eligible, today, role, kept):
    """The prescriber's and clinician's attestations posted with a new request are stored for clinical staff only;
    billing staff and administrators record the request without them (they alone could make it approvable)."""
    client.force_login(world.users[role])
    new = reverse("coverage:authorisation_new", args=[eligible.external_id])
    assert client.post(new, {**_request_form(eligible, today), **ATTESTED}).status_code == 302
    request = PriorAuthorisation.objects.get(patient=eligible)
    assert request.prescriber_attests_benefit is kept
    assert request.medication_overuse_managed is kept


def test_billing_staff_updating_a_request_keep_the_clinicians_attestations(client, world, eligible, today):
    """A clinician's attestations stay as attested when billing staff record the payer's answer and post other
    values for them; the form shows them as not editable for billing staff."""
    client.force_login(world.users["clinician"])
    new = reverse("coverage:authorisation_new", args=[eligible.external_id])
    client.post(new, {**_request_form(eligible, today), **ATTESTED})
    request = PriorAuthorisation.objects.get(patient=eligible)
    client.force_login(world.users["billing"])
    edit = reverse("coverage:authorisation_edit", args=[eligible.external_id, request.external_id])
    assert client.get(edit).context["form"].fields["prescriber_attests_benefit"].disabled
    posted = {
        **_request_form(eligible, today),
        "prescriber_attests_benefit": "false",
        "note": "payer called",
        "version": request.version,
    }
    assert client.post(edit, {**posted, "medication_overuse_managed": "false"}).status_code == 302
    request.refresh_from_db()
    assert (request.note, request.prescriber_attests_benefit, request.medication_overuse_managed) == (
        "payer called",
        True,
        True,
    )


def test_a_second_open_request_for_the_same_day_stage_and_policy_is_refused(client, world, eligible, today):
    """Posting "Record a request" twice stores one request: the second is refused with a message saying one is
    already open; a request for another day is accepted (the same form, one field changed)."""
    from onaboard.web.coverage.forms import DUPLICATE_OPEN_REQUEST

    client.force_login(world.users["billing"])
    new = reverse("coverage:authorisation_new", args=[eligible.external_id])
    form = _request_form(eligible, today)
    assert client.post(new, form).status_code == 302
    response = client.post(new, form)
    assert response.status_code == 200
    assert response.context["form"].non_field_errors() == [str(DUPLICATE_OPEN_REQUEST)]
    assert PriorAuthorisation.objects.filter(patient=eligible).count() == 1
    earlier = {**form, "requested_on": (today - timedelta(days=1)).isoformat()}
    assert client.post(new, earlier).status_code == 302
    assert PriorAuthorisation.objects.filter(patient=eligible).count() == 2


def test_the_coverage_page_dates_the_week_24_letter_and_advises_an_extension_only_when_needed(
    client, world, eligible, today
):
    """An approval ending 20 days from now, 10 days after the first session: renewal falls due before week 24's
    period ends, so the page gives the day a continuation letter can show the week-24 response and the approval's
    end, and, as that day is after the end, advises asking the payer about an extension; an approval ending after
    that day gets the same dated line without the advice."""
    from onaboard.web.clinic.demo import record_preempt_session

    first = today - timedelta(days=10)
    record_preempt_session(eligible, first, injector=world.users["nurse"], today=today)
    approval = _authorisation(eligible, today, status="approved", requested=40, start=-30, end=20)
    letter_from = first + timedelta(days=6 * 28)
    letter = (
        f"A continuation letter can show the week-24 response from {_day(letter_from)}, later than “Renewal due from”"
    )
    page = _page(client, world, eligible)
    assert f"{letter}; the approval ends {_day(approval.approved_until)}. Ask the payer about an extension." in page
    approval.approved_until = letter_from + timedelta(days=1)
    approval.save()
    page = _page(client, world, eligible)
    assert f"{letter}; the approval ends {_day(approval.approved_until)}." in page
    assert "Ask the payer about an extension." not in page


def test_the_coverage_page_says_when_the_letters_are_for_another_policy_than_the_insurance(client, world, treated):
    """Evaluating against another policy than the insurance's, the documents card says the letters are written
    against it, not the patient's insurance policy; under the insurance's own policy it says nothing."""
    client.force_login(world.users["billing"])
    other = html.unescape(client.get(_coverage_url(treated.patient, policy="us-commercial-c")).content.decode())
    assert "not the patient's recorded insurance policy" in other
    own = html.unescape(client.get(_coverage_url(treated.patient)).content.decode())
    assert "not the patient's recorded insurance policy" not in own


def test_the_coverage_page_names_no_other_policy_for_an_unknown_policy_id(client, world, treated):
    """``?policy=bogus`` (no shipped policy) does not say the letters are written against ``bogus``: the letters
    themselves say there is no such policy."""
    client.force_login(world.users["billing"])
    page = html.unescape(client.get(_coverage_url(treated.patient, policy="bogus")).content.decode())
    assert "not the patient's recorded insurance policy" not in page


# --- The stage a request is at ----------------------------------------------------------------------------------


def test_a_patient_due_their_second_session_is_judged_at_the_initial_stage_not_refused_for_cycles(
    client, world, second_due
):
    """Demo patient 8's story: one session given and the second due, inside the 6-month initial approval. The page
    judges the initial request (us-commercial-a judges a continuation after 2 cycles), never "not approvable"
    because fewer than 2 sessions were given; the continuation can still be asked for, and then says it is not due
    yet."""
    client.force_login(world.users["clinician"])
    body = html.unescape(" ".join(client.get(_coverage_url(second_due.patient)).content.decode().split()))
    assert "US commercial policy A (modelled on Aetna CPB 0113) (initial)" in body
    assert "Treatment cycles given" not in body
    assert '<option value="initial" selected>' in body
    asked = html.unescape(
        " ".join(client.get(_coverage_url(second_due.patient, stage="continuation")).content.decode().split())
    )
    assert "Treatment cycles given" in asked
    assert "continuation is not due yet; it is judged after 2 cycles" in asked


def test_the_request_form_defaults_to_initial_until_the_insurance_policys_cycles_are_given(client, world, second_due):
    """A new request for a patient with one session defaults to initial under the insurance's policy, which judges
    a continuation after 2 cycles."""
    client.force_login(world.users["billing"])
    response = client.get(reverse("coverage:authorisation_new", args=[second_due.patient.external_id]))
    assert response.context["form"].initial["stage"] == "initial"


def test_the_request_form_defaults_to_continuation_once_the_cycles_are_given(client, world, treated):
    """With three sessions given under a policy judging continuation after 2 cycles, a new request defaults to
    continuation."""
    client.force_login(world.users["billing"])
    response = client.get(reverse("coverage:authorisation_new", args=[treated.patient.external_id]))
    assert response.context["form"].initial["stage"] == "continuation"


def test_without_insurance_a_new_request_defaults_to_initial(client, world, second_due):
    """With no insurance recorded no policy says when a continuation is judged: a new request for the patient with
    one session defaults to initial, as under a policy without continuation criteria."""
    PatientInsurance.objects.filter(patient=second_due.patient).delete()
    client.force_login(world.users["billing"])
    response = client.get(reverse("coverage:authorisation_new", args=[second_due.patient.external_id]))
    assert response.context["form"].initial["stage"] == "initial"


# --- A letter whose criteria are not met ------------------------------------------------------------------------

NOT_APPROVABLE_CONTINUATION = "not approvable under NICE TA260 (England) (continuation request)"
EPISODIC = (
    "Not reverted to episodic migraine (not met): periods 5, 6, 7 ({start}..{end}) each have < 15 headache days "
    "(9, 8, 8): reverted to episodic migraine for 3 consecutive periods"
)


def _flat(client, url: str) -> tuple[str, str]:
    """The page at ``url``: its HTML, and its text as read (tags dropped, spaces collapsed)."""
    page = client.get(url).content.decode()
    return page, html.unescape(" ".join(re.sub(r"<[^>]+>", " ", page).split()))


def test_a_letter_whose_criteria_are_not_met_is_offered_with_a_warning_saying_why(client, world, treated):
    """The continuation letter under us-commercial-a, whose criteria the responder meets, is offered plainly; under
    NICE TA260 (chosen on the coverage page, or the insurance's on the patient page) the same patient has reverted
    to episodic migraine, and both pages still offer the letter (the clinician decides) but say beside it that it
    is not approvable, which criterion is not met and why; the prior-authorisation letter carries no warning."""
    client.force_login(world.users["clinician"])
    detail = reverse("patients:detail", args=[treated.patient.external_id])
    for url in (_coverage_url(treated.patient), detail):
        page, text = _flat(client, url)
        assert _document_url(treated.patient, "continuation") in page, url
        assert "not approvable under" not in text, url
    PatientInsurance.objects.filter(patient=treated.patient).update(policy_id="nice-ta260")
    start = treated.day0 + timedelta(days=28 * 4)
    reason = EPISODIC.format(start=start.isoformat(), end=(start + timedelta(days=28 * 3 - 1)).isoformat())
    for url in (_coverage_url(treated.patient, policy="nice-ta260"), detail):
        page, text = _flat(client, url)
        assert _document_url(treated.patient, "continuation") in page, url
        assert f"{NOT_APPROVABLE_CONTINUATION}: {reason} — the letter says so" in text, url
        assert "whether to send it is the clinician's decision" in text, url
        assert "(initial request)" not in text, url


def test_a_continuation_letter_before_its_cycles_are_given_is_offered_as_not_due_yet_not_refused(
    client, world, second_due
):
    """Demo patient 8's story: one session under us-commercial-a (continuation judged after 2 cycles). Both pages
    offer the continuation letter with a note that it is not due yet, giving the sessions and cycles, never calling
    the patient not approvable for cycles not yet given."""
    client.force_login(world.users["clinician"])
    for url in (
        _coverage_url(second_due.patient),
        reverse("patients:detail", args=[second_due.patient.external_id]),
    ):
        page, text = _flat(client, url)
        assert _document_url(second_due.patient, "continuation") in page, url
        assert (
            "not due yet under US commercial policy A (modelled on Aetna CPB 0113): 1 session given, and a "
            "continuation is judged after 2 cycles; until then a request is at the initial stage"
        ) in text, url
        assert "not approvable" not in text, url


def test_an_approval_asked_of_an_earlier_payer_is_named_and_not_counted(client, world, treated):
    """After the insurance changed, the coverage page and the documents card say the approval in force was given
    under the earlier policy and does not cover a session under the insurance now."""
    PatientInsurance.objects.filter(patient=treated.patient).update(policy_id="us-commercial-b")
    page = _page(client, world, treated.patient)
    assert "was given under" in page
    assert "Ask this payer for its own approval before the next session." in page
    assert "Renewal due from" not in page
    assert "not the patient's insurance now" in _card(world, treated.patient)


def test_an_approval_given_to_another_payer_under_the_same_policy_is_named_by_its_payer(client, world, treated):
    """The insurance now names another payer under the same policy file: the coverage page and the documents card
    name the payer and member id the approval was given to, and it covers no session."""
    PriorAuthorisation.objects.filter(patient=treated.patient).update(payer="Example Health Plan", member_id="EHP-0042")
    PatientInsurance.objects.filter(patient=treated.patient).update(payer="Fabrikam Health", member_id="FH-77")
    page = _page(client, world, treated.patient)
    assert (
        "was given to Example Health Plan, member id EHP-0042, not to the patient's insurance now (Fabrikam Health, "
        "member id FH-77): it does not cover a session under it."
    ) in page
    assert "Renewal due from" not in page
    card = _card(world, treated.patient)
    assert "was given to Example Health Plan, member id EHP-0042, not the patient's insurance now" in card


def test_a_letter_lacking_information_is_offered_with_a_warning_naming_what_is_missing(client, world, eligible, today):
    """The coverage page offers the prior-authorisation letter of a record that cannot be judged yet (preventives
    marked failed with no stop date) with an "information missing" warning naming the criterion."""
    from onaboard.web.patients.models import PreventiveTrial

    PatientInsurance.objects.create(patient=eligible, policy_id="us-commercial-a", terms_as_of=today)
    PreventiveTrial.objects.filter(patient=eligible, drug__in=("propranolol", "amitriptyline")).update(stop=None)
    client.force_login(world.users["clinician"])
    _page_html, text = _flat(client, _coverage_url(eligible))
    assert "information missing under US commercial policy A (modelled on Aetna CPB 0113) (initial request):" in text
    assert "(not known)" in text
    assert "complete the record before sending it, or send it as it is; the clinician decides." in text


def test_a_letter_not_approvable_is_offered_with_the_criteria_lacking_information_named_too(
    client, world, eligible, today
):
    """One failed preventive class of the two us-commercial-a asks for (not met) and the last 20 diary days missing
    (the diagnosis and the frequency cannot be judged): the warning beside the letter names the criterion not met
    and, after it, those not known, rather than the one not met alone."""
    from onaboard.web.diary.models import DiaryEntry
    from onaboard.web.patients.models import PreventiveTrial

    PatientInsurance.objects.create(patient=eligible, policy_id="us-commercial-a", terms_as_of=today)
    PreventiveTrial.objects.filter(patient=eligible).exclude(drug="topiramate").delete()
    DiaryEntry.objects.filter(patient=eligible, date__gt=today - timedelta(days=20)).delete()
    client.force_login(world.users["clinician"])
    _page_html, text = _flat(client, _coverage_url(eligible))
    assert "not approvable under US commercial policy A (modelled on Aetna CPB 0113) (initial request):" in text
    assert "Failed preventive treatments (not met): failed classes: 1 (anticonvulsant) of 2 required; " in text
    assert "Diagnosis: BOTOX label indication (not known)" in text
    assert "Days with headache lasting 4 hours or more (not known)" in text
