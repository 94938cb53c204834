"""Side-effect rules the injections API shares with the report form, its answers for stale bookings, booking
dates and cancelling, and its refusal of the NUL character in free text (onaboard/web/injections/api.py,
schemas.py); the API's other operations are tested in tests/web/api/test_injections.py."""

from __future__ import annotations

import datetime as dt
import json
import uuid

import pytest
from django.test import Client
from django.utils import timezone

from onaboard.web.accounts.models import ApiToken, Role
from onaboard.web.audit.models import Action, AuditEvent
from onaboard.web.common.errors import problem_place
from onaboard.web.common.schema_types import ISO_DATE_ERROR_TYPE, NUL_ERROR_TYPE, NUL_IN_TEXT
from onaboard.web.injections import api, selectors, services
from onaboard.web.injections.models import DESCRIPTION_MAX_LENGTH, InjectionSession, SessionStatus, SideEffect
from tests.web.factories import UserFactory
from tests.web.injections.conftest import fixed_entries, record


@pytest.fixture
def patient_api(world) -> Client:
    """A client sending the bearer token of the patient with a portal account."""
    _token, raw = ApiToken.issue(world.users["patient"], "side-effect tests")
    return Client(headers={"Authorization": f"Bearer {raw}"})


def _report(client: Client, world, **body: str):
    body = {"onset": timezone.localdate().isoformat(), "severity": "moderate", **body}
    url = f"/api/patients/{world.own_patient.external_id}/side-effects"
    return client.post(url, json.dumps(body), content_type="application/json")


def test_something_else_without_a_description_is_422_at_the_description(world, treated, patient_api):
    """Kind "other" with no description (or only spaces) is 422 naming the description, nothing stored; with one it
    is saved."""
    for body in ({"kind": "other"}, {"kind": "other", "description": " \n "}):
        response = _report(patient_api, world, **body)
        assert response.status_code == 422
        assert response.json()["detail"] == [
            {"loc": ["body", "description"], "msg": services.DESCRIBE_SOMETHING_ELSE, "type": "value_error"}
        ]
    assert not SideEffect.objects.exists()
    saved = _report(patient_api, world, kind="other", description="A rash on my forehead")
    assert saved.status_code == 201
    assert saved.json()["description"] == "A rash on my forehead"


def test_an_allergic_reaction_is_urgent(world, treated, patient_api):
    """An allergic reaction is answered ``urgent``: the patient should seek care now."""
    response = _report(patient_api, world, kind="hypersensitivity")
    assert response.status_code == 201
    assert response.json()["urgent"] is True


def test_an_onset_before_birth_is_422_at_the_onset(world, treated, patient_api):
    """A side effect starting on 1900-01-01, before the patient's birth, is 422 at ``onset`` and not stored."""
    response = _report(patient_api, world, kind="neck_pain", onset="1900-01-01")
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "onset"]
    assert "is before the birth date on the record" in response.json()["detail"][0]["msg"]
    assert not SideEffect.objects.exists()


@pytest.fixture
def nurse_api(world) -> Client:
    """A client sending the nurse's bearer token."""
    _token, raw = ApiToken.issue(world.users["nurse"], "booking tests")
    return Client(headers={"Authorization": f"Bearer {raw}"})


def _booking(world, *, days_ago: int = 30) -> InjectionSession:
    today = timezone.localdate()
    record(user=world.users["nurse"], patient=world.own_patient, date=today - dt.timedelta(days=days_ago), today=today)
    return InjectionSession.objects.get(patient=world.own_patient, status=SessionStatus.BOOKED)


