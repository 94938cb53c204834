"""Reading questionnaires (onaboard/web/outcomes/selectors.py): newest first, engine reasons, audited."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from onaboard.clinical import PERIOD_DAYS, PROM_WINDOW_DAYS, NiceTa260, NiceVerdict, hit6_change, treatment_outcomes
from onaboard.clinical.outcomes import Week24State
from onaboard.web.audit.models import Action, AuditEvent
from onaboard.web.outcomes.models import Instrument, QuestionnaireResponse
from onaboard.web.outcomes.selectors import (
    HIT6_DIFFERENCE_ONLY,
    HIT6_TOO_SOON,
    BaselineAndLatest,
    Hit6ChangeForStaff,
    Week24Period,
    baseline_and_latest,
    hit6_change_from_baseline,
    questionnaire_history,
    questionnaire_response_on,
    week24_period,
)
from onaboard.web.outcomes.services import questionnaire_response_record


def _hit6(world, day, answers):
    questionnaire_response_record(
        user=world.users["patient"], patient=world.own_patient, instrument="hit6", answers=answers, date=day, today=day
    )


def test_history_gives_each_instrument_newest_first_with_reasons(world):
    """HIT-6 responses come newest first, each with the engine's reason, and the change first -> latest: with no
    session recorded it is not from before treatment, so the raw difference without a responder verdict."""
    _hit6(world, date(2026, 1, 5), ["always"] * 6)
    _hit6(world, date(2026, 3, 2), ["sometimes"] * 6)
    history = questionnaire_history(user=world.users["clinician"], patient=world.own_patient)
    hit6 = history["hit6"]
    assert [s.response.total for s in hit6.responses] == [60, 78]
    assert hit6.latest.reason == "HIT-6 total 60: >= 60 severe impact"
    assert hit6.change.engine == hit6_change(78, 60)
    assert (hit6.change.responder, hit6.change.tone) == (None, "")
    assert hit6.change.reason == str(HIT6_DIFFERENCE_ONLY) % {"baseline": 78, "latest": 60, "difference": "-18"}
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
    assert history["hit6"].change.reason == hit6_change(78, 66).reason
    assert (history["hit6"].change.responder, history["hit6"].change.tone) == (True, "ok")
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


@pytest.mark.parametrize(
    ("before", "latest", "before_treatment", "responder", "tone", "difference"),
    [
        (66, 58, True, True, "ok", None),
        (66, 63, True, False, "warn", None),
        (66, 58, False, None, "", "-8"),
        (58, 66, False, None, "", "+8"),
        (60, 60, False, None, "", "0"),
    ],
)
def test_a_hit6_change_is_judged_only_from_a_baseline_before_treatment(
    before, latest, before_treatment, responder, tone, difference
):
    """From an answer before treatment the change carries the engine's verdict, reason and colour; from any other
    answer only the raw difference, with no responder verdict and no colour (a drop of 8 points from an answer
    given after the first session says nothing of the response to treatment)."""
    change = Hit6ChangeForStaff(hit6_change(before, latest), before_treatment=before_treatment)
    assert (change.baseline, change.follow_up, change.drop) == (before, latest, before - latest)
    assert (change.responder, change.tone) == (responder, tone)
    if difference is None:
        assert change.reason == hit6_change(before, latest).reason
    else:
        assert change.reason == str(HIT6_DIFFERENCE_ONLY) % {
            "baseline": before,
            "latest": latest,
            "difference": difference,
        }
        assert change.reason.startswith(f"HIT-6 {before} -> {latest}: {difference} points; not a change since")


def test_the_reason_for_a_stop_held_back_by_the_baseline_is_the_episodic_one():
    """The engine's reason for the stop: a stop verdict's first; with an incomplete baseline the return-to-episodic
    reason that follows the baseline's (computed by the engine for a diary begun at the first injection)."""
    from tests.web.clinic.diaries import course_rows, diary_of

    day0 = date(2026, 3, 2)
    rows = [row for row in course_rows(day0, 20, 6, 5, 4) if row["date"] >= day0.isoformat()]
    held_back = treatment_outcomes(diary_of(rows, today=date(2026, 6, 30)), injections=[day0]).nice_ta260
    assert (held_back.verdict, held_back.reverted_to_episodic) == (NiceTa260.NOT_YET_ASSESSABLE, True)
    assert held_back.stop_reason == held_back.reasons[1]
    stop = NiceVerdict(NiceTa260.STOP, ("week 24", "fewer cycles"), reverted_to_episodic=False)
    assert stop.stop_reason == "week 24"
    assert NiceVerdict(NiceTa260.CONTINUE, ("week 24",), reverted_to_episodic=False).stop_reason == ""


