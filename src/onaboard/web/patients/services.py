"""Changing a patient's record: demographics and safety answers, other toxin treatments, preventives tried.

Each service runs in one transaction with its audit event. ``patient_update`` guards against two people saving over
each other: it saves only if the record is still at the version the form was loaded at.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop
from django.utils.translation import gettext_lazy as _

from onaboard.clinical import PER_VISIT_ITEMS
from onaboard.web.accounts.models import Clinic
from onaboard.web.audit.models import Action
from onaboard.web.audit.services import audit_record
from onaboard.web.patients.models import SAFETY_FLAGS, OtherToxinTreatment, Patient, PreventiveTrial, StopReason

DEMOGRAPHIC_FIELDS: tuple[str, ...] = ("given_name", "family_name", "birth_date", "sex", "record_number")
EDITABLE_FIELDS: frozenset[str] = frozenset({*DEMOGRAPHIC_FIELDS, *SAFETY_FLAGS, "other_toxin_asked"})
"""What ``patient_update`` may change; the clinic, the portal login and the version are not editable here."""
PER_VISIT_FLAGS: frozenset[str] = frozenset(code.value for code in PER_VISIT_ITEMS)
"""The checklist answers about the day of injection (the engine's ``PER_VISIT_ITEMS``, each its field's name)."""

PREVENTIVE_FIELDS: tuple[str, ...] = ("drug", "drug_class", "dose", "start", "stop", "stop_reason")
OTHER_TOXIN_FIELDS: tuple[str, ...] = ("date", "product", "units", "indication")

STALE_VERSION = _(
    "Someone else saved this record while you were editing it. Nothing was saved: the form now holds what is "
    "stored with your own changes on top. Check the fields listed below, then save again."
)
STALE_TRIAL = _(
    "Someone else saved this medicine while you were editing it. Nothing was saved: the form now holds what is "
    "stored with your own changes on top. Check the fields listed below, then save again."
)
UNKNOWN_FIELDS = "patient_update: not editable: {fields}"
BIRTH_AFTER_FIRST_RECORD = gettext_noop(
    "the birth date {birth} is after the record's first dated entry ({first}: a diary day, session, questionnaire, "
    "side effect, preventive or other toxin treatment): check the year"
)

BIRTH_DATE_TOO_EARLY = _("Check the year: this birth date is more than 120 years ago.")
OLDEST_AGE_YEARS = 120
"""A birth date whose year is more than this many years before today's is a mistyped year (``birth_date_problem``)."""

RECORD_NUMBER_TAKEN = _("Another patient of this clinic has this record number.")
DATE_IN_FUTURE = _("This date is after today.")
DATE_BEFORE_BIRTH = _("This date is before the patient's birth date (%(birth)s): check the year.")
STOP_BEFORE_START = _("The stop date is before the start date.")
STOP_WHILE_ONGOING = _("A medicine the patient still takes has no stop date: clear it or choose why it stopped.")
STOP_DATE_NEEDED = _(
    "A medicine that stopped needs the day it stopped: enter it, or choose “still taking” if the patient still "
    "takes it."
)
UNITS_AT_LEAST_ONE = _("Enter the units given: a whole number of at least 1.")

STOPPED_REASONS: frozenset[str] = frozenset({StopReason.INEFFECTIVE, StopReason.NOT_TOLERATED, StopReason.OTHER})
"""The reasons that say the patient took the medicine and stopped it, so the record needs the day it stopped
(``preventive_trial_problems``). Not "still taking", and not "contraindicated": the engine reads a contraindicated
drug as one never taken (``onaboard.clinical.coverage.PreventiveTrial``: its dates are not shown, its length is not
asked), and NICE TA260 counts medicines "unsuitable because of safety concerns" beside those that did not work or
were not tolerated, so there may be nothing to stop; a contraindication found while taking it may still give its
stop date."""


def birth_date_problem(birth: dt.date | None, today: dt.date) -> str | None:
    """Why ``birth`` cannot be a patient's birth date on ``today``, or None: its year more than ``OLDEST_AGE_YEARS``
    before today's (a mistyped year). The details form, ``patient_create``, ``patient_update`` and every import ask
    this one rule, in the form's words, so nothing stores a birth date the form would refuse on the next save."""
    if birth is not None and today.year - birth.year > OLDEST_AGE_YEARS:
        return str(BIRTH_DATE_TOO_EARLY)
    return None


def _day_problem(name: str, day: dt.date | None, patient: Patient | None, today: dt.date) -> list[tuple[str, str]]:
    if day is not None and day > today:
        return [(name, str(DATE_IN_FUTURE))]
    if patient is not None and patient.predates_birth(day):
        return [(name, str(DATE_BEFORE_BIRTH) % {"birth": patient.birth_date.isoformat()})]
    return []