def test_recording_a_booking_recorded_meanwhile_is_409_whatever_the_date(world, nurse_api):
    """``booking_id`` of a recorded booking with a stale version and an earlier date is 409; nothing is created."""
    today = timezone.localdate()
    booking = _booking(world, days_ago=90)
    InjectionSession.objects.filter(pk=booking.pk).update(date=today)
    body = {
        "date": today.isoformat(),
        "sites": [{"muscle": e.muscle, "side": e.side, "units": e.units} for e in fixed_entries()],
        "product_lot": "C1234AB",
        "product_expiry": (today + dt.timedelta(days=300)).isoformat(),
        "booking_id": str(booking.external_id),
        "version": 1,
    }
    url = f"/api/patients/{world.own_patient.external_id}/sessions"
    assert nurse_api.post(url, json.dumps(body), content_type="application/json").status_code == 201
    count = InjectionSession.objects.count()
    stale = {**body, "date": (today - dt.timedelta(days=1)).isoformat(), "override_reason": "travel"}
    response = nurse_api.post(url, json.dumps(stale), content_type="application/json")
    assert response.status_code == 409
    assert response.json() == {"detail": services.BOOKING_ALREADY_RECORDED}
    assert InjectionSession.objects.count() == count


@pytest.fixture
def clinician_api(world) -> Client:
    """A client sending the clinician's bearer token."""
    _token, raw = ApiToken.issue(world.users["clinician"], "override tests")
    return Client(headers={"Authorization": f"Bearer {raw}"})


def test_an_override_for_checks_other_than_those_failing_is_422_at_override_reason(world, clinician_api, nurse_api):
    """``overridden_checks`` names what the reason answers: ["interval"] when the interval and the cumulative dose
    fail (two sessions in the last weeks) is 422 at ``override_reason`` with the checks failing now, and nothing is
    recorded; naming both records the session; without it, the reason covers whatever fails (as before). A nurse is
    refused at ``override_reason`` whatever they name: both checks are a clinician's to override."""
    today = timezone.localdate()
    for days in (88, 4):  # 84 days apart, both within the 3 months before today
        record(user=world.users["nurse"], patient=world.own_patient, date=today - dt.timedelta(days=days), today=today)
    url = f"/api/patients/{world.own_patient.external_id}/sessions"
    count = InjectionSession.objects.count()
    body = _session_body(override_reason="Flare; agreed with the patient")
    response = clinician_api.post(
        url, json.dumps({**body, "overridden_checks": ["interval"]}), content_type="application/json"
    )
    assert response.status_code == 422
    places = [problem["loc"] for problem in response.json()["detail"]]
    assert ["body", "override_reason"] in places
    assert any("cumulative_dose" in str(place) for place in places)
    assert InjectionSession.objects.count() == count
    both = {**body, "overridden_checks": ["cumulative_dose", "interval"]}
    as_nurse = nurse_api.post(url, json.dumps(both), content_type="application/json")
    assert as_nurse.status_code == 422
    assert ["body", "override_reason"] in [problem["loc"] for problem in as_nurse.json()["detail"]]
    assert clinician_api.post(url, json.dumps(both), content_type="application/json").status_code == 201


def _move(client: Client, booking: InjectionSession, day: str):
    url = f"/api/sessions/{booking.external_id}/booking"
    return client.put(url, json.dumps({"date": day, "version": booking.version}), content_type="application/json")


def test_a_booking_years_ahead_is_422_and_one_within_12_weeks_warns(world, nurse_api):
    """9999-12-31 is 422 at ``date``; tomorrow (31 days after the last session) is saved with one warning."""
    booking = _booking(world)
    far = _move(nurse_api, booking, "9999-12-31")
    assert far.status_code == 422
    assert far.json()["detail"][0]["loc"] == ["body", "date"]
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    near = _move(nurse_api, booking, tomorrow.isoformat())
    assert near.status_code == 200
    assert near.json()["warnings"] == list(services.booking_warnings(patient=world.own_patient, date=tomorrow))
    assert len(near.json()["warnings"]) == 1


def test_cancelling_a_booking_and_again_is_409(world, nurse_api):
    """A stale version is 409; the current one cancels the booking; cancelling it again is 409."""
    booking = _booking(world)
    url = f"/api/sessions/{booking.external_id}/cancel"
    stale = nurse_api.post(url, json.dumps({"version": 9}), content_type="application/json")
    assert stale.status_code == 409
    done = nurse_api.post(url, json.dumps({"version": 1}), content_type="application/json")
    assert done.status_code == 200
    assert done.json()["status"] == "cancelled"
    again = nurse_api.post(url, json.dumps({"version": 2}), content_type="application/json")
    assert again.status_code == 409


