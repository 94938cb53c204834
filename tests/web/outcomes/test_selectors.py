"""Reading questionnaires (onaboard/web/outcomes/selectors.py): newest first, engine reasons, audited."""

from __future__ import annotations

from datetime import date

import pytest

from onaboard.web.audit.models import Action, AuditEvent
from onaboard.web.outcomes.models import Instrument, QuestionnaireResponse
from onaboard.web.outcomes.selectors import (
    BaselineAndLatest,
    baseline_and_latest,
    questionnaire_history,
    questionnaire_response_on,
)
from onaboard.web.outcomes.services import questionnaire_response_record


def _hit6(world, day, answers):
    questionnaire_response_record(
        user=world.users["patient"], patient=world.own_patient, instrument="hit6", answers=answers, date=day, today=day
    )


def test_history_gives_each_instrument_newest_first_with_reasons(world):
    """HIT-6 responses come newest first, each with the engine's reason, and the change first -> latest."""
    _hit6(world, date(2026, 1, 5), ["always"] * 6)
    _hit6(world, date(2026, 3, 2), ["sometimes"] * 6)
    history = questionnaire_history(user=world.users["clinician"], patient=world.own_patient)
    hit6 = history["hit6"]
    assert [s.response.total for s in hit6.responses] == [60, 78]
    assert hit6.latest.reason == "HIT-6 total 60: >= 60 severe impact"
    assert hit6.change.reason.endswith("HIT-6 78 -> 60: drop of 18 points (>= 5: responder)")
    assert history["midas"].responses == ()
    assert history["midas"].change is None


def test_another_patients_answers_are_not_in_the_history(world):
    """The history holds only this patient's responses."""
    questionnaire_response_record(
        user=world.users["nurse"],
        patient=world.same_clinic_patient,
        instrument="hit6",
        answers=["never"] * 6,
        date=date(2026, 3, 2),
        today=date(2026, 3, 2),
    )
    assert questionnaire_history(user=world.users["patient"], patient=world.own_patient)["hit6"].responses == ()


def test_reads_are_audited(world):
    """Reading the history and a day's response each leave an audit event for the patient."""
    questionnaire_history(user=world.users["clinician"], patient=world.own_patient)
    found = questionnaire_response_on(
        user=world.users["patient"], patient=world.own_patient, instrument=Instrument.MIDAS, day=date(2026, 3, 2)
    )
    assert found is None
    events = AuditEvent.objects.filter(action=Action.READ, patient_id=world.own_patient.external_id)
    assert sorted(events.values_list("object_type", flat=True)) == ["questionnaire_midas", "questionnaires"]


def test_the_hit6_change_is_from_the_answer_before_treatment_as_on_the_patient_page(world):
    """48 long before, 78 just before the first injection, 66 now: the change is 78 -> 66 (a response), the patient
    page's rule, not 48 -> 66 from the first answer ever (the two pages disagreed)."""
    from onaboard.web.injections.models import SessionStatus
    from tests.web.factories import InjectionSessionFactory

    _hit6(world, date(2025, 6, 2), ["rarely"] * 6)
    _hit6(world, date(2026, 3, 1), ["always"] * 6)
    _hit6(world, date(2026, 6, 1), ["very often"] * 6)
    InjectionSessionFactory(patient=world.own_patient, date=date(2026, 3, 3), status=SessionStatus.RECORDED)
    history = questionnaire_history(user=world.users["clinician"], patient=world.own_patient)
    assert history["hit6"].change.reason.endswith("HIT-6 78 -> 66: drop of 12 points (>= 5: responder)")
    assert history["hit6"].compared.before_treatment


@pytest.mark.parametrize(
    ("session_day", "before_treatment"),
    [
        (None, False),
        (date(2026, 3, 1), False),
        (date(2026, 3, 2), True),
        (date(2026, 3, 29), True),
        (date(2026, 3, 30), False),
        (date(2026, 5, 1), False),
    ],
)
def test_the_baseline_is_before_treatment_only_when_answered_in_the_28_days_up_to_the_first_session(
    world, session_day, before_treatment
):
    """With no recorded session, or only answers after the first, the baseline is the first answer and not 'before
    treatment'; an answer on the first session's day or up to 27 days before is; one 28 or 60 days before is still
    compared with, but is not 'before treatment' (``onaboard.clinical.prom_baseline``)."""
    from onaboard.web.injections.models import SessionStatus
    from tests.web.factories import InjectionSessionFactory

    _hit6(world, date(2026, 3, 2), ["always"] * 6)
    _hit6(world, date(2026, 5, 4), ["sometimes"] * 6)
    if session_day is not None:
        InjectionSessionFactory(patient=world.own_patient, date=session_day, status=SessionStatus.RECORDED)
    for instrument in ("hit6", "midas"):
        responses = list(QuestionnaireResponse.objects.filter(instrument=instrument).order_by("date"))
        assert baseline_and_latest(responses, session_day) == (
            None if instrument == "midas" else BaselineAndLatest(responses[0], responses[1], session_day)
        )
    compared = questionnaire_history(user=world.users["patient"], patient=world.own_patient)["hit6"].compared
    assert (compared.baseline.total, compared.latest.total) == (78, 60)
    assert compared.first_session == session_day
    assert compared.before_treatment is before_treatment
    older = session_day is not None and session_day >= date(2026, 3, 30)
    assert compared.older_than_window is older


def test_the_baseline_is_the_answer_in_the_window_not_an_older_one(world):
    """Answers 120 and 10 days before the first session and one after it: the one 10 days before is the baseline
    before treatment, not the older one."""
    from onaboard.web.injections.models import SessionStatus
    from tests.web.factories import InjectionSessionFactory

    _hit6(world, date(2025, 11, 2), ["rarely"] * 6)
    _hit6(world, date(2026, 2, 20), ["always"] * 6)
    _hit6(world, date(2026, 6, 1), ["very often"] * 6)
    InjectionSessionFactory(patient=world.own_patient, date=date(2026, 3, 2), status=SessionStatus.RECORDED)
    compared = questionnaire_history(user=world.users["clinician"], patient=world.own_patient)["hit6"].compared
    assert (compared.baseline.date, compared.before_treatment, compared.older_than_window) == (
        date(2026, 2, 20),
        True,
        False,
    )
