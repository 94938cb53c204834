"""Outcomes API operations: treatment outcomes after the first injection, and the HIT-6 and MIDAS questionnaires.

Outcomes are ``onaboard.clinical.treatment_outcomes`` on today, serialised as ``onaboard outcomes`` does
(``onaboard.serialize.outcomes_json``), plus ``running_period``: a period not ended today is there, not in
``periods``, and judges nothing (the command reads a file's diary as finished, so it lists every period).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any
from uuid import UUID

from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop
from ninja import Router, Status

from onaboard.clinical import HIT6_ITEM_COUNT, Hit6Answer, PromError, hit6_score, midas_score, treatment_outcomes
from onaboard.serialize import outcomes_json, period_change_json
from onaboard.web.accounts.models import Role
from onaboard.web.diary.selectors import patient_diary
from onaboard.web.diary.services import before_treatment_problem
from onaboard.web.injections.selectors import recorded_sessions
from onaboard.web.outcomes.models import QuestionnaireResponse
from onaboard.web.outcomes.schemas import OutcomesOut, QuestionnaireIn, QuestionnaireOut
from onaboard.web.outcomes.selectors import engine_reason, questionnaire_history
from onaboard.web.outcomes.services import (
    MIDAS_KEYS,
    QuestionnaireDateError,
    QuestionnaireInvalidError,
    questionnaire_date_problem,
    questionnaire_response_record,
)
from onaboard.web.patients.access import Capability
from onaboard.web.patients.api import (
    PATIENT_ERRORS,
    WRITE_ERRORS,
    Place,
    api_patient,
    audit_read,
    caller,
    problems,
)

router = Router(tags=["outcomes"])

MIDAS_ANSWERS_SHAPE = gettext_noop("MIDAS answers are an object of q1..q5 (and optionally a and b)")
MIDAS_UNKNOWN_KEYS = gettext_noop("MIDAS has no question {keys} (known: q1..q5, a, b)")
HIT6_ANSWERS_SHAPE = gettext_noop("HIT-6 answers are a list of the six answers in item order")
NO_SESSION_YET = gettext_noop(
    "No injection session is recorded for this patient yet, so there are no treatment outcomes."
)


@router.get(
    "/patients/{patient_id}/outcomes",
    response={200: OutcomesOut, **PATIENT_ERRORS},
    summary="Treatment outcomes after the first injection",
)
def outcomes_detail(request: HttpRequest, patient_id: UUID) -> Any:
    """Headache days per 28-day period against the baseline, week 4 and week 24 response, and the NICE TA260
    continue/stop verdict with its reasons (null for the patient's own token: as on their portal, a stop is the
    clinician's to discuss first). 404 with its own message while no session is recorded."""
    patient = api_patient(request, patient_id, Capability.VIEW_CLINICAL)
    today = timezone.localdate()
    injections = list(recorded_sessions(patient).filter(date__lte=today).values_list("date", flat=True))
    audit_read(request, patient, "outcomes")
    if not injections:
        return Status(404, {"detail": gettext(NO_SESSION_YET)})
    outcomes = treatment_outcomes(patient_diary(patient, until=today), injections=injections, as_of=today)
    running = None if outcomes.running is None else period_change_json(outcomes.running)
    body = {**outcomes_json(outcomes), "running_period": running}
    if getattr(caller(request), "role", None) == Role.PATIENT:
        body["nice_ta260"] = None  # the portal's rule: the clinician discusses a stop before the patient reads it
    return body


def _questionnaire_out(response: QuestionnaireResponse, reason: str) -> dict[str, Any]:
    return {
        "id": response.external_id,
        "instrument": response.instrument,
        "date": response.date,
        "answers": response.answers,
        "total": response.total,
        "category": response.category,
        "reason": reason,
    }


@router.get(
    "/patients/{patient_id}/questionnaires",
    response={200: list[QuestionnaireOut], **PATIENT_ERRORS},
    summary="A patient's HIT-6 and MIDAS responses",
)
def questionnaire_list(request: HttpRequest, patient_id: UUID) -> Any:
    """Every response, newest first within each instrument (HIT-6, then MIDAS), with the engine's reason."""
    patient = api_patient(request, patient_id, Capability.VIEW_CLINICAL)
    history = questionnaire_history(user=caller(request), patient=patient)
    return [_questionnaire_out(s.response, s.reason) for each in history.values() for s in each.responses]


@router.post(
    "/patients/{patient_id}/questionnaires",
    response={201: QuestionnaireOut, **WRITE_ERRORS},
    summary="Submit a HIT-6 or MIDAS questionnaire",
)
def questionnaire_submit(request: HttpRequest, patient_id: UUID, payload: QuestionnaireIn) -> Any:
    """Scored by the engine (``hit6_score`` / ``midas_score``); answers it refuses are 422 with its reasons, and
    nothing is saved; so is a date after today or before the birth date (``questionnaire_date_problem``, at
    ``date``), and a patient's date before their first treatment (``before_treatment_problem``: the baseline is
    kept as it was). One response per instrument per day: a second replaces the first."""
    patient = api_patient(request, patient_id, Capability.KEEP_DIARY)
    today = timezone.localdate()
    if (date_problem := questionnaire_date_problem(patient, payload.date, today=today)) is not None:
        return problems([("date", date_problem)])
    if (closed := before_treatment_problem(caller(request), patient, payload.date, today=today)) is not None:
        return problems([("date", closed)])
    midas = payload.instrument == "midas"
    if midas != isinstance(payload.answers, dict):
        return problems([("answers", gettext(MIDAS_ANSWERS_SHAPE) if midas else gettext(HIT6_ANSWERS_SHAPE))])
    unknown = sorted(set(payload.answers) - set(MIDAS_KEYS)) if isinstance(payload.answers, dict) else []
    if unknown:
        return problems((("body", "answers", key), gettext(MIDAS_UNKNOWN_KEYS).format(keys=key)) for key in unknown)
    try:
        response = questionnaire_response_record(
            user=caller(request),
            patient=patient,
            instrument=payload.instrument,
            answers=payload.answers,
            date=payload.date,
            today=today,
        )
    except QuestionnaireInvalidError as error:
        return problems(_answer_problem_places(payload.answers, error.problems))
    except QuestionnaireDateError as refused:  # passed above, not under the patient's lock (a session since)
        return problems([("date", str(refused))])
    return Status(201, _questionnaire_out(response, engine_reason(response)))


MIDAS_PAIRS = (("q1", "q2"), ("q3", "q4"))
"""MIDAS questions whose days add up to at most the recall period: the second excludes the first's days, so a sum
too large is said at the second."""


def _refusal(score: Callable[..., object], *args: Any, **kwargs: Any) -> tuple[str, ...]:
    """The engine's problems with these answers, or none."""
    try:
        score(*args, **kwargs)
    except PromError as error:
        return error.problems
    return ()


def _answer_problem_places(
    answers: list[str] | dict[str, int | None], refused: Sequence[str]
) -> list[tuple[Place, str]]:
    """Each of the engine's problems with the answers at the answer it is about (``["body", "answers", 2]``: HIT-6
    item 3; ``["body", "answers", "q2"]``: MIDAS Q2). The engine is asked again about each answer alone (only once
    it refused them), and a problem it then says is that answer's; one it says of no answer alone (a wrong number of
    HIT-6 answers) is at ``answers``."""
    if isinstance(answers, dict):
        zeros = {key: 0 for key in MIDAS_KEYS if key.startswith("q")}
        alone = {(key,): {**zeros, key: answers.get(key)} for key in MIDAS_KEYS}
        pairs = {
            (second,): {**zeros, first: answers.get(first), second: answers.get(second)}
            for first, second in MIDAS_PAIRS
        }
        refusals = {where: _refusal(midas_score, **values) for where, values in {**alone, **pairs}.items()}
    elif len(answers) == HIT6_ITEM_COUNT:
        never = [Hit6Answer.NEVER] * HIT6_ITEM_COUNT
        refusals = {
            (index,): _refusal(hit6_score, [*never[:index], answer, *never[index + 1 :]])
            for index, answer in enumerate(answers)
        }
    else:
        refusals = {}
    place: dict[str, Place] = {}
    for where, problems_alone in refusals.items():
        for problem in problems_alone:
            place.setdefault(problem, where)
    return [(("body", "answers", *place.get(problem, ())), problem) for problem in refused]
