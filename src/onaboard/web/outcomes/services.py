"""Recording questionnaire answers (scores and bands are the engine's: onaboard.clinical.hit6_score / midas_score),
and clinicians' decisions to continue or stop treatment (kept with the engine's NICE TA260 verdict of the day)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils.translation import gettext, gettext_noop

from onaboard.clinical import PromError, hit6_score, midas_score
from onaboard.web.audit.models import Action
from onaboard.web.audit.services import audit_record
from onaboard.web.common.words import before_birth_plain, plain_day
from onaboard.web.diary.services import before_treatment_problem
from onaboard.web.outcomes.models import (
    DECISION_REASON_MAX_LENGTH,
    Decision,
    Instrument,
    QuestionnaireResponse,
    Superseded,
    SupersededQuestionnaireResponse,
    TreatmentDecision,
)
from onaboard.web.outcomes.selectors import LatestDecision, stopped_decision
from onaboard.web.patients.access import Capability, patient_for
from onaboard.web.patients.models import Patient
from onaboard.web.patients.services import patient_locked

MIDAS_KEYS: tuple[str, ...] = ("q1", "q2", "q3", "q4", "q5", "a", "b")
"""MIDAS answers by key: Q1-Q5 (days, scored) and A (headache days) and B (average pain 0-10), not scored."""


DATE_AFTER_TODAY = gettext_noop("The date answered cannot be after today ({today}).")
"""Answers are dated the day they were given: one dated later would become the latest answer the patient page and
the letters compare with the baseline. A date before the birth date (a mistyped year) is ``before_birth_plain``, as
a diary day or a side effect's onset is refused."""


class QuestionnaireDateError(ValueError):
    """The answers' date was refused (``questionnaire_date_problem``); nothing is saved."""


class QuestionnaireChangedError(ValueError):
    """The day's answer is not the one the sender saw (``answer_token``): saved, changed or removed by someone else
    since; nothing is saved or removed."""

    def __init__(self, current: QuestionnaireResponse | None) -> None:
        self.current = current
        super().__init__("the day's answer changed since the form was opened")


