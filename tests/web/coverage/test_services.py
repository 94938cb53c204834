"""Coverage services: a prior-authorisation request is stored once, and only clinical staff attest for it."""

from __future__ import annotations

import pytest

from onaboard.web.coverage.models import PatientInsurance, PriorAuthorisation
from onaboard.web.coverage.selectors import CoverageUnavailableError
from onaboard.web.coverage.services import (
    DuplicateRequestError,
    OpenCopyError,
    patient_insurance_save,
    prior_authorisation_save,
)

pytestmark = pytest.mark.django_db


def _data(today) -> dict:
    return {
        "stage": "initial",
        "policy_id": "us-commercial-a",
        "diagnosis_code": "G43.709",
        "requested_on": today,
        "status": "requested",
        "prescriber_attests_benefit": True,
        "medication_overuse_managed": True,
    }


def test_a_second_open_request_reaching_the_service_is_refused(world, eligible, today):
    """Two submissions that both passed the form (arriving together) store one request: the second is refused
    naming the open one."""
    first = prior_authorisation_save(user=world.users["billing"], patient=eligible, data=_data(today))
    with pytest.raises(DuplicateRequestError) as refused:
        prior_authorisation_save(user=world.users["billing"], patient=eligible, data=_data(today))
    assert refused.value.args[0] == first
    assert PriorAuthorisation.objects.filter(patient=eligible).count() == 1


@pytest.mark.parametrize(("role", "kept"), [("clinician", True), ("billing", None)])
def test_the_service_stores_attestations_only_from_clinical_staff(world, eligible, today, role, kept):
    """Whatever form or client calls it, the service stores the attestations from clinical staff only."""
    saved = prior_authorisation_save(user=world.users[role], patient=eligible, data=_data(today))
    assert (saved.prescriber_attests_benefit, saved.medication_overuse_managed) == (kept, kept)


@pytest.mark.parametrize("policy", ["", None])
def test_no_policy_reaching_the_services_is_refused_and_nothing_is_stored(world, eligible, today, policy):
    """Whatever form or client calls them, insurance and a prior-authorisation request are stored only under a
    policy named explicitly: an empty or missing policy is refused as an unknown one, and no row is written."""
    insurance = {"payer": "Medicare Part B", "sessions_per_year": 4, "terms_as_of": today, "policy_id": policy}
    request = {**_data(today), "policy_id": policy}
    for data in (insurance, request):
        if policy is None:
            del data["policy_id"]
    with pytest.raises(CoverageUnavailableError, match="No coverage policy ''"):
        patient_insurance_save(user=world.users["billing"], patient=eligible, data=insurance)
    with pytest.raises(CoverageUnavailableError, match="No coverage policy ''"):
        prior_authorisation_save(user=world.users["billing"], patient=eligible, data=request)
    assert not PatientInsurance.objects.filter(patient=eligible).exists()
    assert not PriorAuthorisation.objects.filter(patient=eligible).exists()


def test_a_new_request_keeps_the_payer_and_member_id_of_the_insurance_it_is_made_under(world, treated, today):
    """A request under the insurance's policy keeps its payer and member id (an approval is that payer's answer); a
    request under another policy keeps none, that payer's name not being recorded; an answer later recorded on the
    request leaves them as they were, whatever the insurance says by then."""
    made = prior_authorisation_save(user=world.users["billing"], patient=treated.patient, data=_data(today))
    assert (made.payer, made.member_id) == ("Example Health Plan", "EHP-0042")
    other = {**_data(today), "policy_id": "us-medicare-a"}
    elsewhere = prior_authorisation_save(user=world.users["billing"], patient=treated.patient, data=other)
    assert (elsewhere.payer, elsewhere.member_id) == ("", "")
    PatientInsurance.objects.filter(patient=treated.patient).update(payer="Fabrikam Health", member_id="FH-77")
    answer = {**_data(today), "status": "approved", "decided_on": today, "approved_from": today}
    answered = prior_authorisation_save(
        user=world.users["billing"], patient=treated.patient, data=answer, authorisation=made
    )
    assert (answered.payer, answered.member_id) == ("Example Health Plan", "EHP-0042")


@pytest.mark.parametrize("status", ["approved", "denied"])
def test_the_payers_answer_to_a_request_with_an_open_copy_is_refused_until_the_copy_is_withdrawn(
    world, eligible, today, status
):
    """Two open copies of one request (stored before the duplicate check): the payer's answer on one is refused
    naming the other, which would otherwise read as a request still awaiting the payer (and, beside an approval,
    as its renewal); withdrawn, the copy no longer stands in the way."""
    first = prior_authorisation_save(user=world.users["billing"], patient=eligible, data=_data(today))
    copy = PriorAuthorisation.objects.create(
        patient=eligible, stage="initial", policy_id="us-commercial-a", diagnosis_code="G43.709", requested_on=today
    )
    answer = {**_data(today), "status": status, "decided_on": today}
    if status == "approved":
        answer["approved_from"] = today
    with pytest.raises(OpenCopyError) as refused:
        prior_authorisation_save(user=world.users["billing"], patient=eligible, data=answer, authorisation=first)
    assert refused.value.args[0] == copy
    assert PriorAuthorisation.objects.get(pk=first.pk).status == "requested"
    withdrawn = {**_data(today), "status": "withdrawn"}
    prior_authorisation_save(user=world.users["billing"], patient=eligible, data=withdrawn, authorisation=copy)
    saved = prior_authorisation_save(user=world.users["billing"], patient=eligible, data=answer, authorisation=first)
    assert saved.status == status
