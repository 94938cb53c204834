"""Diary API operations: a patient's days over a date range, saving one day, and the eligibility assessment.

Saving goes through ``diary.services.diary_entry_save``, so the API, the portal form and the CSV import apply the
engine's one set of diary rules; the assessment is ``onaboard.clinical.assess`` serialised exactly as the command
line's ``onaboard assess`` (``onaboard.serialize.assessment_json``).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop
from ninja import Query, Router, Schema, Status

from onaboard.clinical import DiaryDay, RefusedError, assess, classify_day
from onaboard.clinical.diary import YES_NO_COLUMNS
from onaboard.serialize import assessment_json
from onaboard.web.common.schema_types import IsoDate
from onaboard.web.diary.schemas import AssessmentOut, DiaryDayIn, DiaryDayOut
from onaboard.web.diary.selectors import diary_day_of, patient_diary, saved_times
from onaboard.web.diary.services import DiaryEntryConflictError, DiaryEntryInvalidError, diary_entry_save
from onaboard.web.patients.access import Capability, staff_patient_for
from onaboard.web.patients.api import PATIENT_ERRORS, WRITE_ERRORS, api_patient, audit_read, caller, problems
from onaboard.web.patients.schemas import ErrorOut, ProblemsOut

router = Router(tags=["diary"])

DEFAULT_RANGE_DAYS = 84
"""Without dates, the three 28-day periods ending today: what the eligibility verdicts look at."""
MAX_RANGE_DAYS = 732

START_AFTER_END = gettext_noop("start must be on or before end")
RANGE_TOO_LONG = gettext_noop("ask for at most {days} days at a time")
AS_OF_IN_FUTURE = gettext_noop("as_of must be today ({today}) or earlier")
DAY_CHANGED_SINCE_READ = gettext_noop(
    "This day was saved since the version given was read (by someone else, or from another page): nothing was "
    "saved. Read the day again for its current version and answers, and save again if the change still holds."
)
CLASS_ITEM_SPLIT = gettext_noop("one class per item: {item!r} holds ';', which the diary reads as two classes")
CLASS_ITEM_EMPTY = gettext_noop("an empty class: leave the item out")
AS_OF_TOO_EARLY = gettext_noop("as_of is too early: its periods would begin before 0001-01-01")


def _yes_no(value: bool) -> str:
    return "yes" if value else "no"


def _contract_fields(day: date, body: DiaryDayIn) -> dict[str, str]:
    """The JSON body as the diary contract's text fields, so the engine applies its own rules to them."""
    hours = body.headache_hours
    return {
        "date": day.isoformat(),
        # Normalised: the schema bounds the significant digits, not trailing zeros ("0E-100000000" is 0).
        "headache_hours": format(hours.normalize(), "f") if isinstance(hours, Decimal) else str(hours),
        "intensity": body.intensity.strip(),
        **{name: _yes_no(getattr(body, name)) for name in YES_NO_COLUMNS},
        "acute_medication": ";".join(item.strip() for item in body.acute_medication),
        "notes": body.notes.strip(),
    }


def _day_out(day: DiaryDay, version: str) -> dict[str, Any]:
    counted = classify_day(day)
    return {
        "version": version,
        "date": day.date,
        "headache_hours": float(day.headache_hours),
        "intensity": day.intensity.value if day.intensity else None,
        "unilateral": day.unilateral,
        "pulsating": day.pulsating,
        "worse_with_activity": day.worse_with_activity,
        "nausea": day.nausea,
        "vomiting": day.vomiting,
        "photophobia": day.photophobia,
        "phonophobia": day.phonophobia,
        "aura": day.aura,
        "acute_medication": sorted(c.value for c in day.acute_medication),
        "acute_relief": day.acute_relief,
        "believed_migraine": day.believed_migraine,
        "notes": day.notes,
        "counts_as": {
            "headache": counted.headache,
            "headache_4h": counted.headache_4h,
            "migraine": counted.migraine,
            "migraine_routes": sorted(route.value for route in counted.migraine_routes),
            "attack": counted.attack,
        },
    }


class DiaryRangeQuery(Schema):
    start: IsoDate | None = None
    end: IsoDate | None = None


@router.get(
    "/patients/{patient_id}/diary",
    response={200: list[DiaryDayOut], **PATIENT_ERRORS, 422: ProblemsOut},
    summary="A patient's diary days in a date range",
)
def diary_day_list(request: HttpRequest, patient_id: UUID, query: Query[DiaryRangeQuery]) -> Any:
    """Recorded days from ``start`` to ``end`` inclusive (default: the 84 days ending today), oldest first.

    A day with no row is not recorded, which is not the same as headache-free.
    """
    patient = api_patient(request, patient_id, Capability.VIEW_CLINICAL)
    end = query.end or timezone.localdate()
    # The default range stops at the calendar's first day (a typed ``end`` may be in its first weeks).
    start = query.start or date.fromordinal(max(1, end.toordinal() - (DEFAULT_RANGE_DAYS - 1)))
    if start > end:
        return problems([("start", gettext(START_AFTER_END))], where="query")
    if (end - start).days >= MAX_RANGE_DAYS:
        return problems([("end", gettext(RANGE_TOO_LONG).format(days=MAX_RANGE_DAYS))], where="query")
    diary = patient_diary(patient, until=end)
    saved = saved_times(patient, start=start, end=end)
    audit_read(request, patient, "diary", f"{start.isoformat()}..{end.isoformat()}")
    return [_day_out(day, _version(saved.get(day.date))) for day in diary.days if day.date >= start]


