"""Injection API operations: the plan, sessions and side effects (onaboard/web/injections/api.py)."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from onaboard.clinical import FIXED_DOSE_UNITS, FIXED_SITE_COUNT, PlanError, preempt_plan
from onaboard.serialize import plan_json
from onaboard.web.audit.models import Action, AuditEvent
from onaboard.web.common.errors import problem_place
from onaboard.web.injections import services
from onaboard.web.injections.models import InjectionSession, SessionStatus, SideEffect
from tests.web.factories import InjectionSessionFactory


@pytest.fixture
def today():
    return timezone.localdate()


@pytest.fixture
def treated(world, today) -> InjectionSession:
    """A session recorded for the patient with a portal account 100 days ago: a side effect follows one."""
    day = today - timedelta(days=100)
    return InjectionSession.objects.create(patient=world.own_patient, date=day, status=SessionStatus.RECORDED)


def _preempt_sites(**follow_the_pain):
    plan = preempt_plan(follow_the_pain=follow_the_pain)
    return [
        {"muscle": s.muscle.value, "side": s.side.value, "units": s.units, "follow_the_pain": s.follow_the_pain}
        for s in plan.sites
    ]


def _session_body(day, **changes):
    body = {
        "date": day.isoformat(),
        "sites": _preempt_sites(),
        "vial_units": 200,
        "product_lot": "C1234AB",
        "product_expiry": (day + timedelta(days=200)).isoformat(),
    }
    return {**body, **changes}


def _post(client, url, body):
    return client.post(url, json.dumps(body), content_type="application/json")


def _record(client, patient, body):
    return _post(client, f"/api/patients/{patient.external_id}/sessions", body)


# --- The plan -----------------------------------------------------------------------------------------------------


def test_the_plan_is_the_engines_json(world, api_as):
    """The default plan is the 31 fixed sites (155 U), exactly onaboard.serialize.plan_json of preempt_plan."""
    body = api_as("trainee").get("/api/plan").json()
    assert (body["site_count"], body["total_units"]) == (FIXED_SITE_COUNT, FIXED_DOSE_UNITS)
    assert body == json.loads(json.dumps(plan_json(preempt_plan())))


def test_follow_the_pain_sites_are_added(world, api_as):
    """Asking for two temporalis sites adds them to the plan."""
    body = api_as("nurse").get("/api/plan", {"temporalis": 2}).json()
    assert body["site_count"] == FIXED_SITE_COUNT + 2


def test_a_plan_the_engine_refuses_is_422_with_its_reasons(world, api_as):
    """Too many trapezius sites and a wrong vial size are both reported."""
    response = api_as("nurse").get("/api/plan", {"trapezius": 5, "vial_units": 150})
    assert response.status_code == 422
    assert len(response.json()["detail"]) == 2


def test_the_plan_needs_a_signed_in_caller(client, world):
    """Without a token the plan is 401."""
    assert client.get("/api/plan").status_code == 401


# --- Recording ----------------------------------------------------------------------------------------------------


def test_a_nurse_records_a_session_and_the_next_is_booked(world, api_as, today):
    """Recording stores sites, units, vials and wastage, books the next session, and is audited."""
    patient = world.same_clinic_patient
    response = _record(api_as("nurse"), patient, _session_body(today))
    assert response.status_code == 201
    body = response.json()
    assert (body["status"], body["total_units"], body["vials_used"], body["discarded_units"]) == (
        "recorded",
        155,
        1,
        45,
    )
    assert len(body["sites"]) == FIXED_SITE_COUNT
    assert body["plan"]["billing_modifier"] == "JW"
    booked = InjectionSession.objects.get(patient=patient, status=SessionStatus.BOOKED)
    assert booked.date == today + timedelta(days=84)
    assert AuditEvent.objects.filter(object_type="injection_session", action=Action.CREATE).count() == 2


def test_recording_the_same_day_twice_is_a_conflict(world, api_as, today):
    """A second recording of the same day is 409 with the service's message and writes nothing."""
    patient = world.same_clinic_patient
    _record(api_as("nurse"), patient, _session_body(today))
    response = _record(api_as("clinician"), patient, _session_body(today))
    assert response.status_code == 409
    assert response.json()["detail"] == services.SESSION_ALREADY_RECORDED.format(date=today)
    assert InjectionSession.objects.filter(patient=patient, status=SessionStatus.RECORDED).count() == 1


