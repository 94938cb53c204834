"""Side-effect rules the injections API shares with the report form (onaboard/web/injections/api.py); the API's
other operations are tested in tests/web/api/test_injections.py."""

from __future__ import annotations

import json

import pytest
from django.test import Client
from django.utils import timezone

from onaboard.web.accounts.models import ApiToken
from onaboard.web.injections import services
from onaboard.web.injections.models import SideEffect


@pytest.fixture
def patient_api(world) -> Client:
    """A client sending the bearer token of the patient with a portal account."""
    _token, raw = ApiToken.issue(world.users["patient"], "side-effect tests")
    return Client(headers={"Authorization": f"Bearer {raw}"})


def _report(client: Client, world, **body: str):
    body = {"onset": timezone.localdate().isoformat(), "severity": "moderate", **body}
    url = f"/api/patients/{world.own_patient.external_id}/side-effects"
    return client.post(url, json.dumps(body), content_type="application/json")


def test_something_else_without_a_description_is_422_at_the_description(world, patient_api):
    """Kind "other" with no description (or only spaces) is 422 naming the description, nothing stored; with one it
    is saved."""
    for body in ({"kind": "other"}, {"kind": "other", "description": " \n "}):
        response = _report(patient_api, world, **body)
        assert response.status_code == 422
        assert response.json()["detail"] == [
            {"loc": ["body", "description"], "msg": services.DESCRIBE_SOMETHING_ELSE, "type": "value_error"}
        ]
    assert not SideEffect.objects.exists()
    saved = _report(patient_api, world, kind="other", description="A rash on my forehead")
    assert saved.status_code == 201
    assert saved.json()["description"] == "A rash on my forehead"


def test_an_allergic_reaction_is_urgent(world, patient_api):
    """An allergic reaction is answered ``urgent``: the patient should seek care now."""
    response = _report(patient_api, world, kind="hypersensitivity")
    assert response.status_code == 201
    assert response.json()["urgent"] is True
