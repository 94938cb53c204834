"""The response hardening every mode shares (onaboard/web/common/security.py): the Content-Security-Policy on
every response and the 413 refusal of oversized requests, for pages and for the API."""

from __future__ import annotations

import json
import uuid

import pytest
from django.urls import reverse
from django.utils.html import escape
from typer.testing import CliRunner

from onaboard.cli import app
from onaboard.web.common.security import (
    CONTENT_SECURITY_POLICY,
    CSV_IMPORT_COMMANDS,
    FHIR_IMPORT_COMMAND,
    request_too_large_message,
)

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


def test_an_oversized_fhir_bundle_is_told_to_use_onaboard_fhir_import(client, db, small_limit):
    """A Bundle over the limit is refused with an OperationOutcome saying the limit and that a record that large is
    imported on the server with ``onaboard fhir import``, which has no limit (docs/fhir.md)."""
    body = json.dumps({"resourceType": "Bundle", "type": "transaction", "id": "x" * (2 * LIMIT)})
    response = client.post("/fhir", body, content_type="application/fhir+json")
    assert response.status_code == 413
    [issue] = response.json()["issue"]
    assert issue["code"] == "too-long"
    assert issue["diagnostics"] == (
        f"{request_too_large_message(len(body.encode()), LIMIT)} A record this large is imported on the server "
        "with onaboard fhir import, which has no size limit."
    )


def test_an_oversized_csv_upload_page_names_the_import_commands(client, db, small_limit):
    """A CSV upload over the limit on a patient's exchange page is refused (before anything else: who sends it,
    which patient) with a page naming the commands that import a file that large on the server (``onaboard import
    diary`` and ``onaboard import table``)."""
    url = reverse("interop:patient", args=[uuid.UUID(int=1)])
    response = client.post(url, {"action": "upload", "kind": "diary", "padding": "x" * (2 * LIMIT)})
    assert response.status_code == 413
    page = response.content.decode()
    assert escape(request_too_large_message(int(response.wsgi_request.META["CONTENT_LENGTH"]), LIMIT)) in page
    for words in CSV_IMPORT_COMMANDS:
        assert f"<code>{' '.join(words)}</code>" in page


@pytest.mark.parametrize("command", [FHIR_IMPORT_COMMAND, *CSV_IMPORT_COMMANDS])
def test_the_commands_the_refusals_name_exist(command):
    """Each command a 413 names is one of the command line's (its help answers), so a rename cannot leave the
    refusal pointing at nothing."""
    program, *words = command
    assert program == "onaboard"
    result = CliRunner().invoke(app, [*words, "--help"])
    assert result.exit_code == 0, result.output