def test_every_input_problem_is_listed(world, api_as, today):
    """A blank lot and an expired product are both reported as 422 next to their fields."""
    body = _session_body(today, product_lot=" ", product_expiry=(today - timedelta(days=1)).isoformat())
    response = _record(api_as("nurse"), world.same_clinic_patient, body)
    assert response.status_code == 422
    fields = [problem["loc"][1] for problem in response.json()["detail"]]
    assert fields == ["product_lot", "product_expiry"]


def test_a_vial_size_the_label_has_not_is_refused_at_vial_units(world, api_as, today):
    """A 150 U vial is refused next to ``vial_units`` (it was reported at ``sites``), and nothing is recorded."""
    response = _record(api_as("nurse"), world.same_clinic_patient, _session_body(today, vial_units=150))
    assert response.status_code == 422
    assert [problem["loc"][1] for problem in response.json()["detail"]] == ["vial_units"]
    assert not InjectionSession.objects.filter(status=SessionStatus.RECORDED).exists()


def test_a_failed_check_needs_an_override_reason(world, api_as, today):
    """Within 12 weeks of the last session recording is refused with the engine's reasons until overridden."""
    patient = world.same_clinic_patient
    client = api_as("clinician")
    _record(client, patient, _session_body(today - timedelta(days=30)))
    InjectionSession.objects.filter(status=SessionStatus.BOOKED).delete()
    refused = _record(client, patient, _session_body(today))
    assert refused.status_code == 422
    locs = [problem["loc"][1] for problem in refused.json()["detail"]]
    assert locs[0] == "override_reason"
    assert "checks.interval" in locs
    accepted = _record(client, patient, _session_body(today, override_reason="Severe relapse; discussed."))
    assert accepted.status_code == 201
    assert accepted.json()["overridden_checks"] == ["interval"]
    assert AuditEvent.objects.filter(object_type="injection_session_override").exists()


def test_a_session_without_an_approval_is_422_naming_the_prior_authorisation_check(world, api_as, today):
    """A commercial payer's patient whose only request was denied: 422 with the check's reason under
    ``checks.prior_authorisation`` (naming the denial) until overridden; with a reason, 201 naming the check."""
    from onaboard.web.coverage.models import PatientInsurance, PriorAuthorisation

    patient = world.same_clinic_patient
    PatientInsurance.objects.create(patient=patient, policy_id="us-commercial-c", terms_as_of=today)
    requested, denied = today - timedelta(days=15), today - timedelta(days=5)
    PriorAuthorisation.objects.create(
        patient=patient,
        policy_id="us-commercial-c",
        diagnosis_code="G43.719",
        requested_on=requested,
        status="denied",
        decided_on=denied,
    )
    client = api_as("clinician")
    refused = _record(client, patient, _session_body(today))
    assert refused.status_code == 422
    reasons = [(p["loc"][1], p["msg"]) for p in refused.json()["detail"] if p["loc"][1].startswith("checks.")]
    assert reasons == [
        (
            "checks.prior_authorisation",
            (
                f"no prior authorisation is in force on {today}: the payer denied the initial request of "
                f"{requested} on {denied}"
            ),
        )
    ]
    accepted = _record(client, patient, _session_body(today, override_reason="Appeal sent; the patient self-pays."))
    assert accepted.status_code == 201
    assert accepted.json()["overridden_checks"] == ["prior_authorisation"]


@pytest.mark.parametrize("role", ["patient", "billing", "admin", "trainee"])
def test_only_clinical_staff_record(world, api_as, today, role):
    """Patients, billing staff, administrators and trainees cannot record a session: 404, nothing written."""
    patient = world.own_patient
    response = _record(api_as(role), patient, _session_body(today))
    assert response.status_code == 404
    assert not InjectionSession.objects.exists()