def _placed(detail: list[dict]) -> list[dict]:
    """A 422's problems at the places the API documents (``common.errors.problem_place``), whether or not the API
    has answered through ``validation_problems`` yet."""
    return [{**problem, "loc": problem_place(problem["loc"])} for problem in detail]


def _session_body(**changes: str) -> dict:
    today = timezone.localdate()
    body = {
        "date": today.isoformat(),
        "sites": [{"muscle": e.muscle, "side": e.side, "units": e.units} for e in fixed_entries()],
        "product_lot": "C1234AB",
        "product_expiry": (today + dt.timedelta(days=300)).isoformat(),
    }
    return {**body, **changes}


@pytest.mark.parametrize("field", ["product_lot", "complications", "override_reason"])
def test_a_nul_character_in_a_sessions_text_is_422_at_the_field(world, nurse_api, field):
    """A NUL in the lot, the complications or the override reason (PostgreSQL text cannot hold one: it was a
    server error there) is 422 at that field in the diary notes' words; nothing is recorded."""
    url = f"/api/patients/{world.own_patient.external_id}/sessions"
    response = nurse_api.post(url, json.dumps(_session_body(**{field: "L\x00"})), content_type="application/json")
    assert response.status_code == 422
    assert _placed(response.json()["detail"]) == [
        {"loc": ["body", field], "msg": NUL_IN_TEXT.format(field=field), "type": NUL_ERROR_TYPE}
    ]
    assert not InjectionSession.objects.exists()


def test_a_nul_character_in_a_side_effects_description_is_422_at_the_description(world, treated, patient_api):
    """A NUL in a side effect's description is 422 at ``description`` in the diary notes' words; nothing is
    stored."""
    response = _report(patient_api, world, kind="other", description="x\x00y")
    assert response.status_code == 422
    assert _placed(response.json()["detail"]) == [
        {
            "loc": ["body", "description"],
            "msg": "description must not contain the NUL character",
            "type": NUL_ERROR_TYPE,
        }
    ]
    assert not SideEffect.objects.exists()


def test_the_session_operations_docs_name_the_engines_interval(client, db):
    """Recording and moving a booking are described with the interval in weeks from the engine
    (``selectors.interval_weeks``), as are the override reason and the booking warnings."""
    weeks = selectors.interval_weeks()
    paths = client.get("/api/openapi.json").json()["paths"]
    record_doc = paths["/api/patients/{patient_id}/sessions"]["post"]["description"]
    book_doc = paths["/api/sessions/{session_id}/booking"]["put"]["description"]
    assert record_doc == api.SESSION_RECORD_DESCRIPTION
    assert book_doc == api.SESSION_BOOK_DESCRIPTION
    assert f"next one {weeks} weeks later" in record_doc
    assert f"less than {weeks} weeks after" in book_doc


def test_a_misspelt_field_is_422_naming_it_not_a_move_without_the_version_check(world, nurse_api):
    """``verison`` for ``version`` (and any other key the body does not have) is 422 at that key and the booking
    stays put: it was ignored, and the booking moved with no version check."""
    booking = _booking(world)
    url = f"/api/sessions/{booking.external_id}/booking"
    day = (timezone.localdate() + dt.timedelta(days=30)).isoformat()
    body = {"date": day, "verison": booking.version + 5, "foo": 1}
    response = nurse_api.put(url, json.dumps(body), content_type="application/json")
    assert response.status_code == 422
    assert sorted((p["loc"][0], p["loc"][-1], p["type"]) for p in response.json()["detail"]) == [
        ("body", "foo", "extra_forbidden"),
        ("body", "verison", "extra_forbidden"),
    ]
    booking.refresh_from_db()
    assert booking.date != dt.date.fromisoformat(day)
    assert booking.version == 1