def preventive_trial_problems(
    *,
    patient: Patient | None,
    start: dt.date | None,
    stop: dt.date | None,
    stop_reason: str | None,
    today: dt.date,
) -> list[tuple[str, str]]:
    """What keeps a preventive trial from being stored, as ``(field, message)``: a start or stop after ``today`` or
    before the birth date of ``patient`` (``Patient.predates_birth``: a mistyped year), a stop before the start, a
    stop date on a medicine still taken, and none on one stopped (``STOPPED_REASONS``: ineffective, not tolerated,
    other). The form and every import ask this one rule.

    An empty stop date means "still taken" (the form's help); a medicine marked ineffective without one was counted
    as a failed trial by the payers' criteria while the coverage page also listed it as a current medicine. A
    contraindicated drug needs no stop date: it may never have been started (``STOPPED_REASONS``). Rows stored before
    this rule are not changed (no stop date can be invented); the engine does not count them as failed
    (``onaboard.clinical.coverage``: "no stop date recorded"), and saving one again asks for its stop date."""
    problems = _day_problem("start", start, patient, today) + _day_problem("stop", stop, patient, today)
    if start is not None and stop is not None and stop < start:
        problems.append(("stop", str(STOP_BEFORE_START)))
    if stop is not None and stop_reason == StopReason.ONGOING:
        problems.append(("stop", str(STOP_WHILE_ONGOING)))
    if stop is None and stop_reason in STOPPED_REASONS:
        problems.append(("stop", str(STOP_DATE_NEEDED)))
    return problems


def other_toxin_treatment_problems(
    *, patient: Patient | None, date: dt.date | None, units: int | None, today: dt.date
) -> list[tuple[str, str]]:
    """What keeps another toxin treatment from being stored, as ``(field, message)``: a date after ``today`` or
    before the birth date of ``patient``, fewer than 1 unit. The form and every import ask this one rule."""
    problems = _day_problem("date", date, patient, today)
    if units is not None and units < 1:
        problems.append(("units", str(UNITS_AT_LEAST_ONE)))
    return problems


def _refuse(problems: list[tuple[str, str]]) -> None:
    """Raise ``problems`` (``(field, message)``) as a ValidationError by field, as ``full_clean`` would."""
    if problems:
        by_field: dict[str, list[str]] = {}
        for field, message in problems:
            by_field.setdefault(field, []).append(message)
        raise ValidationError(by_field)


def patient_locked(patient: Patient) -> Patient:
    """``patient``'s row, locked until the transaction ends (``select_for_update``) and read afresh: the lock
    ``patient_update`` takes to move a birth date, and every write that checks a patient's dated rows against it or
    against each other takes it first, inside its ``transaction.atomic``: the diary (``diary.services``), sessions
    and side effects (``injections.services``: recording, moving or cancelling a booking, booking the next one,
    reporting), questionnaires (``outcomes.services``), preventives and other toxin treatments (here). Under
    PostgreSQL's READ COMMITTED a transaction sees only what was committed, so a day checked against the old birth
    date while a later one was being saved was stored before birth (the engine then refuses to assess the record,
    and the details form cannot be saved again); two recordings at once each passed the 12-week and cumulative-dose
    checks against a history without the other. With the lock the second writer waits, then reads what the first
    left. The checks use the row returned (its birth date as stored now). SQLite serialises writers itself
    (``BEGIN IMMEDIATE``)."""
    return Patient.objects.select_for_update().get(pk=patient.pk)


class PatientVersionConflictError(Exception):
    """The record changed since the form was loaded; ``current`` is the record as stored now."""

    def __init__(self, current: Patient) -> None:
        self.current = current
        super().__init__(str(STALE_VERSION))


