"""Reading diaries: stored rows turned into the engine's values."""

from __future__ import annotations

from datetime import date

from onaboard.clinical import AcuteClass, DiaryDay, Intensity, PatientDiary
from onaboard.web.diary.models import DiaryEntry
from onaboard.web.patients.models import Patient


def diary_day_of(entry: DiaryEntry, patient_key: str) -> DiaryDay:
    """The engine's value for one stored row."""
    return DiaryDay(
        patient_id=patient_key,
        date=entry.date,
        headache_hours=entry.headache_hours,
        intensity=Intensity(entry.intensity) if entry.intensity else None,
        unilateral=entry.unilateral,
        pulsating=entry.pulsating,
        worse_with_activity=entry.worse_with_activity,
        nausea=entry.nausea,
        vomiting=entry.vomiting,
        photophobia=entry.photophobia,
        phonophobia=entry.phonophobia,
        aura=entry.aura,
        acute_medication=frozenset(AcuteClass(c) for c in entry.acute_medication.split(";") if c),
        acute_relief=entry.acute_relief,
        believed_migraine=entry.believed_migraine,
        notes=entry.notes,
    )


def patient_diary(patient: Patient, *, until: date | None = None) -> PatientDiary:
    """The patient's whole diary (up to ``until``) as the engine reads it; the patient id is the public UUID."""
    entries = DiaryEntry.objects.filter(patient=patient).order_by("date")
    if until is not None:
        entries = entries.filter(date__lte=until)
    key = str(patient.external_id)
    return PatientDiary(key, tuple(diary_day_of(entry, key) for entry in entries))


def diary_entry_on(patient: Patient, day: date) -> DiaryEntry | None:
    return DiaryEntry.objects.filter(patient=patient, date=day).first()