def test_an_unknown_key_in_a_site_is_422_at_that_site(world, nurse_api):
    """A key a site does not have (``unit`` for ``units``) is 422 at that site's key; nothing is recorded."""
    body = _session_body()
    body["sites"][3] = {**body["sites"][3], "unit": 5}
    url = f"/api/patients/{world.own_patient.external_id}/sessions"
    response = nurse_api.post(url, json.dumps(body), content_type="application/json")
    assert response.status_code == 422
    (problem,) = response.json()["detail"]
    assert (problem["loc"][0], *problem["loc"][-3:], problem["type"]) == ("body", "sites", 3, "unit", "extra_forbidden")
    assert not InjectionSession.objects.exists()


@pytest.mark.parametrize("field", ["complications", "override_reason"])
def test_a_sessions_text_one_character_over_the_limit_is_422_at_the_field(world, nurse_api, field):
    """Complications and the override reason hold at most ``DESCRIPTION_MAX_LENGTH`` characters, as a side effect's
    description: one more is 422 at that field and nothing is recorded (9,000,000 characters were stored and sent
    back on every read); the limit itself is recorded."""
    url = f"/api/patients/{world.own_patient.external_id}/sessions"
    over = _session_body(**{field: "x" * (DESCRIPTION_MAX_LENGTH + 1)})
    response = nurse_api.post(url, json.dumps(over), content_type="application/json")
    assert response.status_code == 422
    (problem,) = response.json()["detail"]
    assert (problem["loc"][0], problem["loc"][-1], problem["type"]) == ("body", field, "string_too_long")
    assert not InjectionSession.objects.exists()
    at_limit = _session_body(**{field: "x" * DESCRIPTION_MAX_LENGTH})
    response = nurse_api.post(url, json.dumps(at_limit), content_type="application/json")
    if field == "complications":
        assert response.status_code == 201
    else:  # long enough, and refused only because no check failed: a reason then overrides nothing
        assert response.status_code == 422
        (problem,) = response.json()["detail"]
        assert (problem["loc"][-1], problem["msg"]) == ("override_reason", services.OVERRIDE_NOT_NEEDED)


@pytest.mark.parametrize("day", [1764288000, "1764288000", "2025-11-28T00:00:00", "20251128"])
def test_a_booking_date_that_is_not_yyyy_mm_dd_is_422_at_the_date(world, nurse_api, day):
    """A Unix timestamp (number or text), a datetime or a date without dashes is 422 at ``date``; nothing moves."""
    booking = _booking(world)
    url = f"/api/sessions/{booking.external_id}/booking"
    response = nurse_api.put(url, json.dumps({"date": day, "version": 1}), content_type="application/json")
    assert response.status_code == 422
    (problem,) = response.json()["detail"]
    assert (problem["loc"][0], problem["loc"][-1], problem["type"]) == ("body", "date", ISO_DATE_ERROR_TYPE)
    booking.refresh_from_db()
    assert booking.version == 1


def _reported_side_effect(world, patient_api):
    return _report(patient_api, world, kind="neck_pain").json()


@pytest.mark.parametrize("modified", ["2026-01-05T10:00:00", "2026-01-05", 1764288000, "1764288000"])
def test_a_review_whose_modified_has_no_time_zone_is_422_not_a_conflict(
    world, treated, patient_api, nurse_api, modified
):
    """``modified`` without a time zone (or a date, or a Unix timestamp) is 422 at ``modified``: it was compared
    with the stored time and answered with a false 409."""
    reported = _reported_side_effect(world, patient_api)
    url = f"/api/side-effects/{reported['id']}/review"
    body = {"grade": "mild", "related_to_treatment": True, "modified": modified}
    response = nurse_api.post(url, json.dumps(body), content_type="application/json")
    assert response.status_code == 422
    (problem,) = response.json()["detail"]
    assert (problem["loc"][0], problem["loc"][-1]) == ("body", "modified")
    assert SideEffect.objects.get().clinician_grade == ""


