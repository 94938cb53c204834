"""Diary API operations (onaboard/web/diary/api.py)."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from onaboard.clinical import assess
from onaboard.clinical.diary import BAD_HOURS, INTENSITY_REQUIRED, NUL_IN_NOTES
from onaboard.serialize import assessment_json
from onaboard.web.audit.models import Action, AuditEvent
from onaboard.web.diary import api as diary_api
from onaboard.web.diary.models import DiaryEntry
from onaboard.web.diary.selectors import patient_diary
from onaboard.web.diary.services import DAY_BEFORE_BIRTH
from tests.web.factories import DiaryEntryFactory

MIGRAINE_DAY = {
    "headache_hours": 6,
    "intensity": "severe",
    "unilateral": True,
    "pulsating": True,
    "nausea": True,
    "acute_medication": ["triptan"],
    "acute_relief": True,
}


def _url(patient, suffix=""):
    return f"/api/patients/{patient.external_id}/diary{suffix}"


def _put(client, patient, day, body):
    return client.put(_url(patient, f"/{day.isoformat()}"), json.dumps(body), content_type="application/json")


@pytest.fixture
def today():
    return timezone.localdate()


def test_a_patient_saves_their_own_day(world, api_as, today):
    """PUT saves the day through the diary service and answers with it as the engine reads it."""
    response = _put(api_as("patient"), world.own_patient, today, MIGRAINE_DAY)
    assert response.status_code == 200
    body = response.json()
    assert body["date"] == today.isoformat()
    assert body["intensity"] == "severe"
    assert body["acute_medication"] == ["triptan"]
    assert body["counts_as"]["migraine"] is True
    entry = DiaryEntry.objects.get(patient=world.own_patient)
    assert entry.headache_hours == Decimal(6)
    assert AuditEvent.objects.get(object_type="diary_entry").action == Action.CREATE


def test_saving_again_replaces_the_day(world, api_as, today):
    """A second PUT for the same date replaces the row (one row per day), audited as an update."""
    client = api_as("patient")
    _put(client, world.own_patient, today, MIGRAINE_DAY)
    _put(client, world.own_patient, today, {"headache_hours": 0})
    entry = DiaryEntry.objects.get(patient=world.own_patient)
    assert entry.headache_hours == 0
    assert entry.intensity == ""
    assert AuditEvent.objects.filter(object_type="diary_entry").first().action == Action.UPDATE


def test_a_day_before_the_birth_date_is_answered_with_422(world, api_as, today):
    """PUT for a day before the patient's birth date is refused at the address's ``day`` (``["path", "day"]``: it
    was said to be in the body), naming both dates; nothing is saved."""
    patient = world.own_patient
    day = patient.birth_date - timedelta(days=1)
    response = _put(api_as("patient"), patient, day, {"headache_hours": 0})
    assert response.status_code == 422
    message = DAY_BEFORE_BIRTH.format(date=day.isoformat(), birth=patient.birth_date.isoformat())
    assert response.json()["detail"] == [{"loc": ["path", "day"], "msg": message, "type": "value_error"}]
    assert not DiaryEntry.objects.exists()


def test_every_problem_is_answered_with_422_and_nothing_is_saved(world, api_as, today):
    """A day that breaks several diary rules is refused with every problem, in the engine's words."""
    body = {"headache_hours": 25, "acute_medication": ["snake oil"]}
    response = _put(api_as("patient"), world.own_patient, today, body)
    assert response.status_code == 422
    problems = {tuple(p["loc"]): p["msg"] for p in response.json()["detail"]}
    assert problems[("body", "headache_hours")] == BAD_HOURS.format(value="25")
    assert ("body", "acute_medication") in problems
    assert not DiaryEntry.objects.exists()


def test_the_intensity_rule_is_the_engines(world, api_as, today):
    """A headache day without intensity is refused with the engine's message."""
    response = _put(api_as("nurse"), world.own_patient, today, {"headache_hours": 3})
    assert response.status_code == 422
    assert response.json()["detail"] == [
        {"loc": ["body", "intensity"], "msg": INTENSITY_REQUIRED, "type": "value_error"}
    ]


def test_a_future_day_is_refused(world, api_as, today):
    """A date after today is refused against the date in the address."""
    response = _put(api_as("patient"), world.own_patient, today + timedelta(days=1), {"headache_hours": 0})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["path", "day"]


@pytest.mark.parametrize("role", ["billing", "admin", "trainee"])
def test_roles_that_do_not_keep_diaries_cannot_save(world, api_as, today, role):
    """Billing staff, administrators and trainees cannot write a diary day: 404, nothing saved."""
    response = _put(api_as(role), world.same_clinic_patient, today, {"headache_hours": 0})
    assert response.status_code == 404
    assert not DiaryEntry.objects.exists()


