"""API clients per role: each signs its requests with a bearer token issued to that role's user."""

from __future__ import annotations

from collections.abc import Callable

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
