"""Crash safety of session recording: `onaboard serve` is killed (SIGKILL, master and workers) while a recording's
transaction is open; after a restart the database holds none of it, and retrying is safe (the first retry records
the session once, a second is refused with 409 and writes nothing).

The crash point (tests/ops/crashpoint) holds the transaction open after the session row, its 31 site rows and its
audit row are written, so the kill lands in the middle of the recording, not before or after it.
"""

from __future__ import annotations

import os
import threading
import time
from datetime import date, timedelta
from pathlib import Path

import httpx
import pytest

from onaboard.clinical import FIXED_SITE_COUNT, preempt_plan
from tests.ops.serving import Server, django_json, manage, production_env, throwaway_postgres

pytestmark = pytest.mark.slow

CRASH_SETTINGS = "tests.ops.crash_settings"
MARKER_WAIT_SECONDS = 60

SETUP = """
from datetime import date
from onaboard.web.accounts.models import ApiToken, Clinic, Role, User
from onaboard.web.patients.models import Patient
clinic = Clinic.objects.create(name="Crash Clinic")
nurse = User.objects.create_user(username="nurse.crash", role=Role.NURSE, clinic=clinic)
patient = Patient.objects.create(
    clinic=clinic, record_number="CRASH1", given_name="Kit", family_name="Synthetic", birth_date=date(1984, 5, 17)
)
_, token = ApiToken.issue(nurse, "crash test")
result = {"token": token, "patient": str(patient.external_id)}
"""

STATE = """
from onaboard.web.audit.models import AuditEvent
from onaboard.web.injections.models import InjectionSession, InjectionSiteRecord
from onaboard.web.patients.models import Patient
patient = Patient.objects.get(record_number="CRASH1")
sessions = InjectionSession.objects.filter(patient=patient)
result = {
    "recorded": sessions.filter(status="recorded").count(),
    "booked": sessions.filter(status="booked").count(),
    "sites": InjectionSiteRecord.objects.filter(session__patient=patient).count(),
    "audited": AuditEvent.objects.filter(patient_id=patient.external_id, object_type="injection_session").count(),
}
"""


def _body(day: date) -> dict[str, object]:
    plan = preempt_plan()
    return {
        "date": day.isoformat(),
        "sites": [
            {"muscle": s.muscle.value, "side": s.side.value, "units": s.units, "follow_the_pain": s.follow_the_pain}
            for s in plan.sites
        ],
        "vial_units": 200,
        "product_lot": "C1234AB",
        "product_expiry": (day + timedelta(days=200)).isoformat(),
    }


def _wait_for(marker: Path, server: Server) -> None:
    deadline = time.monotonic() + MARKER_WAIT_SECONDS
    while not marker.exists():
        assert time.monotonic() < deadline, f"the recording never reached the crash point:\n{server.log.read_text()}"
        assert server.process.poll() is None, server.log.read_text()
        time.sleep(0.05)


def _kill_mid_recording(tmp_path: Path, database_url: str | None) -> None:
    env = production_env(tmp_path / "data", database_url)
    manage(env, "migrate", "--noinput")
    ids = django_json(env, SETUP)
    url = f"/api/patients/{ids['patient']}/sessions"
    body = _body(date.today())  # noqa: DTZ011 - the server's "today" (TIME_ZONE is UTC, like this machine's date)
    marker = tmp_path / "in-transaction"
    crashing = {**env, "ONABOARD_CRASHPOINT_OBJECT": "injection_session", "ONABOARD_CRASHPOINT_FILE": str(marker)}

    server = Server(crashing, settings=CRASH_SETTINGS, log=tmp_path / "serve.log")
    outcome: dict[str, object] = {}

    def record() -> None:
        try:
            with server.client(ids["token"], timeout=120) as client:
                outcome["status"] = client.post(url, json=body).status_code
        except httpx.HTTPError as error:
            outcome["error"] = error

    caller = threading.Thread(target=record)
    caller.start()
    try:
        _wait_for(marker, server)
    finally:
        server.kill()
        caller.join(timeout=30)
    assert "status" not in outcome, "the recording answered before the server was killed"
    assert django_json(env, STATE) == {"recorded": 0, "booked": 0, "sites": 0, "audited": 0}

    restarted = Server(env, log=tmp_path / "serve.log")
    try:
        with restarted.client(ids["token"]) as client:
            first = client.post(url, json=body)
            again = client.post(url, json=body)
    finally:
        restarted.stop()
    assert first.status_code == 201, first.text
    assert again.status_code == 409, again.text
    assert django_json(env, STATE) == {"recorded": 1, "booked": 1, "sites": FIXED_SITE_COUNT, "audited": 2}


def test_a_session_killed_mid_recording_on_sqlite_is_all_or_nothing_and_a_retry_records_it_once(tmp_path):
    """SIGKILL inside the recording's transaction leaves no session, site or audit row in SQLite; the retry records
    it once and a second retry is 409."""
    _kill_mid_recording(tmp_path, None)


@pytest.mark.skipif(not os.environ.get("ONABOARD_TEST_DATABASE_URL"), reason="needs ONABOARD_TEST_DATABASE_URL")
def test_a_session_killed_mid_recording_on_postgresql_is_all_or_nothing_and_a_retry_records_it_once(tmp_path):
    """SIGKILL inside the recording's transaction leaves no session, site or audit row in PostgreSQL; the retry
    records it once and a second retry is 409."""
    with throwaway_postgres("crash") as database_url:
        _kill_mid_recording(tmp_path, database_url)