def test_a_booking_of_another_patient_cannot_be_used(world, api_as, today):
    """booking_id must be one of this patient's sessions."""
    other = InjectionSessionFactory(patient=world.own_patient, date=today)
    body = _session_body(today, booking_id=str(other.external_id))
    response = _record(api_as("nurse"), world.same_clinic_patient, body)
    assert response.status_code == 422


# --- Reading sessions ---------------------------------------------------------------------------------------------


def test_billing_staff_see_sessions_without_clinical_notes(world, api_as, today):
    """Billing staff get products, units and codes, but no override reasons, checks or complications."""
    patient = world.same_clinic_patient
    _record(api_as("nurse"), patient, _session_body(today, complications="vasovagal episode"))
    sessions = api_as("billing").get(f"/api/patients/{patient.external_id}/sessions").json()
    recorded = next(s for s in sessions if s["status"] == "recorded")
    assert recorded["total_units"] == 155
    assert recorded["plan"]["billing"]
    assert recorded["complications"] is None
    assert recorded["check_reasons"] is None


def test_clinical_staff_see_the_complications(world, api_as, today):
    """Clinicians read the whole session, audited."""
    patient = world.same_clinic_patient
    created = _record(api_as("nurse"), patient, _session_body(today, complications="vasovagal episode")).json()
    body = api_as("clinician").get(f"/api/sessions/{created['id']}").json()
    assert body["complications"] == "vasovagal episode"
    assert AuditEvent.objects.filter(action=Action.READ, object_type="injection_session").exists()


def test_a_patient_reads_their_own_sessions_only(world, api_as, today):
    """A patient lists their own sessions; another patient's session id is 404."""
    own = InjectionSessionFactory(patient=world.own_patient, date=today + timedelta(days=5))
    other = InjectionSessionFactory(patient=world.same_clinic_patient, date=today + timedelta(days=5))
    client = api_as("patient")
    assert [s["id"] for s in client.get(f"/api/patients/{world.own_patient.external_id}/sessions").json()] == [
        str(own.external_id)
    ]
    assert client.get(f"/api/sessions/{other.external_id}").status_code == 404


def test_a_session_or_side_effect_out_of_reach_is_refused_as_if_it_did_not_exist(world, api_as, today):
    """Another patient's session or side effect gets the same 404 body as an id nobody has, so the answer does not
    tell whether the record exists; both refusals are audited alike, as the id asked (the trail does not tell them
    apart either, but for the patient named where the id is one's)."""
    other = InjectionSessionFactory(patient=world.same_clinic_patient, date=today + timedelta(days=5))
    effect = SideEffect.objects.create(
        patient=world.same_clinic_patient, kind="neck_pain", onset=today, severity="mild", description=""
    )
    client = api_as("patient")
    for address, record in (("sessions", other), ("side-effects", effect)):
        refused = client.get(f"/api/{address}/{record.external_id}")
        unknown = client.get(f"/api/{address}/{uuid.uuid4()}")
        assert (refused.status_code, unknown.status_code) == (404, 404)
        assert refused.json() == unknown.json()
    denied = AuditEvent.objects.filter(action=Action.DENIED).order_by("pk")
    assert [event.object_type for event in denied] == ["injection_session"] * 2 + ["side_effect"] * 2
    assert [event.patient_id is None for event in denied] == [False, True, False, True]


# --- Moving a booking ---------------------------------------------------------------------------------------------


def test_a_booking_is_moved_with_its_version(world, api_as, today):
    """PUT moves the booking; a stale version is 409."""
    booking = InjectionSessionFactory(patient=world.same_clinic_patient, date=today + timedelta(days=10))
    client = api_as("nurse")
    url = f"/api/sessions/{booking.external_id}/booking"
    moved = client.put(
        url,
        json.dumps({"date": (today + timedelta(days=12)).isoformat(), "version": 1}),
        content_type="application/json",
    )
    assert moved.status_code == 200
    assert moved.json()["version"] == 2
    stale = client.put(
        url,
        json.dumps({"date": (today + timedelta(days=14)).isoformat(), "version": 1}),
        content_type="application/json",
    )
    assert stale.status_code == 409


