"""Writing diary days (onaboard/web/diary/services.py): the engine's rules and the patient's birth date."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from onaboard.web.audit.models import AuditEvent
from onaboard.web.common.words import plain_day
from onaboard.web.diary.models import DiaryEntry
from onaboard.web.diary.services import (
    BEFORE_FIRST_TREATMENT,
    DAY_BEFORE_BIRTH,
    DAY_CHANGED,
    DiaryEntryConflictError,
    DiaryEntryInvalidError,
    before_treatment_problem,
    diary_entry_problems,
    diary_entry_save,
    loaded_token,
)
from onaboard.web.injections.models import SessionStatus
from tests.web.factories import DiaryEntryFactory, InjectionSessionFactory

TODAY = date(2026, 3, 2)


def _fields(day: date) -> dict[str, str]:
    return {"date": day.isoformat(), "headache_hours": "0"}


@pytest.mark.parametrize("day", [date(1900, 1, 1), date.min], ids=["1900", "first-calendar-day"])
def test_a_day_before_the_birth_date_is_refused_naming_both(world, day):
    """A day before the patient's birth date is refused naming the day and the birth date; nothing is written."""
    patient = world.own_patient
    with pytest.raises(DiaryEntryInvalidError) as refused:
        diary_entry_save(user=world.users["patient"], patient=patient, fields=_fields(day), today=TODAY)
    message = DAY_BEFORE_BIRTH.format(date=day.isoformat(), birth=patient.birth_date.isoformat())
    assert refused.value.problems == [("date", message)]
    assert not DiaryEntry.objects.exists()
    assert not AuditEvent.objects.filter(object_type="diary_entry").exists()


def test_the_birth_date_itself_and_later_days_are_saved(world):
    """The birth date is the first day a diary can hold (as for a session); the day before it is the first refused."""
    patient = world.own_patient
    birth = patient.birth_date
    diary_entry_save(user=world.users["patient"], patient=patient, fields=_fields(birth), today=TODAY)
    with pytest.raises(DiaryEntryInvalidError):
        diary_entry_save(
            user=world.users["patient"], patient=patient, fields=_fields(birth - timedelta(days=1)), today=TODAY
        )
    assert list(DiaryEntry.objects.values_list("date", flat=True)) == [birth]


def test_the_birth_date_is_read_as_stored_not_as_the_caller_loaded_it(world):
    """The birth date was moved after the caller loaded the patient (another user's save): a day before the stored
    birth date is refused, as read under the patient's lock; nothing is written."""
    patient = world.own_patient
    day = patient.birth_date + timedelta(days=1)
    type(patient).objects.filter(pk=patient.pk).update(birth_date=day + timedelta(days=1))
    with pytest.raises(DiaryEntryInvalidError) as refused:
        diary_entry_save(user=world.users["patient"], patient=patient, fields=_fields(day), today=TODAY)
    assert [field for field, _message in refused.value.problems] == ["date"]
    assert not DiaryEntry.objects.exists()


def _treated_from(patient, day: date) -> None:
    """A recorded first session on ``day`` (a booked and a cancelled one earlier, which do not start treatment)."""
    InjectionSessionFactory(patient=patient, date=day, status=SessionStatus.RECORDED)
    InjectionSessionFactory(patient=patient, date=day - timedelta(days=20), status=SessionStatus.CANCELLED)


def test_a_patient_no_longer_changes_a_day_before_their_first_treatment(world):
    """Once the first session is recorded, the patient's days before it are the baseline: refused to them, naming
    both days, with nothing written; the day of the session and later days are theirs to keep."""
    patient, first = world.own_patient, date(2026, 2, 2)
    kept = DiaryEntryFactory(patient=patient, date=first - timedelta(days=1), headache_hours=Decimal(5))
    _treated_from(patient, first)
    day = first - timedelta(days=1)
    with pytest.raises(DiaryEntryInvalidError) as refused:
        diary_entry_save(user=world.users["patient"], patient=patient, fields=_fields(day), today=TODAY)
    message = BEFORE_FIRST_TREATMENT.format(date=plain_day(day), first=plain_day(first))
    assert refused.value.problems == [("date", message)]
    assert DiaryEntry.objects.get(pk=kept.pk).headache_hours == Decimal(5)
    assert not AuditEvent.objects.filter(object_type="diary_entry").exists()
    for later in (first, first + timedelta(days=1)):
        diary_entry_save(user=world.users["patient"], patient=patient, fields=_fields(later), today=TODAY)
    assert DiaryEntry.objects.count() == 3


