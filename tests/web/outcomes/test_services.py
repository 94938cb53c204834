"""Recording questionnaires (onaboard/web/outcomes/services.py): engine scores stored, one per instrument per day."""

from __future__ import annotations

import inspect
import uuid
from datetime import date, timedelta

import pytest
from django.db import IntegrityError, transaction
from django.http import Http404
from django.utils import timezone

from onaboard.clinical import prom
from onaboard.web.audit.models import Action, AuditEvent
from onaboard.web.common.words import before_birth_plain, plain_day
from onaboard.web.injections.models import SessionStatus
from onaboard.web.outcomes.models import (
    DECISION_REASON_MAX_LENGTH,
    Decision,
    Instrument,
    QuestionnaireResponse,
    TreatmentDecision,
)
from onaboard.web.outcomes.services import (
    DATE_AFTER_TODAY,
    DECISION_AFTER_TODAY,
    DECISION_BEFORE_TREATMENT,
    DECISION_REASON_NEEDED,
    DECISION_REASON_TOO_LONG,
    QuestionnaireDateError,
    QuestionnaireInvalidError,
    TreatmentDecisionAlreadySentError,
    TreatmentDecisionRefusedError,
    questionnaire_date_problem,
    questionnaire_response_record,
    treatment_decision_record,
)
from tests.web.clinic.diaries import TODAY, course_rows, store
from tests.web.factories import InjectionSessionFactory

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


# --- Decisions to continue or stop treatment ---------------------------------------------------------------------


def _failing_course(patient, today):
    """Two cycles 84 days apart and 18 headache days at week 24 against 20 at baseline (10 % fewer): on ``today``
    NICE TA260 1.2 says stop."""
    day0 = today - timedelta(days=170)
    store(patient, course_rows(day0, 20, 19, 19, 18, 18, 18, 18), today=today)
    for day in (day0, day0 + timedelta(days=84)):
        InjectionSessionFactory(patient=patient, date=day, status=SessionStatus.RECORDED)


def _decide(
    world,
    *,
    user="clinician",
    patient=None,
    decision=Decision.CONTINUE,
    reason="HIT-6 down 9 points",
    decided_on=TODAY,
    submission=None,
):
    return treatment_decision_record(
        user=world.users[user],
        patient=patient or world.same_clinic_patient,
        decision=decision,
        reason=reason,
        decided_on=decided_on,
        today=TODAY,
        submission=submission,
    )


def test_a_clinicians_decision_is_stored_with_the_engines_verdict_it_overrode_and_audited(world):
    """A decision to continue is stored with its day, reason and clinician, and the engine's NICE TA260 verdict and
    reasons of that day; the audit names the decision and the verdict, never the reason's text."""
    _failing_course(world.same_clinic_patient, TODAY)
    stored = _decide(world, reason="  HIT-6 down 9 points\r\nand fewer severe days  ")
    stored.refresh_from_db()
    assert (stored.decision, stored.decided_on, stored.decided_by) == (
        Decision.CONTINUE,
        TODAY,
        world.users["clinician"],
    )
    assert stored.reason == "HIT-6 down 9 points\nand fewer severe days"
    assert stored.nice_verdict == "stop"
    assert stored.nice_reason_lines[0].startswith("NICE TA260 1.2: headache days from 20 at baseline to 18")
    event = AuditEvent.objects.get(action=Action.CREATE, object_type="treatment_decision")
    assert (event.object_id, event.patient_id) == (str(stored.external_id), world.same_clinic_patient.external_id)
    assert "HIT-6" not in event.detail
    assert "continue" in event.detail
    assert "stop" in event.detail