def test_a_patient_cannot_write_anothers_diary(world, api_as, today):
    """A patient PUT to another patient's diary is 404 and saves nothing."""
    response = _put(api_as("patient"), world.same_clinic_patient, today, {"headache_hours": 0})
    assert response.status_code == 404
    assert not DiaryEntry.objects.exists()


def test_the_list_returns_the_range_oldest_first_and_is_audited(world, api_as, today):
    """GET lists the recorded days from start to end inclusive and records the read."""
    for offset in range(5):
        DiaryEntryFactory(patient=world.own_patient, date=today - timedelta(days=offset))
    start, end = today - timedelta(days=3), today - timedelta(days=1)
    response = api_as("clinician").get(_url(world.own_patient), {"start": start, "end": end})
    assert [day["date"] for day in response.json()] == [(today - timedelta(days=n)).isoformat() for n in (3, 2, 1)]
    event = AuditEvent.objects.get(action=Action.READ)
    assert event.detail == f"api {start.isoformat()}..{end.isoformat()}"


def test_the_default_range_is_the_84_days_ending_today(world, api_as, today):
    """Without dates the list covers the three 28-day periods ending today."""
    DiaryEntryFactory(patient=world.own_patient, date=today - timedelta(days=diary_api.DEFAULT_RANGE_DAYS))
    DiaryEntryFactory(patient=world.own_patient, date=today - timedelta(days=diary_api.DEFAULT_RANGE_DAYS - 1))
    days = api_as("patient").get(_url(world.own_patient)).json()
    assert len(days) == 1


def test_a_reversed_range_is_refused(world, api_as, today):
    """start after end is 422 naming start."""
    response = api_as("patient").get(_url(world.own_patient), {"start": today, "end": today - timedelta(days=1)})
    assert response.status_code == 422
    assert response.json()["detail"][0]["msg"] == diary_api.START_AFTER_END


def test_dates_in_the_calendars_first_weeks_are_answered_not_crashed(world, api_as):
    """An end in the first weeks of year 1 lists from the calendar's first day; an assessment whose periods would
    begin before it is 422 naming as_of."""
    assert api_as("clinician").get(_url(world.own_patient), {"end": "0001-01-05"}).json() == []
    url = f"/api/patients/{world.own_patient.external_id}/assessment"
    response = api_as("clinician").get(url, {"as_of": "0001-01-10"})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"][-1] == "as_of"


def test_a_nul_character_in_notes_is_refused_not_a_server_error(world, api_as, today):
    """A NUL byte in the notes (no text a person writes holds one; PostgreSQL text cannot store it) is refused with
    the diary rule's words at ``notes``, as the CSV import and the FHIR import refuse it; nothing is saved."""
    response = _put(api_as("patient"), world.own_patient, today, {"headache_hours": 0, "notes": "ok\x00then"})
    assert response.status_code == 422
    assert response.json()["detail"] == [{"loc": ["body", "notes"], "msg": NUL_IN_NOTES, "type": "value_error"}]
    assert not DiaryEntry.objects.exists()


def test_billing_cannot_read_the_diary(world, api_as):
    """The diary is clinical: billing staff get 404."""
    assert api_as("billing").get(_url(world.own_patient)).status_code == 404


def test_the_assessment_is_the_engines_json(world, api_as, today):
    """The assessment is exactly onaboard.serialize.assessment_json of the engine's assess, as the CLI prints."""
    for offset in range(30):
        DiaryEntryFactory(
            patient=world.own_patient,
            date=today - timedelta(days=offset),
            headache_hours=Decimal(6),
            intensity="severe",
            unilateral=True,
            pulsating=True,
            nausea=True,
        )
    response = api_as("clinician").get(f"/api/patients/{world.own_patient.external_id}/assessment")
    assert response.status_code == 200
    patient = world.own_patient
    expected = assessment_json(assess(patient_diary(patient, until=today), as_of=today, birth_date=patient.birth_date))
    assert response.json() == json.loads(json.dumps(expected))
    assert response.json()["chronic_migraine"]["reasons"]
    assert AuditEvent.objects.get(action=Action.READ).object_type == "assessment"


def test_an_assessment_in_the_future_is_refused(world, api_as, today):
    """as_of after today is 422."""
    url = f"/api/patients/{world.own_patient.external_id}/assessment"
    response = api_as("clinician").get(url, {"as_of": today + timedelta(days=1)})
    assert response.status_code == 422