@pytest.mark.parametrize("version", [True, "2", 2.0])
def test_a_bookings_version_is_a_json_integer(world, api_as, today, version):
    """The version a move is checked against is a JSON integer: true, "2" or 2.0 are 422 at ``version`` and the
    booking stays (pydantic would read true as 1, so a client's slip could pass the check against version 1)."""
    booking = InjectionSessionFactory(patient=world.same_clinic_patient, date=today + timedelta(days=10))
    response = api_as("nurse").put(
        f"/api/sessions/{booking.external_id}/booking",
        json.dumps({"date": (today + timedelta(days=12)).isoformat(), "version": version}),
        content_type="application/json",
    )
    assert response.status_code == 422
    assert [problem["loc"] for problem in response.json()["detail"]] == [["body", "version"]]
    booking.refresh_from_db()
    assert booking.date == today + timedelta(days=10)


# --- Side effects -------------------------------------------------------------------------------------------------


def test_a_patient_reports_an_urgent_side_effect(world, api_as, today, treated):
    """A patient reports trouble swallowing; it is saved, marked urgent and audited."""
    body = {"kind": "dysphagia", "onset": today.isoformat(), "severity": "moderate"}
    response = _post(api_as("patient"), f"/api/patients/{world.own_patient.external_id}/side-effects", body)
    assert response.status_code == 201
    assert response.json()["urgent"] is True
    assert SideEffect.objects.get().reported_by == world.users["patient"]
    assert AuditEvent.objects.get(object_type="side_effect").action == Action.CREATE


def test_a_side_effect_in_the_future_is_refused(world, api_as, today, treated):
    """An onset after today is 422 with the service's message."""
    body = {"kind": "neck_pain", "onset": (today + timedelta(days=1)).isoformat(), "severity": "mild"}
    response = _post(api_as("patient"), f"/api/patients/{world.own_patient.external_id}/side-effects", body)
    assert response.status_code == 422
    assert response.json()["detail"][0]["msg"] == services.ONSET_IN_FUTURE.format(today=today)


def test_an_unknown_kind_is_refused(world, api_as, today):
    """A kind outside the list is 422 and nothing is saved."""
    body = {"kind": "hiccups", "onset": today.isoformat(), "severity": "mild"}
    response = _post(api_as("patient"), f"/api/patients/{world.own_patient.external_id}/side-effects", body)
    assert response.status_code == 422
    assert not SideEffect.objects.exists()


def test_a_patient_cannot_report_for_another(world, api_as, today):
    """Reporting on another patient's record is 404."""
    body = {"kind": "neck_pain", "onset": today.isoformat(), "severity": "mild"}
    response = _post(api_as("patient"), f"/api/patients/{world.same_clinic_patient.external_id}/side-effects", body)
    assert response.status_code == 404
    assert not SideEffect.objects.exists()


def test_a_clinician_reviews_a_side_effect(world, api_as, today):
    """The clinician grades it and attributes it to the patient's recorded session; the list shows the review."""
    patient = world.own_patient
    session = _record(api_as("nurse"), patient, _session_body(today - timedelta(days=3))).json()
    body = {"kind": "neck_pain", "onset": today.isoformat(), "severity": "mild"}
    reported = _post(api_as("patient"), f"/api/patients/{patient.external_id}/side-effects", body).json()
    assert reported["session_id"] == session["id"]
    review = {"grade": "moderate", "related_to_treatment": True, "session_id": session["id"]}
    response = _post(api_as("clinician"), f"/api/side-effects/{reported['id']}/review", review)
    assert response.status_code == 200
    listed = api_as("clinician").get(f"/api/patients/{patient.external_id}/side-effects").json()
    assert (listed[0]["clinician_grade"], listed[0]["related_to_treatment"]) == ("moderate", True)


