"""Outcomes and questionnaire API operations (onaboard/web/outcomes/api.py)."""

from __future__ import annotations

import json
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from onaboard.clinical import PromError, hit6_score, midas_score, treatment_outcomes
from onaboard.clinical.prom import HIT6_COUNT, HIT6_UNKNOWN_ANSWER
from onaboard.serialize import outcomes_json, period_change_json
from onaboard.web.audit.models import Action, AuditEvent
from onaboard.web.common.schema_types import ISO_DATE_ERROR_TYPE
from onaboard.web.common.words import before_birth_plain, plain_day
from onaboard.web.diary.selectors import patient_diary
from onaboard.web.diary.services import ANSWERS_BASELINE_CLOSED
from onaboard.web.injections.models import InjectionSession, SessionStatus
from onaboard.web.outcomes import api as outcomes_api
from onaboard.web.outcomes.models import QuestionnaireResponse
from onaboard.web.outcomes.services import DATE_AFTER_TODAY
from tests.web.factories import DiaryEntryFactory, InjectionSessionFactory

HIT6 = ["sometimes", "very often", "always", "rarely", "never", "sometimes"]


@pytest.fixture
def today():
    return timezone.localdate()


def _submit(client, patient, body):
    url = f"/api/patients/{patient.external_id}/questionnaires"
    return client.post(url, json.dumps(body), content_type="application/json")


def test_outcomes_before_any_session_say_so(world, api_as):
    """Without a recorded session there are no outcomes: 404 with its own message."""
    response = api_as("clinician").get(f"/api/patients/{world.own_patient.external_id}/outcomes")
    assert response.status_code == 404
    assert response.json() == {"detail": outcomes_api.NO_SESSION_YET}


def test_outcomes_are_the_engines_json(world, api_as, today):
    """With a recorded session the outcomes are exactly onaboard.serialize.outcomes_json, as the CLI prints, on
    today: the periods that have ended, and the one under way apart (running_period), judging nothing. The
    patient's own token reads them without NICE TA260's verdict (as their portal: the clinician discusses a stop
    first)."""
    patient = world.own_patient
    first = today - timedelta(days=40)
    for offset in range(70):
        day = today - timedelta(days=offset)
        DiaryEntryFactory(
            patient=patient,
            date=day,
            headache_hours=Decimal(5 if day < first and offset % 2 else 0),
            intensity="moderate" if day < first and offset % 2 else "",
        )
    InjectionSessionFactory(patient=patient, date=first, status=SessionStatus.RECORDED)
    response = api_as("clinician").get(f"/api/patients/{patient.external_id}/outcomes")
    assert response.status_code == 200
    outcomes = treatment_outcomes(patient_diary(patient, until=today), injections=[first], as_of=today)
    expected = {**outcomes_json(outcomes), "running_period": period_change_json(outcomes.running)}
    assert response.json() == json.loads(json.dumps(expected))
    assert AuditEvent.objects.get(action=Action.READ).object_type == "outcomes"
    own = api_as("patient").get(f"/api/patients/{patient.external_id}/outcomes").json()
    assert own == json.loads(json.dumps({**expected, "nice_ta260": None}))


def test_billing_cannot_read_outcomes(world, api_as):
    """Outcomes are clinical: billing staff get 404."""
    assert api_as("billing").get(f"/api/patients/{world.own_patient.external_id}/outcomes").status_code == 404


def test_a_patient_submits_hit6_scored_by_the_engine(world, api_as, today):
    """HIT-6 answers are scored by the engine and stored; the answer carries its reason."""
    response = _submit(
        api_as("patient"), world.own_patient, {"instrument": "hit6", "date": str(today), "answers": HIT6}
    )
    assert response.status_code == 201
    scored = hit6_score(HIT6)
    body = response.json()
    assert (body["total"], body["category"], body["reason"]) == (scored.total, scored.impact.value, scored.reason)
    assert QuestionnaireResponse.objects.get().total == scored.total


def test_answers_the_engine_refuses_are_422_with_its_reasons(world, api_as, today):
    """Five HIT-6 answers are refused with the engine's message; nothing is saved."""
    body = {"instrument": "hit6", "date": str(today), "answers": HIT6[:5]}
    response = _submit(api_as("patient"), world.own_patient, body)
    assert response.status_code == 422
    assert response.json()["detail"][0]["msg"] == HIT6_COUNT.format(count=5)
    assert not QuestionnaireResponse.objects.exists()


def test_midas_is_scored_from_its_questions(world, api_as, today):
    """MIDAS answers by question are scored; an unknown question is refused."""
    answers = {"q1": 3, "q2": 2, "q3": 1, "q4": 4, "q5": 2}
    ok = _submit(api_as("nurse"), world.own_patient, {"instrument": "midas", "date": str(today), "answers": answers})
    assert ok.status_code == 201
    assert ok.json()["total"] == 12
    bad = {"instrument": "midas", "date": str(today), "answers": {**answers, "q9": 1}}
    refused = _submit(api_as("nurse"), world.own_patient, bad)
    assert refused.status_code == 422
    assert refused.json()["detail"][0]["msg"] == outcomes_api.MIDAS_UNKNOWN_KEYS.format(keys="q9")


