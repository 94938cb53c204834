"""Importing into the database: FHIR Bundles and diary CSV files, each all-or-nothing in one transaction.

Rows are matched by their natural keys (the record number in the clinic; a diary day by date; a questionnaire by
instrument and date; a session by date; a side effect by kind and onset; a preventive by drug and start; another
toxin treatment by date and product), so importing the same file again changes nothing. New and changed rows go
through the apps' own services where they have one (patients, preventives, other toxins, questionnaires), so the
same validation and audit apply; the diary's rules are the engine's (``parse_diary`` or ``diary_day_from_fields``
ran before anything is written) and its days are written in bulk, with one audit event per patient.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop

from onaboard.clinical import DiaryDay, DiaryError, parse_diary
from onaboard.clinical.errors import Problem as CsvProblem
from onaboard.interop.fhir.read import BundleInvalidError, Problem
from onaboard.interop.fhir.records import PatientRecord, SessionRecord, SiteRecord
from onaboard.interop.tables import TableError, read_preventives, read_sessions
from onaboard.web.accounts.models import Clinic
from onaboard.web.audit.models import Action
from onaboard.web.audit.services import audit_record
from onaboard.web.diary.models import DiaryEntry
from onaboard.web.diary.services import _fields_of as diary_fields_of
from onaboard.web.diary.services import day_before_birth_problem
from onaboard.web.injections.models import InjectionSession, InjectionSiteRecord, SessionStatus, SideEffect
from onaboard.web.injections.selectors import BEFORE_BIRTH
from onaboard.web.interop.selectors import session_record, side_effect_record
from onaboard.web.outcomes.models import QuestionnaireResponse
from onaboard.web.outcomes.services import QuestionnaireInvalidError, questionnaire_response_record
from onaboard.web.patients.models import SAFETY_FLAGS, Patient, PreventiveClass, StopReason
from onaboard.web.patients.services import (
    other_toxin_treatment_create,
    patient_create,
    patient_update,
    preventive_trial_create,
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
NO_SESSION_THAT_DAY = gettext_noop(
    "the side effect {kind} from {onset} is attributed to a session on {day}, but no session is recorded that day"
)
IMPORT_COUNTS = gettext_noop("{kind}: {created} created, {updated} updated, {unchanged} unchanged")

Progress = Callable[[int], None]


@dataclass
class ImportSummary:
    """What an import did, per kind of row: created, updated, unchanged."""

    patients_created: int = 0
    counts: dict[str, list[int]] = field(default_factory=dict)

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
        return self.patients_created > 0 or any(c + u for c, u, _ in self.counts.values())

    def lines(self) -> list[str]:
        return [
            gettext(IMPORT_COUNTS).format(kind=gettext(kind), created=c, updated=u, unchanged=n)
            for kind, (c, u, n) in sorted(self.counts.items())
        ]


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
    *, user: Any, patient: Patient, days: Sequence[DiaryDay], source: str, progress: Progress | None = None
) -> tuple[int, int, int]:
    """Create or replace the patient's diary rows for ``days`` (already validated by the engine) in bulk.

    Returns (created, updated, unchanged); one audit event names the counts when anything changed. Call inside a
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
        values = diary_fields_of(day)
        names = list(values)
        entry = stored.get(day.date)
        if entry is None:
            new.append(DiaryEntry(patient=patient, date=day.date, **values))
        elif any(getattr(entry, name) != value for name, value in values.items()):
            for name, value in values.items():
                setattr(entry, name, value)
            entry.modified = now
            changed.append(entry)
        else:
            unchanged += 1
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


