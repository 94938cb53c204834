"""The worklist API's side effects to review, missed bookings and scheduling flags, and the bounds of its search
(onaboard/web/clinic/api.py, schemas.py); the rest of the worklist API is tested in tests/web/api/test_clinic.py."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from onaboard.clinical import RETREATMENT_INTERVAL_DAYS
from onaboard.web.accounts.models import ApiToken
from onaboard.web.clinic.selectors import SEARCH_MAX_LENGTH
from onaboard.web.common.schema_types import NUL_ERROR_TYPE, NUL_IN_TEXT
from onaboard.web.injections.models import SessionStatus, Severity, SideEffect, SideEffectKind
from tests.web.factories import InjectionSessionFactory

pytestmark = pytest.mark.django_db


def _api(user) -> Client:
    """A client sending the user's bearer token."""
    _token, raw = ApiToken.issue(user, "worklist tests")
    return Client(headers={"Authorization": f"Bearer {raw}"})


def _report(patient, kind, *, hours_ago, reviewed=False):
    """A side effect of ``kind`` the patient reported ``hours_ago`` hours ago (onset the day before)."""
    reported = timezone.now() - dt.timedelta(hours=hours_ago)
    effect = SideEffect.objects.create(
        patient=patient, kind=kind, onset=timezone.localdate() - dt.timedelta(days=1), severity=Severity.MODERATE
    )
    SideEffect.objects.filter(pk=effect.pk).update(created=reported, reviewed_at=timezone.now() if reviewed else None)
    effect.refresh_from_db()
    return effect


def test_the_worklist_api_lists_side_effects_to_review_urgent_first(world):
    """/api/worklist keeps its keys and adds the clinic's unreviewed side effects, urgent first, each with its
    patient, kind, severity, onset and when it was reported; reviewed and other clinics' reports are left out."""
    mild = _report(world.own_patient, SideEffectKind.NECK_PAIN, hours_ago=1)
    urgent = _report(world.same_clinic_patient, SideEffectKind.DYSPHAGIA, hours_ago=30)
    _report(world.same_clinic_patient, SideEffectKind.DIPLOPIA, hours_ago=2, reviewed=True)
    _report(world.other_clinic_patient, SideEffectKind.BREATHING, hours_ago=1)
    body = _api(world.users["nurse"]).get("/api/worklist", {"q": "Own"}).json()
    assert set(body) == {
        "groups",
        "counts",
        "approval_counts",
        "needs_attention",
        "total",
        "side_effects_to_review",
        "side_effects_to_review_total",
    }
    assert body["side_effects_to_review_total"] == 2
    listed = body["side_effects_to_review"]
    assert [item["id"] for item in listed] == [str(urgent.external_id), str(mild.external_id)]
    first = listed[0]
    assert first["patient"] == {
        "id": str(world.same_clinic_patient.external_id),
        "record_number": world.same_clinic_patient.record_number,
        "given_name": "Sam",
        "family_name": "Same",
    }
    assert (first["kind"], first["kind_label"], first["urgent"], first["severity"]) == (
        "dysphagia",
        "trouble swallowing",
        True,
        "moderate",
    )
    assert first["onset"] == urgent.onset.isoformat()
    assert dt.datetime.fromisoformat(first["reported_at"]) == urgent.created.replace(
        microsecond=urgent.created.microsecond // 1000 * 1000
    )
    assert listed[1]["urgent"] is False


@pytest.mark.parametrize("role", ["billing", "admin"])
def test_billing_staff_get_no_side_effects_to_review_from_the_api(world, role):
    """Billing staff and administrators get the worklist with an empty list of side effects, an urgent one waiting."""
    _report(world.same_clinic_patient, SideEffectKind.GENERALISED_WEAKNESS, hours_ago=1)
    body = _api(world.users[role]).get("/api/worklist").json()
    assert body["total"] == 2
    assert body["side_effects_to_review"] == []


def test_a_search_holding_a_nul_character_is_422_at_q(world):
    """``q`` with a NUL character (a server error on PostgreSQL) is 422 at ``q`` in the diary notes' words."""
    response = _api(world.users["nurse"]).get("/api/worklist", {"q": "Sa\x00me"})
    assert response.status_code == 422
    assert response.json()["detail"] == [
        {"loc": ["query", "q"], "msg": NUL_IN_TEXT.format(field="q"), "type": NUL_ERROR_TYPE}
    ]


def test_a_search_of_more_than_100_characters_is_422_at_q(world):
    """``q`` of 101 characters is 422 at ``q``; one of 100 is answered."""
    client = _api(world.users["nurse"])
    assert SEARCH_MAX_LENGTH == 100
    response = client.get("/api/worklist", {"q": "same " * 20 + "x"})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", "q"]
    assert response.json()["detail"][0]["msg"] == "String should have at most 100 characters"
    assert client.get("/api/worklist", {"q": "same " * 20}).json()["total"] == 1


def test_the_worklist_and_pathway_apis_carry_the_missed_booking_and_the_schedule_flag(world):
    """A row whose open booking has passed carries its day (``missed_booking``, ``booked_for`` null) and one booked
    before the 12-week date its ``schedule_flag``; the pathway operation carries both as the row does, and a row
    without either has them null."""
    today = timezone.localdate()
    missed = today - dt.timedelta(days=2)
    InjectionSessionFactory(patient=world.own_patient, date=missed, status=SessionStatus.BOOKED)
    last = today - dt.timedelta(days=30)
    InjectionSessionFactory(patient=world.same_clinic_patient, date=last, status=SessionStatus.RECORDED)
    early = last + dt.timedelta(days=RETREATMENT_INTERVAL_DAYS - 1)
    InjectionSessionFactory(patient=world.same_clinic_patient, date=early, status=SessionStatus.BOOKED)
    client = _api(world.users["billing"])
    body = client.get("/api/worklist").json()
    rows = {row["patient"]["id"]: row for group in body["groups"] for row in group["rows"]}
    own, same = rows[str(world.own_patient.external_id)], rows[str(world.same_clinic_patient.external_id)]
    assert (own["booked_for"], own["missed_booking"], own["schedule_flag"]) == (None, missed.isoformat(), None)
    assert (same["state"], same["booked_for"], same["missed_booking"], same["schedule_flag"]) == (
        "booked",
        early.isoformat(),
        None,
        "booked_before_due",
    )
    clinician = _api(world.users["clinician"])
    pathway = clinician.get(f"/api/patients/{world.own_patient.external_id}/pathway").json()
    assert (pathway["missed_booking"], pathway["schedule_flag"]) == (missed.isoformat(), None)
    pathway = clinician.get(f"/api/patients/{world.same_clinic_patient.external_id}/pathway").json()
    assert (pathway["missed_booking"], pathway["schedule_flag"]) == (None, "booked_before_due")
