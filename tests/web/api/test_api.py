"""The API as a whole (onaboard/web/config/api.py): its documented schema and how callers authenticate."""

from __future__ import annotations

import re
import uuid

import pytest
from django.test import Client
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from onaboard.web.accounts.models import ApiToken
from tests.web.accounts.conftest import totp_code
from tests.web.api.conftest import operations

ID_PARAMETER = re.compile(r"\{(\w+_id)\}")


def test_the_schema_and_the_docs_are_served(client, schema):
    """/api/openapi.json is OpenAPI 3 with the project's operations, and /api/docs renders for people."""
    assert schema["openapi"].startswith("3.")
    assert len(operations(schema)) >= 15
    assert client.get("/api/docs").status_code == 200


def test_every_operation_is_documented_with_its_responses(schema):
    """Every operation has a summary, a success response with a JSON schema, and 401; patient-scoped ones 404;
    those that take a body 422; every error response has a schema too."""
    undocumented = []
    for method, path, op in operations(schema):
        responses = op.get("responses", {})
        where = f"{method.upper()} {path}"
        if not op.get("summary"):
            undocumented.append(f"{where}: no summary")
        success = [code for code in responses if code.startswith("2")]
        if not success:
            undocumented.append(f"{where}: no success response")
        needed = set() if where in PUBLIC_OPERATIONS else {"401"}
        if ID_PARAMETER.search(path):
            needed.add("404")
        if "requestBody" in op:
            needed.add("422")
        undocumented.extend(f"{where}: {code} undocumented" for code in sorted(needed - set(responses)))
        for code, response in responses.items():
            content = response.get("content", {})
            if str(code).startswith("2") and "application/pdf" in content:
                continue  # a document for download (coverage letters and notes)
            if "application/json" not in content:
                undocumented.append(f"{where}: {code} has no JSON schema")
    assert undocumented == []


def test_ids_in_addresses_are_uuids_or_dates(schema):
    """Path parameters are UUIDs (public ids), dates or a closed list of names (a document kind); the only free
    string is the public certificate-verification code: no integer key can be asked for."""
    odd = [
        f"{method.upper()} {path} {param['name']}"
        for method, path, op in operations(schema)
        for param in op.get("parameters", [])
        if param["in"] == "path"
        and param["schema"].get("format") not in {"uuid", "date"}
        and "enum" not in param["schema"]
        and f"{method.upper()} {path}" not in PUBLIC_OPERATIONS
    ]
    assert odd == []


PUBLIC_OPERATIONS = {"GET /api/training/certificates/{code}"}
"""Operations anyone may call: checking a training certificate's verification code (the issue asks for a public
check; it answers the holder's name, the date and whether the certificate stands, nothing about patients)."""


def test_every_operation_asks_for_authentication(schema):
    """Every operation but the public certificate check requires the bearer token or the signed-in session."""
    unguarded = {f"{method.upper()} {path}" for method, path, op in operations(schema) if not op.get("security")}
    assert unguarded == PUBLIC_OPERATIONS


# --- Bearer tokens ------------------------------------------------------------------------------------------------


def test_no_credentials_is_401(client, world):
    """Without a token or a session the API answers 401."""
    assert client.get("/api/patients").status_code == 401


def test_an_unknown_token_is_401(world):
    """A made-up token is 401."""
    assert Client(headers={"Authorization": "Bearer onb_made-up"}).get("/api/patients").status_code == 401


def test_a_401_says_to_authenticate_with_a_bearer_token(client, world):
    """Every 401 carries ``WWW-Authenticate: Bearer`` (RFC 6750), with ``error="invalid_token"`` when a token was
    sent and refused."""
    missing = client.get("/api/patients")
    assert missing.status_code == 401
    assert missing["WWW-Authenticate"] == 'Bearer realm="onaboard"'
    refused = client.get("/api/patients", HTTP_AUTHORIZATION="Bearer onb_made-up")
    assert refused.status_code == 401
    assert refused["WWW-Authenticate"] == 'Bearer realm="onaboard", error="invalid_token"'
    assert refused.json() == missing.json()