@pytest.mark.parametrize(
    ("recorded", "today_day", "state"),
    [(10, 170, Week24State.ENDED_INCOMPLETE), (0, 170, Week24State.ENDED_INCOMPLETE), (28, 170, Week24State.AVAILABLE)],
)
def test_week_24s_period_is_dated_from_the_first_injection_whether_or_not_the_diary_reaches_it(
    recorded, today_day, state
):
    """Week 24 is days 140..167 after the first injection; its days recorded are 0 when the diary holds no row in
    it, and its state is the engine's."""
    from tests.web.clinic.diaries import course_rows, diary_of

    day0 = date(2026, 1, 5)
    today = day0 + timedelta(days=today_day)
    rows = course_rows(day0, 20, 16, 16, 16, 16, 16, (min(recorded, 8), recorded))
    outcomes = treatment_outcomes(diary_of(rows, today=today), injections=[day0], as_of=today)
    end = day0 + timedelta(days=167)
    assert week24_period(outcomes) == Week24Period(end - timedelta(days=PERIOD_DAYS - 1), end, recorded, state)
    assert week24_period(outcomes).ended_incomplete is (state is Week24State.ENDED_INCOMPLETE)


def test_the_session_screen_warns_of_a_stop_the_verdict_holds_back_for_an_incomplete_baseline(world):
    """``NiceVerdict.stop_suggested`` is the session screen's rule too: a patient with no baseline recorded who has
    returned to episodic migraine gets NICE TA260's warning, labelled "stop suggested" (not the engine's code), with
    the engine's reasons; a "continue" recorded since answers it (shown without alarm)."""
    from onaboard.web.injections.models import SessionStatus
    from onaboard.web.injections.selectors import WarningCode, session_warnings
    from onaboard.web.outcomes.services import treatment_decision_record
    from tests.web.clinic.diaries import course_rows, store
    from tests.web.factories import InjectionSessionFactory

    patient = world.same_clinic_patient
    today = date(2026, 6, 30)
    day0 = today - timedelta(days=90)
    store(patient, [row for row in course_rows(day0, 20, 6, 5, 4) if row["date"] >= day0.isoformat()], today=today)
    for day in (day0, day0 + timedelta(days=84)):
        InjectionSessionFactory(patient=patient, date=day, status=SessionStatus.RECORDED)
    (warning,) = [w for w in session_warnings(patient, day=today) if w.code is WarningCode.NICE_TA260]
    assert (warning.label, warning.tone) == ("stop suggested", "warn")
    assert warning.reasons[0].startswith("NICE TA260 1.2")
    treatment_decision_record(
        user=world.users["clinician"],
        patient=patient,
        decision="continue",
        reason="better",
        decided_on=today,
        today=today,
    )
    (answered,) = [w for w in session_warnings(patient, day=today) if w.code is WarningCode.NICE_TA260]
    assert (answered.label, answered.tone) == ("stop suggested", "")