def test_a_decision_keeps_whether_the_return_to_episodic_migraine_held_beside_the_verdict(world):
    """For a patient whose diary began at the first injection (no baseline) and who has had three periods under 15
    headache days, the decision is stored with the engine's verdict (not yet assessable) and that the return to
    episodic migraine held, so it counts as made while a stop was suggested; one made after a week-24 stop keeps
    that the rule did not hold."""
    patient = world.same_clinic_patient
    day0 = TODAY - timedelta(days=90)
    rows = [row for row in course_rows(day0, 20, 6, 5, 4) if row["date"] >= day0.isoformat()]
    store(patient, rows, today=TODAY)
    for day in (day0, day0 + timedelta(days=84)):
        InjectionSessionFactory(patient=patient, date=day, status=SessionStatus.RECORDED)
    held_back = _decide(world, patient=patient)
    held_back.refresh_from_db()
    assert (held_back.nice_verdict, held_back.nice_reverted_to_episodic, held_back.saw_stop) == (
        "not_yet_assessable",
        True,
        True,
    )
    _failing_course(world.own_patient, TODAY)
    week24 = _decide(world, patient=world.own_patient)
    week24.refresh_from_db()
    assert (week24.nice_verdict, week24.nice_reverted_to_episodic, week24.saw_stop) == ("stop", False, True)


def test_a_decision_to_stop_cancels_the_session_booked_ahead_and_a_continue_keeps_it(world):
    """The next session is booked when one is recorded: a stop cancels the booking ahead (audited as the session
    screen's Cancel, the row kept, cancelled) in the decision's transaction; a decision to continue cancels
    nothing."""
    patient = world.same_clinic_patient
    _failing_course(patient, TODAY)
    booking = InjectionSessionFactory(patient=patient, date=TODAY + timedelta(days=10), status=SessionStatus.BOOKED)
    _decide(world, decision=Decision.CONTINUE)
    booking.refresh_from_db()
    assert booking.status == SessionStatus.BOOKED
    _decide(world, decision=Decision.STOP, reason="No benefit after two cycles")
    booking.refresh_from_db()
    assert booking.status == SessionStatus.CANCELLED
    (event,) = AuditEvent.objects.filter(object_type="injection_session", action=Action.UPDATE)
    assert event.object_id == str(booking.external_id)


def test_a_stop_dated_before_a_later_continue_cancels_nothing(world):
    """A stop entered afterwards with an earlier day than the latest decision (a continue) is not the latest: the
    treatment goes on, and the booking ahead stays."""
    patient = world.same_clinic_patient
    _failing_course(patient, TODAY)
    booking = InjectionSessionFactory(patient=patient, date=TODAY + timedelta(days=10), status=SessionStatus.BOOKED)
    _decide(world, decision=Decision.CONTINUE)
    _decide(world, decision=Decision.STOP, reason="Entered late", decided_on=TODAY - timedelta(days=2))
    booking.refresh_from_db()
    assert booking.status == SessionStatus.BOOKED


@pytest.mark.parametrize("reason", ["", "   \n  "])
def test_a_decision_without_a_reason_is_refused(world, reason):
    """The reason is what the record is for: an empty one is refused on the reason field, and nothing is saved."""
    _failing_course(world.same_clinic_patient, TODAY)
    with pytest.raises(TreatmentDecisionRefusedError) as refused:
        _decide(world, reason=reason)
    assert refused.value.problems == (("reason", str(DECISION_REASON_NEEDED)),)
    assert not TreatmentDecision.objects.exists()


def test_a_reason_longer_than_the_limit_is_refused(world):
    """A reason over DECISION_REASON_MAX_LENGTH characters is refused, saying the limit and its length."""
    _failing_course(world.same_clinic_patient, TODAY)
    with pytest.raises(TreatmentDecisionRefusedError) as refused:
        _decide(world, reason="x" * (DECISION_REASON_MAX_LENGTH + 1))
    expected = DECISION_REASON_TOO_LONG.format(limit=DECISION_REASON_MAX_LENGTH, count=DECISION_REASON_MAX_LENGTH + 1)
    assert refused.value.problems == (("reason", expected),)
    assert not TreatmentDecision.objects.exists()