def test_answers_of_the_wrong_shape_are_refused(world, api_as, today):
    """MIDAS answers given as a list are refused with a message saying what is expected."""
    body = {"instrument": "midas", "date": str(today), "answers": ["1", "2"]}
    response = _submit(api_as("patient"), world.own_patient, body)
    assert response.json()["detail"][0]["msg"] == outcomes_api.MIDAS_ANSWERS_SHAPE


def test_midas_answers_that_are_not_whole_numbers_are_refused_where_they_are(world, api_as, today):
    """``true`` was stored as 1 day and ``"5"`` as 5: each is refused, its place the answer's name (no pydantic type
    names such as ``dict[str,nullable[int]]`` in it); nothing is saved."""
    answers = {"q1": True, "q2": 2, "q3": "5", "q4": 4, "q5": 2}
    response = _submit(
        api_as("nurse"), world.own_patient, {"instrument": "midas", "date": str(today), "answers": answers}
    )
    assert response.status_code == 422
    places = [problem["loc"] for problem in response.json()["detail"]]
    assert ["body", "answers", "q1"] in places
    assert ["body", "answers", "q3"] in places
    assert all("[" not in str(part) for place in places for part in place)
    assert not QuestionnaireResponse.objects.exists()


def test_a_questionnaire_in_the_future_is_refused(world, api_as, today):
    """A date after today is 422 at ``date``, in the words of the service's rule; nothing is saved."""
    body = {"instrument": "hit6", "date": str(today + timedelta(days=1)), "answers": HIT6}
    refused = _submit(api_as("patient"), world.own_patient, body)
    assert refused.status_code == 422
    assert refused.json()["detail"][0]["loc"][-1] == "date"
    assert refused.json()["detail"][0]["msg"] == DATE_AFTER_TODAY.format(today=plain_day(today))
    assert not QuestionnaireResponse.objects.exists()


def test_a_questionnaire_before_the_birth_date_is_refused_at_the_date(world, api_as):
    """A date before the patient's birth date (a mistyped year) is 422 at ``date`` and nothing is saved; the birth
    date itself is accepted."""
    birth = world.own_patient.birth_date
    refused = _submit(
        api_as("patient"), world.own_patient, {"instrument": "hit6", "date": "1900-01-01", "answers": HIT6}
    )
    assert refused.status_code == 422
    assert refused.json()["detail"][0]["loc"][-1] == "date"
    assert refused.json()["detail"][0]["msg"] == before_birth_plain(date(1900, 1, 1), birth)
    assert not QuestionnaireResponse.objects.exists()
    body = {"instrument": "hit6", "date": birth.isoformat(), "answers": HIT6}
    assert _submit(api_as("patient"), world.own_patient, body).status_code == 201


@pytest.mark.parametrize(("role", "target"), [("patient", "same_clinic_patient"), ("billing", "own_patient")])
def test_no_one_else_submits(world, api_as, today, role, target):
    """Another patient's record, or a role that keeps no diary, is 404 and nothing is saved."""
    body = {"instrument": "hit6", "date": str(today), "answers": HIT6}
    assert _submit(api_as(role), getattr(world, target), body).status_code == 404
    assert not QuestionnaireResponse.objects.exists()


def test_the_list_shows_every_response_with_its_reason(world, api_as, today):
    """The list returns each response with the engine's reason, and the read is audited."""
    client = api_as("patient")
    _submit(client, world.own_patient, {"instrument": "hit6", "date": str(today), "answers": HIT6})
    listed = client.get(f"/api/patients/{world.own_patient.external_id}/questionnaires").json()
    assert [(item["instrument"], item["reason"]) for item in listed] == [("hit6", hit6_score(HIT6).reason)]
    assert AuditEvent.objects.filter(action=Action.READ, object_type="questionnaires").exists()


@pytest.mark.parametrize("day", [1764288000, "1764288000", "2025-11-28T00:00:00"])
def test_a_questionnaire_date_that_is_not_yyyy_mm_dd_is_422_at_the_date(world, api_as, day):
    """A Unix timestamp or a datetime is 422 at ``date`` (a timestamp was read as its day); nothing is saved."""
    refused = _submit(api_as("patient"), world.own_patient, {"instrument": "hit6", "date": day, "answers": HIT6})
    assert refused.status_code == 422
    (problem,) = refused.json()["detail"]
    assert (problem["loc"][0], problem["loc"][-1], problem["type"]) == ("body", "date", ISO_DATE_ERROR_TYPE)
    assert not QuestionnaireResponse.objects.exists()


def test_a_hit6_answer_the_engine_does_not_know_is_at_its_item(world, api_as, today):
    """An unknown answer to item 3 is 422 at ``["body", "answers", 2]`` (the list's index), in the engine's words;
    it was at ``answers`` as a whole."""
    answers = [*HIT6[:2], "constantly", *HIT6[3:5], "hardly"]
    response = _submit(
        api_as("patient"), world.own_patient, {"instrument": "hit6", "date": str(today), "answers": answers}
    )
    assert response.status_code == 422
    assert [(p["loc"], p["msg"]) for p in response.json()["detail"]] == [
        (["body", "answers", 2], HIT6_UNKNOWN_ANSWER.format(item=3, answer="constantly")),
        (["body", "answers", 5], HIT6_UNKNOWN_ANSWER.format(item=6, answer="hardly")),
    ]


