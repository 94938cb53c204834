"""Reading questionnaires (onaboard/web/outcomes/selectors.py): newest first, engine reasons, audited."""

from __future__ import annotations

from datetime import date

from onaboard.web.audit.models import Action, AuditEvent
from onaboard.web.outcomes.models import Instrument
from onaboard.web.outcomes.selectors import questionnaire_history, questionnaire_response_on
from onaboard.web.outcomes.services import questionnaire_response_record


def _hit6(world, day, answers):
    questionnaire_response_record(
        user=world.users["patient"], patient=world.own_patient, instrument="hit6", answers=answers, date=day
    )


def test_history_gives_each_instrument_newest_first_with_reasons(world):
    """HIT-6 responses come newest first, each with the engine's reason, and the change first -> latest."""
    _hit6(world, date(2026, 1, 5), ["always"] * 6)
    _hit6(world, date(2026, 3, 2), ["sometimes"] * 6)
    history = questionnaire_history(user=world.users["clinician"], patient=world.own_patient)
    hit6 = history["hit6"]
    assert [s.response.total for s in hit6.responses] == [60, 78]
    assert hit6.latest.reason == "HIT-6 total 60: >= 60 severe impact"
    assert hit6.change.reason == "HIT-6 78 -> 60: drop of 18 points (>= 5: responder)"
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
    assert history["hit6"].change.reason == "HIT-6 78 -> 66: drop of 12 points (>= 5: responder)"
