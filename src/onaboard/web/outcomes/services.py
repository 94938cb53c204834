"""Recording questionnaire answers. Scores and bands are the engine's (onaboard.clinical.hit6_score / midas_score)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from django.db import transaction
from django.utils.translation import gettext, gettext_noop

from onaboard.clinical import PromError, hit6_score, midas_score
from onaboard.web.audit.models import Action
from onaboard.web.audit.services import audit_record
from onaboard.web.common.words import before_birth_plain, plain_day
from onaboard.web.outcomes.models import Instrument, QuestionnaireResponse
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
) -> QuestionnaireResponse:
    """Score the answers with the engine and store them: one response per instrument per day (a second replaces it).

    HIT-6 ``answers`` are the six answers in item order (never / rarely / sometimes / very often / always); MIDAS
    ``answers`` map q1..q5 (days in the last 3 months) and the optional a and b. Raises
    ``QuestionnaireInvalidError`` with the engine's reasons when it refuses them, ``QuestionnaireDateError`` for a
    date after ``today`` (the caller's) or before the birth date (``questionnaire_date_problem``); nothing is saved
    then. The birth date is read from the patient's row locked (``patients.services.patient_locked``), the lock
    ``patient_update`` takes to move it: a birth date moved later at the same moment cannot pass its check against
    the record's days while these answers pass against the old one.
    """
    instrument = Instrument(instrument)
    with transaction.atomic():
        locked = patient_locked(patient)
        if (problem := questionnaire_date_problem(locked, date, today=today)) is not None:
            raise QuestionnaireDateError(problem)
        try:
            stored, total, category = _scored(instrument, answers)
        except PromError as refused:
            raise QuestionnaireInvalidError(refused.problems) from refused
        response, created = QuestionnaireResponse.objects.select_for_update().update_or_create(
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
            detail=f"response of {date.isoformat()}",
        )
    return response