def test_a_review_cannot_name_another_patients_session(world, api_as, today, treated):
    """Attributing a side effect to a session of someone else is 422."""
    other = _record(api_as("nurse"), world.same_clinic_patient, _session_body(today)).json()
    body = {"kind": "neck_pain", "onset": today.isoformat(), "severity": "mild"}
    reported = _post(api_as("patient"), f"/api/patients/{world.own_patient.external_id}/side-effects", body).json()
    review = {"grade": "mild", "related_to_treatment": None, "session_id": other["id"]}
    response = _post(api_as("clinician"), f"/api/side-effects/{reported['id']}/review", review)
    assert response.status_code == 422


def test_a_review_leaving_out_the_session_keeps_the_link(world, api_as, today, treated):
    """A review without ``session_id`` keeps the session the report was linked to (it was silently cleared);
    an explicit null unlinks it, and a session given after the onset is refused."""
    patient = world.own_patient
    session = _record(api_as("nurse"), patient, _session_body(today - timedelta(days=3))).json()
    body = {"kind": "neck_pain", "onset": (today - timedelta(days=4)).isoformat(), "severity": "mild"}
    earlier = _post(api_as("patient"), f"/api/patients/{patient.external_id}/side-effects", body).json()
    body["onset"] = today.isoformat()
    reported = _post(api_as("patient"), f"/api/patients/{patient.external_id}/side-effects", body).json()
    url = f"/api/side-effects/{reported['id']}/review"
    kept = _post(api_as("clinician"), url, {"grade": "moderate", "related_to_treatment": True}).json()
    assert kept["session_id"] == session["id"]
    unlinked = {"grade": "moderate", "related_to_treatment": None, "session_id": None}
    no_reason = _post(api_as("clinician"), url, unlinked)  # "related" withdrawn: the review says why
    assert no_reason.status_code == 422
    assert no_reason.json()["detail"][0]["loc"] == ["body", "reason"]
    unlinked["reason"] = "Onset before the session on review of the diary."
    assert _post(api_as("clinician"), url, unlinked).json()["session_id"] is None
    late = {"grade": "mild", "related_to_treatment": True, "session_id": session["id"]}
    refused = _post(api_as("clinician"), f"/api/side-effects/{earlier['id']}/review", late)
    assert refused.status_code == 422
    assert "was given after this side effect began" in refused.json()["detail"][0]["msg"]
    assert refused.json()["detail"][0]["loc"] == ["body", "session_id"]  # the body's name, not the service's


def test_a_review_of_a_side_effect_changed_since_it_was_read_is_a_conflict(world, api_as, today, treated):
    """Two clinicians review from the same reading: the second, sending the ``modified`` it read, gets 409 instead
    of silently overwriting the first review (as the review form refuses it)."""
    body = {"kind": "neck_pain", "onset": today.isoformat(), "severity": "mild"}
    reported = _post(api_as("patient"), f"/api/patients/{world.own_patient.external_id}/side-effects", body).json()
    url = f"/api/side-effects/{reported['id']}/review"
    first = {"grade": "mild", "related_to_treatment": True, "modified": reported["modified"]}
    assert _post(api_as("clinician"), url, first).status_code == 200
    second = {"grade": "severe", "related_to_treatment": False, "modified": reported["modified"]}
    response = _post(api_as("nurse"), url, second)
    assert response.status_code == 409
    assert response.json()["detail"] == services.REVIEW_CHANGED
    assert SideEffect.objects.get().clinician_grade == "mild"


def test_text_longer_than_the_record_keeps_is_refused_at_its_field(world, api_as, today):
    """A lot longer than the record's column (a 500 on PostgreSQL, a sessions CSV that would not read back on
    SQLite) and a description longer than the report form allows are 422 at their fields, nothing stored."""
    response = _record(api_as("nurse"), world.own_patient, _session_body(today, product_lot="L" * 41))
    assert response.status_code == 422
    assert problem_place(response.json()["detail"][0]["loc"]) == ["body", "product_lot"]
    body = {"kind": "neck_pain", "onset": today.isoformat(), "severity": "mild", "description": "x" * 2001}
    response = _post(api_as("patient"), f"/api/patients/{world.own_patient.external_id}/side-effects", body)
    assert response.status_code == 422
    assert not SideEffect.objects.exists()
    assert not InjectionSession.objects.filter(status=SessionStatus.RECORDED).exists()


