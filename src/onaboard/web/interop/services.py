"""Importing into the database: FHIR Bundles and diary CSV files, each all-or-nothing in one transaction.

Rows are matched by their natural keys (the record number in the clinic; a diary day by date; a questionnaire by
instrument and date; a session by date; a side effect by kind and onset; a preventive by drug and start; another
toxin treatment by date and product), so importing the same file again changes nothing; a session, side effect,
preventive or other toxin treatment by its own id first, so a row corrected in the clinic's own export is that
row. New and changed rows go
through the apps' own services where they have one (patients, preventives, other toxins, questionnaires), so the
same validation and audit apply; the diary's rules are the engine's (``parse_diary`` or ``diary_day_from_fields``
ran before anything is written) and its days are written in bulk, with one audit event per patient.

Before anything is written every row is asked the rules the pages apply to it (the forms' and services' own
functions: ``preventive_trial_problems``, the session recording's input rules and its 12-week and cumulative-dose
checks, ``side_effect_problems`` ...) and every problem found is reported at once, each at its row; the patient of
a record number is refused when the file's is evidently another person (``IDENTITY_CLASH``), and a Patient with a
stored patient's id and another record number (``PATIENT_ID_TAKEN``).

Imports of one patient at the same moment (two uploads of one file, a double click) run one after the other: each
locks the rows of the patients it writes before it reads anything (``_patients_locked``), so the second matches what
the first wrote. A patient an import creates cannot be locked beforehand; the second import to register them is
undone and run once more (``_once_more_if_raced``), finding them.
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import datetime as dt
import operator
import uuid
from collections.abc import Callable, Collection, Container, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS, FieldDoesNotExist, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop

from onaboard.clinical import (
    REQUIRED_COLUMNS,
    DiaryDay,
    DiaryError,
    ScheduleError,
    ToxinDose,
    csv_records,
    interval_check,
    medicine_key,
    parse_diary,
)
from onaboard.clinical.errors import Problem as CsvProblem
from onaboard.interop.fhir.read import BundleInvalidError, Problem
from onaboard.interop.fhir.records import (
    DEFAULT_VIAL_UNITS,
    DecisionRecord,
    OtherToxinRecord,
    PatientRecord,
    PreventiveRecord,
    QuestionnaireRecord,
    SessionRecord,
    SideEffectRecord,
    SiteRecord,
)
from onaboard.interop.tables import (
    PREVENTIVE_REQUIRED,
    SESSION_REQUIRED,
    TableError,
    read_preventives,
    read_sessions,
)
from onaboard.web.accounts.models import Clinic
from onaboard.web.audit.models import Action
from onaboard.web.audit.services import audit_record
from onaboard.web.diary.models import DiaryEntry
from onaboard.web.diary.services import before_treatment_problems, day_before_birth_problem, diary_entry_fields
from onaboard.web.injections.models import (
    InjectionSession,
    InjectionSiteRecord,
    SessionStatus,
    Severity,
    SideEffect,
    SideEffectReview,
)
from onaboard.web.injections.selectors import (
    CLINICIAN_OVERRIDES,
    CheckCode,
    CheckResult,
    contraindication_check,
    cycle_check_results,
    eligibility_checks,
    other_toxin_doses,
    session_warnings,
)
from onaboard.web.injections.services import (
    CLINICIAN_OVERRIDE_ONLY,
    NO_BOOKING_AFTER_STOP,
    SESSION_AFTER_ONSET,
    audit_relinked,
    booking_day_problem,
    clinicians_review_weakened,
    relink_waiting_side_effects,
    relinked_count,
    session_date_problem,
    session_input_problems,
    side_effect_problems,
    unjudged_review_weakened,
)
from onaboard.web.interop.selectors import session_record, side_effect_record
from onaboard.web.outcomes.models import QuestionnaireResponse
from onaboard.web.outcomes.selectors import stopped_decision
from onaboard.web.outcomes.services import (
    QuestionnaireDateError,
    QuestionnaireInvalidError,
    questionnaire_date_problem,
    questionnaire_response_record,
)
from onaboard.web.patients.access import Capability, can
from onaboard.web.patients.models import OtherToxinTreatment, Patient, PreventiveClass, PreventiveTrial, Sex, StopReason
from onaboard.web.patients.selectors import record_day_before_birth
from onaboard.web.patients.services import (
    BIRTH_AFTER_FIRST_RECORD,
    RECORD_NUMBER_TAKEN,
    birth_date_problem,
    other_toxin_treatment_create,
    other_toxin_treatment_problems,
    patient_create,
    patient_update,
    preventive_trial_create,
    preventive_trial_problems,
    preventive_trial_update,
)

BATCH = 1000
UNKNOWN_PATIENT = gettext_noop("no patient with record number {value} in this clinic")
OTHER_PATIENT = gettext_noop("this file is for patient {expected}; the row names {value}")
REFUSED_ROW = gettext_noop("patient {record_number}: {message}")
RECORDED_SESSION_CHANGED = gettext_noop(
    "the session of {date} is recorded, and the import would change its {fields}; an import adds and books "
    "sessions but does not change one already recorded"
)
SESSION_IN_ERROR = gettext_noop(
    "the session of {date} was marked entered in error here on {day}; an import does not bring it back (record the "
    "right session on the session page, or leave this row out)"
)
"""An import row that is a session marked entered in error here (its own id: an export made before it was)."""
SESSION_PARTS = {
    "status": gettext_noop("status"),
    "vial_units": gettext_noop("vial size"),
    "vials_used": gettext_noop("vials opened"),
    "total_units": gettext_noop("units"),
    "discarded_units": gettext_noop("units discarded"),
    "lot": gettext_noop("lot"),
    "expiry": gettext_noop("expiry"),
    "override_reason": gettext_noop("override reason"),
    "overridden_checks": gettext_noop("checks overridden"),
    "check_reasons": gettext_noop("check reasons"),
    "complications": gettext_noop("complications"),
    "sites": gettext_noop("sites"),
}
"""What each part of a session is called in a refusal (the CSV's and the Bundle's words differ; these are the
record's)."""
BIRTH_AFTER_TODAY = gettext_noop("the birth date {birth} is after today ({today}): check the year")
"""As the patient form refuses it: no age, and so no eligibility or safety screen, can be worked out from it."""
ONE_OPEN_BOOKING = gettext_noop(
    "the import would leave the patient with more than one open booking ({days}): a patient has one, the next "
    "session's; cancel or move the booking first, or leave this row out"
)
BOOKING_LEFT_OPEN = gettext_noop(
    "the session of {date} would be the patient's latest, and the import leaves their booking of {booking} open, "
    "which cannot be the next session's ({reason}): the session screen records a session on the open booking. "
    "Cancel the booking in this file (a cancelled row on {booking}), or record the session on the session screen"
)
SESSION_CHECKS_NOT_OVERRIDDEN = gettext_noop(
    "the session of {date} fails the {checks} check, which the session screen runs before recording it: {reasons}. "
    "The screen records it only with a reason to override: give the session its override reason, or correct its "
    "date"
)
NO_SESSION_THAT_DAY = gettext_noop(
    "the side effect {kind} from {onset} is attributed to a session on {day}, but no session is recorded that day"
)
IMPORT_COUNTS = gettext_noop("{kind}: {created} created, {updated} updated, {unchanged} unchanged")
DIARY_DAYS_CHANGED = gettext_noop("{record_number}: the file changes what is stored on {count} diary days: {days}")
DIARY_DAY_CHANGES = gettext_noop("{day} ({fields})")
DECISIONS_NOT_IMPORTED = gettext_noop(
    "{record_number}: the Bundle's decisions to continue or stop ({count}) are not imported: a decision here is "
    "recorded by this clinic's clinicians"
)
LATEST_WAS_STOP = gettext_noop("the latest, on {day}, was to stop treatment: record yours if it still holds")
MORE_DAYS = gettext_noop("and {count} more")
DAYS_NAMED = 10
"""The most stored diary days a result names one by one (``DIARY_DAYS_CHANGED``); the others are counted."""

Progress = Callable[[int], None]


@dataclass
class ImportSummary:
    """What an import did, per kind of row: created, updated, unchanged."""

    counts: dict[str, list[int]] = field(default_factory=dict)
    created: set[str] = field(default_factory=set)
    """The keys of the imported rows a FHIR import created (their resource ids; a diary day's
    ``diary/<patient's id>/<day>``, as ``entry_places`` names them), for the transaction's per-entry status."""
    changed_days: dict[str, list[tuple[dt.date, tuple[str, ...]]]] = field(default_factory=dict)
    """Per record number, each stored diary day a diary CSV changes and the fields it changes on it: a file that
    leaves columns out says "no" on its days (the contract's blank), replacing what the patient entered, and staff
    checking the file see where."""

    decisions_not_imported: list[tuple[str, int, dt.date | None]] = field(default_factory=list)
    """Per record number, the decisions to continue or stop its Bundle held (a FHIR import reads and skips them) and
    the day of the latest when it was to stop."""

    def add(self, kind: str, *, created: int = 0, updated: int = 0, unchanged: int = 0) -> None:
        """Count rows of ``kind`` (marked with ``gettext_noop`` by the caller, translated in ``lines``)."""
        row = self.counts.setdefault(kind, [0, 0, 0])
        row[0] += created
        row[1] += updated
        row[2] += unchanged

    def written(self, kind: str, action: str) -> None:
        """Count one row of ``kind`` that an import created or updated, by the audit action it was recorded with."""
        self.add(kind, created=int(action == Action.CREATE), updated=int(action == Action.UPDATE))

    @property
    def changed(self) -> bool:
        """Whether the import created or updated any row (a patient created is counted under "patients")."""
        return any(c + u for c, u, _ in self.counts.values())

    def lines(self) -> list[str]:
        """One line per kind of row (a patient the import created is counted under "patients" as created), then one
        per patient whose stored diary days a diary CSV changes, naming the days and fields (``DAYS_NAMED`` at
        most, the others counted), then one per patient whose Bundle held decisions to continue or stop, which are
        not imported (naming the latest when it was to stop)."""
        counts = [
            gettext(IMPORT_COUNTS).format(kind=gettext(kind), created=c, updated=u, unchanged=n)
            for kind, (c, u, n) in sorted(self.counts.items())
        ]
        changed = [
            gettext(DIARY_DAYS_CHANGED).format(record_number=number, count=len(days), days=_days_changed(days))
            for number, days in sorted(self.changed_days.items())
            if days
        ]
        return counts + changed + self.notices()

    def notices(self) -> list[str]:
        """One line per patient whose Bundle held decisions to continue or stop not held here, which an import does
        not write (naming the latest when it was to stop): worth saying even when nothing changed."""
        skipped = []
        for number, count, stopped_on in sorted(self.decisions_not_imported):
            line = gettext(DECISIONS_NOT_IMPORTED).format(record_number=number, count=count)
            if stopped_on is not None:
                line += "; " + gettext(LATEST_WAS_STOP).format(day=stopped_on.isoformat())
            skipped.append(line)
        return skipped


def _days_changed(days: Sequence[tuple[dt.date, tuple[str, ...]]]) -> str:
    """Stored diary days and the fields changed on each, in the diary's words (the fields' verbose names)."""
    named = [
        gettext(DIARY_DAY_CHANGES).format(
            day=day, fields=", ".join(str(DiaryEntry._meta.get_field(name).verbose_name) for name in names)
        )
        for day, names in sorted(days)[:DAYS_NAMED]
    ]
    if len(days) > DAYS_NAMED:
        named.append(gettext(MORE_DAYS).format(count=len(days) - DAYS_NAMED))
    return ", ".join(named)


def _match_rows(
    records: Sequence[Any], stored: Sequence[Any], passes: Sequence[Callable[[Any, Any], bool]]
) -> list[Any]:
    """The stored row each imported record is, or None: pass by pass over every record (a strict test first, for
    instance the row's own id, then looser ones), each row matched at most once. Matching record by record instead
    would let an early record's loose match take the row a later record matches exactly."""
    matches: list[Any] = [None] * len(records)
    taken: set[int] = set()
    for same in passes:
        for index, record in enumerate(records):
            if matches[index] is None:
                found = next((row for row in stored if row.pk not in taken and same(record, row)), None)
                if found is not None:
                    matches[index] = found
                    taken.add(found.pk)
    return matches


def _stamp_after_commit(model: type[DiaryEntry] | type[InjectionSession], ids: list[int]) -> None:
    """Stamp the rows an import changed again once it has committed.

    An import can run for a while inside its transaction. A diary day or session saved meanwhile is stamped later
    and may commit first; the worklist could then cache the state under that later stamp and never see this
    import's changes (same row count, same latest ``modified``). Stamping them after the commit puts their change
    after any that committed during the import. Rows an import creates change the count and need no stamp.
    """
    if ids:
        transaction.on_commit(lambda: model.objects.filter(pk__in=ids).update(modified=timezone.now()))


# --- Diary ---------------------------------------------------------------------------------------------------------


def diary_days_import(
    *,
    user: Any,
    patient: Patient,
    days: Sequence[DiaryDay],
    source: str,
    progress: Progress | None = None,
    created_days: set[dt.date] | None = None,
    changed_days: list[tuple[dt.date, tuple[str, ...]]] | None = None,
) -> tuple[int, int, int]:
    """Create or replace the patient's diary rows for ``days`` (already validated by the engine) in bulk.

    Returns (created, updated, unchanged), adding the days created to ``created_days`` and each stored day changed
    with the fields changed on it to ``changed_days`` when given; one audit event
    names the counts when anything changed. Call inside a
    transaction (the importers below do). A day before the patient's birth date is refused, as the diary pages
    refuse it (``DiaryBeforeBirthError``, nothing written).
    """
    if not days:
        return 0, 0, 0
    before_birth = [problem for day in days if (problem := day_before_birth_problem(patient, day.date))]
    if before_birth:
        raise DiaryBeforeBirthError(before_birth)
    first, last = min(d.date for d in days), max(d.date for d in days)
    stored = {e.date: e for e in DiaryEntry.objects.filter(patient=patient, date__range=(first, last))}
    new: list[DiaryEntry] = []
    changed: list[DiaryEntry] = []
    names: list[str] = []
    unchanged = 0
    now = timezone.now()  # bulk_update does not apply auto_now, and the worklist's fingerprint reads `modified`
    for day in days:
        values = diary_entry_fields(day)
        names = list(values)
        entry = stored.get(day.date)
        if entry is None:
            new.append(DiaryEntry(patient=patient, date=day.date, **values))
        elif differ := tuple(name for name, value in values.items() if getattr(entry, name) != value):
            for name, value in values.items():
                setattr(entry, name, value)
            entry.modified = now
            changed.append(entry)
            if changed_days is not None:
                changed_days.append((day.date, differ))
        else:
            unchanged += 1
    if created_days is not None:
        created_days.update(entry.date for entry in new)
    for start in range(0, len(new), BATCH):
        DiaryEntry.objects.bulk_create(new[start : start + BATCH])
        if progress:
            progress(len(new[start : start + BATCH]))
    for start in range(0, len(changed), BATCH):
        DiaryEntry.objects.bulk_update(changed[start : start + BATCH], [*names, "modified"])
        if progress:
            progress(len(changed[start : start + BATCH]))
    _stamp_after_commit(DiaryEntry, [entry.pk for entry in changed])
    if progress and unchanged:
        progress(unchanged)
    if new or changed:
        audit_record(
            user=user,
            action=Action.UPDATE if changed else Action.CREATE,
            object_type="diary_import",
            object_id=patient.external_id,
            patient_id=patient.external_id,
            detail=f"{source}: {len(new)} days created, {len(changed)} updated, {unchanged} unchanged "
            f"({first.isoformat()} to {last.isoformat()})",
        )
    return len(new), len(changed), unchanged


class DiaryBeforeBirthError(ValueError):
    """Diary days before the patient's birth date (each problem names the day and the birth date)."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = tuple(problems)
        super().__init__("; ".join(self.problems))


class DiaryCsvInvalidError(ValueError):
    """The CSV was refused; ``problems`` are the engine's ``line N, column C: ...`` problems (nothing saved)."""

    def __init__(self, problems: Sequence[CsvProblem]) -> None:
        self.problems = tuple(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


def _patients_locked(clinic: Clinic, record_numbers: Iterable[str]) -> dict[str, Patient]:
    """The clinic's patients of ``record_numbers`` by record number, their rows locked until the transaction ends
    (``select_for_update``; call inside one) and read afresh.

    Every import takes these locks before it reads what is stored, so two imports of one patient at the same moment
    run one after the other and the second matches the rows the first wrote: without them, each read the rows as
    they were before either (a transaction sees only what is committed) and each created the same preventive, or
    the second crashed on a constraint. The rows are locked in the order of their keys, so two imports of several
    patients cannot each hold a row the other waits for."""
    found = Patient.objects.select_for_update().filter(clinic=clinic, record_number__in=set(record_numbers))
    return {p.record_number: p for p in found.order_by("pk")}


def _once_more_if_raced(run: Callable[[], ImportSummary]) -> ImportSummary:
    """``run`` (an import, one transaction), run again once when it stumbled on a row committed meanwhile.

    The patient locks (``_patients_locked``) cannot hold a patient the import creates: two imports of one new
    patient both find none, and the second to register them is refused by the record number's constraint
    (``_RegisteredMeanwhile``) after the first committed; a writer that takes no lock can likewise commit a row a
    constraint then refuses (``IntegrityError``). The whole transaction is undone, so running the import again is
    the clean answer: it now finds the first's rows and matches them (a second import of the same file changes
    nothing). Should the second run stumble again, a record number taken is refused as the import refuses any
    row (``BundleInvalidError``)."""
    try:
        return run()
    except (_RegisteredMeanwhile, IntegrityError):
        pass
    try:
        return run()
    except _RegisteredMeanwhile as raced:
        raise raced.refusal from None


class _RegisteredMeanwhile(Exception):  # noqa: N818 - not an error: sends the import round once more
    """Creating the patient of an import was refused because another import registered the record number after
    this one looked (``patient_create``'s ``ValidationError``); ``refusal`` is what to answer if it recurs."""

    def __init__(self, refusal: BundleInvalidError) -> None:
        super().__init__(str(refusal))
        self.refusal = refusal


def diary_csv_import(
    *,
    user: Any,
    clinic: Clinic,
    source: str | bytes,
    today: dt.date,
    patient: Patient | None = None,
    filename: str = "diary CSV",
    progress: Progress | None = None,
) -> ImportSummary:
    """Import a diary CSV (shared/spec/diary-csv.md) whose ``patient_id`` is the record number in ``clinic``.

    With ``patient`` every row must be that patient's. Validation is the engine's ``parse_diary``; an unknown or
    other patient is a problem on the row's first line too, and so is a day before the first treatment in a file a
    patient imports themselves (``diary.services.before_treatment_problems``). All or nothing:
    ``DiaryCsvInvalidError`` lists every problem and nothing is written; otherwise one transaction writes every
    patient's days, their rows locked first (``_patients_locked``), so the same file imported twice at once writes
    each day once.
    """
    try:
        diaries = parse_diary(source, today=today, stored=True)
    except DiaryError as refused:
        problems = _with_record_number_problems(refused.problems, source, clinic, patient)
        problems += _readable_day_problems(user, problems, source, clinic, patient)
        raise DiaryCsvInvalidError(sorted(problems, key=lambda p: p.line)) from None
    lines = _Lines(source)

    @transaction.atomic  # the patients locked, then checked and written as this transaction reads them
    def in_transaction() -> ImportSummary:
        known = _patients_locked(clinic, (d.patient_id for d in diaries))
        problems = _record_number_problems(
            ((lines.first(d.patient_id), d.patient_id) for d in diaries), known=known, patient=patient
        )
        for diary in diaries:
            target = known.get(diary.patient_id)
            for day in diary.days if target is not None else ():
                if problem := day_before_birth_problem(target, day.date):
                    problems.append(CsvProblem(lines.first(diary.patient_id, day.date), "date", problem))
            # a patient importing their own diary keeps the days before their first treatment as they were
            closed = before_treatment_problems(user, target, (day.date for day in diary.days)) if target else {}
            for day, problem in closed.items():
                problems.append(CsvProblem(lines.first(diary.patient_id, day), "date", problem))
        if problems:
            raise DiaryCsvInvalidError(sorted(problems, key=lambda p: p.line))
        summary = ImportSummary()
        for diary in diaries:
            changed_days = summary.changed_days.setdefault(diary.patient_id, [])
            created, updated, unchanged = diary_days_import(
                user=user,
                patient=known[diary.patient_id],
                days=diary.days,
                source=filename,
                progress=progress,
                changed_days=changed_days,
            )
            summary.add(gettext_noop("diary days"), created=created, updated=updated, unchanged=unchanged)
        return summary

    return _once_more_if_raced(in_transaction)


def _record_number_problems(
    first_lines: Iterable[tuple[int, str]], *, known: Container[str], patient: Patient | None
) -> list[CsvProblem]:
    """A problem at each record number's first line (``first_lines``: ``(line, record number)``) that is not
    ``patient``'s (when given), else not one of the ``known`` patients of the clinic."""
    problems = []
    for line, patient_id in first_lines:
        if patient is not None and patient_id != patient.record_number:
            message = gettext(OTHER_PATIENT).format(expected=patient.record_number, value=patient_id)
        elif patient_id not in known:
            message = gettext(UNKNOWN_PATIENT).format(value=patient_id)
        else:
            continue
        problems.append(CsvProblem(line, "patient_id", message))
    return problems


def _with_record_number_problems(
    refused: Sequence[CsvProblem],
    source: str | bytes,
    clinic: Clinic,
    patient: Patient | None,
    *,
    required: Sequence[str] = REQUIRED_COLUMNS,
) -> list[CsvProblem]:
    """The contract's problems (``refused``: the diary's, or a sessions or preventives table's, whose required
    columns are ``required``) with, in line order, those of the record numbers the file's rows name that are not
    ``patient``'s or not the clinic's, so a refused file lists every problem at once.

    The ``patient_id`` column is read as the contract reads it (``csv_records``: a record's line is the physical
    line it starts on), up to a bad quoting; not at all when the file is not UTF-8 or its header lacks a column the
    contract requires (its one problem then). A row the contract could not read (a problem of the whole row) or
    whose patient id it refused is passed over, and each record number is named once, at its first line left.
    Nothing is locked: the file is refused whatever the patients' rows hold."""
    try:
        text = source.decode("utf-8-sig") if isinstance(source, bytes) else source
    except UnicodeDecodeError:
        return list(refused)  # the contract's one problem: no row was read
    passed_over = {p.line for p in refused if p.column in (None, "patient_id")}
    records = csv_records(text, malformed=[])
    header = next(records, (0, []))[1]
    if any(name not in header for name in required):
        return list(refused)  # the contract's one problem: no row can be read without the column
    at = header.index("patient_id")  # a repeated column is read from its first place, as the contract reads it
    first_lines: dict[str, int] = {}
    for line, fields in records:
        if line not in passed_over and at < len(fields):
            first_lines.setdefault(fields[at], line)
    known = Patient.objects.filter(clinic=clinic, record_number__in=first_lines).values_list("record_number", flat=True)
    found = _record_number_problems(
        ((line, patient_id) for patient_id, line in first_lines.items()), known=set(known), patient=patient
    )
    return sorted([*found, *refused], key=lambda p: p.line)  # stable: a row's patient_id before its other columns


def _readable_day_problems(
    user: Any, refused: Sequence[CsvProblem], source: str | bytes, clinic: Clinic, patient: Patient | None
) -> list[CsvProblem]:
    """For a diary file the contract refuses: what the import would refuse besides, of the rows whose record number
    and date were read (no problem at the whole row, its ``patient_id`` or its ``date``): a day before the patient's
    birth date, or before their first treatment in a file a patient imports themselves. So fixing the contract's
    problems does not bring up new ones: every problem is listed at once. Nothing is locked (the file is refused).
    With ``patient`` only that patient's rows are asked (another record number's rows are refused as such, and
    their answers would tell the uploader another patient's birth date or first treatment)."""
    try:
        text = source.decode("utf-8-sig") if isinstance(source, bytes) else source
    except UnicodeDecodeError:
        return []
    passed_over = {p.line for p in refused if p.column in (None, "patient_id", "date")}
    records = csv_records(text, malformed=[])
    header = next(records, (0, []))[1]
    if "patient_id" not in header or "date" not in header:
        return []
    patient_at, date_at = header.index("patient_id"), header.index("date")
    dated: list[tuple[int, str, dt.date]] = []
    for line, fields in records:
        if line in passed_over or max(patient_at, date_at) >= len(fields):
            continue
        if patient is not None and fields[patient_at] != patient.record_number:
            continue
        try:
            dated.append((line, fields[patient_at], dt.date.fromisoformat(fields[date_at])))
        except ValueError:
            continue
    numbers = {number for _, number, _ in dated}
    patients = {p.record_number: p for p in Patient.objects.filter(clinic=clinic, record_number__in=numbers)}
    problems: list[CsvProblem] = []
    closed: dict[str, dict[dt.date, str]] = {
        number: before_treatment_problems(user, target, (day for _, n, day in dated if n == number))
        for number, target in patients.items()
    }
    for line, number, day in dated:
        target = patients.get(number)
        if target is None:
            continue
        found = (day_before_birth_problem(target, day), closed[number].get(day))  # as the import itself lists them
        problems += [CsvProblem(line, "date", problem) for problem in found if problem]
    return problems


class _Lines:
    """Where rows are in a CSV file, for the problems' locations: the file is read once (at the first lookup), and
    each set of columns looked up is indexed once (first line of each combination of values), so locating N problems
    costs one read of the file and one pass over its rows per kind of lookup, not N reads of it."""

    def __init__(self, source: str | bytes) -> None:
        self._source: str | bytes | None = source
        self._position: dict[str, int] = {}
        self._rows: list[tuple[int, list[str]]] = []
        self._indexes: dict[tuple[str, ...], dict[tuple[str | None, ...], int]] = {}

    def _read(self) -> None:
        if self._source is None:
            return
        source, self._source = self._source, None
        text = source.decode("utf-8-sig") if isinstance(source, bytes) else source
        records = csv_records(text)
        _, header = next(records)
        for at, name in enumerate(header):
            self._position.setdefault(name, at)  # a repeated column is read from its first place
        self._rows = list(records)

    def first(self, patient_id: str, day: dt.date | None = None, *, columns: Mapping[str, str] | None = None) -> int:
        """The first line whose ``patient_id`` field is ``patient_id`` (and whose ``date`` is ``day``, and whose other
        ``columns`` the file has hold those values, when given); 1 when none is."""
        self._read()
        wanted = {"patient_id": patient_id}
        if day is not None:
            wanted["date"] = day.isoformat()
        wanted |= {column: value for column, value in (columns or {}).items() if column in self._position}
        names = tuple(sorted(wanted))
        index = self._indexes.get(names)
        if index is None:
            at = [self._position[name] for name in names]
            index = {}
            for line, fields in self._rows:  # a field the row lacks matches nothing (None)
                index.setdefault(tuple(fields[i] if i < len(fields) else None for i in at), line)
            self._indexes[names] = index
        return index.get(tuple(wanted[name] for name in names), 1)


# --- The pages' rules, asked before anything is written ---------------------------------------------------------

IDENTITY_CLASH = gettext_noop(
    "record number {record_number} is {stored_name}, born {stored_birth}, in this clinic, but the Bundle's Patient "
    "with that number is {name}, born {birth}, and has another id: it is another person, so nothing was imported. "
    "Check the record number; if it is the same person, correct the name or birth date on the record first"
)
PATIENT_ID_TAKEN = gettext_noop(
    "the Bundle's Patient has the id of patient {stored} of this clinic but the record number {record_number}: "
    "importing it would copy {stored}'s record to a new patient {record_number}. If the record number changed, "
    "give the Bundle's Patient the number {stored} (or change it on the patient's details page first); if it is "
    "another person, give their Patient an id of its own"
)
NOT_A_CHOICE = gettext_noop("{what}: {value!r} is not one of the values onaboard records ({choices})")
TOO_LONG = gettext_noop("{what}: {length} characters, more than the {limit} it holds")
FIELD_REFUSED = gettext_noop("{what}: {message}")
ROW_REFUSED = gettext_noop("a row was refused when it was written; nothing was imported")
"""The last guard's message when a refusal carries no message of its own."""

Refusal = tuple[Any, str, str]
"""``(row, field, message)``: the imported row (a record value) refused, the field at fault and why."""


def _worded(model: type[Any], name: str, message: str) -> str:
    """``message`` about the field ``name`` of ``model``, named as the record names it (its verbose name)."""
    what = str(model._meta.get_field(name).verbose_name) if name != NON_FIELD_ERRORS else ""
    return gettext(FIELD_REFUSED).format(what=what, message=message) if what else message


def _plain(model: type[Any] | None, refused: ValidationError) -> list[tuple[str, str]]:
    """The model's refusal as ``(field, message)`` in plain words: the field as the record names it, a value not
    among the choices listed with them, a text too long with its length and limit. Any refusal is worded: one
    without fields (its messages, at no field), a field ``model`` lacks or a model not known (``None``: the field
    named by its name)."""
    if not hasattr(refused, "error_dict"):
        return [("", message) for message in refused.messages]
    found = []
    for name, errors in refused.error_dict.items():
        field = None
        if model is not None and name != NON_FIELD_ERRORS:
            with contextlib.suppress(FieldDoesNotExist):
                field = model._meta.get_field(name)
        what = str(field.verbose_name) if field is not None else (name if name != NON_FIELD_ERRORS else "")
        for error in errors:
            params = error.params or {}
            if error.code == "invalid_choice" and field is not None:
                choices = ", ".join(str(value) for value, _ in field.choices or ())
                message = gettext(NOT_A_CHOICE).format(what=what, value=params.get("value"), choices=choices)
            elif error.code == "max_length":
                limit, length = params.get("limit_value"), params.get("show_value")
                message = gettext(TOO_LONG).format(what=what, length=length, limit=limit)
            else:
                message = " ".join(error.messages)
                message = gettext(FIELD_REFUSED).format(what=what, message=message) if what else message
            found.append((name, message))
    return found


def _model_problems(row: Any, *, exclude: Iterable[str], reported: Iterable[str] = ()) -> list[tuple[str, str]]:
    """The model's own rules for ``row`` about to be written (text lengths, choices ...), fields in ``reported``
    (already refused with a clearer reason) and ``exclude`` (the links, set when it is written) left out."""
    try:
        row.full_clean(exclude=[*exclude, *reported], validate_unique=False, validate_constraints=False)
    except ValidationError as refused:
        return _plain(type(row), refused)
    return []


def _another_person(stored: Patient, record: PatientRecord) -> bool:
    """Whether the Bundle's Patient is evidently not the stored patient of its record number: another resource id
    (the patient's own export carries the stored public id) and another name or birth date. The same person with a
    corrected name or birth date keeps the id; another system's Bundle of the same person has the same name and
    birth date."""
    if record.key == str(stored.external_id):
        return False
    stored_name = (stored.given_name.casefold(), stored.family_name.casefold())
    name = (record.given_name.casefold(), record.family_name.casefold())
    return stored_name != name or stored.birth_date != record.birth_date


def _demographics(record: PatientRecord) -> dict[str, Any]:
    """What the Bundle says of the patient's details; ``sex`` None when its Patient gives no gender."""
    return {
        "record_number": record.record_number,
        "given_name": record.given_name,
        "family_name": record.family_name,
        "birth_date": record.birth_date,
        "sex": record.sex,
    }


def _answers(record: PatientRecord) -> dict[str, Any]:
    """The safety answers the Bundle gives: only those, since an element left out of the Patient changes nothing
    (``other_toxin_asked`` None when the Patient has no such extension)."""
    answers: dict[str, Any] = dict(record.safety)
    if record.other_toxin_asked is not None:
        answers["other_toxin_asked"] = record.other_toxin_asked
    return answers


def _as_imported(clinic: Clinic, stored: Patient | None, record: PatientRecord) -> Patient:
    """The patient as the import would leave them (not saved): the rules of the rows are asked against it, so a
    Bundle correcting the birth date is checked against the date it brings."""
    patient = copy.copy(stored) if stored is not None else Patient(clinic=clinic, sex=Sex.UNKNOWN)
    for name, value in (_demographics(record) | _answers(record)).items():
        if value is not None:
            setattr(patient, name, value)
    return patient


def _patient_problems(stored: Patient | None, patient: Patient, record: PatientRecord, today: dt.date) -> list[Refusal]:
    """The patient's own fields by the details form's rules: a birth date after today (``BIRTH_AFTER_TODAY``), more
    than the form allows before it (``birth_date_problem``, in the form's words) or, for a stored patient, after the
    record's first dated entry, and the model's constraints."""
    problems: list[Refusal] = []
    if record.birth_date is not None and record.birth_date > today:
        problems.append((record, "birth_date", gettext(BIRTH_AFTER_TODAY).format(birth=record.birth_date, today=today)))
    elif (too_early := birth_date_problem(record.birth_date, today)) is not None:
        problems.append((record, "birth_date", too_early))
    elif stored is not None and record.birth_date != stored.birth_date:
        first = record_day_before_birth(stored, record.birth_date)  # the rule patient_update and the form apply
        if first is not None:
            message = gettext(BIRTH_AFTER_FIRST_RECORD).format(birth=record.birth_date, first=first)
            problems.append((record, "birth_date", message))
    # A record number stored before numbers were held to the diary file's characters is not checked again (as the
    # details form does not while it stays as it is).
    exclude = ["clinic", "user", *(["record_number"] if stored is not None else [])]
    problems += [(record, name, message) for name, message in _model_problems(patient, exclude=exclude)]
    return problems


def _history_problems(patient: Patient, record: PatientRecord, today: dt.date) -> list[Refusal]:
    """Preventives and other toxin treatments, by the rules of their forms (``preventive_trial_problems``,
    ``other_toxin_treatment_problems``) and of their models."""
    problems: list[Refusal] = []
    for trial in record.preventives:
        found = preventive_trial_problems(
            patient=patient, start=trial.start, stop=trial.stop, stop_reason=trial.stop_reason, today=today
        )
        problems += [(trial, name, _worded(PreventiveTrial, name, message)) for name, message in found]
        row = PreventiveTrial(**_preventive_fields(trial))
        reported = {name for name, _ in found}
        problems += [(trial, n, m) for n, m in _model_problems(row, exclude=["patient"], reported=reported)]
    for treatment in record.other_toxins:
        found = other_toxin_treatment_problems(patient=patient, date=treatment.date, units=treatment.units, today=today)
        problems += [(treatment, name, _worded(OtherToxinTreatment, name, message)) for name, message in found]
        row = OtherToxinTreatment(**_other_toxin_fields(treatment))
        reported = {name for name, _ in found}
        problems += [(treatment, n, m) for n, m in _model_problems(row, exclude=["patient"], reported=reported)]
    return problems


def _diary_problems(patient: Patient, record: PatientRecord) -> list[Refusal]:
    return [(day, "date", problem) for day in record.diary if (problem := day_before_birth_problem(patient, day.date))]


def _questionnaire_problems(patient: Patient, record: PatientRecord, today: dt.date) -> list[Refusal]:
    """A response after ``today`` or before the birth date (``questionnaire_date_problem``, as
    ``questionnaire_response_record`` refuses it); the answers were scored by the engine when the Bundle was read."""
    return [
        (response, "date", problem)
        for response in record.questionnaires
        if (problem := questionnaire_date_problem(patient, response.date, today=today)) is not None
    ]


def _side_effect_problems(
    patient: Patient,
    record: PatientRecord,
    stored_sessions: Sequence[InjectionSession],
    today: dt.date,
    *,
    user: Any,
) -> list[Refusal]:
    """A side effect's session must be recorded here or in the Bundle, on or before its onset (as the review
    refuses a session after the onset: ``SESSION_AFTER_ONSET``); ``side_effect_problems`` (the rules of
    ``side_effect_report``: the onset, a description for "something else"); its fields are the model's. A grade the
    file gives a side effect, stored or new, is a review by ``user`` (``_side_effects``), so it keeps the review's
    rules: below a clinician's review, or no longer related where it said so, only a clinician may
    (``clinicians_review_weakened``); before any clinician has reviewed it (a new row: never), below the patient's
    own severity (a new row's, as the file gives it), or not related to treatment, only a clinician may either
    (``unjudged_review_weakened``)."""
    stored = list(SideEffect.objects.filter(patient=patient)) if patient.pk is not None else []
    matches = _side_effect_matches(record.side_effects, stored)
    recorded = {row.date for row in stored_sessions if row.status == SessionStatus.RECORDED}
    recorded |= {session.date for session in record.sessions if session.status == SessionStatus.RECORDED}
    problems: list[Refusal] = []
    for effect, match in zip(record.side_effects, matches, strict=True):
        found = []
        graded = effect.clinician_grade in Severity.values and (match is not None or effect.severity in Severity.values)
        if graded:  # a grade or severity not of the choices is the model's to refuse (below)
            review = (effect.clinician_grade, effect.related_to_treatment)
            # a new row is held against its own severity (no clinician has reviewed it: no review to weaken)
            judged = match if match is not None else SideEffect(**_side_effect_fields(effect, None))
            overruled = clinicians_review_weakened(user, judged, *review)
            found += [("clinician_grade", overruled)] if overruled is not None else []
            if match is None or review != (match.clinician_grade, match.related_to_treatment):  # a review it makes
                unjudged = unjudged_review_weakened(user, judged, *review)
                found += [("clinician_grade", unjudged)] if unjudged is not None else []
        if effect.session_date is not None and effect.session_date not in recorded:
            message = gettext(NO_SESSION_THAT_DAY).format(kind=effect.kind, onset=effect.onset, day=effect.session_date)
            found.append(("session", message))
        elif effect.session_date is not None and effect.onset is not None and effect.session_date > effect.onset:
            # as the review refuses it: a side effect follows the session it is put down to
            message = gettext(SESSION_AFTER_ONSET).format(session=effect.session_date, onset=effect.onset)
            found.append(("session", message))
        found += side_effect_problems(
            patient=patient, kind=effect.kind, onset=effect.onset, description=effect.description, today=today
        )
        row = SideEffect(**_side_effect_fields(effect, None))
        exclude = ["patient", "session", "reported_by", "reviewed_by"]
        found += _model_problems(row, exclude=exclude, reported={name for name, _ in found})
        problems += [(effect, name, message) for name, message in found]
    return problems


def _session_problems(
    *,
    user: Any,
    patient: Patient,
    records: Sequence[SessionRecord],
    stored: Sequence[InjectionSession],
    view: Callable[[SessionRecord], SessionRecord],
    today: dt.date,
    other_toxins: Sequence[ToxinDose],
) -> list[Refusal]:
    """What the session pages would refuse of the imported sessions: a session (other than a cancelled one) before
    the birth date, a recorded one with an expired product (``injection_session_record``'s own input rules), a
    recorded one the import adds failing a check without an override reason (``_session_check_failures``), or
    overriding one only a clinician may (``CLINICIAN_OVERRIDES``) when ``user`` may not decide treatment, a change to
    a session recorded here or marked entered in error here (``SESSION_IN_ERROR``), a field the record cannot hold
    (a lot longer than its field ...), a booking the booking page would refuse or a latest session that leaves a
    stored booking open too soon after it (``_booking_problems``). ``other_toxins`` are
    the patient's other botulinum toxin doses as the import leaves them."""
    problems: list[Refusal] = []
    for record in records:
        found: list[tuple[str, str]] = []
        if record.status == SessionStatus.RECORDED:
            found += session_input_problems(
                date=record.date, today=today, lot=record.lot, expiry=record.expiry, patient=patient
            )
        elif record.status != SessionStatus.CANCELLED and (problem := session_date_problem(patient, record.date)):
            found.append(("date", problem))
        row = InjectionSession(**_session_fields(record))
        found += _model_problems(row, exclude=["patient", "injector"], reported={name for name, _ in found})
        for site in record.sites:
            site_row = InjectionSiteRecord(**_site_fields(site))
            found += _model_problems(site_row, exclude=["session"])
        problems += [(record, name, message) for name, message in found]
    matches = _session_matches(records, stored, view)
    stopped = stopped_decision(patient, today) if patient.pk is not None else None
    problems += _booking_problems(records, matches, stored, today, stopped_on=stopped and stopped.decided_on)
    may_decide = can(user, Capability.DECIDE_TREATMENT)
    for index, failed in _session_check_failures(records, matches, stored, other_toxins, patient, today).items():
        record = records[index]
        # asked before the reason, as on the session screen: a reason the import would refuse is not asked for
        if not may_decide and (clinician_only := [check for check in failed if check.code in CLINICIAN_OVERRIDES]):
            titles = ", ".join(check.title for check in clinician_only)
            problems.append((record, "override_reason", gettext(CLINICIAN_OVERRIDE_ONLY).format(checks=titles)))
        elif not record.override_reason.strip():
            message = gettext(SESSION_CHECKS_NOT_OVERRIDDEN).format(
                date=record.date,
                checks=", ".join(check.title for check in failed),
                reasons="; ".join(reason for check in failed for reason in check.reasons),
            )
            problems.append((record, "date", message))
    for record, match in zip(records, matches, strict=True):
        if match is not None and match.status == SessionStatus.IN_ERROR:
            day = timezone.localdate(match.error_marked_at) if match.error_marked_at else match.modified.date()
            problems.append((record, "date", gettext(SESSION_IN_ERROR).format(date=match.date, day=day)))
        elif match is not None and match.status == SessionStatus.RECORDED:
            stored_view, row_view = _compared(view, match, record)
            if stored_view != row_view:
                parts = [
                    gettext(SESSION_PARTS[part.name])
                    for part in dataclasses.fields(row_view)
                    if getattr(stored_view, part.name) != getattr(row_view, part.name)
                ]
                message = gettext(RECORDED_SESSION_CHANGED).format(date=record.date, fields=", ".join(parts))
                problems.append((record, "date", message))
    return problems


def _session_check_failures(
    records: Sequence[SessionRecord],
    matches: Sequence[InjectionSession | None],
    stored: Sequence[InjectionSession],
    other_toxins: Sequence[ToxinDose],
    patient: Patient,
    today: dt.date,
) -> dict[int, tuple[CheckResult, ...]]:
    """The checks the session screen runs before recording (``session_checks``: its 12-week and cumulative-dose
    ``cycle_check_results``, the engine's ``session_cycle_checks``, and the pathway's ``eligibility_checks``: a
    decision to stop on record on the session's day, the BOTOX label criteria not met before the patient's first
    session) that each recorded session the import adds fails, by its place in ``records``. The safety screen's
    contraindication check (``contraindication_check``) is asked of a session on or after the day the stored
    answers were taken (``Patient.safety_answered_on``; today when that day is not known): they held on its day, and
    an import must not record past a contraindication the screen would stop. An earlier session is not asked: the
    answers are the patient's now, not on the day of a session given before them. The pathway's checks read the
    stored record (a patient the import creates has none yet).

    A session already recorded here is not checked again (it was when it was recorded, and the import does not
    change it). The sessions added are checked as if recorded on the screen one after the other in date order: each
    against the sessions recorded here (before and after it, as a session entered late is) and the file's earlier
    ones, and the cumulative dose against those and ``other_toxins``. So a real course restored into an empty
    clinic passes (12 weeks apart, or overridden when it was recorded: the row carries its override reason), and a
    session moved a day in the file, or given three days running, fails as the screen would have it."""
    recorded = SessionStatus.RECORDED
    history = [(row.date, row.total_units) for row in stored if row.status == recorded]
    added = sorted(
        (
            index
            for index, (record, match) in enumerate(zip(records, matches, strict=True))
            if record.status == recorded and (match is None or match.status not in (recorded, SessionStatus.IN_ERROR))
        ),
        key=lambda index: records[index].date,
    )
    failures: dict[int, tuple[CheckResult, ...]] = {}
    for index in added:
        record = records[index]
        # A row without its units is refused for them: its dose check does not run (is not failed).
        interval, dose, _ = cycle_check_results(
            record.date, record.total_units, sessions=history, other_doses=other_toxins
        )
        failed = tuple(check for check in (interval, dose) if check.failed)
        if patient.pk is not None and not patient.predates_birth(record.date):  # before birth: refused as such
            first = not any(day < record.date for day, _units in history)
            _, eligibility = eligibility_checks(session_warnings(patient, day=record.date))
            failed += tuple(check for check in eligibility if first or check.code is not CheckCode.LABEL_NOT_MET)
            if record.date >= (patient.safety_answered_on or today):
                contraindication = contraindication_check(patient, on=record.date)
                failed += (contraindication,) if contraindication.failed else ()
        if failed:
            failures[index] = failed
        history.append((record.date, record.total_units))
    return failures


def _with_overrides(record: SessionRecord, failed: Sequence[CheckResult]) -> SessionRecord:
    """``record`` storing the checks it overrides as the session screen stores them: each failed check's code among
    ``overridden_checks`` and its reasons, prefixed with the code, in ``check_reasons``; a check the row already
    says it overrode (a Bundle carries what was weighed when it was recorded) is left as the row gives it."""
    codes = [code for code in record.overridden_checks.split(",") if code]
    lines = [record.check_reasons] if record.check_reasons else []
    for check in failed:
        if check.code.value not in codes:
            codes.append(check.code.value)
            lines += [f"{check.code}: {reason}" for reason in check.reasons]
    return dataclasses.replace(record, overridden_checks=",".join(codes), check_reasons="\n".join(lines))


def _compared(
    view: Callable[[SessionRecord], SessionRecord], row: InjectionSession, record: SessionRecord
) -> tuple[SessionRecord, SessionRecord]:
    """The stored session and the imported one as compared: what the source carries (``view``), and the checks
    overridden and their reasons only when the row gives them (another system's Bundle may carry none, and the
    import stores its own finding then)."""
    stored, imported = view(session_record(row)), view(record)
    if not record.overridden_checks and not record.check_reasons:
        stored = dataclasses.replace(stored, overridden_checks="", check_reasons="")
        imported = dataclasses.replace(imported, overridden_checks="", check_reasons="")
    return stored, imported


def _toxin_history(stored: Patient | None, record: PatientRecord) -> list[ToxinDose]:
    """The patient's other botulinum toxin doses as importing ``record`` leaves them: the stored ones the record
    does not give again (``_other_toxin_matches``) and the record's own, as ``other_toxin_doses`` reads them."""
    rows = list(OtherToxinTreatment.objects.filter(patient=stored)) if stored is not None else []
    taken = {match.pk for match in _other_toxin_matches(record.other_toxins, rows) if match is not None}
    treatments = [(r.date, r.product, r.units, r.indication) for r in rows if r.pk not in taken]
    treatments += [(t.date, t.product, t.units, t.indication) for t in record.other_toxins]
    return [  # a row without units or product is refused for them
        ToxinDose(*values) for values in treatments if isinstance(values[2], int) and values[2] >= 1 and values[1]
    ]


def _booking_problems(
    records: Sequence[SessionRecord],
    matches: Sequence[InjectionSession | None],
    stored: Sequence[InjectionSession],
    today: dt.date,
    *,
    stopped_on: dt.date | None,
) -> list[Refusal]:
    """What the booking page would refuse of the bookings an import adds (a booked row that is not a stored session,
    or one booking a cancelled session again; a row matching a stored booking stands as it is, so re-importing an
    exported booking whose day has passed changes nothing): a day past the booking horizon (the booking page's own
    ``booking_day_problem``), before the last recorded session (the engine's ``interval_check``), a second open
    booking (``ONE_OPEN_BOOKING``: the pages keep one, the next session's), or any booking of a treated patient
    while the latest decision, made on ``stopped_on``, is to stop (``NO_BOOKING_AFTER_STOP``, as the booking page:
    a clinician's decision to continue comes first; an import carries no decisions). A recorded session the import
    adds that leaves a stored booking open beside it is refused too (``_booking_left_open``).

    A booked row whose day has passed is stored as it stands: it is a booking the clinic had and the patient missed
    (the worklist shows it so), which a clinic moving or restoring its records carries with them; refusing it
    refused the whole file once any booking's day had passed unrecorded. Only the booking page, which makes a new
    booking, refuses a day before today."""
    booked, recorded = SessionStatus.BOOKED, SessionStatus.RECORDED
    kept = {match.pk: record.status for record, match in zip(records, matches, strict=True) if match is not None}
    last = max(
        [row.date for row in stored if kept.get(row.pk, row.status) == recorded]
        + [record.date for record in records if record.status == recorded],
        default=None,
    )
    added = [
        record
        for record, match in zip(records, matches, strict=True)
        if record.status == booked and (match is None or match.status == SessionStatus.CANCELLED)
    ]  # a booked row matching a recorded session is refused as a change to it (``RECORDED_SESSION_CHANGED``)
    problems = _booking_left_open(records, matches, stored, kept, last)
    if stopped_on is not None and last is not None:
        message = gettext(NO_BOOKING_AFTER_STOP).format(date=stopped_on)
        return problems + [(record, "date", message) for record in added]
    for record in added:
        problem = booking_day_problem(record.date, today=today) if record.date >= today else ""
        if problem:
            problems.append((record, "date", problem))
            continue
        try:
            interval_check(last, record.date)
        except ScheduleError as refused:
            problems += [(record, "date", message) for message in refused.problems]
    still_open = [row.date for row in stored if kept.get(row.pk, row.status) == booked]
    open_days = sorted({*still_open, *(record.date for record in added)})
    if added and len(open_days) > 1:
        days = ", ".join(day.isoformat() for day in open_days)
        refused = {id(record) for record, _, _ in problems}  # a row refused for its day is not told this too
        message = gettext(ONE_OPEN_BOOKING).format(days=days)
        problems += [(record, "date", message) for record in added if id(record) not in refused]
    return problems


def _booking_left_open(
    records: Sequence[SessionRecord],
    matches: Sequence[InjectionSession | None],
    stored: Sequence[InjectionSession],
    kept: Mapping[int, str],
    last: dt.date | None,
) -> list[Refusal]:
    """A recorded session the import adds (a recorded row matching no stored session, or a cancelled one) that is
    the patient's latest recorded session after the import, while a stored booking on another day stays open
    (``kept``: each matched stored session's status as the file leaves it; ``last``: the latest recorded day after
    the import) that the engine's ``interval_check`` does not allow after it (before its day, or fewer than 84 days
    after it): refused at its date (``BOOKING_LEFT_OPEN``). The session screen records a session on the patient's
    open booking, so recording it there leaves no booking open; added beside the booking, the session left "next
    session booked" days after it. A booking 84 days or more after the session is the next session's and stays; a
    session older than the latest (a backfilled one) is not asked. The file may cancel the booking with a cancelled
    row on its day (``_session_matches`` pairs that row with the booking)."""
    booked, recorded = SessionStatus.BOOKED, SessionStatus.RECORDED
    open_days = sorted({row.date for row in stored if kept.get(row.pk, row.status) == booked})
    problems: list[Refusal] = []
    for record, match in zip(records, matches, strict=True):
        added = record.status == recorded and (match is None or match.status == SessionStatus.CANCELLED)
        if not added or record.date != last:
            continue
        for day in open_days:
            if day == record.date:
                continue
            try:
                check = interval_check(record.date, day)
            except ScheduleError as refused:
                reasons = list(refused.problems)
            else:
                reasons = [] if check.allowed else [check.reason]
            if reasons:
                message = gettext(BOOKING_LEFT_OPEN).format(date=record.date, booking=day, reason="; ".join(reasons))
                problems.append((record, "date", message))
    return problems


# --- FHIR ----------------------------------------------------------------------------------------------------------


def _without_key(value: Any) -> Any:
    return dataclasses.replace(value, key="")


def entry_places(document: Any) -> dict[str, str]:
    """Where each resource of a Bundle is (``Bundle.entry[i].resource``) by its id, and each diary day's Observation
    by ``diary/<its subject's id>/<day>`` too (a diary day keeps no id of its own): ``fhir_records_import``'s
    ``places``, so that a refusal points at the entry at fault. An id two resources share (ids are unique only
    within a resource type: another system may number its Patient and its MedicationStatement 1) places neither;
    their problems are named by the id instead."""
    places: dict[str, str] = {}
    shared: set[str] = set()
    for index, (resource_id, diary_key) in enumerate(_entry_keys(document)):
        at = f"Bundle.entry[{index}].resource"
        if resource_id is not None:
            if resource_id in places:
                shared.add(resource_id)
            places.setdefault(resource_id, at)
        if diary_key is not None:
            places.setdefault(diary_key, at)
    return {key: at for key, at in places.items() if key not in shared}


def _entry_keys(document: Any) -> list[tuple[str | None, str | None]]:
    """Each entry's resource id and, for an Observation, its diary day's key (``diary/<subject's id>/<day>``)."""
    keys: list[tuple[str | None, str | None]] = []
    entries = document.get("entry") if isinstance(document, Mapping) else None
    for entry in entries if isinstance(entries, list) else []:
        resource = entry.get("resource") if isinstance(entry, Mapping) else None
        if not isinstance(resource, Mapping):
            keys.append((None, None))
            continue
        resource_id = resource["id"] if isinstance(resource.get("id"), str) else None
        diary_key = None
        if resource.get("resourceType") == "Observation":
            subject = str((resource.get("subject") or {}).get("reference") or "")
            subject = subject.removeprefix("urn:uuid:").removeprefix("Patient/")
            day = str(resource.get("effectiveDateTime") or "")[:10]
            diary_key = f"diary/{subject}/{day}"
        keys.append((resource_id, diary_key))
    return keys


def entry_statuses(document: Any, summary: ImportSummary) -> list[str]:
    """The transaction-response status of each entry of an imported Bundle: ``201 Created`` when the import created
    its row, ``200 OK`` when it updated it or left it unchanged (and for the resources onaboard derives, such as the
    Condition, which are read but not stored)."""
    return [
        "201 Created" if summary.created & {key for key in keys if key} else "200 OK" for keys in _entry_keys(document)
    ]


_ELEMENTS: dict[type[Any], dict[str, str]] = {
    PatientRecord: {
        "birth_date": ".birthDate",
        "given_name": ".name",
        "family_name": ".name",
        "sex": ".gender",
        "record_number": ".identifier",
    },
    PreventiveRecord: {
        "start": ".effectivePeriod.start",
        "stop": ".effectivePeriod.end",
        "drug": ".medicationCodeableConcept.text",
        "dose": ".dosage[0].text",
    },
    OtherToxinRecord: {
        "date": ".effectiveDateTime",
        "units": ".dosage[0].doseAndRate[0].doseQuantity",
        "product": ".medicationCodeableConcept.text",
        "indication": ".reasonCode[0].text",
    },
    DiaryDay: {"date": ".effectiveDateTime"},
    QuestionnaireRecord: {"date": ".authored"},
    SideEffectRecord: {"onset": ".date", "severity": ".severity", "kind": ".event"},
}
"""Where in its resource each refused field of a row is (the resource itself for the others)."""


def _located(record: PatientRecord, places: Mapping[str, str], problems: Sequence[Refusal]) -> list[Problem]:
    """The problems of one patient's rows as located problems: at the entry of the row refused (found by its id in
    ``places``, else named by a FHIRPath ``where``), else at the patient's, each message naming the patient."""
    patient_at = places.get(record.key) or (
        f"Bundle.entry.resource.where(id = '{record.key}')"
        if record.key
        else f"Bundle.entry.resource.where(identifier.value = '{record.record_number}')"
    )
    located = []
    for row, name, message in problems:
        if isinstance(row, PatientRecord):
            at: str | None = patient_at
        elif isinstance(row, DiaryDay):
            at = places.get(f"diary/{record.key}/{row.date.isoformat()}")
        else:
            at = places.get(row.key) or (f"Bundle.entry.resource.where(id = '{row.key}')" if row.key else None)
        element = _ELEMENTS.get(type(row), {}).get(name, "") if at is not None else ""
        text = gettext(REFUSED_ROW).format(record_number=record.record_number, message=message)
        located.append(Problem(f"{at or patient_at}{element}", text))
    return located


def _stored_patient(clinic: Clinic, record_number: str) -> Patient | None:
    """The clinic's patient of ``record_number``, as this transaction sees them (None when there is none yet)."""
    return Patient.objects.filter(clinic=clinic, record_number=record_number).first()


def _patient_of_id(clinic: Clinic, key: str) -> Patient | None:
    """The clinic's patient whose public id is ``key`` (a Bundle's Patient id), or None: another system's id, not
    a UUID, names none."""
    try:
        public_id = uuid.UUID(key)
    except ValueError:
        return None
    return Patient.objects.filter(clinic=clinic, external_id=public_id).first()


def _record_problems(
    *, user: Any, clinic: Clinic, record: PatientRecord, places: Mapping[str, str], today: dt.date
) -> list[Problem]:
    """Every problem of one patient's record, asked of every kind of row before anything is written."""
    stored = _stored_patient(clinic, record.record_number)
    if stored is not None and _another_person(stored, record):
        message = gettext(IDENTITY_CLASH).format(
            record_number=record.record_number,
            stored_name=f"{stored.given_name} {stored.family_name}",
            stored_birth=stored.birth_date,
            name=f"{record.given_name} {record.family_name}",
            birth=record.birth_date,
        )
        return _located(record, places, [(record, "", message)])  # its rows are another person's: not compared
    holder = _patient_of_id(clinic, record.key)
    if holder is not None and holder.record_number != record.record_number:
        message = gettext(PATIENT_ID_TAKEN).format(record_number=record.record_number, stored=holder.record_number)
        return _located(record, places, [(record, "record_number", message)])
    patient = _as_imported(clinic, stored, record)
    stored_sessions = (
        list(InjectionSession.objects.filter(patient=stored).prefetch_related("sites")) if stored is not None else []
    )
    problems = [
        *_patient_problems(stored, patient, record, today),
        *_history_problems(patient, record, today),
        *_diary_problems(patient, record),
        *_session_problems(
            user=user,
            patient=patient,
            records=record.sessions,
            stored=stored_sessions,
            view=_without_key,
            today=today,
            other_toxins=_toxin_history(stored, record),
        ),
        *_questionnaire_problems(patient, record, today),
        *_side_effect_problems(patient, record, stored_sessions, today, user=user),
    ]
    return _located(record, places, problems)


def _refusal(record: PatientRecord, places: Mapping[str, str], refused: ValidationError) -> BundleInvalidError:
    """A model's refusal of one of ``record``'s rows, in plain words at the patient's entry."""
    messages = [message for _, message in _plain(None, refused)] or [gettext(ROW_REFUSED)]
    return BundleInvalidError(_located(record, places, [(record, "", m) for m in messages]))


def _patient_row(
    *, user: Any, clinic: Clinic, record: PatientRecord, summary: ImportSummary, places: Mapping[str, str]
) -> Patient:
    """Create or update the patient of ``record``: only what the Bundle gives changes (a Patient without gender or
    safety answers keeps the stored ones); a new patient starts from the record's defaults (sex unknown, the
    safety questions not asked). A new patient whose record number another import registered since this one looked
    raises ``_RegisteredMeanwhile`` (``_once_more_if_raced`` runs the import again, now finding them)."""
    demographics = {name: value for name, value in _demographics(record).items() if value is not None}
    answers = _answers(record)
    patient = _stored_patient(clinic, record.record_number)
    if patient is None:
        try:
            patient = patient_create(user=user, clinic=clinic, data={"sex": Sex.UNKNOWN} | demographics)
        except ValidationError:
            if Patient.objects.filter(clinic=clinic, record_number=record.record_number).exists():
                taken = [(record, "record_number", str(RECORD_NUMBER_TAKEN))]  # the details form's words
                raise _RegisteredMeanwhile(BundleInvalidError(_located(record, places, taken))) from None
            raise
        summary.add(gettext_noop("patients"), created=1)
        summary.created.add(record.key)
        wanted = {name: value for name, value in answers.items() if getattr(patient, name) != value}
        if wanted:
            patient = patient_update(
                user=user, patient=patient, data=wanted, expected_version=patient.version, checklist_asked=False
            )
        return patient
    wanted = {name: value for name, value in (demographics | answers).items() if getattr(patient, name) != value}
    if wanted:
        patient = patient_update(
            user=user, patient=patient, data=wanted, expected_version=patient.version, checklist_asked=False
        )
        summary.add(gettext_noop("patients"), updated=1)
    else:
        summary.add(gettext_noop("patients"), unchanged=1)
    return patient


def _session_fields(record: SessionRecord) -> dict[str, Any]:
    return {
        "date": record.date,
        "status": record.status,
        "vial_units": record.vial_units,
        "vials_used": record.vials_used,
        "total_units": record.total_units,
        "discarded_units": record.discarded_units,
        "product_lot": record.lot,
        "product_expiry": record.expiry,
        "override_reason": record.override_reason,
        "overridden_checks": record.overridden_checks,
        "check_reasons": record.check_reasons,
        "complications": record.complications,
    }


def _site_fields(site: SiteRecord) -> dict[str, Any]:
    return {
        "muscle": site.muscle,
        "side": site.side,
        "units": site.units,
        "follow_the_pain": site.follow_the_pain,
        "view": site.view,
        "x": site.x,
        "y": site.y,
    }


def _preventive_fields(trial: PreventiveRecord) -> dict[str, Any]:
    return {
        "drug": trial.drug,
        "drug_class": trial.drug_class,
        "dose": trial.dose,
        "start": trial.start,
        "stop": trial.stop,
        "stop_reason": trial.stop_reason,
    }


def _other_toxin_fields(treatment: OtherToxinRecord) -> dict[str, Any]:
    return {
        "date": treatment.date,
        "product": treatment.product,
        "units": treatment.units,
        "indication": treatment.indication,
    }


IMPORTED_REVIEW = gettext_noop("imported from a record file")
"""The reason a review carries when its grade came from an imported file (``SideEffectReview.reason``)."""


def _side_effect_fields(effect: SideEffectRecord, session: InjectionSession | None) -> dict[str, Any]:
    return {
        "kind": effect.kind,
        "onset": effect.onset,
        "severity": effect.severity,
        "description": effect.description,
        "clinician_grade": effect.clinician_grade,
        "related_to_treatment": effect.related_to_treatment,
        "session": session,
    }


def _csv_view(record: SessionRecord) -> SessionRecord:
    """What the sessions CSV carries of a session (no check reasons, no map positions, and a vial size only for a
    recorded session: a booking's is written blank and read as the default, so a stored booking's other size is not
    a change)."""
    sites = tuple(SiteRecord(s.muscle, s.side, s.units, s.follow_the_pain) for s in record.sites)
    vial_units = record.vial_units if record.status == SessionStatus.RECORDED else DEFAULT_VIAL_UNITS
    return dataclasses.replace(
        record, key="", overridden_checks="", check_reasons="", sites=sites, vial_units=vial_units
    )


class SessionsRefusedError(ValueError):
    """Imported sessions refused before anything is written; ``changes`` holds each one's day and message."""

    def __init__(self, changes: Sequence[tuple[dt.date, str]]) -> None:
        super().__init__("; ".join(message for _, message in changes))
        self.changes = tuple(changes)


def _session_matches(
    records: Sequence[SessionRecord], stored: Sequence[InjectionSession], view: Callable[[SessionRecord], SessionRecord]
) -> list[InjectionSession | None]:
    """Each record's stored session, or None. A session entered in error is matched by its own id, or, a recorded
    row without one (the sessions CSV) on its day when no session recorded in its place holds that day, by its day
    alone (refused then: ``SESSION_IN_ERROR``): an export made before it was marked, imported again, or that row
    with a detail changed (the sites reordered, the lot in capitals), would bring it back as a new session."""
    cancelled, in_error = SessionStatus.CANCELLED, SessionStatus.IN_ERROR

    def both_cancelled(record: SessionRecord, row: InjectionSession) -> bool:
        return record.date == row.date and record.status == cancelled and row.status == cancelled

    def on_a_day_in_error(record: SessionRecord, row: InjectionSession) -> bool:
        return row.status == in_error and not record.key and record.date == row.date and record.status != cancelled

    return _match_rows(
        records,
        stored,
        (
            lambda record, row: str(row.external_id) == record.key,  # the same row (its own export, or cancelled)
            lambda record, row: both_cancelled(record, row) and view(session_record(row)) == view(record),
            lambda record, row: (
                record.date == row.date and cancelled not in (record.status, row.status) and row.status != in_error
            ),
            on_a_day_in_error,
            both_cancelled,  # any number of cancelled sessions a day
            # A cancelled row without an id left over: the day's booking cancelled (a recorded session is matched
            # too, so cancelling it is refused instead of adding a cancelled row beside it).
            lambda record, row: (
                not record.key
                and record.status == cancelled
                and row.status not in (cancelled, in_error)
                and row.date == record.date
            ),
        ),
    )


def _sessions(
    *,
    user: Any,
    patient: Patient,
    records: Sequence[SessionRecord],
    summary: ImportSummary,
    view: Callable[[SessionRecord], SessionRecord] = _without_key,
    keep: tuple[str, ...] = (),
    today: dt.date | None = None,
) -> set[int]:
    """Sessions as recorded elsewhere: stored as they were (``check_reasons`` keeps what was weighed when the session
    was recorded), each create or change audited. ``view`` is what the source carries: only that is compared, and a
    change keeps what the source does not carry. A recorded session the import adds that fails the screen's 12-week
    or cumulative-dose check (``_session_check_failures``) and carries an override reason is stored with the checks
    it overrode and their reasons (``_with_overrides``), and the override audited, as recording it on the screen
    does.

    What the session pages would refuse (``_session_problems``: a session before the birth date, an expired product,
    a failed check without an override reason, a change to a session recorded here ...) raises
    ``SessionsRefusedError`` before anything is written. A session already recorded here is never changed, as the app
    itself refuses to edit or move a recorded session. A booked one may become recorded or cancelled; a cancelled row
    without an id (the sessions CSV) cancels the day's booking when no cancelled row of that day is left for it, as
    changing ``booked`` to ``cancelled`` in an exported file means.

    Once the rows are written, the side effects are put down again by the report's rule
    (``relink_waiting_side_effects``, given the sessions this import recorded), as recording, cancelling or moving a
    booking on the screen does: a report that waited for a booking the import records follows its session, and one
    not reviewed yet follows a session the import fills in between its session and its onset. Each is audited as
    its own event (``audit_relinked``) and counted in the audit detail of the row whose session it now follows,
    else (the session before its onset, not written here) of the last row written. Returns the keys of the sessions
    this import recorded (``_side_effects`` is given them)."""
    stored = list(InjectionSession.objects.filter(patient=patient).prefetch_related("sites"))
    toxins = other_toxin_doses(patient)  # a Bundle's other toxins are written before its sessions
    problems = _session_problems(
        user=user,
        patient=patient,
        records=records,
        stored=stored,
        view=view,
        today=today or timezone.localdate(),
        other_toxins=toxins,
    )
    if problems:  # the callers asked first; this keeps the rule for any other caller
        raise SessionsRefusedError([(record.date, message) for record, _, message in problems])
    matches = _session_matches(records, stored, view)
    failures = _session_check_failures(records, matches, stored, toxins, patient, today or timezone.localdate())
    updated: list[int] = []
    written: list[tuple[InjectionSession, Any, str, tuple[CheckResult, ...]]] = []
    for index, (record, match) in enumerate(zip(records, matches, strict=True)):
        if match is not None and operator.eq(*_compared(view, match, record)):
            summary.add(gettext_noop("sessions"), unchanged=1)
            continue
        failed = failures.get(index, ())
        overridden = _with_overrides(record, failed) if failed else record
        if match is None:
            session = InjectionSession.objects.create(patient=patient, **_session_fields(overridden))
            action = Action.CREATE
            summary.created.add(record.key)
        else:
            checks = ("overridden_checks", "check_reasons") if failed else ()  # the import's finding, stored
            carried = {k: v for k, v in _session_fields(overridden).items() if k not in keep or k in checks}
            for name, value in carried.items():
                setattr(match, name, value)
            match.version += 1
            match.save()
            match.sites.all().delete()
            session, action = match, Action.UPDATE
            updated.append(match.pk)
        InjectionSiteRecord.objects.bulk_create(
            InjectionSiteRecord(session=session, **_site_fields(site)) for site in record.sites
        )
        detail = f"imported {record.status} {record.date}: {record.total_units or 0} U at {len(record.sites)} sites"
        written.append((session, action, detail, tuple(failed)))
        summary.written(gettext_noop("sessions"), action)
    recorded = {session.pk for session, *_ in written if session.status == SessionStatus.RECORDED}
    # once, by the sessions as the import leaves them
    linked = relink_waiting_side_effects(patient, recorded=recorded) if written else []
    audit_relinked(user=user, patient=patient, linked=linked, why="sessions imported")
    rows = {session.pk for session, *_ in written}
    for position, (session, action, detail, failed) in enumerate(written):
        last = position == len(written) - 1
        mine = [
            (effect, to)
            for effect, to in linked
            if (to is not None and to.pk == session.pk) or (last and (to is None or to.pk not in rows))
        ]
        audit_record(
            user=user,
            action=action,
            object_type="injection_session",
            object_id=session.external_id,
            patient_id=patient.external_id,
            detail=detail + relinked_count(mine),
        )
        if failed:  # as recording on the screen audits an override (the reason is the session's)
            audit_record(
                user=user,
                action=Action.UPDATE,
                object_type="injection_session_override",
                object_id=session.external_id,
                patient_id=patient.external_id,
                detail=f"imported; overrode {', '.join(check.code.value for check in failed)}",
            )
    _stamp_after_commit(InjectionSession, updated)
    return recorded


def _questionnaires(
    *, user: Any, patient: Patient, record: PatientRecord, summary: ImportSummary, today: dt.date
) -> None:
    from onaboard.web.interop.selectors import questionnaire_record

    stored = {(r.instrument, r.date): r for r in QuestionnaireResponse.objects.filter(patient=patient)}
    for response in record.questionnaires:
        match = stored.get((response.instrument, response.date))
        if match is not None and questionnaire_record(match).answers == response.answers:
            summary.add(gettext_noop("questionnaires"), unchanged=1)
            continue
        answers: Any = list(response.answers) if response.instrument == "hit6" else dict(response.answers)  # type: ignore[arg-type]
        questionnaire_response_record(
            user=user,
            patient=patient,
            instrument=response.instrument,
            answers=answers,
            date=response.date,
            today=today,
        )
        summary.add(gettext_noop("questionnaires"), created=int(match is None), updated=int(match is not None))
        if match is None:
            summary.created.add(response.key)


def _side_effect_matches(effects: Sequence[Any], stored: Sequence[SideEffect]) -> list[SideEffect | None]:
    """Each imported side effect's stored row, or None: its own row, else one of that kind and day with the same
    content, else one of that kind and day (two effects of one kind on one day, both sides of the neck, each keep
    their own row)."""

    def same_day(effect: Any, row: SideEffect) -> bool:
        return effect.kind == row.kind and effect.onset == row.onset

    return _match_rows(
        effects,
        stored,
        (
            lambda effect, row: str(row.external_id) == effect.key,
            lambda effect, row: same_day(effect, row) and _without_key(side_effect_record(row)) == _without_key(effect),
            same_day,
        ),
    )


def _side_effects(
    *, user: Any, patient: Patient, record: PatientRecord, summary: ImportSummary, recorded: Collection[int] = ()
) -> None:
    """Write the side effects ``_side_effect_problems`` allowed (asked before anything was written).

    A stored side effect linked to a session keeps it when the file gives none (no ``sessionDate``): a report
    exported while it waited for a booking carries none, and a Bundle recording that booking has linked it
    (``_sessions``); the file's "none" is no choice of a session it could not name. A new one the file gives no
    session (another system's, not attributed), or a stored one linked to none, is then put down by the report's
    rule (``relink_waiting_side_effects``, given ``recorded``, the sessions this import recorded): the latest
    recorded session on or before its onset, unless it waits for an open booking; one a grade reviews (here or
    before) keeps none unless that session is one the import recorded. Named in its audit entry."""
    stored = list(SideEffect.objects.filter(patient=patient).select_related("session"))
    sessions = {s.date: s for s in InjectionSession.objects.filter(patient=patient, status=SessionStatus.RECORDED)}
    matches = _side_effect_matches(record.side_effects, stored)
    written: list[tuple[SideEffect, Any]] = []
    for given, found in zip(record.side_effects, matches, strict=True):
        keeps = given.session_date is None and found is not None and found.session is not None
        effect = dataclasses.replace(given, session_date=found.session.date) if keeps else given  # type: ignore[union-attr]
        if found is not None and _without_key(side_effect_record(found)) == _without_key(effect):
            summary.add(gettext_noop("side effects"), unchanged=1)
            continue
        values = _side_effect_fields(effect, sessions.get(effect.session_date) if effect.session_date else None)
        regraded = bool(effect.clinician_grade) and (
            found is None
            or (found.clinician_grade, found.related_to_treatment)
            != (effect.clinician_grade, effect.related_to_treatment)
        )
        if found is None:
            effect_row = SideEffect(patient=patient, reported_by=user, **values)
            action = Action.CREATE
            summary.created.add(effect.key)
        else:
            effect_row = found
            for name, value in values.items():
                setattr(effect_row, name, value)
            action = Action.UPDATE
        if regraded:  # the grade comes from the file, entered by whoever imports it: a review of theirs, kept
            effect_row.reviewed_by, effect_row.reviewed_at = user, timezone.now()
        effect_row.full_clean(exclude=["reported_by", "reviewed_by"])
        effect_row.save()
        if regraded:
            SideEffectReview.objects.create(
                side_effect=effect_row,
                grade=effect_row.clinician_grade,
                related_to_treatment=effect_row.related_to_treatment,
                session=effect_row.session,
                reviewed_by=user,
                reviewed_at=effect_row.reviewed_at,
                reason=gettext(IMPORTED_REVIEW),
            )
        written.append((effect_row, action))
        summary.written(gettext_noop("side effects"), action)
    unattributed = [effect_row.pk for effect_row, _ in written if effect_row.session_id is None]
    relinked = relink_waiting_side_effects(patient, recorded=recorded, among=unattributed) if unattributed else []
    linked = {linked_row.pk: after for linked_row, after in relinked}
    for effect_row, action in written:
        after = linked.get(effect_row.pk)
        audit_record(
            user=user,
            action=action,
            object_type="side_effect",
            object_id=effect_row.external_id,
            patient_id=patient.external_id,
            detail="imported" + (f"; now after the session of {after.date}" if after is not None else ""),
        )


def _preventive_matches(records: Sequence[PreventiveRecord], stored: Sequence[PreventiveTrial]) -> list[Any]:
    """The stored trial each imported preventive is: its own row (the id the patient's export gives it, so a drug
    or start corrected in the file corrects that row), else the trial of that drug and start, the drug's letter case
    aside as the coverage engine counts medicines (``medicine_key``)."""
    return _match_rows(
        records,
        stored,
        (
            lambda trial, row: bool(trial.key) and str(row.external_id) == trial.key,
            lambda trial, row: medicine_key(trial.drug) == medicine_key(row.drug) and trial.start == row.start,
        ),
    )


def _other_toxin_matches(records: Sequence[OtherToxinRecord], stored: Sequence[OtherToxinTreatment]) -> list[Any]:
    """The stored treatment each imported one is: its own row (by id), else the one of that day and product (its
    letter case aside, ``medicine_key``)."""
    return _match_rows(
        records,
        stored,
        (
            lambda treatment, row: bool(treatment.key) and str(row.external_id) == treatment.key,
            lambda treatment, row: (
                treatment.date == row.date and medicine_key(treatment.product) == medicine_key(row.product)
            ),
        ),
    )


def _medication_history(
    *, user: Any, patient: Patient, record: PatientRecord, summary: ImportSummary, today: dt.date
) -> None:
    """Write the preventives and other toxin treatments ``_history_problems`` allowed, through the patient
    services; each row matched by its id first, then by drug and start or day and product
    (``_preventive_matches``, ``_other_toxin_matches``)."""
    trials = _preventive_matches(record.preventives, list(patient.preventive_trials.all()))
    for trial, match in zip(record.preventives, trials, strict=True):
        data = _preventive_fields(trial)
        if match is None:
            preventive_trial_create(user=user, patient=patient, data=data, today=today)
            summary.add(gettext_noop("preventives"), created=1)
            summary.created.add(trial.key)
        elif any(getattr(match, name) != value for name, value in data.items()):
            preventive_trial_update(user=user, trial=match, data=data, today=today)
            summary.add(gettext_noop("preventives"), updated=1)
        else:
            summary.add(gettext_noop("preventives"), unchanged=1)
    treatments = _other_toxin_matches(record.other_toxins, list(patient.other_toxin_treatments.all()))
    for treatment, match in zip(record.other_toxins, treatments, strict=True):
        data = _other_toxin_fields(treatment)
        if match is None:
            other_toxin_treatment_create(user=user, patient=patient, data=data, today=today)
            summary.add(gettext_noop("other toxins"), created=1)
            summary.created.add(treatment.key)
            continue
        changed = [name for name, value in data.items() if getattr(match, name) != value]
        if not changed:
            summary.add(gettext_noop("other toxins"), unchanged=1)
            continue
        for name in changed:
            setattr(match, name, data[name])
        match.full_clean()
        match.save()
        audit_record(
            user=user,
            action=Action.UPDATE,
            object_type="other_toxin_treatment",
            object_id=match.external_id,
            patient_id=patient.external_id,
            detail=f"imported, changed: {', '.join(changed)}",
        )
        summary.add(gettext_noop("other toxins"), updated=1)


def fhir_records_import(
    *,
    user: Any,
    clinic: Clinic,
    records: Sequence[PatientRecord],
    source: str = "FHIR Bundle",
    progress: Progress | None = None,
    places: Mapping[str, str] | None = None,
    today: dt.date | None = None,
) -> ImportSummary:
    """Write the records of a read Bundle into ``clinic`` in one transaction: all of it or, on any refusal, none.

    Every row of every patient is first asked the rules the pages apply (a record number held by another person,
    a preventive stopping before it started, an expired product, a day before the birth date ...); every problem
    found is raised together as ``BundleInvalidError`` before anything is written, each at the entry at fault when
    ``places`` (``entry_places`` of the Bundle) knows it, else at a FHIRPath naming the row or the patient.

    The stored patients are locked first (``_patients_locked``); a new patient registered by another import after
    this one looked sends the import round once more (``_once_more_if_raced``), where it finds them: two imports of
    the same Bundle at once leave one copy, the second reporting it unchanged.
    """
    today = today or timezone.localdate()
    places = places or {}

    def in_transaction() -> ImportSummary:
        with transaction.atomic():  # the patients locked, then the rules asked of the rows as this transaction reads
            _patients_locked(clinic, (record.record_number for record in records))
            return _fhir_records_write(
                user=user, clinic=clinic, records=records, source=source, progress=progress, places=places, today=today
            )

    return _once_more_if_raced(in_transaction)


def _decisions_not_held(patient: Patient, decisions: Sequence[DecisionRecord]) -> list[DecisionRecord]:
    """The Bundle's decisions to continue or stop that are not this patient's own here (by public id): the clinic's
    own export imported back holds nothing new to report."""
    keys = set()
    for decision in decisions:
        with contextlib.suppress(ValueError):
            keys.add(uuid.UUID(decision.key))
    held = {
        str(key)
        for key in patient.treatment_decisions.filter(external_id__in=keys).values_list("external_id", flat=True)
    }
    return [decision for decision in decisions if decision.key not in held]


def _fhir_records_write(
    *,
    user: Any,
    clinic: Clinic,
    records: Sequence[PatientRecord],
    source: str,
    progress: Progress | None,
    places: Mapping[str, str],
    today: dt.date,
) -> ImportSummary:
    """``fhir_records_import``'s work inside its transaction, the stored patients of ``records`` locked."""
    summary = ImportSummary()
    problems = [
        problem
        for record in records
        for problem in _record_problems(user=user, clinic=clinic, record=record, places=places, today=today)
    ]
    if problems:
        raise BundleInvalidError(problems)
    # By record number: two imports creating the same new patients create them in the same order, so neither waits
    # on a record number the other registered while holding one it waits for.
    for record in sorted(records, key=lambda record: record.record_number):
        try:
            patient = _patient_row(user=user, clinic=clinic, record=record, summary=summary, places=places)
            _medication_history(user=user, patient=patient, record=record, summary=summary, today=today)
            new_days: set[dt.date] = set()
            created, updated, unchanged = diary_days_import(
                user=user,
                patient=patient,
                days=record.diary,
                source=source,
                progress=progress,
                created_days=new_days,
            )
            summary.add(gettext_noop("diary days"), created=created, updated=updated, unchanged=unchanged)
            summary.created.update(f"diary/{record.key}/{day.isoformat()}" for day in new_days)
            recorded = _sessions(user=user, patient=patient, records=record.sessions, summary=summary, today=today)
            _questionnaires(user=user, patient=patient, record=record, summary=summary, today=today)
            _side_effects(user=user, patient=patient, record=record, summary=summary, recorded=recorded)
            foreign = _decisions_not_held(patient, record.decisions)
            if foreign:
                latest = foreign[-1]
                stopped_on = latest.decided_on if latest.decision == "stop" else None
                summary.decisions_not_imported.append((record.record_number, len(foreign), stopped_on))
        except ValidationError as refused:  # a model refused what the rules above let through: a last guard
            raise _refusal(record, places, refused) from None
        except (QuestionnaireInvalidError, QuestionnaireDateError, ValueError) as refused:
            messages = (
                [message for _, message in refused.changes]
                if isinstance(refused, SessionsRefusedError)
                else [str(refused)]
            )
            raise BundleInvalidError(_located(record, places, [(record, "", m) for m in messages])) from None
    return summary


# --- Preventive history and sessions CSV ------------------------------------------------------------------------

TABLE_KINDS = ("preventives", "sessions")
SESSION_COLUMNS = {"product_lot": "lot", "product_expiry": "expiry"}
"""The sessions CSV's column of each field of a session whose name differs."""


def _table_problems(
    *,
    user: Any,
    kind: str,
    lines: _Lines,
    patient_id: str,
    patient: Patient,
    records: Sequence[Any],
    today: dt.date,
) -> list[CsvProblem]:
    """The rows of one patient the pages would refuse, each at its line and column."""
    if kind == "preventives":
        record = PatientRecord("", patient_id, "", "", patient.birth_date, "", preventives=tuple(records))
        return [
            CsvProblem(
                lines.first(patient_id, columns={"drug": row.drug, "start": row.start.isoformat()}),
                name,
                message,
            )
            for row, name, message in _history_problems(patient, record, today)
        ]
    stored = list(InjectionSession.objects.filter(patient=patient).prefetch_related("sites"))
    found = _session_problems(
        user=user,
        patient=patient,
        records=records,
        stored=stored,
        view=_csv_view,
        today=today,
        other_toxins=other_toxin_doses(patient),
    )
    return [
        CsvProblem(
            lines.first(patient_id, row.date, columns={"status": str(row.status)}),  # a day's rows by status
            SESSION_COLUMNS.get(name, name) if name in _CSV_SESSION_FIELDS else "date",
            message,
        )
        for row, name, message in found
    ]


_CSV_SESSION_FIELDS = frozenset(
    {
        "date",
        "status",
        "vial_units",
        "vials_used",
        "total_units",
        "discarded_units",
        "product_lot",
        "product_expiry",
        "override_reason",
        "complications",
    }
)


def table_csv_import(
    *, user: Any, clinic: Clinic, kind: str, source: str | bytes, today: dt.date, patient: Patient | None = None
) -> ImportSummary:
    """Import a preventive-history or sessions CSV (docs/fhir.md): all rows or, with ``DiaryCsvInvalidError``
    listing every ``line N, column C`` problem, none. Rows are matched by drug and start, or by date; every row is
    asked the pages' rules (``preventive_trial_problems``, the session checks) before anything is written, with the
    patients' rows locked (``_patients_locked``): the same file imported twice at once adds its rows once. A file
    the table reader refuses also names its rows of another patient or of a record number the clinic lacks
    (``_with_record_number_problems``, as the diary import does)."""
    try:
        if kind == "preventives":
            rows = read_preventives(
                source, classes=[c.value for c in PreventiveClass], reasons=[r.value for r in StopReason]
            )
        else:
            rows = read_sessions(source, today=today)
    except TableError as refused:
        required = PREVENTIVE_REQUIRED if kind == "preventives" else SESSION_REQUIRED
        problems = _with_record_number_problems(refused.problems, source, clinic, patient, required=required)
        raise DiaryCsvInvalidError(problems) from None
    lines = _Lines(source)

    def in_transaction() -> ImportSummary:
        with transaction.atomic():  # the patients locked, then checked and written as this transaction reads them
            known = _patients_locked(clinic, rows)
            _table_refusals(user=user, kind=kind, rows=rows, known=known, patient=patient, lines=lines, today=today)
            return _table_rows_write(user=user, kind=kind, rows=rows, known=known, today=today)

    return _once_more_if_raced(in_transaction)


def _table_refusals(
    *,
    user: Any,
    kind: str,
    rows: Mapping[str, Sequence[Any]],
    known: Mapping[str, Patient],
    patient: Patient | None,
    lines: _Lines,
    today: dt.date,
) -> None:
    """Refuse the file (``DiaryCsvInvalidError``, every problem at its line) when any row is refused."""
    problems = []
    for patient_id, records in rows.items():
        if patient is not None and patient_id != patient.record_number:
            message = gettext(OTHER_PATIENT).format(expected=patient.record_number, value=patient_id)
        elif patient_id not in known:
            message = gettext(UNKNOWN_PATIENT).format(value=patient_id)
        else:
            problems += _table_problems(
                user=user,
                kind=kind,
                lines=lines,
                patient_id=patient_id,
                patient=known[patient_id],
                records=records,
                today=today,
            )
            continue
        problems.append(CsvProblem(lines.first(patient_id), "patient_id", message))
    if problems:
        raise DiaryCsvInvalidError(sorted(problems, key=lambda p: p.line))


def _table_rows_write(
    *, user: Any, kind: str, rows: Mapping[str, Sequence[Any]], known: Mapping[str, Patient], today: dt.date
) -> ImportSummary:
    """Write the rows ``_table_refusals`` allowed."""
    summary = ImportSummary()
    for patient_id, records in rows.items():
        target = known[patient_id]
        try:
            if kind == "preventives":
                record = PatientRecord("", patient_id, "", "", target.birth_date, "", preventives=tuple(records))
                _medication_history(user=user, patient=target, record=record, summary=summary, today=today)
            else:
                _sessions(
                    user=user,
                    patient=target,
                    records=records,
                    summary=summary,
                    view=_csv_view,
                    keep=("overridden_checks", "check_reasons"),
                    today=today,
                )
        except ValidationError as refused:  # not reached: the rules were asked above; kept as a last guard
            raise DiaryCsvInvalidError([CsvProblem(1, None, f"{patient_id}: {m}") for m in refused.messages]) from None
    return summary
