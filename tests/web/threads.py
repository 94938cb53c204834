"""Helpers of the tests that run writers at the same moment, each thread on its own database connection, to prove
a row lock or a constraint serialises them. Row locks (``select_for_update``) are exercised on PostgreSQL; SQLite
serialises writers itself, so those tests skip there (``postgresql_only``)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection, connections

WAITS = 1.0
"""Seconds a writer is given to finish; one still running then is waiting for the lock."""


@pytest.fixture
def postgresql_only() -> None:
    """Skip the test unless the suite runs on PostgreSQL (ONABOARD_TEST_DATABASE_URL)."""
    if connection.vendor != "postgresql":
        pytest.skip("row locks (select_for_update) are exercised on PostgreSQL; SQLite serialises writers itself")


def in_thread(work: Callable[[], Any]) -> tuple[threading.Thread, list[Any]]:
    """Run ``work`` on its own connection in a thread; the list receives its result or the exception it raised."""
    outcome: list[Any] = []

    def run() -> None:
        try:
            outcome.append(work())
        except BaseException as error:  # handed back to the test, which asserts on it
            outcome.append(error)
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    return thread, outcome
