"""The demo clinic's insurance data: prices, insurance and approvals for the candidate patients, idempotent."""

from __future__ import annotations

import re
from datetime import date

import pytest
from django.urls import reverse

from onaboard.web.accounts.models import User
from onaboard.web.clinic.demo import PATIENTS, demo_clinic_load
from onaboard.web.coverage.demo import coverage_demo_load
from onaboard.web.coverage.models import ClinicPrice, PatientInsurance, PriceItem, PriorAuthorisation
from onaboard.web.coverage.selectors import approval_answers, cost_for, patient_facts

pytestmark = pytest.mark.django_db


def test_the_demo_gets_prices_insurance_and_approvals_and_a_second_load_changes_nothing(today):
    """Eleven candidates get insurance, prices are set once, patient 5's initial request and patient 10's continuation
    await the payer, patient 14's was denied, and loading again leaves the same rows; the demo patients' cost is
    worked out at the demo prices."""
    clinic = demo_clinic_load(today=today).clinic
    coverage_demo_load(clinic, today=today)
    counts = (ClinicPrice.objects.count(), PatientInsurance.objects.count(), PriorAuthorisation.objects.count())
    assert counts[1] == 11
    assert counts[0] == 4
    patients = {p.record_number: p for p in clinic.patients.all()}
    waiting = {patients[PATIENTS[4].record_number].pk, patients[PATIENTS[9].record_number].pk}
    answers = approval_answers([p.pk for p in patients.values()])
    assert answers.pending == waiting
    assert list(answers.denied_on) == [patients[PATIENTS[13].record_number].pk]
    coverage_demo_load(clinic, today=today)
    assert (ClinicPrice.objects.count(), PatientInsurance.objects.count(), PriorAuthorisation.objects.count()) == counts
    view = cost_for(patient_facts(patients[PATIENTS[7].record_number], today=today))
    assert view.planned is not None
    assert view.planned.share is not None


def test_demo_patient_8_due_the_second_session_is_not_refused_for_cycles_not_yet_given(client, today):
    """Hartley (demo patient 8) has had one session and is due the second inside the approved 6-month initial
    authorisation: as dr.demo the coverage page judges the initial request under her policy, not a continuation
    "not approvable" because fewer than 2 sessions were given."""
    clinic = demo_clinic_load(today=today).clinic
    coverage_demo_load(clinic, today=today)
    hartley = clinic.patients.get(record_number=PATIENTS[7].record_number)
    assert hartley.family_name == "Hartley"
    client.force_login(User.objects.get(username="dr.demo"))
    body = " ".join(client.get(reverse("coverage:patient", args=[hartley.external_id])).content.decode().split())
    assert "US commercial policy A (modelled on Aetna CPB 0113) (initial)" in body
    assert "Treatment cycles given" not in body
    assert "sessions given: 1" not in body


def test_each_demo_drug_price_note_names_the_quarter_it_takes_effect_in():
    """The demo's drug prices are dated back from today, so their notes name the quarter of their own date: loaded on
    30 November 2026, the price from 60 days before (1 October) says Q4 2026 and the one from a year before Q4 2025;
    the notes said "Q3 2026" and "Q2 2026" whatever the day, contradicting the dates beside them."""
    today = date(2026, 11, 30)
    clinic = demo_clinic_load(today=today).clinic
    coverage_demo_load(clinic, today=today)
    notes = {
        price.set_on: price.note for price in ClinicPrice.objects.filter(clinic=clinic, item=PriceItem.DRUG_PER_UNIT)
    }
    assert sorted(notes) == [date(2025, 11, 30), date(2026, 10, 1)]
    for set_on, quarter in ((date(2025, 11, 30), "Q4 2025"), (date(2026, 10, 1), "Q4 2026")):
        assert re.findall(r"Q\d \d{4}", notes[set_on]) == [quarter]
