"""The response hardening every mode shares (onaboard/web/common/security.py): the Content-Security-Policy on
every response and the 413 refusal of oversized requests, for pages and for the API."""

from __future__ import annotations

import json

import pytest

from onaboard.web.common.security import CONTENT_SECURITY_POLICY, request_too_large_message

LIMIT = 4096


@pytest.fixture
def small_limit(settings):
    settings.MAX_REQUEST_BYTES = LIMIT
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = LIMIT
    return LIMIT


def test_every_page_carries_the_content_security_policy(client, db):
    """The login page is served with the policy: scripts from the app only, no framing."""
    response = client.get("/accounts/login/")
    assert response.status_code == 200
    assert response["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    assert "script-src 'self'" in CONTENT_SECURITY_POLICY
    assert "frame-ancestors 'none'" in CONTENT_SECURITY_POLICY


def test_the_api_carries_the_content_security_policy_too(client, db):
    """Even a refused API call carries the policy."""
    response = client.get("/api/patients")
    assert response.status_code == 401
    assert response["Content-Security-Policy"] == CONTENT_SECURITY_POLICY


def test_an_oversized_page_upload_is_refused_with_413_and_the_limit(client, db, small_limit):
    """A form post over the limit gets 413 and a page saying the limit and the request's size; nothing is read."""
    response = client.post("/accounts/login/", {"username": "x" * (2 * LIMIT), "password": "y"})
    assert response.status_code == 413
    page = response.content.decode()
    size = int(response.wsgi_request.META["CONTENT_LENGTH"])
    assert request_too_large_message(size, LIMIT) in page
    assert "<h1" in page


def test_an_oversized_api_call_is_refused_with_413_json(client, db, small_limit):
    """An API call over the limit gets 413 with the message as JSON ``detail``, before authentication."""
    body = json.dumps({"padding": "x" * (2 * LIMIT)})
    response = client.post("/api/patients", body, content_type="application/json")
    assert response.status_code == 413
    assert response.json() == {"detail": request_too_large_message(len(body.encode()), LIMIT)}


def test_a_request_within_the_limit_is_not_refused(client, db, small_limit):
    """A form post under the limit reaches its view (a failed sign-in is shown again, not refused)."""
    response = client.post("/accounts/login/", {"username": "nobody", "password": "wrong"})
    assert response.status_code == 200


def test_the_message_names_the_limit_and_the_size_in_megabytes(settings):
    """The sentence gives both sizes in MB with one decimal."""
    settings.MAX_REQUEST_BYTES = 10 * 1024 * 1024
    assert request_too_large_message(15 * 1024 * 1024) == (
        "The upload is too large: at most 10.0 MB is accepted, and this request was 15.0 MB."
    )
