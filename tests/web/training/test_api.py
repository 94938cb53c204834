"""The training API: the same permissions as the pages, enrolment with the waitlist, public verification."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client

from onaboard.web.accounts.models import ApiToken, Role
from onaboard.web.training import services
from onaboard.web.training.models import Certificate
from tests.web.factories import UserFactory
from tests.web.training.conftest import live_session


def _client(user) -> Client:
    _token, raw = ApiToken.issue(user, "tests")
    return Client(headers={"Authorization": f"Bearer {raw}"})


def test_modules_list_the_callers_progress(world):
    """A trainee gets every module in order, the first one unlocked."""
    response = _client(world.users["trainee"]).get("/api/training/modules")
    assert response.status_code == 200
    body = response.json()
    assert [row["id"] for row in body] == [module.id for module in services.course()]
    assert [row["unlocked"] for row in body[:2]] == [True, False]


@pytest.mark.parametrize("role", ["billing", "patient"])
def test_billing_staff_and_patients_are_refused(world, role):
    """Roles without training get 403 from the training API."""
    client = _client(world.users[role])
    assert client.get("/api/training/modules").status_code == 403
    assert client.get("/api/training/sessions").status_code == 403


def test_enrolment_through_the_api_waitlists_when_full(world):
    """The second trainee for a one-place session is waitlisted; a repeat is a conflict."""
    session = live_session(world.users["clinician"], capacity=1)
    other = UserFactory(username="other", role=Role.TRAINEE, clinic=world.clinic)
    url = f"/api/training/sessions/{session.external_id}/enrolments"
    assert _client(other).post(url).json()["status"] == "enrolled"
    client = _client(world.users["trainee"])
    response = client.post(url)
    assert (response.status_code, response.json()["status"]) == (201, "waitlisted")
    assert client.post(url).status_code == 409
    listed = client.get("/api/training/sessions").json()
    assert (listed[0]["enrolled"], listed[0]["waitlisted"]) == (1, 1)


def test_sessions_are_listed_earliest_first(world):
    """The session list is in date order, not in the order the sessions were scheduled."""
    later = live_session(world.users["clinician"], title="later", days=20)
    live_session(world.users["clinician"], title="earlier", days=5)
    services.enrolment_create(session=later, trainee=world.users["trainee"])
    listed = _client(world.users["trainee"]).get("/api/training/sessions").json()
    assert [row["title"] for row in listed] == ["earlier", "later"]


def test_a_cancelled_session_is_listed_as_cancelled_and_takes_no_enrolment(world):
    """The session list says which sessions were cancelled; enrolling in one is refused with the reason."""
    session = live_session(world.users["clinician"])
    client = _client(world.users["trainee"])
    assert client.get("/api/training/sessions").json()[0]["cancelled"] is False
    services.live_session_cancel(session=session)
    assert client.get("/api/training/sessions").json()[0]["cancelled"] is True
    response = client.post(f"/api/training/sessions/{session.external_id}/enrolments")
    assert response.status_code == 409
    assert "cancelled" in response.text


def test_another_clinics_session_is_not_found(world):
    """A session of another clinic answers 404."""
    far = UserFactory(username="far", role=Role.CLINICIAN, clinic=world.other_clinic)
    session = live_session(far)
    response = _client(world.users["trainee"]).post(f"/api/training/sessions/{session.external_id}/enrolments")
    assert response.status_code == 404


def test_verification_is_public_and_reveals_only_name_clinic_date_and_validity(world):
    """Without a token, a code gives validity, the holder's name, the issuing clinic and the issue date; an unknown
    code is invalid."""
    issued = Certificate.objects.create(
        trainee=world.users["trainee"],
        holder_name="Tam Oyelaran",
        issued_by="North Headache Clinic",
        issued_on=dt.date(2026, 6, 1),
    )
    body = Client().get(f"/api/training/certificates/{issued.code}").json()
    assert body == {
        "valid": True,
        "holder_name": "Tam Oyelaran",
        "issued_by": "North Headache Clinic",
        "issued_on": "2026-06-01",
    }
    assert Client().get("/api/training/certificates/NOPE").json() == {
        "valid": False,
        "holder_name": None,
        "issued_by": None,
        "issued_on": None,
    }


def test_verification_names_the_clinic_that_issued_the_certificate_not_the_holders_clinic_now(world):
    """The issuing clinic is the one named at issue: renaming it or moving the holder to another clinic changes
    nothing; a certificate issued to someone without a clinic names none."""
    trainee = world.users["trainee"]
    issued = Certificate.objects.create(
        trainee=trainee, holder_name="Tam Oyelaran", issued_by="North Headache Clinic", issued_on=dt.date(2026, 6, 1)
    )
    world.clinic.name = "Renamed Clinic"
    world.clinic.save()
    trainee.clinic = world.other_clinic
    trainee.save()
    assert Client().get(f"/api/training/certificates/{issued.code}").json()["issued_by"] == "North Headache Clinic"
    issued.issued_by = ""
    issued.save()
    assert Client().get(f"/api/training/certificates/{issued.code}").json()["issued_by"] is None
