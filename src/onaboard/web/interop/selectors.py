"""Reading a patient's rows as the plain records FHIR and the CSV files carry (``onaboard.interop.fhir.records``).

Every export is recorded in the audit trail, one event per patient, by ``patients_export``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.utils import timezone

from onaboard.clinical import ChronicMigraine, DiaryDay, PatientDiary, assess, write_diary
from onaboard.interop.fhir import bundle
from onaboard.interop.fhir.records import (
    ConditionRecord,
    DecisionRecord,
    OtherToxinRecord,
    PatientRecord,
    PreventiveRecord,
    QuestionnaireRecord,
    SessionRecord,
    SideEffectRecord,
    SiteRecord,
)
from onaboard.interop.tables import write_preventives, write_sessions
from onaboard.web.audit.models import Action
from onaboard.web.audit.services import AuditEntry, audit_record, audit_records
from onaboard.web.diary.models import DiaryEntry
from onaboard.web.diary.selectors import diary_day_of
from onaboard.web.injections.models import InjectionSession, SessionStatus, SideEffect
from onaboard.web.outcomes.models import Instrument, QuestionnaireResponse, TreatmentDecision
from onaboard.web.outcomes.selectors import LatestDecision
from onaboard.web.outcomes.services import MIDAS_KEYS
from onaboard.web.patients.models import SAFETY_FLAGS, Patient


def diary_days(patient: Patient) -> tuple[DiaryDay, ...]:
    """The patient's diary as the engine's days, keyed by record number (the CSV's ``patient_id``)."""
    entries = DiaryEntry.objects.filter(patient=patient).order_by("date")
    return tuple(diary_day_of(entry, patient.record_number) for entry in entries.iterator(chunk_size=2000))


def session_record(session: InjectionSession) -> SessionRecord:
    return SessionRecord(
        key=str(session.external_id),
        date=session.date,
        status=session.status,
        vial_units=session.vial_units,
        vials_used=session.vials_used,
        total_units=session.total_units,
        discarded_units=session.discarded_units,
        lot=session.product_lot,
        expiry=session.product_expiry,
        override_reason=session.override_reason,
        overridden_checks=session.overridden_checks,
        check_reasons=session.check_reasons,
        complications=session.complications,
        sites=tuple(
            SiteRecord(site.muscle, site.side, site.units, site.follow_the_pain, site.view, site.x, site.y)
            for site in session.sites.all()
        ),
    )


def questionnaire_record(response: QuestionnaireResponse) -> QuestionnaireRecord:
    if response.instrument == Instrument.HIT6:
        answers: Any = tuple(response.answers)
    else:
        answers = tuple((key, response.answers.get(key)) for key in MIDAS_KEYS)
    return QuestionnaireRecord(
        str(response.external_id), response.instrument, response.date, answers, response.total, response.category
    )


def side_effect_record(effect: SideEffect) -> SideEffectRecord:
    return SideEffectRecord(
        key=str(effect.external_id),
        kind=effect.kind,
        onset=effect.onset,
        severity=effect.severity,
        description=effect.description,
        clinician_grade=effect.clinician_grade,
        related_to_treatment=effect.related_to_treatment,
        session_date=effect.session.date if effect.session else None,
    )


def decision_record(decision: TreatmentDecision) -> DecisionRecord:
    """A treatment decision as FHIR exchanges it: the clinician by name, as the pages show them
    (``outcomes.selectors.LatestDecision``)."""
    return DecisionRecord(
        key=str(decision.external_id),
        decided_on=decision.decided_on,
        decision=decision.decision,
        reason=decision.reason,
        decided_by=LatestDecision.of(decision).decided_by,
        nice_verdict=decision.nice_verdict,
        nice_reasons=tuple(decision.nice_reason_lines),
    )


def _condition(patient: Patient, diary: tuple[DiaryDay, ...]) -> ConditionRecord | None:
    """The engine's chronic-migraine verdict on the last diary day, when it is "yes" (ICHD-3 1.3)."""
    if not diary:
        return None
    verdict = assess(PatientDiary(patient.record_number, diary), birth_date=patient.birth_date)
    if verdict.chronic_migraine.verdict is not ChronicMigraine.YES:
        return None
    return ConditionRecord(verdict.as_of, tuple(verdict.chronic_migraine.reasons))


def patient_record(patient: Patient) -> PatientRecord:
    """Everything onaboard exchanges about one patient, each kind in date order (no audit: see ``patients_export``).
    A session entered in error is not part of it: it is out of the treatment history (the import refuses it back)."""
    diary = diary_days(patient)
    sessions = (
        InjectionSession.objects.filter(patient=patient)
        .exclude(status=SessionStatus.IN_ERROR)
        .prefetch_related("sites")
        .order_by("date", "status")
    )
    responses = QuestionnaireResponse.objects.filter(patient=patient).order_by("date", "instrument")
    effects = SideEffect.objects.filter(patient=patient).select_related("session").order_by("onset", "kind", "created")
    return PatientRecord(
        key=str(patient.external_id),
        record_number=patient.record_number,
        given_name=patient.given_name,
        family_name=patient.family_name,
        birth_date=patient.birth_date,
        sex=patient.sex,
        safety=tuple((flag, getattr(patient, flag)) for flag in SAFETY_FLAGS),
        other_toxin_asked=patient.other_toxin_asked,
        diary=diary,
        sessions=tuple(session_record(session) for session in sessions),
        questionnaires=tuple(questionnaire_record(response) for response in responses),
        side_effects=tuple(side_effect_record(effect) for effect in effects),
        preventives=tuple(
            PreventiveRecord(str(t.external_id), t.drug, t.drug_class, t.start, t.stop, t.stop_reason, t.dose)
            for t in patient.preventive_trials.order_by("start", "drug")
        ),
        other_toxins=tuple(
            OtherToxinRecord(str(t.external_id), t.date, t.product, t.units, t.indication)
            for t in patient.other_toxin_treatments.order_by("date", "product")
        ),
        condition=_condition(patient, diary),
        decisions=tuple(
            decision_record(decision)
            for decision in TreatmentDecision.objects.filter(patient=patient)
            .select_related("decided_by")
            .order_by("decided_on", "created", "id")
        ),
    )


def patients_export(
    *, user: Any, patients: Iterable[Patient], kind: str = "transaction", how: str = "fhir"
) -> dict[str, Any]:
    """The patients' FHIR Bundle; each patient's export is audited (``how`` says where it went)."""
    listed = list(patients)
    records = [patient_record(patient) for patient in listed]
    audit_records(
        user=user,
        entries=(
            AuditEntry.for_patient(patient, action=Action.EXPORT, object_type="fhir_bundle", detail=how)
            for patient in listed
        ),
    )
    return bundle(
        records,
        kind=kind,
        timestamp=dt.datetime.now(tz=dt.UTC).replace(microsecond=0),
        zone=timezone.get_default_timezone(),
    )


def diary_csv_export(*, user: Any, patient: Patient, how: str) -> tuple[str, int]:
    """The patient's diary as the contract's CSV (the engine's ``write_diary``) and its day count; audited."""
    days = diary_days(patient)
    audit_record(
        user=user,
        action=Action.EXPORT,
        object_type="diary_csv",
        object_id=patient.external_id,
        patient_id=patient.external_id,
        detail=f"{how}: {len(days)} days",
    )
    return write_diary(days), len(days)


def table_csv_export(*, user: Any, patient: Patient, kind: str, how: str) -> str:
    """The patient's preventive history or sessions as CSV (docs/fhir.md, "CSV files"); audited."""
    record = patient_record(patient)
    if kind == "preventives":
        text = write_preventives(patient.record_number, record.preventives)
    else:
        text = write_sessions(patient.record_number, record.sessions)
    audit_record(
        user=user,
        action=Action.EXPORT,
        object_type=f"{kind}_csv",
        object_id=patient.external_id,
        patient_id=patient.external_id,
        detail=how,
    )
    return text
