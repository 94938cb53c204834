"""The coverage forms: a prior-authorisation answer that contradicts itself and a price in a second currency are
refused, each naming the field to correct."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from django.utils.html import escape

from onaboard.web.coverage.forms import (
    APPROVAL_DATES_NEED_APPROVED,
    CURRENCY_CHANGE_PENDING,
    CURRENCY_DIFFERS,
    DATE_AFTER_TODAY,
    DATE_TOO_EARLY,
    DATE_TOO_LATE,
    DECIDED_BEFORE_REQUESTED,
    MAX_YEARS_AFTER_REQUEST,
    MAX_YEARS_BEFORE_TODAY,
    NO_POLICY_CHOSEN,
    PRICE_TOO_LATE,
    REQUIRED_POLICY,
    ClinicPriceForm,
    PatientInsuranceForm,
    PriorAuthorisationForm,
)
from onaboard.web.coverage.models import ClinicPrice, PriceItem
from onaboard.web.coverage.selectors import add_months, policy_choices
from onaboard.web.patients.services import DATE_BEFORE_BIRTH
from tests.web.coverage.conftest import POLICY, prices

pytestmark = pytest.mark.django_db

REQUESTED = date(2026, 11, 1)


def _authorisation(patient=None, *, today: date | None = None, **changes: str) -> PriorAuthorisationForm:
    data = {
        "stage": "initial",
        "policy_id": POLICY,
        "diagnosis_code": "G43.719",
        "requested_on": REQUESTED.isoformat(),
        "status": "approved",
        "decided_on": "2026-11-20",
        "approved_from": "2026-12-01",
        "approved_until": "2027-05-01",
        "medication_overuse_managed": "unknown",
        "prescriber_attests_benefit": "unknown",
        "note": "",
    }
    return PriorAuthorisationForm({**data, **changes}, patient=patient, today=today)


def test_a_consistent_approval_is_accepted():
    """An approval answered after the request, with its approval dates, is valid (the shared setup of the refusals
    below)."""
    form = _authorisation()
    assert form.is_valid(), form.errors


def test_an_answer_dated_before_the_request_is_refused_on_the_answer_date():
    """A denial dated before the request was sent is refused on the answer date; the request date itself is fine."""
    form = _authorisation(status="denied", decided_on="2026-10-15", approved_from="", approved_until="")
    assert not form.is_valid()
    assert form.errors == {"decided_on": [DECIDED_BEFORE_REQUESTED]}


def test_an_answer_on_the_request_day_is_accepted():
    """The payer may answer on the day the request was sent."""
    form = _authorisation(status="denied", decided_on=REQUESTED.isoformat(), approved_from="", approved_until="")
    assert form.is_valid(), form.errors


def test_approval_dates_on_a_denied_request_are_refused_on_each_date():
    """A denied request with approved-from and approved-until dates is refused on both fields (the table showed
    "denied | 1 Dec 2026 to 1 May 2027")."""
    form = _authorisation(status="denied")
    assert not form.is_valid()
    assert form.errors == {
        "approved_from": [APPROVAL_DATES_NEED_APPROVED],
        "approved_until": [APPROVAL_DATES_NEED_APPROVED],
    }


def test_an_approval_end_alone_on_a_request_still_awaiting_an_answer_is_refused():
    """Only the approval field given is refused on a request still awaiting the payer."""
    form = _authorisation(status="requested", decided_on="", approved_from="")
    assert not form.is_valid()
    assert form.errors == {"approved_until": [APPROVAL_DATES_NEED_APPROVED]}


TODAY = date(2026, 11, 29)


def _price(clinic, **changes: str) -> ClinicPriceForm:
    data = {"item": PriceItem.VISIT, "amount": "95", "currency": "USD", "set_on": "2026-06-01", "note": ""}
    return ClinicPriceForm({**data, **changes}, clinic=clinic, today=TODAY)


def test_a_price_in_the_currency_of_the_others_is_accepted(world):
    """A visit price in USD beside USD drug and administration prices is valid (the shared setup below)."""
    prices(world.clinic, date(2026, 1, 1))
    form = _price(world.clinic)
    assert form.is_valid(), form.errors


def test_a_price_in_another_currency_than_the_others_in_force_is_refused_naming_them(world):
    """A visit price in GBP while the other prices in force that day are USD is refused on the currency, naming the
    prices it clashes with (it made every patient's cost 'in more than one currency')."""
    prices(world.clinic, date(2026, 1, 1))
    form = _price(world.clinic, currency="GBP")
    assert not form.is_valid()
    expected = CURRENCY_DIFFERS % {
        "day": "2026-06-01",
        "currencies": "USD",
        "currency": "GBP",
        "items": f"{PriceItem.DRUG_PER_UNIT.label}: 6.506 USD; {PriceItem.ADMINISTRATION.label}: 250.00 USD",
    }
    assert form.errors == {"currency": [expected]}


def test_a_price_in_another_currency_from_a_day_after_today_starts_a_change_of_currency(world):
    """The first price in a new currency from a day after today is accepted with a warning naming the items still
    in the old one (so a clinic can move every price to another currency); once every item is priced anew from that
    day, the last one is accepted without a warning."""
    prices(world.clinic, date(2026, 1, 1))
    tomorrow = (TODAY + timedelta(days=1)).isoformat()
    first = _price(world.clinic, currency="GBP", set_on=tomorrow)
    assert first.is_valid(), first.errors
    assert first.currency_warning == CURRENCY_CHANGE_PENDING % {
        "day": tomorrow,
        "currency": "GBP",
        "currencies": "USD",
        "items": f"{PriceItem.DRUG_PER_UNIT.label}: 6.506 USD; {PriceItem.ADMINISTRATION.label}: 250.00 USD",
    }
    for item in (PriceItem.VISIT, PriceItem.DRUG_PER_UNIT):
        ClinicPrice.objects.create(
            clinic=world.clinic, item=item, amount=Decimal(5), currency="GBP", set_on=TODAY + timedelta(days=1)
        )
    last = _price(world.clinic, item=PriceItem.ADMINISTRATION, amount="200", currency="GBP", set_on=tomorrow)
    assert last.is_valid(), last.errors
    assert last.currency_warning == ""


def test_a_later_price_in_another_currency_clashes_while_this_one_is_in_force(world):
    """A GBP visit price from January clashes with a USD drug price set in March (both in force from March), but
    not once a later visit price replaces it before March."""
    ClinicPrice.objects.create(
        clinic=world.clinic, item=PriceItem.DRUG_PER_UNIT, amount=Decimal(6), currency="USD", set_on=date(2026, 3, 1)
    )
    assert not _price(world.clinic, currency="GBP", set_on="2026-01-01").is_valid()
    ClinicPrice.objects.create(
        clinic=world.clinic, item=PriceItem.VISIT, amount=Decimal(120), currency="USD", set_on=date(2026, 2, 1)
    )
    assert _price(world.clinic, currency="GBP", set_on="2026-01-01").is_valid()


def test_a_price_superseded_on_its_own_day_clashes_with_nothing(world):
    """A visit price entered in GBP and corrected to USD the same (future) day was never in force: a USD drug price
    from today saves with no refusal and no warning (the GBP row, superseded, blocked every USD price: "other
    prices in force from ... are in GBP"); the same drug price in GBP is still refused, naming the USD prices."""
    prices(world.clinic, date(2026, 1, 1))
    later = TODAY + timedelta(days=1)
    for currency in ("GBP", "USD"):  # the USD row is entered after the GBP one: it replaces it on that day
        ClinicPrice.objects.create(
            clinic=world.clinic, item=PriceItem.VISIT, amount=Decimal(100), currency=currency, set_on=later
        )
    form = _price(world.clinic, item=PriceItem.DRUG_PER_UNIT, amount="6.6", set_on=TODAY.isoformat())
    assert form.is_valid(), form.errors
    assert form.currency_warning == ""
    refused = _price(world.clinic, item=PriceItem.DRUG_PER_UNIT, amount="6.6", currency="GBP", set_on=TODAY.isoformat())
    admin, visit = PriceItem.ADMINISTRATION.label, PriceItem.VISIT.label
    assert refused.errors == {
        "currency": [
            CURRENCY_DIFFERS
            % {
                "day": TODAY.isoformat(),
                "currencies": "USD",
                "currency": "GBP",
                "items": f"{admin}: 250.00 USD; {visit}: 120.00 USD; {visit}: 100.00 USD",
            }
        ]
    }


@pytest.mark.parametrize("set_on", ["9999-01-01", "0001-01-01"])
def test_a_price_dated_in_a_mistyped_year_is_refused_on_its_date(world, set_on):
    """A price in force from 9999-01-01 or 0001-01-01 (a mistyped year) is refused on its date, naming the latest or
    earliest day allowed, with the bounds of a prior-authorisation request (``MAX_YEARS_AFTER_REQUEST`` after today,
    ``MAX_YEARS_BEFORE_TODAY`` before it)."""
    prices(world.clinic, date(2026, 1, 1))
    form = _price(world.clinic, set_on=set_on)
    assert not form.is_valid()
    label = form.fields["set_on"].label
    if set_on.startswith("9999"):
        latest = add_months(TODAY, 12 * MAX_YEARS_AFTER_REQUEST).isoformat()
        expected = PRICE_TOO_LATE % {"field": label, "years": MAX_YEARS_AFTER_REQUEST, "latest": latest}
    else:
        earliest = add_months(TODAY, -12 * MAX_YEARS_BEFORE_TODAY).isoformat()
        expected = DATE_TOO_EARLY % {"field": label, "years": MAX_YEARS_BEFORE_TODAY, "earliest": earliest}
    assert form.errors == {"set_on": [expected]}
    edge = add_months(TODAY, 12 * MAX_YEARS_AFTER_REQUEST) if set_on.startswith("9999") else TODAY
    assert _price(world.clinic, set_on=edge.isoformat()).is_valid()


@pytest.mark.parametrize("name", ["approved_from", "approved_until"])
def test_an_approval_date_years_after_the_request_is_refused_on_its_field(name):
    """An approval date more than the allowed years after the request (a mistyped year such as 9999) is refused on
    that field, naming the latest day allowed; the same form with sane dates is accepted above."""
    form = _authorisation(**{name: "9999-12-31"})
    assert not form.is_valid()
    latest = add_months(REQUESTED, 12 * MAX_YEARS_AFTER_REQUEST).isoformat()
    words = {"field": form.fields[name].label, "years": MAX_YEARS_AFTER_REQUEST, "latest": latest}
    assert form.errors[name] == [DATE_TOO_LATE % words]


AWAITING = {"status": "requested", "decided_on": "", "approved_from": "", "approved_until": ""}


@pytest.mark.parametrize("requested_on", ["2026-11-30", "2028-05-29", "9999-12-01"])
def test_a_request_dated_after_today_is_refused_on_the_request_date(requested_on):
    """A request dated tomorrow, 18 months ahead or in 9999 is refused on the request date, naming today as the
    latest day (a request not yet sent has no date); the same request dated today is accepted."""
    form = _authorisation(today=TODAY, requested_on=requested_on, **AWAITING)
    assert not form.is_valid()
    words = {"field": form.fields["requested_on"].label, "today": TODAY.isoformat()}
    assert form.errors == {"requested_on": [DATE_AFTER_TODAY % words]}
    assert _authorisation(today=TODAY, requested_on=TODAY.isoformat(), **AWAITING).is_valid()


def test_an_answer_before_a_request_dated_after_today_is_refused_on_the_request_date_alone():
    """A denial answered today on a request dated tomorrow is refused on the request date alone: the answer is not
    told to move on or after a request day that has not come."""
    denied = {"status": "denied", "decided_on": TODAY.isoformat(), "approved_from": "", "approved_until": ""}
    form = _authorisation(today=TODAY, requested_on=(TODAY + timedelta(days=1)).isoformat(), **denied)
    assert not form.is_valid()
    assert list(form.errors) == ["requested_on"]


@pytest.mark.parametrize("decided_on", ["2026-11-30", "2027-05-01", "9999-12-31"])
def test_an_answer_dated_after_today_is_refused_on_the_answer_date(decided_on):
    """The payer's answer dated tomorrow, in a few months or in 9999 is refused on the answer date, naming today as
    the latest day (an answer not yet received has no date); the same approval answered today is accepted."""
    form = _authorisation(today=TODAY, decided_on=decided_on)
    assert not form.is_valid()
    words = {"field": form.fields["decided_on"].label, "today": TODAY.isoformat()}
    assert form.errors == {"decided_on": [DATE_AFTER_TODAY % words]}
    assert _authorisation(today=TODAY, decided_on=TODAY.isoformat()).is_valid()


def test_an_approval_answered_today_may_start_and_end_after_today():
    """An approval answered today covering a period that starts next month is accepted: only the request and the
    answer are bounded by today."""
    start = TODAY + timedelta(days=30)
    form = _authorisation(
        today=TODAY,
        decided_on=TODAY.isoformat(),
        approved_from=start.isoformat(),
        approved_until=add_months(start, 12).isoformat(),
    )
    assert form.is_valid(), form.errors


def test_a_request_dated_in_year_one_is_refused_on_every_date():
    """A request of 0001-01-01 answered and approved in January 0001 (a mistyped year, saved and listed as
    "1 Jan 0001") is refused on each date, naming the earliest day allowed, more than ten years before today."""
    form = _authorisation(
        requested_on="0001-01-01", decided_on="0001-01-10", approved_from="0001-01-02", approved_until="0001-06-01"
    )
    assert not form.is_valid()
    earliest = add_months(timezone.localdate(), -12 * MAX_YEARS_BEFORE_TODAY).isoformat()
    for name in ("requested_on", "decided_on", "approved_from", "approved_until"):
        words = {"field": form.fields[name].label, "years": MAX_YEARS_BEFORE_TODAY, "earliest": earliest}
        assert form.errors[name] == [DATE_TOO_EARLY % words]


@pytest.mark.parametrize("name", ["decided_on", "approved_from", "approved_until"])
def test_an_answer_or_approval_date_in_year_0026_is_refused_on_its_field(name):
    """An answer or approval date typed 0026 for 2026 under a sane request is refused on that field alone (an
    approval may start before its request, but not centuries before)."""
    form = _authorisation(**{name: "0026-12-01"})
    assert not form.is_valid()
    assert list(form.errors) == [name]


def test_a_request_dated_before_the_patients_birth_is_refused_on_the_request_date(world):
    """A request dated the day before the patient's birth date is refused on the request date with the record's
    "before the birth date: check the year" message; the same request from the birth date on is accepted."""
    patient = world.same_clinic_patient
    patient.birth_date = add_months(timezone.localdate(), -24)
    awaiting = {"status": "requested", "decided_on": "", "approved_from": "", "approved_until": ""}
    day_before = (patient.birth_date - timedelta(days=1)).isoformat()
    form = _authorisation(patient, requested_on=day_before, **awaiting)
    assert not form.is_valid()
    assert form.errors == {"requested_on": [DATE_BEFORE_BIRTH % {"birth": patient.birth_date.isoformat()}]}
    assert _authorisation(patient, requested_on=patient.birth_date.isoformat(), **awaiting).is_valid()


# --- The coverage policy is chosen, never preselected ------------------------------------------------------------


def _insurance(*, today: date | None = None, **changes: str) -> PatientInsuranceForm:
    data = {
        "policy_id": POLICY,
        "payer": "Medicare Part B",
        "member_id": "",
        "deductible_remaining": "0",
        "coinsurance_percent": "20",
        "copay_per_session": "0",
        "out_of_pocket_remaining": "",
        "savings_programme": "",
        "savings_remaining": "0",
        "sessions_per_year": "4",
        "terms_as_of": "2026-11-01",
        "version": "0",
    }
    return PatientInsuranceForm({**data, **changes}, today=today)


@pytest.mark.parametrize("form_class", [PatientInsuranceForm, PriorAuthorisationForm])
def test_a_new_form_offers_no_policy_until_one_is_chosen(form_class):
    """A new insurance or prior-authorisation form starts on an empty "choose the payer's policy" choice ahead of
    every shipped policy, so no policy (the first being a consensus statement, not a payer's) is saved unchosen."""
    form = form_class()
    assert form.fields["policy_id"].choices == [("", NO_POLICY_CHOSEN), *policy_choices()]
    select = str(form["policy_id"])
    assert f'<option value="" selected>{escape(NO_POLICY_CHOSEN)}</option>' in select
    assert select.count(" selected") == 1


@pytest.mark.parametrize("form", [_insurance, _authorisation])
def test_a_form_posted_without_a_policy_is_refused_on_the_policy(form):
    """An insurance or prior-authorisation form sent with the empty choice is refused on the policy alone, with
    "Choose the coverage policy."; the same form with a policy is accepted."""
    refused = form(policy_id="")
    assert not refused.is_valid()
    assert refused.errors == {"policy_id": [REQUIRED_POLICY]}
    assert form().is_valid()


def test_a_request_form_keeps_the_policy_it_was_given():
    """A new request's form given the patient's insurance policy as its initial value shows that policy chosen."""
    form = PriorAuthorisationForm(initial={"policy_id": POLICY})
    select = str(form["policy_id"])
    assert f'<option value="{POLICY}" selected>' in select
    assert select.count(" selected") == 1


# --- The day the insurance terms were checked --------------------------------------------------------------------


@pytest.mark.parametrize("terms_as_of", ["0026-12-01", "0001-01-01"])
def test_insurance_terms_checked_in_a_mistyped_early_year_are_refused_on_the_date(terms_as_of):
    """Terms checked on 0026-12-01 (for 2026) or 0001-01-01 are refused on the date, naming the earliest day allowed
    (``MAX_YEARS_BEFORE_TODAY`` before today, the bound of the other dates): with a $400 deductible, 0026 took a
    September 2026 session off the terms and applied $0 of it. The earliest day itself is accepted."""
    form = _insurance(today=TODAY, deductible_remaining="400", terms_as_of=terms_as_of)
    assert not form.is_valid()
    earliest = add_months(TODAY, -12 * MAX_YEARS_BEFORE_TODAY)
    label = form.fields["terms_as_of"].label
    words = {"field": label, "years": MAX_YEARS_BEFORE_TODAY, "earliest": earliest.isoformat()}
    assert form.errors == {"terms_as_of": [DATE_TOO_EARLY % words]}
    assert _insurance(today=TODAY, terms_as_of=earliest.isoformat()).is_valid()


@pytest.mark.parametrize("terms_as_of", ["2026-11-30", "9026-12-01", "9999-12-31"])
def test_insurance_terms_checked_after_today_are_refused_on_the_date(terms_as_of):
    """Terms checked tomorrow, on 9026-12-01 or on 9999-12-31 are refused on the date, naming today as the latest
    day (terms cannot have been checked yet); terms checked today are accepted."""
    form = _insurance(today=TODAY, terms_as_of=terms_as_of)
    assert not form.is_valid()
    words = {"field": form.fields["terms_as_of"].label, "today": TODAY.isoformat()}
    assert form.errors == {"terms_as_of": [DATE_AFTER_TODAY % words]}
    assert _insurance(today=TODAY, terms_as_of=TODAY.isoformat()).is_valid()


def test_the_payers_answer_to_a_request_with_an_open_copy_is_refused_naming_the_copy(world):
    """Recording the approval on one of two open copies of a request is refused at the top of the form, asking for
    the copy to be withdrawn first; withdrawing either copy is accepted (it is how the copy is closed)."""
    from onaboard.web.coverage.forms import OPEN_COPY_OF_ANSWERED
    from onaboard.web.coverage.models import PriorAuthorisation

    today = timezone.localdate()
    patient = world.same_clinic_patient
    first, _copy = (
        PriorAuthorisation.objects.create(
            patient=patient, stage="initial", policy_id=POLICY, diagnosis_code="G43.719", requested_on=today
        )
        for _ in range(2)
    )
    data = {
        "stage": "initial",
        "policy_id": POLICY,
        "diagnosis_code": "G43.719",
        "requested_on": today.isoformat(),
        "status": "approved",
        "decided_on": today.isoformat(),
        "approved_from": today.isoformat(),
        "approved_until": "",
        "medication_overuse_managed": "unknown",
        "prescriber_attests_benefit": "unknown",
        "note": "",
        "version": "1",
    }
    answer = PriorAuthorisationForm(data, instance=first, patient=patient, today=today)
    assert not answer.is_valid()
    assert answer.non_field_errors() == [str(OPEN_COPY_OF_ANSWERED)]
    withdraw = {**data, "status": "withdrawn", "decided_on": "", "approved_from": ""}
    assert PriorAuthorisationForm(withdraw, instance=first, patient=patient, today=today).is_valid()