class QuestionnaireInvalidError(ValueError):
    """The answers were refused by the engine; ``problems`` holds its messages, one per reason."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = tuple(problems)
        super().__init__("\n".join(self.problems))


def _scored(instrument: Instrument, answers: Any) -> tuple[Any, int, str]:
    """The answers as stored (JSON), the total and the category, as the engine scores them."""
    if instrument == Instrument.HIT6:
        result = hit6_score(list(answers))
        return [answer.value for answer in result.answers], result.total, result.impact.value
    if not isinstance(answers, Mapping):
        raise TypeError("MIDAS answers are a mapping of q1..q5, a, b")
    values = {key: answers.get(key) for key in MIDAS_KEYS}
    result = midas_score(**values)
    return values, result.total, result.grade.value


def questionnaire_date_problem(patient: Patient, day: date, *, today: date) -> str | None:
    """What refuses ``day`` as the date of ``patient``'s answers, in one sentence, else None: a day after ``today``
    (``DATE_AFTER_TODAY``) or before the birth date (``Patient.predates_birth``, worded ``before_birth_plain``). The
    one rule ``questionnaire_response_record``, the forms, the API and the imports ask; ``today`` is the caller's
    (the clinic's local date a page or the API read once, an import's own), never read here."""
    if day > today:
        return gettext(DATE_AFTER_TODAY).format(today=plain_day(today))
    if patient.predates_birth(day):
        return before_birth_plain(day, patient.birth_date)
    return None


def answer_token(response: QuestionnaireResponse | None) -> str:
    """What a form carries of the answer it showed (its day and the moment it was last saved; "" for none), so a
    send replaces or removes that answer only while it is still the one saved (``expected`` below)."""
    if response is None:
        return ""
    return f"{response.date.isoformat()}@{response.modified.isoformat()}"


def day_of_token(token: str) -> date | None:
    """The day of an ``answer_token``, or None for none (or a token that is not one)."""
    try:
        return date.fromisoformat(token.partition("@")[0])
    except ValueError:
        return None


def questionnaire_answers_stored_as(response: QuestionnaireResponse, answers: Any) -> bool:
    """Whether ``answers`` are the ones ``response`` holds, as ``questionnaire_response_record`` would store them
    (normalised by the engine): the same answers sent again for its day change nothing. Answers the engine refuses
    are not."""
    try:
        stored, _total, _category = _scored(Instrument(response.instrument), answers)
    except (PromError, TypeError):
        return False
    return bool(stored == response.answers)


def questionnaire_response_record(
    *,
    user: Any,
    patient: Patient,
    instrument: Instrument | str,
    answers: Sequence[str] | Mapping[str, int | None],
    date: date,
    today: date,
    expected: str | None = None,
) -> QuestionnaireResponse:
    """Score the answers with the engine and store them: one response per instrument per day (a second replaces it).

    ``expected`` is the ``answer_token`` of the day's answer the sender saw ("" for none; None, as for the API,
    replaces whatever is there): when the day's answer is another by the time it is written (two people saving
    the same day), ``QuestionnaireChangedError`` is raised and nothing is saved.

    An answer replaced by different answers is kept as it was (``SupersededQuestionnaireResponse``, named by the
    audit event): a correction of a baseline answer never loses what the letters said before it.

    HIT-6 ``answers`` are the six answers in item order (never / rarely / sometimes / very often / always); MIDAS
    ``answers`` map q1..q5 (days in the last 3 months) and the optional a and b. Raises
    ``QuestionnaireInvalidError`` with the engine's reasons when it refuses them, ``QuestionnaireDateError`` for a
    date after ``today`` (the caller's) or before the birth date (``questionnaire_date_problem``), and for a date in
    the baseline when ``user`` is the patient (``diary.services.before_treatment_problem``: before the first
    treatment, or its day once that has passed; the baseline answers are kept as they were); nothing is saved then.
    The birth date is read from the patient's row locked (``patients.services.patient_locked``), the lock
    ``patient_update`` takes to move it: a birth date moved later at the same moment cannot pass its check against
    the record's days while these answers pass against the old one.
    """
    instrument = Instrument(instrument)
    with transaction.atomic():
        locked = patient_locked(patient)
        if (problem := questionnaire_date_problem(locked, date, today=today)) is not None:
            raise QuestionnaireDateError(problem)
        if (closed := before_treatment_problem(user, locked, date, today=today)) is not None:
            raise QuestionnaireDateError(closed)
        try:
            stored, total, category = _scored(instrument, answers)
        except PromError as refused:
            raise QuestionnaireInvalidError(refused.problems) from refused
        standing = (
            QuestionnaireResponse.objects.select_for_update()
            .filter(patient=patient, instrument=instrument, date=date)
            .first()
        )
        if expected is not None and answer_token(standing) != expected:
            raise QuestionnaireChangedError(standing)
        kept = None
        if standing is not None and standing.answers != stored:  # what it said stays on the record
            kept = _keep_superseded(standing, why=Superseded.REPLACED, user=user)
        response, created = QuestionnaireResponse.objects.update_or_create(
            patient=patient,
            instrument=instrument,
            date=date,
            defaults={"answers": stored, "total": total, "category": category},
        )
        audit_record(
            user=user,
            action=Action.CREATE if created else Action.UPDATE,
            object_type=f"questionnaire_{instrument.value}",
            object_id=response.external_id,
            patient_id=patient.external_id,
            detail=f"response of {date.isoformat()}"
            + (f"; the answer it replaced kept as {kept.external_id}" if kept else ""),
        )
    return response


def _keep_superseded(response: QuestionnaireResponse, *, why: Superseded, user: Any) -> SupersededQuestionnaireResponse:
    """Keep ``response`` as it stands now, before it is replaced or removed (``why``), by ``user``."""
    return SupersededQuestionnaireResponse.objects.create(
        patient_id=response.patient_id,
        instrument=response.instrument,
        date=response.date,
        answers=response.answers,
        total=response.total,
        category=response.category,
        response_id=response.external_id,
        why=why,
        superseded_by=user if getattr(user, "pk", None) is not None else None,
    )


def questionnaire_response_remove(*, user: Any, patient: Patient, token: str, instrument: Instrument | str) -> date:
    """Remove the answer ``token`` names (``answer_token``): one entered in error (the wrong patient, the wrong day,
    a form filled in twice). Clinical staff only: the views reach the patient with ``staff_patient_for`` and
    ``Capability.KEEP_DIARY``. What was removed is kept as it was (``SupersededQuestionnaireResponse``, named by the
    audit event), so the record of what the letters said stays whole. Raises ``QuestionnaireChangedError`` when
    that answer is no longer the one saved for its day (changed or removed since), and nothing is removed. Returns
    the day."""
    instrument = Instrument(instrument)
    day = day_of_token(token)
    with transaction.atomic():
        patient_locked(patient)
        current = (
            QuestionnaireResponse.objects.select_for_update()
            .filter(patient=patient, instrument=instrument, date=day)
            .first()
            if day is not None
            else None
        )
        if current is None or answer_token(current) != token:
            raise QuestionnaireChangedError(current)
        kept = _keep_superseded(current, why=Superseded.REMOVED, user=user)
        current.delete()
        audit_record(  # the answers are clinical: kept with the record (``kept``), not in the audit trail
            user=user,
            action=Action.DELETE,
            object_type=f"questionnaire_{instrument.value}",
            object_id=current.external_id,
            patient_id=patient.external_id,
            detail=f"response of {current.date.isoformat()} removed as entered in error; kept as {kept.external_id}",
        )
    return current.date


# --- Continue or stop treatment ---------------------------------------------------------------------------------

DECISION_REASON_NEEDED = gettext_noop(
    "Give the reason for this decision: it is kept with the decision on the patient's record."
)
DECISION_REASON_TOO_LONG = gettext_noop(
    "Keep the reason to {limit} characters or fewer; this one has {count}. A letter or note can hold the rest."
)
DECISION_AFTER_TODAY = gettext_noop("A decision is dated the day it is made: {date} is after today ({today}).")
DECISION_BEFORE_TREATMENT = gettext_noop(
    "No session is recorded on or before {date}: there is no treatment to continue or stop yet."
)
DECISION_ALREADY_SENT = gettext_noop(
    "This form was already sent with another decision or reason: that decision is on record, and this one was not "
    "saved. Check it below and send it again to record it too."
)
"""A decision form sent once, then changed and sent again with its old token (restored by the Back button)."""


class TreatmentDecisionRefusedError(ValueError):
    """The decision was not saved; ``problems`` pairs each message with the form field it belongs to ("" for the
    whole form)."""

    def __init__(self, problems: Sequence[tuple[str, str]]) -> None:
        self.problems: tuple[tuple[str, str], ...] = tuple(problems)
        super().__init__("; ".join(message for _, message in self.problems))


class TreatmentDecisionAlreadySentError(TreatmentDecisionRefusedError):
    """The form's token is on a decision with another choice or reason; nothing of this one was written
    (``DECISION_ALREADY_SENT``). The form is to be sent again with a new token."""

    def __init__(self) -> None:
        super().__init__([("", gettext(DECISION_ALREADY_SENT))])


def treatment_decision_reason(reason: str) -> str:
    """The reason as stored: line breaks as LF (a browser sends CR LF), outer spaces trimmed."""
    return reason.replace("\r\n", "\n").replace("\r", "\n").strip()


def treatment_decision_problems(*, reason: str, decided_on: date, today: date) -> list[tuple[str, str]]:
    """What refuses a decision outright, as ``(field, message)``: no reason, a reason over
    ``DECISION_REASON_MAX_LENGTH`` characters, a day after ``today`` (the caller's: the clinic's local date). The
    one rule of the service and the form."""
    problems = []
    reason = treatment_decision_reason(reason)
    if not reason:
        problems.append(("reason", gettext(DECISION_REASON_NEEDED)))
    elif len(reason) > DECISION_REASON_MAX_LENGTH:
        message = gettext(DECISION_REASON_TOO_LONG).format(limit=DECISION_REASON_MAX_LENGTH, count=len(reason))
        problems.append(("reason", message))
    if decided_on > today:
        problems.append(("", gettext(DECISION_AFTER_TODAY).format(date=plain_day(decided_on), today=plain_day(today))))
    return problems


def bookings_ahead(patient: Patient, today: date) -> QuerySet[Any]:
    """The patient's sessions booked on or after ``today``, earliest first: those a decision to stop cancels (the
    decision form names them)."""
    # injections.models is imported when asked for, as injections.services below.
    from onaboard.web.injections.models import InjectionSession, SessionStatus

    booked = InjectionSession.objects.filter(patient=patient, status=SessionStatus.BOOKED, date__gte=today)
    return booked.order_by("date")


def _book_after_continuing(user: Any, patient: Patient, today: date) -> None:
    """After a decision to continue, the next session booked as after recording one
    (``injections.services.book_next_session``: on the engine's next due date, or today once it has passed), when
    none is open and the latest decision is no longer a stop: a stop cancelled the booking ahead, and continuing
    brings one back instead of leaving the patient with none and no page offering one."""
    # injections.services reads this app's models, so it is imported when a decision is recorded.
    from onaboard.web.injections.services import book_next_session

    book_next_session(user=user, patient=patient, today=today)


def _cancel_bookings_ahead(user: Any, patient: Patient, today: date) -> None:
    """Cancel the patient's sessions booked on or after ``today`` (the next one is booked when a session is
    recorded), each as the session screen's Cancel does (``injections.services.injection_session_cancel``: audited,
    shown cancelled in the calendar feeds), inside the decision's transaction: a stopped treatment keeps no
    appointment the patient could come to. A booking whose day passed before ``today`` was missed and is left as it
    is (the worklist and the session screen treat it so)."""
    # injections.services reads this app's models, so it is imported when a stop is recorded.
    from onaboard.web.injections.services import injection_session_cancel

    for booking in bookings_ahead(patient, today):
        injection_session_cancel(user=user, session=booking, expected_version=None)


def treatment_decision_record(
    *,
    user: Any,
    patient: Patient,
    decision: Decision | str,
    reason: str,
    decided_on: date,
    today: date,
    submission: uuid.UUID | None = None,
) -> TreatmentDecision:
    """Record a clinician's decision to continue or stop treatment, with the reason and the engine's NICE TA260
    verdict, reasons and return to episodic migraine on ``decided_on`` (what the decision followed or overrode:
    ``TreatmentDecision.saw_stop``), audited. A decision to stop
    cancels the sessions booked from ``today`` on (``_cancel_bookings_ahead``), in the same transaction.

    Only a user with ``Capability.DECIDE_TREATMENT`` on a patient they may see decides: anyone else gets the access
    module's "not found" (``patient_for``, which audits the refusal). Raises ``TreatmentDecisionRefusedError`` for
    ``treatment_decision_problems`` and when no session is recorded on or before ``decided_on``; nothing is saved
    then. ``submission`` is the form's token: the same form sent again (a double click, or two posts at once)
    returns the decision the first stored, with no second audit event; the token with another choice or reason
    raises ``TreatmentDecisionAlreadySentError``. The patient's row is locked first (``patient_locked``), so two
    clinicians deciding at once are recorded one after the other, each with the verdict of its moment.
    """
    # clinic.selectors reads this app's models, so the pathway is imported when a decision is made.
    from onaboard.web.clinic.selectors import patient_pathway_state

    patient = patient_for(user, patient.external_id, need=Capability.DECIDE_TREATMENT)
    decision = Decision(decision)
    reason = treatment_decision_reason(reason)
    problems = treatment_decision_problems(reason=reason, decided_on=decided_on, today=today)
    if problems:
        raise TreatmentDecisionRefusedError(problems)
    try:
        with transaction.atomic():  # a savepoint inside a caller's transaction: a refused insert leaves it usable
            locked = patient_locked(patient)
            outcomes = patient_pathway_state(locked, decided_on).outcomes
            if outcomes is None:
                raise TreatmentDecisionRefusedError(
                    [("", gettext(DECISION_BEFORE_TREATMENT).format(date=plain_day(decided_on)))]
                )
            nice = outcomes.nice_ta260
            record = TreatmentDecision.objects.create(
                patient=patient,
                decided_on=decided_on,
                decision=decision,
                reason=reason,
                decided_by=user,
                nice_verdict=nice.verdict.value,
                nice_reasons="\n".join(nice.reasons),
                nice_reverted_to_episodic=nice.reverted_to_episodic,
                submission=submission,
            )
            audit_record(
                user=user,
                action=Action.CREATE,
                object_type="treatment_decision",
                object_id=record.external_id,
                patient_id=patient.external_id,
                detail=f"{decision.value} on {decided_on.isoformat()}; NICE TA260 verdict {nice.verdict.value}",
            )
            if decision is Decision.STOP and stopped_decision(locked, today) == LatestDecision.of(record):
                _cancel_bookings_ahead(user, locked, today)  # only when this stop is the latest (not back-dated)
            elif decision is Decision.CONTINUE:
                _book_after_continuing(user, locked, today)
    except IntegrityError:
        sent = (
            None
            if submission is None
            else TreatmentDecision.objects.filter(patient=patient, submission=submission).first()
        )
        if sent is None:
            raise
        if (sent.decision, sent.reason) != (decision, reason):
            raise TreatmentDecisionAlreadySentError from None
        return sent
    return record