def _hit6_around_first_session(world, days_after: int) -> date:
    """HIT-6 66 ("very often") 5 days before a first session on 2 March 2026 and 60 ("sometimes") ``days_after``
    days after it, recorded by the nurse; returns the first session's day."""
    from onaboard.web.injections.models import SessionStatus
    from tests.web.factories import InjectionSessionFactory

    first = date(2026, 3, 2)
    InjectionSessionFactory(patient=world.own_patient, date=first, status=SessionStatus.RECORDED)
    for day, answer in ((first - timedelta(days=5), "very often"), (first + timedelta(days=days_after), "sometimes")):
        questionnaire_response_record(
            user=world.users["nurse"],
            patient=world.own_patient,
            instrument="hit6",
            answers=[answer] * 6,
            date=day,
            today=day,
        )
    return first


@pytest.mark.parametrize("days_after", [1, 7, PROM_WINDOW_DAYS - 1])
def test_a_hit6_answer_still_recalling_days_before_the_first_session_is_not_judged(world, days_after):
    """66 before the first session and 60 on day 7 (or day 1, or day 27): HIT-6 asks about the last 4 weeks, so the
    answer still recalls days up to the first injection (PROM_WINDOW_DAYS, read as prom_in_window reads it): the
    raw difference and why, no "responder" verdict and no colour, though the baseline is before treatment."""
    _hit6_around_first_session(world, days_after)
    history = questionnaire_history(user=world.users["clinician"], patient=world.own_patient)["hit6"]
    assert history.compared.before_treatment
    assert history.compared.latest_too_soon
    assert not history.compared.since_treatment
    assert history.change.engine == hit6_change(66, 60)
    assert (history.change.responder, history.change.tone) == (None, "")
    assert history.change.reason == HIT6_TOO_SOON % {
        "baseline": 66,
        "latest": 60,
        "difference": "-6",
        "days": days_after,
        "window": PROM_WINDOW_DAYS,
    }
    assert "responder" not in history.change.reason


@pytest.mark.parametrize("days_after", [PROM_WINDOW_DAYS, PROM_WINDOW_DAYS + 1, 90])
def test_a_hit6_answer_whose_4_weeks_all_follow_the_first_session_is_judged(world, days_after):
    """From day 28 (first session + PROM_WINDOW_DAYS: its 4 weeks are days 1 .. 28, none of the baseline's) the
    change 66 -> 60 carries the engine's verdict, a response, in green."""
    _hit6_around_first_session(world, days_after)
    history = questionnaire_history(user=world.users["clinician"], patient=world.own_patient)["hit6"]
    assert history.compared.since_treatment
    assert not history.compared.latest_too_soon
    assert history.change.reason == hit6_change(66, 60).reason
    assert (history.change.responder, history.change.tone) == (True, "ok")


def test_hit6_change_from_baseline_holds_back_the_verdict_on_an_answer_given_too_soon(world):
    """The function the patient page and the continuation letter read gives no verdict on the day-7 answer either."""
    first = _hit6_around_first_session(world, 7)
    responses = list(QuestionnaireResponse.objects.filter(instrument="hit6").order_by("date"))
    change = hit6_change_from_baseline(responses, first)
    assert (change.before_treatment, change.too_soon_days, change.responder) == (True, 7, None)


def test_an_answer_too_soon_from_a_baseline_not_before_treatment_keeps_the_not_since_treatment_wording():
    """When the baseline is not before treatment either, the change is worded as not one since treatment (the
    baseline's problem comes first), whatever the latest answer's day."""
    change = Hit6ChangeForStaff(hit6_change(66, 60), before_treatment=False, too_soon_days=7)
    assert change.responder is None
    assert change.reason == str(HIT6_DIFFERENCE_ONLY) % {"baseline": 66, "latest": 60, "difference": "-6"}


def test_a_hit6_answer_the_day_after_the_first_session_says_one_day(world):
    """Answered the day after the first session, the reason reads "1 day", not "1 days"."""
    _hit6_around_first_session(world, 1)
    history = questionnaire_history(user=world.users["clinician"], patient=world.own_patient)["hit6"]
    assert "answered 1 day after the first session" in history.change.reason
