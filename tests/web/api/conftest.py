"""API clients per role (each signs its requests with a bearer token issued to that role's user), the OpenAPI
document and its operations."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from onaboard.web.accounts.models import ApiToken


@pytest.fixture
def api_as(world) -> Callable[[str], Client]:
    """``api_as("nurse")``: a client sending ``Authorization: Bearer <token>`` of the nurse."""
    clients: dict[str, Client] = {}

    def make(role: str) -> Client:
        if role not in clients:
            _token, raw = ApiToken.issue(world.users[role], f"{role} tests")
            clients[role] = Client(headers={"Authorization": f"Bearer {raw}"})
        return clients[role]

    return make


METHODS = {"get", "put", "post", "patch", "delete"}
"""The HTTP methods of an OpenAPI path item that are operations."""


@pytest.fixture
def schema(client, db) -> dict[str, Any]:
    """The API's OpenAPI document, as served at /api/openapi.json."""
    response = client.get("/api/openapi.json")
    assert response.status_code == 200
    return response.json()


def operations(schema: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    """Every operation of the document as ``(method, path, operation)``."""
    return [
        (method, path, op) for path, ops in schema["paths"].items() for method, op in ops.items() if method in METHODS
    ]