def test_a_decision_dated_after_today_is_refused(world):
    """A decision is dated the day it is made: one dated tomorrow is refused, and nothing is saved."""
    _failing_course(world.same_clinic_patient, TODAY)
    with pytest.raises(TreatmentDecisionRefusedError) as refused:
        _decide(world, decided_on=TODAY + timedelta(days=1))
    expected = DECISION_AFTER_TODAY.format(date=plain_day(TODAY + timedelta(days=1)), today=plain_day(TODAY))
    assert refused.value.problems == (("", expected),)
    assert not TreatmentDecision.objects.exists()


def test_a_decision_before_any_session_is_refused(world):
    """With no session recorded on or before the day there is no treatment to continue or stop."""
    store(world.same_clinic_patient, course_rows(TODAY - timedelta(days=10), 20), today=TODAY)
    with pytest.raises(TreatmentDecisionRefusedError) as refused:
        _decide(world)
    assert refused.value.problems == (("", DECISION_BEFORE_TREATMENT.format(date=plain_day(TODAY))),)
    assert not TreatmentDecision.objects.exists()


def test_a_patient_of_another_clinic_is_not_found_and_nothing_is_saved(world):
    """The decision reaches the patient through patients/access.py: another clinic's patient is "not found", and
    the attempt is audited as denied."""
    _failing_course(world.other_clinic_patient, TODAY)
    with pytest.raises(Http404):
        _decide(world, patient=world.other_clinic_patient)
    assert not TreatmentDecision.objects.exists()
    denied = AuditEvent.objects.get(action=Action.DENIED)
    assert (denied.patient_id, denied.detail) == (world.other_clinic_patient.external_id, "decide_treatment")


@pytest.mark.parametrize("role", ["nurse", "billing", "admin", "patient", "trainee"])
def test_only_a_clinician_may_decide(world, role):
    """Nurses, billing staff, administrators, patients (even on their own record) and trainees are refused, and
    nothing is saved; the same decision by a clinician is stored."""
    patient = world.own_patient
    _failing_course(patient, TODAY)
    with pytest.raises(Http404):
        _decide(world, user=role, patient=patient)
    assert not TreatmentDecision.objects.exists()
    assert _decide(world, patient=patient).decided_by == world.users["clinician"]


def test_the_same_form_sent_twice_records_one_decision(world):
    """A double click sends the form's token twice: one decision is stored, one audit event written, and the
    second send returns the first decision."""
    _failing_course(world.same_clinic_patient, TODAY)
    token = uuid.uuid4()
    first = _decide(world, submission=token)
    again = _decide(world, submission=token)
    assert again.pk == first.pk
    assert TreatmentDecision.objects.count() == 1
    assert AuditEvent.objects.filter(action=Action.CREATE, object_type="treatment_decision").count() == 1


def test_a_form_changed_after_it_was_sent_is_refused_not_merged(world):
    """The token sent again with another decision is refused (``TreatmentDecisionAlreadySentError``): the first
    stays as it was, and the second is not silently dropped."""
    _failing_course(world.same_clinic_patient, TODAY)
    token = uuid.uuid4()
    _decide(world, submission=token)
    with pytest.raises(TreatmentDecisionAlreadySentError):
        _decide(world, submission=token, decision=Decision.STOP)
    assert list(TreatmentDecision.objects.values_list("decision", flat=True)) == [Decision.CONTINUE]


def test_the_database_refuses_a_decision_without_a_reason(world):
    """A row written past the service still needs a reason (a check constraint)."""
    _failing_course(world.same_clinic_patient, TODAY)
    with pytest.raises(IntegrityError), transaction.atomic():
        TreatmentDecision.objects.create(
            patient=world.same_clinic_patient,
            decided_on=TODAY,
            decision=Decision.STOP,
            reason="",
            decided_by=world.users["clinician"],
            nice_verdict="stop",
        )