def _version(modified: Any) -> str:
    """A day's ``version``: when its row was last saved (``diary.services.loaded_token``'s part after the date)."""
    return modified.isoformat() if modified is not None else ""


@router.put(
    "/patients/{patient_id}/diary/{day}",
    response={200: DiaryDayOut, **WRITE_ERRORS, 409: ErrorOut},
    summary="Save one diary day (create or replace)",
)
def diary_day_put(request: HttpRequest, patient_id: UUID, day: IsoDate, payload: DiaryDayIn) -> Any:
    """Create or replace the patient's row for ``day``. The diary contract's rules apply (the same as the portal
    form and the CSV import); a day that breaks them is refused with 422 listing every problem, and nothing is
    saved. A date after today, or before the patient's birth date, is refused. With ``version`` (the day's, as last
    read), a day saved since is refused with 409 and nothing is written: a nurse entering the paper diary and the
    patient's phone cannot overwrite each other unseen."""
    patient = api_patient(request, patient_id, Capability.KEEP_DIARY)
    split = _class_item_problems(payload.acute_medication)
    if split:  # joined for the engine, "triptan;opioid" would be saved as two classes (an opioid day more)
        return problems(split)
    try:
        entry = diary_entry_save(
            user=caller(request),
            patient=patient,
            fields=_contract_fields(day, payload),
            today=timezone.localdate(),
            loaded=None if payload.version is None else f"{day.isoformat()}@{payload.version}",
        )
    except DiaryEntryInvalidError as error:
        return problems((("path", "day") if field == "date" else field, message) for field, message in error.problems)
    except DiaryEntryConflictError:
        return Status(409, {"detail": gettext(DAY_CHANGED_SINCE_READ)})
    return _day_out(diary_day_of(entry, str(patient.external_id)), _version(entry.modified))


def _class_item_problems(items: list[str]) -> list[tuple[tuple[str, str, int], str]]:
    """The items of ``acute_medication`` that are not one class each, at their index: one holding the contract's
    separator, or blank. The classes themselves are the engine's to judge (``_contract_fields`` joins them)."""
    found = []
    for index, item in enumerate(items):
        if ";" in item:
            found.append((("body", "acute_medication", index), gettext(CLASS_ITEM_SPLIT).format(item=item)))
        elif not item.strip():
            found.append((("body", "acute_medication", index), gettext(CLASS_ITEM_EMPTY)))
    return found


class AssessmentQuery(Schema):
    as_of: IsoDate | None = None


@router.get(
    "/patients/{patient_id}/assessment",
    response={200: AssessmentOut, **PATIENT_ERRORS, 422: ProblemsOut},
    summary="Eligibility verdicts with their reasons",
)
def assessment_detail(request: HttpRequest, patient_id: UUID, query: Query[AssessmentQuery]) -> Any:
    """The engine's assessment on ``as_of`` (default today) over the three 28-day periods before it: chronic
    migraine (ICHD-3 1.3), medication overuse (ICHD-3 8.2) and the BOTOX label criteria, each with its reasons.
    The same JSON as ``onaboard assess``. Today's verdicts of a treated patient reflect the treatment; the patient
    page shows eligibility as it stood before the first injection: ask with ``as_of`` the day before it
    (``first_session`` of ``/pathway``). Staff only, as the patient page is: a patient's own id is "not found" to
    them (their portal shows their counts, not verdicts a clinician has not yet discussed with them)."""
    patient = staff_patient_for(caller(request), patient_id, need=Capability.VIEW_CLINICAL)
    today = timezone.localdate()
    as_of = query.as_of or today
    if as_of > today:
        return problems([("as_of", gettext(AS_OF_IN_FUTURE).format(today=today.isoformat()))], where="query")
    try:
        assessment = assess(patient_diary(patient, until=as_of), as_of=as_of, birth_date=patient.birth_date)
    except RefusedError as error:  # e.g. ``as_of`` before the patient's birth date: the engine says why
        return problems((("as_of", problem) for problem in error.problems), where="query")
    except OverflowError:  # the periods before ``as_of`` would begin before the calendar does
        return problems([("as_of", gettext(AS_OF_TOO_EARLY))], where="query")
    audit_read(request, patient, "assessment", as_of.isoformat())
    return assessment_json(assessment)
