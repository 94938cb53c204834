"""Checking what was typed into the patient forms (onaboard/web/patients/forms.py)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from onaboard.web.injections.models import SessionStatus, SideEffect, SideEffectKind
from onaboard.web.outcomes.models import Instrument, QuestionnaireResponse
from onaboard.web.patients.forms import (
    BIRTH_AFTER_RECORDS,
    BIRTH_DATE_TOO_EARLY,
    DATE_IN_FUTURE,
    RECORD_NUMBER_TAKEN,
    STOP_BEFORE_START,
    STOP_DATE_NEEDED,
    STOP_WHILE_ONGOING,
    UNITS_AT_LEAST_ONE,
    OtherToxinTreatmentForm,
    PatientEditForm,
    PatientForm,
    PreventiveTrialForm,
    SafetyScreenForm,
)
from onaboard.web.patients.models import (
    RECORD_NUMBER_CHARACTERS,
    SAFETY_FLAGS,
    OtherToxinTreatment,
    PreventiveClass,
    PreventiveTrial,
    StopReason,
)
from tests.web.factories import DiaryEntryFactory, InjectionSessionFactory

pytestmark = pytest.mark.django_db


def _demographics(**changes: str) -> dict[str, str]:
    data = {
        "given_name": "Nova",
        "family_name": "Newcomb",
        "birth_date": "1990-02-03",
        "sex": "female",
        "record_number": "N-1",
    }
    return {**data, **changes}


def test_a_birth_date_must_be_past_and_plausible(world):
    """Birth dates after today or more than 120 years ago are refused with their own messages."""
    tomorrow = (timezone.localdate() + timedelta(days=1)).isoformat()
    form = PatientForm(_demographics(birth_date=tomorrow), clinic=world.clinic)
    assert form.errors["birth_date"] == [str(DATE_IN_FUTURE)]
    form = PatientForm(_demographics(birth_date="1890-01-01"), clinic=world.clinic)
    assert form.errors["birth_date"] == [str(BIRTH_DATE_TOO_EARLY)]


def test_a_corrected_birth_date_may_not_fall_after_the_records_first_day(world):
    """A birth date after the patient's first recorded session or diary day is refused, naming that day (the
    record would describe days before the birth, and the engine cannot assess them); the day itself is allowed,
    as the diary and the session screen allow a day on the birth date."""
    patient = world.same_clinic_patient
    first = timezone.localdate() - timedelta(days=200)
    InjectionSessionFactory(patient=patient, date=first, status=SessionStatus.RECORDED)
    DiaryEntryFactory(patient=patient, date=first + timedelta(days=10))
    edit = {**_demographics(record_number=patient.record_number), "version": str(patient.version)}
    for refused in (first + timedelta(days=1), first + timedelta(days=9)):
        form = PatientEditForm({**edit, "birth_date": refused.isoformat()}, patient=patient)
        assert form.errors["birth_date"] == [str(BIRTH_AFTER_RECORDS) % {"date": first.isoformat()}]
    for allowed in (first, first - timedelta(days=1)):
        assert PatientEditForm({**edit, "birth_date": allowed.isoformat()}, patient=patient).is_valid()


@pytest.mark.parametrize("record", ["questionnaire", "side effect", "preventive", "other toxin"])
def test_every_dated_entry_counts_as_the_records_first_day(world, record):
    """A questionnaire date, side-effect onset, preventive start or other toxin treatment before any diary day also
    bounds the birth date (each is refused before birth when it is entered)."""
    patient = world.same_clinic_patient
    first = timezone.localdate() - timedelta(days=300)
    DiaryEntryFactory(patient=patient, date=first + timedelta(days=100))
    if record == "questionnaire":
        QuestionnaireResponse.objects.create(
            patient=patient, instrument=Instrument.HIT6, date=first, answers={}, total=60, category="severe"
        )
    elif record == "side effect":
        SideEffect.objects.create(patient=patient, kind=SideEffectKind.NECK_PAIN, onset=first, severity="mild")
    elif record == "preventive":
        PreventiveTrial.objects.create(
            patient=patient,
            drug="topiramate",
            drug_class=PreventiveClass.ANTICONVULSANT,
            start=first,
            stop_reason=StopReason.INEFFECTIVE,
        )
    else:
        OtherToxinTreatment.objects.create(patient=patient, date=first, product="Dysport", units=300)
    edit = {**_demographics(record_number=patient.record_number), "version": str(patient.version)}
    form = PatientEditForm({**edit, "birth_date": (first + timedelta(days=1)).isoformat()}, patient=patient)
    assert form.errors["birth_date"] == [str(BIRTH_AFTER_RECORDS) % {"date": first.isoformat()}]
    assert PatientEditForm({**edit, "birth_date": first.isoformat()}, patient=patient).is_valid()


def test_a_date_is_typed_year_first_and_never_guessed_from_slashes(world):
    """03/04/2026 could be the 3rd of April or the 4th of March: only YYYY-MM-DD is read (FORMAT_MODULE_PATH)."""
    ambiguous = PatientForm(_demographics(birth_date="03/04/1990"), clinic=world.clinic)
    assert "birth_date" in ambiguous.errors
    assert PatientForm(_demographics(birth_date="1990-04-03"), clinic=world.clinic).is_valid()


def test_a_record_number_takes_the_characters_of_a_diary_files_patient_id(world):
    """A space or a slash is refused (the patient's exported diary would not read back); dots, underscores and
    hyphens are fine."""
    for bad in ("MRN 0042", "A/B", "Nº7"):
        form = PatientForm(_demographics(record_number=bad), clinic=world.clinic)
        assert form.errors["record_number"] == [str(RECORD_NUMBER_CHARACTERS)], bad
    assert PatientForm(_demographics(record_number="MRN_0042.a-1"), clinic=world.clinic).is_valid()


def test_a_record_number_stored_before_the_rule_does_not_block_other_corrections(world):
    """A patient registered with 'MRN 0042' (before record numbers were checked) can still have their birth date
    corrected while the number stays; changing the number to another bad one is refused."""
    patient = world.same_clinic_patient
    type(patient).objects.filter(pk=patient.pk).update(record_number="MRN 0042")
    patient.refresh_from_db()
    edit = {**_demographics(record_number="MRN 0042", birth_date="1991-02-03"), "version": str(patient.version)}
    assert PatientEditForm(edit, patient=patient).is_valid()
    changed = PatientEditForm({**edit, "record_number": "MRN 0043"}, patient=patient)
    assert changed.errors["record_number"] == [str(RECORD_NUMBER_CHARACTERS)]


def test_a_record_number_is_unique_within_the_clinic_only(world):
    """A record number used in this clinic is refused; one used only in another clinic is accepted."""
    taken = PatientForm(_demographics(record_number=world.own_patient.record_number), clinic=world.clinic)
    assert taken.errors["record_number"] == [str(RECORD_NUMBER_TAKEN)]
    elsewhere = PatientForm(_demographics(record_number=world.other_clinic_patient.record_number), clinic=world.clinic)
    assert elsewhere.is_valid(), elsewhere.errors


def test_safety_radios_become_yes_no_and_not_asked(world):
    """ "yes" is True, "no" False, and "not asked" (or no answer at all) None."""
    form = SafetyScreenForm(
        {"version": "1", "other_toxin_asked": "no", "pregnant": "yes", "dysphagia": "no", "muscle_relaxant": ""},
        patient=world.same_clinic_patient,
    )
    assert form.is_valid(), form.errors
    changes = form.changes()
    assert (changes["pregnant"], changes["dysphagia"], changes["muscle_relaxant"]) == (True, False, None)
    assert changes["breastfeeding"] is None
    assert changes["other_toxin_asked"] is False
    assert set(changes) == {*SAFETY_FLAGS, "other_toxin_asked"}


def test_a_safety_answer_outside_the_three_choices_is_refused(world):
    """Only yes, no and not asked are accepted."""
    data = {"version": "1", "other_toxin_asked": "yes", "pregnant": "maybe"}
    form = SafetyScreenForm(data, patient=world.own_patient)
    assert "pregnant" in form.errors


def test_a_preventive_cannot_stop_before_it_started_or_while_still_taken():
    """A stop before the start, or a stop date on a medicine still taken, is refused on the stop field."""
    base = {"drug": "x", "drug_class": "other", "start": "2024-03-01", "stop_reason": "ineffective"}
    assert PreventiveTrialForm({**base, "stop": "2024-02-01"}).errors["stop"] == [str(STOP_BEFORE_START)]
    ongoing = PreventiveTrialForm({**base, "stop": "2024-04-01", "stop_reason": "ongoing"})
    assert ongoing.errors["stop"] == [str(STOP_WHILE_ONGOING)]
    assert PreventiveTrialForm({**base, "stop": "2024-03-01"}).is_valid()


@pytest.mark.parametrize("reason", [StopReason.INEFFECTIVE, StopReason.NOT_TOLERATED, StopReason.OTHER])
def test_a_preventive_stopped_for_a_reason_needs_its_stop_date(reason):
    """A medicine marked as stopped (ineffective, not tolerated, other) with the stop date left empty, which the
    field's help says means "still taken", is refused on the stop field: it counted as a failed trial while
    the coverage page also called it a current medicine."""
    base = {"drug": "erenumab", "drug_class": "cgrp_monoclonal_antibody", "start": "2025-06-01"}
    form = PreventiveTrialForm({**base, "stop_reason": reason})
    assert form.errors == {"stop": [str(STOP_DATE_NEEDED)]}
    assert PreventiveTrialForm({**base, "stop_reason": reason, "stop": "2025-09-01"}).is_valid()


def test_a_medicine_still_taken_or_never_started_needs_no_stop_date():
    """A medicine still taken has no stop date, and neither need one never started because it is contraindicated
    (nothing was stopped); a contraindication found while taking it may still give the day it stopped."""
    base = {"drug": "propranolol", "drug_class": "beta_blocker", "start": "2025-06-01"}
    assert PreventiveTrialForm({**base, "stop_reason": StopReason.ONGOING}).is_valid()
    assert PreventiveTrialForm({**base, "stop_reason": StopReason.CONTRAINDICATED}).is_valid()
    assert PreventiveTrialForm({**base, "stop_reason": StopReason.CONTRAINDICATED, "stop": "2025-07-01"}).is_valid()


def test_another_toxin_needs_a_past_date_and_units():
    """Another toxin's date cannot be in the future and its units must be at least 1."""
    tomorrow = (timezone.localdate() + timedelta(days=1)).isoformat()
    form = OtherToxinTreatmentForm({"date": tomorrow, "product": "Xeomin", "units": "0"})
    assert form.errors["date"] == [str(DATE_IN_FUTURE)]
    assert form.errors["units"] == [str(UNITS_AT_LEAST_ONE)]


def test_a_preventive_or_another_toxin_before_the_birth_date_is_refused(world):
    """A preventive's start or another toxin's date before the patient's birth date is refused as a mistyped year,
    by the rule every import asks too (preventive_trial_problems, other_toxin_treatment_problems)."""
    from onaboard.web.patients.services import DATE_BEFORE_BIRTH

    patient = world.own_patient
    early = (patient.birth_date - timedelta(days=1)).isoformat()
    message = str(DATE_BEFORE_BIRTH) % {"birth": patient.birth_date.isoformat()}
    stop = patient.birth_date.isoformat()
    base = {"drug": "x", "drug_class": "other", "start": early, "stop": stop, "stop_reason": "ineffective"}
    assert PreventiveTrialForm(base, patient=patient).errors["start"] == [message]
    toxin = OtherToxinTreatmentForm({"date": early, "product": "Xeomin", "units": "20"}, patient=patient)
    assert toxin.errors["date"] == [message]
    assert PreventiveTrialForm({**base, "start": patient.birth_date.isoformat()}, patient=patient).is_valid()
