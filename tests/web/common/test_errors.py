"""The API's answers for addresses and methods it has no operation for (onaboard/web/common/errors.py
ApiMethodNotAllowedMiddleware); the OpenAPI side is tested in tests/ops/test_errors.py and the 405 in
tests/web/api/test_api.py."""

from __future__ import annotations

import uuid

import pytest
from django.test import Client

from onaboard.web.accounts.models import ApiToken
from onaboard.web.common.errors import NO_SUCH_ADDRESS

pytestmark = pytest.mark.django_db


@pytest.fixture
def nurse_api(world) -> Client:
    """A client sending the nurse's bearer token."""
    _token, raw = ApiToken.issue(world.users["nurse"], "error tests")
    return Client(headers={"Authorization": f"Bearer {raw}"})


@pytest.mark.parametrize("path", ["/api/patients/", "/api/worklist/", "/api/no-such-thing", "/api/"])
def test_an_address_no_api_operation_has_is_404_in_the_apis_shape(nurse_api, client, path):
    """An unknown path under /api/, or a known one with a trailing slash, is 404 with a JSON ``detail`` saying so,
    signed in or not (it was the site's HTML page)."""
    for caller in (nurse_api, client):
        response = caller.get(path)
        assert response.status_code == 404
        assert response["Content-Type"] == "application/json"
        assert response.json() == {"detail": NO_SUCH_ADDRESS}
    assert nurse_api.post(path, "{}", content_type="application/json").json() == {"detail": NO_SUCH_ADDRESS}


def test_an_operations_own_404_and_a_pages_404_are_kept(nurse_api, world):
    """A patient the caller may not see keeps the operation's JSON 404; outside /api/ a 404 stays the site's page."""
    response = nurse_api.get(f"/api/patients/{world.other_clinic_patient.external_id}")
    assert response.status_code == 404
    assert response.json() != {"detail": NO_SUCH_ADDRESS}
    assert nurse_api.get(f"/api/patients/{uuid.uuid4()}").json() != {"detail": NO_SUCH_ADDRESS}
    page = nurse_api.get("/no-such-page/")
    assert page.status_code == 404
    assert page["Content-Type"].startswith("text/html")
