"""Writing diary days. The per-row rules are the engine's (onaboard.clinical.diary_day_from_fields)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from django.db import transaction
from django.utils.translation import gettext, gettext_noop

from onaboard.clinical import FOUR_HOUR_THRESHOLD_HOURS, DiaryDay, diary_day_from_fields
from onaboard.web.accounts.models import Role
from onaboard.web.audit.models import Action
from onaboard.web.audit.services import audit_record
from onaboard.web.common.words import plain_day
from onaboard.web.diary.models import ACUTE_CLASS_ORDER, DiaryEntry
from onaboard.web.injections.models import InjectionSession, SessionStatus
from onaboard.web.patients.models import Patient

DAY_BEFORE_BIRTH = gettext_noop("the diary day {date} is before the patient's birth date ({birth}); check the year")
"""A day before the birth date cannot be a diary day (worded as injections' BEFORE_BIRTH for sessions). Saving one
would also leave the patient's details unsaveable: their birth date must come before every day of the record."""


def day_before_birth_problem(patient: Patient, day: date) -> str | None:
    """The ``DAY_BEFORE_BIRTH`` problem when ``day`` is before ``patient``'s birth date, else None."""
    if patient.predates_birth(day):
        return gettext(DAY_BEFORE_BIRTH).format(date=day.isoformat(), birth=patient.birth_date.isoformat())
    return None


BEFORE_FIRST_TREATMENT = gettext_noop(
    "{date} is before your first treatment ({first}): what you recorded before it is what your treatment is "
    "judged against, so it is kept as it was. If something in it is wrong, tell the clinic: they can correct it."
)
ANSWERS_BASELINE_CLOSED = gettext_noop(
    "Answers can no longer be dated {date}: the answers given up to your first treatment ({first}) are what your "
    "treatment is judged against, so they are kept as they were. Give the day you answered, after {first}; if an "
    "earlier answer is wrong, tell the clinic: they can correct it."
)
"""The answers' refusal (HIT-6, MIDAS): a patient adds an answer rather than changes a day, so it says which day to
give instead."""


def first_treatment_day(patient: Patient) -> date | None:
    """The day of the patient's first recorded session (day 0 of the treatment periods), or None before one."""
    return (
        InjectionSession.objects.filter(patient=patient, status=SessionStatus.RECORDED)
        .order_by("date")
        .values_list("date", flat=True)
        .first()
    )


def before_treatment_problem(user: Any, patient: Patient, day: date, *, today: date | None = None) -> str | None:
    """Why a patient (``user`` of ``Role.PATIENT``) may no longer add or change what they recorded for ``day``, else
    None.

    Once the first session is recorded, the diary days before it are the baseline period the response is judged on
    (PREEMPT's 28 days before the first injection, clinical/periods.py) and the record the eligibility and the prior
    authorisation were judged on; the HIT-6 and MIDAS answers up to it are the baseline answers
    (``clinical.prom.prom_baseline``: the 28 days up to the first injection, that day included). A patient no longer
    changes them: months later, from memory, a change would move the baseline under a verdict already given. The
    diary's day 0 is treatment period 1's first day and stays open; an answer's day 0 is baseline, so with
    ``today`` (the questionnaires pass it) it closes once that day has passed (an answer given in the waiting room
    after the session was recorded is still taken). Clinical staff, imports run by staff or by the server's operator
    (no user) still write them, every change audited. Diary days, HIT-6 and MIDAS answers ask this one rule."""
    if getattr(user, "role", None) != Role.PATIENT:
        return None
    return _closed(day, first_treatment_day(patient), today)


def before_treatment_problems(user: Any, patient: Patient, days: Iterable[date]) -> dict[date, str]:
    """``before_treatment_problem`` for each of the diary ``days`` refused (a file imported), reading the first
    session once."""
    if getattr(user, "role", None) != Role.PATIENT:
        return {}
    first = first_treatment_day(patient)
    return {day: problem for day in days if (problem := _closed(day, first, None)) is not None}


def first_open_day(user: Any, patient: Patient, *, today: date | None = None) -> date | None:
    """The earliest day ``user`` may still date a diary day (``today`` None) or an answer (``today`` given) of
    ``patient``: None when any day is open (staff, or no session recorded yet). ``before_treatment_problem``'s
    rule, for a form's ``min``."""
    if getattr(user, "role", None) != Role.PATIENT:
        return None
    return _first_open(first_treatment_day(patient), today)


def _first_open(first: date | None, today: date | None) -> date | None:
    if first is None:
        return None
    return first if today is None or today <= first else first + timedelta(days=1)


def _closed(day: date, first: date | None, today: date | None) -> str | None:
    opens = _first_open(first, today)
    if opens is None or first is None or day >= opens:
        return None
    if today is not None:  # an answer's date
        return gettext(ANSWERS_BASELINE_CLOSED).format(date=plain_day(day), first=plain_day(first))
    return gettext(BEFORE_FIRST_TREATMENT).format(date=plain_day(day), first=plain_day(first))


DAY_CHANGED = gettext_noop(
    "This day was saved by someone else, or from another page, since you opened it: your changes were not saved. "
    "It is shown below as it is saved now: make your changes again and save."
)


class DiaryEntryConflictError(ValueError):
    """The day was saved by someone else since the form was opened (``loaded_token``): nothing was written."""


def loaded_token(day: date, entry: DiaryEntry | None) -> str:
    """What a diary form carries of the day it shows: the day and when its row was last saved ("" when it had
    none), so ``diary_entry_save`` can refuse a save over a change made since."""
    saved = entry.modified if entry is not None else None  # None too for a row not saved yet
    return f"{day.isoformat()}@{saved.isoformat() if saved is not None else ''}"


class DiaryEntryInvalidError(ValueError):
    """The fields break the diary contract; ``problems`` maps each field to what is wrong."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        self.problems = problems
        super().__init__("; ".join(f"{field}: {message}" for field, message in problems))


HOURS_STEP = Decimal(1).scaleb(-DiaryEntry._meta.get_field("headache_hours").decimal_places)  # type: ignore[union-attr]
"""The stored precision of a day's hours (a hundredth of an hour, 36 seconds)."""


def storable_hours(hours: Decimal) -> Decimal:
    """``hours`` to the stored hundredth without crossing a bound of the day definitions (diary contract, "Day
    definitions"): a headache of under 0.01 h stays a headache day (0.01), one of 3.995-3.999 h stays under
    ``FOUR_HOUR_THRESHOLD_HOURS`` (3.99). Every other value is rounded half to even. The contract allows any
    number of decimals; the classification of a stored day is always that of the day as given."""
    stored = hours.quantize(HOURS_STEP, rounding=ROUND_HALF_EVEN)
    if hours > 0 and stored == 0:
        return HOURS_STEP
    if hours < FOUR_HOUR_THRESHOLD_HOURS <= stored:
        return FOUR_HOUR_THRESHOLD_HOURS - HOURS_STEP
    return stored


def diary_entry_fields(day: DiaryDay) -> dict[str, Any]:
    """The ``DiaryEntry`` fields of a diary day the engine validated, as ``diary_entry_save`` and every import store
    them (hours as stored, medication classes in their fixed order)."""
    return {
        "headache_hours": storable_hours(day.headache_hours),
        "intensity": day.intensity.value if day.intensity else "",
        "unilateral": day.unilateral,
        "pulsating": day.pulsating,
        "worse_with_activity": day.worse_with_activity,
        "nausea": day.nausea,
        "vomiting": day.vomiting,
        "photophobia": day.photophobia,
        "phonophobia": day.phonophobia,
        "aura": day.aura,
        "acute_medication": ";".join(c for c in ACUTE_CLASS_ORDER if c in day.acute_medication),
        "acute_relief": day.acute_relief,
        "believed_migraine": day.believed_migraine,
        "notes": day.notes,
    }


def diary_entry_problems(
    *, user: Any, patient: Patient, fields: Mapping[str, str], today: date
) -> list[tuple[str, str]]:
    """What ``diary_entry_save`` would refuse in ``fields``, without saving anything: the engine's problems, else a
    day before the patient's birth date or (for a patient) before their first treatment. For a form that refused
    some answers itself, so the diary's rules about the others are shown with them, not only at the next save."""
    result = diary_day_from_fields({**fields, "patient_id": "P"}, today=today, stored=True)
    if isinstance(result, list):
        return result
    if (before_birth := day_before_birth_problem(patient, result.date)) is not None:
        return [("date", before_birth)]
    if (closed := before_treatment_problem(user, patient, result.date)) is not None:
        return [("date", closed)]
    return []


def diary_entry_save(
    *, user: Any, patient: Patient, fields: Mapping[str, str], today: date, loaded: str | None = None
) -> DiaryEntry:
    """Create or replace the patient's row for ``fields["date"]``, validated by the diary contract's rules.

    ``fields`` are text as a form or CSV gives them (the contract's column names). Raises
    ``DiaryEntryInvalidError`` listing every problem (a day before the patient's birth date is one); nothing is
    saved then. The birth date is read from the patient's row locked (``select_for_update``), the lock
    ``patients.services.patient_update`` takes to move it: a birth date moved later at the same moment cannot pass
    its check against the record's days while this day passes against the old birth date. A day before the first
    treatment is refused to a patient (``before_treatment_problem``). ``loaded``: the form's
    ``loaded_token`` for the day it showed; when it is that day's and the row was saved since (a nurse entering the
    paper diary while the patient's page was open), ``DiaryEntryConflictError`` and nothing is written. A row saved
    since that already holds exactly these answers (the same form sent twice: a second tap on Save while a slow
    phone waited for the first, a request retried) is not a conflict: it is returned as saved, unchanged and not
    audited again (nothing is written).
    """
    result = diary_day_from_fields({**fields, "patient_id": "P"}, today=today, stored=True)
    if isinstance(result, list):
        raise DiaryEntryInvalidError(result)
    wanted = diary_entry_fields(result)
    with transaction.atomic():
        stored = Patient.objects.select_for_update().get(pk=patient.pk)
        if (before_birth := day_before_birth_problem(stored, result.date)) is not None:
            raise DiaryEntryInvalidError([("date", before_birth)])
        if (closed := before_treatment_problem(user, stored, result.date)) is not None:
            raise DiaryEntryInvalidError([("date", closed)])
        if loaded is not None and loaded.partition("@")[0] == result.date.isoformat():
            current = DiaryEntry.objects.select_for_update().filter(patient=patient, date=result.date).first()
            if loaded != loaded_token(result.date, current):
                if current is not None and _holds(current, wanted):
                    return current
                raise DiaryEntryConflictError(gettext(DAY_CHANGED))
        entry, created = DiaryEntry.objects.select_for_update().update_or_create(
            patient=patient, date=result.date, defaults=wanted
        )
        audit_record(
            user=user,
            action=Action.CREATE if created else Action.UPDATE,
            object_type="diary_entry",
            object_id=entry.external_id,
            patient_id=patient.external_id,
            detail=result.date.isoformat(),
        )
    return entry


def _holds(entry: DiaryEntry, fields: Mapping[str, Any]) -> bool:
    """Whether ``entry`` already stores ``fields`` (``diary_entry_fields``), each one as it is saved."""
    return all(getattr(entry, name) == value for name, value in fields.items())