def test_a_review_with_the_modified_it_read_is_saved(world, treated, patient_api, nurse_api):
    """The ``modified`` the API answered with, sent back as it was, is taken (a nurse's first review at the patient's
    own severity, related: a nurse may not grade below it nor call it unrelated before a clinician has reviewed)."""
    reported = _reported_side_effect(world, patient_api)
    url = f"/api/side-effects/{reported['id']}/review"
    body = {"grade": reported["severity"], "related_to_treatment": True, "modified": reported["modified"]}
    assert nurse_api.post(url, json.dumps(body), content_type="application/json").status_code == 200


@pytest.mark.parametrize("related", [0, 1, "true", "no"])
def test_related_to_treatment_is_true_false_or_null_only(world, treated, patient_api, nurse_api, related):
    """``related_to_treatment`` is a JSON boolean or null: 0, 1 or text is 422 at the field."""
    reported = _reported_side_effect(world, patient_api)
    url = f"/api/side-effects/{reported['id']}/review"
    body = {"grade": "mild", "related_to_treatment": related}
    response = nurse_api.post(url, json.dumps(body), content_type="application/json")
    assert response.status_code == 422
    assert {p["loc"][-1] for p in response.json()["detail"]} == {"related_to_treatment"}


def test_a_report_sent_again_with_its_submission_key_stores_one(world, treated, patient_api):
    """A report sent twice with the same ``submission`` key (a client retrying after a lost answer) stores one side
    effect and answers 201 with it both times; a new key is another report, and a report without one is stored as
    before."""
    key = str(uuid.uuid4())
    first, again = (_report(patient_api, world, kind="myalgia", submission=key) for _ in range(2))
    assert (first.status_code, again.status_code) == (201, 201)
    assert first.json()["id"] == again.json()["id"]
    assert SideEffect.objects.count() == 1
    assert _report(patient_api, world, kind="myalgia", submission=str(uuid.uuid4())).status_code == 201
    assert _report(patient_api, world, kind="myalgia").status_code == 201
    assert SideEffect.objects.count() == 3


def test_a_submission_key_sent_again_with_other_answers_is_409(world, treated, patient_api):
    """The same ``submission`` key with other answers is 409 saying so (SUBMISSION_TAKEN), nothing more stored."""
    key = str(uuid.uuid4())
    _report(patient_api, world, kind="myalgia", submission=key)
    response = _report(patient_api, world, kind="dysphagia", submission=key)
    assert response.status_code == 409
    assert response.json() == {"detail": api.SUBMISSION_TAKEN}
    assert SideEffect.objects.count() == 1


def test_a_patient_gets_no_checks_override_or_warnings_of_their_session(world, patient_api, nurse_api):
    """The checks at recording, their override and the warnings stored with them are the care team's notes: the
    patient's API, like their session page, gives the complications but not those; the nurse gets them. The
    injector's login name is the team's too."""
    today = timezone.localdate()
    session = record(
        user=world.users["nurse"],
        patient=world.own_patient,
        date=today,
        today=today,
        sites=fixed_entries(trapezius_right_3=0),
        override_reason="Fainted before the last site.",
        complications="Vasovagal, recovered",
    )
    own = patient_api.get(f"/api/sessions/{session.external_id}").json()
    assert (own["override_reason"], own["overridden_checks"], own["check_reasons"]) == (None, None, None)
    assert own["complications"] == "Vasovagal, recovered"
    assert own["injector"] is None
    listed = patient_api.get(f"/api/patients/{world.own_patient.external_id}/sessions").json()
    assert all(row["check_reasons"] is None for row in listed)
    staff = nurse_api.get(f"/api/sessions/{session.external_id}").json()
    assert staff["override_reason"] == "Fainted before the last site."
    assert staff["injector"] == "nurse"
    assert any(line.startswith("chronic_migraine: ") for line in staff["check_reasons"])