def test_a_session_no_longer_booked_cannot_be_moved_and_says_so_with_409(world, api_as, today):
    """Moving a booking that was recorded meanwhile is a conflict (409), as the operation documents."""
    booking = InjectionSessionFactory(patient=world.own_patient, date=today)
    client = api_as("nurse")
    assert _record(client, world.own_patient, _session_body(today)).status_code == 201
    url = f"/api/sessions/{booking.external_id}/booking"
    body = {"date": (today + timedelta(days=7)).isoformat(), "version": 1}
    response = client.put(url, json.dumps(body), content_type="application/json")
    assert response.status_code == 409
    assert "this one is recorded" in response.json()["detail"]


def test_map_points_the_session_screen_would_drop_are_dropped_from_the_api_too(world, api_as, today):
    """A fixed site sits on its drawing position and a follow-the-pain point outside its muscle's area is drawn
    on its default spot, whatever the API was sent (one rule, ``sitemap.clicked_point``)."""
    from onaboard.web.injections import sitemap

    sites = _preempt_sites(temporalis=1)
    for site in sites:
        site.update(view="back", x=1000, y=0)
    response = _record(api_as("nurse"), world.own_patient, _session_body(today, sites=sites))
    assert response.status_code == 201
    placed = response.json()["sites"]
    assert not any((s["view"], s["x"], s["y"]) == ("back", 1000, 0) for s in placed)
    (extra,) = [s for s in placed if s["follow_the_pain"]]
    default = sitemap.follow_the_pain_default(extra["muscle"], extra["side"], 1)
    assert (extra["view"], extra["x"], extra["y"]) == (default.view.value, default.x, default.y)


def test_a_patient_cannot_review(world, api_as, today, treated):
    """Grading is for clinical staff: a patient's review of their own report is 404."""
    body = {"kind": "neck_pain", "onset": today.isoformat(), "severity": "mild"}
    reported = _post(api_as("patient"), f"/api/patients/{world.own_patient.external_id}/side-effects", body).json()
    review = {"grade": "mild", "related_to_treatment": None}
    assert _post(api_as("patient"), f"/api/side-effects/{reported['id']}/review", review).status_code == 404


def test_a_dose_off_the_label_needs_an_override_through_the_api_too(world, api_as, today):
    """40 U at one temporalis follow-the-pain site (80 U in the muscle, above its 50 U maximum) is 422 naming the
    dose-per-site check, as the session screen refuses it; with a reason it is recorded as given."""
    sites = [*_preempt_sites(), {"muscle": "temporalis", "side": "left", "units": 40, "follow_the_pain": True}]
    refused = _record(api_as("nurse"), world.own_patient, _session_body(today, sites=sites))
    assert refused.status_code == 422
    assert [p["loc"][-1] for p in refused.json()["detail"] if p["loc"][-1].startswith("checks.")] == [
        "checks.site_dose",
        "checks.site_dose",
    ]
    body = _session_body(today, sites=sites, override_reason="tender left temple; discussed with the patient")
    recorded = _record(api_as("nurse"), world.own_patient, body)
    assert recorded.status_code == 201
    assert recorded.json()["overridden_checks"] == ["site_dose"]


def test_each_plan_problem_is_at_its_query_parameter(world, api_as):
    """A wrong vial size is at ``vial_units`` and too many trapezius sites at ``trapezius`` (both were at a
    parameter ``plan`` the operation does not have), in the engine's words."""
    response = api_as("nurse").get("/api/plan", {"trapezius": 5, "vial_units": 150, "temporalis": 1})
    assert response.status_code == 422
    places = {tuple(problem["loc"]): problem["msg"] for problem in response.json()["detail"]}
    assert set(places) == {("query", "vial_units"), ("query", "trapezius")}
    with pytest.raises(PlanError) as vial:
        preempt_plan(vial_units=150)
    assert places[("query", "vial_units")] == vial.value.problems[0]
