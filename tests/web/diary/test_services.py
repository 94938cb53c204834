"""Writing diary days (onaboard/web/diary/services.py): the engine's rules and the patient's birth date."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from onaboard.web.audit.models import AuditEvent
from onaboard.web.diary.models import DiaryEntry
from onaboard.web.diary.services import DAY_BEFORE_BIRTH, DiaryEntryInvalidError, diary_entry_save

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
