"""Recording questionnaires (onaboard/web/outcomes/services.py): engine scores stored, one per instrument per day."""

from __future__ import annotations

import inspect
from datetime import date, timedelta

import pytest
from django.utils import timezone

from onaboard.clinical import prom
from onaboard.web.audit.models import Action, AuditEvent
from onaboard.web.common.words import before_birth_plain, plain_day
from onaboard.web.outcomes.models import Instrument, QuestionnaireResponse
from onaboard.web.outcomes.services import (
    DATE_AFTER_TODAY,
    QuestionnaireDateError,
    QuestionnaireInvalidError,
    questionnaire_date_problem,
    questionnaire_response_record,
)

DAY = date(2026, 3, 2)
SEVERE_HIT6 = ["always", "very often", "very_often", "sometimes", "always", "rarely"]
"""13 + 11 + 11 + 10 + 13 + 8 = 66: severe impact."""


def _record(world, instrument, answers, day=DAY):
    """The patient's answers of ``day``, sent today (the clinic's local date)."""
    return questionnaire_response_record(
        user=world.users["patient"],
        patient=world.own_patient,
        instrument=instrument,
        answers=answers,
        date=day,
        today=timezone.localdate(),
    )


def test_hit6_is_stored_with_the_engines_total_and_band(world):
    """Six HIT-6 answers are stored normalised, with the engine's total and impact band, and audited."""
    response = _record(world, Instrument.HIT6, SEVERE_HIT6)
    response.refresh_from_db()
    assert response.total == 66
    assert response.category == "severe_impact"
    assert response.answers == ["always", "very_often", "very_often", "sometimes", "always", "rarely"]
    event = AuditEvent.objects.get(action=Action.CREATE)
    assert (event.object_type, event.patient_id) == ("questionnaire_hit6", world.own_patient.external_id)


def test_midas_is_stored_with_the_engines_score_and_grade(world):
    """MIDAS Q1-Q5 are summed by the engine and graded; A and B are kept unscored."""
    answers = {"q1": 2, "q2": 3, "q3": 4, "q4": 1, "q5": 2, "a": 30, "b": 7}
    response = _record(world, Instrument.MIDAS, answers)
    assert (response.total, response.category) == (12, "III")
    assert response.answers == answers


def test_a_second_answer_on_the_same_day_replaces_the_first(world):
    """One response per instrument per day: answering again replaces it; another day adds one."""
    _record(world, Instrument.HIT6, SEVERE_HIT6)
    _record(world, Instrument.HIT6, ["never"] * 6)
    _record(world, Instrument.HIT6, ["never"] * 6, day=date(2026, 3, 1))
    totals = dict(QuestionnaireResponse.objects.values_list("date", "total"))
    assert totals == {DAY: 36, date(2026, 3, 1): 36}
    assert AuditEvent.objects.filter(action=Action.UPDATE).count() == 1


def test_answers_the_engine_refuses_are_not_stored(world):
    """Refused answers raise with the engine's reasons and leave nothing behind."""
    with pytest.raises(QuestionnaireInvalidError) as refused:
        _record(world, Instrument.MIDAS, {"q1": 60, "q2": 40, "q3": 0, "q4": 0, "q5": 0})
    assert refused.value.problems == (
        prom.MIDAS_PAIR_TOO_MANY.format(first="Q1", second="Q2", first_value=60, second_value=40, total=100),
    )
    assert not QuestionnaireResponse.objects.exists()
    assert not AuditEvent.objects.exists()


def test_a_hit6_with_an_unknown_answer_is_refused(world):
    """An answer outside the five options is refused naming its item."""
    with pytest.raises(QuestionnaireInvalidError) as refused:
        _record(world, Instrument.HIT6, ["never"] * 5 + ["often"])
    assert refused.value.problems == (prom.HIT6_UNKNOWN_ANSWER.format(item=6, answer="often"),)


def test_a_response_dated_after_today_is_refused_and_nothing_saved(world):
    """A response dated tomorrow is refused by the service itself (not only by the form and the API), so it cannot
    become the latest answer compared with the baseline; nothing is saved or audited."""
    today = timezone.localdate()
    with pytest.raises(QuestionnaireDateError) as refused:
        _record(world, Instrument.HIT6, SEVERE_HIT6, day=today + timedelta(days=1))
    assert str(refused.value) == DATE_AFTER_TODAY.format(today=plain_day(today))
    assert not QuestionnaireResponse.objects.exists()
    assert not AuditEvent.objects.exists()


def test_the_service_takes_today_from_its_caller(world):
    """Given today, the service refuses a day after it and accepts today itself; it never reads the clock, so today
    is required of every caller (the pages, the API, the imports, the demo)."""
    for service in (questionnaire_response_record, questionnaire_date_problem):
        today = inspect.signature(service).parameters["today"]
        assert (today.kind, today.default) == (inspect.Parameter.KEYWORD_ONLY, inspect.Parameter.empty)
    with pytest.raises(QuestionnaireDateError):
        questionnaire_response_record(
            user=world.users["patient"],
            patient=world.own_patient,
            instrument=Instrument.HIT6,
            answers=SEVERE_HIT6,
            date=DAY + timedelta(days=1),
            today=DAY,
        )
    questionnaire_response_record(
        user=world.users["patient"],
        patient=world.own_patient,
        instrument=Instrument.HIT6,
        answers=SEVERE_HIT6,
        date=DAY,
        today=DAY,
    )
    assert QuestionnaireResponse.objects.get().date == DAY


def test_the_date_rule_is_one_function_with_both_limits(world):
    """``questionnaire_date_problem`` says a day after today and a day before the birth date, each in one sentence,
    and nothing for the birth date or today."""
    patient = world.own_patient
    birth = patient.birth_date
    tomorrow = DAY + timedelta(days=1)
    assert questionnaire_date_problem(patient, tomorrow, today=DAY) == DATE_AFTER_TODAY.format(today=plain_day(DAY))
    early = birth - timedelta(days=1)
    assert questionnaire_date_problem(patient, early, today=DAY) == before_birth_plain(early, birth)
    assert questionnaire_date_problem(patient, birth, today=DAY) is None
    assert questionnaire_date_problem(patient, DAY, today=DAY) is None