def patient_update(
    *,
    user: Any,
    patient: Patient,
    data: Mapping[str, Any],
    expected_version: int,
    checklist_asked: bool = True,
) -> Patient:
    """Save ``data`` (fields of ``EDITABLE_FIELDS``) if the record is still at ``expected_version``; bump the version.

    Raises ``PatientVersionConflictError`` (carrying the stored record) when someone saved in between, and
    ``ValueError`` for a field that may not be edited or a birth date after the record's first diary day or
    session (the form says so at its field; an import reaches only this). A birth date changed to one the details
    form refuses as too early (``birth_date_problem``) is refused as a ValidationError at ``birth_date``. The audit
    event names the fields that changed.

    A record number another patient of the clinic holds is refused (ValidationError at ``record_number``, worded as
    the form's), also when the other patient took it after the form checked it (two edits, or an edit and a
    registration, at the same moment): the database's constraint decides, its refusal caught in a savepoint, and
    nothing is saved.

    ``checklist_asked``: the safety checklist answers in ``data`` were asked of the patient today by ``user`` (the
    safety form, which saves every answer): saving any records the clinic's today and the user as when and by whom
    the checklist was answered (``Patient.safety_answered_on``, ``safety_answered_by``), the day the screen counts
    the answers about the day of injection on. An import passes False: its answers were given on a day it does not
    say, so one changing an answer about the day of injection (``PER_VISIT_FLAGS``) leaves that day not known
    rather than dating an old answer today; one changing only history answers keeps it.
    """
    unknown = sorted(set(data) - EDITABLE_FIELDS)
    if unknown:
        raise ValueError(UNKNOWN_FIELDS.format(fields=", ".join(unknown)))
    with transaction.atomic():
        stored = patient_locked(patient)
        if stored.version != expected_version:
            raise PatientVersionConflictError(stored)
        birth = data.get("birth_date")
        if birth is not None and birth != stored.birth_date:
            too_early = birth_date_problem(birth, timezone.localdate())
            _refuse([("birth_date", too_early)] if too_early is not None else [])
            from onaboard.web.patients.selectors import record_day_before_birth  # selectors build on these models

            first = record_day_before_birth(stored, birth)
            if first is not None:
                raise ValueError(gettext(BIRTH_AFTER_FIRST_RECORD).format(birth=birth, first=first))
        changed = sorted(name for name, value in data.items() if getattr(stored, name) != value)
        answered = _checklist_answered(user, data, changed, asked=checklist_asked)
        try:
            with transaction.atomic():  # a savepoint: the check below still runs after the constraint's refusal
                Patient.objects.filter(pk=patient.pk, version=expected_version).update(
                    **data, **answered, version=F("version") + 1, modified=timezone.now()
                )
        except IntegrityError:
            taken = Patient.objects.filter(clinic_id=stored.clinic_id, record_number=data.get("record_number"))
            if "record_number" not in data or not taken.exclude(pk=patient.pk).exists():
                raise
            raise ValidationError({"record_number": [str(RECORD_NUMBER_TAKEN)]}) from None
        audit_record(
            user=user,
            action=Action.UPDATE,
            object_type="patient",
            object_id=patient.external_id,
            patient_id=patient.external_id,
            detail=("changed: " + ", ".join(changed)) if changed else "saved without changes",
        )
    patient.refresh_from_db()
    return patient


def _checklist_answered(user: Any, data: Mapping[str, Any], changed: list[str], *, asked: bool) -> dict[str, Any]:
    """When and by whom the checklist was answered after ``patient_update`` saves ``data`` (see there): the fields to
    set, none when it stays as it is."""
    if asked and not set(data).isdisjoint(SAFETY_FLAGS):
        return {"safety_answered_on": timezone.localdate(), "safety_answered_by": user}
    if not asked and not PER_VISIT_FLAGS.isdisjoint(changed):
        return {"safety_answered_on": None, "safety_answered_by": None}
    return {}


def patient_create(*, user: Any, clinic: Clinic, data: Mapping[str, Any]) -> Patient:
    """Register a new patient of ``clinic`` with their demographics; the safety screen starts unanswered.

    A record number already used in the clinic is refused (ValidationError at ``record_number``), also when two
    registrations of the same number arrive together (a double click on Save): ``full_clean`` cannot see the other,
    still uncommitted, row, so the database's constraint decides and its refusal is worded as the form's. A birth
    date the details form refuses as too early (``birth_date_problem``) is refused at ``birth_date``, as the form
    refuses it."""
    values = _only(data, DEMOGRAPHIC_FIELDS)
    too_early = birth_date_problem(values.get("birth_date"), timezone.localdate())
    _refuse([("birth_date", too_early)] if too_early is not None else [])
    try:
        with transaction.atomic():
            patient = Patient(clinic=clinic, **values)
            patient.full_clean()
            patient.save()
            audit_record(
                user=user,
                action=Action.CREATE,
                object_type="patient",
                object_id=patient.external_id,
                patient_id=patient.external_id,
                detail=f"record number {patient.record_number}",
            )
    except IntegrityError:
        if not Patient.objects.filter(clinic=clinic, record_number=values.get("record_number")).exists():
            raise
        raise ValidationError({"record_number": [str(RECORD_NUMBER_TAKEN)]}) from None
    return patient


def _only(data: Mapping[str, Any], fields: tuple[str, ...]) -> dict[str, Any]:
    unknown = sorted(set(data) - set(fields))
    if unknown:
        message = f"not a field here: {', '.join(unknown)}"
        raise ValueError(message)
    return dict(data)