@pytest.mark.parametrize("role", ["clinician", "nurse"])
def test_clinical_staff_still_correct_a_day_before_the_first_treatment(world, role):
    """Staff entering the paper diary or a mistake the patient reported: saved, and audited under their name."""
    patient = world.own_patient
    _treated_from(patient, date(2026, 2, 2))
    entry = diary_entry_save(user=world.users[role], patient=patient, fields=_fields(date(2026, 1, 5)), today=TODAY)
    assert entry.date == date(2026, 1, 5)
    assert AuditEvent.objects.get(object_type="diary_entry").user == world.users[role]


def test_before_any_recorded_session_every_day_is_the_patients_to_keep(world):
    """A booked session (not given yet) starts nothing: the diary running before treatment is the patient's."""
    patient = world.own_patient
    InjectionSessionFactory(patient=patient, date=date(2026, 2, 2), status=SessionStatus.BOOKED)
    assert before_treatment_problem(world.users["patient"], patient, date(2026, 1, 5)) is None
    diary_entry_save(user=world.users["patient"], patient=patient, fields=_fields(date(2026, 1, 5)), today=TODAY)
    assert DiaryEntry.objects.count() == 1


def test_an_import_run_by_the_servers_operator_is_not_a_patients_write(world):
    """``onaboard fhir import`` without ``--user`` (the operator) moves a clinic's records in, baseline answers
    included: the rule is a patient's, so no user refuses nothing; neither does any staff role."""
    patient = world.own_patient
    _treated_from(patient, date(2026, 2, 2))
    assert before_treatment_problem(None, patient, date(2026, 1, 5)) is None
    for role in ("clinician", "nurse", "billing", "admin"):
        assert before_treatment_problem(world.users[role], patient, date(2026, 1, 5)) is None
    assert before_treatment_problem(world.users["patient"], patient, date(2026, 1, 5)) is not None


def test_the_same_answers_sent_twice_from_one_page_are_saved_once_other_answers_are_refused(world):
    """The same form sent again (a second tap on Save while a slow phone waited: the same answers, the same
    ``loaded`` token) finds the row holding them: it is returned as saved, unchanged and audited once; different
    answers with that token, over the row the first save wrote, are a conflict and leave it as it was."""
    patient, day = world.own_patient, TODAY - timedelta(days=1)
    loaded = loaded_token(day, None)
    answers = {
        "date": day.isoformat(),
        "headache_hours": "2.5",
        "intensity": "moderate",
        "nausea": "yes",
        "acute_medication": "simple_analgesic;triptan",
        "notes": "worse in the evening",
    }

    def save(fields: dict[str, str]) -> DiaryEntry:
        return diary_entry_save(user=world.users["patient"], patient=patient, fields=fields, today=TODAY, loaded=loaded)

    first = save(answers)
    again = save(answers)
    assert (again.pk, again.modified) == (first.pk, first.modified)
    assert AuditEvent.objects.filter(object_type="diary_entry").count() == 1
    with pytest.raises(DiaryEntryConflictError, match=DAY_CHANGED.split(":")[0]):
        save({**answers, "notes": "worse in the evening, better after sleep"})
    stored = DiaryEntry.objects.get(patient=patient, date=day)
    assert (stored.headache_hours, stored.notes, stored.modified) == (Decimal("2.5"), answers["notes"], first.modified)


def test_the_problems_of_a_day_are_found_without_saving_it(world):
    """``diary_entry_problems`` gives what a save would refuse (the engine's problems, else a day before the birth
    date), and an empty list for a valid day, writing and auditing nothing."""
    patient, user = world.own_patient, world.users["patient"]
    problems = diary_entry_problems
    no_pain = {"date": "2026-03-01", "headache_hours": "2"}
    assert [column for column, _ in problems(user=user, patient=patient, fields=no_pain, today=TODAY)] == ["intensity"]
    before_birth = _fields(patient.birth_date - timedelta(days=1))
    assert [column for column, _ in problems(user=user, patient=patient, fields=before_birth, today=TODAY)] == ["date"]
    assert problems(user=user, patient=patient, fields=_fields(date(2026, 3, 1)), today=TODAY) == []
    assert not DiaryEntry.objects.exists()
    assert not AuditEvent.objects.filter(object_type="diary_entry").exists()