def _patients_by_id(clinic: Clinic, ids: Iterable[str]) -> dict[str, Patient]:
    wanted = set(ids)
    return {p.record_number: p for p in Patient.objects.filter(clinic=clinic, record_number__in=wanted)}


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
    other patient is a problem on the row's first line too. All or nothing: ``DiaryCsvInvalidError`` lists every
    problem and nothing is written; otherwise one transaction writes every patient's days.
    """
    try:
        diaries = parse_diary(source, today=today, stored=True)
    except DiaryError as refused:
        raise DiaryCsvInvalidError(refused.problems) from None
    known = _patients_by_id(clinic, (d.patient_id for d in diaries))
    problems = []
    for diary in diaries:
        if patient is not None and diary.patient_id != patient.record_number:
            message = gettext(OTHER_PATIENT).format(expected=patient.record_number, value=diary.patient_id)
            problems.append(CsvProblem(_first_line(source, diary.patient_id), "patient_id", message))
        elif diary.patient_id not in known:
            problems.append(
                CsvProblem(
                    _first_line(source, diary.patient_id),
                    "patient_id",
                    gettext(UNKNOWN_PATIENT).format(value=diary.patient_id),
                )
            )
    for diary in diaries:
        target = known.get(diary.patient_id)
        for day in diary.days if target is not None else ():
            if problem := day_before_birth_problem(target, day.date):
                problems.append(CsvProblem(_first_line(source, diary.patient_id, day.date), "date", problem))
    if problems:
        raise DiaryCsvInvalidError(sorted(problems, key=lambda p: p.line))
    summary = ImportSummary()
    with transaction.atomic():
        for diary in diaries:
            created, updated, unchanged = diary_days_import(
                user=user, patient=known[diary.patient_id], days=diary.days, source=filename, progress=progress
            )
            summary.add(gettext_noop("diary days"), created=created, updated=updated, unchanged=unchanged)
    return summary


def _first_line(
    source: str | bytes, patient_id: str, day: dt.date | None = None, *, skip_cancelled: bool = False
) -> int:
    """The first line of the file whose ``patient_id`` field is ``patient_id`` (and whose ``date`` is ``day``, when
    given; not a cancelled session's with ``skip_cancelled``), for the problem's location; 1 when none is."""
    from onaboard.clinical import csv_records

    text = source.decode("utf-8-sig") if isinstance(source, bytes) else source
    records = csv_records(text)
    _, header = next(records)
    names = [name.strip() for name in header]
    wanted = {names.index("patient_id"): patient_id}
    if day is not None:
        wanted[names.index("date")] = day.isoformat()
    status = names.index("status") if skip_cancelled and "status" in names else None
    for line, fields in records:
        if all(len(fields) > at and fields[at].strip() == value for at, value in wanted.items()):
            if status is not None and len(fields) > status and fields[status].strip().lower() == "cancelled":
                continue
            return line
    return 1


# --- FHIR ----------------------------------------------------------------------------------------------------------


def _without_key(value: Any) -> Any:
    return dataclasses.replace(value, key="")


def _patient_row(*, user: Any, clinic: Clinic, record: PatientRecord, summary: ImportSummary) -> Patient:
    demographics = {
        "record_number": record.record_number,
        "given_name": record.given_name,
        "family_name": record.family_name,
        "birth_date": record.birth_date,
        "sex": record.sex,
    }
    answers = dict.fromkeys(SAFETY_FLAGS) | dict(record.safety) | {"other_toxin_asked": record.other_toxin_asked}
    patient = Patient.objects.filter(clinic=clinic, record_number=record.record_number).first()
    if patient is None:
        patient = patient_create(user=user, clinic=clinic, data=demographics)
        summary.patients_created += 1
        wanted = answers
    else:
        wanted = {name: value for name, value in (demographics | answers).items() if getattr(patient, name) != value}
    if any(getattr(patient, name) != value for name, value in wanted.items()):
        patient = patient_update(user=user, patient=patient, data=wanted, expected_version=patient.version)
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


def _csv_view(record: SessionRecord) -> SessionRecord:
    """What the sessions CSV carries of a session (no check reasons, no map positions)."""
    sites = tuple(SiteRecord(s.muscle, s.side, s.units, s.follow_the_pain) for s in record.sites)
    return dataclasses.replace(record, key="", overridden_checks="", check_reasons="", sites=sites)


class SessionsRefusedError(ValueError):
    """Imported sessions refused before anything is written; ``changes`` holds each one's day and message."""

    def __init__(self, changes: Sequence[tuple[dt.date, str]]) -> None:
        super().__init__("; ".join(message for _, message in changes))
        self.changes = tuple(changes)


class RecordedSessionChangedError(SessionsRefusedError):
    """Imported sessions would change sessions recorded here: records are not rewritten by an import."""


def _sessions(
    *,
    user: Any,
    patient: Patient,
    records: Sequence[SessionRecord],
    summary: ImportSummary,
    view: Callable[[SessionRecord], SessionRecord] = _without_key,
    keep: tuple[str, ...] = (),
) -> None:
    """Sessions as recorded elsewhere: stored as they were (the checks were run and any override recorded when the
    session was recorded; ``check_reasons`` keeps what was weighed), each create or change audited. ``view`` is what
    the source carries: only that is compared, and a change keeps what the source does not carry.

    A session already recorded here is never changed: a row that matches it with other content (units, sites, lot,
    a status of booked or cancelled ...) raises ``RecordedSessionChangedError`` before anything is written, as the
    app itself refuses to edit or move a recorded session. A booked one may become recorded or cancelled; a
    cancelled row without an id (the sessions CSV) cancels the day's booking when no cancelled row of that day
    is left for it, as changing ``booked`` to ``cancelled`` in an exported file means."""
    birth = patient.birth_date
    before_birth = [
        (record.date, gettext(BEFORE_BIRTH).format(date=record.date, birth=birth))
        for record in records
        if patient.predates_birth(record.date) and record.status != SessionStatus.CANCELLED
    ]
    if before_birth:  # as the session screen refuses it; the patient's details could not be saved after it
        raise SessionsRefusedError(before_birth)
    stored = list(InjectionSession.objects.filter(patient=patient).prefetch_related("sites"))
    cancelled = SessionStatus.CANCELLED

    def both_cancelled(record: SessionRecord, row: InjectionSession) -> bool:
        return record.date == row.date and record.status == cancelled and row.status == cancelled

    matches = _match_rows(
        records,
        stored,
        (
            lambda record, row: str(row.external_id) == record.key,  # the same row (its own export, or cancelled)
            lambda record, row: both_cancelled(record, row) and view(session_record(row)) == view(record),
            lambda record, row: record.date == row.date and cancelled not in (record.status, row.status),
            both_cancelled,  # any number of cancelled sessions a day
            # A cancelled row without an id left over: the day's booking cancelled (a recorded session is matched
            # too, so cancelling it is refused below instead of adding a cancelled row beside it).
            lambda record, row: (
                not record.key and record.status == cancelled and row.status != cancelled and row.date == record.date
            ),
        ),
    )
    changes = []
    for record, match in zip(records, matches, strict=True):
        if match is not None and match.status == SessionStatus.RECORDED:
            stored_view, row_view = view(session_record(match)), view(record)
            if stored_view != row_view:
                parts = [
                    gettext(SESSION_PARTS[field.name])
                    for field in dataclasses.fields(row_view)
                    if getattr(stored_view, field.name) != getattr(row_view, field.name)
                ]
                message = gettext(RECORDED_SESSION_CHANGED).format(date=record.date, fields=", ".join(parts))
                changes.append((record.date, message))
    if changes:
        raise RecordedSessionChangedError(changes)
    updated: list[int] = []
    for record, match in zip(records, matches, strict=True):
        if match is not None and view(session_record(match)) == view(record):
            summary.add(gettext_noop("sessions"), unchanged=1)
            continue
        if match is None:
            session = InjectionSession.objects.create(patient=patient, **_session_fields(record))
            action = Action.CREATE
        else:
            carried = {k: v for k, v in _session_fields(record).items() if k not in keep}
            for name, value in carried.items():
                setattr(match, name, value)
            match.version += 1
            match.save()
            match.sites.all().delete()
            session, action = match, Action.UPDATE
            updated.append(match.pk)
        InjectionSiteRecord.objects.bulk_create(
            InjectionSiteRecord(
                session=session,
                muscle=site.muscle,
                side=site.side,
                units=site.units,
                follow_the_pain=site.follow_the_pain,
                view=site.view,
                x=site.x,
                y=site.y,
            )
            for site in record.sites
        )
        audit_record(
            user=user,
            action=action,
            object_type="injection_session",
            object_id=session.external_id,
            patient_id=patient.external_id,
            detail=f"imported {record.status} {record.date}: {record.total_units or 0} U at {len(record.sites)} sites",
        )
        summary.written(gettext_noop("sessions"), action)
    _stamp_after_commit(InjectionSession, updated)


def _questionnaires(*, user: Any, patient: Patient, record: PatientRecord, summary: ImportSummary) -> None:
    from onaboard.web.interop.selectors import questionnaire_record

    stored = {(r.instrument, r.date): r for r in QuestionnaireResponse.objects.filter(patient=patient)}
    for response in record.questionnaires:
        match = stored.get((response.instrument, response.date))
        if match is not None and questionnaire_record(match).answers == response.answers:
            summary.add(gettext_noop("questionnaires"), unchanged=1)
            continue
        answers: Any = list(response.answers) if response.instrument == "hit6" else dict(response.answers)  # type: ignore[arg-type]
        questionnaire_response_record(
            user=user, patient=patient, instrument=response.instrument, answers=answers, date=response.date
        )
        summary.add(gettext_noop("questionnaires"), created=int(match is None), updated=int(match is not None))


def _side_effects(*, user: Any, patient: Patient, record: PatientRecord, summary: ImportSummary) -> None:
    stored = list(SideEffect.objects.filter(patient=patient).select_related("session"))
    sessions = {s.date: s for s in InjectionSession.objects.filter(patient=patient, status=SessionStatus.RECORDED)}
    unknown = [
        gettext(NO_SESSION_THAT_DAY).format(kind=effect.kind, onset=effect.onset, day=effect.session_date)
        for effect in record.side_effects
        if effect.session_date is not None and effect.session_date not in sessions
    ]
    if unknown:  # stored without its session, it would differ from the file at every import ("1 updated" each time)
        raise ValueError("; ".join(unknown))

    def same_day(effect: Any, row: SideEffect) -> bool:
        return effect.kind == row.kind and effect.onset == row.onset

    # Its own row, else one of that kind and day with the same content, else one of that kind and day: two effects
    # of one kind on one day (both sides of the neck) each keep their own row.
    matches = _match_rows(
        record.side_effects,
        stored,
        (
            lambda effect, row: str(row.external_id) == effect.key,
            lambda effect, row: same_day(effect, row) and _without_key(side_effect_record(row)) == _without_key(effect),
            same_day,
        ),
    )
    for effect, found in zip(record.side_effects, matches, strict=True):
        if found is not None and _without_key(side_effect_record(found)) == _without_key(effect):
            summary.add(gettext_noop("side effects"), unchanged=1)
            continue
        values = {
            "kind": effect.kind,
            "onset": effect.onset,
            "severity": effect.severity,
            "description": effect.description,
            "clinician_grade": effect.clinician_grade,
            "related_to_treatment": effect.related_to_treatment,
            "session": sessions.get(effect.session_date) if effect.session_date else None,
        }
        if found is None:
            effect_row = SideEffect(patient=patient, reported_by=user, **values)
            action = Action.CREATE
        else:
            effect_row = found
            for name, value in values.items():
                setattr(effect_row, name, value)
            action = Action.UPDATE
        effect_row.full_clean(exclude=["reported_by", "reviewed_by"])
        effect_row.save()
        audit_record(
            user=user,
            action=action,
            object_type="side_effect",
            object_id=effect_row.external_id,
            patient_id=patient.external_id,
            detail=f"imported {effect.kind} ({effect.severity}) from {effect.onset}",
        )
        summary.written(gettext_noop("side effects"), action)


def _medication_history(*, user: Any, patient: Patient, record: PatientRecord, summary: ImportSummary) -> None:
    trials = {(t.drug, t.start): t for t in patient.preventive_trials.all()}
    for trial in record.preventives:
        data = {
            "drug": trial.drug,
            "drug_class": trial.drug_class,
            "dose": trial.dose,
            "start": trial.start,
            "stop": trial.stop,
            "stop_reason": trial.stop_reason,
        }
        match = trials.get((trial.drug, trial.start))
        if match is None:
            preventive_trial_create(user=user, patient=patient, data=data)
            summary.add(gettext_noop("preventives"), created=1)
        elif any(getattr(match, name) != value for name, value in data.items()):
            preventive_trial_update(user=user, trial=match, data=data)
            summary.add(gettext_noop("preventives"), updated=1)
        else:
            summary.add(gettext_noop("preventives"), unchanged=1)
    treatments = {(t.date, t.product): t for t in patient.other_toxin_treatments.all()}
    for treatment in record.other_toxins:
        data = {
            "date": treatment.date,
            "product": treatment.product,
            "units": treatment.units,
            "indication": treatment.indication,
        }
        match = treatments.get((treatment.date, treatment.product))
        if match is None:
            other_toxin_treatment_create(user=user, patient=patient, data=data)
            summary.add(gettext_noop("other toxins"), created=1)
        elif match.units != treatment.units or match.indication != treatment.indication:
            match.units, match.indication = treatment.units, treatment.indication
            match.full_clean()
            match.save()
            audit_record(
                user=user,
                action=Action.UPDATE,
                object_type="other_toxin_treatment",
                object_id=match.external_id,
                patient_id=patient.external_id,
                detail=f"imported {treatment.product} {treatment.units} U on {treatment.date.isoformat()}",
            )
            summary.add(gettext_noop("other toxins"), updated=1)
        else:
            summary.add(gettext_noop("other toxins"), unchanged=1)


def fhir_records_import(
    *,
    user: Any,
    clinic: Clinic,
    records: Sequence[PatientRecord],
    source: str = "FHIR Bundle",
    progress: Progress | None = None,
) -> ImportSummary:
    """Write the records of a read Bundle into ``clinic`` in one transaction: all of it or, on any refusal, none.

    A refusal by an app's service (a preventive stopping before it started, answers the engine rejects ...)
    becomes ``BundleInvalidError`` naming the patient.
    """
    summary = ImportSummary()
    with transaction.atomic():
        for record in records:
            where = f"Bundle.entry.resource.where(identifier.value = '{record.record_number}')"
            try:
                patient = _patient_row(user=user, clinic=clinic, record=record, summary=summary)
                _medication_history(user=user, patient=patient, record=record, summary=summary)
                created, updated, unchanged = diary_days_import(
                    user=user, patient=patient, days=record.diary, source=source, progress=progress
                )
                summary.add(gettext_noop("diary days"), created=created, updated=updated, unchanged=unchanged)
                _sessions(user=user, patient=patient, records=record.sessions, summary=summary)
                _questionnaires(user=user, patient=patient, record=record, summary=summary)
                _side_effects(user=user, patient=patient, record=record, summary=summary)
            except ValidationError as refused:
                messages = [f"{name}: {m}" for name, errors in refused.message_dict.items() for m in errors]
                raise BundleInvalidError(
                    [
                        Problem(where, gettext(REFUSED_ROW).format(record_number=record.record_number, message=m))
                        for m in messages
                    ]
                ) from None
            except (QuestionnaireInvalidError, ValueError) as refused:
                messages = (
                    [message for _, message in refused.changes]
                    if isinstance(refused, SessionsRefusedError)
                    else [str(refused)]
                )
                raise BundleInvalidError(
                    [
                        Problem(where, gettext(REFUSED_ROW).format(record_number=record.record_number, message=m))
                        for m in messages
                    ]
                ) from None
    return summary


# --- Preventive history and sessions CSV ------------------------------------------------------------------------

TABLE_KINDS = ("preventives", "sessions")


def table_csv_import(
    *, user: Any, clinic: Clinic, kind: str, source: str | bytes, today: dt.date, patient: Patient | None = None
) -> ImportSummary:
    """Import a preventive-history or sessions CSV (docs/fhir.md): all rows or, with ``DiaryCsvInvalidError``
    listing every ``line N, column C`` problem, none. Rows are matched by drug and start, or by date."""
    try:
        if kind == "preventives":
            rows = read_preventives(
                source, classes=[c.value for c in PreventiveClass], reasons=[r.value for r in StopReason]
            )
        else:
            rows = read_sessions(source, today=today)
    except TableError as refused:
        raise DiaryCsvInvalidError(refused.problems) from None
    known = _patients_by_id(clinic, rows)
    problems = []
    for patient_id in rows:
        if patient is not None and patient_id != patient.record_number:
            message = gettext(OTHER_PATIENT).format(expected=patient.record_number, value=patient_id)
        elif patient_id not in known:
            message = gettext(UNKNOWN_PATIENT).format(value=patient_id)
        else:
            continue
        problems.append(CsvProblem(_first_line(source, patient_id), "patient_id", message))
    if problems:
        raise DiaryCsvInvalidError(sorted(problems, key=lambda p: p.line))
    summary = ImportSummary()
    with transaction.atomic():
        for patient_id, records in rows.items():
            target = known[patient_id]
            try:
                if kind == "preventives":
                    record = PatientRecord("", patient_id, "", "", target.birth_date, "", preventives=tuple(records))
                    _medication_history(user=user, patient=target, record=record, summary=summary)
                else:
                    _sessions(
                        user=user,
                        patient=target,
                        records=records,
                        summary=summary,
                        view=_csv_view,
                        keep=("overridden_checks", "check_reasons"),
                    )
            except ValidationError as refused:
                raise DiaryCsvInvalidError(
                    [CsvProblem(1, None, f"{patient_id}: {m}") for m in refused.messages]
                ) from None
            except SessionsRefusedError as refused:
                raise DiaryCsvInvalidError(
                    [
                        CsvProblem(_first_line(source, patient_id, day, skip_cancelled=True), "date", message)
                        for day, message in refused.changes
                    ]
                ) from None
    return summary