def preventive_trial_create(
    *, user: Any, patient: Patient, data: Mapping[str, Any], today: dt.date | None = None
) -> PreventiveTrial:
    """Add a preventive medicine tried. ``preventive_trial_problems`` and the model's validation run before saving
    (ValidationError), so no caller can store what the form refuses; the birth date is the patient's row as locked
    (``patient_locked``), so one moved later at the same moment cannot leave the start before it."""
    with transaction.atomic():
        stored_patient = patient_locked(patient)
        trial = PreventiveTrial(patient=patient, **_only(data, PREVENTIVE_FIELDS))
        _refuse(_trial_problems(trial, stored_patient, today))
        trial.full_clean()
        trial.save()
        audit_record(
            user=user,
            action=Action.CREATE,
            object_type="preventive_trial",
            object_id=trial.external_id,
            patient_id=patient.external_id,
            detail="preventive medicine added",
        )
    return trial


def _trial_problems(trial: PreventiveTrial, patient: Patient, today: dt.date | None) -> list[tuple[str, str]]:
    """``preventive_trial_problems`` of ``trial``, against ``patient``: the trial's patient row as locked."""
    return preventive_trial_problems(
        patient=patient,
        start=trial.start,
        stop=trial.stop,
        stop_reason=trial.stop_reason,
        today=today or timezone.localdate(),
    )


class PreventiveTrialConflictError(Exception):
    """The preventive medicine changed since the form was loaded; ``current`` is the row as stored now."""

    def __init__(self, current: PreventiveTrial) -> None:
        self.current = current
        super().__init__(str(STALE_TRIAL))


def preventive_trial_update(
    *,
    user: Any,
    trial: PreventiveTrial,
    data: Mapping[str, Any],
    today: dt.date | None = None,
    loaded: dt.datetime | None = None,
) -> PreventiveTrial:
    """Correct a preventive medicine tried (``preventive_trial_problems`` and the model's validation first); the
    audit event names the fields that changed.

    ``loaded`` is the row's ``modified`` time when the form was shown: if someone saved it since, nothing is saved
    and ``PreventiveTrialConflictError`` carries the stored row (two people correcting the same medicine would
    otherwise silently undo each other's change, a stop reason the payers' criteria read among them). An import,
    which replaces rows deliberately, passes none. The patient's row is locked first (``patient_locked``), then
    the trial's: the dates are checked against the birth date as stored now."""
    values = _only(data, PREVENTIVE_FIELDS)
    with transaction.atomic():
        stored_patient = patient_locked(trial.patient)
        stored = PreventiveTrial.objects.select_for_update().get(pk=trial.pk)
        if loaded is not None and stored.modified != loaded:
            raise PreventiveTrialConflictError(stored)
        changed = sorted(name for name, value in values.items() if getattr(stored, name) != value)
        for name, value in values.items():
            setattr(stored, name, value)
        _refuse(_trial_problems(stored, stored_patient, today))
        stored.full_clean()
        stored.save()
        audit_record(
            user=user,
            action=Action.UPDATE,
            object_type="preventive_trial",
            object_id=stored.external_id,
            patient_id=stored.patient.external_id,
            detail=("changed: " + ", ".join(changed)) if changed else "saved without changes",
        )
    return stored


def other_toxin_treatment_create(
    *, user: Any, patient: Patient, data: Mapping[str, Any], today: dt.date | None = None
) -> OtherToxinTreatment:
    """Add a botulinum toxin treatment given outside the chronic-migraine cycles (``other_toxin_treatment_problems``
    and the model's validation first: ValidationError).

    Recording one also answers the safety screen's "asked about other toxins" question. The date is checked against
    the birth date on the patient's row as locked (``patient_locked``).
    """
    with transaction.atomic():
        stored_patient = patient_locked(patient)
        treatment = OtherToxinTreatment(patient=patient, **_only(data, OTHER_TOXIN_FIELDS))
        _refuse(
            other_toxin_treatment_problems(
                patient=stored_patient, date=treatment.date, units=treatment.units, today=today or timezone.localdate()
            )
        )
        treatment.full_clean()
        treatment.save()
        if not stored_patient.other_toxin_asked:
            Patient.objects.filter(pk=patient.pk).update(
                other_toxin_asked=True, version=F("version") + 1, modified=timezone.now()
            )
        audit_record(
            user=user,
            action=Action.CREATE,
            object_type="other_toxin_treatment",
            object_id=treatment.external_id,
            patient_id=patient.external_id,
            detail="other toxin treatment added",
        )
    patient.refresh_from_db()
    return treatment