def test_each_midas_problem_is_at_its_question(world, api_as, today):
    """A question out of range is at its key, Q3+Q4 over 92 days at ``q4`` (Q4 excludes Q3's days), a pain score
    out of range at ``b`` and a question MIDAS has not at that key; all in the engine's words."""
    answers = {"q1": 93, "q2": 0, "q3": 50, "q4": 50, "q5": 1, "b": 11, "q9": 1}
    body = {"instrument": "midas", "date": str(today), "answers": answers}
    refused = _submit(api_as("nurse"), world.own_patient, body)
    assert refused.status_code == 422
    assert [p["loc"] for p in refused.json()["detail"]] == [["body", "answers", "q9"]]
    del answers["q9"]
    response = _submit(api_as("nurse"), world.own_patient, body)
    assert response.status_code == 422
    with pytest.raises(PromError) as engine:
        midas_score(q1=93, q2=0, q3=50, q4=50, q5=1, b=11)
    assert [(p["loc"], p["msg"]) for p in response.json()["detail"]] == [
        (["body", "answers", "q1"], engine.value.problems[0]),
        (["body", "answers", "q4"], engine.value.problems[1]),
        (["body", "answers", "b"], engine.value.problems[2]),
    ]
    missing = _submit(api_as("nurse"), world.own_patient, {**body, "answers": {"q1": 1, "q2": 1, "q3": 1, "q4": 1}})
    assert [p["loc"] for p in missing.json()["detail"]] == [["body", "answers", "q5"]]


def test_a_patients_questionnaire_before_their_first_treatment_is_refused_at_the_date(world, api_as, today):
    """After the first session the patient's baseline HIT-6 is kept: a date before it is 422 at ``date`` in the
    service's words, nothing saved; a clinician may still enter one (the paper form), and the day after the session
    is the patient's."""
    patient, first = world.own_patient, today - timedelta(days=30)
    InjectionSessionFactory(patient=patient, date=first, status=SessionStatus.RECORDED)
    before = first - timedelta(days=1)
    body = {"instrument": "hit6", "date": before.isoformat(), "answers": HIT6}
    refused = _submit(api_as("patient"), patient, body)
    assert refused.status_code == 422
    assert refused.json()["detail"][0]["loc"][-1] == "date"
    assert refused.json()["detail"][0]["msg"] == ANSWERS_BASELINE_CLOSED.format(
        date=plain_day(before), first=plain_day(first)
    )
    assert not QuestionnaireResponse.objects.exists()
    assert _submit(api_as("clinician"), patient, body).status_code == 201
    after = (first + timedelta(days=1)).isoformat()
    assert _submit(api_as("patient"), patient, {**body, "date": after}).status_code == 201


def test_a_patients_answer_on_their_first_treatments_day_is_baseline_once_that_day_has_passed(world, api_as, today):
    """The baseline answer is the last in the 28 days up to the first injection, that day included: an answer dated
    the session's day is taken on that day (the waiting room) and refused after it, in its own words."""
    patient = world.own_patient
    InjectionSessionFactory(patient=patient, date=today, status=SessionStatus.RECORDED)
    on_the_day = {"instrument": "hit6", "date": today.isoformat(), "answers": HIT6}
    assert _submit(api_as("patient"), patient, on_the_day).status_code == 201
    QuestionnaireResponse.objects.all().delete()
    InjectionSession.objects.filter(patient=patient).update(date=today - timedelta(days=20))
    later = {**on_the_day, "date": (today - timedelta(days=20)).isoformat()}
    refused = _submit(api_as("patient"), patient, later)
    assert refused.status_code == 422
    day0 = plain_day(today - timedelta(days=20))
    assert refused.json()["detail"][0]["msg"] == ANSWERS_BASELINE_CLOSED.format(date=day0, first=day0)
    assert not QuestionnaireResponse.objects.exists()


def test_a_patients_diary_day_before_their_first_treatment_is_refused_at_the_day(world, api_as, today):
    """The diary API applies the same rule: 422 at the day for the patient, saved for a nurse."""
    patient, first = world.own_patient, today - timedelta(days=30)
    InjectionSessionFactory(patient=patient, date=first, status=SessionStatus.RECORDED)
    before = first - timedelta(days=2)
    url = f"/api/patients/{patient.external_id}/diary/{before.isoformat()}"
    body = json.dumps({"headache_hours": "0"})
    refused = api_as("patient").put(url, body, content_type="application/json")
    assert refused.status_code == 422
    assert refused.json()["detail"][0]["loc"] == ["path", "day"]
    assert "before your first treatment" in refused.json()["detail"][0]["msg"]
    assert api_as("nurse").put(url, body, content_type="application/json").status_code == 200
