"""The API's answers for addresses and methods it has no operation for (onaboard/web/common/errors.py
ApiMethodNotAllowedMiddleware); the OpenAPI side is tested in tests/ops/test_errors.py and the 405 in
tests/web/api/test_api.py."""

from __future__ import annotations

import datetime as dt
import uuid
from functools import partial

import pytest
from django.test import Client
from ninja import NinjaAPI
from ninja.errors import ValidationError
from ninja.testing import TestClient

from onaboard.web.accounts.models import ApiToken
from onaboard.web.common.errors import NO_SUCH_ADDRESS, validation_problems
from onaboard.web.injections.schemas import InjectionSessionIn

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


# --- Where a 422's problems are -----------------------------------------------------------------------------------


@pytest.fixture
def problems_api():
    """A throwaway API with one operation taking a body, answering 422 through ``validation_problems``."""
    api = NinjaAPI(urls_namespace=f"problems-{uuid.uuid4().hex}")
    api.add_exception_handler(ValidationError, partial(validation_problems, api=api))

    @api.put("/things/{day}")
    def thing_put(request, day: dt.date, payload: InjectionSessionIn, limit: int = 1) -> dict:
        return {}

    return TestClient(api)


def test_a_framework_problem_is_at_its_parameter_or_field_without_the_body_parameters_name(problems_api):
    """Problems django-ninja finds are at ``[where, ..., name]``: the body parameter's name (``payload``) it put
    second is left out (``["body", "payload", "date"]`` was ``["body", "date"]`` in the operations' own 422s), a
    site's field is at its index, and path and query problems stay as they were."""
    body = {"date": "2026-13-01", "sites": [{"muscle": "procerus", "side": "midline", "units": "x"}], "verison": 1}
    response = problems_api.put("/things/not-a-day?limit=many", json=body)
    assert response.status_code == 422
    places = sorted(tuple(map(str, problem["loc"])) for problem in response.json()["detail"])
    assert places == [
        ("body", "date"),
        ("body", "product_expiry"),
        ("body", "product_lot"),
        ("body", "sites", "0", "units"),
        ("body", "verison"),
        ("path", "day"),
        ("query", "limit"),
    ]


def test_a_missing_body_is_at_the_body(problems_api):
    """An operation whose body was not sent says so at ``["body"]``."""
    response = problems_api.put("/things/2026-01-01")
    assert response.status_code == 422
    assert [problem["loc"] for problem in response.json()["detail"]] == [["body"]]