def test_the_diary_schema_asks_every_yes_no_answer_of_the_contract():
    """The API's diary day has one yes/no field for each of the engine's yes/no columns and no other, so the body
    handed to the engine (``_contract_fields``, which reads them by the engine's names) is never short of one."""
    from onaboard.clinical.diary import YES_NO_COLUMNS
    from onaboard.web.diary.schemas import DiaryDayIn

    flags = {name for name, field in DiaryDayIn.model_fields.items() if field.annotation is bool}
    assert flags == set(YES_NO_COLUMNS)


def test_a_medicine_item_holding_two_classes_or_none_is_refused_at_its_index(world, api_as, today):
    """An item "triptan;opioid" was saved as two classes (an opioid day toward overuse) and a blank item got the
    CSV's words: each is refused at its own index, saying why, and nothing is saved."""
    from onaboard.web.diary.api import CLASS_ITEM_EMPTY, CLASS_ITEM_SPLIT

    body = {"headache_hours": 5, "intensity": "moderate", "acute_medication": ["triptan;opioid", "triptan", " "]}
    response = _put(api_as("patient"), world.own_patient, today, body)
    assert response.status_code == 422
    assert response.json()["detail"] == [
        {
            "loc": ["body", "acute_medication", 0],
            "msg": CLASS_ITEM_SPLIT.format(item="triptan;opioid"),
            "type": "value_error",
        },
        {"loc": ["body", "acute_medication", 2], "msg": CLASS_ITEM_EMPTY, "type": "value_error"},
    ]
    assert not DiaryEntry.objects.exists()


def test_a_save_with_the_version_read_is_refused_when_the_day_was_saved_since(world, api_as, today):
    """The patient's app reads a day (its ``version``); a nurse saves the paper diary's answer for it; the app's
    save with the old version is refused (409) and the nurse's answer stands. A save with the new version, or
    without any, goes through; a day read as not recorded has the version ""."""
    from onaboard.web.diary.api import DAY_CHANGED_SINCE_READ

    patient = world.own_patient
    first = _put(api_as("patient"), patient, today, {"headache_hours": 2, "intensity": "mild"})
    version = first.json()["version"]
    assert version
    listed = api_as("patient").get(_url(patient)).json()
    assert [day["version"] for day in listed] == [version]
    nurse = _put(api_as("nurse"), patient, today, {"headache_hours": 6, "intensity": "severe", "version": version})
    assert nurse.status_code == 200
    stale = _put(api_as("patient"), patient, today, {"headache_hours": 1, "intensity": "mild", "version": version})
    assert (stale.status_code, stale.json()) == (409, {"detail": DAY_CHANGED_SINCE_READ})
    assert DiaryEntry.objects.get(patient=patient, date=today).headache_hours == 6
    fresh = {"headache_hours": 1, "intensity": "mild", "version": nurse.json()["version"]}
    assert _put(api_as("patient"), patient, today, fresh).status_code == 200
    yesterday = today - timedelta(days=1)
    unseen = {"headache_hours": 0, "version": ""}
    assert _put(api_as("patient"), patient, yesterday, unseen).status_code == 200
    assert (
        _put(api_as("patient"), patient, yesterday, {**unseen, "headache_hours": 3, "intensity": "mild"}).status_code
        == 409
    )


def test_the_same_day_put_again_with_the_version_read_is_saved_not_a_conflict(world, api_as, today):
    """A PUT sent again with the version read before the first (its answer lost on a slow connection, a retry)
    finds the day holding exactly what it sends: 200 with the day and its current version, written and audited
    once. Other answers with that version are still refused with 409, the day left as it was."""
    from onaboard.web.diary.api import DAY_CHANGED_SINCE_READ

    patient = world.own_patient
    read = _put(api_as("patient"), patient, today, {"headache_hours": 2, "intensity": "mild"}).json()["version"]
    body = {**MIGRAINE_DAY, "notes": "at work", "version": read}
    first = _put(api_as("patient"), patient, today, body)
    again = _put(api_as("patient"), patient, today, body)
    assert (first.status_code, again.status_code) == (200, 200)
    assert again.json() == first.json()
    assert first.json()["version"] != read
    assert AuditEvent.objects.filter(object_type="diary_entry", action=Action.UPDATE).count() == 1
    other = _put(api_as("patient"), patient, today, {**body, "notes": "at home"})
    assert (other.status_code, other.json()) == (409, {"detail": DAY_CHANGED_SINCE_READ})
    assert DiaryEntry.objects.get(patient=patient, date=today).notes == "at work"