def test_a_side_effect_of_a_patient_never_treated_or_before_the_first_session_is_422(world, patient_api, nurse_api):
    """A report for a patient with no recorded session is 422 for the whole body (NO_SESSION_YET; staff reporting
    on the patient's behalf are given NO_SESSION_YET_STAFF), nothing stored: the API asks the report form's rule.
    Once a session is recorded, an onset the day before it is 422 at ``onset``, and one on its day is stored."""
    untreated = _report(patient_api, world, kind="neck_pain")
    assert untreated.status_code == 422
    assert untreated.json()["detail"] == [
        {"loc": ["body", "__all__"], "msg": services.NO_SESSION_YET, "type": "value_error"}
    ]
    by_staff = _report(nurse_api, world, kind="neck_pain")
    assert by_staff.json()["detail"][0]["msg"] == services.NO_SESSION_YET_STAFF
    assert not SideEffect.objects.exists()
    day = timezone.localdate() - dt.timedelta(days=30)
    InjectionSession.objects.create(patient=world.own_patient, date=day, status=SessionStatus.RECORDED)
    before = _report(patient_api, world, kind="neck_pain", onset=(day - dt.timedelta(days=1)).isoformat())
    assert before.status_code == 422
    (problem,) = before.json()["detail"]
    assert problem["loc"] == ["body", "onset"]
    assert problem["msg"].startswith("It started on ")
    assert "before your first BOTOX session" in problem["msg"]
    assert not SideEffect.objects.exists()
    on_the_day = _report(patient_api, world, kind="neck_pain", onset=day.isoformat())
    assert on_the_day.status_code == 201
    assert on_the_day.json()["session_date"] == day.isoformat()


def test_a_session_recorded_for_the_clinician_who_injected_names_them_and_the_trail_names_the_recorder(
    world, nurse_api
):
    """A nurse recording for the clinician who injected names them in ``injector``: the session's injector is the
    clinician, the audit event's user the nurse, its detail naming the injector; omitted, the injector is the
    caller, and the detail names no one else."""
    url = f"/api/patients/{world.own_patient.external_id}/sessions"
    today = timezone.localdate()
    body = _session_body(date=(today - dt.timedelta(days=100)).isoformat(), injector="clinician")
    response = nurse_api.post(url, json.dumps(body), content_type="application/json")
    assert response.status_code == 201, response.json()
    assert response.json()["injector"] == "clinician"
    session = InjectionSession.objects.get(external_id=response.json()["id"])
    assert session.injector == world.users["clinician"]
    event = AuditEvent.objects.get(object_type="injection_session", object_id=str(session.external_id))
    assert event.user == world.users["nurse"]
    assert event.detail.endswith("; injected by clinician")
    own = nurse_api.post(url, json.dumps(_session_body()), content_type="application/json")
    assert own.status_code == 201, own.json()
    assert own.json()["injector"] == "nurse"
    mine = AuditEvent.objects.get(object_type="injection_session", object_id=own.json()["id"], action=Action.UPDATE)
    assert "injected by" not in mine.detail


@pytest.mark.parametrize("who", ["billing", "patient", "admin", "far.clinician", "gone.nurse", "nobody"])
def test_an_injector_who_may_not_inject_for_the_patient_is_422_at_injector(world, nurse_api, who):
    """A billing, administrator's or patient's account, a clinician of another clinic, a closed nurse's account, or
    a name of no one, is 422 at ``injector`` (one message for all: nothing is told of other clinics' accounts);
    nothing is recorded."""
    UserFactory(username="far.clinician", role=Role.CLINICIAN, clinic=world.other_clinic)
    UserFactory(username="gone.nurse", role=Role.NURSE, clinic=world.clinic, is_active=False)
    url = f"/api/patients/{world.own_patient.external_id}/sessions"
    response = nurse_api.post(url, json.dumps(_session_body(injector=who)), content_type="application/json")
    assert response.status_code == 422
    assert response.json()["detail"] == [
        {"loc": ["body", "injector"], "msg": services.INJECTOR_NOT_ALLOWED, "type": "value_error"}
    ]
    assert not InjectionSession.objects.exists()
