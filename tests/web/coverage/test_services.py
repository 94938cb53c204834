"""Coverage services: a prior-authorisation request is stored once, and only clinical staff attest for it."""

from __future__ import annotations

import pytest

from onaboard.web.coverage.models import PriorAuthorisation
from onaboard.web.coverage.services import DuplicateRequestError, prior_authorisation_save

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
