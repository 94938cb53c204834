"""The demo clinic's insurance data: prices, insurance and approvals for the candidate patients, idempotent."""

from __future__ import annotations

import pytest

from onaboard.web.clinic.demo import PATIENTS, demo_clinic_load
from onaboard.web.coverage.demo import coverage_demo_load
from onaboard.web.coverage.models import ClinicPrice, PatientInsurance, PriorAuthorisation
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