@pytest.mark.parametrize(("method", "path"), [("post", "questionnaires"), ("put", "diary/2020-01-01")])
def test_a_write_with_an_unknown_token_is_401_not_a_csrf_403(world, method, path):
    """A write with a made-up token and no session is refused as unauthenticated (401, as a read is), not by the
    session's CSRF check (403): there is no session whose CSRF token could be missing."""
    api = Client(enforce_csrf_checks=True, headers={"Authorization": "Bearer onb_made-up"})
    url = f"/api/patients/{world.own_patient.external_id}/{path}"
    response = getattr(api, method)(url, "{}", content_type="application/json")
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer ")


def test_a_revoked_token_is_401(world):
    """Revoking a token stops it at once."""
    token, raw = ApiToken.issue(world.users["nurse"], "tablet")
    api = Client(headers={"Authorization": f"Bearer {raw}"})
    assert api.get("/api/patients").status_code == 200
    ApiToken.objects.filter(pk=token.pk).update(revoked=True)
    assert api.get("/api/patients").status_code == 401


def test_a_token_acts_with_its_users_permissions(world, api_as):
    """A patient's token sees what the patient sees and nothing more."""
    body = api_as("patient").get("/api/patients").json()
    assert [item["id"] for item in body["items"]] == [str(world.own_patient.external_id)]


# --- The browser session ------------------------------------------------------------------------------------------


def test_the_signed_in_session_reads_the_api(world):
    """The pages' own session cookie authenticates API reads."""
    browser = Client()
    browser.force_login(world.users["nurse"])
    assert browser.get("/api/patients").status_code == 200


def test_a_session_write_needs_the_csrf_token(world):
    """A write from the browser session without the CSRF token is refused; with it, it goes through."""
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(world.users["patient"])
    url = f"/api/patients/{world.own_patient.external_id}/questionnaires"
    body = '{"instrument": "hit6", "date": "2020-01-01", "answers": ["never","never","never","never","never","never"]}'
    assert browser.post(url, body, content_type="application/json").status_code == 403
    browser.get(reverse("accounts:login"))  # sets the CSRF cookie
    token = browser.cookies["csrftoken"].value
    accepted = browser.post(url, body, content_type="application/json", headers={"X-CSRFToken": token})
    assert accepted.status_code == 201


def test_a_session_without_its_one_time_code_is_401(world):
    """A user who set up two-step sign-in reaches the API from the browser only once the code was entered."""
    clinician = world.users["clinician"]
    device = TOTPDevice.objects.create(user=clinician, name="app", confirmed=True)
    browser = Client()
    browser.force_login(clinician)
    assert browser.get("/api/patients").status_code == 401
    browser.post(reverse("accounts:login_code"), {"code": totp_code(device)})
    assert browser.get("/api/patients").status_code == 200


# --- Public ids only ----------------------------------------------------------------------------------------------


def _ids_in(value, found):
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "id" or key.endswith("_id"):
                found.append(item)
            _ids_in(item, found)
    elif isinstance(value, list):
        for item in value:
            _ids_in(item, found)
    return found


def test_answers_carry_public_ids_only(world, api_as):
    """Every id in the answers is a UUID string: integer keys never leave the server."""
    client = api_as("clinician")
    patient = world.own_patient.external_id
    found = []
    for url in ("/api/patients", f"/api/patients/{patient}", "/api/worklist", f"/api/patients/{patient}/sessions"):
        _ids_in(client.get(url).json(), found)
    assert found
    for value in found:
        uuid.UUID(str(value))


def test_a_method_a_path_does_not_take_is_405_in_the_apis_shape(client, world):
    """DELETE on the plan is 405 with the Allow header and a JSON detail naming what is allowed (it was the text
    'Method not allowed', unlike every other API error)."""
    from onaboard.web.common.errors import METHOD_NOT_ALLOWED

    response = client.delete("/api/plan")
    assert response.status_code == 405
    assert response["Allow"] == "GET"
    assert response.json() == {"detail": METHOD_NOT_ALLOWED.format(method="DELETE", allowed="GET")}
    page = client.get("/accounts/logout/")  # POST only: outside the API a 405 stays the framework's own
    assert page.status_code == 405
    assert not page["Content-Type"].startswith("application/json")
